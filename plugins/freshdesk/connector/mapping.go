package connector

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ferryhq/ferry/sdk/schema"
)

// The mapping from Freshdesk's JSON objects to canonical records. Each map
// function decodes only the fields the canonical model names; the whole
// object travels in the record's Raw column. Freshdesk's ids are 64-bit
// integers, written as decimal strings; an absent (null) id is "".

var errNoID = errors.New("the record has no id")

// id writes a Freshdesk id; 0 is how a null decodes, and no record has it.
func id(v int64) string {
	if v == 0 {
		return ""
	}
	return strconv.FormatInt(v, 10)
}

func idOf(p *int64) string {
	if p == nil {
		return ""
	}
	return id(*p)
}

// Knowledge-base categories and folders share the kb_categories stream but
// not Freshdesk's id sequences: their ids are prefixed so that a category
// and a folder with the same number stay two records.
func categoryID(v int64) string { return "category-" + id(v) }
func folderID(v int64) string   { return "folder-" + id(v) }

// descriptionID is the id of a ticket's description as a comment: the
// description has no id of its own in Freshdesk.
func descriptionID(ticketID string) string { return "description-" + ticketID }

// recordID reads a raw record's id for an error report, whatever else is
// wrong with the record.
func recordID(raw json.RawMessage) string {
	var v struct {
		ID json.RawMessage `json:"id"`
	}
	if json.Unmarshal(raw, &v) != nil || len(v.ID) == 0 || bytes.Equal(v.ID, []byte("null")) {
		return ""
	}
	var s string
	if json.Unmarshal(v.ID, &s) == nil {
		return s
	}
	return string(v.ID)
}

// jsonObject returns raw if it is a JSON object with something in it, nil
// otherwise: an empty or null custom-fields object is no custom fields.
func jsonObject(raw json.RawMessage) json.RawMessage {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil || len(m) == 0 {
		return nil
	}
	return raw
}

// flexString decodes a value Freshdesk sends as a string or, for phone
// numbers stored as digits only, as a number; null is "".
type flexString string

// UnmarshalJSON reads a string, a number or null.
func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*f = ""
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("%s is neither a string nor a number", b)
	}
	*f = flexString(n.String())
	return nil
}

// utc is t in UTC, zero staying zero: Freshdesk writes some times with
// the account's offset.
func utc(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC()
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

type fdAgent struct {
	ID          int64     `json:"id"`
	Deactivated bool      `json:"deactivated"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	Contact     *struct {
		Name      string     `json:"name"`
		Email     string     `json:"email"`
		Phone     flexString `json:"phone"`
		Mobile    flexString `json:"mobile"`
		UpdatedAt time.Time  `json:"updated_at"`
	} `json:"contact"`
}

// mapAgent maps an agent. Its update time is the later of the agent's and
// its contact's: a new email or name changes the contact alone.
func mapAgent(raw json.RawMessage) (*schema.User, error) {
	var a fdAgent
	if err := json.Unmarshal(raw, &a); err != nil {
		return nil, fmt.Errorf("decode agent: %w", err)
	}
	if a.ID == 0 {
		return nil, errNoID
	}
	if a.Contact == nil {
		return nil, fmt.Errorf("agent %d has no contact: no name or email to map", a.ID)
	}
	return &schema.User{
		ID: id(a.ID), Role: schema.RoleAgent, Name: a.Contact.Name, Email: a.Contact.Email,
		Phone: string(cmp.Or(a.Contact.Phone, a.Contact.Mobile)), Active: !a.Deactivated,
		CreatedAt: utc(a.CreatedAt), UpdatedAt: utc(latest(a.UpdatedAt, a.Contact.UpdatedAt)), Raw: raw,
	}, nil
}

// Contact states, as the contacts list's state filter names them; "" is
// the default list.
const (
	stateDeleted = "deleted"
	stateBlocked = "blocked"
)

type fdContact struct {
	ID           int64           `json:"id"`
	Name         string          `json:"name"`
	Email        *string         `json:"email"`
	Phone        flexString      `json:"phone"`
	Mobile       flexString      `json:"mobile"`
	CompanyID    *int64          `json:"company_id"`
	Deleted      bool            `json:"deleted"`
	CustomFields json.RawMessage `json:"custom_fields"`
	CreatedAt    time.Time       `json:"created_at"`
	UpdatedAt    time.Time       `json:"updated_at"`
}

// mapContact maps a contact listed under state. Freshdesk's own active
// flag says whether the contact verified their email, which an unverified
// customer's tickets don't care about: a contact is inactive when deleted,
// and suspended when blocked.
func mapContact(raw json.RawMessage, state string) (*schema.User, error) {
	var c fdContact
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("decode contact: %w", err)
	}
	if c.ID == 0 {
		return nil, errNoID
	}
	var email string
	if c.Email != nil {
		email = *c.Email
	}
	return &schema.User{
		ID: id(c.ID), Role: schema.RoleEndUser, Name: c.Name, Email: email, Phone: string(cmp.Or(c.Phone, c.Mobile)),
		OrganizationID: idOf(c.CompanyID), Active: !c.Deleted && state != stateDeleted, Suspended: state == stateBlocked,
		CreatedAt: utc(c.CreatedAt), UpdatedAt: utc(c.UpdatedAt), CustomFields: jsonObject(c.CustomFields), Raw: raw,
	}, nil
}

type fdCompany struct {
	ID           int64           `json:"id"`
	Name         string          `json:"name"`
	Domains      []string        `json:"domains"`
	CreatedAt    time.Time       `json:"created_at"`
	UpdatedAt    time.Time       `json:"updated_at"`
	CustomFields json.RawMessage `json:"custom_fields"`
}

func mapCompany(raw json.RawMessage) (*schema.Organization, error) {
	var c fdCompany
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("decode company: %w", err)
	}
	if c.ID == 0 {
		return nil, errNoID
	}
	return &schema.Organization{
		ID: id(c.ID), Name: c.Name, Domains: c.Domains, CreatedAt: utc(c.CreatedAt), UpdatedAt: utc(c.UpdatedAt),
		CustomFields: jsonObject(c.CustomFields), Raw: raw,
	}, nil
}

type fdGroup struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func mapGroup(raw json.RawMessage) (*schema.Group, error) {
	var g fdGroup
	if err := json.Unmarshal(raw, &g); err != nil {
		return nil, fmt.Errorf("decode group: %w", err)
	}
	if g.ID == 0 {
		return nil, errNoID
	}
	return &schema.Group{ID: id(g.ID), Name: g.Name, CreatedAt: utc(g.CreatedAt), UpdatedAt: utc(g.UpdatedAt), Raw: raw}, nil
}

// statusName is the canonical name of a ticket status: Freshdesk's four
// by their meaning, an account's own (6 and up) by their agent label, in
// lower case, as the status field's choices give it; a status nobody
// named stays its number.
func statusName(n int, labels map[int]string) string {
	switch n {
	case 2:
		return "open"
	case 3:
		return "pending"
	case 4:
		return "resolved"
	case 5:
		return "closed"
	}
	if l := labels[n]; l != "" {
		return strings.ToLower(l)
	}
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

// priorityName is the canonical name of a ticket priority.
func priorityName(n int) string {
	switch n {
	case 0:
		return ""
	case 1:
		return "low"
	case 2:
		return "medium"
	case 3:
		return "high"
	case 4:
		return "urgent"
	}
	return strconv.Itoa(n)
}

// fieldOption is a field's choice, as the canonical Options column lists
// them.
type fieldOption struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type fdTicketField struct {
	ID      int64           `json:"id"`
	Name    string          `json:"name"`
	Label   string          `json:"label"`
	Type    string          `json:"type"`
	Choices json.RawMessage `json:"choices"`
}

// mapTicketField maps a ticket field; its choices become Options with the
// values tickets carry: status and priority names, source numbers, group
// and agent ids, drop-down labels.
func mapTicketField(raw json.RawMessage) (*schema.TicketField, error) {
	var f fdTicketField
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, fmt.Errorf("decode ticket field: %w", err)
	}
	if f.ID == 0 {
		return nil, errNoID
	}
	opts, err := fieldOptions(f.Type, f.Choices)
	if err != nil {
		return nil, fmt.Errorf("ticket field %d (%s): %w", f.ID, f.Name, err)
	}
	var options json.RawMessage
	if len(opts) > 0 {
		if options, err = json.Marshal(opts); err != nil {
			return nil, fmt.Errorf("ticket field %d: encode options: %w", f.ID, err)
		}
	}
	// Freshdesk has no inactive ticket fields: a field is there or deleted.
	return &schema.TicketField{ID: id(f.ID), Title: f.Label, Type: f.Type, Active: true, Options: options, Raw: raw}, nil
}

// fieldOptions reads a field's choices in whichever of Freshdesk's shapes:
// a list of labels (drop-downs, ticket type); for the status field an
// object of status number to [agent label, customer label]; for priority
// and source an object of label to number; for group and agent an object
// of name to id; for a dependent field an object of label to sub-choices.
func fieldOptions(typ string, choices json.RawMessage) ([]fieldOption, error) {
	if len(choices) == 0 || bytes.Equal(choices, []byte("null")) {
		return nil, nil
	}
	var list []string
	if json.Unmarshal(choices, &list) == nil {
		opts := make([]fieldOption, len(list))
		for i, l := range list {
			opts[i] = fieldOption{Name: l, Value: l}
		}
		return opts, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(choices, &obj); err != nil {
		return nil, errors.New("choices are neither a list nor an object")
	}
	type keyed struct {
		opt   fieldOption
		order int64 // the number behind the option, where there is one
	}
	var out []keyed
	for k, v := range obj {
		var n int64
		var labels []string
		switch {
		case typ == "default_status" && json.Unmarshal(v, &labels) == nil && len(labels) > 0:
			num, err := strconv.Atoi(k)
			if err != nil {
				return nil, fmt.Errorf("status choice %q is not a number", k)
			}
			out = append(out, keyed{fieldOption{Name: labels[0], Value: statusName(num, map[int]string{num: labels[0]})}, int64(num)})
		case json.Unmarshal(v, &n) == nil:
			value := strconv.FormatInt(n, 10)
			if typ == "default_priority" {
				value = priorityName(int(n))
			}
			out = append(out, keyed{fieldOption{Name: k, Value: value}, n})
		default:
			out = append(out, keyed{fieldOption{Name: k, Value: k}, 0})
		}
	}
	// An object's order is lost in decoding: order by the number behind
	// each option, then by name, so that a field always maps the same.
	slices.SortFunc(out, func(a, b keyed) int {
		return cmp.Or(cmp.Compare(a.order, b.order), strings.Compare(a.opt.Name, b.opt.Name))
	})
	opts := make([]fieldOption, len(out))
	for i, k := range out {
		opts[i] = k.opt
	}
	return opts, nil
}

// ticketMeta is what mapping a ticket needs from the account's ticket
// fields.
type ticketMeta struct {
	// statuses names the account's own statuses by number.
	statuses map[int]string
	// fieldIDs gives a custom field's id by its name (cf_...), the key of
	// its value in a ticket's custom_fields.
	fieldIDs map[string]string
}

// newTicketMeta reads the ticket fields' list.
func newTicketMeta(fields []json.RawMessage) (ticketMeta, error) {
	m := ticketMeta{statuses: map[int]string{}, fieldIDs: map[string]string{}}
	for _, raw := range fields {
		var f fdTicketField
		if err := json.Unmarshal(raw, &f); err != nil {
			return m, fmt.Errorf("decode ticket field: %w", err)
		}
		if f.Type == "default_status" {
			var choices map[string][]string
			if err := json.Unmarshal(f.Choices, &choices); err != nil {
				return m, fmt.Errorf("decode the status field's choices: %w", err)
			}
			for k, labels := range choices {
				if n, err := strconv.Atoi(k); err == nil && len(labels) > 0 {
					m.statuses[n] = labels[0]
				}
			}
		}
		if f.ID != 0 && f.Name != "" {
			m.fieldIDs[f.Name] = id(f.ID)
		}
	}
	return m, nil
}

type fdTicket struct {
	ID           int64                      `json:"id"`
	Subject      string                     `json:"subject"`
	Status       int                        `json:"status"`
	Priority     int                        `json:"priority"`
	Type         *string                    `json:"type"`
	RequesterID  int64                      `json:"requester_id"`
	ResponderID  *int64                     `json:"responder_id"`
	GroupID      *int64                     `json:"group_id"`
	CompanyID    *int64                     `json:"company_id"`
	Tags         []string                   `json:"tags"`
	CustomFields map[string]json.RawMessage `json:"custom_fields"`
	CreatedAt    time.Time                  `json:"created_at"`
	UpdatedAt    time.Time                  `json:"updated_at"`
	Spam         bool                       `json:"spam"`
	Deleted      bool                       `json:"deleted"`
	Source       int                        `json:"source"`
	Attachments  []json.RawMessage          `json:"attachments"`
}

// mapTicket maps a ticket as viewing it gives it. Custom fields become an
// object keyed by the field's id, as ticket_fields lists them, unset ones
// null; a field the list does not know keeps its name. Freshdesk's CCs
// are email addresses, not users: they stay in Raw, and CCIDs is empty.
// Freshdesk does not say who submitted a ticket, so SubmitterID is empty.
func mapTicket(raw json.RawMessage, meta ticketMeta) (*schema.Ticket, error) {
	var t fdTicket
	if err := json.Unmarshal(raw, &t); err != nil {
		return nil, fmt.Errorf("decode ticket: %w", err)
	}
	if t.ID == 0 {
		return nil, errNoID
	}
	var custom json.RawMessage
	if len(t.CustomFields) > 0 {
		m := make(map[string]json.RawMessage, len(t.CustomFields))
		for name, v := range t.CustomFields {
			key := name
			if fid, ok := meta.fieldIDs[name]; ok {
				key = fid
			}
			if len(v) == 0 {
				v = json.RawMessage("null")
			}
			m[key] = v
		}
		b, err := json.Marshal(m) // map keys sort: the same ticket always maps to the same bytes
		if err != nil {
			return nil, fmt.Errorf("ticket %d: encode custom fields: %w", t.ID, err)
		}
		custom = b
	}
	var typ string
	if t.Type != nil {
		typ = *t.Type
	}
	return &schema.Ticket{
		ID: id(t.ID), Subject: t.Subject, Status: statusName(t.Status, meta.statuses), Priority: priorityName(t.Priority),
		Type: typ, RequesterID: id(t.RequesterID), AssigneeID: idOf(t.ResponderID), GroupID: idOf(t.GroupID),
		OrganizationID: idOf(t.CompanyID), Tags: t.Tags, CustomFields: custom,
		CreatedAt: utc(t.CreatedAt), UpdatedAt: utc(t.UpdatedAt), Raw: raw,
	}, nil
}

type fdAttachment struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	// Size is API v2's name; older answers call it file_size.
	Size          *int64 `json:"size"`
	FileSize      *int64 `json:"file_size"`
	AttachmentURL string `json:"attachment_url"`
}

// mapAttachments maps a ticket message's attachments, in order.
func mapAttachments(ticketID, commentID string, raws []json.RawMessage) ([]*schema.Attachment, error) {
	out := make([]*schema.Attachment, 0, len(raws))
	for i, ar := range raws {
		var a fdAttachment
		if err := json.Unmarshal(ar, &a); err != nil {
			return nil, fmt.Errorf("decode attachment %d: %w", i, err)
		}
		if a.ID == 0 {
			return nil, fmt.Errorf("attachment %d has no id", i)
		}
		size := a.Size
		if size == nil {
			size = a.FileSize
		}
		var n int64
		if size != nil {
			n = *size
		}
		out = append(out, &schema.Attachment{
			ID: id(a.ID), TicketID: ticketID, CommentID: commentID, FileName: a.Name,
			ContentType: a.ContentType, Size: n, URL: a.AttachmentURL, Position: int64(i), Raw: ar,
		})
	}
	return out, nil
}

// descriptionKeys are the ticket's keys a description comment's Raw
// keeps: what the first message is made of.
var descriptionKeys = []string{"id", "requester_id", "source", "created_at", "description", "description_text", "attachments"}

// mapDescription maps a viewed ticket's description, its first message,
// into a public comment by the requester at the ticket's creation, with
// the ticket's attachments. Freshdesk does not say who wrote the
// description: on an outbound ticket it was an agent, and the Raw's
// source (10) tells.
func mapDescription(raw json.RawMessage) (*schema.Comment, []*schema.Attachment, error) {
	var t struct {
		fdTicket
		Description     string `json:"description"`
		DescriptionText string `json:"description_text"`
	}
	if err := json.Unmarshal(raw, &t); err != nil {
		return nil, nil, fmt.Errorf("decode ticket: %w", err)
	}
	if t.ID == 0 {
		return nil, nil, errNoID
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, nil, fmt.Errorf("decode ticket: %w", err)
	}
	var b bytes.Buffer
	b.WriteByte('{')
	for _, k := range descriptionKeys {
		v, ok := fields[k]
		if !ok {
			continue
		}
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		key := k
		if k == "id" {
			key = "ticket_id"
		}
		fmt.Fprintf(&b, "%q:%s", key, v)
	}
	b.WriteByte('}')
	ticketID := id(t.ID)
	c := &schema.Comment{
		ID: descriptionID(ticketID), TicketID: ticketID, AuthorID: id(t.RequesterID), Public: true,
		BodyHTML: t.Description, BodyText: t.DescriptionText, CreatedAt: utc(t.CreatedAt), Raw: b.Bytes(),
	}
	atts, err := mapAttachments(ticketID, c.ID, t.Attachments)
	if err != nil {
		return nil, nil, fmt.Errorf("ticket %d: %w", t.ID, err)
	}
	return c, atts, nil
}

type fdConversation struct {
	ID          int64             `json:"id"`
	UserID      int64             `json:"user_id"`
	Private     bool              `json:"private"`
	Body        string            `json:"body"`
	BodyText    string            `json:"body_text"`
	CreatedAt   time.Time         `json:"created_at"`
	Attachments []json.RawMessage `json:"attachments"`
}

// mapConversation maps a reply or note of ticket ticketID and its
// attachments: a private note is a private comment.
func mapConversation(ticketID string, raw json.RawMessage) (*schema.Comment, []*schema.Attachment, error) {
	var c fdConversation
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, nil, fmt.Errorf("decode conversation: %w", err)
	}
	if c.ID == 0 {
		return nil, nil, errNoID
	}
	comment := &schema.Comment{
		ID: id(c.ID), TicketID: ticketID, AuthorID: id(c.UserID), Public: !c.Private,
		BodyHTML: c.Body, BodyText: c.BodyText, CreatedAt: utc(c.CreatedAt), Raw: raw,
	}
	atts, err := mapAttachments(ticketID, comment.ID, c.Attachments)
	if err != nil {
		return nil, nil, fmt.Errorf("conversation %d: %w", c.ID, err)
	}
	return comment, atts, nil
}

type fdSolutionEntry struct {
	ID             int64     `json:"id"`
	Name           string    `json:"name"`
	Description    *string   `json:"description"`
	ParentFolderID *int64    `json:"parent_folder_id"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// textHTML writes a plain-text description as HTML.
func textHTML(p *string) string {
	if p == nil || *p == "" {
		return ""
	}
	return "<p>" + html.EscapeString(*p) + "</p>"
}

// mapCategory maps a solution category; its description is plain text.
func mapCategory(raw json.RawMessage, locale string) (*schema.KBCategory, error) {
	var c fdSolutionEntry
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("decode solution category: %w", err)
	}
	if c.ID == 0 {
		return nil, errNoID
	}
	return &schema.KBCategory{KBEntry: schema.KBEntry{
		ID: categoryID(c.ID), Locale: locale, Title: c.Name, BodyHTML: textHTML(c.Description),
		CreatedAt: utc(c.CreatedAt), UpdatedAt: utc(c.UpdatedAt), Raw: raw,
	}}, nil
}

// mapFolder maps a folder of category parent (a Freshdesk id): its parent
// is its category, or the folder it sits in.
func mapFolder(raw json.RawMessage, parent int64, locale string) (*schema.KBCategory, error) {
	var f fdSolutionEntry
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, fmt.Errorf("decode solution folder: %w", err)
	}
	if f.ID == 0 {
		return nil, errNoID
	}
	parentID := categoryID(parent)
	if f.ParentFolderID != nil && *f.ParentFolderID != 0 {
		parentID = folderID(*f.ParentFolderID)
	}
	return &schema.KBCategory{KBEntry: schema.KBEntry{
		ID: folderID(f.ID), ParentID: parentID, Locale: locale, Title: f.Name, BodyHTML: textHTML(f.Description),
		CreatedAt: utc(f.CreatedAt), UpdatedAt: utc(f.UpdatedAt), Raw: raw,
	}}, nil
}

type fdArticle struct {
	ID          int64     `json:"id"`
	Title       string    `json:"title"`
	Description string    `json:"description"`
	AgentID     int64     `json:"agent_id"`
	FolderID    int64     `json:"folder_id"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// mapArticle maps an article listed in folder (a Freshdesk id). Drafts
// are mapped too: Raw's status tells them apart, and Raw keeps the
// article's attachments.
func mapArticle(raw json.RawMessage, folder int64, locale string) (*schema.KBArticle, error) {
	var a fdArticle
	if err := json.Unmarshal(raw, &a); err != nil {
		return nil, fmt.Errorf("decode solution article: %w", err)
	}
	if a.ID == 0 {
		return nil, errNoID
	}
	return &schema.KBArticle{KBEntry: schema.KBEntry{
		ID: id(a.ID), ParentID: folderID(cmp.Or(a.FolderID, folder)), Locale: locale, Title: a.Title, BodyHTML: a.Description,
		AuthorID: id(a.AgentID), CreatedAt: utc(a.CreatedAt), UpdatedAt: utc(a.UpdatedAt), Raw: raw,
	}}, nil
}
