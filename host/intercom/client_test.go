package intercom

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferryhq/ferry/host/intercom/sandbox"
)

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		wantURL string
		wantErr string
	}{
		{name: "default region is us", opts: Options{Token: "t"}, wantURL: "https://api.intercom.io"},
		{name: "us", opts: Options{Token: "t", Region: "US"}, wantURL: "https://api.intercom.io"},
		{name: "eu", opts: Options{Token: "t", Region: "eu"}, wantURL: "https://api.eu.intercom.io"},
		{name: "au", opts: Options{Token: "t", Region: " au "}, wantURL: "https://api.au.intercom.io"},
		{name: "base URL wins over region", opts: Options{Token: "t", Region: "eu", BaseURL: "http://127.0.0.1:4321/"}, wantURL: "http://127.0.0.1:4321"},
		{name: "base URL keeps a prefix", opts: Options{Token: "t", BaseURL: "http://proxy.local/intercom"}, wantURL: "http://proxy.local/intercom"},
		{name: "unknown region", opts: Options{Token: "t", Region: "mars"}, wantErr: "unknown region"},
		{name: "no token", opts: Options{}, wantErr: "no token"},
		{name: "not http", opts: Options{Token: "t", BaseURL: "ftp://x"}, wantErr: "want http(s)"},
		{name: "no host", opts: Options{Token: "t", BaseURL: "http://"}, wantErr: "want http(s)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(tt.opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("New error = %v, want it to mention %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if c.BaseURL() != tt.wantURL {
				t.Errorf("BaseURL = %q, want %q", c.BaseURL(), tt.wantURL)
			}
		})
	}
}

func TestExpandPath(t *testing.T) {
	tests := []struct {
		tmpl    string
		params  []string
		want    string
		wantErr bool
	}{
		{"/contacts", nil, "/contacts", false},
		{"/contacts/{contact_id}", []string{"abc"}, "/contacts/abc", false},
		{"/contacts/{contact_id}/companies", []string{"a/b c"}, "/contacts/a%2Fb%20c/companies", false},
		{"/contacts/{contact_id}", []string{""}, "", true},
		{"/contacts/{contact_id}", nil, "", true},
		{"/contacts", []string{"extra"}, "", true},
	}
	for _, tt := range tests {
		got, err := expandPath(tt.tmpl, tt.params)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("expandPath(%q, %q) = %q, %v; want %q, err %v", tt.tmpl, tt.params, got, err, tt.want, tt.wantErr)
		}
		if err != nil && !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("error %v is not ErrInvalidRequest", err)
		}
	}
}

// TestRequestHeaders checks what every call sends, and that the token never
// reaches the logs even when calls fail and are retried.
func TestRequestHeaders(t *testing.T) {
	var (
		mu   sync.Mutex
		seen []http.Header
		n    int
	)
	var logs bytes.Buffer
	e := newEnv(t, envConfig{
		client: Options{Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))},
		wrap: func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				seen = append(seen, r.Header.Clone())
				n++
				fail := n == 1
				mu.Unlock()
				if fail {
					http.Error(w, "upstream hiccup", http.StatusBadGateway)
					return
				}
				next.ServeHTTP(w, r)
			})
		},
	})
	ctx := t.Context()
	if _, err := e.c.ListTeams(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.CreateTag(ctx, "vip"); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 3 {
		t.Fatalf("server saw %d requests, want 3 (one retried)", len(seen))
	}
	for i, h := range seen {
		want := map[string]string{
			"Authorization":    "Bearer " + testToken,
			"Accept":           "application/json",
			"Intercom-Version": "2.16",
		}
		for k, v := range want {
			if got := h.Get(k); got != v {
				t.Errorf("request %d: %s = %q, want %q", i, k, got, v)
			}
		}
	}
	if ct := seen[2].Get("Content-Type"); ct != "application/json" {
		t.Errorf("POST Content-Type = %q", ct)
	}
	if ct := seen[0].Get("Content-Type"); ct != "" {
		t.Errorf("GET sent Content-Type %q", ct)
	}
	if !strings.Contains(logs.String(), "retrying") {
		t.Errorf("the retry was not logged:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), testToken) {
		t.Errorf("the token appears in the logs:\n%s", logs.String())
	}
}

// TestTypedMethods runs every typed method against the sandbox, the way a
// migration uses them, and checks the results both through the API and in
// the sandbox's snapshot.
func TestTypedMethods(t *testing.T) {
	e := newEnv(t, envConfig{sandbox: sandbox.Options{Now: func() time.Time { return fixedNow }}})
	exerciseAll(t, e)
}

func exerciseAll(t *testing.T, e *env) {
	t.Helper()
	ctx := t.Context()
	c := e.c
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	defaults := sandbox.DefaultAdmins()

	// Admins and teams.
	me, err := c.Me(ctx)
	must(err)
	if me.ID != defaults[0].ID || me.App == nil || me.App.Region != "US" {
		t.Errorf("Me = %+v", me)
	}
	admins, err := c.ListAdmins(ctx)
	must(err)
	if len(admins) != 3 || admins[0].Email != defaults[0].Email || !slices.Equal([]string(admins[0].TeamIDs), defaults[0].TeamIDs) {
		t.Errorf("ListAdmins = %+v", admins)
	}
	teams, err := c.ListTeams(ctx)
	must(err)
	if len(teams) != 2 || teams[0].Name != "Support" || len(teams[0].AdminIDs) != 2 {
		t.Errorf("ListTeams = %+v", teams)
	}
	adminID, teamID := admins[1].ID, teams[1].ID

	// Custom attributes exist before values are written to them.
	for _, a := range []DataAttributeRequest{
		{Name: "tier", Model: ModelCompany, DataType: "string"},
		{Name: "plan", Model: ModelContact, DataType: "string"},
		{Name: "seats", Model: ModelContact, DataType: "integer", Description: "licensed seats"},
	} {
		_, err := c.CreateDataAttribute(ctx, a)
		must(err)
	}
	if _, err := c.CreateDataAttribute(ctx, DataAttributeRequest{Name: "plan", Model: ModelContact, DataType: "string"}); StatusCode(err) != http.StatusBadRequest {
		t.Errorf("a second attribute of the same name: %v, want a 400", err)
	}
	contactAttrs, err := c.ListDataAttributes(ctx, ModelContact)
	must(err)
	if len(contactAttrs) != 2 || contactAttrs[1].Name != "seats" || contactAttrs[1].DataType != "integer" || !contactAttrs[1].Custom {
		t.Errorf("ListDataAttributes(contact) = %+v", contactAttrs)
	}
	_, err = c.CreateConversationAttribute(ctx, "ticket_id", "string", "the help desk's ticket id")
	must(err)
	convAttrs, err := c.ListConversationAttributes(ctx)
	must(err)
	if len(convAttrs) != 1 || convAttrs[0].Name != "ticket_id" || convAttrs[0].ID == "" {
		t.Errorf("ListConversationAttributes = %+v", convAttrs)
	}

	// The Help Center: a collection in a collection, an article in it with
	// a translation.
	top, err := c.CreateCollection(ctx, CollectionRequest{Name: "General", Description: "All about it"})
	must(err)
	sub, err := c.CreateCollection(ctx, CollectionRequest{Name: "Billing", ParentID: string(top.ID)})
	must(err)
	admin, _ := strconv.ParseInt(adminID, 10, 64)
	parent, _ := strconv.ParseInt(string(sub.ID), 10, 64)
	art, err := c.CreateArticle(ctx, ArticleRequest{Title: "Invoices", Body: "<p>Pay</p>", AuthorID: admin, State: "published", ParentID: parent, ParentType: "collection",
		TranslatedContent: map[string]ArticleContent{"de": {Title: "Rechnungen", Body: "<p>Zahlen</p>", AuthorID: admin, State: "published"}}})
	must(err)
	if string(art.ParentID) != string(sub.ID) || art.State != "published" {
		t.Errorf("CreateArticle = %+v", art)
	}
	if _, err := c.CreateArticle(ctx, ArticleRequest{Title: "x", AuthorID: 1}); StatusCode(err) != http.StatusBadRequest {
		t.Errorf("an article by no teammate: %v, want a 400", err)
	}
	cols, more, err := c.ListCollections(ctx, 1, 1)
	must(err)
	if len(cols) != 1 || cols[0].Name != "Billing" || !more || string(cols[0].ParentID) != string(top.ID) {
		t.Errorf("ListCollections page 1 of 1 = %+v, more %v", cols, more)
	}
	arts, more, err := c.ListArticles(ctx, 1, 0)
	must(err)
	if len(arts) != 1 || arts[0].Title != "Invoices" || more {
		t.Errorf("ListArticles = %+v, more %v", arts, more)
	}

	// Companies: upsert twice, invisible until a contact is attached.
	co, err := c.UpsertCompany(ctx, CompanyRequest{CompanyID: "org-1", Name: "Acme", RemoteCreatedAt: 1_500_000_000,
		Plan: "Pro", Size: 20, Website: "https://acme.example", Industry: "Rockets", CustomAttributes: map[string]any{"tier": "gold"}})
	must(err)
	co2, err := c.UpsertCompany(ctx, CompanyRequest{CompanyID: "org-1", Name: "Acme Inc"})
	must(err)
	if co2.ID != co.ID || co2.Name != "Acme Inc" || co2.RemoteCreatedAt != 1_500_000_000 || co2.Plan == nil || co2.Plan.Name != "Pro" {
		t.Errorf("upsert did not update in place: %+v then %+v", co, co2)
	}
	if page, err := c.ListCompanies(ctx, 1, 10); err != nil || len(page.Companies) != 0 {
		t.Errorf("ListCompanies before any contact = %+v, %v; want none visible", page, err)
	}
	found, err := c.GetCompanyByCompanyID(ctx, "org-1")
	must(err)
	if found.ID != co.ID {
		t.Errorf("GetCompanyByCompanyID = %+v", found)
	}
	if _, err := c.GetCompanyByCompanyID(ctx, "nope"); !IsNotFound(err) {
		t.Errorf("GetCompanyByCompanyID(nope) = %v, want 404", err)
	}

	// Contacts: create, duplicate → 409 with the id, update, get, list, search.
	unsub := true
	ann, err := c.CreateContact(ctx, ContactRequest{Role: RoleUser, ExternalID: "zd-1", Email: "Ann@Example.com", Name: "Ann",
		Phone: "+15551234567", SignedUpAt: 1_400_000_000, LastSeenAt: 1_450_000_000, OwnerID: adminID,
		CustomAttributes: map[string]any{"plan": "pro"}, UnsubscribedFromEmails: &unsub})
	must(err)
	if ann.CreatedAt != fixedNow.Unix() || ann.SignedUpAt != 1_400_000_000 || ann.OwnerID != adminID || !ann.UnsubscribedFromEmails {
		t.Errorf("created contact = %+v", ann)
	}
	_, err = c.CreateContact(ctx, ContactRequest{Email: "ann@example.com"})
	if id, ok := ExistingContactID(err); !ok || id != ann.ID {
		t.Errorf("duplicate create: err %v, ExistingContactID = %q, %v; want %q", err, id, ok, ann.ID)
	}
	upd, err := c.UpdateContact(ctx, ann.ID, ContactRequest{Name: "Ann Smith", CustomAttributes: map[string]any{"seats": 3}})
	must(err)
	if upd.Name != "Ann Smith" || upd.CustomAttributes["plan"] != "pro" || upd.CustomAttributes["seats"] != float64(3) {
		t.Errorf("updated contact = %+v", upd)
	}
	got, err := c.GetContact(ctx, ann.ID)
	must(err)
	if got.Name != "Ann Smith" || got.ExternalID != "zd-1" {
		t.Errorf("GetContact = %+v", got)
	}
	if _, err := c.GetContact(ctx, "000000000000000000000000"); !IsNotFound(err) {
		t.Errorf("GetContact(unknown) = %v, want 404", err)
	}
	lead, err := c.CreateContact(ctx, ContactRequest{Role: RoleLead, Name: "Visitor"})
	must(err)
	bob, err := c.CreateContact(ctx, ContactRequest{ExternalID: "zd-2", Email: "bob@example.com", Name: "Bob"})
	must(err)

	var listed []string
	for cursor := ""; ; {
		page, err := c.ListContacts(ctx, cursor, 2)
		must(err)
		if page.TotalCount != 3 {
			t.Errorf("TotalCount = %d", page.TotalCount)
		}
		for _, ct := range page.Contacts {
			listed = append(listed, ct.ID)
		}
		if cursor = page.Next; cursor == "" {
			break
		}
	}
	if !slices.Equal(listed, []string{ann.ID, lead.ID, bob.ID}) {
		t.Errorf("ListContacts walked %v", listed)
	}
	res, err := c.SearchContacts(ctx, "external_id", "zd-2", "", 0)
	must(err)
	if len(res.Contacts) != 1 || res.Contacts[0].ID != bob.ID {
		t.Errorf("SearchContacts = %+v", res)
	}
	res, err = c.SearchContacts(ctx, "email", "ANN@example.com", "", 10)
	must(err)
	if len(res.Contacts) != 1 || res.Contacts[0].ID != ann.ID {
		t.Errorf("SearchContacts by email = %+v", res)
	}

	// Company links make the company visible and count users.
	attached, err := c.AttachContactToCompany(ctx, ann.ID, co.ID)
	must(err)
	if attached.UserCount != 1 {
		t.Errorf("user_count after attach = %d", attached.UserCount)
	}
	if _, err := c.AttachContactToCompany(ctx, ann.ID, "ffffffffffffffffffffffff"); StatusCode(err) != 404 {
		t.Errorf("attach to unknown company = %v, want 404", err)
	}
	cos, err := c.ListContactCompanies(ctx, ann.ID)
	must(err)
	if len(cos) != 1 || cos[0].CompanyID != "org-1" {
		t.Errorf("ListContactCompanies = %+v", cos)
	}
	page, err := c.ListCompanies(ctx, 1, 10)
	must(err)
	if len(page.Companies) != 1 || page.TotalPages != 1 {
		t.Errorf("ListCompanies after attach = %+v", page)
	}

	// A conversation with history: created_at and part order are kept.
	msg, err := c.CreateConversation(ctx, CreateConversationRequest{
		From: ConversationFrom{Type: "user", ID: ann.ID}, Body: "The printer is on fire", CreatedAt: 1_600_000_000,
		AttachmentURLs: []string{"https://files.example/fire.png"},
	})
	must(err)
	if msg.Type != "user_message" || msg.ConversationID == "" || msg.CreatedAt != 1_600_000_000 {
		t.Errorf("CreateConversation = %+v", msg)
	}
	conv := msg.ConversationID
	replies := []ReplyRequest{
		{Type: "admin", AdminID: adminID, MessageType: MessageComment, Body: "Have you tried water?", CreatedAt: 1_600_000_100, SkipNotifications: true},
		{Type: "admin", AdminID: adminID, MessageType: MessageNote, Body: "<p>escalate</p>", CreatedAt: 1_600_000_200},
		{Type: "user", IntercomUserID: ann.ID, Body: "It worked", CreatedAt: 1_600_000_300, AttachmentURLs: []string{"https://files.example/ok.jpg"}},
		{Type: "user", UserID: "zd-2", Body: "Me too", CreatedAt: 1_600_000_400},
		{Type: "user", Email: "ann@example.com", Body: "Thanks", CreatedAt: 1_600_000_500},
	}
	var made []string
	for _, r := range replies {
		id, err := c.ReplyConversation(ctx, conv, r)
		must(err)
		made = append(made, id)
	}
	// Each reply answers the id of the part it made.
	thread, err := c.GetConversation(ctx, conv)
	must(err)
	var stored []string
	for _, p := range thread.ConversationParts.ConversationParts {
		stored = append(stored, p.ID)
	}
	if !slices.Equal(made, stored) || slices.Contains(made, "") {
		t.Errorf("replies answered parts %v, the conversation has %v", made, stored)
	}
	if _, err := c.ReplyConversation(ctx, conv, ReplyRequest{Type: "admin", AdminID: "999", Body: "x"}); !IsNotFound(err) {
		t.Errorf("reply by unknown admin = %v, want 404", err)
	}
	actions := []ManageRequest{
		{MessageType: ManageAssign, AdminID: adminID, AssigneeID: adminID},
		{MessageType: ManageAssign, Type: "team", AdminID: adminID, AssigneeID: teamID},
		{MessageType: ManageSnooze, AdminID: adminID, SnoozedUntil: fixedNow.Add(time.Hour).Unix()},
		{MessageType: ManageOpen, AdminID: adminID},
		{MessageType: ManageClose, AdminID: adminID, Body: "Resolved"},
	}
	for _, a := range actions {
		err := c.ManageConversation(ctx, conv, a)
		must(err)
	}
	read := true
	err = c.UpdateConversation(ctx, conv, UpdateConversationRequest{Title: "Printer fire", CustomAttributes: map[string]any{"ticket_id": "ZD-77"}, Read: &read})
	must(err)

	tag, err := c.CreateTag(ctx, "Migrated")
	must(err)
	again, err := c.CreateTag(ctx, "migrated")
	must(err)
	if again.ID != tag.ID {
		t.Errorf("CreateTag is not create-or-return: %+v then %+v", tag, again)
	}
	tags, err := c.ListTags(ctx)
	must(err)
	if len(tags) != 1 || tags[0].Name != "Migrated" {
		t.Errorf("ListTags = %+v", tags)
	}
	applied, err := c.TagConversation(ctx, conv, tag.ID, adminID)
	must(err)
	if applied.AppliedBy == nil || applied.AppliedBy.ID != adminID || applied.AppliedAt == 0 {
		t.Errorf("TagConversation = %+v", applied)
	}
	_, err = c.TagContact(ctx, ann.ID, tag.ID)
	must(err)

	// Tickets: a type with an attribute, a ticket, parts, a tag, closed.
	tt, err := c.CreateTicketType(ctx, "Support request", "Customer", "migrated tickets")
	must(err)
	_, err = c.CreateTicketTypeAttribute(ctx, string(tt.ID), "Order number", "integer", "the order")
	must(err)
	types, err := c.ListTicketTypes(ctx)
	must(err)
	if len(types) != 1 || len(types[0].Attributes.List) != 3 || types[0].Attributes.List[2].DataType != "integer" {
		t.Errorf("ListTicketTypes = %+v", types)
	}
	tk, err := c.CreateTicket(ctx, CreateTicketRequest{TicketTypeID: string(tt.ID), Contacts: []TicketContact{{ID: ann.ID}},
		TicketAttributes: map[string]any{TicketTitle: "Printer", TicketDescription: "It burns", "Order number": 42},
		CreatedAt:        1_600_000_000, Assignment: &TicketAssignment{AdminAssigneeID: adminID, TeamAssigneeID: teamID}, SkipNotifications: true})
	must(err)
	part, err := c.ReplyTicket(ctx, string(tk.ID), ReplyRequest{Type: "admin", AdminID: adminID, MessageType: MessageNote, Body: "<p>looking</p>", CreatedAt: 1_600_000_100, SkipNotifications: true})
	must(err)
	if part.ID == "" || part.CreatedAt != 1_600_000_100 {
		t.Errorf("ReplyTicket = %+v", part)
	}
	_, err = c.ReplyTicket(ctx, string(tk.ID), ReplyRequest{Type: "user", IntercomUserID: ann.ID, MessageType: MessageComment, Body: "thanks", CreatedAt: 1_600_000_200})
	must(err)
	must(c.TagTicket(ctx, string(tk.ID), tag.ID, adminID))
	closed := false
	_, err = c.UpdateTicket(ctx, string(tk.ID), UpdateTicketRequest{Open: &closed, AdminID: admin})
	must(err)
	gotTicket, err := c.GetTicket(ctx, string(tk.ID))
	must(err)
	if gotTicket.Open || gotTicket.TicketState.Category != "resolved" || len(gotTicket.TicketParts.TicketParts) != 2 || gotTicket.CreatedAt != 1_600_000_000 ||
		string(gotTicket.AdminAssigneeID) != adminID || len(gotTicket.Tags.Tags) != 1 || gotTicket.TicketAttributes["Order number"] != float64(42) {
		t.Errorf("GetTicket = %+v", gotTicket)
	}
	foundTickets, _, err := c.SearchTickets(ctx, "contact_ids", ann.ID, "", 0)
	must(err)
	if len(foundTickets) != 1 || foundTickets[0].ID != tk.ID {
		t.Errorf("SearchTickets = %+v", foundTickets)
	}
	if _, err := c.CreateTicket(ctx, CreateTicketRequest{TicketTypeID: string(tt.ID), Contacts: []TicketContact{{ID: ann.ID}},
		TicketAttributes: map[string]any{"Order number": "many"}}); StatusCode(err) != http.StatusBadRequest {
		t.Errorf("a ticket attribute of another type: %v, want a 400", err)
	}

	cv, err := c.GetConversation(ctx, conv)
	must(err)
	wantParts := []struct {
		typ, author string
		at          int64
	}{
		{"comment", adminID, 1_600_000_100}, {"note", adminID, 1_600_000_200}, {"comment", ann.ID, 1_600_000_300},
		{"comment", bob.ID, 1_600_000_400}, {"comment", ann.ID, 1_600_000_500},
		{"assignment", adminID, fixedNow.Unix()}, {"assignment", adminID, fixedNow.Unix()}, {"snoozed", adminID, fixedNow.Unix()},
		{"open", adminID, fixedNow.Unix()}, {"close", adminID, fixedNow.Unix()},
	}
	parts := cv.ConversationParts.ConversationParts
	if len(parts) != len(wantParts) {
		t.Fatalf("%d parts, want %d: %+v", len(parts), len(wantParts), parts)
	}
	for i, w := range wantParts {
		p := parts[i]
		if p.PartType != w.typ || p.Author.ID != w.author || p.CreatedAt != w.at {
			t.Errorf("part %d = %s by %s at %d, want %s by %s at %d", i, p.PartType, p.Author.ID, p.CreatedAt, w.typ, w.author, w.at)
		}
	}
	if len(parts[2].Attachments) != 1 || parts[2].Attachments[0].URL != "https://files.example/ok.jpg" {
		t.Errorf("attachments of part 2 = %+v", parts[2].Attachments)
	}
	if cv.State != "closed" || cv.Open || cv.AdminAssigneeID != adminID || cv.TeamAssigneeID != teamID ||
		cv.Title != "Printer fire" || cv.CustomAttributes["ticket_id"] != "ZD-77" || !cv.Read || cv.CreatedAt != 1_600_000_000 {
		t.Errorf("conversation = state %s open %v admin %q team %q title %q attrs %v read %v created %d",
			cv.State, cv.Open, cv.AdminAssigneeID, cv.TeamAssigneeID, cv.Title, cv.CustomAttributes, cv.Read, cv.CreatedAt)
	}
	if cv.Source.Body != "<p>The printer is on fire</p>" || cv.Source.Author.ID != ann.ID || len(cv.Source.Attachments) != 1 {
		t.Errorf("source = %+v", cv.Source)
	}
	if len(cv.Tags.Tags) != 1 || cv.Tags.Tags[0].ID != tag.ID {
		t.Errorf("conversation tags = %+v", cv.Tags)
	}
	if len(cv.Contacts.Contacts) != 2 {
		t.Errorf("contacts = %+v (the second user reply should have joined bob)", cv.Contacts)
	}

	// A second conversation, then the list in two pages.
	msg2, err := c.CreateConversation(ctx, CreateConversationRequest{From: ConversationFrom{Type: "lead", ID: lead.ID}, Body: "hello"})
	must(err)
	first, err := c.ListConversations(ctx, "", 1)
	must(err)
	second, err := c.ListConversations(ctx, first.Next, 1)
	must(err)
	if len(first.Conversations) != 1 || len(second.Conversations) != 1 || second.Next != "" ||
		first.Conversations[0].ID != conv || second.Conversations[0].ID != msg2.ConversationID || first.TotalCount != 2 {
		t.Errorf("ListConversations pages = %+v / %+v", first, second)
	}

	// What the sandbox holds, without HTTP.
	snap := e.sb.Snapshot()
	sc, ok := snap.Conversation(conv)
	if !ok || len(sc.Parts) != len(wantParts) || !sc.Parts[0].SkipNotifications || sc.Parts[1].SkipNotifications {
		t.Errorf("snapshot conversation = %+v", sc)
	}
	if ct, ok := snap.Contact(ann.ID); !ok || !slices.Equal(ct.CompanyIDs, []string{co.ID}) || !slices.Equal(ct.TagIDs, []string{tag.ID}) {
		t.Errorf("snapshot contact = %+v", ct)
	}
	if len(snap.Companies) != 1 || snap.Companies[0].UserCount != 1 {
		t.Errorf("snapshot companies = %+v", snap.Companies)
	}

	st := c.Stats()
	if st.Calls == 0 || st.ByEndpoint["POST /conversations/{conversation_id}/reply"].Calls != int64(len(replies)+1) {
		t.Errorf("client stats = %+v", st)
	}
	if st.Failed != 8 { // 400 attribute in use, 400 article author, 400 ticket attribute, 409, 404 contact, 404 company lookup, 404 attach, 404 admin reply
		t.Errorf("Failed = %d, want 8", st.Failed)
	}
}

// TestInvalidRequestsAreNotSent checks the client refuses what the API's
// schemas would reject, before any call.
func TestInvalidRequestsAreNotSent(t *testing.T) {
	e := newEnv(t, envConfig{})
	ctx := t.Context()
	tooMany := make([]string, 11)
	for i := range tooMany {
		tooMany[i] = fmt.Sprintf("https://files.example/%d.png", i)
	}
	tests := []struct {
		name string
		call func() error
	}{
		{"empty contact id", func() error { _, err := e.c.GetContact(ctx, ""); return err }},
		{"reply without type", func() error { _, err := e.c.ReplyConversation(ctx, "1", ReplyRequest{Body: "x"}); return err }},
		{"admin reply without admin", func() error {
			_, err := e.c.ReplyConversation(ctx, "1", ReplyRequest{Type: "admin", Body: "x"})
			return err
		}},
		{"user reply naming two contacts", func() error {
			_, err := e.c.ReplyConversation(ctx, "1", ReplyRequest{Type: "user", Email: "a@b.c", UserID: "u1", Body: "x"})
			return err
		}},
		{"user note", func() error {
			_, err := e.c.ReplyConversation(ctx, "1", ReplyRequest{Type: "user", UserID: "u1", MessageType: MessageNote, Body: "x"})
			return err
		}},
		{"reply without body", func() error {
			_, err := e.c.ReplyConversation(ctx, "1", ReplyRequest{Type: "admin", AdminID: "1"})
			return err
		}},
		{"too many attachments", func() error {
			_, err := e.c.ReplyConversation(ctx, "1", ReplyRequest{Type: "admin", AdminID: "1", Body: "x", AttachmentURLs: tooMany})
			return err
		}},
		{"conversation with too many attachments", func() error {
			_, err := e.c.CreateConversation(ctx, CreateConversationRequest{From: ConversationFrom{Type: "user", ID: "x"}, Body: "x", AttachmentURLs: tooMany})
			return err
		}},
		{"snooze without time", func() error {
			err := e.c.ManageConversation(ctx, "1", ManageRequest{MessageType: ManageSnooze, AdminID: "1"})
			return err
		}},
		{"assignment without assignee", func() error {
			err := e.c.ManageConversation(ctx, "1", ManageRequest{MessageType: ManageAssign, AdminID: "1"})
			return err
		}},
		{"unknown action", func() error {
			err := e.c.ManageConversation(ctx, "1", ManageRequest{MessageType: "delete", AdminID: "1"})
			return err
		}},
		{"company without company_id", func() error { _, err := e.c.GetCompanyByCompanyID(ctx, ""); return err }},
		{"tag conversation without admin", func() error { _, err := e.c.TagConversation(ctx, "1", "2", ""); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); !errors.Is(err, ErrInvalidRequest) {
				t.Errorf("err = %v, want ErrInvalidRequest", err)
			}
		})
	}
	if n := e.sb.Stats().Requests; n != 0 {
		t.Errorf("the sandbox received %d requests, want none", n)
	}
}

// TestAPIErrors checks errors the sandbox returns surface as *Error with
// Intercom's codes.
func TestAPIErrors(t *testing.T) {
	e := newEnv(t, envConfig{noSpec: true})
	ctx := t.Context()
	bad, err := New(Options{BaseURL: e.srv.URL, Token: "wrong", HTTPClient: e.srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		call       func() error
		wantStatus int
		wantCode   string
	}{
		{"bad token", func() error { _, err := bad.Me(ctx); return err }, 401, "unauthorized"},
		{"contact without identifiers", func() error { _, err := e.c.CreateContact(ctx, ContactRequest{}); return err }, 400, "parameter_invalid"},
		{"conversation from unknown contact", func() error {
			_, err := e.c.CreateConversation(ctx, CreateConversationRequest{From: ConversationFrom{Type: "user", ID: "000000000000000000000000"}, Body: "hi"})
			return err
		}, 404, "not_found"},
		{"unknown conversation", func() error { _, err := e.c.GetConversation(ctx, "123456"); return err }, 404, "not_found"},
		{"tag unknown conversation", func() error { _, err := e.c.TagConversation(ctx, "123456", "1", "7340001"); return err }, 404, "not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			var ie *Error
			if !errors.As(err, &ie) {
				t.Fatalf("err = %v, want *Error", err)
			}
			if ie.StatusCode != tt.wantStatus || ie.Code() != tt.wantCode || ie.RequestID == "" {
				t.Errorf("got %d %q (request_id %q), want %d %q", ie.StatusCode, ie.Code(), ie.RequestID, tt.wantStatus, tt.wantCode)
			}
		})
	}
	if st := bad.Stats(); st.Retries != 0 || st.Failed != 1 {
		t.Errorf("a 401 must not be retried: %+v", st)
	}
}

// TestContextCancel checks a cancelled context ends a call at once, both
// while the request is in flight and while waiting to retry.
func TestContextCancel(t *testing.T) {
	t.Run("in flight", func(t *testing.T) {
		e := newEnv(t, envConfig{sandbox: sandbox.Options{Latency: 5 * time.Second}})
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := e.c.ListTags(ctx)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want DeadlineExceeded", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("took %v", d)
		}
	})
	t.Run("waiting to retry", func(t *testing.T) {
		e := newEnv(t, envConfig{wrap: func(http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", "30")
				http.Error(w, "busy", http.StatusServiceUnavailable)
			})
		}})
		ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := e.c.ListTags(ctx)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want DeadlineExceeded", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("took %v", d)
		}
	})
}

func TestSearchConversations(t *testing.T) {
	e := newEnv(t, envConfig{})
	ctx := t.Context()
	var contacts []string
	for _, email := range []string{"a@example.com", "b@example.com"} {
		c, err := e.c.CreateContact(ctx, ContactRequest{Role: RoleUser, Email: email})
		if err != nil {
			t.Fatal(err)
		}
		contacts = append(contacts, c.ID)
	}
	for i := range 3 {
		if _, err := e.c.CreateConversation(ctx, CreateConversationRequest{From: ConversationFrom{Type: RoleUser, ID: contacts[0]}, Body: "hello", CreatedAt: int64(1700000000 + i)}); err != nil {
			t.Fatal(err)
		}
	}
	var got []int64
	cursor := ""
	for {
		page, err := e.c.SearchConversations(ctx, "contact_ids", contacts[0], cursor, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range page.Conversations {
			if c.Source.Author.ID != contacts[0] {
				t.Errorf("conversation %s is by %s", c.ID, c.Source.Author.ID)
			}
			got = append(got, c.CreatedAt)
		}
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}
	if len(got) != 3 {
		t.Errorf("found %v, want the 3 conversations of the contact", got)
	}
	page, err := e.c.SearchConversations(ctx, "contact_ids", contacts[1], "", 0)
	if err != nil || len(page.Conversations) != 0 {
		t.Errorf("the other contact's search: %v, %v", page.Conversations, err)
	}
	if _, err := e.c.SearchConversations(ctx, "no_such_field", "x", "", 0); StatusCode(err) != http.StatusBadRequest {
		t.Errorf("a search on an unknown field: %v, want a 400", err)
	}
}

func TestAddParticipant(t *testing.T) {
	e := newEnv(t, envConfig{})
	ctx := t.Context()
	me, err := e.c.Me(ctx)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := e.c.CreateContact(ctx, ContactRequest{Role: RoleUser, Email: "a@example.com"})
	b, _ := e.c.CreateContact(ctx, ContactRequest{Role: RoleUser, Email: "b@example.com"})
	msg, err := e.c.CreateConversation(ctx, CreateConversationRequest{From: ConversationFrom{Type: RoleUser, ID: a.ID}, Body: "hello"})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second time changes nothing
		conv, err := e.c.AddParticipant(ctx, msg.ConversationID, me.ID, b.ID)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, c := range conv.Contacts.Contacts {
			ids = append(ids, c.ID)
		}
		if fmt.Sprint(ids) != fmt.Sprint([]string{a.ID, b.ID}) {
			t.Errorf("participants %v, want %s and %s", ids, a.ID, b.ID)
		}
	}
	if _, err := e.c.AddParticipant(ctx, msg.ConversationID, me.ID, strings.Repeat("f", 24)); StatusCode(err) != http.StatusNotFound {
		t.Errorf("an unknown contact: %v, want a 404", err)
	}
}

// TestReplyAnswerWithoutParts: a reply answered 2xx was made, so an answer
// that names no part is an unknown outcome (the loader reads the
// conversation back), never a plain failure that a rerun would send again.
func TestReplyAnswerWithoutParts(t *testing.T) {
	e := newEnv(t, envConfig{wrap: func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/reply") {
				w.Header().Set("Content-Type", "application/json")
				io.WriteString(w, `{"type":"conversation","id":"1","conversation_parts":{"type":"conversation_part.list","conversation_parts":[],"total_count":0}}`)
				return
			}
			next.ServeHTTP(w, r)
		})
	}})
	_, err := e.c.ReplyConversation(t.Context(), "1", ReplyRequest{Type: "admin", AdminID: "1", MessageType: MessageNote, Body: "x"})
	if !errors.Is(err, ErrOutcomeUnknown) {
		t.Errorf("reply answered without parts: %v, want ErrOutcomeUnknown", err)
	}
}
