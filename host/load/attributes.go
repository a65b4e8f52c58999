package load

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/ferryhq/ferry/host/intercom"
)

// Custom fields become custom attributes of the right type: a ticket's
// fields attributes of its conversation, a user's of the contact, an
// organization's of the company. Intercom only takes values for attributes
// that exist, so preflight creates the missing ones; an attribute that
// exists with another type is left alone and its field's values are left
// out (and reported), rather than failing records.

// attribute is where one source field's values go.
type attribute struct {
	name     string // the Intercom attribute
	dataType string // its Intercom type
	// labels maps a drop-down field's values to their labels, which is
	// what people read (and what a string attribute should hold).
	labels map[string]string
}

// attributeSet is one model's fields → attributes.
type attributeSet map[string]attribute

// Attributes says what preflight did about custom attributes.
type Attributes struct {
	// Created lists the attributes preflight created, as model.name (type).
	Created []string
	// Skipped lists source fields whose values are left out, with why.
	Skipped []string
}

// ticketFieldTypes maps a help desk's ticket field types (Zendesk's, which
// the canonical model keeps) to conversation attribute types; a type not
// here is a system field (subject, status, ...), which the loader maps
// itself.
var ticketFieldTypes = map[string]string{
	"text": "string", "textarea": "string", "regexp": "string", "partialcreditcard": "string",
	"tagger": "string", "multiselect": "string", "lookup": "string",
	"checkbox": "boolean", "integer": "integer", "decimal": "decimal", "date": "datetime",
}

// dataAttributeName makes a name Intercom's data attributes accept:
// letters, digits, currency symbols and hyphens.
func dataAttributeName(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.TrimSpace(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Sc, r) {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimRight(b.String(), "-")
}

// planAttributes works out the attributes the staged custom fields need.
func planAttributes(ctx context.Context, db *sql.DB) (tickets, users, orgs attributeSet, err error) {
	tickets = attributeSet{}
	rows, err := db.QueryContext(ctx, `SELECT id, coalesce(title, ''), coalesce(type, ''), coalesce(options::VARCHAR, '') FROM ticket_fields ORDER BY id`)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("read the ticket fields: %w", err)
	}
	taken := map[string]bool{}
	for rows.Next() {
		var id, title, typ, options string
		if err := rows.Scan(&id, &title, &typ, &options); err != nil {
			rows.Close()
			return nil, nil, nil, fmt.Errorf("read the ticket fields: %w", err)
		}
		dt, ok := ticketFieldTypes[typ]
		if !ok {
			continue
		}
		name := strings.TrimSpace(title)
		if name == "" || taken[strings.ToLower(name)] {
			name = strings.TrimSpace(name + " " + id)
		}
		taken[strings.ToLower(name)] = true
		a := attribute{name: name, dataType: dt}
		if options != "" {
			var opts []struct {
				Name  string `json:"name"`
				Value any    `json:"value"`
			}
			if json.Unmarshal([]byte(options), &opts) == nil {
				a.labels = map[string]string{}
				for _, o := range opts {
					a.labels[fmt.Sprint(o.Value)] = o.Name
				}
			}
		}
		tickets[id] = a
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, nil, err
	}
	if users, err = inferAttributes(ctx, db, "users"); err != nil {
		return nil, nil, nil, err
	}
	if orgs, err = inferAttributes(ctx, db, "organizations"); err != nil {
		return nil, nil, nil, err
	}
	return tickets, users, orgs, nil
}

// inferAttributes types the custom fields of users or organizations from
// their values (their help desks do not say): booleans, integers, numbers,
// else strings.
func inferAttributes(ctx context.Context, db *sql.DB, table string) (attributeSet, error) {
	rows, err := db.QueryContext(ctx, `SELECT j.key, json_type(j.value), count(*) FROM `+table+`, json_each(custom_fields) AS j
WHERE custom_fields IS NOT NULL AND json_type(j.value) <> 'NULL' GROUP BY ALL ORDER BY 1`)
	if err != nil {
		return nil, fmt.Errorf("read the custom fields of %s: %w", table, err)
	}
	defer rows.Close()
	kinds := map[string]map[string]bool{}
	var keys []string
	for rows.Next() {
		var key, kind string
		var n int64
		if err := rows.Scan(&key, &kind, &n); err != nil {
			return nil, fmt.Errorf("read the custom fields of %s: %w", table, err)
		}
		if kinds[key] == nil {
			kinds[key] = map[string]bool{}
			keys = append(keys, key)
		}
		kinds[key][kind] = true
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	set := attributeSet{}
	taken := map[string]bool{}
	sort.Strings(keys)
	for _, key := range keys {
		k := kinds[key]
		dt := "string"
		switch {
		case len(k) == 1 && k["BOOLEAN"]:
			dt = "boolean"
		case len(k) == 1 && (k["UBIGINT"] || k["BIGINT"]):
			dt = "integer"
		case !k["VARCHAR"] && !k["BOOLEAN"] && !k["OBJECT"] && !k["ARRAY"] && (k["DOUBLE"] || k["UBIGINT"] || k["BIGINT"]):
			dt = "float"
		}
		name := dataAttributeName(key)
		if name == "" || taken[strings.ToLower(name)] {
			name = dataAttributeName(name + "-" + fmt.Sprint(len(taken)+1))
		}
		taken[strings.ToLower(name)] = true
		set[key] = attribute{name: name, dataType: dt}
	}
	return set, nil
}

// ensureAttributes creates the attributes of sets that Intercom lacks, and
// drops from the sets those that exist with another type.
func (l *Loader) ensureAttributes(ctx context.Context, tickets, users, orgs attributeSet) (Attributes, error) {
	var res Attributes
	for _, m := range modelSets(tickets, users, orgs) {
		existing, err := existingAttributes(ctx, l.ic, m.model)
		if err != nil {
			return res, err
		}
		err = reconcile(m.model, m.set, existing, &res, func(a attribute) error {
			if m.model == "conversation" {
				_, err := l.ic.CreateConversationAttribute(ctx, a.name, a.dataType, "migrated by ferry")
				return err
			}
			_, err := l.ic.CreateDataAttribute(ctx, intercom.DataAttributeRequest{Name: a.name, Model: m.model, DataType: a.dataType, Description: "migrated by ferry"})
			return err
		})
		if err != nil {
			return res, err
		}
	}
	return res, nil
}

// reconcile makes Intercom's attributes of model (existing: lower-case
// name → type) fit set: it creates the missing ones and drops from set the
// fields whose attribute exists with another type, noting both in res.
func reconcile(model string, set attributeSet, existing map[string]string, res *Attributes, create func(attribute) error) error {
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		a := set[k]
		have, ok := existing[strings.ToLower(a.name)]
		switch {
		case ok && have == a.dataType:
		case ok:
			res.Skipped = append(res.Skipped, fmt.Sprintf("%s field %s: Intercom's %s attribute %q is of type %s, not %s; its values are left out", model, k, model, a.name, have, a.dataType))
			delete(set, k)
		default:
			if err := create(a); err != nil {
				return err
			}
			existing[strings.ToLower(a.name)] = a.dataType
			res.Created = append(res.Created, fmt.Sprintf("%s.%s (%s)", model, a.name, a.dataType))
		}
	}
	return nil
}

// modelSet is one model's attributes.
type modelSet struct {
	model string
	set   attributeSet
}

// modelSets lists the models that have fields, in the order preflight
// makes their attributes.
func modelSets(tickets, users, orgs attributeSet) []modelSet {
	var out []modelSet
	for _, m := range []modelSet{{intercom.ModelContact, users}, {intercom.ModelCompany, orgs}, {"conversation", tickets}} {
		if len(m.set) > 0 {
			out = append(out, m)
		}
	}
	return out
}

// existingAttributes reads the attributes model ("contact", "company" or
// "conversation") has in Intercom: lower-case name → type. Archived ones
// do not count.
func existingAttributes(ctx context.Context, ic *intercom.Client, model string) (map[string]string, error) {
	existing := map[string]string{}
	if model == "conversation" {
		list, err := ic.ListConversationAttributes(ctx)
		if err != nil {
			return nil, err
		}
		for _, a := range list {
			if !a.Archived {
				existing[strings.ToLower(a.Name)] = a.DataType
			}
		}
		return existing, nil
	}
	list, err := ic.ListDataAttributes(ctx, model)
	if err != nil {
		return nil, err
	}
	for _, a := range list {
		if !a.Archived {
			existing[strings.ToLower(a.Name)] = a.DataType
		}
	}
	return existing, nil
}

// values turns a record's custom fields (a JSON object) into attribute
// values; a value that does not fit its attribute's type is left out and
// returned in bad.
func (set attributeSet) values(raw json.RawMessage) (out map[string]any, bad []string) {
	if len(set) == 0 || len(raw) == 0 {
		return nil, nil
	}
	var fields map[string]any
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	if err := dec.Decode(&fields); err != nil {
		return nil, []string{"custom fields are not a JSON object"}
	}
	for k, v := range fields {
		a, ok := set[k]
		if !ok || v == nil {
			continue
		}
		val, ok := a.convert(v)
		if !ok {
			bad = append(bad, fmt.Sprintf("%s = %v is not a %s", a.name, v, a.dataType))
			continue
		}
		if out == nil {
			out = map[string]any{}
		}
		out[a.name] = val
	}
	sort.Strings(bad)
	return out, bad
}

// convert maps a source value to the attribute's type.
func (a attribute) convert(v any) (any, bool) {
	switch a.dataType {
	case "string":
		switch v := v.(type) {
		case string:
			if l, ok := a.labels[v]; ok {
				return l, true
			}
			return v, true
		case []any:
			var parts []string
			for _, x := range v {
				s := fmt.Sprint(x)
				if l, ok := a.labels[s]; ok {
					s = l
				}
				parts = append(parts, s)
			}
			return strings.Join(parts, ", "), true
		case map[string]any:
			b, _ := json.Marshal(v)
			return string(b), true
		default:
			return fmt.Sprint(v), true
		}
	case "integer":
		switch v := v.(type) {
		case json.Number:
			if i, err := v.Int64(); err == nil {
				return i, true
			}
		case string:
			if i, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
				return i, true
			}
		}
	case "float", "decimal":
		var s string
		switch v := v.(type) {
		case json.Number:
			s = v.String()
		case string:
			s = strings.TrimSpace(v)
		default:
			return nil, false
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
			return f, true
		}
	case "boolean":
		switch v := v.(type) {
		case bool:
			return v, true
		case string:
			if b, err := strconv.ParseBool(strings.TrimSpace(v)); err == nil {
				return b, true
			}
		}
	case "datetime":
		s, ok := v.(string)
		if !ok {
			if n, ok := v.(json.Number); ok {
				if i, err := n.Int64(); err == nil {
					return i, true
				}
			}
			return nil, false
		}
		for _, layout := range []string{"2006-01-02", time.RFC3339, "2006-01-02T15:04:05Z07:00", "2006-01-02 15:04:05"} {
			if t, err := time.Parse(layout, strings.TrimSpace(s)); err == nil {
				return t.Unix(), true
			}
		}
	}
	return nil, false
}
