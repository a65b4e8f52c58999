package main

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"maps"
	"slices"
	"strings"

	"github.com/ferryhq/ferry/sdk/transform"
)

// The canonical streams this transform reads and writes (sdk/schema; not
// imported, as it would bring Arrow into the module).
const (
	tickets  = "tickets"
	comments = "comments"
)

// noteSuffix makes the note's id from the ticket's: deterministic, so that a
// rerun writes the same note, and apart from the source's comment ids.
const noteSuffix = "-fields"

// config is the transform's config in ferry.yaml.
type config struct {
	Titles   map[string]string `json:"titles"`
	Fields   []string          `json:"fields"`
	AuthorID string            `json:"author_id"`
	Heading  string            `json:"heading"`
}

// setup checks the config once, when ferry loads the module.
func setup(ctx *transform.Context) (transform.Handler, error) {
	cfg := config{Heading: "Custom fields"}
	if err := ctx.Config(&cfg); err != nil {
		return nil, err
	}
	cfg.Heading = strings.TrimSpace(cfg.Heading)
	if cfg.Heading == "" {
		return nil, errors.New(`heading is empty: leave it out for "Custom fields"`)
	}
	for id, title := range cfg.Titles {
		if strings.TrimSpace(id) == "" || strings.TrimSpace(title) == "" {
			return nil, fmt.Errorf("titles: %q: %q: field ids and titles must not be empty", id, title)
		}
	}
	if cfg.Fields != nil && len(cfg.Fields) == 0 {
		return nil, errors.New("fields is empty: leave it out to list every field")
	}
	seen := map[string]bool{}
	for i, id := range cfg.Fields {
		if strings.TrimSpace(id) == "" {
			return nil, fmt.Errorf("fields[%d] is empty", i)
		}
		if seen[id] {
			return nil, fmt.Errorf("fields lists %s twice", id)
		}
		seen[id] = true
	}
	return cfg.apply, nil
}

// line is one field of a note.
type line struct{ title, value string }

// apply adds the note of a ticket, and keeps the ticket unchanged.
func (c config) apply(ctx *transform.Context, r *transform.Record) transform.Result {
	if ctx.Stream() != tickets {
		return transform.Keep(r)
	}
	var fields map[string]json.RawMessage
	if err := r.Decode("custom_fields", &fields); err != nil {
		return transform.Fail(fmt.Sprintf("cannot list the custom fields: %v", err))
	}
	lines := c.lines(fields)
	if len(lines) == 0 {
		return transform.Keep(r)
	}
	id := r.ID()
	if id == "" {
		return transform.Fail("ticket without an id: its note would have none")
	}
	note, err := c.note(r, id, lines)
	if err != nil {
		return transform.Fail(err.Error())
	}
	ctx.Emit(comments, note)
	return transform.Keep(r)
}

// lines lists the fields with a value, in the configured order or by id.
func (c config) lines(fields map[string]json.RawMessage) []line {
	ids := c.Fields
	if ids == nil {
		ids = slices.SortedFunc(maps.Keys(fields), byID)
	}
	var out []line
	for _, id := range ids {
		v, ok := fields[id]
		if !ok {
			continue
		}
		value := text(v)
		if value == "" {
			continue
		}
		out = append(out, line{title: cmp.Or(c.Titles[id], id), value: value})
	}
	return out
}

// byID orders field ids as numbers when they are (Zendesk's are), so that
// 9 comes before 10, and as text otherwise.
func byID(a, b string) int {
	if len(a) != len(b) && isDigits(a) && isDigits(b) {
		return cmp.Compare(len(a), len(b))
	}
	return strings.Compare(a, b)
}

func isDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// text renders a custom field's value for a person; "" for an empty one.
func text(v json.RawMessage) string {
	x, err := decode(v)
	if err != nil {
		return string(v)
	}
	return textOf(x)
}

// decode decodes a JSON value with numbers as written: as floats, ids and
// order numbers of 11 digits or more would lose digits or turn into 1e+10.
func decode(v json.RawMessage) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(v))
	dec.UseNumber()
	var x any
	err := dec.Decode(&x)
	return x, err
}

func textOf(x any) string {
	switch x := x.(type) {
	case nil:
		return ""
	case string:
		return strings.TrimSpace(x)
	case bool:
		if x {
			return "yes"
		}
		return ""
	case json.Number:
		return x.String()
	case []any:
		var parts []string
		for _, e := range x {
			if s := textOf(e); s != "" {
				parts = append(parts, s)
			}
		}
		return strings.Join(parts, ", ")
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return fmt.Sprint(x)
		}
		return string(b)
	}
}

// note builds the private note of a ticket, in the canonical form of a
// comment.
func (c config) note(ticket *transform.Record, ticketID string, lines []line) (*transform.Record, error) {
	var plain, rich strings.Builder
	plain.WriteString(c.Heading)
	rich.WriteString("<p><strong>" + html.EscapeString(c.Heading) + "</strong></p><ul>")
	for _, l := range lines {
		plain.WriteString("\n" + l.title + ": " + l.value)
		rich.WriteString("<li><strong>" + html.EscapeString(l.title) + ":</strong> " + html.EscapeString(l.value) + "</li>")
	}
	rich.WriteString("</ul>")

	n := transform.NewRecord()
	n.SetString("id", ticketID+noteSuffix)
	n.SetString("ticket_id", ticketID)
	if c.AuthorID != "" {
		n.SetString("author_id", c.AuthorID)
	}
	n.SetBool("public", false)
	n.SetString("body_html", rich.String())
	n.SetString("body_text", plain.String())
	// The ticket's own value, as it is: re-encoding a time could change it.
	if at, ok := ticket.Get("created_at"); ok {
		if err := n.Set("created_at", at); err != nil {
			return nil, fmt.Errorf("created_at: %v", err)
		}
	}
	return n, nil
}
