package connector

import (
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ferryhq/ferry/plugins/zendesk/zendesktest"
	"github.com/ferryhq/ferry/sdk/schema"
)

// The kit checks that a read from the final cursors brings nothing from a
// source that did not change and that a resumed read brings exactly the
// rest; these tests add what is Zendesk's: what such reads cost, and that
// a read after changes brings exactly the changes.

// cursorStreams are the streams read incrementally, from a cursor.
var cursorStreams = []string{schema.Users, schema.Tickets, schema.Comments, schema.Attachments, schema.TicketEvents, schema.KBArticles}

// ids lists the ids of a stream's rows, sorted.
func (r *readResult) ids(stream string) []string {
	var out []string
	for _, row := range r.rows[stream] {
		out = append(out, row["id"].(string))
	}
	slices.Sort(out)
	return out
}

func idStrings(ids ...int64) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = strconv.FormatInt(id, 10)
	}
	slices.Sort(out)
	return out
}

func TestDelta(t *testing.T) {
	z := startZendesk(t, zendesktest.GenerateOptions{Tickets: 60}, zendesktest.ServerOptions{})
	cfg := z.config(t, 0, everything)
	conn := testConnector()
	cursors := rowsOf(t, conn, cfg, nil).finalCursors()
	if got := slices.Sorted(maps.Keys(cursors)); !slices.Equal(got, []string{schema.Comments, schema.KBArticles, schema.Tickets, schema.Users}) {
		t.Fatalf("cursors of %v, want comments, kb_articles, tickets and users", got)
	}

	t.Run("nothing new costs a call each", func(t *testing.T) {
		z.srv.ResetStats()
		again := rowsOf(t, conn, cfg, cursors)
		for _, s := range cursorStreams {
			if n := len(again.rows[s]); n != 0 {
				t.Errorf("%s: %d records from a help desk that did not change", s, n)
			}
		}
		// The lists read whole each time, and one call of each export.
		want := map[string]int{
			zendesktest.EndpointOrganizations: 1, zendesktest.EndpointGroups: 1, zendesktest.EndpointTicketFields: 1,
			zendesktest.EndpointCategories: 1, zendesktest.EndpointSections: 1,
			zendesktest.EndpointUsersExport: 1, zendesktest.EndpointTicketsExport: 1, zendesktest.EndpointArticles: 1,
			zendesktest.EndpointDeletedTickets: 1, zendesktest.EndpointTicketEvents: 1,
		}
		if st := z.srv.Stats(); !reflect.DeepEqual(st.Requests, want) {
			t.Errorf("calls %v, want %v", st.Requests, want)
		}
	})

	// Four changes an hour after the help desk's end: a new comment (with a
	// file) that reopens an old ticket, a changed priority, a new ticket, a
	// new article.
	at := testEnd().Add(time.Hour)
	var replied, changed, created int64
	var newComment, newTicketComment zendesktest.Comment
	var newArticle zendesktest.Article
	z.srv.Mutate(func(hd *zendesktest.HelpDesk) {
		for i := range hd.Tickets {
			tk := &hd.Tickets[i]
			switch {
			case replied == 0 && tk.Status == zendesktest.StatusSolved:
				replied = tk.ID
				newComment = zendesktest.Comment{
					ID: 9_000_000_000_001, Type: "Comment", AuthorID: tk.RequesterID, Body: "It broke again.", PlainBody: "It broke again.",
					HTMLBody: "<p>It broke again.</p>", Public: true, Via: tk.Via,
					Attachments: []zendesktest.Attachment{{ID: 9_000_000_000_002, FileName: "again.png",
						ContentURL: "/attachments/token/AgainAgainAgain/?name=again.png", ContentType: "image/png", Size: 4096, Inline: true,
						Thumbnails: []zendesktest.Attachment{}}},
				}
				must(t, tk.Reply(zendesktest.Audit{ID: 9_000_000_000_003, CreatedAt: at, AuthorID: tk.RequesterID, Via: tk.Via,
					Events: []zendesktest.AuditEvent{zendesktest.ChangeEvent(9_000_000_000_004, "status", tk.Status, zendesktest.StatusOpen)}}, newComment))
				newComment = tk.Comments[len(tk.Comments)-1]
			case changed == 0 && tk.Status == zendesktest.StatusOpen && tk.AssigneeID != nil:
				changed = tk.ID
				must(t, tk.AddAudit(zendesktest.Audit{ID: 9_000_000_000_005, CreatedAt: at.Add(time.Minute), AuthorID: *tk.AssigneeID,
					Events: []zendesktest.AuditEvent{zendesktest.ChangeEvent(9_000_000_000_006, "priority", tk.Priority, "urgent")}}))
			}
		}
		nt := hd.Tickets[0]
		nt.ID = int64(len(hd.Tickets) + 1)
		nt.Status, nt.AssigneeID, nt.Comments, nt.Audits = zendesktest.StatusNew, nil, nil, nil
		nt.CreatedAt, nt.UpdatedAt, nt.GeneratedTimestamp = at, at, at.Unix()
		newTicketComment = zendesktest.Comment{ID: 9_000_000_000_007, Type: "Comment", AuthorID: nt.RequesterID,
			Body: "Hello?", PlainBody: "Hello?", HTMLBody: "<p>Hello?</p>", Public: true, Via: nt.Via, Attachments: []zendesktest.Attachment{}}
		must(t, nt.Reply(zendesktest.Audit{ID: 9_000_000_000_008, CreatedAt: at.Add(2 * time.Minute), AuthorID: nt.RequesterID, Via: nt.Via,
			Events: []zendesktest.AuditEvent{
				zendesktest.CreateEvent(9_000_000_000_009, "subject", nt.Subject),
				zendesktest.CreateEvent(9_000_000_000_010, "status", zendesktest.StatusNew),
			}}, newTicketComment))
		newTicketComment = nt.Comments[0]
		hd.Tickets = append(hd.Tickets, nt)
		created = nt.ID

		newArticle = hd.HelpCenter.Articles[0]
		newArticle.ID, newArticle.Title, newArticle.CreatedAt, newArticle.UpdatedAt = 9_000_000_000_011, "What is new", at, at
		newArticle.Translations = []zendesktest.Translation{{ID: 9_000_000_000_012, SourceID: newArticle.ID, SourceType: "Article",
			Locale: "en-us", Title: "What is new", Body: "<p>News.</p>", CreatedAt: at, UpdatedAt: at}}
		newArticle.Attachments = []zendesktest.ArticleAttachment{{ID: 9_000_000_000_013, ArticleID: newArticle.ID, FileName: "news.pdf",
			DisplayFileName: "news.pdf", ContentURL: "/hc/article_attachments/9000000000013/news.pdf", ContentType: "application/pdf", Size: 100, CreatedAt: at, UpdatedAt: at}}
		hd.HelpCenter.Articles = append(hd.HelpCenter.Articles, newArticle)
	})
	if replied == 0 || changed == 0 {
		t.Fatal("the help desk has no solved ticket or no assigned open ticket to change")
	}

	delta := rowsOf(t, conn, cfg, cursors)
	want := map[string][]string{
		schema.Users:        nil,
		schema.Tickets:      idStrings(replied, changed, created),
		schema.Comments:     idStrings(newComment.ID, newTicketComment.ID),
		schema.Attachments:  idStrings(newComment.Attachments[0].ID, newArticle.Attachments[0].ID),
		schema.TicketEvents: idStrings(9_000_000_000_004, 9_000_000_000_006, 9_000_000_000_009, 9_000_000_000_010),
		schema.KBArticles:   idStrings(newArticle.ID),
	}
	for _, s := range cursorStreams {
		if got := delta.ids(s); !slices.Equal(got, want[s]) {
			t.Errorf("%s: the read after the changes brought %v, want exactly %v", s, got, want[s])
		}
	}

	// And they are what the help desk now holds.
	hd := z.hd
	for _, id := range []int64{replied, changed, created} {
		checkRow(t, "ticket", byID(delta.rows[schema.Tickets])[strconv.FormatInt(id, 10)], wantTicket(t, hd.Ticket(id)))
	}
	rt, nt := hd.Ticket(replied), hd.Ticket(created)
	comments, atts := byID(delta.rows[schema.Comments]), byID(delta.rows[schema.Attachments])
	checkRow(t, "new comment", comments[strconv.FormatInt(newComment.ID, 10)], wantComment(rt, &newComment))
	checkRow(t, "new ticket's comment", comments[strconv.FormatInt(newTicketComment.ID, 10)], wantComment(nt, &newTicketComment))
	checkRow(t, "new comment's file", atts[strconv.FormatInt(newComment.Attachments[0].ID, 10)],
		wantAttachment(z.ts.URL, rt, &newComment, 0, &newComment.Attachments[0]))
	checkRow(t, "new article", byID(delta.rows[schema.KBArticles])[strconv.FormatInt(newArticle.ID, 10)], wantArticle(t, &newArticle))
	checkRow(t, "new article's file", atts[strconv.FormatInt(newArticle.Attachments[0].ID, 10)],
		wantArticleAttachment(z.ts.URL, &newArticle, 0, &newArticle.Attachments[0]))
	events := byID(delta.rows[schema.TicketEvents])
	for _, tk := range []*zendesktest.Ticket{rt, hd.Ticket(changed), nt} {
		a := &tk.Audits[len(tk.Audits)-1]
		for i := range a.Events {
			if ev := &a.Events[i]; ev.Type != zendesktest.EventComment {
				checkRow(t, "ticket event", events[strconv.FormatInt(ev.ID, 10)], wantTicketEvent(t, tk, a, ev))
			}
		}
	}
	if got := byID(delta.rows[schema.Tickets])[strconv.FormatInt(replied, 10)]["status"]; got != zendesktest.StatusOpen {
		t.Errorf("the replied ticket is %v, want reopened", got)
	}

	t.Run("a cursor this connector did not write", func(t *testing.T) {
		for _, s := range []string{schema.Tickets, schema.Comments, schema.KBArticles} {
			_, err := read(t, conn, cfg, []string{s}, map[string][]byte{s: []byte("MTY5NTA2MjcyNC4wfHwxNTcxfA==")})
			if err == nil || !strings.Contains(err.Error(), "not one this connector wrote") {
				t.Errorf("%s: error = %v", s, err)
			}
		}
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestCommentMadePrivate: the export records only that a comment became
// private; the ticket's comments endpoint, the fallback, serves them as
// they now are, for that ticket alone.
func TestCommentMadePrivate(t *testing.T) {
	z := startZendesk(t, zendesktest.GenerateOptions{Tickets: 40}, zendesktest.ServerOptions{})
	cfg := z.config(t, 0)
	conn := testConnector()
	cursors := rowsOf(t, conn, cfg, nil).finalCursors()

	var ticket int64
	z.srv.Mutate(func(hd *zendesktest.HelpDesk) {
		for i := range hd.Tickets {
			tk := &hd.Tickets[i]
			if len(tk.Comments) < 3 || tk.AssigneeID == nil || !tk.Comments[1].Public {
				continue
			}
			ticket = tk.ID
			tk.Comments[1].Public = false
			must(t, tk.AddAudit(zendesktest.Audit{ID: 9_000_000_000_001, CreatedAt: testEnd().Add(time.Hour), AuthorID: *tk.AssigneeID,
				Events: []zendesktest.AuditEvent{zendesktest.PrivacyChangeEvent(9_000_000_000_002, tk.Comments[1].ID, false)}}))
			return
		}
	})
	if ticket == 0 {
		t.Fatal("no ticket with a public second comment")
	}
	z.srv.ResetStats()
	delta := rowsOf(t, conn, cfg, cursors)
	tk := z.hd.Ticket(ticket)
	var want []int64
	for _, c := range tk.Comments {
		want = append(want, c.ID)
	}
	if got := delta.ids(schema.Comments); !slices.Equal(got, idStrings(want...)) {
		t.Errorf("comments %v, want the ticket's %v", got, idStrings(want...))
	}
	comments := byID(delta.rows[schema.Comments])
	for i := range tk.Comments {
		checkRow(t, "comment", comments[strconv.FormatInt(tk.Comments[i].ID, 10)], wantComment(tk, &tk.Comments[i]))
	}
	if n := z.srv.Stats().Requests[zendesktest.EndpointComments]; n != 1 {
		t.Errorf("%d comments endpoint calls, want 1", n)
	}
}
