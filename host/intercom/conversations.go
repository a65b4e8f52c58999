package intercom

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// Message types of replies and of conversation management.
const (
	// MessageComment is a reply the customer sees.
	MessageComment = "comment"
	// MessageNote is an internal note (admins only).
	MessageNote = "note"

	ManageClose  = "close"
	ManageOpen   = "open"
	ManageSnooze = "snoozed"
	ManageAssign = "assignment"
)

// MaxAttachmentURLs is how many attachment_urls Intercom takes on one
// conversation create or reply.
const MaxAttachmentURLs = 10

// CreateConversationRequest is the body of POST /conversations: a
// conversation started by a contact.
type CreateConversationRequest struct {
	From ConversationFrom `json:"from"`
	// Body is the first message. Intercom does not render HTML here.
	Body    string `json:"body"`
	Subject string `json:"subject,omitempty"`
	// AttachmentURLs are at most MaxAttachmentURLs image URLs.
	AttachmentURLs []string `json:"attachment_urls,omitempty"`
	// CreatedAt (unix seconds) backdates the conversation; Intercom
	// documents it for migrating past conversations.
	CreatedAt int64 `json:"created_at,omitempty"`
}

// ConversationFrom names the contact who starts a conversation.
type ConversationFrom struct {
	// Type is "user", "lead" or "contact".
	Type string `json:"type"`
	// ID is the contact's Intercom id (24 characters).
	ID string `json:"id"`
}

// Message is what POST /conversations returns: the first message, with the
// id of the conversation it started.
type Message struct {
	Type           string `json:"type"`
	ID             string `json:"id"`
	CreatedAt      int64  `json:"created_at"`
	Subject        string `json:"subject,omitempty"`
	Body           string `json:"body"`
	MessageType    string `json:"message_type"`
	ConversationID string `json:"conversation_id"`
}

// ReplyRequest is the body of POST /conversations/{id}/reply. It covers both
// variants of the API:
//
//   - an admin part: Type "admin", AdminID, MessageType MessageComment or
//     MessageNote;
//   - a contact part: Type "user", MessageType MessageComment, and exactly one
//     of IntercomUserID, UserID (the contact's external_id) or Email.
//
// Body is required. CreatedAt (unix seconds) keeps the source's time.
type ReplyRequest struct {
	Type        string `json:"type"`
	MessageType string `json:"message_type"`
	AdminID     string `json:"admin_id,omitempty"`

	IntercomUserID string `json:"intercom_user_id,omitempty"`
	UserID         string `json:"user_id,omitempty"`
	Email          string `json:"email,omitempty"`

	Body           string   `json:"body,omitempty"`
	CreatedAt      int64    `json:"created_at,omitempty"`
	AttachmentURLs []string `json:"attachment_urls,omitempty"`
	// SkipNotifications keeps Intercom from notifying anyone about the
	// part: what an import of history wants.
	SkipNotifications bool `json:"skip_notifications,omitempty"`
}

// validate checks what the API's oneOf would reject, so a bad reply fails
// here with a clear reason instead of as an opaque 400.
func (r *ReplyRequest) validate() error {
	if r.MessageType == "" {
		r.MessageType = MessageComment
	}
	ids := 0
	for _, s := range []string{r.IntercomUserID, r.UserID, r.Email} {
		if s != "" {
			ids++
		}
	}
	switch r.Type {
	case "admin":
		if r.AdminID == "" {
			return fmt.Errorf("%w: admin reply without admin_id", ErrInvalidRequest)
		}
		if ids > 0 {
			return fmt.Errorf("%w: admin reply names a contact", ErrInvalidRequest)
		}
		if r.MessageType != MessageComment && r.MessageType != MessageNote {
			return fmt.Errorf("%w: admin reply message_type %q (want comment or note)", ErrInvalidRequest, r.MessageType)
		}
	case "user":
		if ids != 1 {
			return fmt.Errorf("%w: contact reply must name exactly one of intercom_user_id, user_id, email (got %d)", ErrInvalidRequest, ids)
		}
		if r.AdminID != "" {
			return fmt.Errorf("%w: contact reply with admin_id", ErrInvalidRequest)
		}
		if r.MessageType != MessageComment {
			return fmt.Errorf("%w: contact reply message_type %q (want comment)", ErrInvalidRequest, r.MessageType)
		}
	default:
		return fmt.Errorf("%w: reply type %q (want admin or user)", ErrInvalidRequest, r.Type)
	}
	if strings.TrimSpace(r.Body) == "" {
		return fmt.Errorf("%w: reply without body", ErrInvalidRequest)
	}
	if len(r.AttachmentURLs) > MaxAttachmentURLs {
		return fmt.Errorf("%w: %d attachment_urls (at most %d)", ErrInvalidRequest, len(r.AttachmentURLs), MaxAttachmentURLs)
	}
	return nil
}

// ManageRequest is the body of POST /conversations/{id}/parts, which closes,
// opens, snoozes or assigns a conversation. None of these take a created_at:
// they always carry the time of the call.
type ManageRequest struct {
	// MessageType is ManageClose, ManageOpen, ManageSnooze or ManageAssign.
	MessageType string `json:"message_type"`
	// Type is "admin" (close, assignment to an admin) or "team" (assignment
	// to a team); left empty it defaults to "admin" where the API needs it.
	Type string `json:"type,omitempty"`
	// AdminID is the admin performing the action.
	AdminID string `json:"admin_id"`
	// AssigneeID is the admin or team to assign to; "0" unassigns.
	AssigneeID string `json:"assignee_id,omitempty"`
	// SnoozedUntil is unix seconds.
	SnoozedUntil int64  `json:"snoozed_until,omitempty"`
	Body         string `json:"body,omitempty"`
}

func (r *ManageRequest) validate() error {
	if r.AdminID == "" {
		return fmt.Errorf("%w: %s without admin_id", ErrInvalidRequest, r.MessageType)
	}
	switch r.MessageType {
	case ManageClose:
		if r.Type == "" {
			r.Type = "admin"
		}
	case ManageOpen:
		// open takes no type: leave what the caller set.
	case ManageSnooze:
		if r.SnoozedUntil <= 0 {
			return fmt.Errorf("%w: snooze without snoozed_until", ErrInvalidRequest)
		}
	case ManageAssign:
		if r.Type == "" {
			r.Type = "admin"
		}
		if r.AssigneeID == "" {
			return fmt.Errorf("%w: assignment without assignee_id", ErrInvalidRequest)
		}
	default:
		return fmt.Errorf("%w: message_type %q (want close, open, snoozed or assignment)", ErrInvalidRequest, r.MessageType)
	}
	return nil
}

// UpdateConversationRequest is the body of PUT /conversations/{id}.
type UpdateConversationRequest struct {
	Title string `json:"title,omitempty"`
	// CustomAttributes are conversation attributes, which must exist in the
	// workspace (POST /conversations/attributes).
	CustomAttributes map[string]any `json:"custom_attributes,omitempty"`
	Read             *bool          `json:"read,omitempty"`
	// CompanyID is the Intercom id of a company to link the conversation to.
	CompanyID string `json:"company_id,omitempty"`
}

// Conversation is an Intercom conversation. GetConversation fills
// ConversationParts (Intercom returns at most the 500 most recent parts);
// lists leave it empty.
type Conversation struct {
	Type         string `json:"type,omitempty"`
	ID           string `json:"id"`
	Title        string `json:"title,omitempty"`
	CreatedAt    int64  `json:"created_at"`
	UpdatedAt    int64  `json:"updated_at"`
	WaitingSince int64  `json:"waiting_since,omitempty"`
	SnoozedUntil int64  `json:"snoozed_until,omitempty"`
	Open         bool   `json:"open"`
	// State is "open", "closed" or "snoozed".
	State    string `json:"state"`
	Read     bool   `json:"read"`
	Priority string `json:"priority,omitempty"`
	// AdminAssigneeID and TeamAssigneeID are "" when unassigned (integers
	// or null on the wire).
	AdminAssigneeID   string               `json:"admin_assignee_id,omitempty"`
	TeamAssigneeID    string               `json:"team_assignee_id,omitempty"`
	Tags              TagList              `json:"tags"`
	Source            ConversationSource   `json:"source"`
	Contacts          ConversationContacts `json:"contacts"`
	CustomAttributes  map[string]any       `json:"custom_attributes,omitempty"`
	ConversationParts ConversationParts    `json:"conversation_parts"`
}

// UnmarshalJSON accepts the assignee ids as numbers, strings or null.
func (c *Conversation) UnmarshalJSON(b []byte) error {
	type plain Conversation
	aux := struct {
		*plain
		// These shadow the embedded fields of the same JSON name.
		AdminAssigneeID flexString `json:"admin_assignee_id"`
		TeamAssigneeID  flexString `json:"team_assignee_id"`
	}{plain: (*plain)(c)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	c.AdminAssigneeID, c.TeamAssigneeID = string(aux.AdminAssigneeID), string(aux.TeamAssigneeID)
	return nil
}

// TagList is the {type:"tag.list", tags:[...]} of a conversation or company.
type TagList struct {
	Type string `json:"type,omitempty"`
	Tags []Tag  `json:"tags"`
}

// ConversationSource is the message that started a conversation.
type ConversationSource struct {
	Type        string       `json:"type,omitempty"`
	ID          string       `json:"id,omitempty"`
	DeliveredAs string       `json:"delivered_as,omitempty"`
	Subject     string       `json:"subject,omitempty"`
	Body        string       `json:"body"`
	Author      Author       `json:"author"`
	Attachments []Attachment `json:"attachments"`
	URL         string       `json:"url,omitempty"`
	Redacted    bool         `json:"redacted"`
}

// ConversationContacts lists the contacts taking part in a conversation.
type ConversationContacts struct {
	Type     string             `json:"type,omitempty"`
	Contacts []ContactReference `json:"contacts"`
}

// ContactReference points at a contact.
type ContactReference struct {
	Type       string `json:"type,omitempty"`
	ID         string `json:"id"`
	ExternalID string `json:"external_id,omitempty"`
}

// ConversationParts holds a conversation's parts, oldest first.
type ConversationParts struct {
	Type              string             `json:"type,omitempty"`
	ConversationParts []ConversationPart `json:"conversation_parts"`
	TotalCount        int                `json:"total_count"`
}

// ConversationPart is one reply, note or action in a conversation.
type ConversationPart struct {
	Type string `json:"type,omitempty"`
	ID   string `json:"id"`
	// PartType is e.g. "comment", "note", "close", "open", "snoozed", "assignment".
	PartType    string       `json:"part_type"`
	Body        string       `json:"body,omitempty"`
	CreatedAt   int64        `json:"created_at"`
	UpdatedAt   int64        `json:"updated_at"`
	NotifiedAt  int64        `json:"notified_at,omitempty"`
	AssignedTo  *Reference   `json:"assigned_to,omitempty"`
	Author      Author       `json:"author"`
	Attachments []Attachment `json:"attachments"`
	ExternalID  string       `json:"external_id,omitempty"`
	Redacted    bool         `json:"redacted"`
}

// Author is who wrote a part or started a conversation.
type Author struct {
	// Type is "admin", "user", "lead", "bot" or "team".
	Type  string `json:"type"`
	ID    string `json:"id"`
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
}

// Attachment is a file on a conversation part or source.
type Attachment struct {
	Type        string `json:"type,omitempty"`
	Name        string `json:"name"`
	URL         string `json:"url"`
	ContentType string `json:"content_type,omitempty"`
	Filesize    int64  `json:"filesize,omitempty"`
	Width       int    `json:"width,omitempty"`
	Height      int    `json:"height,omitempty"`
}

// ConversationPage is one page of the cursor list of conversations.
type ConversationPage struct {
	Conversations []Conversation
	TotalCount    int
	// Next is the cursor of the following page ("" on the last page).
	Next string
}

// CreateConversation starts a conversation from a contact and returns the
// first message; its ConversationID is what replies are posted to.
func (c *Client) CreateConversation(ctx context.Context, in CreateConversationRequest) (*Message, error) {
	if len(in.AttachmentURLs) > MaxAttachmentURLs {
		return nil, fmt.Errorf("create conversation from %s: %w: %d attachment_urls (at most %d)",
			in.From.ID, ErrInvalidRequest, len(in.AttachmentURLs), MaxAttachmentURLs)
	}
	var out Message
	if err := c.do(ctx, request{method: http.MethodPost, template: "/conversations", body: in, create: true}, &out); err != nil {
		return nil, fmt.Errorf("create conversation from %s %s: %w", in.From.Type, in.From.ID, err)
	}
	return &out, nil
}

// ReplyConversation adds an admin or contact part and returns its id (the
// newest of the conversation's parts in the answer).
func (c *Client) ReplyConversation(ctx context.Context, conversationID string, in ReplyRequest) (partID string, err error) {
	if err := in.validate(); err != nil {
		return "", fmt.Errorf("reply to conversation %s: %w", conversationID, err)
	}
	var out replyAnswer
	r := request{method: http.MethodPost, template: "/conversations/{conversation_id}/reply", params: []string{conversationID}, body: in, create: true}
	if err := c.do(ctx, r, &out); err != nil {
		return "", fmt.Errorf("reply (%s %s) to conversation %s: %w", in.Type, in.MessageType, conversationID, err)
	}
	if !out.any {
		// The part was made; which one it is, the caller reads back.
		return "", fmt.Errorf("reply (%s %s) to conversation %s: %w: the answer lists no parts", in.Type, in.MessageType, conversationID, ErrOutcomeUnknown)
	}
	return out.last, nil
}

// replyAnswer is what the answer to a reply is read for: the id of the
// newest part (see lastPartID).
type replyAnswer struct {
	last string
	any  bool // the answer lists parts
}

func (a *replyAnswer) decodeRaw(body []byte) error {
	if id, ok := lastPartID(body); ok {
		a.last, a.any = id, true
		return nil
	}
	var out partIDs
	if err := json.Unmarshal(body, &out); err != nil {
		return err
	}
	if parts := out.ConversationParts.ConversationParts; len(parts) > 0 {
		a.last, a.any = string(parts[len(parts)-1].ID), true
	}
	return nil
}

// partIDs is the answer to a reply as encoding/json reads it for the ids
// of the conversation's parts, oldest first: replyAnswer's way when
// lastPartID cannot settle an answer.
type partIDs struct {
	ConversationParts struct {
		ConversationParts []struct {
			ID flexString `json:"id"`
		} `json:"conversation_parts"`
	} `json:"conversation_parts"`
}

// ManageConversation closes, opens, snoozes or assigns a conversation. The
// answer, the whole conversation, is not read: no caller needs it.
func (c *Client) ManageConversation(ctx context.Context, conversationID string, in ManageRequest) error {
	if err := in.validate(); err != nil {
		return fmt.Errorf("manage conversation %s: %w", conversationID, err)
	}
	r := request{method: http.MethodPost, template: "/conversations/{conversation_id}/parts", params: []string{conversationID}, body: in, create: true}
	if err := c.do(ctx, r, nil); err != nil {
		return fmt.Errorf("%s conversation %s: %w", in.MessageType, conversationID, err)
	}
	return nil
}

// UpdateConversation sets a conversation's title, custom attributes, read
// flag or company. Its answer is not read either.
func (c *Client) UpdateConversation(ctx context.Context, conversationID string, in UpdateConversationRequest) error {
	r := request{method: http.MethodPut, template: "/conversations/{conversation_id}", params: []string{conversationID}, body: in}
	if err := c.do(ctx, r, nil); err != nil {
		return fmt.Errorf("update conversation %s: %w", conversationID, err)
	}
	return nil
}

// GetConversation fetches a conversation with its (at most 500 most recent) parts.
func (c *Client) GetConversation(ctx context.Context, conversationID string) (*Conversation, error) {
	var out Conversation
	r := request{method: http.MethodGet, template: "/conversations/{conversation_id}", params: []string{conversationID}}
	if err := c.do(ctx, r, &out); err != nil {
		return nil, fmt.Errorf("get conversation %s: %w", conversationID, err)
	}
	return &out, nil
}

// ListConversations returns the page of conversations after the cursor
// startingAfter ("" for the first page); perPage is at most 150.
func (c *Client) ListConversations(ctx context.Context, startingAfter string, perPage int) (ConversationPage, error) {
	var out struct {
		Conversations []Conversation `json:"conversations"`
		TotalCount    int            `json:"total_count"`
		Pages         *cursorPages   `json:"pages"`
	}
	r := request{method: http.MethodGet, template: "/conversations", query: cursorQuery(startingAfter, perPage)}
	if err := c.do(ctx, r, &out); err != nil {
		return ConversationPage{}, fmt.Errorf("list conversations after %q: %w", startingAfter, err)
	}
	return ConversationPage{Conversations: out.Conversations, TotalCount: out.TotalCount, Next: out.Pages.nextCursor()}, nil
}

// SearchConversations returns the conversations whose field equals value,
// e.g. ("contact_ids", "<contact id>"), newest first. Intercom may index a
// new conversation for search with a delay.
func (c *Client) SearchConversations(ctx context.Context, field, value, startingAfter string, perPage int) (ConversationPage, error) {
	body := searchBody(field, value, startingAfter, perPage)
	var out struct {
		Conversations []Conversation `json:"conversations"`
		TotalCount    int            `json:"total_count"`
		Pages         *cursorPages   `json:"pages"`
	}
	if err := c.do(ctx, request{method: http.MethodPost, template: "/conversations/search", body: body}, &out); err != nil {
		return ConversationPage{}, fmt.Errorf("search conversations %s=%q: %w", field, value, err)
	}
	return ConversationPage{Conversations: out.Conversations, TotalCount: out.TotalCount, Next: out.Pages.nextCursor()}, nil
}

// AddParticipant makes contact contactID take part in a conversation (a
// CC'd person of the source), as admin adminID. Adding a contact that takes
// part already changes nothing.
func (c *Client) AddParticipant(ctx context.Context, conversationID, adminID, contactID string) (*Conversation, error) {
	if contactID == "" || adminID == "" {
		return nil, fmt.Errorf("add a participant to conversation %s: %w: contact and admin are required", conversationID, ErrInvalidRequest)
	}
	body := map[string]any{"admin_id": adminID, "customer": map[string]string{"intercom_user_id": contactID}}
	var out Conversation
	r := request{method: http.MethodPost, template: "/conversations/{conversation_id}/customers", params: []string{conversationID}, body: body}
	if err := c.do(ctx, r, &out); err != nil {
		return nil, fmt.Errorf("add contact %s to conversation %s: %w", contactID, conversationID, err)
	}
	return &out, nil
}
