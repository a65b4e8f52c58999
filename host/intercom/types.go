package intercom

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// IDs is a list of Intercom ids. The 2.16 schemas declare a few id lists
// (an admin's team_ids, a team's admin_ids) as integers while every other id
// is a string; IDs accepts both on decode and holds strings, so callers
// compare ids one way everywhere.
type IDs []string

// UnmarshalJSON accepts an array of strings and/or numbers, or null.
func (ids *IDs) UnmarshalJSON(b []byte) error {
	var raw []flexString
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	if raw == nil {
		*ids = nil
		return nil
	}
	out := make(IDs, len(raw))
	for i, r := range raw {
		out[i] = string(r)
	}
	*ids = out
	return nil
}

// flexString decodes a JSON string, number or null into a string; it is how
// single ids that the schema types as integers (admin_assignee_id) become Go
// strings.
type flexString string

// UnmarshalJSON accepts a string, a number or null.
func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*f = ""
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
	default:
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return fmt.Errorf("id: want a string or a number, got %s", b)
		}
		*f = flexString(n.String())
	}
	return nil
}

// Reference points at another Intercom object, e.g. the admin who applied a tag.
type Reference struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// ListRef is the {type:"list", data:[...], url, total_count, has_more} shape a
// contact uses for its tags, notes and companies: references, not the objects.
type ListRef struct {
	Type       string      `json:"type,omitempty"`
	Data       []ObjectRef `json:"data"`
	URL        string      `json:"url,omitempty"`
	TotalCount int         `json:"total_count"`
	HasMore    bool        `json:"has_more"`
}

// ObjectRef is one entry of a [ListRef].
type ObjectRef struct {
	Type string `json:"type,omitempty"`
	ID   string `json:"id"`
	URL  string `json:"url,omitempty"`
}

// cursorPages is the pages object of Intercom's cursor lists.
type cursorPages struct {
	Type       string `json:"type"`
	Page       int    `json:"page"`
	PerPage    int    `json:"per_page"`
	TotalPages int    `json:"total_pages"`
	Next       *struct {
		PerPage       int    `json:"per_page"`
		StartingAfter string `json:"starting_after"`
	} `json:"next"`
}

// nextCursor returns the starting_after of the next page, "" on the last page.
func (p *cursorPages) nextCursor() string {
	if p == nil || p.Next == nil {
		return ""
	}
	return p.Next.StartingAfter
}
