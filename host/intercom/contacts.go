package intercom

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// Contact roles.
const (
	RoleUser = "user"
	RoleLead = "lead"
)

// ContactRequest is the body of POST /contacts and PUT /contacts/{id}.
// Create needs at least one of Email, ExternalID or Role. Empty fields are
// left out, so an update changes only what is set (it cannot clear a field).
type ContactRequest struct {
	// Role is RoleUser or RoleLead; Intercom makes a user when it is empty.
	Role       string `json:"role,omitempty"`
	ExternalID string `json:"external_id,omitempty"`
	Email      string `json:"email,omitempty"`
	Phone      string `json:"phone,omitempty"`
	Name       string `json:"name,omitempty"`
	// Avatar is an image URL.
	Avatar string `json:"avatar,omitempty"`
	// SignedUpAt and LastSeenAt are unix seconds. Intercom sets created_at
	// itself, so SignedUpAt is where a source's creation date goes.
	SignedUpAt int64 `json:"signed_up_at,omitempty"`
	LastSeenAt int64 `json:"last_seen_at,omitempty"`
	// OwnerID is the id of the admin who owns the contact.
	OwnerID string `json:"owner_id,omitempty"`
	// CustomAttributes may only name attributes that exist in the workspace.
	CustomAttributes       map[string]any `json:"custom_attributes,omitempty"`
	UnsubscribedFromEmails *bool          `json:"unsubscribed_from_emails,omitempty"`
}

// label names a contact request in error messages by its strongest identifier.
func (r ContactRequest) label() string {
	switch {
	case r.ExternalID != "":
		return "external_id=" + r.ExternalID
	case r.Email != "":
		return "email=" + r.Email
	default:
		return "role=" + r.Role
	}
}

// Contact is a user or lead (the contact schema). Timestamps are unix
// seconds; 0 means Intercom sent null.
type Contact struct {
	Type                   string         `json:"type,omitempty"`
	ID                     string         `json:"id"`
	WorkspaceID            string         `json:"workspace_id,omitempty"`
	ExternalID             string         `json:"external_id,omitempty"`
	Role                   string         `json:"role"`
	Email                  string         `json:"email,omitempty"`
	EmailDomain            string         `json:"email_domain,omitempty"`
	Phone                  string         `json:"phone,omitempty"`
	Name                   string         `json:"name,omitempty"`
	OwnerID                string         `json:"owner_id,omitempty"`
	HasHardBounced         bool           `json:"has_hard_bounced"`
	MarkedEmailAsSpam      bool           `json:"marked_email_as_spam"`
	UnsubscribedFromEmails bool           `json:"unsubscribed_from_emails"`
	CreatedAt              int64          `json:"created_at"`
	UpdatedAt              int64          `json:"updated_at"`
	SignedUpAt             int64          `json:"signed_up_at,omitempty"`
	LastSeenAt             int64          `json:"last_seen_at,omitempty"`
	LastRepliedAt          int64          `json:"last_replied_at,omitempty"`
	LastContactedAt        int64          `json:"last_contacted_at,omitempty"`
	CustomAttributes       map[string]any `json:"custom_attributes,omitempty"`
	Avatar                 *ContactAvatar `json:"avatar,omitempty"`
	Tags                   ListRef        `json:"tags"`
	Notes                  ListRef        `json:"notes"`
	Companies              ListRef        `json:"companies"`
	Location               *Location      `json:"location,omitempty"`
}

// ContactAvatar is a contact's picture.
type ContactAvatar struct {
	Type     string `json:"type,omitempty"`
	ImageURL string `json:"image_url,omitempty"`
}

// Location is where Intercom last saw a contact.
type Location struct {
	Type    string `json:"type,omitempty"`
	Country string `json:"country,omitempty"`
	Region  string `json:"region,omitempty"`
	City    string `json:"city,omitempty"`
}

// ContactPage is one page of a cursor list of contacts.
type ContactPage struct {
	Contacts   []Contact
	TotalCount int
	// Next is the cursor of the following page ("" on the last page).
	Next string
}

type contactList struct {
	Data       []Contact    `json:"data"`
	TotalCount int          `json:"total_count"`
	Pages      *cursorPages `json:"pages"`
}

func (l contactList) page() ContactPage {
	return ContactPage{Contacts: l.Data, TotalCount: l.TotalCount, Next: l.Pages.nextCursor()}
}

// CreateContact creates a user or lead. When a contact with the same email or
// external_id exists Intercom answers 409; [ExistingContactID] reads its id
// from the error so the caller can update it instead.
func (c *Client) CreateContact(ctx context.Context, in ContactRequest) (*Contact, error) {
	var out Contact
	if err := c.do(ctx, request{method: http.MethodPost, template: "/contacts", body: in}, &out); err != nil {
		return nil, fmt.Errorf("create contact %s: %w", in.label(), err)
	}
	return &out, nil
}

// UpdateContact changes the fields set in in on contact id.
func (c *Client) UpdateContact(ctx context.Context, id string, in ContactRequest) (*Contact, error) {
	var out Contact
	r := request{method: http.MethodPut, template: "/contacts/{contact_id}", params: []string{id}, body: in}
	if err := c.do(ctx, r, &out); err != nil {
		return nil, fmt.Errorf("update contact %s: %w", id, err)
	}
	return &out, nil
}

// GetContact fetches one contact by its Intercom id.
func (c *Client) GetContact(ctx context.Context, id string) (*Contact, error) {
	var out Contact
	r := request{method: http.MethodGet, template: "/contacts/{contact_id}", params: []string{id}}
	if err := c.do(ctx, r, &out); err != nil {
		return nil, fmt.Errorf("get contact %s: %w", id, err)
	}
	return &out, nil
}

// ListContacts returns the page of contacts after the cursor startingAfter
// ("" for the first page). perPage 0 leaves the size to Intercom (at most 150).
func (c *Client) ListContacts(ctx context.Context, startingAfter string, perPage int) (ContactPage, error) {
	var out contactList
	r := request{method: http.MethodGet, template: "/contacts", query: cursorQuery(startingAfter, perPage)}
	if err := c.do(ctx, r, &out); err != nil {
		return ContactPage{}, fmt.Errorf("list contacts after %q: %w", startingAfter, err)
	}
	return out.page(), nil
}

// SearchContacts returns the contacts whose field equals value, e.g.
// ("email", "a@b.example") or ("external_id", "zd-42"). Intercom indexes new
// contacts for search with a delay of up to minutes, so never use search to
// find a contact created moments ago.
func (c *Client) SearchContacts(ctx context.Context, field, value, startingAfter string, perPage int) (ContactPage, error) {
	body := searchBody(field, value, startingAfter, perPage)
	var out contactList
	if err := c.do(ctx, request{method: http.MethodPost, template: "/contacts/search", body: body}, &out); err != nil {
		return ContactPage{}, fmt.Errorf("search contacts %s=%q: %w", field, value, err)
	}
	return out.page(), nil
}

// searchBody is the body of a search for the records whose field equals
// value, one page of them.
func searchBody(field, value, startingAfter string, perPage int) any {
	type filter struct {
		Field    string `json:"field"`
		Operator string `json:"operator"`
		Value    string `json:"value"`
	}
	type pagination struct {
		PerPage       int    `json:"per_page,omitempty"`
		StartingAfter string `json:"starting_after,omitempty"`
	}
	body := struct {
		Query      filter      `json:"query"`
		Pagination *pagination `json:"pagination,omitempty"`
	}{Query: filter{Field: field, Operator: "=", Value: value}}
	if perPage > 0 || startingAfter != "" {
		body.Pagination = &pagination{PerPage: perPage, StartingAfter: startingAfter}
	}
	return body
}

// AttachContactToCompany links a contact to a company by the company's
// Intercom id (not its company_id). A company becomes visible in Intercom
// once a contact is attached. It returns the company as it is now.
func (c *Client) AttachContactToCompany(ctx context.Context, contactID, companyID string) (*Company, error) {
	var out Company
	r := request{
		method: http.MethodPost, template: "/contacts/{contact_id}/companies", params: []string{contactID},
		body: struct {
			ID string `json:"id"`
		}{companyID},
	}
	if err := c.do(ctx, r, &out); err != nil {
		return nil, fmt.Errorf("attach contact %s to company %s: %w", contactID, companyID, err)
	}
	return &out, nil
}

// ListContactCompanies returns the companies a contact is attached to.
func (c *Client) ListContactCompanies(ctx context.Context, contactID string) ([]Company, error) {
	var out struct {
		Companies []Company `json:"companies"`
	}
	r := request{method: http.MethodGet, template: "/contacts/{contact_id}/companies", params: []string{contactID}}
	if err := c.do(ctx, r, &out); err != nil {
		return nil, fmt.Errorf("list companies of contact %s: %w", contactID, err)
	}
	return out.Companies, nil
}

// cursorQuery builds ?starting_after=&per_page= for cursor lists.
func cursorQuery(startingAfter string, perPage int) url.Values {
	q := url.Values{}
	if startingAfter != "" {
		q.Set("starting_after", startingAfter)
	}
	if perPage > 0 {
		q.Set("per_page", strconv.Itoa(perPage))
	}
	return q
}
