package intercom

import (
	"context"
	"fmt"
	"net/http"
)

// Deletes: what `ferry undo` calls to take back what a migration created.
// Each is idempotent, so a failed call is retried like any idempotent
// write; an answer lost on the way means a retry finds the object gone.
//
// A 404 means Intercom does not have the object (any more): it was deleted
// before, by ferry or by someone else. Tell it with [IsNotFound]; callers
// that delete count it as gone, not as a failure. Intercom answers 404 for
// an id of the wrong kind too (a ticket id given to DeleteConversation).

// Deleted is Intercom's answer to a delete.
type Deleted struct {
	// ID is the deleted object's id, as given in the path.
	ID string
	// Object is its kind: conversation, ticket, contact, company,
	// collection or article.
	Object string
	// Deleted is what Intercom says: true once the delete was accepted
	// (a company is archived asynchronously after that).
	Deleted bool
}

// deletedWire decodes the answers of the six deletes: most say
// {id, object, deleted}; a contact's is a contact reference
// {type: contact, id, external_id, deleted}.
type deletedWire struct {
	ID      flexString `json:"id"`
	Object  string     `json:"object"`
	Type    string     `json:"type"`
	Deleted bool       `json:"deleted"`
}

// del sends DELETE template with id and decodes the answer; what names the
// kind in errors and fills Object when the answer does not.
func (c *Client) del(ctx context.Context, template, kind, id string) (*Deleted, error) {
	var out deletedWire
	if err := c.do(ctx, request{method: http.MethodDelete, template: template, params: []string{id}}, &out); err != nil {
		return nil, fmt.Errorf("delete %s %s: %w", kind, id, err)
	}
	d := &Deleted{ID: string(out.ID), Object: out.Object, Deleted: out.Deleted}
	if d.Object == "" {
		d.Object = out.Type
	}
	if d.Object == "" {
		d.Object = kind
	}
	if d.ID == "" {
		d.ID = id
	}
	return d, nil
}

// DeleteConversation deletes a conversation with all its parts, for good
// (DELETE /conversations/{id}). Intercom keeps its reporting data
// (retain_metrics, default true); a workspace whose plan does not include
// the endpoint answers 403 api_plan_restricted.
func (c *Client) DeleteConversation(ctx context.Context, id string) (*Deleted, error) {
	return c.del(ctx, "/conversations/{conversation_id}", "conversation", id)
}

// DeleteTicket deletes an Intercom ticket with its parts, for good
// (DELETE /tickets/{id}; id is the ticket's id, not the Inbox's ticket_id).
func (c *Client) DeleteTicket(ctx context.Context, id string) (*Deleted, error) {
	return c.del(ctx, "/tickets/{ticket_id}", "ticket", id)
}

// DeleteContact deletes a contact (DELETE /contacts/{id}). Intercom removes
// the contact's conversations with it.
func (c *Client) DeleteContact(ctx context.Context, id string) (*Deleted, error) {
	return c.del(ctx, "/contacts/{contact_id}", "contact", id)
}

// DeleteCompany deletes a company by its Intercom id (not the caller's
// company_id): Intercom archives it and detaches its contacts, which stay.
func (c *Client) DeleteCompany(ctx context.Context, id string) (*Deleted, error) {
	return c.del(ctx, "/companies/{company_id}", "company", id)
}

// DeleteCollection deletes a Help Center collection
// (DELETE /help_center/collections/{id}).
func (c *Client) DeleteCollection(ctx context.Context, id string) (*Deleted, error) {
	return c.del(ctx, "/help_center/collections/{collection_id}", "collection", id)
}

// DeleteArticle deletes a Help Center article (DELETE /articles/{id}).
func (c *Client) DeleteArticle(ctx context.Context, id string) (*Deleted, error) {
	return c.del(ctx, "/articles/{article_id}", "article", id)
}
