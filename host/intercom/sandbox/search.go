package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// Contact and conversation search: the subset of Intercom's query
// language a migration uses. A query is a filter {field, operator, value} or a group
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

// parseSearch reads a search request's body: its query over the fields
// searchable allows, and its page (perPage by default, 150 at most).
func parseSearch(r *http.Request, searchable func(string) bool, defaultPerPage int) (q query, perPage int, startingAfter string, aerr *apiError) {
	var in struct {
		Query      json.RawMessage `json:"query"`
		Pagination *struct {
			PerPage       int         `json:"per_page"`
			StartingAfter *flexString `json:"starting_after"`
		} `json:"pagination"`
	}
	if aerr := decodeBody(r, &in); aerr != nil {
		return query{}, 0, "", aerr
	}
	if len(in.Query) == 0 || string(in.Query) == "null" {
		return query{}, 0, "", errMissing("query is required")
	}
	if q, aerr = parseQuery(in.Query, 0, searchable); aerr != nil {
		return query{}, 0, "", aerr
	}
	perPage = defaultPerPage
	if p := in.Pagination; p != nil {
		if p.PerPage < 0 {
			return query{}, 0, "", errInvalid("per_page must be a positive integer")
		}
		if p.PerPage > 0 {
			perPage = min(p.PerPage, 150)
		}
		startingAfter = p.StartingAfter.value()
	}
	return q, perPage, startingAfter, nil
}

func badQuery(format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "parameter_invalid", message: fmt.Sprintf(format, args...)}
}

func parseQuery(raw json.RawMessage, depth int, searchable func(string) bool) (query, *apiError) {
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
			child, aerr := parseQuery(it, depth+1, searchable)
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

// contactSearchable says which contact fields a search may name.
func contactSearchable(field string) bool {
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

// conversationSearchable says which conversation fields a search may name
// (those of Intercom's table that the sandbox keeps).
func conversationSearchable(field string) bool {
	switch field {
	case "id", "created_at", "updated_at", "source.author.id", "source.author.type", "contact_ids",
		"admin_assignee_id", "team_assignee_id", "open", "read", "state", "snoozed_until", "tag_ids", "title":
		return true
	}
	return strings.HasPrefix(field, "custom_attributes.") && len(field) > len("custom_attributes.")
}

// conversationValue returns a conversation's value for a searchable
// field; a field of many values (contact_ids, tag_ids) is a []string, which
// = matches when any of them is equal.
func conversationValue(c *Conversation, field string) any {
	switch field {
	case "id":
		return c.ID
	case "created_at":
		return c.CreatedAt
	case "updated_at":
		return c.UpdatedAt
	case "source.author.id":
		return c.Source.Author.ID
	case "source.author.type":
		return c.Source.Author.Type
	case "contact_ids":
		return c.ContactIDs
	case "admin_assignee_id":
		return c.AdminAssigneeID
	case "team_assignee_id":
		return c.TeamAssigneeID
	case "open":
		return c.Open()
	case "read":
		return c.Read
	case "state":
		return c.State
	case "snoozed_until":
		return c.SnoozedUntil
	case "tag_ids":
		var ids []string
		for _, t := range c.Tags {
			ids = append(ids, t.TagID)
		}
		return ids
	case "title":
		return c.Title
	}
	return c.CustomAttributes[strings.TrimPrefix(field, "custom_attributes.")]
}

// match reports whether the object whose fields get returns matches.
func (q query) match(get func(field string) any) bool {
	switch q.group {
	case "AND":
		for _, ch := range q.children {
			if !ch.match(get) {
				return false
			}
		}
		return true
	case "OR":
		for _, ch := range q.children {
			if ch.match(get) {
				return true
			}
		}
		return false
	}
	got := get(q.field)
	if many, ok := got.([]string); ok {
		one := query{field: q.field, operator: q.operator, value: q.value}
		some := false
		for _, v := range many {
			if one.match(func(string) any { return v }) {
				some = true
				break
			}
		}
		if q.operator == "!=" || q.operator == "NIN" || q.operator == "!~" {
			// Negations hold when no value is excluded.
			all := true
			for _, v := range many {
				if !one.match(func(string) any { return v }) {
					all = false
					break
				}
			}
			return all
		}
		return some
	}
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

// searchList answers a search over the objects ids names (oldest first, as
// the store keeps them): those value(id, field) makes match, a page at a
// time, as {type: listType, key: [...], total_count, pages}.
func searchList(r *http.Request, searchable func(string) bool, ids []string, value func(id, field string) any,
	render func(id string) any, listType, key string) (any, *apiError) {
	q, perPage, startingAfter, aerr := parseSearch(r, searchable, 20)
	if aerr != nil {
		return nil, aerr
	}
	var matched []string
	for _, id := range ids {
		if q.match(func(f string) any { return value(id, f) }) {
			matched = append(matched, id)
		}
	}
	page, pages, aerr := cursorPage(matched, startingAfter, perPage)
	if aerr != nil {
		return nil, aerr
	}
	list := make([]any, len(page))
	for i, id := range page {
		list[i] = render(id)
	}
	return map[string]any{"type": listType, key: list, "total_count": len(matched), "pages": pages}, nil
}
