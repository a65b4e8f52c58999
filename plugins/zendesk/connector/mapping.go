package connector

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/ferryhq/ferry/sdk/schema"
)

// The mapping from Zendesk's JSON objects to canonical records. Each map
// function decodes only the fields the canonical model names; the whole
// object travels in the record's Raw column. Zendesk's ids are 64-bit
// integers, written as decimal strings; an absent (null) id is "".

var errNoID = errors.New("the record has no id")

// id writes a Zendesk id; 0 is how a null decodes, and no record has it.
func id(v int64) string {
	if v == 0 {
		return ""
	}
	return strconv.FormatInt(v, 10)
}

func ids(vs []int64) []string {
	out := make([]string, 0, len(vs))
	for _, v := range vs {
		out = append(out, id(v))
	}
	return out
}

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

// marshalText encodes v as compact JSON that keeps <, > and & as they are:
// these columns hold HTML that people read in SQL, and JSON does not need
// them escaped.
func marshalText(v any) (json.RawMessage, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
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

type zdUser struct {
	ID             int64           `json:"id"`
	Name           string          `json:"name"`
	Email          string          `json:"email"`
	Phone          string          `json:"phone"`
	OrganizationID int64           `json:"organization_id"`
	Role           string          `json:"role"`
	Active         bool            `json:"active"`
	Suspended      bool            `json:"suspended"`
	CreatedAt      time.Time       `json:"created_at"`
	UpdatedAt      time.Time       `json:"updated_at"`
	UserFields     json.RawMessage `json:"user_fields"`
}

// mapUser maps a Zendesk user. Admins and agents are agents; an
// unknown role is an error, not a guess, since it decides who the
// person becomes in Intercom.
func mapUser(raw json.RawMessage) (*schema.User, error) {
	var u zdUser
	if err := json.Unmarshal(raw, &u); err != nil {
		return nil, fmt.Errorf("decode user: %w", err)
	}
	if u.ID == 0 {
		return nil, errNoID
	}
	var role string
	switch u.Role {
	case "admin", "agent":
		role = schema.RoleAgent
	case "end-user":
		role = schema.RoleEndUser
	default:
		return nil, fmt.Errorf("user %d has role %q, which is none of end-user, agent or admin", u.ID, u.Role)
	}
	return &schema.User{
		ID: id(u.ID), Role: role, Name: u.Name, Email: u.Email, Phone: u.Phone,
		OrganizationID: id(u.OrganizationID), Active: u.Active, Suspended: u.Suspended,
		CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt, CustomFields: jsonObject(u.UserFields), Raw: raw,
	}, nil
}

type zdOrganization struct {
	ID                 int64           `json:"id"`
	Name               string          `json:"name"`
	DomainNames        []string        `json:"domain_names"`
	CreatedAt          time.Time       `json:"created_at"`
	UpdatedAt          time.Time       `json:"updated_at"`
	OrganizationFields json.RawMessage `json:"organization_fields"`
}

func mapOrganization(raw json.RawMessage) (*schema.Organization, error) {
	var o zdOrganization
	if err := json.Unmarshal(raw, &o); err != nil {
		return nil, fmt.Errorf("decode organization: %w", err)
	}
	if o.ID == 0 {
		return nil, errNoID
	}
	return &schema.Organization{
		ID: id(o.ID), Name: o.Name, Domains: o.DomainNames, CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt,
		CustomFields: jsonObject(o.OrganizationFields), Raw: raw,
	}, nil
}

type zdGroup struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func mapGroup(raw json.RawMessage) (*schema.Group, error) {
	var g zdGroup
	if err := json.Unmarshal(raw, &g); err != nil {
		return nil, fmt.Errorf("decode group: %w", err)
	}
	if g.ID == 0 {
		return nil, errNoID
	}
	return &schema.Group{ID: id(g.ID), Name: g.Name, CreatedAt: g.CreatedAt, UpdatedAt: g.UpdatedAt, Raw: raw}, nil
}

// fieldOption is a drop-down or system field's option, as the canonical
// Options column lists them.
type fieldOption struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type zdTicketField struct {
	ID                 int64         `json:"id"`
	Type               string        `json:"type"`
	Title              string        `json:"title"`
	Active             bool          `json:"active"`
	CustomFieldOptions []fieldOption `json:"custom_field_options"`
	SystemFieldOptions []fieldOption `json:"system_field_options"`
}

// mapTicketField maps a ticket field; a drop-down's options, or a system
// field's (status, type, priority), become Options.
func mapTicketField(raw json.RawMessage) (*schema.TicketField, error) {
	var f zdTicketField
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, fmt.Errorf("decode ticket field: %w", err)
	}
	if f.ID == 0 {
		return nil, errNoID
	}
	opts := f.CustomFieldOptions
	if len(opts) == 0 {
		opts = f.SystemFieldOptions
	}
	var options json.RawMessage
	if len(opts) > 0 {
		b, err := json.Marshal(opts)
		if err != nil {
			return nil, fmt.Errorf("ticket field %d: encode options: %w", f.ID, err)
		}
		options = b
	}
	return &schema.TicketField{ID: id(f.ID), Title: f.Title, Type: f.Type, Active: f.Active, Options: options, Raw: raw}, nil
}

type zdCustomFieldValue struct {
	ID    int64           `json:"id"`
	Value json.RawMessage `json:"value"`
}

type zdTicket struct {
	ID              int64                `json:"id"`
	Subject         string               `json:"subject"`
	Status          string               `json:"status"`
	Priority        string               `json:"priority"`
	Type            string               `json:"type"`
	RequesterID     int64                `json:"requester_id"`
	SubmitterID     int64                `json:"submitter_id"`
	AssigneeID      int64                `json:"assignee_id"`
	GroupID         int64                `json:"group_id"`
	OrganizationID  int64                `json:"organization_id"`
	Tags            []string             `json:"tags"`
	EmailCCIDs      []int64              `json:"email_cc_ids"`
	CollaboratorIDs []int64              `json:"collaborator_ids"`
	CustomFields    []zdCustomFieldValue `json:"custom_fields"`
	CreatedAt       time.Time            `json:"created_at"`
	UpdatedAt       time.Time            `json:"updated_at"`
}

// mapTicket maps a ticket. CCIDs are the email CCs and the (older)
// collaborators, each once; custom fields become an object keyed by field
// id, unset ones null, as Zendesk lists them.
func mapTicket(raw json.RawMessage) (*schema.Ticket, error) {
	var t zdTicket
	if err := json.Unmarshal(raw, &t); err != nil {
		return nil, fmt.Errorf("decode ticket: %w", err)
	}
	if t.ID == 0 {
		return nil, errNoID
	}
	var cc []int64
	for _, v := range append(slices.Clone(t.EmailCCIDs), t.CollaboratorIDs...) {
		if v != 0 && !slices.Contains(cc, v) {
			cc = append(cc, v)
		}
	}
	var custom json.RawMessage
	if len(t.CustomFields) > 0 {
		m := make(map[string]json.RawMessage, len(t.CustomFields))
		for _, f := range t.CustomFields {
			if f.ID == 0 {
				return nil, fmt.Errorf("ticket %d has a custom field value without a field id", t.ID)
			}
			v := f.Value
			if len(v) == 0 {
				v = json.RawMessage("null")
			}
			m[id(f.ID)] = v
		}
		b, err := json.Marshal(m) // map keys sort: the same ticket always maps to the same bytes
		if err != nil {
			return nil, fmt.Errorf("ticket %d: encode custom fields: %w", t.ID, err)
		}
		custom = b
	}
	return &schema.Ticket{
		ID: id(t.ID), Subject: t.Subject, Status: t.Status, Priority: t.Priority, Type: t.Type,
		RequesterID: id(t.RequesterID), SubmitterID: id(t.SubmitterID), AssigneeID: id(t.AssigneeID),
		GroupID: id(t.GroupID), OrganizationID: id(t.OrganizationID), Tags: t.Tags, CCIDs: ids(cc),
		CustomFields: custom, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt, Raw: raw,
	}, nil
}

type zdComment struct {
	ID          int64             `json:"id"`
	AuthorID    int64             `json:"author_id"`
	Public      bool              `json:"public"`
	Body        string            `json:"body"`
	HTMLBody    string            `json:"html_body"`
	PlainBody   string            `json:"plain_body"`
	CreatedAt   time.Time         `json:"created_at"`
	Attachments []json.RawMessage `json:"attachments"`
}

type zdAttachment struct {
	ID          int64  `json:"id"`
	FileName    string `json:"file_name"`
	ContentURL  string `json:"content_url"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	Inline      bool   `json:"inline"`
}

// mapComment maps a comment of ticket ticketID and its attachments. The
// text body is plain_body, or body where Zendesk left plain_body empty.
func mapComment(ticketID string, raw json.RawMessage) (*schema.Comment, []*schema.Attachment, error) {
	var c zdComment
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, nil, fmt.Errorf("decode comment: %w", err)
	}
	if c.ID == 0 {
		return nil, nil, errNoID
	}
	text := c.PlainBody
	if text == "" {
		text = c.Body
	}
	comment := &schema.Comment{
		ID: id(c.ID), TicketID: ticketID, AuthorID: id(c.AuthorID), Public: c.Public,
		BodyHTML: c.HTMLBody, BodyText: text, CreatedAt: c.CreatedAt, Raw: raw,
	}
	atts := make([]*schema.Attachment, 0, len(c.Attachments))
	for i, ar := range c.Attachments {
		var a zdAttachment
		if err := json.Unmarshal(ar, &a); err != nil {
			return nil, nil, fmt.Errorf("comment %d: decode attachment %d: %w", c.ID, i, err)
		}
		if a.ID == 0 {
			return nil, nil, fmt.Errorf("comment %d: attachment %d has no id", c.ID, i)
		}
		atts = append(atts, &schema.Attachment{
			ID: id(a.ID), TicketID: ticketID, CommentID: comment.ID, FileName: a.FileName, ContentType: a.ContentType,
			Size: a.Size, URL: a.ContentURL, Inline: a.Inline, Position: int64(i), Raw: ar,
		})
	}
	return comment, atts, nil
}

// isEventMeta reports whether key of a Create or Change child event of the
// ticket events export is not its field: the field is the one key left,
// unless the event names it in field_name, as audits do.
func isEventMeta(key string) bool {
	switch key {
	case "id", "via", "via_reference_id", "event_type", "type", "previous_value", "added_tags", "removed_tags",
		"created_at", "author_id", "audit_id":
		return true
	}
	return false
}

// ticketEventDetail is a ticket event's Detail: which field, from what
// (a change's previous value) to what, and for tags the ones added and
// removed. Values are as Zendesk writes them (ids as strings).
type ticketEventDetail struct {
	Field   string          `json:"field"`
	From    json.RawMessage `json:"from,omitempty"`
	To      json.RawMessage `json:"to"`
	Added   json.RawMessage `json:"added,omitempty"`
	Removed json.RawMessage `json:"removed,omitempty"`
}

// ticketEventKind names what a field change is about: status, priority,
// assignee, group, tags, custom_field (by id) or field (any other).
func ticketEventKind(field string) string {
	switch field {
	case "status", "priority", "tags":
		return field
	case "assignee_id":
		return "assignee"
	case "group_id":
		return "group"
	}
	if _, err := strconv.ParseInt(field, 10, 64); err == nil {
		return "custom_field"
	}
	return "field"
}

// mapTicketEvent maps a Create or Change child event of the ticket events
// export, by author at the time of its update. Its Kind is what changed,
// with _set for a value the ticket was created with and _changed for a
// change.
func mapTicketEvent(ticketID, authorID string, at time.Time, obj map[string]json.RawMessage, raw json.RawMessage) (*schema.TicketEvent, error) {
	var ev struct {
		ID        int64  `json:"id"`
		EventType string `json:"event_type"`
		Type      string `json:"type"`
		FieldName string `json:"field_name"`
	}
	if err := json.Unmarshal(raw, &ev); err != nil {
		return nil, fmt.Errorf("decode ticket event: %w", err)
	}
	if ev.ID == 0 {
		return nil, errNoID
	}
	typ := cmp.Or(ev.EventType, ev.Type)
	// Where event_type says what the event is, "type" is a field like any
	// other: the ticket's type.
	_, typeIsField := obj["event_type"]
	d := ticketEventDetail{Field: ev.FieldName, From: obj["previous_value"], Added: obj["added_tags"], Removed: obj["removed_tags"]}
	if d.Field != "" {
		d.To = obj["value"]
	} else {
		for k, v := range obj {
			if isEventMeta(k) && !(k == "type" && typeIsField) {
				continue
			}
			if d.Field != "" {
				return nil, fmt.Errorf("ticket event %d changes both %s and %s: which field is it?", ev.ID, d.Field, k)
			}
			d.Field, d.To = k, v
		}
	}
	if d.Field == "" {
		return nil, fmt.Errorf("ticket event %d names no field", ev.ID)
	}
	if len(d.To) == 0 {
		d.To = json.RawMessage("null")
	}
	suffix := "_changed"
	switch typ {
	case "Create":
		suffix = "_set"
	case "Change":
	default:
		return nil, fmt.Errorf("ticket event %d is a %q, not a Create or a Change", ev.ID, typ)
	}
	detail, err := marshalText(d)
	if err != nil {
		return nil, fmt.Errorf("ticket event %d: encode detail: %w", ev.ID, err)
	}
	return &schema.TicketEvent{
		ID: id(ev.ID), TicketID: ticketID, AuthorID: authorID, Kind: ticketEventKind(d.Field) + suffix,
		Detail: detail, CreatedAt: at, Raw: raw,
	}, nil
}

type zdCategory struct {
	ID              int64     `json:"id"`
	CategoryID      int64     `json:"category_id"`
	ParentSectionID int64     `json:"parent_section_id"`
	Name            string    `json:"name"`
	Description     string    `json:"description"`
	Locale          string    `json:"locale"`
	CreatedAt       time.Time `json:"created_at"`
	UpdatedAt       time.Time `json:"updated_at"`
}

// mapCategory maps a Help Center category.
func mapCategory(raw json.RawMessage) (*schema.KBCategory, error) {
	return mapKBGroup(raw, "category")
}

// mapSection maps a Help Center section: a category of the knowledge
// base whose parent is its category, or the section it is a subsection of.
func mapSection(raw json.RawMessage) (*schema.KBCategory, error) {
	return mapKBGroup(raw, "section")
}

func mapKBGroup(raw json.RawMessage, kind string) (*schema.KBCategory, error) {
	var c zdCategory
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("decode %s: %w", kind, err)
	}
	if c.ID == 0 {
		return nil, errNoID
	}
	parent := c.CategoryID
	if c.ParentSectionID != 0 {
		parent = c.ParentSectionID
	}
	if kind == "section" && parent == 0 {
		return nil, fmt.Errorf("section %d has no category", c.ID)
	}
	return &schema.KBCategory{KBEntry: schema.KBEntry{
		ID: id(c.ID), ParentID: id(parent), Locale: c.Locale, Title: c.Name, BodyHTML: c.Description,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt, Raw: raw,
	}}, nil
}

type zdArticle struct {
	ID        int64     `json:"id"`
	AuthorID  int64     `json:"author_id"`
	SectionID int64     `json:"section_id"`
	Title     string    `json:"title"`
	Body      string    `json:"body"`
	Locale    string    `json:"locale"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

type zdTranslation struct {
	Locale string `json:"locale"`
	Title  string `json:"title"`
	Body   string `json:"body"`
}

// articleTranslation is one locale's entry of an article's Translations.
type articleTranslation struct {
	Title string `json:"title"`
	Body  string `json:"body"`
}

// mapArticle maps a Help Center article and its translations (every
// locale it is written in, its own included) into Translations, keyed by
// locale.
func mapArticle(raw json.RawMessage, translations []json.RawMessage) (*schema.KBArticle, error) {
	var a zdArticle
	if err := json.Unmarshal(raw, &a); err != nil {
		return nil, fmt.Errorf("decode article: %w", err)
	}
	if a.ID == 0 {
		return nil, errNoID
	}
	var tr json.RawMessage
	if len(translations) > 0 {
		m := make(map[string]articleTranslation, len(translations))
		for i, r := range translations {
			var t zdTranslation
			if err := json.Unmarshal(r, &t); err != nil {
				return nil, fmt.Errorf("article %d: decode translation %d: %w", a.ID, i, err)
			}
			if t.Locale == "" {
				return nil, fmt.Errorf("article %d: translation %d has no locale", a.ID, i)
			}
			m[t.Locale] = articleTranslation{Title: t.Title, Body: t.Body}
		}
		b, err := marshalText(m) // keys sort: the same article maps to the same bytes
		if err != nil {
			return nil, fmt.Errorf("article %d: encode translations: %w", a.ID, err)
		}
		tr = b
	}
	return &schema.KBArticle{KBEntry: schema.KBEntry{
		ID: id(a.ID), ParentID: id(a.SectionID), Locale: a.Locale, Title: a.Title, BodyHTML: a.Body,
		AuthorID: id(a.AuthorID), Translations: tr, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt, Raw: raw,
	}}, nil
}

// mapArticleAttachment maps the i-th attachment of article articleID.
func mapArticleAttachment(articleID string, i int, raw json.RawMessage) (*schema.Attachment, error) {
	var a zdAttachment
	if err := json.Unmarshal(raw, &a); err != nil {
		return nil, fmt.Errorf("article %s: decode attachment %d: %w", articleID, i, err)
	}
	if a.ID == 0 {
		return nil, fmt.Errorf("article %s: attachment %d has no id", articleID, i)
	}
	return &schema.Attachment{
		ID: id(a.ID), ArticleID: articleID, FileName: a.FileName, ContentType: a.ContentType, Size: a.Size,
		URL: a.ContentURL, Inline: a.Inline, Position: int64(i), Raw: raw,
	}, nil
}
