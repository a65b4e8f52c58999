package intercom

import (
	"context"
	"fmt"
	"net/http"
)

// Intercom tickets: a migration's other target, for workspaces that work
// in tickets rather than conversations. A ticket has a type (with its
// attributes), one contact, and parts much like a conversation's.

// Default attributes every ticket type has.
const (
	TicketTitle       = "_default_title_"
	TicketDescription = "_default_description_"
)

// TicketTypeAttribute is one attribute of a ticket type.
type TicketTypeAttribute struct {
	ID       flexString `json:"id"`
	Name     string     `json:"name"`
	DataType string     `json:"data_type"`
	Archived bool       `json:"archived"`
}

// TicketType is a type of ticket and its attributes.
type TicketType struct {
	ID         flexString `json:"id"`
	Name       string     `json:"name"`
	Category   string     `json:"category"`
	Archived   bool       `json:"archived"`
	Attributes struct {
		List []TicketTypeAttribute `json:"ticket_type_attributes"`
	} `json:"ticket_type_attributes"`
}

// ListTicketTypes returns the workspace's ticket types.
func (c *Client) ListTicketTypes(ctx context.Context) ([]TicketType, error) {
	var out struct {
		Data []TicketType `json:"data"`
	}
	if err := c.do(ctx, request{method: http.MethodGet, template: "/ticket_types"}, &out); err != nil {
		return nil, fmt.Errorf("list ticket types: %w", err)
	}
	return out.Data, nil
}

// CreateTicketType creates a ticket type of category Customer, Back-office
// or Tracker.
func (c *Client) CreateTicketType(ctx context.Context, name, category, description string) (*TicketType, error) {
	body := map[string]any{"name": name, "category": category}
	if description != "" {
		body["description"] = description
	}
	var out TicketType
	if err := c.do(ctx, request{method: http.MethodPost, template: "/ticket_types", body: body}, &out); err != nil {
		return nil, fmt.Errorf("create ticket type %q: %w", name, err)
	}
	return &out, nil
}

// CreateTicketTypeAttribute adds an attribute to a ticket type: a type
// that takes a plain value (string, integer, decimal, boolean, datetime).
func (c *Client) CreateTicketTypeAttribute(ctx context.Context, typeID, name, dataType, description string) (*TicketTypeAttribute, error) {
	body := map[string]any{"name": name, "description": description, "data_type": dataType}
	var out TicketTypeAttribute
	r := request{method: http.MethodPost, template: "/ticket_types/{ticket_type_id}/attributes", params: []string{typeID}, body: body}
	if err := c.do(ctx, r, &out); err != nil {
		return nil, fmt.Errorf("create attribute %q of ticket type %s: %w", name, typeID, err)
	}
	return &out, nil
}

// TicketContact names a ticket's contact.
type TicketContact struct {
	ID string `json:"id"`
}

// TicketAssignment assigns a ticket on create.
type TicketAssignment struct {
	AdminAssigneeID string `json:"admin_assignee_id,omitempty"`
	TeamAssigneeID  string `json:"team_assignee_id,omitempty"`
}

// CreateTicketRequest is the body of POST /tickets. Intercom takes one
// contact; CreatedAt keeps the source's time.
type CreateTicketRequest struct {
	TicketTypeID      string            `json:"ticket_type_id"`
	Contacts          []TicketContact   `json:"contacts"`
	TicketAttributes  map[string]any    `json:"ticket_attributes,omitempty"`
	CreatedAt         int64             `json:"created_at,omitempty"`
	Assignment        *TicketAssignment `json:"assignment,omitempty"`
	SkipNotifications bool              `json:"skip_notifications,omitempty"`
}

// Ticket is an Intercom ticket. ID goes in paths; TicketID is the number
// people see in the inbox.
type Ticket struct {
	ID               flexString     `json:"id"`
	TicketID         flexString     `json:"ticket_id"`
	Open             bool           `json:"open"`
	SnoozedUntil     int64          `json:"snoozed_until,omitempty"`
	CreatedAt        int64          `json:"created_at"`
	AdminAssigneeID  flexString     `json:"admin_assignee_id"`
	TeamAssigneeID   flexString     `json:"team_assignee_id"`
	TicketAttributes map[string]any `json:"ticket_attributes"`
	Contacts         struct {
		Contacts []ContactReference `json:"contacts"`
	} `json:"contacts"`
	TicketState struct {
		Category string `json:"category"`
	} `json:"ticket_state"`
	Tags struct {
		Tags []Tag `json:"tags"`
	} `json:"tags"`
	TicketParts struct {
		TicketParts []ConversationPart `json:"ticket_parts"`
		TotalCount  int                `json:"total_count"`
	} `json:"ticket_parts"`
}

// CreateTicket creates a ticket. Creating it twice makes two: a lost answer
// is ErrOutcomeUnknown (look with SearchTickets).
func (c *Client) CreateTicket(ctx context.Context, in CreateTicketRequest) (*Ticket, error) {
	var out Ticket
	if err := c.do(ctx, request{method: http.MethodPost, template: "/tickets", body: in, create: true}, &out); err != nil {
		return nil, fmt.Errorf("create ticket: %w", err)
	}
	return &out, nil
}

// GetTicket returns a ticket with its (at most 500) parts.
func (c *Client) GetTicket(ctx context.Context, id string) (*Ticket, error) {
	var out Ticket
	if err := c.do(ctx, request{method: http.MethodGet, template: "/tickets/{ticket_id}", params: []string{id}}, &out); err != nil {
		return nil, fmt.Errorf("get ticket %s: %w", id, err)
	}
	return &out, nil
}

// ReplyTicket adds an admin or contact part (see ReplyRequest) and returns
// the part.
func (c *Client) ReplyTicket(ctx context.Context, id string, in ReplyRequest) (*ConversationPart, error) {
	if err := in.validate(); err != nil {
		return nil, fmt.Errorf("reply to ticket %s: %w", id, err)
	}
	var out ConversationPart
	r := request{method: http.MethodPost, template: "/tickets/{ticket_id}/reply", params: []string{id}, body: in, create: true}
	if err := c.do(ctx, r, &out); err != nil {
		return nil, fmt.Errorf("reply (%s %s) to ticket %s: %w", in.Type, in.MessageType, id, err)
	}
	return &out, nil
}

// UpdateTicketRequest is the body of PUT /tickets/{id}: the state changes
// a migration makes. AdminID, the admin acting, is an integer here (the
// 2.16 description says so, unlike most admin ids).
type UpdateTicketRequest struct {
	Open         *bool `json:"open,omitempty"`
	SnoozedUntil int64 `json:"snoozed_until,omitempty"`
	AdminID      int64 `json:"admin_id,omitempty"`
}

// UpdateTicket changes a ticket's state.
func (c *Client) UpdateTicket(ctx context.Context, id string, in UpdateTicketRequest) (*Ticket, error) {
	var out Ticket
	r := request{method: http.MethodPut, template: "/tickets/{ticket_id}", params: []string{id}, body: in}
	if err := c.do(ctx, r, &out); err != nil {
		return nil, fmt.Errorf("update ticket %s: %w", id, err)
	}
	return &out, nil
}

// TagTicket applies a tag to a ticket, as admin adminID.
func (c *Client) TagTicket(ctx context.Context, id, tagID, adminID string) error {
	r := request{method: http.MethodPost, template: "/tickets/{ticket_id}/tags", params: []string{id}, body: map[string]string{"id": tagID, "admin_id": adminID}}
	if err := c.do(ctx, r, nil); err != nil {
		return fmt.Errorf("tag ticket %s with %s: %w", id, tagID, err)
	}
	return nil
}

// SearchTickets returns the tickets whose field equals value, e.g.
// ("contact_ids", "<contact id>").
func (c *Client) SearchTickets(ctx context.Context, field, value, startingAfter string, perPage int) ([]Ticket, string, error) {
	var out struct {
		Tickets []Ticket     `json:"tickets"`
		Pages   *cursorPages `json:"pages"`
	}
	r := request{method: http.MethodPost, template: "/tickets/search", body: searchBody(field, value, startingAfter, perPage)}
	if err := c.do(ctx, r, &out); err != nil {
		return nil, "", fmt.Errorf("search tickets %s=%q: %w", field, value, err)
	}
	return out.Tickets, out.Pages.nextCursor(), nil
}
