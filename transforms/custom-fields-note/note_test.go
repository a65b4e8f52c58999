package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ferryhq/ferry/sdk/transform"
	"github.com/ferryhq/ferry/sdk/transform/transformtest"
)

const titled = `{"titles": {"360001": "Order number", "360002": "Plan", "360003": "Gift?"}, "author_id": "900"}`

func TestNote(t *testing.T) {
	tests := []struct {
		name   string
		config string
		ticket string
		note   string // the note emitted, as JSON; "" for none
	}{
		{"titled fields", titled,
			`{"id":"7","subject":"s","created_at":"2024-03-01T10:20:30Z","custom_fields":{"360002":["gold","silver"],"360001":"A-1042","360003":true}}`,
			`{"id":"7-fields","ticket_id":"7","author_id":"900","public":false,` +
				`"body_html":"<p><strong>Custom fields</strong></p><ul><li><strong>Order number:</strong> A-1042</li><li><strong>Plan:</strong> gold, silver</li><li><strong>Gift?:</strong> yes</li></ul>",` +
				`"body_text":"Custom fields\nOrder number: A-1042\nPlan: gold, silver\nGift?: yes",` +
				`"created_at":"2024-03-01T10:20:30Z"}`},
		{"untitled fields by id, numbers as written, no author", "",
			`{"id":"8","custom_fields":{"10":12345678901,"9":"x","a":{"k":1}}}`,
			`{"id":"8-fields","ticket_id":"8","public":false,` +
				`"body_html":"<p><strong>Custom fields</strong></p><ul><li><strong>9:</strong> x</li><li><strong>10:</strong> 12345678901</li><li><strong>a:</strong> {&#34;k&#34;:1}</li></ul>",` +
				`"body_text":"Custom fields\n9: x\n10: 12345678901\na: {\"k\":1}"}`},
		{"configured fields, order and heading", `{"fields":["360002","360001"],"heading":"From Zendesk","titles":{"360001":"<Order>"}}`,
			`{"id":"9","custom_fields":{"360001":"A&B","360002":"gold","360004":"not listed"}}`,
			`{"id":"9-fields","ticket_id":"9","public":false,` +
				`"body_html":"<p><strong>From Zendesk</strong></p><ul><li><strong>360002:</strong> gold</li><li><strong>&lt;Order&gt;:</strong> A&amp;B</li></ul>",` +
				`"body_text":"From Zendesk\n360002: gold\n<Order>: A&B"}`},
		{"numbers in a list as written", "", `{"id":"13","custom_fields":{"1":[12345678901, 1.50]}}`,
			`{"id":"13-fields","ticket_id":"13","public":false,` +
				`"body_html":"<p><strong>Custom fields</strong></p><ul><li><strong>1:</strong> 12345678901, 1.50</li></ul>",` +
				`"body_text":"Custom fields\n1: 12345678901, 1.50"}`},
		{"empty values left out", titled, `{"id":"10","custom_fields":{"360001":null,"360002":[],"360003":false,"360004":" "}}`, ""},
		{"no custom fields", titled, `{"id":"11","subject":"s"}`, ""},
		{"null custom fields", titled, `{"id":"12","custom_fields":null}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := transformtest.Run(t, tt.config, "tickets", tt.ticket)[0]
			// Compared as JSON: transformtest's batch escapes & as \u0026.
			if got.Outcome != transform.OutcomeKeep || !sameJSON(t, got.Records[0], tt.ticket) {
				t.Fatalf("got %v %q %s, want the ticket kept unchanged", got.Outcome, got.Reason, got.Records)
			}
			if tt.note == "" {
				if len(got.Emitted) != 0 {
					t.Errorf("emitted %+v, want nothing", got.Emitted)
				}
				return
			}
			if len(got.Emitted) != 1 || got.Emitted[0].Stream != "comments" {
				t.Fatalf("emitted %+v, want one comment", got.Emitted)
			}
			if !sameJSON(t, got.Emitted[0].Record, tt.note) {
				t.Errorf("note:\n%s\nwant\n%s", got.Emitted[0].Record, tt.note)
			}
		})
	}
}

func TestNoteFailures(t *testing.T) {
	tests := []struct {
		name, stream, record string
		outcome              transform.Outcome
		reason               string
	}{
		{"other stream passes", "comments", `{"id":"1","ticket_id":"2","custom_fields":{"1":"x"}}`, transform.OutcomeKeep, ""},
		{"no id", "tickets", `{"custom_fields":{"1":"x"}}`, transform.OutcomeError, "ticket without an id: its note would have none"},
		{"custom fields not an object", "tickets", `{"id":"1","custom_fields":[1]}`, transform.OutcomeError,
			"cannot list the custom fields: column custom_fields: json: cannot unmarshal array into Go value of type map[string]json.RawMessage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := transformtest.Run(t, titled, tt.stream, tt.record)[0]
			if got.Outcome != tt.outcome || got.Reason != tt.reason || len(got.Emitted) != 0 {
				t.Errorf("got %v %q, emitted %d; want %v %q and nothing emitted", got.Outcome, got.Reason, len(got.Emitted), tt.outcome, tt.reason)
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct{ config, want string }{
		{`{"heading":" "}`, "heading is empty"},
		{`{"titles":{"1":""}}`, "field ids and titles must not be empty"},
		{`{"fields":[]}`, "fields is empty"},
		{`{"fields":["1",""]}`, "fields[1] is empty"},
		{`{"fields":["1","1"]}`, "fields lists 1 twice"},
		{`{"title":{}}`, `unknown field "title"`},
	}
	for _, tt := range tests {
		t.Run(tt.config, func(t *testing.T) {
			_, err := transformtest.Configure(tt.config)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Configure(%s) = %v, want an error containing %q", tt.config, err, tt.want)
			}
		})
	}
}

func sameJSON(t *testing.T, got json.RawMessage, want string) bool {
	t.Helper()
	var a, b any
	if err := json.Unmarshal(got, &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(want), &b); err != nil {
		t.Fatal(err)
	}
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}
