package zendesktest

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// sharedData is where the project's shared, read-only data lives: the
// parent of the repository root holds shared/. The files there are real
// Zendesk responses that nobody here wrote; this test reads them to hold
// the emulator to their shapes, and copies nothing from them.
const sharedData = "../../../../shared/data"

// recorded is what the real Zendesk responses hold, grouped by kind of
// object.
type recorded struct {
	objects map[string][]map[string]any // by kind: ticket, user, ...
	// envelopes are whole response bodies, by kind of page.
	envelopes map[string][]map[string]any
	// rateHeaders are the rate-limit header names Zendesk sent.
	rateHeaders []string
}

func loadRecorded(t *testing.T) *recorded {
	t.Helper()
	if _, err := os.Stat(sharedData); os.IsNotExist(err) {
		t.Skipf("no shared data at %s (the repository's parent has no shared/data): shapes not checked against real Zendesk responses", sharedData)
	}
	rec := &recorded{objects: map[string][]map[string]any{}, envelopes: map[string][]map[string]any{}}
	fixture := func(name string) map[string]any {
		data, err := os.ReadFile(filepath.Join(sharedData, "zendesk-go-fixtures", name))
		if err != nil {
			t.Fatalf("read fixture: %v", err)
		}
		var v map[string]any
		if err := json.Unmarshal(data, &v); err != nil {
			t.Fatalf("decode fixture %s: %v", name, err)
		}
		return v
	}
	add := func(kind string, v any) {
		for _, o := range asObjects(v) {
			rec.objects[kind] = append(rec.objects[kind], o)
		}
	}
	add("ticket", fixture("ticket.json")["ticket"])
	add("ticket", fixture("tickets.json")["tickets"])
	users := fixture("users.json")
	add("user", users["users"])
	add("organization", fixture("organizations.json")["organizations"])
	groups := fixture("groups.json")
	add("group", groups["groups"])
	rec.envelopes["offset"] = append(rec.envelopes["offset"], renameRecords(groups, "groups"))
	add("ticket_field", fixture("ticket_fields.json")["ticket_fields"])
	addAudits := func(v any) {
		for _, audit := range asObjects(v) {
			add("audit", audit)
			for _, ev := range asObjects(audit["events"]) {
				switch {
				case ev["type"] == "Comment":
					add("comment", ev)
				case ev["field_name"] == "tags":
					add("tags event", ev)
				case ev["type"] == "Create":
					add("create event", ev)
				case ev["type"] == "Change":
					add("change event", ev)
				}
			}
		}
	}
	addAudits(fixture("ticket_audits.json")["audits"])
	comments := fixture("ticket_comments.json")
	add("comment", comments["comments"])
	rec.envelopes["cursor"] = append(rec.envelopes["cursor"], renameRecords(comments, "comments"))

	for _, name := range []string{"TicketsIncrementalTest.test_pagination.json", "UsersIncrementalTest.test_pagination.json", "TestTicketAudits.test_pagination.json"} {
		for _, ia := range readCassette(t, filepath.Join(sharedData, "zendesk-zenpy-recorded", name)) {
			body := ia.body
			switch {
			case strings.Contains(ia.uri, "/incremental/tickets/cursor.json"):
				add("ticket", body["tickets"])
				rec.envelopes["export"] = append(rec.envelopes["export"], renameRecords(body, "tickets"))
			case strings.Contains(ia.uri, "/incremental/tickets.json"):
				// A time-based export's page, as the ticket events export
				// pages.
				rec.envelopes["time export"] = append(rec.envelopes["time export"], renameRecords(body, "tickets"))
			case strings.Contains(ia.uri, "/incremental/users/cursor.json"):
				add("user", body["users"])
				rec.envelopes["export"] = append(rec.envelopes["export"], renameRecords(body, "users"))
			case strings.Contains(ia.uri, "/ticket_audits.json"):
				rec.envelopes["cursor"] = append(rec.envelopes["cursor"], renameRecords(body, "audits"))
				addAudits(body["audits"])
			}
			for h := range ia.headers {
				if strings.Contains(strings.ToLower(h), "rate") && !slices.Contains(rec.rateHeaders, strings.ToLower(h)) {
					rec.rateHeaders = append(rec.rateHeaders, strings.ToLower(h))
				}
			}
		}
	}
	// A user's photo is an attachment object as Zendesk serves them now
	// (attachment.json is a documentation example of an older shape).
	for _, u := range rec.objects["user"] {
		if photo, ok := u["photo"].(map[string]any); ok {
			rec.objects["attachment"] = append(rec.objects["attachment"], photo)
		}
	}
	for _, kind := range recordedKinds {
		if len(rec.objects[kind]) == 0 {
			t.Fatalf("the shared data has no %s objects: has it changed?", kind)
		}
	}
	return rec
}

// recordedKinds are the kinds of objects the real responses hold and the
// emulator must shape alike. (They hold no Help Center objects and no page
// of the ticket events export: those follow Zendesk's documentation.)
var recordedKinds = []string{"ticket", "user", "organization", "group", "ticket_field", "comment", "attachment",
	"audit", "create event", "change event", "tags event"}

// renameRecords returns a page's body with its records under "records",
// so that pages of different resources compare.
func renameRecords(body map[string]any, key string) map[string]any {
	out := map[string]any{}
	for k, v := range body {
		if k == key {
			k = "records"
		}
		out[k] = v
	}
	return out
}

func asObjects(v any) []map[string]any {
	switch v := v.(type) {
	case map[string]any:
		return []map[string]any{v}
	case []any:
		var out []map[string]any
		for _, x := range v {
			if o, ok := x.(map[string]any); ok {
				out = append(out, o)
			}
		}
		return out
	}
	return nil
}

type interaction struct {
	uri     string
	headers map[string]any
	body    map[string]any
}

// readCassette decodes a betamax cassette: its response bodies are
// base64 of gzip of JSON.
func readCassette(t *testing.T, path string) []interaction {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read cassette: %v", err)
	}
	var cassette struct {
		Interactions []struct {
			Request struct {
				URI string `json:"uri"`
			} `json:"request"`
			Response struct {
				Headers map[string]any `json:"headers"`
				Body    struct {
					Base64 string `json:"base64_string"`
					String string `json:"string"`
				} `json:"body"`
			} `json:"response"`
		} `json:"http_interactions"`
	}
	if err := json.Unmarshal(data, &cassette); err != nil {
		t.Fatalf("decode cassette %s: %v", path, err)
	}
	var out []interaction
	for _, ia := range cassette.Interactions {
		raw := []byte(ia.Response.Body.String)
		if ia.Response.Body.Base64 != "" {
			raw, err = base64.StdEncoding.DecodeString(ia.Response.Body.Base64)
			if err != nil {
				t.Fatalf("cassette %s: body of %s is not base64: %v", path, ia.Request.URI, err)
			}
		}
		if bytes.HasPrefix(raw, []byte{0x1f, 0x8b}) {
			zr, err := gzip.NewReader(bytes.NewReader(raw))
			if err != nil {
				t.Fatalf("cassette %s: %v", path, err)
			}
			raw, err = io.ReadAll(zr)
			if err != nil {
				t.Fatalf("cassette %s: %v", path, err)
			}
		}
		var body map[string]any
		if err := json.Unmarshal(raw, &body); err != nil {
			continue // not a JSON object: nothing to compare
		}
		out = append(out, interaction{uri: ia.Request.URI, headers: ia.Response.Headers, body: body})
	}
	return out
}

// jsonKind names a decoded JSON value's type; null is "".
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return ""
	case bool:
		return "boolean"
	case float64:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// conform checks the emulator's objects of a kind against Zendesk's: a
// key every real object has, every emulated one has; a key some real
// object has, some emulated one has; and where both have a value, it is
// of the same JSON type.
func conform(t *testing.T, kind string, real, emulated []map[string]any) {
	t.Helper()
	if len(emulated) == 0 {
		t.Fatalf("%s: the emulator served none", kind)
	}
	always := map[string]bool{}
	for k := range real[0] {
		always[k] = true
	}
	types := map[string]string{}
	for _, o := range real {
		for k := range always {
			if _, ok := o[k]; !ok {
				delete(always, k)
			}
		}
		for k, v := range o {
			if jk := jsonKind(v); jk != "" {
				types[k] = jk
			}
		}
	}
	for i, o := range emulated {
		for k := range always {
			if _, ok := o[k]; !ok {
				t.Errorf("%s %v: no %q key, which every real %s has", kind, o["id"], k, kind)
			}
		}
		for k, v := range o {
			if want, got := types[k], jsonKind(v); want != "" && got != "" && want != got {
				t.Errorf("%s %v: %q is a %s, Zendesk's is a %s", kind, o["id"], k, got, want)
			}
		}
		if t.Failed() && i > 3 {
			return // the first few tell the story
		}
	}
	seen := map[string]bool{}
	for _, o := range emulated {
		for k := range o {
			seen[k] = true
		}
	}
	for _, o := range real {
		for k := range o {
			if !seen[k] {
				t.Errorf("%s: no emulated %s has %q, which real ones have", kind, kind, k)
				seen[k] = true // once is enough
			}
		}
	}
}

func TestShapesConformToZendesk(t *testing.T) {
	rec := loadRecorded(t)
	e := newEmulator(t, GenerateOptions{Seed: 7}, ServerOptions{RequestsPerMinute: 700, IncrementalPerMinute: 10})

	emulated := map[string][]map[string]any{}
	envelopes := map[string]map[string]any{}
	var headers []string

	_, tickets, h := e.get(t, "/api/v2/incremental/tickets/cursor.json?start_time=0")
	for name := range h {
		headers = append(headers, strings.ToLower(name))
	}
	emulated["ticket"] = objects(t, tickets, "tickets")
	envelopes["export"] = renameRecords(tickets, "tickets")
	_, users, _ := e.get(t, "/api/v2/incremental/users/cursor.json?start_time=0")
	emulated["user"] = objects(t, users, "users")
	_, orgs, _ := e.get(t, "/api/v2/organizations.json?page[size]=100")
	emulated["organization"] = objects(t, orgs, "organizations")
	_, groups, _ := e.get(t, "/api/v2/groups.json")
	emulated["group"] = objects(t, groups, "groups")
	envelopes["offset"] = renameRecords(groups, "groups")
	_, fields, _ := e.get(t, "/api/v2/ticket_fields.json?page[size]=100")
	emulated["ticket_field"] = objects(t, fields, "ticket_fields")
	for _, ticket := range e.hd.Tickets {
		var withFiles bool
		for _, c := range ticket.Comments {
			withFiles = withFiles || len(c.Attachments) > 0
		}
		if !withFiles {
			continue
		}
		_, page, _ := e.get(t, fmt.Sprintf("/api/v2/tickets/%d/comments.json?page[size]=2", ticket.ID))
		envelopes["cursor"] = renameRecords(page, "comments")
		for _, c := range objects(t, page, "comments") {
			emulated["comment"] = append(emulated["comment"], c)
			emulated["attachment"] = append(emulated["attachment"], asObjects(c["attachments"])...)
		}
		if len(emulated["attachment"]) > 0 && len(emulated["comment"]) > 5 {
			break
		}
	}

	// Audits, from both audits endpoints, and their events.
	_, audits, _ := e.get(t, "/api/v2/ticket_audits.json?page[size]=100")
	_, more, _ := e.get(t, fmt.Sprintf("/api/v2/tickets/%d/audits.json", e.hd.Tickets[len(e.hd.Tickets)-1].ID))
	for _, a := range append(objects(t, audits, "audits"), objects(t, more, "audits")...) {
		emulated["audit"] = append(emulated["audit"], a)
		for _, ev := range asObjects(a["events"]) {
			switch {
			case ev["type"] == "Comment":
				emulated["comment"] = append(emulated["comment"], ev)
			case ev["field_name"] == "tags":
				emulated["tags event"] = append(emulated["tags event"], ev)
			case ev["type"] == "Create":
				emulated["create event"] = append(emulated["create event"], ev)
			case ev["type"] == "Change":
				emulated["change event"] = append(emulated["change event"], ev)
			}
		}
	}
	// The ticket events export's comments are comments too, with their
	// attachments.
	_, events, _ := e.get(t, "/api/v2/incremental/ticket_events.json?start_time=0&include=comment_events")
	envelopes["time export"] = renameRecords(events, "ticket_events")
	for _, ev := range objects(t, events, "ticket_events") {
		for _, child := range asObjects(ev["child_events"]) {
			if child["event_type"] == "Comment" {
				emulated["comment"] = append(emulated["comment"], child)
				emulated["attachment"] = append(emulated["attachment"], asObjects(child["attachments"])...)
			}
		}
	}

	for _, kind := range recordedKinds {
		t.Run(kind, func(t *testing.T) { conform(t, kind, rec.objects[kind], emulated[kind]) })
	}
	t.Run("ticket via", func(t *testing.T) {
		var real, emu []map[string]any
		for _, o := range rec.objects["ticket"] {
			real = append(real, asObjects(o["via"])...)
		}
		for _, o := range emulated["ticket"] {
			emu = append(emu, asObjects(o["via"])...)
		}
		conform(t, "via", real, emu)
	})
	for _, kind := range []string{"export", "time export", "offset", "cursor"} {
		t.Run(kind+" page", func(t *testing.T) {
			conform(t, kind+" page", rec.envelopes[kind], []map[string]any{envelopes[kind]})
			if kind == "cursor" {
				var realMeta, realLinks []map[string]any
				for _, env := range rec.envelopes[kind] {
					realMeta = append(realMeta, asObjects(env["meta"])...)
					realLinks = append(realLinks, asObjects(env["links"])...)
				}
				conform(t, "meta", realMeta, asObjects(envelopes[kind]["meta"]))
				conform(t, "links", realLinks, asObjects(envelopes[kind]["links"]))
			}
		})
	}
	t.Run("after_url", func(t *testing.T) {
		// Zendesk's after_url is the export's URL with the cursor as its
		// only parameter (and per_page, when asked for).
		after, _ := tickets["after_url"].(string)
		cursor, _ := tickets["after_cursor"].(string)
		if want := e.ts.URL + "/api/v2/incremental/tickets/cursor.json?cursor=" + url.QueryEscape(cursor); after != want {
			t.Errorf("after_url = %q, want %q", after, want)
		}
	})
	t.Run("rate-limit headers", func(t *testing.T) {
		for _, name := range rec.rateHeaders {
			if !slices.Contains(headers, name) {
				t.Errorf("Zendesk sends %s, the emulator doesn't", name)
			}
		}
	})
}
