package freshdesktest

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// sharedData is where the project's shared, read-only data lives: the
// parent of the repository root holds shared/. The files there are real
// Freshdesk API responses, kept by a Python client's tests, that nobody
// here wrote; this test reads them to hold the emulator to their shapes,
// and copies nothing from them.
const sharedData = "../../../../shared/data/freshdesk-python-freshdesk"

// legacy is a key of the recorded responses that API v2 does not serve.
// Some of the recorded objects are in the shape of Freshdesk's older API
// (v1: "custom_field", "frDueBy", "status_name", ...), kept by the client's
// tests beside v2 ones; the emulator serves v2, as the connector reads it.
type legacy struct {
	// v2 is the key API v2 has for the same thing, "" if none; the
	// emulator must serve it, with the recorded value's JSON type.
	v2 string
	// why says where the key comes from.
	why string
}

var legacyKeys = map[string]map[string]legacy{
	"ticket": {
		"cc_email":              {"", "v1's object of cc_emails, fwd_emails and reply_cc: v2 has cc_emails, fwd_emails and reply_cc_emails at the top"},
		"custom_field":          {"custom_fields", "v1's name"},
		"description_html":      {"description", "v1's HTML description: in v2, description is the HTML and description_text the text"},
		"frDueBy":               {"fr_due_by", "v1's name"},
		"isescalated":           {"is_escalated", "v1's name"},
		"ticket_type":           {"type", "v1's name"},
		"to_email":              {"to_emails", "v1's single address"},
		"owner_id":              {"", "v1 only"},
		"delta":                 {"", "v1 only"},
		"trained":               {"", "v1 only"},
		"urgent":                {"", "v1 only: v2 has priority 4"},
		"status_name":           {"", "v1 only: v2 gives numbers, named by the ticket fields' choices"},
		"requester_status_name": {"", "v1 only: the status field's customer labels"},
		"priority_name":         {"", "v1 only: v2 gives numbers, named by the ticket fields' choices"},
		"source_name":           {"", "v1 only: v2 gives numbers, named by the ticket fields' choices"},
		"requester_name":        {"", "v1 only: include=requester embeds the requester"},
		"responder_name":        {"", "v1 only"},
	},
	"attachment": {
		"file_size": {"size", "v1's name"},
	},
	"contact": {
		"custom_field":   {"custom_fields", "v1's name"},
		"customer_id":    {"company_id", "v1's name"},
		"fb_profile_id":  {"facebook_id", "v1's name"},
		"external_id":    {"unique_external_id", "v1's name"},
		"helpdesk_agent": {"", "v1 only: v1 listed agents among the contacts, v2 lists them at /api/v2/agents"},
	},
}

// eitherType are keys Freshdesk serves with more than one JSON type: phone
// numbers are strings, and numbers where an account stored digits only
// (the recorded agents have those).
var eitherType = map[string]bool{"phone": true, "mobile": true}

// readRecorded reads the recorded objects, by kind.
func readRecorded(t *testing.T) map[string][]map[string]any {
	t.Helper()
	if _, err := os.Stat(sharedData); os.IsNotExist(err) {
		t.Skipf("no shared data at %s (the repository's parent has no shared/data): shapes not checked against real Freshdesk responses", sharedData)
	}
	file := func(name string) any {
		data, err := os.ReadFile(filepath.Join(sharedData, name))
		if err != nil {
			t.Fatalf("read recorded response: %v", err)
		}
		var v any
		if err := json.Unmarshal(data, &v); err != nil {
			t.Fatalf("decode %s: %v", name, err)
		}
		return v
	}
	rec := map[string][]map[string]any{}
	add := func(kind string, v any) { rec[kind] = append(rec[kind], asObjects(v)...) }
	ticket := file("ticket_1.json")
	add("ticket", ticket)
	add("ticket", file("all_tickets.json"))
	add("ticket", file("search_tickets.json").(map[string]any)["results"])
	for _, tk := range asObjects(ticket) {
		add("attachment", tk["attachments"])
		add("stats", tk["stats"])
		add("requester", tk["requester"])
	}
	add("conversation", file("conversations.json"))
	add("contact", file("contacts.json"))
	add("company", file("companies.json"))
	agents := file("agents.json")
	add("agent", agents)
	for _, a := range asObjects(agents) {
		add("agent contact", a["contact"])
	}
	add("group", file("groups.json"))
	add("solution category", file("solution_categories.json"))
	add("solution folder", file("solution_folders.json"))
	add("solution article", file("solution_articles.json"))
	for kind, objs := range rec {
		if len(objs) == 0 {
			t.Fatalf("the recorded responses have no %s: have they changed?", kind)
		}
	}
	return rec
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

// kinds lists the JSON types a key has among objects.
func kinds(objs []map[string]any) map[string]map[string]bool {
	out := map[string]map[string]bool{}
	for _, o := range objs {
		for k, v := range o {
			if out[k] == nil {
				out[k] = map[string]bool{}
			}
			if jk := jsonKind(v); jk != "" {
				out[k][jk] = true
			}
		}
	}
	return out
}

// conform checks the emulator's objects of a kind against the recorded
// ones: every recorded key appears in the emulator's objects, with each of
// the JSON types it was recorded with (a v1 key: its v2 counterpart); and
// a key both have is of no type the recording does not show, where it
// shows one.
func conform(t *testing.T, kind string, recorded, emulated []map[string]any) {
	t.Helper()
	if len(emulated) == 0 {
		t.Fatalf("%s: the emulator served none", kind)
	}
	real, emu := kinds(recorded), kinds(emulated)
	keys := make([]string, 0, len(real))
	for k := range real {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		want, key := real[k], k
		if l, ok := legacyKeys[kind][k]; ok {
			if l.v2 == "" {
				if _, served := emu[k]; served {
					t.Errorf("%s: the emulator serves %q, which %s", kind, k, l.why)
				}
				continue
			}
			key = l.v2
		}
		got, ok := emu[key]
		if !ok {
			t.Errorf("%s: no emulated %s has %q, which recorded ones have", kind, kind, key)
			continue
		}
		for jk := range want {
			if !got[jk] {
				t.Errorf("%s: %q is recorded as a %s; the emulator's is %v", kind, k, jk, slices.Sorted(maps.Keys(got)))
			}
		}
		if len(want) > 0 && !eitherType[k] {
			for jk := range got {
				if !want[jk] && key == k {
					t.Errorf("%s: the emulator serves %q as a %s; it is recorded as %v", kind, k, jk, want)
				}
			}
		}
	}
}

func TestShapesConformToFreshdesk(t *testing.T) {
	rec := readRecorded(t)
	e := newEmulator(t, GenerateOptions{Seed: 7}, ServerOptions{RequestsPerMinute: 100000})
	emulated := map[string][]map[string]any{}
	add := func(kind string, objs []map[string]any) { emulated[kind] = append(emulated[kind], objs...) }

	tickets, _ := follow(t, e, "/api/v2/tickets?updated_since=2000-01-01&include=description,stats,requester&per_page=100")
	add("ticket", tickets)
	for _, filter := range []string{"spam", "deleted"} {
		others, _ := follow(t, e, "/api/v2/tickets?updated_since=2000-01-01&per_page=100&filter="+filter)
		add("ticket", others)
	}
	for _, tk := range tickets {
		add("stats", asObjects(tk["stats"]))
		add("requester", asObjects(tk["requester"]))
	}
	for _, tk := range e.hd.Tickets[:40] {
		view := e.get(t, fmt.Sprintf("/api/v2/tickets/%d", tk.ID)).object(t)
		add("ticket", []map[string]any{view})
		add("attachment", asObjects(view["attachments"]))
		convs, _ := follow(t, e, fmt.Sprintf("/api/v2/tickets/%d/conversations", tk.ID))
		add("conversation", convs)
		for _, c := range convs {
			add("attachment", asObjects(c["attachments"]))
		}
	}
	for _, state := range []string{"", "?state=deleted", "?state=blocked"} {
		contacts, _ := follow(t, e, "/api/v2/contacts"+state)
		add("contact", contacts)
	}
	companies, _ := follow(t, e, "/api/v2/companies")
	add("company", companies)
	agents, _ := follow(t, e, "/api/v2/agents")
	add("agent", agents)
	for _, a := range agents {
		add("agent contact", asObjects(a["contact"]))
	}
	groups, _ := follow(t, e, "/api/v2/groups")
	add("group", groups)
	add("solution category", e.get(t, "/api/v2/solutions/categories").list(t))
	for _, c := range e.hd.SolutionCategories {
		add("solution folder", e.get(t, fmt.Sprintf("/api/v2/solutions/categories/%d/folders", c.ID)).list(t))
		for _, f := range c.Folders {
			articles, _ := follow(t, e, fmt.Sprintf("/api/v2/solutions/folders/%d/articles", f.ID))
			add("solution article", articles)
		}
	}

	kindsRecorded := make([]string, 0, len(rec))
	for k := range rec {
		kindsRecorded = append(kindsRecorded, k)
	}
	sort.Strings(kindsRecorded)
	for _, kind := range kindsRecorded {
		t.Run(strings.ReplaceAll(kind, " ", "_"), func(t *testing.T) { conform(t, kind, rec[kind], emulated[kind]) })
	}
}
