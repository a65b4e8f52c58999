package sandbox_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/ferryhq/ferry/host/intercom/sandbox"
)

// TestDeletes deletes one object of each kind and checks Intercom's answer,
// what went with it and what stayed, and the 404 of a second delete.
func TestDeletes(t *testing.T) {
	a := newAPI(t, sandbox.Options{})
	a.sb.AddTicketType("Support request", "Customer", nil)
	typeID := a.sb.Snapshot().TicketTypes[0].ID

	// Ann started a conversation, takes part in Bob's, has a ticket and a company.
	company := a.must("POST", "/companies", map[string]any{"company_id": "org-1", "name": "Acme"}).str("id")
	ann, annConv := newConversation(a, 1_600_000_000)
	bob, bobConv := newConversation(a, 1_600_000_100)
	a.must("POST", "/contacts/"+ann+"/companies", map[string]any{"id": company})
	a.must("POST", "/contacts/"+bob+"/companies", map[string]any{"id": company})
	a.must("POST", "/conversations/"+bobConv+"/customers", map[string]any{
		"admin_id": sandbox.DefaultAdmins()[0].ID, "customer": map[string]any{"intercom_user_id": ann}})
	annTicket := a.must("POST", "/tickets", map[string]any{"ticket_type_id": typeID, "contacts": []any{map[string]any{"id": ann}}}).str("id")
	bobTicket := a.must("POST", "/tickets", map[string]any{"ticket_type_id": typeID, "contacts": []any{map[string]any{"id": bob}}}).str("id")
	_, lone := newConversation(a, 1_600_000_200)

	// Help Center: General > Billing > Invoices (an article), and a loose one.
	general := a.must("POST", "/help_center/collections", map[string]any{"name": "General"}).str("id")
	billing := a.must("POST", "/help_center/collections", map[string]any{"name": "Billing", "parent_id": general}).str("id")
	other := a.must("POST", "/help_center/collections", map[string]any{"name": "Other"}).str("id")
	admin := sandbox.DefaultAdmins()[0].ID
	invoices := a.must("POST", "/articles", map[string]any{"title": "Invoices", "author_id": json.Number(admin), "parent_id": json.Number(billing)}).str("id")
	loose := a.must("POST", "/articles", map[string]any{"title": "Loose", "author_id": json.Number(admin)}).str("id")

	del := func(path, object, id string) {
		t.Helper()
		r := a.must("DELETE", path, nil)
		if r.str("id") != id || r.body["deleted"] != true {
			t.Errorf("DELETE %s = %v, want id %s deleted", path, r.body, id)
		}
		if object != "" && r.str("object") != object {
			t.Errorf("DELETE %s: object %q, want %q", path, r.str("object"), object)
		}
	}

	del("/conversations/"+lone+"?retain_metrics=true", "conversation", lone)
	del("/tickets/"+bobTicket, "ticket", bobTicket)
	snap := a.sb.Snapshot()
	if _, ok := snap.Conversation(lone); ok || len(snap.Tickets) != 1 {
		t.Errorf("after deleting a conversation and a ticket: %d conversations, %d tickets", len(snap.Conversations), len(snap.Tickets))
	}

	// A contact's delete answers with a contact reference, and takes the
	// conversations it started and its tickets.
	r := a.must("DELETE", "/contacts/"+ann, nil)
	if r.str("type") != "contact" || r.str("id") != ann || r.str("external_id") != "ext-1600000000" || r.body["deleted"] != true {
		t.Errorf("DELETE /contacts/%s = %v", ann, r.body)
	}
	snap = a.sb.Snapshot()
	if _, ok := snap.Contact(ann); ok {
		t.Error("the contact is still there")
	}
	if _, ok := snap.Conversation(annConv); ok {
		t.Error("the conversation the contact started is still there")
	}
	if c, ok := snap.Conversation(bobConv); !ok || slices.Contains(c.ContactIDs, ann) || !slices.Contains(c.ContactIDs, bob) {
		t.Errorf("the conversation the contact took part in: %v %v; want it kept, without the contact", ok, c.ContactIDs)
	}
	if len(snap.Tickets) != 0 {
		t.Errorf("%d tickets: the contact's ticket %s stayed", len(snap.Tickets), annTicket)
	}
	if len(snap.Companies) != 1 || snap.Companies[0].UserCount != 1 {
		t.Errorf("companies %+v: want the company kept with one contact", snap.Companies)
	}

	// A company is detached from its contacts, which stay.
	del("/companies/"+company, "company", company)
	snap = a.sb.Snapshot()
	if c, ok := snap.Contact(bob); len(snap.Companies) != 0 || !ok || len(c.CompanyIDs) != 0 {
		t.Errorf("after deleting the company: %d companies, contact %v with companies %v", len(snap.Companies), ok, c.CompanyIDs)
	}

	// A collection goes with the collections in it; articles stay, loose.
	del("/help_center/collections/"+general, "collection", general)
	snap = a.sb.Snapshot()
	if len(snap.Collections) != 1 || snap.Collections[0].ID != other {
		t.Errorf("collections left: %+v, want only %s", snap.Collections, other)
	}
	if len(snap.Articles) != 2 || snap.Articles[0].ID != invoices || snap.Articles[0].ParentID != "" {
		t.Errorf("articles: %+v, want %s kept outside any collection", snap.Articles, invoices)
	}
	del("/articles/"+loose, "article", loose)
	if snap = a.sb.Snapshot(); len(snap.Articles) != 1 {
		t.Errorf("%d articles after deleting one of two", len(snap.Articles))
	}

	// What is gone is a 404, in each endpoint's shape.
	gone := []struct{ path, code string }{
		{"/conversations/" + lone, "not_found"},
		{"/conversations/not-a-number", "not_found"},
		{"/tickets/" + bobTicket, "ticket_not_found"},
		{"/contacts/" + ann, "not_found"},
		{"/companies/" + company, "company_not_found"},
		{"/help_center/collections/" + billing, "not_found"},
		{"/articles/" + loose, "not_found"},
	}
	for _, g := range gone {
		if r := a.call("DELETE", g.path, nil); r.status != 404 || r.code() != g.code {
			t.Errorf("DELETE %s again: %d %s, want 404 %s", g.path, r.status, r.code(), g.code)
		}
	}
}

// TestDeleteRestricted makes the deletes of one kind answer 403
// api_plan_restricted and checks that they change nothing.
func TestDeleteRestricted(t *testing.T) {
	a := newAPI(t, sandbox.Options{DeleteRestricted: []string{sandbox.KindConversation}})
	contact, conv := newConversation(a, 1_600_000_000)
	r := a.call("DELETE", "/conversations/"+conv, nil)
	if r.status != 403 || r.code() != "api_plan_restricted" || r.message() != "Active subscription needed." {
		t.Errorf("restricted delete: %d %s %q", r.status, r.code(), r.message())
	}
	if _, ok := a.sb.Snapshot().Conversation(conv); !ok {
		t.Error("a refused delete removed the conversation")
	}
	// Other kinds are not restricted.
	a.must("DELETE", "/contacts/"+contact, nil)
}
