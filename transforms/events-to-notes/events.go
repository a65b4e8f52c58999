package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"slices"
	"strings"

	"github.com/ferryhq/ferry/sdk/transform"
)

// The canonical streams this transform reads and writes (sdk/schema; not
// imported, as it would bring Arrow into the module).
const (
	ticketEvents = "ticket_events"
	comments     = "comments"
)

// noteSuffix makes a note's id from its event's: deterministic, so that a
// rerun writes the same note, and apart from the source's comment ids.
const noteSuffix = "-note"

// dropReason is what an event that became a note is dropped with.
const dropReason = "turned into a note"

// config is the transform's config in ferry.yaml.
type config struct {
	Users  map[string]string `json:"users"`
	Groups map[string]string `json:"groups"`
	Fields map[string]string `json:"fields"`
	Kinds  []string          `json:"kinds"`
}

// detail is a ticket event's detail column, as the connectors write it:
// which field changed, from what, to what, and for tags the ones added and
// removed. Values are JSON as the source has them.
type detail struct {
	Field   string          `json:"field"`
	From    json.RawMessage `json:"from"`
	To      json.RawMessage `json:"to"`
	Added   json.RawMessage `json:"added"`
	Removed json.RawMessage `json:"removed"`
}

// setup checks the config once, when ferry loads the module.
func setup(ctx *transform.Context) (transform.Handler, error) {
	var cfg config
	if err := ctx.Config(&cfg); err != nil {
		return nil, err
	}
	if cfg.Kinds != nil && len(cfg.Kinds) == 0 {
		return nil, errors.New("kinds is empty: leave it out to turn every event into a note")
	}
	for i, k := range cfg.Kinds {
		if strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("kinds[%d] is empty", i)
		}
	}
	for name, m := range map[string]map[string]string{"users": cfg.Users, "groups": cfg.Groups, "fields": cfg.Fields} {
		for id, v := range m {
			if strings.TrimSpace(id) == "" || strings.TrimSpace(v) == "" {
				return nil, fmt.Errorf("%s: %q: %q: ids and names must not be empty", name, id, v)
			}
		}
	}
	return cfg.apply, nil
}

// apply turns a ticket event into a note on its ticket, and drops the event.
func (c config) apply(ctx *transform.Context, r *transform.Record) transform.Result {
	if ctx.Stream() != ticketEvents {
		return transform.Keep(r)
	}
	kind := r.String("kind")
	if c.Kinds != nil && !slices.Contains(c.Kinds, kind) {
		return transform.Keep(r)
	}
	id, ticketID := r.ID(), r.String("ticket_id")
	switch {
	case id == "":
		return transform.Fail("ticket event without an id: its note would have none")
	case ticketID == "":
		return transform.Fail("ticket event without a ticket_id: its note would be on no ticket")
	}
	var d detail
	if err := r.Decode("detail", &d); err != nil {
		return transform.Fail(fmt.Sprintf("cannot read the event: %v", err))
	}
	sentence := c.sentence(kind, d, r.String("author_id"))

	note := transform.NewRecord()
	note.SetString("id", id+noteSuffix)
	note.SetString("ticket_id", ticketID)
	if author := r.String("author_id"); author != "" {
		note.SetString("author_id", author)
	}
	note.SetBool("public", false)
	note.SetString("body_html", "<p>"+html.EscapeString(sentence)+"</p>")
	note.SetString("body_text", sentence)
	// The event's own value, as it is: re-encoding a time could change it.
	if at, ok := r.Get("created_at"); ok {
		if err := note.Set("created_at", at); err != nil {
			return transform.Fail(fmt.Sprintf("created_at: %v", err))
		}
	}
	ctx.Emit(comments, note)
	return transform.Drop(dropReason)
}

// sentence says what the event did, for a person.
func (c config) sentence(kind string, d detail, author string) string {
	base, set := strings.CutSuffix(kind, "_set")
	if !set {
		base = strings.TrimSuffix(kind, "_changed")
	}
	by := ""
	if author != "" {
		by = " by " + c.name(c.Users, "user", author)
	}
	if base == "tags" && (len(d.Added) > 0 || len(d.Removed) > 0) {
		var parts []string
		if added := values(d.Added); len(added) > 0 {
			parts = append(parts, "added "+strings.Join(added, ", "))
		}
		if removed := values(d.Removed); len(removed) > 0 {
			parts = append(parts, "removed "+strings.Join(removed, ", "))
		}
		if len(parts) > 0 {
			return "Tags changed" + by + ": " + strings.Join(parts, "; ")
		}
	}
	label, lookup := c.label(base, d.Field)
	from, to := c.value(lookup, d.From), c.value(lookup, d.To)
	switch {
	case to != "" && (set || from == ""):
		return fmt.Sprintf("%s set to %s%s", label, to, by)
	case to == "" && from != "":
		return fmt.Sprintf("%s cleared (was %s)%s", label, from, by)
	case from == "" && to == "":
		return fmt.Sprintf("%s changed%s", label, by)
	default:
		return fmt.Sprintf("%s changed from %s to %s%s", label, from, to, by)
	}
}

// label names what an event changed, and the names its values are ids of
// (users, groups) if any.
func (c config) label(base, field string) (string, func(string) string) {
	users := func(id string) string { return c.name(c.Users, "user", id) }
	groups := func(id string) string { return c.name(c.Groups, "group", id) }
	switch base {
	case "status":
		return "Status", nil
	case "priority":
		return "Priority", nil
	case "tags":
		return "Tags", nil
	case "assignee":
		return "Assignee", users
	case "group":
		return "Group", groups
	case "custom_field":
		return c.name(c.Fields, "field", field), nil
	}
	switch field {
	case "":
		return humanize(base), nil
	case "requester_id", "submitter_id", "assignee_id":
		return humanize(strings.TrimSuffix(field, "_id")), users
	case "group_id":
		return "Group", groups
	}
	return humanize(field), nil
}

// name returns the configured name of an id, or what it is and its id.
func (c config) name(names map[string]string, what, id string) string {
	if n, ok := names[id]; ok {
		return n
	}
	return what + " " + id
}

// value renders a value of the detail; lookup names the ids among it.
func (c config) value(lookup func(string) string, v json.RawMessage) string {
	vs := values(v)
	if lookup != nil {
		for i, s := range vs {
			vs[i] = lookup(s)
		}
	}
	return strings.Join(vs, ", ")
}

// values renders a JSON value as the texts it holds: a list's elements, a
// scalar's text, nothing for null or empty.
func values(v json.RawMessage) []string {
	if len(v) == 0 {
		return nil
	}
	// Numbers as written: as floats, ids of 11 digits or more would lose
	// digits or turn into 1e+10.
	dec := json.NewDecoder(bytes.NewReader(v))
	dec.UseNumber()
	var x any
	if dec.Decode(&x) != nil {
		return nil
	}
	return texts(x)
}

func texts(x any) []string {
	switch x := x.(type) {
	case nil:
		return nil
	case string:
		if s := strings.TrimSpace(x); s != "" {
			return []string{s}
		}
		return nil
	case bool:
		if x {
			return []string{"yes"}
		}
		return []string{"no"}
	case json.Number:
		return []string{x.String()}
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, texts(e)...)
		}
		return out
	default:
		// An object, as compact JSON.
		b, err := json.Marshal(x)
		if err != nil {
			return []string{fmt.Sprint(x)}
		}
		return []string{string(b)}
	}
}

// humanize turns a column or kind name into words: "due_at" → "Due at".
func humanize(s string) string {
	s = strings.ReplaceAll(s, "_", " ")
	if s == "" {
		return "A field"
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
