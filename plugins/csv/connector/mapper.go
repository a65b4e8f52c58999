package connector

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/ferryhq/ferry/sdk/schema"
)

// colRef locates a source column in a row: an index into a CSV record, or
// a key of a JSON object (a path of keys when it walks into nested ones).
type colRef struct {
	name  string
	index int
	path  []string
}

// cell is a source column's value in one row.
type cell struct {
	// present is false when the row has no such column, or it is null.
	present bool
	text    string
	// list holds a JSON array's items; isList says the value was one.
	list   []string
	isList bool
}

// empty reports whether the cell holds nothing to read, so that a default
// applies.
func (c cell) empty() bool {
	return !c.present || (!c.isList && strings.TrimSpace(c.text) == "")
}

// rowData is one source row as the mappers see it, CSV or JSON Lines.
type rowData interface {
	// cell returns a column's value; an error says the value cannot be
	// read as text (a JSON object where a string belongs, say).
	cell(ref colRef) (cell, error)
	// appendJSON appends the column's value as JSON, or reports false when
	// the row has none.
	appendJSON(dst []byte, ref colRef) ([]byte, bool)
	// raw is the whole source row as a JSON object.
	raw() json.RawMessage
}

// columnSource resolves source column names: a CSV header, or JSON Lines,
// where any name may appear in any row.
type columnSource interface {
	ref(name string) (colRef, bool)
	// describe lists the columns there are, for a message about one that
	// is missing.
	describe(missing string) string
}

// binding is a canonical column bound to its source column, or only to a
// default.
type binding[R schema.Record] struct {
	field[R]
	source string // "" when the column has only a default
	ref    colRef
	values map[string]string
	def    string
	hasDef bool
	// lower lower-cases the value: a reference to a user whose id is its
	// email in lower case (users_from_ticket without an id column).
	lower bool
}

// outcome is one record a row brought, or why it could not.
type outcome struct {
	stream string
	rec    schema.Record // nil when the record could not be read
	id     string        // the record's id, or file:line when it has none
	err    error         // why the record could not be read
	reason string        // err, prefixed with the row's file and line
}

// rowMapper turns a row into its outcomes: the row's own record first,
// then any it brings (a ticket's comments).
type rowMapper interface {
	mapRow(row rowData, line int64, out []outcome) []outcome
}

// mapper maps rows into records of type R.
type mapper[R schema.Record] struct {
	stream   string
	rt       recordType[R]
	p        parser
	display  string
	binds    []binding[R]
	id       int // index of the id binding in binds; -1 when ids are made from file and line
	custom   []colRef
	customJS []byte // scratch for custom fields
}

// bindColumns binds rt's columns for a file: explicit columns, then
// (with sameName) source columns of the same name, then defaults. Its
// problems name the config key.
func bindColumns[R schema.Record](rt recordType[R], src columnSource, columns, defaults map[string]string, values map[string]map[string]string, prefix string, sameName bool) ([]binding[R], []error) {
	var out []binding[R]
	var problems []error
	for _, fl := range rt.fields {
		name, explicit := columns[fl.name]
		if !explicit && sameName {
			name = fl.name
		}
		var ref colRef
		found := false
		if name != "" {
			ref, found = src.ref(name)
		}
		if explicit && name != "" && !found {
			problems = append(problems, fmt.Errorf("%scolumns.%s: %s", prefix, fl.name, src.describe(name)))
			continue
		}
		def, hasDef := defaults[fl.name]
		if !found && !hasDef {
			continue
		}
		b := binding[R]{field: fl, ref: ref, values: values[fl.name], def: def, hasDef: hasDef}
		if found {
			b.source = name
		}
		out = append(out, b)
	}
	return out, problems
}

// newMapper binds a file's columns for record type rt.
func newMapper[R schema.Record](stream string, rt recordType[R], s *settings, src columnSource) (*mapper[R], []error) {
	f := s.file
	binds, problems := bindColumns(rt, src, f.Columns, f.Defaults, f.Values, "", true)
	m := &mapper[R]{stream: stream, rt: rt, p: s.parser(), display: s.display, binds: binds, id: -1}
	for i, b := range binds {
		if b.kind == kindID {
			m.id = i
		}
	}
	for _, name := range f.CustomFields {
		ref, ok := src.ref(name)
		if !ok {
			problems = append(problems, fmt.Errorf("custom_fields: %s", src.describe(name)))
			continue
		}
		m.custom = append(m.custom, ref)
	}
	if stream == schema.Comments && !slices.ContainsFunc(binds, func(b binding[R]) bool { return b.name == "ticket_id" }) {
		problems = append(problems, fmt.Errorf("columns.ticket_id: no ticket_id column: map the column that holds each comment's ticket"))
	}
	return m, problems
}

// loc names a row for messages and made-up ids: file:line.
func loc(display string, line int64) string {
	return display + ":" + strconv.FormatInt(line, 10)
}

// fill sets r's bound columns from row.
func fill[R schema.Record](r R, row rowData, binds []binding[R], p parser) error {
	for i := range binds {
		b := &binds[i]
		var c cell
		if b.source != "" {
			var err error
			if c, err = row.cell(b.ref); err != nil {
				return fmt.Errorf("%s: %w", b.where(b.source), err)
			}
		}
		from := b.source
		if c.empty() {
			if !b.hasDef {
				continue
			}
			c, from = cell{present: true, text: b.def}, ""
		}
		var v value
		var err error
		if c.isList {
			if b.kind != kindList {
				return fmt.Errorf("%s: a JSON array where one value belongs", b.where(b.source))
			}
			v = value{list: p.items(c.list, b.values)}
		} else {
			v, err = p.parse(b.kind, b.name, c.text, b.values)
		}
		if err == nil {
			if b.lower {
				v.text = strings.ToLower(v.text)
				for i, it := range v.list {
					v.list[i] = strings.ToLower(it)
				}
			}
			err = b.set(r, v)
		}
		if err != nil {
			if from == "" {
				return fmt.Errorf("default of %s: %w", b.name, err)
			}
			return fmt.Errorf("%s: %w", b.where(from), err)
		}
	}
	return nil
}

// where names the column a value came from in a message: the canonical
// column, and the source column when its name differs.
func (b *binding[R]) where(source string) string {
	if source == b.name {
		return b.name
	}
	return fmt.Sprintf("column %q (%s)", source, b.name)
}

// idOf reads the row's id; ok is false when the id column is empty.
func (m *mapper[R]) idOf(row rowData, line int64) (id string, ok bool) {
	if m.id < 0 {
		return loc(m.display, line), true
	}
	c, err := row.cell(m.binds[m.id].ref)
	if err != nil || c.isList {
		return "", false
	}
	id = strings.TrimSpace(c.text)
	return id, id != ""
}

// record maps a row into its record; id is the record's id for an error
// report.
func (m *mapper[R]) record(row rowData, line int64) (r R, id string, err error) {
	id, ok := m.idOf(row, line)
	if !ok {
		return r, loc(m.display, line), fmt.Errorf("no id: %q is empty or missing", m.binds[m.id].source)
	}
	r = m.rt.new()
	if err := fill(r, row, m.binds, m.p); err != nil {
		return r, id, err
	}
	if m.id < 0 {
		// Set after fill, which leaves an unbound id alone.
		for _, fl := range m.rt.fields {
			if fl.kind == kindID {
				if err := fl.set(r, value{text: id}); err != nil {
					return r, id, err
				}
			}
		}
	}
	if err := m.rt.finish(r, m.customFields(row), row.raw()); err != nil {
		return r, id, err
	}
	return r, id, nil
}

// customFields builds the custom_fields object: each listed column the row
// has a value in, keyed by the column's name.
func (m *mapper[R]) customFields(row rowData) json.RawMessage {
	if len(m.custom) == 0 {
		return nil
	}
	buf, ok := appendObject(m.customJS[:0], row, m.custom)
	m.customJS = buf
	if !ok {
		return nil
	}
	return append(json.RawMessage(nil), buf...)
}

// appendObject appends a JSON object of the columns the row has a value
// in, keyed by their names; ok is false when it has none (and the object
// is empty).
func appendObject(dst []byte, row rowData, refs []colRef) (_ []byte, ok bool) {
	start := len(dst)
	dst = append(dst, '{')
	for _, ref := range refs {
		mark := len(dst)
		if len(dst) > start+1 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, ref.name)
		dst = append(dst, ':')
		var has bool
		if dst, has = row.appendJSON(dst, ref); !has {
			dst = dst[:mark]
		}
	}
	return append(dst, '}'), len(dst) > start+1
}

func (m *mapper[R]) mapRow(row rowData, line int64, out []outcome) []outcome {
	r, id, err := m.record(row, line)
	if err != nil {
		return append(out, outcome{stream: m.stream, id: id, err: err})
	}
	return append(out, outcome{stream: m.stream, rec: r, id: id})
}

// ticketMapper maps a ticket row into the ticket, the comments its
// columns hold, and the users they name.
type ticketMapper struct {
	*mapper[*schema.Ticket]
	comments []*ticketComment
	users    []*ticketUser
	// seen holds the id of every user this read emitted (or learned, on a
	// resume, that the rows before its cursor emitted): a user comes once.
	// It grows with the distinct users, never with rows.
	seen map[string]struct{}
	// carried counts the users of the rows before the cursor when the read
	// did not rebuild seen because no row follows: the cursor it writes
	// must still count them.
	carried int64
	scratch []outcome
}

// ticketUser makes one user from a ticket row's columns.
type ticketUser struct {
	rt    recordType[*schema.User]
	binds []binding[*schema.User]
	p     parser
	// key is the index in binds of the column the user's id is read from:
	// the id column, or the email one when fromEmail.
	key       int
	fromEmail bool
	custom    []colRef
	// rawCols are the source columns the user is made from: its raw
	// record.
	rawCols []colRef
}

// ticketComment makes one comment from a ticket row's columns.
type ticketComment struct {
	suffix string
	binds  []binding[*schema.Comment]
	p      parser
	// rawCols are the source columns the comment is made from, with the
	// ticket's id column: the comment's raw record.
	rawCols []colRef
	body    []int // indexes in binds of the body columns
}

// newTicketMapper binds a tickets file, with its comments_from_ticket.
func newTicketMapper(s *settings, src columnSource) (*ticketMapper, []error) {
	m, problems := newMapper(schema.Tickets, ticketType(), s, src)
	tm := &ticketMapper{mapper: m}
	ct := commentType()
	for i, cs := range s.comments {
		prefix := fmt.Sprintf("comments_from_ticket[%d].", i)
		// A comment takes only the columns its entry names: not a ticket
		// column that happens to be called created_at.
		binds, errs := bindColumns(ct, src, cs.columns, cs.defaults, nil, prefix, false)
		problems = append(problems, errs...)
		tc := &ticketComment{suffix: cs.suffix, binds: binds, p: s.parser()}
		addRaw := func(ref colRef) {
			if !slices.ContainsFunc(tc.rawCols, func(r colRef) bool { return r.name == ref.name }) {
				tc.rawCols = append(tc.rawCols, ref)
			}
		}
		if m.id >= 0 {
			addRaw(m.binds[m.id].ref)
		}
		for j, b := range binds {
			if b.source != "" {
				addRaw(b.ref)
			}
			if b.kind == kindBody && b.source != "" {
				tc.body = append(tc.body, j)
			}
		}
		tm.comments = append(tm.comments, tc)
	}
	// The ticket's references to an email column that is a user's id are
	// lower-cased as the id is, so that they name the user.
	fold := map[string]bool{}
	for i, tu := range s.users {
		prefix := fmt.Sprintf("users_from_ticket[%d].", i)
		u, errs := newTicketUser(tu, s, src, prefix)
		problems = append(problems, errs...)
		if u == nil {
			continue
		}
		if u.fromEmail {
			fold[u.binds[u.key].source] = true
		}
		tm.users = append(tm.users, u)
	}
	if len(s.users) > 0 {
		tm.seen = map[string]struct{}{}
	}
	for i := range m.binds {
		switch b := &m.binds[i]; b.name {
		case "requester_id", "submitter_id", "assignee_id", "cc_ids":
			b.lower = fold[b.source]
		}
	}
	for _, tc := range tm.comments {
		for i := range tc.binds {
			if b := &tc.binds[i]; b.name == "author_id" {
				b.lower = fold[b.source]
			}
		}
	}
	return tm, problems
}

// newTicketUser binds a users_from_ticket entry to the file's columns; nil
// when its key column is not in the file.
func newTicketUser(tu TicketUser, s *settings, src columnSource, prefix string) (*ticketUser, []error) {
	rt := userType()
	// A user takes only the columns its entry names: not a ticket column
	// that happens to be called name.
	binds, problems := bindColumns(rt, src, tu.Columns, tu.Defaults, tu.Values, prefix, false)
	u := &ticketUser{rt: rt, binds: binds, p: s.parser(), key: -1}
	keyCol := "id"
	if tu.Columns["id"] == "" {
		keyCol, u.fromEmail = "email", true
	}
	addRaw := func(ref colRef) {
		if !slices.ContainsFunc(u.rawCols, func(r colRef) bool { return r.name == ref.name }) {
			u.rawCols = append(u.rawCols, ref)
		}
	}
	for i, b := range binds {
		if b.name == keyCol && b.source != "" {
			u.key = i
		}
		if b.source != "" {
			addRaw(b.ref)
		}
	}
	for _, name := range tu.CustomFields {
		ref, ok := src.ref(name)
		if !ok {
			problems = append(problems, fmt.Errorf("%scustom_fields: %s", prefix, src.describe(name)))
			continue
		}
		u.custom = append(u.custom, ref)
		addRaw(ref)
	}
	if u.key < 0 {
		// bindColumns said the column is missing.
		return nil, problems
	}
	return u, problems
}

// mapUsers appends the users the row names that this read has not
// emitted yet, or why one cannot be read. The ticket's own outcome does
// not matter: a user exists whether or not its ticket reads.
func (m *ticketMapper) mapUsers(row rowData, line int64, out []outcome) []outcome {
	for _, tu := range m.users {
		id, err := tu.idOf(row)
		switch {
		case err != nil:
			out = append(out, outcome{stream: schema.Users, id: loc(m.display, line), err: err})
			continue
		case id == "":
			continue
		}
		if _, ok := m.seen[id]; ok {
			continue
		}
		u, err := tu.user(row, id)
		if err != nil {
			// Not seen: the next row that names the user tries again.
			out = append(out, outcome{stream: schema.Users, id: id, err: err})
			continue
		}
		// A clone: the id is a slice of the row's text, which would stay
		// in memory with it.
		m.seen[strings.Clone(id)] = struct{}{}
		out = append(out, outcome{stream: schema.Users, rec: u, id: id})
	}
	return out
}

// usersSeen is how many users the rows up to the last one mapped brought.
func (m *ticketMapper) usersSeen() int64 {
	return m.carried + int64(len(m.seen))
}

// forgetUsers empties the set, for a read that starts again at the first
// row.
func (m *ticketMapper) forgetUsers() {
	clear(m.seen)
	m.carried = 0
}

// idOf reads the user's id from the row: the id column, or the email in
// lower case; "" when the row names no user.
func (tu *ticketUser) idOf(row rowData) (string, error) {
	b := &tu.binds[tu.key]
	c, err := row.cell(b.ref)
	switch {
	case err != nil:
		return "", fmt.Errorf("%s: %w", b.where(b.source), err)
	case c.isList:
		return "", fmt.Errorf("%s: a JSON array where one value belongs", b.where(b.source))
	case c.empty():
		return "", nil
	}
	// As fill reads the column, so that the id is the record's.
	v, err := tu.p.parse(b.kind, b.name, c.text, b.values)
	if err != nil {
		return "", fmt.Errorf("%s: %w", b.where(b.source), err)
	}
	if tu.fromEmail {
		return strings.ToLower(v.text), nil
	}
	return v.text, nil
}

// user makes the user of id from the row.
func (tu *ticketUser) user(row rowData, id string) (*schema.User, error) {
	u := tu.rt.new()
	if err := fill(u, row, tu.binds, tu.p); err != nil {
		return nil, err
	}
	u.ID = id
	var custom json.RawMessage
	if len(tu.custom) > 0 {
		if obj, ok := appendObject(nil, row, tu.custom); ok {
			custom = obj
		}
	}
	size := 2
	for _, ref := range tu.rawCols {
		v, _ := row.cell(ref)
		size += len(ref.name) + len(v.text) + len(v.text)/8 + 6
	}
	raw, _ := appendObject(make([]byte, 0, size), row, tu.rawCols)
	if err := tu.rt.finish(u, custom, raw); err != nil {
		return nil, err
	}
	return u, nil
}

func (m *ticketMapper) mapRow(row rowData, line int64, out []outcome) []outcome {
	t, id, err := m.record(row, line)
	if err != nil {
		out = append(out, outcome{stream: schema.Tickets, id: id, err: err})
		return m.mapUsers(row, line, out)
	}
	out = append(out, outcome{stream: schema.Tickets, rec: t, id: id})
	for _, tc := range m.comments {
		c, err := tc.comment(t, row)
		switch {
		case err != nil:
			out = append(out, outcome{stream: schema.Comments, id: t.ID + "-" + tc.suffix, err: err})
		case c != nil:
			out = append(out, outcome{stream: schema.Comments, rec: c, id: c.ID})
		}
	}
	return m.mapUsers(row, line, out)
}

// learn maps the row's users as mapRow would and drops them: a
// resumed read learns which users the rows before its cursor brought.
func (m *ticketMapper) learn(row rowData, line int64) {
	m.scratch = m.mapUsers(row, line, m.scratch[:0])
	clear(m.scratch) // let the records go
}

// comment makes the comment, or nil when the row's body columns are empty.
func (tc *ticketComment) comment(t *schema.Ticket, row rowData) (*schema.Comment, error) {
	hasBody := false
	for _, i := range tc.body {
		if c, err := row.cell(tc.binds[i].ref); err == nil && !c.empty() {
			hasBody = true
		}
	}
	if !hasBody {
		return nil, nil
	}
	c := &schema.Comment{ID: t.ID + "-" + tc.suffix, TicketID: t.ID, Public: true}
	if err := fill(c, row, tc.binds, tc.p); err != nil {
		return nil, err
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = t.CreatedAt
	}
	size := 2
	for _, ref := range tc.rawCols {
		v, _ := row.cell(ref)
		size += len(ref.name) + len(v.text) + len(v.text)/8 + 6
	}
	c.Raw, _ = appendObject(make([]byte, 0, size), row, tc.rawCols)
	return c, nil
}

// namedColumn is a source column a config names, with the config key that
// names it.
type namedColumn struct {
	key, column string
}

// namedColumns lists every source column a file's config names, for
// Check.
func namedColumns(s *settings) []namedColumn {
	var out []namedColumn
	f := s.file
	for _, k := range slices.Sorted(maps.Keys(f.Columns)) {
		if f.Columns[k] != "" {
			out = append(out, namedColumn{"columns." + k, f.Columns[k]})
		}
	}
	for _, c := range f.CustomFields {
		out = append(out, namedColumn{"custom_fields", c})
	}
	for i, cs := range s.comments {
		for _, k := range slices.Sorted(maps.Keys(cs.columns)) {
			if cs.columns[k] != "" {
				out = append(out, namedColumn{fmt.Sprintf("comments_from_ticket[%d].columns.%s", i, k), cs.columns[k]})
			}
		}
	}
	for i, tu := range s.users {
		for _, k := range slices.Sorted(maps.Keys(tu.Columns)) {
			if tu.Columns[k] != "" {
				out = append(out, namedColumn{fmt.Sprintf("users_from_ticket[%d].columns.%s", i, k), tu.Columns[k]})
			}
		}
		for _, c := range tu.CustomFields {
			out = append(out, namedColumn{fmt.Sprintf("users_from_ticket[%d].custom_fields", i), c})
		}
	}
	return out
}
