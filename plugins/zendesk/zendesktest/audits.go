package zendesktest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// Audit is one update of a ticket: who made it, when, and what it did, as
// Zendesk's ticket audits list them.
type Audit struct {
	ID        int64        `json:"id"`
	TicketID  int64        `json:"ticket_id"`
	CreatedAt time.Time    `json:"created_at"`
	AuthorID  int64        `json:"author_id"`
	Metadata  CommentMeta  `json:"metadata"`
	Via       Via          `json:"via"`
	Events    []AuditEvent `json:"events"`
}

// Audit event types the emulator knows.
const (
	EventCreate  = "Create"
	EventChange  = "Change"
	EventComment = "Comment"
	// EventCommentPrivacyChange records that a comment was made private
	// (or public) after it was written.
	EventCommentPrivacyChange = "CommentPrivacyChange"
)

// SystemAuthorID is the author Zendesk gives updates that its automations
// and triggers make.
const SystemAuthorID = -1

// AuditEvent is one thing an audit did.
//
// A Comment event is stored by reference: its ID is the comment's (as in
// Zendesk, where a comment's id is its event's), and the Server fills in
// the comment from Ticket.Comments when it serves the audit.
type AuditEvent struct {
	ID   int64  `json:"id"`
	Type string `json:"type"`
	// FieldName, Value and PreviousValue are a Create's or a Change's: the
	// field (a custom field by its id), its value and, for a Change, the
	// value before. Values are JSON as Zendesk writes them: ids and custom
	// field values as strings, tags as a list.
	FieldName     string          `json:"field_name,omitempty"`
	Value         json.RawMessage `json:"value,omitempty"`
	PreviousValue json.RawMessage `json:"previous_value,omitempty"`
	// CommentID and Public are a CommentPrivacyChange's.
	CommentID int64 `json:"comment_id,omitempty"`
	Public    *bool `json:"public,omitempty"`
	// Via is set on the events of a business rule (a trigger or an
	// automation): which rule made the change.
	Via *Via `json:"via,omitempty"`
}

// jsonValue encodes an audit value; values are plain data, so it cannot
// fail.
func jsonValue(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("zendesktest: encode audit value %v: %v", v, err))
	}
	return b
}

// CreateEvent is a Create event: field set to value when the ticket was
// created.
func CreateEvent(id int64, field string, value any) AuditEvent {
	return AuditEvent{ID: id, Type: EventCreate, FieldName: field, Value: jsonValue(value)}
}

// ChangeEvent is a Change event: field changed from previous to value.
func ChangeEvent(id int64, field string, previous, value any) AuditEvent {
	return AuditEvent{ID: id, Type: EventChange, FieldName: field, Value: jsonValue(value), PreviousValue: jsonValue(previous)}
}

// CommentEvent is the event of the comment with id commentID.
func CommentEvent(commentID int64) AuditEvent {
	return AuditEvent{ID: commentID, Type: EventComment}
}

// PrivacyChangeEvent records that the comment commentID became public or
// private.
func PrivacyChangeEvent(id, commentID int64, public bool) AuditEvent {
	return AuditEvent{ID: id, Type: EventCommentPrivacyChange, CommentID: commentID, Public: &public}
}

// IDValue writes an id as audits do: a string, or null for none.
func IDValue(id *int64) any {
	if id == nil {
		return nil
	}
	return strconv.FormatInt(*id, 10)
}

// Reply adds comment c to the ticket in audit a, as an update that writes
// a comment does: c's audit and creation time become a's, and a lists it
// first. See AddAudit for the rest.
func (t *Ticket) Reply(a Audit, c Comment) error {
	c.AuditID, c.CreatedAt = a.ID, a.CreatedAt
	a.Events = append([]AuditEvent{CommentEvent(c.ID)}, a.Events...)
	t.Comments = append(t.Comments, c)
	if err := t.AddAudit(a); err != nil {
		t.Comments = t.Comments[:len(t.Comments)-1]
		return err
	}
	return nil
}

// AddAudit records update a of the ticket: it appends a to the history,
// applies its Create and Change events to the ticket's fields, and moves
// updated_at and generated_timestamp to a's time, so that the exports
// report the change. It applies the fields the connector maps (status,
// priority, type, subject, requester, assignee, group, organization, tags,
// custom fields) and refuses a value it cannot apply.
func (t *Ticket) AddAudit(a Audit) error {
	a.TicketID = t.ID
	applied := *t
	applied.CustomFields = slices.Clone(t.CustomFields)
	applied.Tags = slices.Clone(t.Tags)
	for _, ev := range a.Events {
		if ev.Type != EventCreate && ev.Type != EventChange {
			continue
		}
		if err := applied.set(ev.FieldName, ev.Value); err != nil {
			return fmt.Errorf("audit %d: %w", a.ID, err)
		}
	}
	applied.Fields = slices.Clone(applied.CustomFields)
	applied.Audits = append(slices.Clone(t.Audits), a)
	if a.CreatedAt.After(applied.UpdatedAt) {
		applied.UpdatedAt = a.CreatedAt
	}
	applied.GeneratedTimestamp = max(applied.GeneratedTimestamp, a.CreatedAt.Unix())
	*t = applied
	return nil
}

// set applies one field's new value.
func (t *Ticket) set(field string, value json.RawMessage) error {
	str := func() (*string, error) {
		var s *string
		err := json.Unmarshal(value, &s)
		return s, err
	}
	idv := func() (*int64, error) {
		s, err := str()
		if err != nil || s == nil {
			return nil, err
		}
		n, err := strconv.ParseInt(*s, 10, 64)
		return &n, err
	}
	var err error
	switch field {
	case "status":
		var s *string
		if s, err = str(); err == nil && s != nil {
			t.Status = *s
		}
	case "priority":
		t.Priority, err = str()
	case "type":
		t.Type, err = str()
	case "subject":
		var s *string
		if s, err = str(); err == nil && s != nil {
			t.Subject, t.RawSubject = *s, *s
		}
	case "requester_id":
		var id *int64
		if id, err = idv(); err == nil && id != nil {
			t.RequesterID = *id
		}
	case "assignee_id":
		t.AssigneeID, err = idv()
	case "group_id":
		t.GroupID, err = idv()
	case "organization_id":
		t.OrganizationID, err = idv()
	case "tags":
		var tags []string
		if err = json.Unmarshal(value, &tags); err == nil {
			t.Tags = slices.Sorted(slices.Values(tags))
		}
	default:
		fieldID, perr := strconv.ParseInt(field, 10, 64)
		if perr != nil {
			return nil // a field the emulator keeps no state for (ticket_form_id, brand_id, ...)
		}
		var v any
		if err = json.Unmarshal(value, &v); err != nil {
			break
		}
		i := slices.IndexFunc(t.CustomFields, func(f CustomFieldValue) bool { return f.ID == fieldID })
		if _, isBool := t.customField(fieldID).(bool); isBool && (v == "true" || v == "false") {
			v = v == "true" // audits write a checkbox's value as a string
		}
		if i < 0 {
			t.CustomFields = append(t.CustomFields, CustomFieldValue{ID: fieldID, Value: v})
		} else {
			t.CustomFields[i].Value = v
		}
	}
	if err != nil {
		return fmt.Errorf("field %s: value %s: %w", field, value, err)
	}
	return nil
}

// TicketEventCount is the number of entries of the incremental ticket
// events export: one per audit, counting a comment that no audit lists as
// an audit of its own.
func (hd *HelpDesk) TicketEventCount() int {
	n := 0
	for i := range hd.Tickets {
		n += len(auditsOf(&hd.Tickets[i]))
	}
	for i := range hd.Unlisted {
		n += len(auditsOf(&hd.Unlisted[i]))
	}
	return n
}

// auditsOf returns the ticket's history as the Server serves it, oldest
// first: the stored audits, and one for each comment that none lists.
func auditsOf(t *Ticket) []Audit {
	listed := map[int64]bool{}
	taken := map[int64]bool{}
	for _, a := range t.Audits {
		taken[a.ID] = true
		for _, ev := range a.Events {
			if ev.Type == EventComment {
				listed[ev.ID] = true
			}
		}
	}
	out := slices.Clone(t.Audits)
	for i := range out {
		out[i].TicketID = t.ID
	}
	for _, c := range t.Comments {
		if listed[c.ID] {
			continue
		}
		// The comment's own audit id, unless another audit has it (a test
		// that copied a comment, say): then the comment's id, which no
		// audit has.
		id := c.AuditID
		if id == 0 || taken[id] {
			id = c.ID
		}
		taken[id] = true
		out = append(out, Audit{
			ID: id, TicketID: t.ID, CreatedAt: c.CreatedAt, AuthorID: c.AuthorID, Metadata: c.Metadata, Via: c.Via,
			Events: []AuditEvent{CommentEvent(c.ID)},
		})
	}
	slices.SortStableFunc(out, func(a, b Audit) int {
		return compare(position{a.CreatedAt.Unix(), a.ID}, position{b.CreatedAt.Unix(), b.ID})
	})
	return out
}
