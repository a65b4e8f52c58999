package zendesktest

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// eventsExport pages through the ticket events export from start_time 0
// the way a client must, following end_time and dropping the events of
// the boundary second it has seen, and returns the events in order and
// the pages' sizes.
func eventsExport(t *testing.T, e *emulator, query string) (events []map[string]any, pages []int) {
	t.Helper()
	seen := map[float64]bool{}
	start := int64(0)
	for range 10_000 {
		status, body, _ := e.get(t, fmt.Sprintf("/api/v2/incremental/ticket_events.json?start_time=%d%s", start, query))
		if status != http.StatusOK {
			t.Fatalf("start_time %d: %d %v", start, status, body)
		}
		page := objects(t, body, "ticket_events")
		pages = append(pages, len(page))
		if body["count"] != float64(len(page)) {
			t.Errorf("count %v on a page of %d", body["count"], len(page))
		}
		for _, ev := range page {
			if ts := int64(ev["timestamp"].(float64)); ts < start {
				t.Fatalf("event %v at %d, before start_time %d", ev["id"], ts, start)
			}
			if !seen[ev["id"].(float64)] {
				seen[ev["id"].(float64)] = true
				events = append(events, ev)
			}
		}
		next, _ := url.Parse(body["next_page"].(string))
		end := int64(body["end_time"].(float64))
		if next.Query().Get("start_time") != strconv.FormatInt(end, 10) {
			t.Fatalf("next_page %s does not start at end_time %d", next, end)
		}
		if body["end_of_stream"] == true {
			return events, pages
		}
		if end == start {
			t.Fatal("end_time did not move on: the next page would be this one")
		}
		start = end
	}
	t.Fatal("the export never ended")
	return nil, nil
}

func TestTicketEventsExport(t *testing.T) {
	e := newEmulator(t, GenerateOptions{Tickets: 40}, ServerOptions{})
	// What the export must list: every ticket's audits, in time order.
	type entry struct{ ts, id int64 }
	var want []entry
	for i := range e.hd.Tickets {
		for _, a := range auditsOf(&e.hd.Tickets[i]) {
			want = append(want, entry{a.CreatedAt.Unix(), a.ID})
		}
	}
	slices.SortFunc(want, func(a, b entry) int { return compare(position(a), position(b)) })
	if len(want) != e.hd.TicketEventCount() {
		t.Fatalf("TicketEventCount %d, want %d", e.hd.TicketEventCount(), len(want))
	}

	for _, perPage := range []int{0, 1, 7, 1000} {
		t.Run(fmt.Sprintf("per_page %d", perPage), func(t *testing.T) {
			q := "&include=comment_events"
			if perPage > 0 {
				q += "&per_page=" + strconv.Itoa(perPage)
			}
			events, pages := eventsExport(t, e, q)
			var got []entry
			for _, ev := range events {
				got = append(got, entry{int64(ev["timestamp"].(float64)), int64(ev["id"].(float64))})
			}
			if !slices.Equal(got, want) {
				t.Errorf("the export listed %d events, want the %d audits in time order", len(got), len(want))
			}
			if perPage == 0 && len(pages) != 1 {
				t.Errorf("%d pages of at most 1,000 for %d events", len(pages), len(want))
			}
		})
	}

	t.Run("child events", func(t *testing.T) {
		tk := &e.hd.Tickets[len(e.hd.Tickets)-1]
		_, with, _ := e.get(t, fmt.Sprintf("/api/v2/incremental/ticket_events.json?start_time=%d&include=comment_events&per_page=1", tk.CreatedAt.Unix()))
		_, without, _ := e.get(t, fmt.Sprintf("/api/v2/incremental/ticket_events.json?start_time=%d&per_page=1", tk.CreatedAt.Unix()))
		ev, bare := objects(t, with, "ticket_events")[0], objects(t, without, "ticket_events")[0]
		if ev["event_type"] != "Audit" || ev["updater_id"] == nil || ev["via"] == nil {
			t.Errorf("event %v", ev)
		}
		for i, child := range asObjects(ev["child_events"]) {
			plain := asObjects(bare["child_events"])[i]
			switch child["event_type"] {
			case EventComment:
				if child["body"] == nil || child["html_body"] == nil || child["audit_id"] != ev["id"] {
					t.Errorf("a comment with the sideload: %v", child)
				}
				if plain["body"] != nil || plain["comment_present"] != true {
					t.Errorf("a comment without the sideload: %v", plain)
				}
			case EventCreate, EventChange:
				if len(child) < 5 || child["via"] != ev["via"] {
					t.Errorf("a field event: %v", child)
				}
			default:
				t.Errorf("a %v child event", child["event_type"])
			}
		}
	})

	t.Run("a page never splits a second", func(t *testing.T) {
		// Three audits in one second: a page of one runs to three.
		at := testEnd().Add(time.Hour)
		e.srv.Mutate(func(hd *HelpDesk) {
			tk := &hd.Tickets[0]
			for i := range 3 {
				if err := tk.AddAudit(Audit{ID: int64(9_000_000 + i), CreatedAt: at, AuthorID: tk.RequesterID,
					Events: []AuditEvent{ChangeEvent(int64(9_100_000+i), "priority", nil, "low")}}); err != nil {
					t.Fatal(err)
				}
			}
		})
		_, body, _ := e.get(t, fmt.Sprintf("/api/v2/incremental/ticket_events.json?start_time=%d&per_page=1", at.Unix()))
		if n := len(objects(t, body, "ticket_events")); n != 3 || body["end_time"] != float64(at.Unix()) || body["end_of_stream"] != true {
			t.Errorf("page of %d events ending %v, end_of_stream %v; want the second's 3", n, body["end_time"], body["end_of_stream"])
		}
	})

	t.Run("errors", func(t *testing.T) {
		for _, q := range []string{"", "start_time=yesterday", "start_time=0&per_page=0", fmt.Sprintf("start_time=%d", time.Now().Unix())} {
			if status, body, _ := e.get(t, "/api/v2/incremental/ticket_events.json?"+q); status != http.StatusBadRequest || body["error"] == nil {
				t.Errorf("%q: %d %v, want 400", q, status, body)
			}
		}
	})
}

func TestTicketEventsExportLeavesOutTheLastMinute(t *testing.T) {
	hd := Generate(GenerateOptions{Tickets: 5, End: testEnd()})
	var last Audit
	for i := range hd.Tickets {
		for _, a := range auditsOf(&hd.Tickets[i]) {
			if a.CreatedAt.After(last.CreatedAt) {
				last = a
			}
		}
	}
	clk := &clock{t: last.CreatedAt.Add(30 * time.Second)}
	srv := NewServer(hd, ServerOptions{Now: clk.now})
	e := &emulator{hd: hd, srv: srv, ts: httptestServer(t, srv)}
	events, _ := eventsExport(t, e, "")
	for _, ev := range events {
		if ev["id"] == float64(last.ID) {
			t.Fatal("an update 30 s old was exported")
		}
	}
	clk.advance(time.Minute)
	if events2, _ := eventsExport(t, e, ""); len(events2) != len(events)+1 {
		t.Errorf("a minute later the export has %d events, want %d", len(events2), len(events)+1)
	}
}

func TestAuditsAndDeletedTickets(t *testing.T) {
	e := newEmulator(t, GenerateOptions{Tickets: 12}, ServerOptions{})
	deleted := e.hd.Tickets[3].ID
	e.srv.Mutate(func(hd *HelpDesk) { hd.Ticket(deleted).Status = StatusDeleted })

	all := 0
	for i := range e.hd.Tickets {
		tk := &e.hd.Tickets[i]
		status, body, _ := e.get(t, fmt.Sprintf("/api/v2/tickets/%d/audits.json?page[size]=100", tk.ID))
		if tk.ID == deleted {
			if status != http.StatusNotFound {
				t.Errorf("audits of the deleted ticket: %d", status)
			}
			continue
		}
		audits := objects(t, body, "audits")
		all += len(audits)
		if len(audits) != len(tk.Audits) {
			t.Errorf("ticket %d: %d audits, want %d", tk.ID, len(audits), len(tk.Audits))
		}
		comments := 0
		for _, a := range audits {
			for _, ev := range asObjects(a["events"]) {
				if ev["type"] == EventComment {
					comments++
				}
			}
		}
		if comments != len(tk.Comments) {
			t.Errorf("ticket %d: %d comment events, want %d", tk.ID, comments, len(tk.Comments))
		}
	}
	n := 0
	path := "/api/v2/ticket_audits.json?page[size]=25"
	for pages := 0; path != ""; pages++ {
		_, body, _ := e.get(t, path)
		n += len(objects(t, body, "audits"))
		path = ""
		if body["meta"].(map[string]any)["has_more"] == true {
			u, _ := url.Parse(body["links"].(map[string]any)["next"].(string))
			path = u.RequestURI()
		}
	}
	if n != all {
		t.Errorf("the audits list has %d audits, the tickets %d", n, all)
	}

	_, body, _ := e.get(t, "/api/v2/deleted_tickets.json")
	if got := objects(t, body, "deleted_tickets"); len(got) != 1 || got[0]["id"] != float64(deleted) || got[0]["previous_state"] == StatusDeleted {
		t.Errorf("deleted tickets %v, want ticket %d", got, deleted)
	}
}

func TestHelpCenterEndpoints(t *testing.T) {
	e := newEmulator(t, GenerateOptions{Tickets: 1, Articles: 30}, ServerOptions{BaseURL: "https://acme.zendesk.example"})
	hc := e.hd.HelpCenter
	for _, l := range []struct {
		path, key string
		want      int
	}{
		{"/api/v2/help_center/categories.json", "categories", len(hc.Categories)},
		{"/api/v2/help_center/sections.json", "sections", len(hc.Sections)},
		{"/api/v2/help_center/articles.json", "articles", len(hc.Articles)},
	} {
		_, body, _ := e.get(t, l.path+"?page[size]=100")
		if got := objects(t, body, l.key); len(got) != l.want || got[0]["url"] == nil || got[0]["html_url"] == nil {
			t.Errorf("%s: %d records, want %d with urls", l.key, len(got), l.want)
		}
	}

	// Newest first, page by page, with the translations sideloaded.
	var updated []time.Time
	path := "/api/v2/help_center/articles.json?sort_by=updated_at&sort_order=desc&include=translations&page[size]=7"
	for path != "" {
		_, body, _ := e.get(t, path)
		for _, a := range objects(t, body, "articles") {
			at, _ := time.Parse(time.RFC3339, a["updated_at"].(string))
			updated = append(updated, at)
			art := e.hd.Article(int64(a["id"].(float64)))
			if trs := asObjects(a["translations"]); len(trs) != len(art.Translations) || a["attachments"] != nil {
				t.Errorf("article %v: %d translations sideloaded, want %d, and no attachments", a["id"], len(trs), len(art.Translations))
			}
		}
		path = ""
		if body["meta"].(map[string]any)["has_more"] == true {
			u, _ := url.Parse(body["links"].(map[string]any)["next"].(string))
			path = u.RequestURI()
		}
	}
	if len(updated) != len(hc.Articles) || !slices.IsSortedFunc(updated, func(a, b time.Time) int { return b.Compare(a) }) {
		t.Errorf("%d articles by updated_at desc: %v", len(updated), updated)
	}
	_, body, _ := e.get(t, "/api/v2/help_center/articles.json")
	if a := objects(t, body, "articles")[0]; a["translations"] != nil {
		t.Error("translations came without include=translations")
	}

	var withFiles *Article
	for i := range hc.Articles {
		if len(hc.Articles[i].Attachments) > 0 {
			withFiles = &hc.Articles[i]
			break
		}
	}
	if withFiles == nil {
		t.Fatal("no article has attachments")
	}
	_, body, _ = e.get(t, fmt.Sprintf("/api/v2/help_center/articles/%d/translations.json", withFiles.ID))
	if got := objects(t, body, "translations"); len(got) != len(withFiles.Translations) || got[0]["source_id"] != float64(withFiles.ID) {
		t.Errorf("translations %v", got)
	}
	_, body, _ = e.get(t, fmt.Sprintf("/api/v2/help_center/articles/%d/attachments.json", withFiles.ID))
	files := objects(t, body, "article_attachments")
	if len(files) != len(withFiles.Attachments) {
		t.Fatalf("%d attachments, want %d", len(files), len(withFiles.Attachments))
	}
	cu := files[0]["content_url"].(string)
	rel, ok := strings.CutPrefix(cu, "https://acme.zendesk.example")
	if !ok {
		t.Fatalf("content_url %s is not on the base URL", cu)
	}
	resp, err := http.Get(e.ts.URL + rel) // downloads need no credentials
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.ContentLength != int64(files[0]["size"].(float64)) {
		t.Errorf("download of %s: %d, %d bytes", cu, resp.StatusCode, resp.ContentLength)
	}
	for _, p := range []string{"/api/v2/help_center/articles/1/attachments.json", "/api/v2/help_center/articles/x/translations.json"} {
		if status, _, _ := e.get(t, p); status != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", p, status)
		}
	}
	if status, _, _ := e.get(t, "/api/v2/help_center/articles.json?sort_by=votes"); status != http.StatusBadRequest {
		t.Errorf("an unknown sort_by: %d, want 400", status)
	}
}
