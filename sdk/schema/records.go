package schema

import (
	"encoding/json"
	"time"
)

// Record is one row of a canonical stream. The structs of this package are
// the only implementations, so that every batch a plugin sends matches the
// stream's schema column for column.
type Record interface {
	// Stream is the canonical stream the record belongs to.
	Stream() string
	// SourceID is the record's id in the source system.
	SourceID() string
	appendTo(c *columns)
}

// User is an agent or end user of the help desk.
type User struct {
	ID             string
	Role           string // RoleAgent or RoleEndUser
	Name           string
	Email          string
	Phone          string
	OrganizationID string
	Active         bool
	Suspended      bool
	CreatedAt      time.Time
	UpdatedAt      time.Time
	CustomFields   json.RawMessage
	Raw            json.RawMessage
}

// Organization is a customer company.
type Organization struct {
	ID           string
	Name         string
	Domains      []string
	CreatedAt    time.Time
	UpdatedAt    time.Time
	CustomFields json.RawMessage
	Raw          json.RawMessage
}

// Group is a team of agents.
type Group struct {
	ID        string
	Name      string
	CreatedAt time.Time
	UpdatedAt time.Time
	Raw       json.RawMessage
}

// TicketField describes a ticket field, system or custom.
type TicketField struct {
	ID      string
	Title   string
	Type    string
	Active  bool
	Options json.RawMessage // a JSON array of {"name", "value"}
	Raw     json.RawMessage
}

// Ticket is a support request; its conversation is in Comments.
type Ticket struct {
	ID             string
	Subject        string
	Status         string
	Priority       string
	Type           string
	RequesterID    string
	SubmitterID    string
	AssigneeID     string
	GroupID        string
	OrganizationID string
	Tags           []string
	CCIDs          []string
	CustomFields   json.RawMessage
	CreatedAt      time.Time
	UpdatedAt      time.Time
	Raw            json.RawMessage
}

// Comment is one message on a ticket, public or private.
type Comment struct {
	ID        string
	TicketID  string
	AuthorID  string
	Public    bool
	BodyHTML  string
	BodyText  string
	CreatedAt time.Time
	Raw       json.RawMessage
}

// Attachment is a file's metadata, attached to a comment or an article.
type Attachment struct {
	ID          string
	TicketID    string
	CommentID   string
	ArticleID   string
	FileName    string
	ContentType string
	Size        int64
	URL         string
	Inline      bool
	Raw         json.RawMessage
}

// TicketEvent is a change on a ticket other than a comment (status, assignee, ...).
type TicketEvent struct {
	ID        string
	TicketID  string
	AuthorID  string
	Kind      string
	Detail    json.RawMessage
	CreatedAt time.Time
	Raw       json.RawMessage
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
	ID           string
	ParentID     string
	Locale       string
	Title        string
	BodyHTML     string
	AuthorID     string
	Translations json.RawMessage // a JSON object keyed by locale
	CreatedAt    time.Time
	UpdatedAt    time.Time
	Raw          json.RawMessage
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
