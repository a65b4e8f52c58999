// Package mapping is the map-values transform itself (see the command's
// documentation for its config), apart from package main so that a native
// program, such as ferry's transform benchmark, can run it without wasm.
package mapping

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/ferryhq/ferry/sdk/transform"
)

// kind is how a column's value is mapped.
type kind uint8

const (
	scalar kind = iota + 1 // a string column: the value is mapped whole
	list                   // a list of strings: each element is mapped
)

// columns lists the columns of each canonical stream that hold strings, as
// sdk/schema defines them (it is not imported, as it would bring Arrow into
// the module; TestColumnsMatchSchema keeps this table true). Ids are left
// out: ferry refuses a record whose id a transform changed.
var columns = map[string]map[string]kind{
	"users":         {"role": scalar, "name": scalar, "email": scalar, "phone": scalar, "organization_id": scalar},
	"organizations": {"name": scalar, "domains": list},
	"groups":        {"name": scalar},
	"ticket_fields": {"title": scalar, "type": scalar},
	"tickets": {"subject": scalar, "status": scalar, "priority": scalar, "type": scalar,
		"requester_id": scalar, "submitter_id": scalar, "assignee_id": scalar, "group_id": scalar,
		"organization_id": scalar, "tags": list, "cc_ids": list},
	"comments": {"ticket_id": scalar, "author_id": scalar, "body_html": scalar, "body_text": scalar},
	"attachments": {"ticket_id": scalar, "comment_id": scalar, "article_id": scalar, "file_name": scalar,
		"content_type": scalar, "url": scalar},
	"ticket_events": {"ticket_id": scalar, "author_id": scalar, "kind": scalar},
	"kb_categories": {"parent_id": scalar, "locale": scalar, "title": scalar, "body_html": scalar, "author_id": scalar},
	"kb_articles":   {"parent_id": scalar, "locale": scalar, "title": scalar, "body_html": scalar, "author_id": scalar},
}

// withCustomFields are the streams whose records have custom_fields.
var withCustomFields = map[string]bool{"tickets": true, "users": true, "organizations": true}

// table maps one column's or custom field's values.
type table struct {
	name    string            // what the reasons call it: tickets.status, custom field 360001
	to      map[string]string // from → to
	targets map[string]bool   // the values of to, which strict mode accepts as they are
	// from and into are a small table's entries, scanned rather than
	// hashed: inside a module Go hashes strings in software, and comparing
	// a few short strings (by length first) is several times faster.
	from, into []string
}

// smallTable is the most entries a table scans.
const smallTable = 16

func newTable(name string, to map[string]string) table {
	t := table{name: name, to: to, targets: map[string]bool{}}
	for _, v := range to {
		t.targets[v] = true
	}
	if len(to) <= smallTable {
		for _, from := range slices.Sorted(maps.Keys(to)) {
			t.from, t.into = append(t.from, from), append(t.into, to[from])
		}
	}
	return t
}

// lookup returns what v maps to. ok is false for a value with no mapping
// that strict mode must refuse.
func (t *table) lookup(v string, strict bool) (to string, ok bool) {
	if len(t.to) <= smallTable {
		for i, from := range t.from {
			if from == v {
				return t.into[i], true
			}
		}
	} else if m, found := t.to[v]; found {
		return m, true
	}
	return v, !strict || t.targets[v]
}

// column is a table for one column of a stream.
type column struct {
	name string
	kind kind
	table
}

// mapper holds the parsed config.
type mapper struct {
	strict  bool
	streams map[string][]column // by stream, columns in name order
	fields  map[string]table    // custom fields by id
	// stream and cols are the columns of the stream of the last record.
	stream string
	cols   []column
}

// Setup parses and checks the config once, when ferry loads the module, so
// that a typo in a stream or column name stops the migration before any
// record is read rather than silently mapping nothing. It declares the
// columns the config maps, and custom_fields when it maps custom fields, so
// that ferry sends the transform those columns alone.
func Setup(ctx *transform.Context) (transform.Handler, error) {
	var raw map[string]json.RawMessage
	if err := ctx.Config(&raw); err != nil {
		return nil, err
	}
	m := &mapper{streams: map[string][]column{}, fields: map[string]table{}}
	for _, key := range slices.Sorted(maps.Keys(raw)) {
		value := raw[key]
		switch key {
		case "strict":
			if err := json.Unmarshal(value, &m.strict); err != nil {
				return nil, fmt.Errorf("strict: want true or false, got %s", value)
			}
		case "custom_fields":
			var fields map[string]map[string]string
			if err := json.Unmarshal(value, &fields); err != nil {
				return nil, fmt.Errorf(`custom_fields: want {"<field id>": {"<from>": "<to>", ...}, ...}: %v`, err)
			}
			for id, to := range fields {
				if strings.TrimSpace(id) == "" {
					return nil, fmt.Errorf("custom_fields: a field id is empty")
				}
				m.fields[id] = newTable("custom field "+id, to)
			}
		default:
			known, ok := columns[key]
			if !ok {
				return nil, fmt.Errorf("%q is neither a stream (%s) nor strict or custom_fields", key, strings.Join(slices.Sorted(maps.Keys(columns)), ", "))
			}
			var tables map[string]map[string]string
			if err := json.Unmarshal(value, &tables); err != nil {
				return nil, fmt.Errorf(`%s: want {"<column>": {"<from>": "<to>", ...}, ...}: %v`, key, err)
			}
			for _, col := range slices.Sorted(maps.Keys(tables)) {
				k, ok := known[col]
				if !ok {
					return nil, fmt.Errorf("%s: %q is not a column this transform can map (%s)", key, col, strings.Join(slices.Sorted(maps.Keys(known)), ", "))
				}
				m.streams[key] = append(m.streams[key], column{name: col, kind: k, table: newTable(key+"."+col, tables[col])})
			}
		}
	}
	if len(m.streams) == 0 && len(m.fields) == 0 {
		return nil, fmt.Errorf(`nothing to map: give tables by stream and column, e.g. {"tickets": {"status": {"hold": "pending"}}}, or by custom field id under custom_fields`)
	}
	for _, stream := range slices.Sorted(maps.Keys(columns)) {
		var names []string
		for _, c := range m.streams[stream] {
			names = append(names, c.name)
		}
		if len(m.fields) > 0 && withCustomFields[stream] {
			names = append(names, "custom_fields")
		}
		if len(names) > 0 {
			ctx.Declare(stream, names, names)
		}
	}
	ctx.HandleBatches(m.applyBatch)
	return m.apply, nil
}

// applyBatch is apply over a whole batch, the way a module runs it fastest
// (see transform.BatchHandler), for a stream whose mapped columns are all
// strings: column by column, each value looked up as apply looks it up. A
// row with a value strict mode refuses goes to apply, which fails it with
// the reason; so does every row of a stream with lists or custom fields to
// map, which apply alone decodes.
func (m *mapper) applyBatch(ctx *transform.Context, b *transform.Batch) {
	cols := m.streams[ctx.Stream()]
	whole := len(m.fields) > 0 && withCustomFields[ctx.Stream()]
	for i := range cols {
		whole = whole || cols[i].kind != scalar
	}
	if whole {
		b.PassAll()
		return
	}
	for k := range cols {
		c := &cols[k]
		values, ok := b.Strings(c.name)
		set, ok2 := b.Setter(c.name)
		if !ok || !ok2 {
			b.PassAll()
			return
		}
		for i := range b.Len() {
			v := values.At(i)
			if v == "" {
				continue
			}
			switch to, ok := c.lookup(v, m.strict); {
			case !ok:
				b.Pass(i)
			case to == v:
			case to == "":
				set.SetNull(i)
			default:
				set.SetString(i, to)
			}
		}
	}
}

// apply maps the record's columns, then its custom fields. A record without
// a mapped value goes back unchanged, byte for byte.
func (m *mapper) apply(ctx *transform.Context, r *transform.Record) transform.Result {
	if ctx.Stream() != m.stream {
		// Batches are of one stream: a map lookup per record would cost
		// more than the mapping.
		m.stream, m.cols = ctx.Stream(), m.streams[ctx.Stream()]
	}
	cols := m.cols
	for i := range cols {
		c := &cols[i]
		var err error
		switch c.kind {
		case scalar:
			err = m.mapScalar(r, c)
		case list:
			err = m.mapList(r, c)
		}
		if err != nil {
			return transform.Fail(err.Error())
		}
	}
	if len(m.fields) > 0 {
		if err := m.mapCustomFields(r); err != nil {
			return transform.Fail(err.Error())
		}
	}
	return transform.Keep(r)
}

func (m *mapper) mapScalar(r *transform.Record, c *column) error {
	v := r.String(c.name)
	if v == "" {
		return nil
	}
	to, ok := c.lookup(v, m.strict)
	switch {
	case !ok:
		return unmapped(&c.table, v)
	case to == v:
	case to == "":
		// Canonical optional columns store an empty string as null.
		return r.Set(c.name, nil)
	default:
		r.SetString(c.name, to)
	}
	return nil
}

func (m *mapper) mapList(r *transform.Record, c *column) error {
	var vs []string
	if err := r.Decode(c.name, &vs); err != nil {
		return err
	}
	out, changed, err := m.mapStrings(&c.table, vs)
	if err != nil || !changed {
		return err
	}
	r.SetStrings(c.name, out)
	return nil
}

// mapStrings maps each string of vs. An element mapped to "" is removed, and
// the result has no duplicates when it changed (two tags mapped onto one).
func (m *mapper) mapStrings(t *table, vs []string) (out []string, changed bool, err error) {
	out = make([]string, 0, len(vs))
	for _, v := range vs {
		to, ok := t.lookup(v, m.strict)
		if !ok {
			return nil, false, unmapped(t, v)
		}
		if to != v {
			changed = true
		}
		if to != "" && !slices.Contains(out, to) {
			out = append(out, to)
		}
	}
	return out, changed || len(out) != len(vs), nil
}

// mapCustomFields maps the values of the configured custom fields. The
// object is re-encoded only when a value changed, with its keys sorted, as
// the connectors write it.
func (m *mapper) mapCustomFields(r *transform.Record) error {
	var fields map[string]json.RawMessage
	if err := r.Decode("custom_fields", &fields); err != nil {
		return err
	}
	changed := false
	for id, raw := range fields {
		t, ok := m.fields[id]
		if !ok || string(raw) == "null" {
			continue
		}
		to, ok, err := m.mapJSON(&t, raw)
		if err != nil {
			return err
		}
		if ok {
			fields[id] = to
			changed = true
		}
	}
	if !changed {
		return nil
	}
	return r.Set("custom_fields", fields)
}

// mapJSON maps a custom field's value: a string, or a list of strings.
// changed is false when the value maps onto itself.
func (m *mapper) mapJSON(t *table, raw json.RawMessage) (to json.RawMessage, changed bool, err error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if s == "" {
			return nil, false, nil
		}
		mapped, ok := t.lookup(s, m.strict)
		if !ok {
			return nil, false, unmapped(t, s)
		}
		if mapped == s {
			return nil, false, nil
		}
		if mapped == "" {
			return json.RawMessage("null"), true, nil
		}
		to, err := json.Marshal(mapped)
		return to, true, err
	}
	var vs []string
	if json.Unmarshal(raw, &vs) == nil {
		out, changed, err := m.mapStrings(t, vs)
		if err != nil || !changed {
			return nil, false, err
		}
		to, err := json.Marshal(out)
		return to, true, err
	}
	if m.strict {
		return nil, false, fmt.Errorf("%s is %s, not a string or a list of strings, and has no mapping (strict)", t.name, raw)
	}
	return nil, false, nil
}

// unmapped is the reason a record fails in strict mode: it names the value,
// so that the operator knows which entry the config lacks.
func unmapped(t *table, v string) error {
	return fmt.Errorf("%s %q has no mapping (strict: add it to the config, or map it onto itself)", t.name, v)
}
