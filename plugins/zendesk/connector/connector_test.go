package connector

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
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

// TestReadMatchesTheHelpDesk reads the demo's help desk with every option
// on and checks every record field by field, then counts the calls a
// first read makes: with comments from the ticket events export, a call a
// thousand updates rather than a call a ticket.
func TestReadMatchesTheHelpDesk(t *testing.T) {
	z := startZendesk(t, zendesktest.GenerateOptions{}, zendesktest.ServerOptions{})
	hd := z.hd
	res := rowsOf(t, testConnector(), z.config(t, 0, everything), nil)
	if len(res.errors) > 0 || len(res.skips) > 0 {
		t.Errorf("record errors %v, skips %v", res.errors, res.skips)
	}
	checkHelpDesk(t, z, res, true, true)

	// The records' variety the loader relies on came through.
	users := byID(res.rows[schema.Users])
	var suspended, inactive int
	for _, u := range hd.Users {
		row := users[strconv.FormatInt(u.ID, 10)]
		if u.Suspended && row["suspended"] == true {
			suspended++
		}
		if !u.Active && row["active"] == false {
			inactive++
		}
	}
	if suspended == 0 || inactive == 0 {
		t.Errorf("%d suspended and %d inactive users mapped: the help desk has some of each", suspended, inactive)
	}

	// raw is the API's own object.
	var raw map[string]any
	first := hd.Tickets[0]
	if err := json.Unmarshal([]byte(byID(res.rows[schema.Tickets])[strconv.FormatInt(first.ID, 10)]["raw"].(string)), &raw); err != nil {
		t.Fatal(err)
	}
	if raw["id"] != float64(first.ID) || raw["url"] == nil || raw["via"] == nil || raw["comments"] != nil || raw["audits"] != nil {
		t.Errorf("ticket raw is not the API's ticket: %v", raw)
	}

	// Progress ends at the total the API gave.
	last := map[string][2]int64{}
	for _, p := range res.progress {
		last[p.Stream] = [2]int64{p.Done, p.Total}
	}
	if got := last[schema.Tickets]; got != [2]int64{200, 200} {
		t.Errorf("tickets progress ends at %v, want done 200 of 200", got)
	}
	if got := last[schema.Comments]; got[0] != int64(hd.CommentCount()) {
		t.Errorf("comments progress ends at %v, want done %d", got, hd.CommentCount())
	}

	// Every option on: the Help Center costs three lists and a call an
	// article for its attachments (translations come sideloaded), ticket
	// events nothing more.
	events := hd.TicketEventCount()
	st := z.srv.Stats()
	wantCalls := map[string]int{
		zendesktest.EndpointUsersExport: 1, zendesktest.EndpointUsersCount: 1,
		zendesktest.EndpointOrganizations: 1, zendesktest.EndpointGroups: 1, zendesktest.EndpointTicketFields: 1,
		zendesktest.EndpointTicketsExport: 1, zendesktest.EndpointTicketsCount: 1,
		zendesktest.EndpointDeletedTickets: 1, zendesktest.EndpointTicketEvents: (events + 999) / 1000,
		zendesktest.EndpointCategories: 1, zendesktest.EndpointSections: 1, zendesktest.EndpointArticles: 1,
		zendesktest.EndpointArticleAttachments: len(hd.HelpCenter.Articles),
	}
	if !reflect.DeepEqual(st.Requests, wantCalls) {
		t.Errorf("calls = %v, want %v", st.Requests, wantCalls)
	}

	// The default config: comments cost ceil(updates / 1000) calls of the
	// ticket events export and one list of the deleted tickets, where they
	// cost a call a ticket through the comments endpoint. For the demo's
	// 200 tickets (1,254 updates): 10 calls in all, where there were 207.
	z.srv.ResetStats()
	rowsOf(t, testConnector(), z.config(t, 0), nil)
	st = z.srv.Stats()
	wantCalls = map[string]int{
		zendesktest.EndpointUsersExport: 1, zendesktest.EndpointUsersCount: 1,
		zendesktest.EndpointOrganizations: 1, zendesktest.EndpointGroups: 1, zendesktest.EndpointTicketFields: 1,
		zendesktest.EndpointTicketsExport: 1, zendesktest.EndpointTicketsCount: 1,
		zendesktest.EndpointDeletedTickets: 1, zendesktest.EndpointTicketEvents: (events + 999) / 1000,
	}
	if !reflect.DeepEqual(st.Requests, wantCalls) {
		t.Errorf("calls = %v, want %v", st.Requests, wantCalls)
	}
	if events != 1254 || st.Total() != 10 {
		t.Errorf("the demo's help desk has %d updates and took %d calls; this test's comment expects 1,254 and 10", events, st.Total())
	}
	t.Logf("calls for %d tickets, %d comments, %d updates: %v (%d in all)", len(hd.Tickets), hd.CommentCount(), events, st.Requests, st.Total())
}

// TestRecordErrorsAndSkips: a deleted ticket is a skipped record and
// neither its comments nor its events are staged; a record that does not
// map, or whose comments cannot be read, is a record error with the
// reason; the read goes on.
func TestRecordErrorsAndSkips(t *testing.T) {
	z := startZendesk(t, zendesktest.GenerateOptions{Tickets: 30}, zendesktest.ServerOptions{})
	missing, deleted := z.hd.Tickets[4], z.hd.Tickets[9]
	oddUser := z.hd.Users[20].ID
	z.srv.Mutate(func(hd *zendesktest.HelpDesk) {
		hd.Ticket(deleted.ID).Status = zendesktest.StatusDeleted
		hd.User(oddUser).Role = "owner"
		// A comment made private after it was written: the export cannot
		// serve the ticket's comments as they are, and their endpoint
		// answers 404.
		tk := hd.Ticket(missing.ID)
		at := tk.UpdatedAt.Add(time.Hour)
		if err := tk.AddAudit(zendesktest.Audit{ID: 1, CreatedAt: at, AuthorID: *tk.AssigneeID,
			Events: []zendesktest.AuditEvent{zendesktest.PrivacyChangeEvent(2, tk.Comments[0].ID, false)}}); err != nil {
			t.Fatal(err)
		}
	})
	z.srv.InjectFault(zendesktest.Fault{Path: fmt.Sprintf("/api/v2/tickets/%d/comments.json", missing.ID), Status: http.StatusNotFound})

	res, err := read(t, testConnector(), z.config(t, 0, everything), nil, nil)
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
	for _, stream := range []string{schema.Comments, schema.TicketEvents} {
		for _, row := range res.rows[stream] {
			if row["ticket_id"] == strconv.FormatInt(deleted.ID, 10) {
				t.Fatalf("%s %s of the deleted ticket was staged", stream, row["id"])
			}
		}
	}
	if n := z.srv.Stats().Requests[zendesktest.EndpointComments]; n != 1 {
		t.Errorf("%d comment requests, want 1: the ticket the export could not serve", n)
	}
}

func TestCheck(t *testing.T) {
	z := startZendesk(t, zendesktest.GenerateOptions{Tickets: 2}, zendesktest.ServerOptions{Token: "the-real-token", OAuthToken: "the-real-oauth-token"})
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
	noGuide := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/v2/help_center/") {
			http.Error(w, `{"error": "InvalidEndpoint", "description": "Not found"}`, http.StatusNotFound)
			return
		}
		z.srv.ServeHTTP(w, r)
	}))
	t.Cleanup(noGuide.Close)
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
		{"OAuth", fmt.Sprintf(`{"base_url": %q, "oauth_token": "the-real-oauth-token"}`, z.ts.URL), ""},
		{"OAuth with every option", fmt.Sprintf(`{"base_url": %q, "oauth_token": "the-real-oauth-token", "ticket_events": true, "help_center": true, "incremental_per_minute": 30}`, z.ts.URL), ""},
		{"wrong OAuth token", fmt.Sprintf(`{"base_url": %q, "oauth_token": "a-wrong-token"}`, z.ts.URL), "did not accept the OAuth access token (401)"},
		{"an API token as an OAuth token", fmt.Sprintf(`{"base_url": %q, "oauth_token": "the-real-token"}`, z.ts.URL), "did not accept the OAuth access token"},
		{"both kinds of credentials", fmt.Sprintf(`{"base_url": %q, "email": %q, "token": "the-real-token", "oauth_token": "the-real-oauth-token"}`, z.ts.URL, email), "not both"},
		{"an OAuth token with an email", fmt.Sprintf(`{"base_url": %q, "email": %q, "oauth_token": "the-real-oauth-token"}`, z.ts.URL, email), "not both"},
		{"no credentials", fmt.Sprintf(`{"base_url": %q}`, z.ts.URL), "credentials are required"},
		{"no Help Center", fmt.Sprintf(`{"base_url": %q, "email": %q, "token": "the-real-token", "help_center": true}`, noGuide.URL, email), "has no Help Center"},
		{"the Help Center off where there is none", fmt.Sprintf(`{"base_url": %q, "email": %q, "token": "the-real-token"}`, noGuide.URL, email), ""},
		{"an agent's token", fmt.Sprintf(`{"base_url": %q, "email": %q, "token": "agent-token"}`, agentTS.URL, agent), "needs an admin"},
		{"unreachable host", fmt.Sprintf(`{"base_url": %q, "email": %q, "token": "t"}`, closed, email), "cannot reach"},
		{"not Zendesk", fmt.Sprintf(`{"base_url": %q, "email": %q, "token": "t"}`, notZendesk.URL, email), "did not answer like Zendesk"},
		{"no API there", fmt.Sprintf(`{"base_url": %q, "email": %q, "token": "t"}`, nothingThere.URL, email), "has no Zendesk API"},
		{"no scheme", `{"base_url": "acme.zendesk.com", "email": "a@b.example", "token": "t"}`, "not an absolute URL"},
		{"plain http to a remote host", `{"base_url": "http://acme.zendesk.com", "email": "a@b.example", "token": "t"}`, "must use https"},
		{"a path", `{"base_url": "https://acme.zendesk.com/api/v2", "email": "a@b.example", "token": "t"}`, "without a path"},
		{"credentials in the URL", `{"base_url": "https://me:pw@acme.zendesk.com", "email": "a@b.example", "token": "t"}`, "must not hold credentials"},
		{"no base_url", `{"email": "a@b.example", "token": "t"}`, "base_url is required"},
		{"no email", `{"base_url": "https://acme.zendesk.com", "token": "t"}`, "email is required with token"},
		{"not an email", `{"base_url": "https://acme.zendesk.com", "email": "ops", "token": "t"}`, "not an email address"},
		{"no token", `{"base_url": "https://acme.zendesk.com", "email": "a@b.example"}`, "token is required with email"},
		{"incremental rate out of range", `{"base_url": "https://acme.zendesk.com", "email": "a@b.example", "token": "t", "incremental_per_minute": -1}`, "incremental_per_minute -1 is out of range"},
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
			for _, secret := range []string{"the-real-token", "a-wrong-token", "agent-token", "the-real-oauth-token"} {
				if err != nil && strings.Contains(err.Error(), secret) {
					t.Errorf("the error quotes the token: %v", err)
				}
			}
		})
	}
}

// TestCredentialsStayHome serves a help desk whose every link (url
// fields, after_url, next_page, links.next, attachments' content_url)
// points at another host, as Zendesk's recorded responses point at an
// alias, and redirects one request there: with either kind of
// credentials, the other host must never see them.
func TestCredentialsStayHome(t *testing.T) {
	hd := zendesktest.Generate(zendesktest.GenerateOptions{Tickets: 40, End: testEnd()})
	for _, oauth := range []bool{false, true} {
		t.Run(fmt.Sprintf("oauth %v", oauth), func(t *testing.T) {
			var mu sync.Mutex
			var foreign []string // requests the other host got, with their Authorization
			other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				foreign = append(foreign, r.URL.Path+" auth="+r.Header.Get("Authorization"))
				mu.Unlock()
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprint(w, `{"deleted_tickets": [], "meta": {"has_more": false, "after_cursor": null, "before_cursor": null}}`)
			}))
			t.Cleanup(other.Close)

			srv := zendesktest.NewServer(hd, zendesktest.ServerOptions{BaseURL: other.URL})
			const redirected = "/api/v2/deleted_tickets.json"
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
			cfg := Config{BaseURL: home.URL, Email: email, Token: token, PageSize: 10, TicketEvents: true, HelpCenter: true}
			if oauth {
				cfg.Email, cfg.Token, cfg.OAuthToken = "", "", srv.OAuthToken()
			}
			raw, _ := json.Marshal(cfg)

			res, err := read(t, testConnector(), raw, nil, nil)
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
		})
	}
}

func TestSpecAndStreams(t *testing.T) {
	c := New()
	var sc struct {
		Required   []string                   `json:"required"`
		OneOf      []json.RawMessage          `json:"oneOf"`
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal([]byte(c.Spec().ConfigSchema), &sc); err != nil {
		t.Fatalf("config schema is not JSON: %v", err)
	}
	var fields []string
	for _, f := range reflect.VisibleFields(reflect.TypeFor[Config]()) {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		fields = append(fields, name)
	}
	props := slices.Sorted(maps.Keys(sc.Properties))
	slices.Sort(fields)
	if !slices.Equal(sc.Required, []string{"base_url"}) || len(sc.OneOf) != 2 || !slices.Equal(props, fields) {
		t.Errorf("schema requires %v, %d ways to sign in, properties %v; want base_url, 2, %v", sc.Required, len(sc.OneOf), props, fields)
	}

	const base = `"base_url": "https://acme.zendesk.com", "email": "a@acme.example", "token": "t"`
	people := []string{schema.Users, schema.Organizations, schema.Groups, schema.TicketFields, schema.Tickets}
	tests := []struct {
		name    string
		config  string
		streams []string
		emits   map[string][]string
	}{
		{"defaults", `{` + base + `}`, append(slices.Clone(people), schema.Comments),
			map[string][]string{schema.Comments: {schema.Attachments}}},
		{"ticket events", `{` + base + `, "ticket_events": true}`, append(slices.Clone(people), schema.Comments),
			map[string][]string{schema.Comments: {schema.Attachments, schema.TicketEvents}}},
		{"help center", `{` + base + `, "help_center": true}`, append(slices.Clone(people), schema.KBCategories, schema.KBArticles, schema.Comments),
			map[string][]string{schema.Comments: {schema.Attachments}, schema.KBArticles: {schema.Attachments}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			streams, err := c.Streams(json.RawMessage(tt.config))
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, s := range streams {
				info := s.Info()
				names = append(names, info.Name)
				if !slices.Equal(info.Emits, tt.emits[info.Name]) {
					t.Errorf("%s emits %v, want %v", info.Name, info.Emits, tt.emits[info.Name])
				}
			}
			if !slices.Equal(names, tt.streams) {
				t.Errorf("streams %v, want %v", names, tt.streams)
			}
		})
	}
	if _, err := c.Streams(json.RawMessage(`{}`)); err == nil {
		t.Error("Streams accepted an empty config")
	}

	for _, cfg := range []Config{
		{BaseURL: "https://acme.zendesk.com", Email: "a@acme.example", Token: "super-secret", PageSize: 10},
		{BaseURL: "https://acme.zendesk.com", OAuthToken: "super-secret"},
	} {
		var logged strings.Builder
		slog.New(slog.NewTextHandler(&logged, nil)).Info("config", "config", cfg)
		if s := fmt.Sprint(cfg) + fmt.Sprintf("%v %+v %s %#v", cfg, cfg, cfg, cfg) + logged.String(); strings.Contains(s, "super-secret") {
			t.Errorf("printing or logging a config shows its secret: %s", s)
		}
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
