package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ferryhq/ferry/sdk/transform"
	"github.com/ferryhq/ferry/sdk/transform/transformtest"
)

const example = `{
	"tickets": {"status": {"hold": "pending", "new": "open"}, "priority": {"urgent": "high"}, "tags": {"vip": "priority-customer", "spam": "", "p1": "priority-customer"}},
	"users": {"role": {"admin": "agent"}},
	"custom_fields": {"360001": {"old-option": "new-option", "gone": ""}}
}`

// strictExample is example with strict on.
var strictExample = strings.Replace(example, "{", `{"strict": true,`, 1)

func TestMapValues(t *testing.T) {
	tests := []struct {
		name    string
		config  string
		stream  string
		record  string
		want    string // the record after, compared as JSON; "" when it must come back byte for byte
		outcome transform.Outcome
		reason  string
	}{
		{"status and priority", example, "tickets",
			`{"id":"1","status":"hold","priority":"urgent"}`,
			`{"id":"1","status":"pending","priority":"high"}`, transform.OutcomeKeep, ""},
		{"unmapped values kept", example, "tickets",
			`{"id":"1","status":"solved","priority":"low","tags":["printer"],"custom_fields":{"360001":"other"}}`,
			"", transform.OutcomeKeep, ""},
		{"absent and null values", example, "tickets",
			`{"id":"1","status":null,"custom_fields":null}`,
			"", transform.OutcomeKeep, ""},
		{"tags element by element, removed and merged", example, "tickets",
			`{"id":"1","tags":["vip","spam","printer","p1"]}`,
			`{"id":"1","tags":["priority-customer","printer"]}`, transform.OutcomeKeep, ""},
		{"custom field string", example, "tickets",
			`{"id":"1","custom_fields":{"360001":"old-option","360002":"old-option"}}`,
			`{"id":"1","custom_fields":{"360001":"new-option","360002":"old-option"}}`, transform.OutcomeKeep, ""},
		{"custom field multi-select", example, "tickets",
			`{"id":"1","custom_fields":{"360001":["old-option","x","gone"]}}`,
			`{"id":"1","custom_fields":{"360001":["new-option","x"]}}`, transform.OutcomeKeep, ""},
		{"custom field mapped to empty is cleared", example, "tickets",
			`{"id":"1","custom_fields":{"360001":"gone"}}`,
			`{"id":"1","custom_fields":{"360001":null}}`, transform.OutcomeKeep, ""},
		{"custom field of another type kept", example, "tickets",
			`{"id":"1","custom_fields":{"360001":true}}`,
			"", transform.OutcomeKeep, ""},
		{"custom fields of users too", example, "users",
			`{"id":"1","role":"admin","custom_fields":{"360001":"old-option"}}`,
			`{"id":"1","role":"agent","custom_fields":{"360001":"new-option"}}`, transform.OutcomeKeep, ""},
		{"stream without tables", example, "comments",
			`{"id":"1","ticket_id":"2","body_text":"hold"}`,
			"", transform.OutcomeKeep, ""},
		{"mapped to empty clears the column", `{"tickets":{"type":{"legacy":""}}}`, "tickets",
			`{"id":"1","type":"legacy","subject":"s"}`,
			`{"id":"1","type":null,"subject":"s"}`, transform.OutcomeKeep, ""},
		{"escaped values", `{"tickets":{"subject":{"a \"b\"":"<c> & d"}}}`, "tickets",
			`{"id":"1","subject":"a \"b\""}`,
			`{"id":"1","subject":"<c> & d"}`, transform.OutcomeKeep, ""},

		{"strict: mapped", strictExample, "tickets",
			`{"id":"1","status":"new","tags":["vip"]}`,
			`{"id":"1","status":"open","tags":["priority-customer"]}`, transform.OutcomeKeep, ""},
		{"strict: already a target", strictExample, "tickets",
			`{"id":"1","status":"pending","priority":"high","tags":["priority-customer"],"custom_fields":{"360001":"new-option"}}`,
			"", transform.OutcomeKeep, ""},
		{"strict: absent and null pass", strictExample, "tickets",
			`{"id":"1","status":null,"custom_fields":{"360001":null,"999":"anything"}}`,
			"", transform.OutcomeKeep, ""},
		{"strict: unmapped status", strictExample, "tickets",
			`{"id":"1","status":"solved"}`,
			"", transform.OutcomeError, `tickets.status "solved" has no mapping (strict: add it to the config, or map it onto itself)`},
		{"strict: unmapped tag", strictExample, "tickets",
			`{"id":"1","tags":["vip","printer"]}`,
			"", transform.OutcomeError, `tickets.tags "printer" has no mapping (strict: add it to the config, or map it onto itself)`},
		{"strict: unmapped custom field", strictExample, "tickets",
			`{"id":"1","custom_fields":{"360001":"other"}}`,
			"", transform.OutcomeError, `custom field 360001 "other" has no mapping (strict: add it to the config, or map it onto itself)`},
		{"strict: custom field of another type", strictExample, "tickets",
			`{"id":"1","custom_fields":{"360001":42}}`,
			"", transform.OutcomeError, `custom field 360001 is 42, not a string or a list of strings, and has no mapping (strict)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := transformtest.Run(t, tt.config, tt.stream, tt.record)[0]
			if got.Outcome != tt.outcome || got.Reason != tt.reason {
				t.Fatalf("got %v %q, want %v %q", got.Outcome, got.Reason, tt.outcome, tt.reason)
			}
			if tt.outcome != transform.OutcomeKeep {
				return
			}
			if tt.want == "" {
				if string(got.Records[0]) != tt.record {
					t.Errorf("record = %s, want it unchanged: %s", got.Records[0], tt.record)
				}
				return
			}
			var want map[string]any
			if err := json.Unmarshal([]byte(tt.want), &want); err != nil {
				t.Fatal(err)
			}
			if g := got.Record(0); !jsonEqual(g, want) {
				t.Errorf("record = %s, want %s", got.Records[0], tt.want)
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		config, want string
	}{
		{``, "nothing to map"},
		{`{}`, "nothing to map"},
		{`{"strict":true}`, "nothing to map"},
		{`{"ticket":{"status":{}}}`, `"ticket" is neither a stream (attachments, comments,`},
		{`{"tickets":{"stauts":{"a":"b"}}}`, `tickets: "stauts" is not a column this transform can map (assignee_id, cc_ids,`},
		{`{"tickets":{"id":{"a":"b"}}}`, `tickets: "id" is not a column`},
		{`{"tickets":{"status":{"a":1}}}`, `tickets: want {"<column>": {"<from>": "<to>", ...}, ...}`},
		{`{"tickets":["status"]}`, `tickets: want`},
		{`{"custom_fields":{"1":["a"]}}`, `custom_fields: want {"<field id>"`},
		{`{"custom_fields":{"":{"a":"b"}}}`, `custom_fields: a field id is empty`},
		{`{"strict":"yes","tickets":{"status":{"a":"b"}}}`, `strict: want true or false, got "yes"`},
		{`[1]`, "cannot unmarshal array"},
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

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}
