// Package freshdesktest holds a whole Freshdesk help desk in memory and
// serves it over HTTP the way Freshdesk's API v2 does, for tests,
// benchmarks, the demo and `ferry sandbox`.
//
// A HelpDesk is generated (Generate) or loaded from a file (Load). Its
// types use Freshdesk's own field names and JSON shapes, so that a saved
// help desk reads like a set of Freshdesk API responses. What Freshdesk
// serves from endpoints of their own is nested where it belongs: a
// ticket's conversations in the ticket, a category's folders in the
// category, a folder's articles in the folder. Attachment URLs are stored
// relative and made absolute by the Server.
//
// A Server (NewServer) answers the endpoints the Freshdesk connector uses,
// with Freshdesk's paging (page and per_page, the Link header), filters
// (updated_since, _updated_since, filter=spam|deleted, state=...), limits
// (per_page up to 100, the 300-page cap on tickets, only the last 30 days
// of tickets without updated_since), errors, HTTP Basic authentication with
// the API key, and per-minute rate limits with the X-RateLimit-* headers.
// It counts the requests it answers (Server.Stats) so that tests can
// assert how many calls a reader made.
package freshdesktest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// HelpDesk is a whole Freshdesk help desk.
type HelpDesk struct {
	// Subdomain is the account's name, as in acme.freshdesk.com.
	Subdomain string `json:"subdomain"`
	// Domain is the help desk's own email domain: agents' addresses and
	// the support address are on it.
	Domain string `json:"domain"`
	// PrimaryLanguage is the help desk's language, as
	// /api/v2/settings/helpdesk gives it ("en").
	PrimaryLanguage string `json:"primary_language"`

	// Agents work the help desk; the first is the account admin, the
	// identity GET /api/v2/agents/me answers with.
	Agents []Agent `json:"agents"`
	// Contacts are the customers, deleted and blocked ones included.
	Contacts []Contact `json:"contacts"`
	// Companies are the customers' companies.
	Companies []Company `json:"companies"`
	// Groups are the teams agents work in.
	Groups []Group `json:"groups"`
	// TicketFields are the default fields, then the custom ones, in the
	// ticket form's order.
	TicketFields []TicketField `json:"ticket_fields"`
	// Tickets are oldest first; like Freshdesk's, their ids count up from 1.
	Tickets []Ticket `json:"tickets"`
	// SolutionCategories are the knowledge base, with its folders and
	// articles nested.
	SolutionCategories []SolutionCategory `json:"solution_categories"`
}

// Phone is a phone number as Freshdesk serves it: a string, but a JSON
// number where an account stored digits only (an internal extension, an
// imported number), and null when there is none.
type Phone struct {
	// Value is the number as written; empty means null.
	Value string
	// Numeric says Freshdesk serves it as a JSON number; Value is then
	// digits only.
	Numeric bool
}

// MarshalJSON writes the phone as null, a number or a string.
func (p Phone) MarshalJSON() ([]byte, error) {
	switch {
	case p.Value == "":
		return []byte("null"), nil
	case p.Numeric:
		return []byte(p.Value), nil
	}
	return json.Marshal(p.Value)
}

// UnmarshalJSON reads a phone in any of the shapes MarshalJSON writes.
func (p *Phone) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*p = Phone{}
		return nil
	case len(b) > 0 && b[0] == '"':
		*p = Phone{}
		return json.Unmarshal(b, &p.Value)
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("phone %s is neither a string nor a number", b)
	}
	*p = Phone{Value: n.String(), Numeric: true}
	return nil
}

// Agent is a Freshdesk agent. The fields of this and the other record types
// are Freshdesk's, under the API's names; a pointer is a field that can be
// null. An agent's id is also its user id: tickets' responder_id and
// conversations' user_id hold it.
type Agent struct {
	Available      bool         `json:"available"`
	Occasional     bool         `json:"occasional"`
	ID             int64        `json:"id"`
	Signature      *string      `json:"signature"`
	TicketScope    int          `json:"ticket_scope"`
	GroupIDs       []int64      `json:"group_ids"`
	RoleIDs        []int64      `json:"role_ids"`
	SkillIDs       []int64      `json:"skill_ids"`
	AvailableSince *time.Time   `json:"available_since"`
	Type           string       `json:"type"`
	CreatedAt      time.Time    `json:"created_at"`
	UpdatedAt      time.Time    `json:"updated_at"`
	LastActiveAt   *time.Time   `json:"last_active_at"`
	Contact        AgentContact `json:"contact"`
}

// AgentContact is the person behind an agent.
type AgentContact struct {
	// Active says the agent has verified their email address.
	Active      bool       `json:"active"`
	Email       string     `json:"email"`
	JobTitle    *string    `json:"job_title"`
	Language    string     `json:"language"`
	LastLoginAt *time.Time `json:"last_login_at"`
	Mobile      Phone      `json:"mobile"`
	Name        string     `json:"name"`
	Phone       Phone      `json:"phone"`
	TimeZone    string     `json:"time_zone"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
}

// Contact is a customer.
type Contact struct {
	// Active says the contact has verified their email address; an
	// unverified contact is a customer all the same.
	Active           bool           `json:"active"`
	Address          *string        `json:"address"`
	Avatar           *Attachment    `json:"avatar"`
	CompanyID        *int64         `json:"company_id"`
	ViewAllTickets   *bool          `json:"view_all_tickets"`
	CustomFields     map[string]any `json:"custom_fields"`
	Deleted          bool           `json:"deleted"`
	Description      *string        `json:"description"`
	Email            *string        `json:"email"`
	ID               int64          `json:"id"`
	JobTitle         *string        `json:"job_title"`
	Language         string         `json:"language"`
	Mobile           Phone          `json:"mobile"`
	Name             string         `json:"name"`
	OtherEmails      []string       `json:"other_emails"`
	Phone            Phone          `json:"phone"`
	Tags             []string       `json:"tags"`
	TimeZone         string         `json:"time_zone"`
	TwitterID        *string        `json:"twitter_id"`
	UniqueExternalID *string        `json:"unique_external_id"`
	FacebookID       *string        `json:"facebook_id"`
	CSATRating       *int64         `json:"csat_rating"`
	PreferredSource  string         `json:"preferred_source"`
	CreatedAt        time.Time      `json:"created_at"`
	UpdatedAt        time.Time      `json:"updated_at"`
	// Blocked is kept by the emulator only: Freshdesk does not show it on
	// the contact, it lists blocked contacts apart (state=blocked).
	Blocked bool `json:"blocked"`
}

// Company is a customer company.
type Company struct {
	ID           int64          `json:"id"`
	Name         string         `json:"name"`
	Description  *string        `json:"description"`
	Note         *string        `json:"note"`
	Domains      []string       `json:"domains"`
	CreatedAt    time.Time      `json:"created_at"`
	UpdatedAt    time.Time      `json:"updated_at"`
	CustomFields map[string]any `json:"custom_fields"`
	HealthScore  *string        `json:"health_score"`
	AccountTier  *string        `json:"account_tier"`
	RenewalDate  *time.Time     `json:"renewal_date"`
	Industry     *string        `json:"industry"`
}

// Group is a team of agents.
type Group struct {
	ID               int64     `json:"id"`
	Name             string    `json:"name"`
	Description      *string   `json:"description"`
	BusinessHourID   *int64    `json:"business_hour_id"`
	EscalateTo       *int64    `json:"escalate_to"`
	UnassignedFor    *string   `json:"unassigned_for"`
	AutoTicketAssign bool      `json:"auto_ticket_assign"`
	AgentIDs         []int64   `json:"agent_ids"`
	CreatedAt        time.Time `json:"created_at"`
	UpdatedAt        time.Time `json:"updated_at"`
}

// Ticket field types, as the API spells them.
const (
	FieldSubject     = "default_subject"
	FieldRequester   = "default_requester"
	FieldTicketType  = "default_ticket_type"
	FieldSource      = "default_source"
	FieldStatus      = "default_status"
	FieldPriority    = "default_priority"
	FieldGroup       = "default_group"
	FieldAgent       = "default_agent"
	FieldCompany     = "default_company"
	FieldDescription = "default_description"
	FieldText        = "custom_text"
	FieldParagraph   = "custom_paragraph"
	FieldCheckbox    = "custom_checkbox"
	FieldNumber      = "custom_number"
	FieldDate        = "custom_date"
	FieldDropdown    = "custom_dropdown"
)

// TicketField is a default or custom ticket field. A custom field's Name
// (cf_...) is the key of its value in a ticket's custom_fields.
type TicketField struct {
	ID                   int64     `json:"id"`
	Name                 string    `json:"name"`
	Label                string    `json:"label"`
	Description          string    `json:"description"`
	Position             int       `json:"position"`
	RequiredForClosure   bool      `json:"required_for_closure"`
	RequiredForAgents    bool      `json:"required_for_agents"`
	Type                 string    `json:"type"`
	Default              bool      `json:"default"`
	CustomersCanEdit     bool      `json:"customers_can_edit"`
	LabelForCustomers    string    `json:"label_for_customers"`
	RequiredForCustomers bool      `json:"required_for_customers"`
	DisplayedToCustomers bool      `json:"displayed_to_customers"`
	CreatedAt            time.Time `json:"created_at"`
	UpdatedAt            time.Time `json:"updated_at"`
	// Choices has the shape Freshdesk gives each type: for the status
	// field an object of status number to [agent label, customer label],
	// for priority and source an object of label to number, for a
	// drop-down and the ticket type a list of labels.
	Choices json.RawMessage `json:"choices,omitempty"`
}

// Ticket statuses Freshdesk defines; accounts add their own from 6 up.
const (
	StatusOpen     = 2
	StatusPending  = 3
	StatusResolved = 4
	StatusClosed   = 5
)

// Ticket priorities.
const (
	PriorityLow    = 1
	PriorityMedium = 2
	PriorityHigh   = 3
	PriorityUrgent = 4
)

// Ticket is a support request and, in Conversations, what was said after
// its description.
type Ticket struct {
	CCEmails               []string       `json:"cc_emails"`
	FwdEmails              []string       `json:"fwd_emails"`
	ReplyCCEmails          []string       `json:"reply_cc_emails"`
	TicketCCEmails         []string       `json:"ticket_cc_emails"`
	FrEscalated            bool           `json:"fr_escalated"`
	Spam                   bool           `json:"spam"`
	EmailConfigID          *int64         `json:"email_config_id"`
	GroupID                *int64         `json:"group_id"`
	Priority               int            `json:"priority"`
	RequesterID            int64          `json:"requester_id"`
	ResponderID            *int64         `json:"responder_id"`
	Source                 int            `json:"source"`
	CompanyID              *int64         `json:"company_id"`
	Status                 int            `json:"status"`
	Subject                string         `json:"subject"`
	AssociationType        *int           `json:"association_type"`
	SupportEmail           *string        `json:"support_email"`
	ToEmails               []string       `json:"to_emails"`
	ProductID              *int64         `json:"product_id"`
	ID                     int64          `json:"id"`
	Type                   *string        `json:"type"`
	DueBy                  time.Time      `json:"due_by"`
	FrDueBy                time.Time      `json:"fr_due_by"`
	IsEscalated            bool           `json:"is_escalated"`
	CustomFields           map[string]any `json:"custom_fields"`
	CreatedAt              time.Time      `json:"created_at"`
	UpdatedAt              time.Time      `json:"updated_at"`
	AssociatedTicketsCount *int           `json:"associated_tickets_count"`
	Tags                   []string       `json:"tags"`
	NrDueBy                *time.Time     `json:"nr_due_by"`
	NrEscalated            bool           `json:"nr_escalated"`
	// Deleted is shown, true, on deleted tickets only, which Freshdesk
	// lists only with filter=deleted.
	Deleted bool `json:"deleted,omitempty"`

	// Description is the ticket's first message, in HTML, and
	// DescriptionText the same as text. Lists show them only with
	// include=description; viewing a ticket shows them always.
	Description     string `json:"description"`
	DescriptionText string `json:"description_text"`
	// Attachments are the description's files; only viewing the ticket
	// shows them.
	Attachments []Attachment `json:"attachments"`
	// Stats are shown with include=stats.
	Stats TicketStats `json:"stats"`
	// Conversations are the replies and notes after the description,
	// oldest first, served by the ticket's conversations endpoint.
	Conversations []Conversation `json:"conversations"`
}

// TicketStats are a ticket's milestones.
type TicketStats struct {
	AgentRespondedAt     *time.Time `json:"agent_responded_at"`
	RequesterRespondedAt *time.Time `json:"requester_responded_at"`
	FirstRespondedAt     *time.Time `json:"first_responded_at"`
	StatusUpdatedAt      *time.Time `json:"status_updated_at"`
	ReopenedAt           *time.Time `json:"reopened_at"`
	ResolvedAt           *time.Time `json:"resolved_at"`
	ClosedAt             *time.Time `json:"closed_at"`
	PendingSince         *time.Time `json:"pending_since"`
}

// Conversation sources.
const (
	// SourceReply is a reply: an agent's to the customer, or the
	// customer's (Incoming) to the ticket.
	SourceReply = 0
	// SourceNote is a note, private unless Private is false.
	SourceNote = 2
)

// Conversation is a reply or a note on a ticket.
type Conversation struct {
	Body             string       `json:"body"`
	BodyText         string       `json:"body_text"`
	ID               int64        `json:"id"`
	Incoming         bool         `json:"incoming"`
	Private          bool         `json:"private"`
	UserID           int64        `json:"user_id"`
	SupportEmail     *string      `json:"support_email"`
	Source           int          `json:"source"`
	Category         int          `json:"category"`
	TicketID         int64        `json:"ticket_id"`
	ToEmails         []string     `json:"to_emails"`
	FromEmail        *string      `json:"from_email"`
	CCEmails         []string     `json:"cc_emails"`
	BCCEmails        []string     `json:"bcc_emails"`
	CreatedAt        time.Time    `json:"created_at"`
	UpdatedAt        time.Time    `json:"updated_at"`
	LastEditedAt     *time.Time   `json:"last_edited_at"`
	LastEditedUserID *int64       `json:"last_edited_user_id"`
	Attachments      []Attachment `json:"attachments"`
}

// Attachment is a file's metadata.
type Attachment struct {
	ID          int64  `json:"id"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	Name        string `json:"name"`
	// AttachmentURL is where the file's bytes are. A relative URL is on
	// the emulator's own host (Freshdesk's are pre-signed storage URLs on
	// another host, fetched without credentials), and the Server makes it
	// absolute; an absolute one is kept as is.
	AttachmentURL string    `json:"attachment_url"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// SolutionCategory is a knowledge-base category.
type SolutionCategory struct {
	ID          int64     `json:"id"`
	Name        string    `json:"name"`
	Description *string   `json:"description"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	// Folders are served by the category's folders endpoint.
	Folders []SolutionFolder `json:"folders"`
}

// Folder visibilities.
const (
	VisibilityAll        = 1
	VisibilityLoggedIn   = 2
	VisibilityAgentsOnly = 3
)

// SolutionFolder is a folder of a category.
type SolutionFolder struct {
	ID          int64     `json:"id"`
	Name        string    `json:"name"`
	Description *string   `json:"description"`
	Visibility  int       `json:"visibility"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	// Articles are served by the folder's articles endpoint.
	Articles []SolutionArticle `json:"articles"`
}

// Article statuses.
const (
	ArticleDraft     = 1
	ArticlePublished = 2
)

// SolutionArticle is a knowledge-base article.
type SolutionArticle struct {
	ID              int64        `json:"id"`
	Type            int          `json:"type"`
	Status          int          `json:"status"`
	AgentID         int64        `json:"agent_id"`
	CreatedAt       time.Time    `json:"created_at"`
	CategoryID      int64        `json:"category_id"`
	FolderID        int64        `json:"folder_id"`
	Title           string       `json:"title"`
	UpdatedAt       time.Time    `json:"updated_at"`
	Description     string       `json:"description"`
	DescriptionText string       `json:"description_text"`
	SEOData         SEOData      `json:"seo_data"`
	Tags            []string     `json:"tags"`
	Attachments     []Attachment `json:"attachments"`
	CloudFiles      []any        `json:"cloud_files"`
	ThumbsUp        int          `json:"thumbs_up"`
	ThumbsDown      int          `json:"thumbs_down"`
	Hits            int          `json:"hits"`
	Suggested       int          `json:"suggested"`
	FeedbackCount   int          `json:"feedback_count"`
}

// SEOData is an article's search-engine metadata.
type SEOData struct {
	MetaTitle       string `json:"meta_title"`
	MetaDescription string `json:"meta_description"`
}

// Save writes the help desk to path as one JSON document, creating or
// replacing the file.
func (hd *HelpDesk) Save(path string) (err error) {
	// Write beside the target and rename, so that a reader never sees a
	// half-written help desk.
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("save help desk: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	w := bufio.NewWriterSize(f, 1<<20)
	if err := json.NewEncoder(w).Encode(hd); err != nil {
		return fmt.Errorf("save help desk to %s: %w", path, err)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("save help desk to %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("save help desk to %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("save help desk to %s: %w", path, err)
	}
	return nil
}

// Load reads a help desk that Save wrote.
func Load(path string) (*HelpDesk, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load help desk: %w", err)
	}
	defer f.Close()
	var hd HelpDesk
	if err := json.NewDecoder(bufio.NewReaderSize(f, 1<<20)).Decode(&hd); err != nil {
		return nil, fmt.Errorf("load help desk from %s: %w", path, err)
	}
	return &hd, nil
}

// Ticket returns the ticket with id, or nil.
func (hd *HelpDesk) Ticket(id int64) *Ticket {
	for i := range hd.Tickets {
		if hd.Tickets[i].ID == id {
			return &hd.Tickets[i]
		}
	}
	return nil
}

// Contact returns the contact with id, or nil.
func (hd *HelpDesk) Contact(id int64) *Contact {
	for i := range hd.Contacts {
		if hd.Contacts[i].ID == id {
			return &hd.Contacts[i]
		}
	}
	return nil
}

// Agent returns the agent with id, or nil.
func (hd *HelpDesk) Agent(id int64) *Agent {
	for i := range hd.Agents {
		if hd.Agents[i].ID == id {
			return &hd.Agents[i]
		}
	}
	return nil
}

// AddConversation appends c to ticket t's conversation and moves the
// ticket's updated_at to c's creation, as Freshdesk does when a reply or
// a note is added. Use it inside Server.Mutate.
func (t *Ticket) AddConversation(c Conversation) {
	c.TicketID = t.ID
	t.Conversations = append(t.Conversations, c)
	if c.CreatedAt.After(t.UpdatedAt) {
		t.UpdatedAt = c.CreatedAt
	}
}

// Live reports whether the ticket is listed by default: neither spam nor
// deleted.
func (t *Ticket) Live() bool { return !t.Spam && !t.Deleted }

// ConversationCount is the number of conversations of all tickets.
func (hd *HelpDesk) ConversationCount() int {
	n := 0
	for i := range hd.Tickets {
		n += len(hd.Tickets[i].Conversations)
	}
	return n
}

// AttachmentCount is the number of attachments of all tickets'
// descriptions and conversations.
func (hd *HelpDesk) AttachmentCount() int {
	n := 0
	for i := range hd.Tickets {
		t := &hd.Tickets[i]
		n += len(t.Attachments)
		for j := range t.Conversations {
			n += len(t.Conversations[j].Attachments)
		}
	}
	return n
}
