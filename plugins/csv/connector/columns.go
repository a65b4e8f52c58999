package connector

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ferryhq/ferry/sdk/schema"
)

// kind says how a canonical column's source text is read.
type kind uint8

const (
	kindID   kind = iota // the record's own id: trimmed, never empty
	kindRef              // another record's id: trimmed
	kindText             // trimmed text
	kindBody             // a message body: kept exactly as written
	kindTime             // RFC 3339 or a configured layout
	kindBool             // true/false, yes/no, 1/0
	kindList             // a JSON array, or text split on the list separator
)

// columnInfo names a canonical column and its kind.
type columnInfo struct {
	name string
	kind kind
}

// value is a source value read as its column's kind.
type value struct {
	text string
	time time.Time
	bool bool
	list []string
}

// field is a canonical column of record type R and how to set it.
type field[R schema.Record] struct {
	columnInfo
	set func(R, value) error
}

// recordType describes how rows become records of one canonical stream.
type recordType[R schema.Record] struct {
	fields []field[R]
	// new returns an empty record with the stream's built-in defaults.
	new func() R
	// finish sets the columns no source column maps to, and checks the
	// record is complete.
	finish func(r R, custom, raw json.RawMessage) error
}

func column[R schema.Record](name string, k kind, set func(R, value) error) field[R] {
	return field[R]{columnInfo: columnInfo{name: name, kind: k}, set: set}
}

func ticketType() recordType[*schema.Ticket] {
	type T = *schema.Ticket
	return recordType[T]{
		fields: []field[T]{
			column("id", kindID, func(r T, v value) error { r.ID = v.text; return nil }),
			column("subject", kindText, func(r T, v value) error { r.Subject = v.text; return nil }),
			column("status", kindText, func(r T, v value) error { r.Status = v.text; return nil }),
			column("priority", kindText, func(r T, v value) error { r.Priority = v.text; return nil }),
			column("type", kindText, func(r T, v value) error { r.Type = v.text; return nil }),
			column("requester_id", kindRef, func(r T, v value) error { r.RequesterID = v.text; return nil }),
			column("submitter_id", kindRef, func(r T, v value) error { r.SubmitterID = v.text; return nil }),
			column("assignee_id", kindRef, func(r T, v value) error { r.AssigneeID = v.text; return nil }),
			column("group_id", kindRef, func(r T, v value) error { r.GroupID = v.text; return nil }),
			column("organization_id", kindRef, func(r T, v value) error { r.OrganizationID = v.text; return nil }),
			column("tags", kindList, func(r T, v value) error { r.Tags = v.list; return nil }),
			column("cc_ids", kindList, func(r T, v value) error { r.CCIDs = v.list; return nil }),
			column("created_at", kindTime, func(r T, v value) error { r.CreatedAt = v.time; return nil }),
			column("updated_at", kindTime, func(r T, v value) error { r.UpdatedAt = v.time; return nil }),
		},
		new: func() T { return &schema.Ticket{} },
		finish: func(r T, custom, raw json.RawMessage) error {
			r.CustomFields, r.Raw = custom, raw
			return nil
		},
	}
}

func commentType() recordType[*schema.Comment] {
	type T = *schema.Comment
	return recordType[T]{
		fields: []field[T]{
			column("id", kindID, func(r T, v value) error { r.ID = v.text; return nil }),
			column("ticket_id", kindRef, func(r T, v value) error { r.TicketID = v.text; return nil }),
			column("author_id", kindRef, func(r T, v value) error { r.AuthorID = v.text; return nil }),
			column("public", kindBool, func(r T, v value) error { r.Public = v.bool; return nil }),
			column("body_html", kindBody, func(r T, v value) error { r.BodyHTML = v.text; return nil }),
			column("body_text", kindBody, func(r T, v value) error { r.BodyText = v.text; return nil }),
			column("created_at", kindTime, func(r T, v value) error { r.CreatedAt = v.time; return nil }),
		},
		// A comment is a public reply unless the export says otherwise:
		// exports that have private notes have a column for it.
		new: func() T { return &schema.Comment{Public: true} },
		finish: func(r T, _, raw json.RawMessage) error {
			if r.TicketID == "" {
				return fmt.Errorf("no ticket_id: a comment belongs to a ticket")
			}
			r.Raw = raw
			return nil
		},
	}
}

func userType() recordType[*schema.User] {
	type T = *schema.User
	return recordType[T]{
		fields: []field[T]{
			column("id", kindID, func(r T, v value) error { r.ID = v.text; return nil }),
			column("role", kindText, func(r T, v value) error {
				role, err := roleOf(v.text)
				r.Role = role
				return err
			}),
			column("name", kindText, func(r T, v value) error { r.Name = v.text; return nil }),
			column("email", kindText, func(r T, v value) error { r.Email = v.text; return nil }),
			column("phone", kindText, func(r T, v value) error { r.Phone = v.text; return nil }),
			column("organization_id", kindRef, func(r T, v value) error { r.OrganizationID = v.text; return nil }),
			column("active", kindBool, func(r T, v value) error { r.Active = v.bool; return nil }),
			column("suspended", kindBool, func(r T, v value) error { r.Suspended = v.bool; return nil }),
			column("created_at", kindTime, func(r T, v value) error { r.CreatedAt = v.time; return nil }),
			column("updated_at", kindTime, func(r T, v value) error { r.UpdatedAt = v.time; return nil }),
		},
		// People in an export are customers, and active, unless a column
		// says otherwise: agents are the few, and exports list who exists.
		new: func() T { return &schema.User{Role: schema.RoleEndUser, Active: true} },
		finish: func(r T, custom, raw json.RawMessage) error {
			r.CustomFields, r.Raw = custom, raw
			return nil
		},
	}
}

func organizationType() recordType[*schema.Organization] {
	type T = *schema.Organization
	return recordType[T]{
		fields: []field[T]{
			column("id", kindID, func(r T, v value) error { r.ID = v.text; return nil }),
			column("name", kindText, func(r T, v value) error { r.Name = v.text; return nil }),
			column("domains", kindList, func(r T, v value) error { r.Domains = v.list; return nil }),
			column("created_at", kindTime, func(r T, v value) error { r.CreatedAt = v.time; return nil }),
			column("updated_at", kindTime, func(r T, v value) error { r.UpdatedAt = v.time; return nil }),
		},
		new: func() T { return &schema.Organization{} },
		finish: func(r T, custom, raw json.RawMessage) error {
			r.CustomFields, r.Raw = custom, raw
			return nil
		},
	}
}

func infos[R schema.Record](rt recordType[R]) []columnInfo {
	out := make([]columnInfo, len(rt.fields))
	for i, fl := range rt.fields {
		out[i] = fl.columnInfo
	}
	return out
}

// columnsOf lists the canonical columns a stream's file can map.
func columnsOf(stream string) []columnInfo {
	switch stream {
	case schema.Tickets:
		return infos(ticketType())
	case schema.Comments:
		return infos(commentType())
	case schema.Users:
		return infos(userType())
	case schema.Organizations:
		return infos(organizationType())
	}
	return nil
}

func columnNames(cols []columnInfo) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.name
	}
	return out
}

// roleOf reads a user's role. An unknown role is an error rather than a
// guess: it decides whether the person becomes an admin or a contact.
func roleOf(s string) (string, error) {
	norm := strings.Map(func(r rune) rune {
		if r == '-' || r == ' ' {
			return '_'
		}
		return r
	}, strings.ToLower(s))
	switch norm {
	case "agent", "admin", "administrator", "staff":
		return schema.RoleAgent, nil
	case "end_user", "enduser", "user", "customer", "requester", "contact":
		return schema.RoleEndUser, nil
	}
	return "", fmt.Errorf("role %q is neither agent nor end_user: map it with values, such as {\"role\": {%q: \"agent\"}}", s, s)
}

// errNotRFC3339 stands for a time that is not RFC 3339 until a layout
// reads it.
var errNotRFC3339 = errors.New("not RFC 3339")

// parser reads source text as canonical values.
type parser struct {
	layouts []string
	loc     *time.Location
	sep     string
}

func (s *settings) parser() parser {
	return parser{layouts: s.layouts, loc: s.loc, sep: s.sep}
}

// parse reads text, rewritten by values first, as a value of kind k.
func (p parser) parse(k kind, col, text string, values map[string]string) (value, error) {
	if k != kindBody {
		text = strings.TrimSpace(text)
	}
	if k == kindList {
		return value{list: p.items(strings.Split(text, p.sep), values)}, nil
	}
	if v, ok := values[text]; ok {
		text = v
	}
	switch k {
	case kindTime:
		t, err := p.time(text)
		return value{time: t}, err
	case kindBool:
		b, err := parseBool(text)
		return value{bool: b}, err
	}
	return value{text: text}, nil
}

// items reads a list's items: trimmed, rewritten by values, empty ones
// left out.
func (p parser) items(items []string, values map[string]string) []string {
	out := make([]string, 0, len(items))
	for _, it := range items {
		it = strings.TrimSpace(it)
		if v, ok := values[it]; ok {
			it = v
		}
		if it != "" {
			out = append(out, it)
		}
	}
	return out
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "true", "yes", "1":
		return true, nil
	case "false", "no", "0":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean: want true/false, yes/no or 1/0", s)
}

// time reads RFC 3339, then each configured layout; times without an
// offset are in the configured zone.
func (p parser) time(s string) (time.Time, error) {
	var t time.Time
	err := errNotRFC3339
	// A failed parse allocates its error: skip RFC 3339 for text that
	// cannot be it, as every time of an export in another layout.
	if len(s) >= len("2006-01-02T15:04:05Z") && (s[10] == 'T' || s[10] == 't') {
		t, err = time.Parse(time.RFC3339Nano, s)
	}
	for _, l := range p.layouts {
		if err == nil {
			break
		}
		switch l {
		case layoutUnix, layoutUnixMS:
			var n int64
			if n, err = strconv.ParseInt(s, 10, 64); err == nil {
				if l == layoutUnix {
					t = time.Unix(n, 0)
				} else {
					t = time.UnixMilli(n)
				}
			}
		default:
			t, err = time.ParseInLocation(l, s, p.loc)
		}
	}
	if err != nil {
		want := "RFC 3339 (2006-01-02T15:04:05Z07:00)"
		if len(p.layouts) > 0 {
			want += " or " + strings.Join(p.layouts, " or ")
		}
		return time.Time{}, fmt.Errorf("%q is not a time: want %s", s, want)
	}
	// The staged column is microseconds since the epoch: years far out
	// would overflow it, and no help desk has them.
	if y := t.Year(); y < 1 || y > 9999 {
		return time.Time{}, fmt.Errorf("%q is out of range: year %d", s, y)
	}
	return t.UTC(), nil
}
