package schema

import (
	"encoding/json"
	"time"
)

// Record is one row of a canonical stream. The structs of this package are
// the only implementations, so that every batch a plugin sends matches the
// stream's schema column for column.
//
// A record's JSON encoding (its struct tags) is the canonical JSON form:
// column names as keys, timestamps in RFC 3339, JSON columns embedded as
// JSON values, and null or empty columns left out. Transforms see records
// in this form.
type Record interface {
	// Stream is the canonical stream the record belongs to.
	Stream() string
	// SourceID is the record's id in the source system.
	SourceID() string
	appendTo(c *columns)
}

// User is an agent or end user of the help desk.
type User struct {
	ID             string          `json:"id"`
	Role           string          `json:"role"` // RoleAgent or RoleEndUser
	Name           string          `json:"name,omitempty"`
	Email          string          `json:"email,omitempty"`
	Phone          string          `json:"phone,omitempty"`
	OrganizationID string          `json:"organization_id,omitempty"`
	Active         bool            `json:"active"`
	Suspended      bool            `json:"suspended"`
	CreatedAt      time.Time       `json:"created_at,omitzero"`
	UpdatedAt      time.Time       `json:"updated_at,omitzero"`
	CustomFields   json.RawMessage `json:"custom_fields,omitempty"`
	Raw            json.RawMessage `json:"raw,omitempty"`
}

// Organization is a customer company.
type Organization struct {
	ID           string          `json:"id"`
	Name         string          `json:"name,omitempty"`
	Domains      []string        `json:"domains,omitempty"`
	CreatedAt    time.Time       `json:"created_at,omitzero"`
	UpdatedAt    time.Time       `json:"updated_at,omitzero"`
	CustomFields json.RawMessage `json:"custom_fields,omitempty"`
	Raw          json.RawMessage `json:"raw,omitempty"`
}

// Group is a team of agents.
type Group struct {
	ID        string          `json:"id"`
	Name      string          `json:"name,omitempty"`
	CreatedAt time.Time       `json:"created_at,omitzero"`
	UpdatedAt time.Time       `json:"updated_at,omitzero"`
	Raw       json.RawMessage `json:"raw,omitempty"`
}

// TicketField describes a ticket field, system or custom.
type TicketField struct {
	ID      string          `json:"id"`
	Title   string          `json:"title,omitempty"`
	Type    string          `json:"type,omitempty"`
	Active  bool            `json:"active"`
	Options json.RawMessage `json:"options,omitempty"` // a JSON array of {"name", "value"}
	Raw     json.RawMessage `json:"raw,omitempty"`
}

// Ticket is a support request; its conversation is in Comments.
type Ticket struct {
	ID             string          `json:"id"`
	Subject        string          `json:"subject,omitempty"`
	Status         string          `json:"status,omitempty"`
	Priority       string          `json:"priority,omitempty"`
	Type           string          `json:"type,omitempty"`
	RequesterID    string          `json:"requester_id,omitempty"`
	SubmitterID    string          `json:"submitter_id,omitempty"`
	AssigneeID     string          `json:"assignee_id,omitempty"`
	GroupID        string          `json:"group_id,omitempty"`
	OrganizationID string          `json:"organization_id,omitempty"`
	Tags           []string        `json:"tags,omitempty"`
	CCIDs          []string        `json:"cc_ids,omitempty"`
	CustomFields   json.RawMessage `json:"custom_fields,omitempty"`
	CreatedAt      time.Time       `json:"created_at,omitzero"`
	UpdatedAt      time.Time       `json:"updated_at,omitzero"`
	Raw            json.RawMessage `json:"raw,omitempty"`
}

// Comment is one message on a ticket, public or private.
type Comment struct {
	ID        string          `json:"id"`
	TicketID  string          `json:"ticket_id"`
	AuthorID  string          `json:"author_id,omitempty"`
	Public    bool            `json:"public"`
	BodyHTML  string          `json:"body_html,omitempty"`
	BodyText  string          `json:"body_text,omitempty"`
	CreatedAt time.Time       `json:"created_at,omitzero"`
	Raw       json.RawMessage `json:"raw,omitempty"`
}

// Attachment is a file's metadata, attached to a comment or an article.
type Attachment struct {
	ID          string `json:"id"`
	TicketID    string `json:"ticket_id"`
	CommentID   string `json:"comment_id,omitempty"`
	ArticleID   string `json:"article_id,omitempty"`
	FileName    string `json:"file_name,omitempty"`
	ContentType string `json:"content_type,omitempty"`
	Size        int64  `json:"size"`
	URL         string `json:"url,omitempty"`
	Inline      bool   `json:"inline"`
	// Position is the attachment's place among its comment's or article's
	// attachments, from 0, so that they keep their source order.
	Position int64           `json:"position"`
	Raw      json.RawMessage `json:"raw,omitempty"`
}

// TicketEvent is a change on a ticket other than a comment (status, assignee, ...).
type TicketEvent struct {
	ID        string          `json:"id"`
	TicketID  string          `json:"ticket_id"`
	AuthorID  string          `json:"author_id,omitempty"`
	Kind      string          `json:"kind,omitempty"`
	Detail    json.RawMessage `json:"detail,omitempty"`
	CreatedAt time.Time       `json:"created_at,omitzero"`
	Raw       json.RawMessage `json:"raw,omitempty"`
}

// KBCategory is a knowledge-base category or section (ParentID set for a section).
type KBCategory struct {
	KBEntry
}

// KBArticle is a knowledge-base article.
type KBArticle struct {
	KBEntry
}

// KBEntry holds the columns knowledge-base categories and articles share.
type KBEntry struct {
	ID           string          `json:"id"`
	ParentID     string          `json:"parent_id,omitempty"`
	Locale       string          `json:"locale,omitempty"`
	Title        string          `json:"title,omitempty"`
	BodyHTML     string          `json:"body_html,omitempty"`
	AuthorID     string          `json:"author_id,omitempty"`
	Translations json.RawMessage `json:"translations,omitempty"` // a JSON object keyed by locale
	CreatedAt    time.Time       `json:"created_at,omitzero"`
	UpdatedAt    time.Time       `json:"updated_at,omitzero"`
	Raw          json.RawMessage `json:"raw,omitempty"`
}

func (r *User) Stream() string         { return Users }
func (r *Organization) Stream() string { return Organizations }
func (r *Group) Stream() string        { return Groups }
func (r *TicketField) Stream() string  { return TicketFields }
func (r *Ticket) Stream() string       { return Tickets }
func (r *Comment) Stream() string      { return Comments }
func (r *Attachment) Stream() string   { return Attachments }
func (r *TicketEvent) Stream() string  { return TicketEvents }
func (r *KBCategory) Stream() string   { return KBCategories }
func (r *KBArticle) Stream() string    { return KBArticles }

func (r *User) SourceID() string         { return r.ID }
func (r *Organization) SourceID() string { return r.ID }
func (r *Group) SourceID() string        { return r.ID }
func (r *TicketField) SourceID() string  { return r.ID }
func (r *Ticket) SourceID() string       { return r.ID }
func (r *Comment) SourceID() string      { return r.ID }
func (r *Attachment) SourceID() string   { return r.ID }
func (r *TicketEvent) SourceID() string  { return r.ID }
func (r *KBEntry) SourceID() string      { return r.ID }

func (r *User) appendTo(c *columns) {
	c.str(r.ID)
	c.str(r.Role)
	c.opt(r.Name)
	c.opt(r.Email)
	c.opt(r.Phone)
	c.opt(r.OrganizationID)
	c.boolean(r.Active)
	c.boolean(r.Suspended)
	c.time(r.CreatedAt)
	c.time(r.UpdatedAt)
	c.json(r.CustomFields)
	c.json(r.Raw)
}

func (r *Organization) appendTo(c *columns) {
	c.str(r.ID)
	c.opt(r.Name)
	c.list(r.Domains)
	c.time(r.CreatedAt)
	c.time(r.UpdatedAt)
	c.json(r.CustomFields)
	c.json(r.Raw)
}

func (r *Group) appendTo(c *columns) {
	c.str(r.ID)
	c.opt(r.Name)
	c.time(r.CreatedAt)
	c.time(r.UpdatedAt)
	c.json(r.Raw)
}

func (r *TicketField) appendTo(c *columns) {
	c.str(r.ID)
	c.opt(r.Title)
	c.opt(r.Type)
	c.boolean(r.Active)
	c.json(r.Options)
	c.json(r.Raw)
}

func (r *Ticket) appendTo(c *columns) {
	c.str(r.ID)
	c.opt(r.Subject)
	c.opt(r.Status)
	c.opt(r.Priority)
	c.opt(r.Type)
	c.opt(r.RequesterID)
	c.opt(r.SubmitterID)
	c.opt(r.AssigneeID)
	c.opt(r.GroupID)
	c.opt(r.OrganizationID)
	c.list(r.Tags)
	c.list(r.CCIDs)
	c.json(r.CustomFields)
	c.time(r.CreatedAt)
	c.time(r.UpdatedAt)
	c.json(r.Raw)
}

func (r *Comment) appendTo(c *columns) {
	c.str(r.ID)
	c.str(r.TicketID)
	c.opt(r.AuthorID)
	c.boolean(r.Public)
	c.opt(r.BodyHTML)
	c.opt(r.BodyText)
	c.time(r.CreatedAt)
	c.json(r.Raw)
}

func (r *Attachment) appendTo(c *columns) {
	c.str(r.ID)
	c.opt(r.TicketID)
	c.opt(r.CommentID)
	c.opt(r.ArticleID)
	c.opt(r.FileName)
	c.opt(r.ContentType)
	c.int64(r.Size)
	c.opt(r.URL)
	c.boolean(r.Inline)
	c.int64(r.Position)
	c.json(r.Raw)
}

func (r *TicketEvent) appendTo(c *columns) {
	c.str(r.ID)
	c.str(r.TicketID)
	c.opt(r.AuthorID)
	c.opt(r.Kind)
	c.json(r.Detail)
	c.time(r.CreatedAt)
	c.json(r.Raw)
}

func (r *KBEntry) appendTo(c *columns) {
	c.str(r.ID)
	c.opt(r.ParentID)
	c.opt(r.Locale)
	c.opt(r.Title)
	c.opt(r.BodyHTML)
	c.opt(r.AuthorID)
	c.json(r.Translations)
	c.time(r.CreatedAt)
	c.time(r.UpdatedAt)
	c.json(r.Raw)
}
