package connector

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferryhq/ferry/plugins/zendesk/zendesktest"
	"github.com/ferryhq/ferry/sdk/schema"
)

// Expected rows, built from the help desk the emulator serves.

func idOf(p *int64) any {
	if p == nil {
		return nil
	}
	return strconv.FormatInt(*p, 10)
}

func strOf(p *string) any {
	if p == nil || *p == "" {
		return nil
	}
	return *p
}

func orNil(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func ts(t time.Time) any { return t.UTC().Format(time.RFC3339Nano) }

func jsonOf(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func wantUser(t *testing.T, u *zendesktest.User) map[string]any {
	role := schema.RoleEndUser
	if u.IsAgent() {
		role = schema.RoleAgent
	}
	var custom any
	if len(u.UserFields) > 0 {
		custom = jsonOf(t, u.UserFields)
	}
	return map[string]any{
		"id": strconv.FormatInt(u.ID, 10), "role": role, "name": u.Name, "email": strOf(u.Email), "phone": strOf(u.Phone),
		"organization_id": idOf(u.OrganizationID), "active": u.Active, "suspended": u.Suspended,
		"created_at": ts(u.CreatedAt), "updated_at": ts(u.UpdatedAt), "custom_fields": custom,
	}
}

func wantOrganization(t *testing.T, o *zendesktest.Organization) map[string]any {
	return map[string]any{
		"id": strconv.FormatInt(o.ID, 10), "name": o.Name, "domains": o.DomainNames,
		"created_at": ts(o.CreatedAt), "updated_at": ts(o.UpdatedAt), "custom_fields": jsonOf(t, o.OrganizationFields),
	}
}

func wantGroup(g *zendesktest.Group) map[string]any {
	return map[string]any{"id": strconv.FormatInt(g.ID, 10), "name": g.Name, "created_at": ts(g.CreatedAt), "updated_at": ts(g.UpdatedAt)}
}

func wantTicketField(t *testing.T, f *zendesktest.TicketField) map[string]any {
	opts := f.CustomFieldOptions
	if len(opts) == 0 {
		opts = f.SystemFieldOptions
	}
	var options any
	if len(opts) > 0 {
		var list []map[string]string
		for _, o := range opts {
			list = append(list, map[string]string{"name": o.Name, "value": o.Value})
		}
		options = jsonOf(t, list)
	}
	return map[string]any{"id": strconv.FormatInt(f.ID, 10), "title": f.Title, "type": f.Type, "active": f.Active, "options": options}
}

func wantTicket(t *testing.T, tk *zendesktest.Ticket) map[string]any {
	cc := []string{}
	for _, id := range append(slices.Clone(tk.EmailCCIDs), tk.CollaboratorIDs...) {
		if s := strconv.FormatInt(id, 10); !slices.Contains(cc, s) {
			cc = append(cc, s)
		}
	}
	custom := map[string]any{}
	for _, f := range tk.CustomFields {
		custom[strconv.FormatInt(f.ID, 10)] = f.Value
	}
	tags := tk.Tags
	if tags == nil {
		tags = []string{}
	}
	return map[string]any{
		"id": strconv.FormatInt(tk.ID, 10), "subject": tk.Subject, "status": tk.Status, "priority": strOf(tk.Priority),
		"type": strOf(tk.Type), "requester_id": strconv.FormatInt(tk.RequesterID, 10), "submitter_id": strconv.FormatInt(tk.SubmitterID, 10),
		"assignee_id": idOf(tk.AssigneeID), "group_id": idOf(tk.GroupID), "organization_id": idOf(tk.OrganizationID),
		"tags": tags, "cc_ids": cc, "custom_fields": jsonOf(t, custom), "created_at": ts(tk.CreatedAt), "updated_at": ts(tk.UpdatedAt),
	}
}

func wantComment(tk *zendesktest.Ticket, c *zendesktest.Comment) map[string]any {
	return map[string]any{
		"id": strconv.FormatInt(c.ID, 10), "ticket_id": strconv.FormatInt(tk.ID, 10), "author_id": strconv.FormatInt(c.AuthorID, 10),
		"public": c.Public, "body_html": orNil(c.HTMLBody), "body_text": orNil(c.PlainBody), "created_at": ts(c.CreatedAt),
	}
}

func wantAttachment(base string, tk *zendesktest.Ticket, c *zendesktest.Comment, a *zendesktest.Attachment) map[string]any {
	return map[string]any{
		"id": strconv.FormatInt(a.ID, 10), "ticket_id": strconv.FormatInt(tk.ID, 10), "comment_id": strconv.FormatInt(c.ID, 10),
		"article_id": nil, "file_name": a.FileName, "content_type": a.ContentType, "size": a.Size,
		"url": base + a.ContentURL, "inline": a.Inline,
	}
}

// checkRow compares a row's columns with want's; JSON columns compare as
// JSON, whatever their key order.
func checkRow(t *testing.T, what string, row, want map[string]any) {
	t.Helper()
	if row == nil {
		t.Errorf("%s: not read", what)
		return
	}
	for col, w := range want {
		got := row[col]
		if col == "custom_fields" || col == "options" {
			got, w = normJSON(t, got), normJSON(t, w)
		}
		if !reflect.DeepEqual(got, w) {
			t.Errorf("%s: %s = %#v, want %#v", what, col, got, w)
		}
	}
}

func normJSON(t *testing.T, v any) any {
	t.Helper()
	s, ok := v.(string)
	if !ok {
		return v
	}
	var out any
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		t.Fatalf("%q is not JSON: %v", s, err)
	}
	return out
}

func TestReadMatchesTheHelpDesk(t *testing.T) {
	z := startZendesk(t, zendesktest.GenerateOptions{}, zendesktest.ServerOptions{})
	res, err := read(t, testConnector(), z.config(t, 0), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	hd := z.hd
	counts := map[string]int{
		schema.Users: len(hd.Users), schema.Organizations: len(hd.Organizations), schema.Groups: len(hd.Groups),
		schema.TicketFields: len(hd.TicketFields), schema.Tickets: len(hd.Tickets),
		schema.Comments: hd.CommentCount(), schema.Attachments: hd.AttachmentCount(),
	}
	for stream, want := range counts {
		if got := len(res.rows[stream]); got != want {
			t.Errorf("%s: %d rows, want %d", stream, got, want)
		}
		if got := len(byID(res.rows[stream])); got != want {
			t.Errorf("%s: %d distinct ids, want %d", stream, got, want)
		}
	}
	if len(res.errors) > 0 || len(res.skips) > 0 {
		t.Errorf("record errors %v, skips %v", res.errors, res.skips)
	}

	// Field by field, every record.
	users := byID(res.rows[schema.Users])
	for i := range hd.Users {
		u := &hd.Users[i]
		checkRow(t, "user "+strconv.FormatInt(u.ID, 10), users[strconv.FormatInt(u.ID, 10)], wantUser(t, u))
	}
	orgs := byID(res.rows[schema.Organizations])
	for i := range hd.Organizations {
		o := &hd.Organizations[i]
		checkRow(t, "organization "+o.Name, orgs[strconv.FormatInt(o.ID, 10)], wantOrganization(t, o))
	}
	groups := byID(res.rows[schema.Groups])
	for i := range hd.Groups {
		g := &hd.Groups[i]
		checkRow(t, "group "+g.Name, groups[strconv.FormatInt(g.ID, 10)], wantGroup(g))
	}
	fields := byID(res.rows[schema.TicketFields])
	for i := range hd.TicketFields {
		f := &hd.TicketFields[i]
		checkRow(t, "ticket field "+f.Title, fields[strconv.FormatInt(f.ID, 10)], wantTicketField(t, f))
	}
	tickets := byID(res.rows[schema.Tickets])
	comments := byID(res.rows[schema.Comments])
	attachments := byID(res.rows[schema.Attachments])
	for i := range hd.Tickets {
		tk := &hd.Tickets[i]
		what := "ticket " + strconv.FormatInt(tk.ID, 10)
		checkRow(t, what, tickets[strconv.FormatInt(tk.ID, 10)], wantTicket(t, tk))
		for j := range tk.Comments {
			c := &tk.Comments[j]
			checkRow(t, what+" comment "+strconv.FormatInt(c.ID, 10), comments[strconv.FormatInt(c.ID, 10)], wantComment(tk, c))
			for k := range c.Attachments {
				a := &c.Attachments[k]
				checkRow(t, what+" attachment "+a.FileName, attachments[strconv.FormatInt(a.ID, 10)], wantAttachment(z.ts.URL, tk, c, a))
			}
		}
		if t.Failed() {
			break // one ticket's worth of differences tells the story
		}
	}

	// raw is the API's own object.
	var raw map[string]any
	first := hd.Tickets[0]
	if err := json.Unmarshal([]byte(tickets[strconv.FormatInt(first.ID, 10)]["raw"].(string)), &raw); err != nil {
		t.Fatal(err)
	}
	if raw["id"] != float64(first.ID) || raw["url"] == nil || raw["via"] == nil || raw["comments"] != nil {
		t.Errorf("ticket raw is not the API's ticket: %v", raw)
	}

	// Progress ends at the total the API gave.
	var last map[string][2]int64 = map[string][2]int64{}
	for _, p := range res.progress {
		last[p.Stream] = [2]int64{p.Done, p.Total}
	}
	if got := last[schema.Tickets]; got != [2]int64{200, 200} {
		t.Errorf("tickets progress ends at %v, want done 200 of 200", got)
	}
	if got := last[schema.Users]; got[0] != int64(len(hd.Users)) || got[1] == 0 {
		t.Errorf("users progress ends at %v", got)
	}

	// One export page each: the calls a first read of the demo's help desk
	// makes.
	st := z.srv.Stats()
	wantCalls := map[string]int{
		zendesktest.EndpointUsersExport: 1, zendesktest.EndpointUsersCount: 1,
		zendesktest.EndpointOrganizations: 1, zendesktest.EndpointGroups: 1, zendesktest.EndpointTicketFields: 1,
		zendesktest.EndpointTicketsExport: 1, zendesktest.EndpointTicketsCount: 1,
		zendesktest.EndpointComments: len(hd.Tickets),
	}
	if !reflect.DeepEqual(st.Requests, wantCalls) {
		t.Errorf("calls = %v, want %v", st.Requests, wantCalls)
	}
	t.Logf("calls for %d tickets: %v (%d in all)", len(hd.Tickets), st.Requests, st.Total())
}

// ticketIDs lists the ids of rows, in order.
func ticketIDs(rows []map[string]any) []string {
	var ids []string
	for _, r := range rows {
		ids = append(ids, r["id"].(string))
	}
	return ids
}

func TestResume(t *testing.T) {
	z := startZendesk(t, zendesktest.GenerateOptions{Tickets: 120, EndUsers: 45}, zendesktest.ServerOptions{})
	cfg := z.config(t, 25)
	conn := testConnector()

	full, err := read(t, conn, cfg, []string{schema.Tickets, schema.Users}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cursors := full.cursors(schema.Tickets)
	if len(cursors) != 5 { // 120 tickets, 25 a page
		t.Fatalf("%d ticket checkpoints, want 5", len(cursors))
	}
	all := ticketIDs(full.rows[schema.Tickets])

	t.Run("from a mid-way cursor, exactly the rest", func(t *testing.T) {
		rest, err := read(t, conn, cfg, []string{schema.Tickets}, map[string][]byte{schema.Tickets: cursors[1]})
		if err != nil {
			t.Fatal(err)
		}
		if got := ticketIDs(rest.rows[schema.Tickets]); !slices.Equal(got, all[50:]) {
			t.Errorf("resumed read brought %d tickets, want the last %d of the first read", len(got), len(all)-50)
		}
		wantComments := 0
		for _, id := range all[50:] {
			n, _ := strconv.ParseInt(id, 10, 64)
			wantComments += len(z.hd.Ticket(n).Comments)
		}
		if got := len(rest.rows[schema.Comments]); got != wantComments {
			t.Errorf("resumed read brought %d comments, want %d", got, wantComments)
		}
	})

	t.Run("users from a mid-way cursor", func(t *testing.T) {
		users := full.cursors(schema.Users)
		rest, err := read(t, conn, cfg, []string{schema.Users}, map[string][]byte{schema.Users: users[0]})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := ticketIDs(rest.rows[schema.Users]), ticketIDs(full.rows[schema.Users])[25:]; !slices.Equal(got, want) {
			t.Errorf("resumed users: %d, want %d", len(got), len(want))
		}
	})

	final := full.lastCursor(schema.Tickets)
	t.Run("from the final cursor, nothing new", func(t *testing.T) {
		z.srv.ResetStats()
		again, err := read(t, conn, cfg, []string{schema.Tickets}, map[string][]byte{schema.Tickets: final})
		if err != nil {
			t.Fatal(err)
		}
		if n := len(again.rows[schema.Tickets]) + len(again.rows[schema.Comments]) + len(again.rows[schema.Attachments]); n != 0 {
			t.Errorf("a read from the final cursor brought %d records", n)
		}
		if st := z.srv.Stats(); st.Total() != 1 || st.Requests[zendesktest.EndpointTicketsExport] != 1 {
			t.Errorf("a read with nothing new made calls %v, want one export call", st.Requests)
		}
	})

	t.Run("a change after the final cursor, alone", func(t *testing.T) {
		changed := z.hd.Tickets[7].ID
		z.srv.Mutate(func(hd *zendesktest.HelpDesk) {
			tk := hd.Ticket(changed)
			at := testEnd().Add(time.Hour)
			c := tk.Comments[len(tk.Comments)-1]
			c.ID, c.CreatedAt, c.Attachments = c.ID+1_000_000_000, at, nil
			tk.Comments = append(tk.Comments, c)
			tk.Status, tk.UpdatedAt, tk.GeneratedTimestamp = zendesktest.StatusOpen, at, at.Unix()
		})
		again, err := read(t, conn, cfg, []string{schema.Tickets}, map[string][]byte{schema.Tickets: final})
		if err != nil {
			t.Fatal(err)
		}
		rows := again.rows[schema.Tickets]
		if len(rows) != 1 || rows[0]["id"] != strconv.FormatInt(changed, 10) || rows[0]["status"] != zendesktest.StatusOpen {
			t.Fatalf("after the change: %v, want ticket %d open", ticketIDs(rows), changed)
		}
		if got, want := len(again.rows[schema.Comments]), len(z.hd.Ticket(changed).Comments); got != want {
			t.Errorf("the changed ticket came with %d comments, want all %d", got, want)
		}
	})

	t.Run("a cursor this connector did not write", func(t *testing.T) {
		_, err := read(t, conn, cfg, []string{schema.Tickets}, map[string][]byte{schema.Tickets: []byte("MTY5NTA2MjcyNC4wfHwxNTcxfA==")})
		if err == nil || !strings.Contains(err.Error(), "not one this connector wrote") {
			t.Errorf("error = %v", err)
		}
	})
}

func TestRecordErrorsAndSkips(t *testing.T) {
	z := startZendesk(t, zendesktest.GenerateOptions{Tickets: 30}, zendesktest.ServerOptions{})
	missing, deleted := z.hd.Tickets[4], z.hd.Tickets[9]
	z.srv.InjectFault(zendesktest.Fault{Path: fmt.Sprintf("/api/v2/tickets/%d/comments.json", missing.ID), Status: http.StatusNotFound})
	oddUser := z.hd.Users[20].ID
	z.srv.Mutate(func(hd *zendesktest.HelpDesk) {
		hd.Ticket(deleted.ID).Status = zendesktest.StatusDeleted
		hd.User(oddUser).Role = "owner"
	})

	res, err := read(t, testConnector(), z.config(t, 0), nil, nil)
	if err != nil {
		t.Fatalf("the read stopped: %v", err)
	}
	type rec struct{ stream, id string }
	var errs, skips []rec
	for _, e := range res.errors {
		errs = append(errs, rec{e.Stream, e.SourceId})
		if e.Reason == "" {
			t.Errorf("record error without a reason: %v", e)
		}
	}
	for _, s := range res.skips {
		skips = append(skips, rec{s.Stream, s.SourceId})
	}
	wantErrs := []rec{{schema.Users, strconv.FormatInt(oddUser, 10)}, {schema.Comments, strconv.FormatInt(missing.ID, 10)}}
	if !reflect.DeepEqual(errs, wantErrs) {
		t.Errorf("record errors %v, want %v", errs, wantErrs)
	}
	if want := []rec{{schema.Tickets, strconv.FormatInt(deleted.ID, 10)}}; !reflect.DeepEqual(skips, want) {
		t.Errorf("skips %v, want %v", skips, want)
	}
	if got := len(res.rows[schema.Tickets]); got != 29 {
		t.Errorf("%d tickets, want 29: all but the deleted one", got)
	}
	want := z.hd.CommentCount() - len(missing.Comments) - len(deleted.Comments)
	if got := len(res.rows[schema.Comments]); got != want {
		t.Errorf("%d comments, want %d", got, want)
	}
	if n := z.srv.Stats().Requests[zendesktest.EndpointComments]; n != 29 {
		t.Errorf("%d comment requests, want 29: none for the deleted ticket", n)
	}
}

func TestRetries(t *testing.T) {
	t.Run("server errors and rate limits are waited out", func(t *testing.T) {
		z := startZendesk(t, zendesktest.GenerateOptions{Tickets: 80}, zendesktest.ServerOptions{
			IncrementalPerMinute: 2, RateLimitWindow: time.Second,
		})
		z.srv.InjectFault(zendesktest.Fault{Path: "/api/v2/incremental/tickets/cursor.json", Status: http.StatusServiceUnavailable, Times: 2})
		z.srv.InjectFault(zendesktest.Fault{Path: fmt.Sprintf("/api/v2/tickets/%d/comments.json", z.hd.Tickets[3].ID), Status: http.StatusInternalServerError, Times: 1})
		z.srv.InjectFault(zendesktest.Fault{Path: "/api/v2/groups.json", Status: http.StatusBadGateway, Times: 3})

		res, err := read(t, testConnector(), z.config(t, 50), []string{schema.Groups, schema.Tickets}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := len(res.rows[schema.Tickets]); got != 80 {
			t.Errorf("%d tickets, want 80", got)
		}
		if got := len(res.rows[schema.Comments]); got != z.hd.CommentCount() {
			t.Errorf("%d comments, want %d", got, z.hd.CommentCount())
		}
		st := z.srv.Stats()
		if st.Statuses[http.StatusTooManyRequests] == 0 || st.Statuses[503] != 2 || st.Statuses[500] != 1 || st.Statuses[502] != 3 {
			t.Errorf("statuses %v: the faults did not all happen", st.Statuses)
		}
	})

	t.Run("an error that outlasts the retries fails the read", func(t *testing.T) {
		z := startZendesk(t, zendesktest.GenerateOptions{Tickets: 5}, zendesktest.ServerOptions{})
		z.srv.InjectFault(zendesktest.Fault{Path: "/api/v2/groups.json", Status: http.StatusInternalServerError})
		res, err := read(t, testConnector(), z.config(t, 0), nil, nil)
		if err == nil || !strings.Contains(err.Error(), "500") || !strings.Contains(err.Error(), "groups") {
			t.Fatalf("error = %v, want the groups' 500", err)
		}
		if n := z.srv.Stats().Requests[zendesktest.EndpointGroups]; n != fastPolicy().attempts {
			t.Errorf("%d tries, want %d", n, fastPolicy().attempts)
		}
		// What came before is committed; what came after never started.
		if len(res.rows[schema.Users]) == 0 || len(res.rows[schema.Tickets]) != 0 {
			t.Errorf("users %d, tickets %d", len(res.rows[schema.Users]), len(res.rows[schema.Tickets]))
		}
	})

	t.Run("a client error is not retried", func(t *testing.T) {
		z := startZendesk(t, zendesktest.GenerateOptions{Tickets: 5}, zendesktest.ServerOptions{})
		z.srv.InjectFault(zendesktest.Fault{Path: "/api/v2/ticket_fields.json", Status: http.StatusForbidden})
		_, err := read(t, testConnector(), z.config(t, 0), []string{schema.TicketFields}, nil)
		if err == nil || !strings.Contains(err.Error(), "403") {
			t.Fatalf("error = %v", err)
		}
		if n := z.srv.Stats().Requests[zendesktest.EndpointTicketFields]; n != 1 {
			t.Errorf("%d tries of a 403, want 1", n)
		}
	})
}

func TestCheck(t *testing.T) {
	z := startZendesk(t, zendesktest.GenerateOptions{Tickets: 2}, zendesktest.ServerOptions{Token: "the-real-token"})
	var agent string
	for _, u := range z.hd.Users {
		if u.Role == zendesktest.RoleAgent {
			agent = *u.Email
			break
		}
	}
	agentDesk := zendesktest.NewServer(z.hd, zendesktest.ServerOptions{Email: agent, Token: "agent-token"})
	agentTS := httptest.NewServer(agentDesk)
	t.Cleanup(agentTS.Close)
	notZendesk := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<html>Welcome to our shop</html>")
	}))
	t.Cleanup(notZendesk.Close)
	nothingThere := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(nothingThere.Close)
	closed := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		return "http://" + addr
	}()
	email, _ := z.srv.Credentials()

	tests := []struct {
		name    string
		config  string
		wantErr string // "" for success
	}{
		{"valid", fmt.Sprintf(`{"base_url": %q, "email": %q, "token": "the-real-token"}`, z.ts.URL, email), ""},
		{"valid with a trailing slash and a page size", fmt.Sprintf(`{"base_url": "%s/", "email": %q, "token": "the-real-token", "page_size": 100}`, z.ts.URL, email), ""},
		{"wrong token", fmt.Sprintf(`{"base_url": %q, "email": %q, "token": "a-wrong-token"}`, z.ts.URL, email), "did not accept the credentials"},
		{"an agent's token", fmt.Sprintf(`{"base_url": %q, "email": %q, "token": "agent-token"}`, agentTS.URL, agent), "needs an admin"},
		{"unreachable host", fmt.Sprintf(`{"base_url": %q, "email": %q, "token": "t"}`, closed, email), "cannot reach"},
		{"not Zendesk", fmt.Sprintf(`{"base_url": %q, "email": %q, "token": "t"}`, notZendesk.URL, email), "did not answer like Zendesk"},
		{"no API there", fmt.Sprintf(`{"base_url": %q, "email": %q, "token": "t"}`, nothingThere.URL, email), "has no Zendesk API"},
		{"no scheme", `{"base_url": "acme.zendesk.com", "email": "a@b.example", "token": "t"}`, "not an absolute URL"},
		{"plain http to a remote host", `{"base_url": "http://acme.zendesk.com", "email": "a@b.example", "token": "t"}`, "must use https"},
		{"a path", `{"base_url": "https://acme.zendesk.com/api/v2", "email": "a@b.example", "token": "t"}`, "without a path"},
		{"credentials in the URL", `{"base_url": "https://me:pw@acme.zendesk.com", "email": "a@b.example", "token": "t"}`, "must not hold credentials"},
		{"no base_url", `{"email": "a@b.example", "token": "t"}`, "base_url is required"},
		{"no email", `{"base_url": "https://acme.zendesk.com", "token": "t"}`, "email is required"},
		{"not an email", `{"base_url": "https://acme.zendesk.com", "email": "ops", "token": "t"}`, "not an email address"},
		{"no token", `{"base_url": "https://acme.zendesk.com", "email": "a@b.example"}`, "token is required"},
		{"page size too big", `{"base_url": "https://acme.zendesk.com", "email": "a@b.example", "token": "t", "page_size": 5000}`, "page_size 5000 is out of range"},
		{"a misspelt key", `{"base-url": "https://acme.zendesk.com", "email": "a@b.example", "token": "t"}`, `unknown field "base-url"`},
		{"not JSON", `base_url: x`, "zendesk config"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := testConnector().Check(t.Context(), json.RawMessage(tt.config))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Check: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("Check error = %v, want one saying %q", err, tt.wantErr)
			}
			for _, secret := range []string{"the-real-token", "a-wrong-token", "agent-token"} {
				if err != nil && strings.Contains(err.Error(), secret) {
					t.Errorf("the error quotes the token: %v", err)
				}
			}
		})
	}
}

// TestCredentialsStayHome serves a help desk whose every link (url
// fields, after_url, links.next, attachments' content_url) points at
// another host, as Zendesk's recorded responses point at an alias, and
// redirects one request there: the other host must never see the
// credentials.
func TestCredentialsStayHome(t *testing.T) {
	var mu sync.Mutex
	var foreign []string // requests the other host got, with their Authorization
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		foreign = append(foreign, r.URL.Path+" auth="+r.Header.Get("Authorization"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"comments": [], "meta": {"has_more": false, "after_cursor": null, "before_cursor": null}}`)
	}))
	t.Cleanup(other.Close)

	hd := zendesktest.Generate(zendesktest.GenerateOptions{Tickets: 40, End: testEnd()})
	srv := zendesktest.NewServer(hd, zendesktest.ServerOptions{BaseURL: other.URL})
	redirected := fmt.Sprintf("/api/v2/tickets/%d/comments.json", hd.Tickets[0].ID)
	var unauthenticated int
	home := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			mu.Lock()
			unauthenticated++
			mu.Unlock()
		}
		if r.URL.Path == redirected {
			http.Redirect(w, r, other.URL+r.URL.RequestURI(), http.StatusFound)
			return
		}
		srv.ServeHTTP(w, r)
	}))
	t.Cleanup(home.Close)
	email, token := srv.Credentials()
	cfg, _ := json.Marshal(Config{BaseURL: home.URL, Email: email, Token: token, PageSize: 10})

	res, err := read(t, testConnector(), cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(res.rows[schema.Tickets]); got != 40 {
		t.Errorf("%d tickets, want 40", got)
	}
	for _, a := range res.rows[schema.Attachments] {
		if !strings.HasPrefix(a["url"].(string), other.URL) {
			t.Fatalf("attachment url %v: the test's links don't point elsewhere", a["url"])
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if unauthenticated != 0 {
		t.Errorf("%d requests to the account's own host went without credentials", unauthenticated)
	}
	if len(foreign) != 1 || !strings.HasPrefix(foreign[0], redirected+" auth=") {
		t.Fatalf("the other host got %v, want the one redirected request", foreign)
	}
	for _, f := range foreign {
		if !strings.HasSuffix(f, "auth=") {
			t.Errorf("the other host got credentials: %s", f)
		}
	}
}

func TestSpecAndStreams(t *testing.T) {
	c := New()
	spec := c.Spec()
	var sc struct {
		Required   []string                   `json:"required"`
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal([]byte(spec.ConfigSchema), &sc); err != nil {
		t.Fatalf("config schema is not JSON: %v", err)
	}
	if spec.Name != "zendesk" || spec.Version == "" || !slices.Equal(sc.Required, []string{"base_url", "email", "token"}) || len(sc.Properties) != 4 {
		t.Errorf("spec %+v, schema %+v", spec, sc)
	}

	streams, err := c.Streams(json.RawMessage(`{"base_url": "https://acme.zendesk.com", "email": "a@acme.example", "token": "t"}`))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range streams {
		info := s.Info()
		names = append(names, info.Name)
		if _, err := schema.Schema(info.Name); err != nil {
			t.Errorf("stream %s is not canonical: %v", info.Name, err)
		}
		if info.Name == schema.Tickets && !slices.Equal(info.Emits, []string{schema.Comments, schema.Attachments}) {
			t.Errorf("tickets emit %v", info.Emits)
		}
	}
	if want := []string{schema.Users, schema.Organizations, schema.Groups, schema.TicketFields, schema.Tickets}; !slices.Equal(names, want) {
		t.Errorf("streams %v, want %v", names, want)
	}
	if _, err := c.Streams(json.RawMessage(`{}`)); err == nil {
		t.Error("Streams accepted an empty config")
	}

	cfg := Config{BaseURL: "https://acme.zendesk.com", Email: "a@acme.example", Token: "super-secret", PageSize: 10}
	if s := fmt.Sprint(cfg) + fmt.Sprintf("%v %+v %s %#v", cfg, cfg, cfg, cfg); strings.Contains(s, "super-secret") {
		t.Errorf("printing a config shows its token: %s", s)
	}
}

func TestZeroConnectorReads(t *testing.T) {
	z := startZendesk(t, zendesktest.GenerateOptions{Tickets: 10}, zendesktest.ServerOptions{})
	var c Connector
	if err := c.Check(t.Context(), z.config(t, 0)); err != nil {
		t.Fatal(err)
	}
	res, err := read(t, &c, z.config(t, 0), []string{schema.Tickets}, nil)
	if err != nil || len(res.rows[schema.Tickets]) != 10 {
		t.Fatalf("read: %v, %d tickets", err, len(res.rows[schema.Tickets]))
	}
}
