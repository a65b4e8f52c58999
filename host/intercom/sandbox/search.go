package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// Contact search: the subset of Intercom's query language a migration
// uses. A query is a filter {field, operator, value} or a group
// {operator: AND|OR, value: [queries]}; groups nest at most two levels and
// hold at most 15 filters, as in Intercom.

const (
	maxSearchDepth    = 2
	maxFiltersInGroup = 15
)

type query struct {
	group    string // "AND" or "OR"; "" for a single filter
	children []query
	field    string
	operator string
	value    any // string, json.Number, bool, nil or []any
}

func badQuery(format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "parameter_invalid", message: fmt.Sprintf(format, args...)}
}

func parseQuery(raw json.RawMessage, depth int) (query, *apiError) {
	var in struct {
		Field    string          `json:"field"`
		Operator string          `json:"operator"`
		Value    json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(raw, &in); err != nil {
		return query{}, badQuery("query must be an object with field, operator and value")
	}
	switch in.Operator {
	case "AND", "OR":
		if depth >= maxSearchDepth {
			return query{}, badQuery("queries can be nested at most %d levels deep", maxSearchDepth)
		}
		var items []json.RawMessage
		if err := json.Unmarshal(in.Value, &items); err != nil || len(items) == 0 {
			return query{}, badQuery("%s needs an array of queries", in.Operator)
		}
		if len(items) > maxFiltersInGroup {
			return query{}, badQuery("a query group holds at most %d filters", maxFiltersInGroup)
		}
		q := query{group: in.Operator}
		for _, it := range items {
			child, aerr := parseQuery(it, depth+1)
			if aerr != nil {
				return query{}, aerr
			}
			q.children = append(q.children, child)
		}
		return q, nil
	case "=", "!=", "IN", "NIN", "<", ">", "~", "!~", "^", "$":
	default:
		return query{}, badQuery("operator %q is not supported", in.Operator)
	}
	if !searchable(in.Field) {
		return query{}, badQuery("%q is not a searchable field", in.Field)
	}
	dec := json.NewDecoder(strings.NewReader(string(in.Value)))
	dec.UseNumber()
	var v any
	if len(in.Value) > 0 {
		if err := dec.Decode(&v); err != nil {
			return query{}, badQuery("value is not valid JSON")
		}
	}
	_, isList := v.([]any)
	if (in.Operator == "IN" || in.Operator == "NIN") != isList {
		return query{}, badQuery("operator %s takes %s", in.Operator, map[bool]string{true: "an array", false: "a single value"}[in.Operator == "IN" || in.Operator == "NIN"])
	}
	return query{field: in.Field, operator: in.Operator, value: v}, nil
}

func searchable(field string) bool {
	switch field {
	case "id", "role", "name", "email", "email_domain", "phone", "external_id", "owner_id",
		"created_at", "updated_at", "signed_up_at", "last_seen_at":
		return true
	}
	return strings.HasPrefix(field, "custom_attributes.") && len(field) > len("custom_attributes.")
}

// fieldValue returns a contact's value for a searchable field.
func fieldValue(c *Contact, field string) any {
	switch field {
	case "id":
		return c.ID
	case "role":
		return c.Role
	case "name":
		return c.Name
	case "email":
		return c.Email
	case "email_domain":
		return emailDomain(c.Email)
	case "phone":
		return c.Phone
	case "external_id":
		return c.ExternalID
	case "owner_id":
		return c.OwnerID
	case "created_at":
		return c.CreatedAt
	case "updated_at":
		return c.UpdatedAt
	case "signed_up_at":
		return c.SignedUpAt
	case "last_seen_at":
		return c.LastSeenAt
	}
	return c.CustomAttributes[strings.TrimPrefix(field, "custom_attributes.")]
}

func (q query) match(c *Contact) bool {
	switch q.group {
	case "AND":
		for _, ch := range q.children {
			if !ch.match(c) {
				return false
			}
		}
		return true
	case "OR":
		for _, ch := range q.children {
			if ch.match(c) {
				return true
			}
		}
		return false
	}
	got := fieldValue(c, q.field)
	// Emails are matched case-insensitively, as Intercom stores them.
	fold := q.field == "email" || q.field == "email_domain"
	switch q.operator {
	case "=":
		return equalValues(got, q.value, fold)
	case "!=":
		return !equalValues(got, q.value, fold)
	case "IN", "NIN":
		in := false
		for _, v := range q.value.([]any) {
			if equalValues(got, v, fold) {
				in = true
				break
			}
		}
		return in == (q.operator == "IN")
	case "<", ">":
		a, ok1 := number(got)
		b, ok2 := number(q.value)
		if !ok1 || !ok2 {
			return false
		}
		if q.operator == "<" {
			return a < b
		}
		return a > b
	}
	g, v := strings.ToLower(text(got)), strings.ToLower(text(q.value))
	switch q.operator {
	case "~":
		return strings.Contains(g, v)
	case "!~":
		return !strings.Contains(g, v)
	case "^":
		return strings.HasPrefix(g, v)
	case "$":
		return strings.HasSuffix(g, v)
	}
	return false
}

func equalValues(got, want any, fold bool) bool {
	if want == nil {
		return got == nil || text(got) == ""
	}
	if a, ok := number(got); ok {
		if b, ok := number(want); ok {
			return a == b
		}
	}
	if fold {
		return strings.EqualFold(text(got), text(want))
	}
	return text(got) == text(want)
}

func number(v any) (float64, bool) {
	switch v := v.(type) {
	case int64:
		return float64(v), true
	case float64:
		return v, true
	case json.Number:
		f, err := v.Float64()
		return f, err == nil
	}
	return 0, false
}

func text(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case json.Number:
		return v.String()
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	}
	return fmt.Sprint(v)
}
