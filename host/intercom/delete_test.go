package intercom

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/ferryhq/ferry/host/intercom/sandbox"
)

// TestDeletes deletes one object of each kind from the sandbox (each
// request checked against the OpenAPI description), then again: the second
// delete is a 404 that IsNotFound tells apart.
func TestDeletes(t *testing.T) {
	e := newEnv(t, envConfig{})
	ctx := t.Context()
	e.sb.AddTicketType("Support request", "Customer", nil)
	fatal := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	ct, err := e.c.CreateContact(ctx, ContactRequest{Role: RoleUser, Email: "ann@example.com", ExternalID: "u1"})
	fatal(err)
	co, err := e.c.UpsertCompany(ctx, CompanyRequest{CompanyID: "o1", Name: "Acme"})
	fatal(err)
	msg, err := e.c.CreateConversation(ctx, CreateConversationRequest{From: ConversationFrom{Type: "user", ID: ct.ID}, Body: "Help", CreatedAt: 1_600_000_000})
	fatal(err)
	tk, err := e.c.CreateTicket(ctx, CreateTicketRequest{TicketTypeID: e.sb.Snapshot().TicketTypes[0].ID, Contacts: []TicketContact{{ID: ct.ID}},
		TicketAttributes: map[string]any{"_default_title_": "Hi"}})
	fatal(err)
	col, err := e.c.CreateCollection(ctx, CollectionRequest{Name: "General"})
	fatal(err)
	art, err := e.c.CreateArticle(ctx, ArticleRequest{Title: "Invoices", AuthorID: 7340001})
	fatal(err)

	// In the order undo deletes: the contact last but one, since its
	// delete takes its conversations.
	tests := []struct {
		object string
		id     string
		del    func(context.Context, string) (*Deleted, error)
	}{
		{"article", string(art.ID), e.c.DeleteArticle},
		{"collection", string(col.ID), e.c.DeleteCollection},
		{"conversation", msg.ConversationID, e.c.DeleteConversation},
		{"ticket", string(tk.ID), e.c.DeleteTicket},
		{"contact", ct.ID, e.c.DeleteContact},
		{"company", co.ID, e.c.DeleteCompany},
	}
	for _, tt := range tests {
		t.Run(tt.object, func(t *testing.T) {
			d, err := tt.del(ctx, tt.id)
			if err != nil {
				t.Fatalf("delete: %v", err)
			}
			if *d != (Deleted{ID: tt.id, Object: tt.object, Deleted: true}) {
				t.Errorf("delete answered %+v", *d)
			}
			_, err = tt.del(ctx, tt.id)
			if !IsNotFound(err) || StatusCode(err) != http.StatusNotFound {
				t.Errorf("second delete: %v; want a 404", err)
			}
		})
	}
	snap := e.sb.Snapshot()
	if n := len(snap.Contacts) + len(snap.Companies) + len(snap.Conversations) + len(snap.Tickets) + len(snap.Collections) + len(snap.Articles); n != 0 {
		t.Errorf("%d objects left in the sandbox", n)
	}
	if _, err := e.c.DeleteContact(ctx, ""); !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("delete with an empty id: %v, want ErrInvalidRequest", err)
	}
}

// TestDeleteRefused checks that a 403 api_plan_restricted comes back as an
// *Error with Intercom's code and message, and is not retried.
func TestDeleteRefused(t *testing.T) {
	e := newEnv(t, envConfig{sandbox: sandbox.Options{DeleteRestricted: []string{sandbox.KindConversation}}})
	ctx := t.Context()
	c, err := e.c.CreateContact(ctx, ContactRequest{Role: RoleUser, Email: "ann@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := e.c.CreateConversation(ctx, CreateConversationRequest{From: ConversationFrom{Type: "user", ID: c.ID}, Body: "Help"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.c.DeleteConversation(ctx, m.ConversationID)
	var ie *Error
	if !errors.As(err, &ie) || ie.StatusCode != http.StatusForbidden || !ie.HasCode("api_plan_restricted") || ie.Message() != "Active subscription needed." {
		t.Fatalf("restricted delete: %v", err)
	}
	if IsNotFound(err) {
		t.Error("a 403 reads as not found")
	}
	if n := e.sb.Stats().Endpoints["DELETE /conversations/{conversation_id}"].Requests; n != 1 {
		t.Errorf("the refused delete was sent %d times, want once", n)
	}
}
