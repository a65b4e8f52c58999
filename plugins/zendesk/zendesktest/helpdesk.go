// Package zendesktest holds a whole Zendesk help desk in memory and serves it
// over HTTP the way Zendesk's REST API does, for tests, benchmarks, the demo
// and `ferry sandbox`.
//
// A HelpDesk is generated (Generate) or loaded from a file (Load);
// AddHostile adds bad data to one (invalid emails, text that is not UTF-8,
// comments of unknown tickets, files that are gone, ...). Its types
// use Zendesk's own field names and JSON shapes, so that a saved help desk
// reads like a set of Zendesk API responses; the only additions are what
// Zendesk serves from endpoints of their own (a ticket's conversation in
// Ticket.Comments and history in Ticket.Audits, an article's translations
// and attachments), and the url fields, which the Server builds from its
// base URL.
//
// A Server (NewServer) answers the endpoints the Zendesk connector uses, with
// Zendesk's paging, errors, authentication (API tokens and OAuth access
// tokens) and rate limits, and counts the requests it answers
// (Server.Stats) so that tests can assert how many calls a reader made.
package zendesktest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// HelpDesk is a whole Zendesk help desk.
type HelpDesk struct {
	// Subdomain is the account's name, as in acme.zendesk.com.
	Subdomain string `json:"subdomain"`
	// Domain is the help desk's own email domain: agents' addresses and the
	// support address are on it.
	Domain string `json:"domain"`
	// OwnerEmail is the email of the account owner, an admin: the identity
	// the Server authenticates by default.
	OwnerEmail string `json:"owner_email"`

	// Users are the agents (the owner first) and the end users.
	Users []User `json:"users"`
	// Organizations are the customers' companies, by id.
	Organizations []Organization `json:"organizations"`
	// Groups are the teams agents work in.
	Groups []Group `json:"groups"`
	// TicketFields are the system fields, then the custom ones, in the
	// ticket form's order.
	TicketFields []TicketField `json:"ticket_fields"`
	// Tickets are oldest first; like Zendesk's, their ids count up from 1.
	Tickets []Ticket `json:"tickets"`
	// HelpCenter is the knowledge base; a help desk saved before it existed
	// loads with an empty one.
	HelpCenter HelpCenter `json:"help_center"`

	// Unlisted are tickets that only the ticket events export knows: the
	// tickets export and the comments endpoint do not list them (a ticket
	// purged from the account, whose updates the export still serves).
	// Their comments reach a reader without their ticket.
	Unlisted []Ticket `json:"unlisted,omitempty"`
	// MissingFiles are the content URLs (as attachments hold them) of
	// files that are gone: the Server answers 404 for them, as a file
	// store does for a file it lost.
	MissingFiles []string `json:"missing_files,omitempty"`
}

// Zendesk user roles, as the API spells them.
const (
	RoleEndUser = "end-user"
	RoleAgent   = "agent"
	RoleAdmin   = "admin"
)

// User is a Zendesk user: an end user, an agent or an admin.
//
// The fields of this and the other record types are Zendesk's, under the
// API's names (see Zendesk's API reference); a pointer is a field that can
// be null.
type User struct {
	ID                   int64          `json:"id"`
	Name                 string         `json:"name"`
	Email                *string        `json:"email"`
	CreatedAt            time.Time      `json:"created_at"`
	UpdatedAt            time.Time      `json:"updated_at"`
	TimeZone             string         `json:"time_zone"`
	IANATimeZone         string         `json:"iana_time_zone"`
	Phone                *string        `json:"phone"`
	SharedPhoneNumber    *bool          `json:"shared_phone_number"`
	Photo                *Attachment    `json:"photo"`
	LocaleID             int64          `json:"locale_id"`
	Locale               string         `json:"locale"`
	OrganizationID       *int64         `json:"organization_id"`
	Role                 string         `json:"role"`
	Verified             bool           `json:"verified"`
	ExternalID           *string        `json:"external_id"`
	Tags                 []string       `json:"tags"`
	Alias                *string        `json:"alias"`
	Active               bool           `json:"active"`
	Shared               bool           `json:"shared"`
	SharedAgent          bool           `json:"shared_agent"`
	LastLoginAt          *time.Time     `json:"last_login_at"`
	TwoFactorAuthEnabled *bool          `json:"two_factor_auth_enabled"`
	Signature            *string        `json:"signature"`
	Details              *string        `json:"details"`
	Notes                *string        `json:"notes"`
	RoleType             *int64         `json:"role_type"`
	CustomRoleID         *int64         `json:"custom_role_id"`
	Moderator            bool           `json:"moderator"`
	TicketRestriction    *string        `json:"ticket_restriction"`
	OnlyPrivateComments  bool           `json:"only_private_comments"`
	RestrictedAgent      bool           `json:"restricted_agent"`
	Suspended            bool           `json:"suspended"`
	ChatOnly             bool           `json:"chat_only"`
	DefaultGroupID       *int64         `json:"default_group_id"`
	ReportCSV            bool           `json:"report_csv"`
	UserFields           map[string]any `json:"user_fields"`
	// PermanentlyDeleted is present, as in the incremental export, only on
	// deleted users (Active false).
	PermanentlyDeleted *bool `json:"permanently_deleted,omitempty"`
}

// IsAgent reports whether the user works the help desk (an agent or an
// admin) rather than asking it for help.
func (u *User) IsAgent() bool { return u.Role == RoleAgent || u.Role == RoleAdmin }

// Organization is a customer company.
type Organization struct {
	ID                 int64          `json:"id"`
	Name               string         `json:"name"`
	SharedTickets      bool           `json:"shared_tickets"`
	SharedComments     bool           `json:"shared_comments"`
	ExternalID         *string        `json:"external_id"`
	CreatedAt          time.Time      `json:"created_at"`
	UpdatedAt          time.Time      `json:"updated_at"`
	DomainNames        []string       `json:"domain_names"`
	Details            *string        `json:"details"`
	Notes              *string        `json:"notes"`
	GroupID            *int64         `json:"group_id"`
	Tags               []string       `json:"tags"`
	OrganizationFields map[string]any `json:"organization_fields"`
}

// Group is a team of agents.
type Group struct {
	ID          int64     `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Default     bool      `json:"default"`
	Deleted     bool      `json:"deleted"`
	IsPublic    bool      `json:"is_public"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// TicketField is a system or custom ticket field.
type TicketField struct {
	ID                  int64     `json:"id"`
	Type                string    `json:"type"`
	Title               string    `json:"title"`
	RawTitle            string    `json:"raw_title"`
	Description         string    `json:"description"`
	RawDescription      string    `json:"raw_description"`
	Position            int       `json:"position"`
	Active              bool      `json:"active"`
	Required            bool      `json:"required"`
	CollapsedForAgents  bool      `json:"collapsed_for_agents"`
	RegexpForValidation *string   `json:"regexp_for_validation"`
	TitleInPortal       string    `json:"title_in_portal"`
	RawTitleInPortal    string    `json:"raw_title_in_portal"`
	VisibleInPortal     bool      `json:"visible_in_portal"`
	EditableInPortal    bool      `json:"editable_in_portal"`
	RequiredInPortal    bool      `json:"required_in_portal"`
	Tag                 *string   `json:"tag"`
	CreatedAt           time.Time `json:"created_at"`
	UpdatedAt           time.Time `json:"updated_at"`
	Removable           bool      `json:"removable"`
	AgentDescription    *string   `json:"agent_description"`
	// SubTypeID is present on the status and priority system fields only.
	SubTypeID *int64 `json:"sub_type_id,omitempty"`
	// SystemFieldOptions lists the values of the status, type and priority
	// system fields.
	SystemFieldOptions []FieldOption `json:"system_field_options,omitempty"`
	// CustomFieldOptions lists a drop-down (tagger) field's options.
	CustomFieldOptions []FieldOption `json:"custom_field_options,omitempty"`
}

// FieldOption is one value of a drop-down or system field. ID, RawName and
// Default are set on custom field options only.
type FieldOption struct {
	ID      int64  `json:"id,omitempty"`
	Name    string `json:"name"`
	RawName string `json:"raw_name,omitempty"`
	Value   string `json:"value"`
	Default *bool  `json:"default,omitempty"`
}

// Ticket statuses.
const (
	StatusNew     = "new"
	StatusOpen    = "open"
	StatusPending = "pending"
	StatusHold    = "hold"
	StatusSolved  = "solved"
	StatusClosed  = "closed"
	// StatusDeleted is how the incremental export shows a deleted ticket;
	// its comments answer 404.
	StatusDeleted = "deleted"
)

// Ticket is a support request and, in Comments, its conversation.
type Ticket struct {
	ID                      int64               `json:"id"`
	ExternalID              *string             `json:"external_id"`
	Via                     Via                 `json:"via"`
	CreatedAt               time.Time           `json:"created_at"`
	UpdatedAt               time.Time           `json:"updated_at"`
	Type                    *string             `json:"type"`
	Subject                 string              `json:"subject"`
	RawSubject              string              `json:"raw_subject"`
	Description             string              `json:"description"`
	Priority                *string             `json:"priority"`
	Status                  string              `json:"status"`
	Recipient               *string             `json:"recipient"`
	RequesterID             int64               `json:"requester_id"`
	SubmitterID             int64               `json:"submitter_id"`
	AssigneeID              *int64              `json:"assignee_id"`
	OrganizationID          *int64              `json:"organization_id"`
	GroupID                 *int64              `json:"group_id"`
	CollaboratorIDs         []int64             `json:"collaborator_ids"`
	FollowerIDs             []int64             `json:"follower_ids"`
	EmailCCIDs              []int64             `json:"email_cc_ids"`
	ForumTopicID            *int64              `json:"forum_topic_id"`
	ProblemID               *int64              `json:"problem_id"`
	HasIncidents            bool                `json:"has_incidents"`
	IsPublic                bool                `json:"is_public"`
	DueAt                   *time.Time          `json:"due_at"`
	Tags                    []string            `json:"tags"`
	CustomFields            []CustomFieldValue  `json:"custom_fields"`
	SatisfactionRating      *SatisfactionRating `json:"satisfaction_rating"`
	SharingAgreementIDs     []int64             `json:"sharing_agreement_ids"`
	CustomStatusID          int64               `json:"custom_status_id"`
	Fields                  []CustomFieldValue  `json:"fields"`
	FollowupIDs             []int64             `json:"followup_ids"`
	TicketFormID            int64               `json:"ticket_form_id"`
	BrandID                 int64               `json:"brand_id"`
	SatisfactionProbability *float64            `json:"satisfaction_probability"`
	AllowChannelback        bool                `json:"allow_channelback"`
	AllowAttachments        bool                `json:"allow_attachments"`
	FromMessagingChannel    bool                `json:"from_messaging_channel"`
	// GeneratedTimestamp is when Zendesk last touched the ticket in any way
	// (Unix seconds); the incremental export orders and filters by it, not
	// by UpdatedAt.
	GeneratedTimestamp int64 `json:"generated_timestamp"`

	// Comments is the ticket's conversation, oldest first. Zendesk serves
	// it from the ticket comments endpoint, never inside the ticket.
	Comments []Comment `json:"comments"`
	// Audits is the ticket's history, oldest first: each update, with the
	// comment it added and the fields it set. Zendesk serves it from the
	// audits endpoints and the incremental ticket events export. A comment
	// that no audit lists is served as if an audit of its own, at its
	// created_at, had added it, so that a test may append to Comments
	// alone.
	Audits []Audit `json:"audits,omitempty"`
}

// Via tells how a ticket or comment was created.
type Via struct {
	Channel string    `json:"channel"`
	Source  ViaSource `json:"source"`
}

// ViaSource details a Via: for email, who sent it to which address.
type ViaSource struct {
	From map[string]any `json:"from"`
	To   map[string]any `json:"to"`
	Rel  *string        `json:"rel"`
}

// CustomFieldValue is a ticket's value for a custom field: a string for
// text, drop-down (the option's value), date (YYYY-MM-DD) and integer
// fields, a bool for checkboxes, nil when unset.
type CustomFieldValue struct {
	ID    int64 `json:"id"`
	Value any   `json:"value"`
}

// SatisfactionRating is a requester's rating of a solved ticket.
type SatisfactionRating struct {
	ID      int64  `json:"id"`
	Score   string `json:"score"`
	Comment string `json:"comment"`
}

// Comment is one message of a ticket's conversation.
type Comment struct {
	ID        int64  `json:"id"`
	Type      string `json:"type"`
	AuthorID  int64  `json:"author_id"`
	Body      string `json:"body"`
	HTMLBody  string `json:"html_body"`
	PlainBody string `json:"plain_body"`
	// Public is false for an agent's internal note.
	Public      bool         `json:"public"`
	Attachments []Attachment `json:"attachments"`
	AuditID     int64        `json:"audit_id"`
	Via         Via          `json:"via"`
	Metadata    CommentMeta  `json:"metadata"`
	CreatedAt   time.Time    `json:"created_at"`
}

// CommentMeta is a comment's metadata: where it was written from.
type CommentMeta struct {
	System map[string]any `json:"system"`
	Custom map[string]any `json:"custom"`
}

// Attachment is a file attached to a comment (or a user's photo).
type Attachment struct {
	ID       int64  `json:"id"`
	FileName string `json:"file_name"`
	// ContentURL is where the file's bytes are. A relative URL
	// (/attachments/token/...) is on the help desk's own host, and the
	// Server makes it absolute with its base URL; an absolute one is kept
	// as is (a file on another host).
	ContentURL  string       `json:"content_url"`
	ContentType string       `json:"content_type"`
	Size        int64        `json:"size"`
	Width       *int64       `json:"width"`
	Height      *int64       `json:"height"`
	Inline      bool         `json:"inline"`
	Deleted     bool         `json:"deleted"`
	Thumbnails  []Attachment `json:"thumbnails"`
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

// User returns the user with id, or nil.
func (hd *HelpDesk) User(id int64) *User {
	for i := range hd.Users {
		if hd.Users[i].ID == id {
			return &hd.Users[i]
		}
	}
	return nil
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

// CommentCount is the number of comments of all tickets.
func (hd *HelpDesk) CommentCount() int {
	n := 0
	for i := range hd.Tickets {
		n += len(hd.Tickets[i].Comments)
	}
	return n
}

// AttachmentCount is the number of attachments of all comments.
func (hd *HelpDesk) AttachmentCount() int {
	n := 0
	for i := range hd.Tickets {
		for j := range hd.Tickets[i].Comments {
			n += len(hd.Tickets[i].Comments[j].Attachments)
		}
	}
	return n
}
