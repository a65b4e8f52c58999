package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ferryhq/ferry/sdk/transform"
	"github.com/ferryhq/ferry/sdk/transform/transformtest"
)

const names = `{"users": {"42": "Ann Agent", "43": "Bob Boss"}, "groups": {"7": "Billing"}, "fields": {"360001": "Order number"}}`

func TestSentences(t *testing.T) {
	tests := []struct {
		name   string
		kind   string
		detail string
		author string
		want   string
	}{
		{"status", "status_changed", `{"field":"status","from":"open","to":"pending"}`, "42", "Status changed from open to pending by Ann Agent"},
		{"status at creation", "status_set", `{"field":"status","to":"new"}`, "42", "Status set to new by Ann Agent"},
		{"unknown author", "priority_changed", `{"field":"priority","from":"low","to":"high"}`, "99", "Priority changed from low to high by user 99"},
		{"no author", "priority_changed", `{"field":"priority","from":"low","to":"high"}`, "", "Priority changed from low to high"},
		{"priority set from nothing", "priority_changed", `{"field":"priority","from":null,"to":"urgent"}`, "", "Priority set to urgent"},
		{"cleared", "priority_changed", `{"field":"priority","from":"high","to":null}`, "", "Priority cleared (was high)"},
		{"assignee by name", "assignee_changed", `{"field":"assignee_id","from":"42","to":"43"}`, "43", "Assignee changed from Ann Agent to Bob Boss by Bob Boss"},
		{"assignee unnamed", "assignee_changed", `{"field":"assignee_id","from":null,"to":"44"}`, "", "Assignee set to user 44"},
		{"group", "group_changed", `{"field":"group_id","from":"7","to":"8"}`, "", "Group changed from Billing to group 8"},
		{"tags added and removed", "tags_changed", `{"field":"tags","to":["vip","x"],"added":["vip"],"removed":["new","y"]}`, "42", "Tags changed by Ann Agent: added vip; removed new, y"},
		{"tags added", "tags_changed", `{"field":"tags","added":["vip"]}`, "", "Tags changed: added vip"},
		{"tags at creation", "tags_set", `{"field":"tags","to":["a","b"]}`, "", "Tags set to a, b"},
		{"custom field titled", "custom_field_changed", `{"field":"360001","from":"A-1","to":"A-2"}`, "", "Order number changed from A-1 to A-2"},
		{"custom field untitled, multi-select", "custom_field_set", `{"field":"360002","to":["x","y"]}`, "", "field 360002 set to x, y"},
		{"checkbox", "custom_field_changed", `{"field":"360003","from":false,"to":true}`, "", "field 360003 changed from no to yes"},
		{"number as written", "custom_field_changed", `{"field":"360004","from":null,"to":12345678901}`, "", "field 360004 set to 12345678901"},
		{"numbers in a list as written", "custom_field_set", `{"field":"360005","to":[12345678901,1.50]}`, "", "field 360005 set to 12345678901, 1.50"},
		{"other field", "field_changed", `{"field":"due_at","from":null,"to":"2024-05-01"}`, "", "Due at set to 2024-05-01"},
		{"requester", "field_changed", `{"field":"requester_id","from":"42","to":"43"}`, "", "Requester changed from Ann Agent to Bob Boss"},
		{"unknown kind", "satisfaction_changed", `{}`, "", "Satisfaction changed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			event := `{"id":"5001","ticket_id":"7","kind":"` + tt.kind + `","detail":` + tt.detail + `,"created_at":"2024-03-01T10:20:30Z"`
			if tt.author != "" {
				event += `,"author_id":"` + tt.author + `"`
			}
			event += "}"
			got := transformtest.Run(t, names, "ticket_events", event)[0]
			if got.Outcome != transform.OutcomeDrop || got.Reason != "turned into a note" {
				t.Fatalf("got %v %q, want drop %q", got.Outcome, got.Reason, "turned into a note")
			}
			if len(got.Emitted) != 1 || got.Emitted[0].Stream != "comments" {
				t.Fatalf("emitted %+v, want one comment", got.Emitted)
			}
			var note map[string]any
			if err := json.Unmarshal(got.Emitted[0].Record, &note); err != nil {
				t.Fatal(err)
			}
			if note["body_text"] != tt.want {
				t.Errorf("note says %q, want %q", note["body_text"], tt.want)
			}
		})
	}
}

func TestNoteRecord(t *testing.T) {
	got := transformtest.Run(t, names, "ticket_events",
		`{"id":"5001","ticket_id":"7","author_id":"42","kind":"status_changed","detail":{"field":"status","from":"open","to":"<pending>"},"created_at":"2024-03-01T10:20:30.5Z","raw":{"x":1}}`)[0]
	if len(got.Emitted) != 1 {
		t.Fatalf("emitted %d records", len(got.Emitted))
	}
	var note, want map[string]any
	json.Unmarshal(got.Emitted[0].Record, &note)
	json.Unmarshal([]byte(`{"id":"5001-note","ticket_id":"7","author_id":"42","public":false,`+
		`"body_html":"<p>Status changed from open to &lt;pending&gt; by Ann Agent</p>",`+
		`"body_text":"Status changed from open to <pending> by Ann Agent","created_at":"2024-03-01T10:20:30.5Z"}`), &want)
	a, _ := json.Marshal(note)
	b, _ := json.Marshal(want)
	if string(a) != string(b) {
		t.Errorf("note:\n%s\nwant\n%s", a, b)
	}
}

func TestNotTurned(t *testing.T) {
	tests := []struct {
		name, config, stream, record string
		outcome                      transform.Outcome
		reason                       string
	}{
		{"other stream", "", "comments", `{"id":"1","ticket_id":"7","kind":"status_changed"}`, transform.OutcomeKeep, ""},
		{"kind not configured", `{"kinds":["status_changed"]}`, "ticket_events", `{"id":"1","ticket_id":"7","kind":"status_set","detail":{"to":"new"}}`, transform.OutcomeKeep, ""},
		{"kind configured", `{"kinds":["status_changed"]}`, "ticket_events", `{"id":"1","ticket_id":"7","kind":"status_changed","detail":{"to":"new"}}`, transform.OutcomeDrop, "turned into a note"},
		{"no id", "", "ticket_events", `{"ticket_id":"7","kind":"status_changed"}`, transform.OutcomeError, "ticket event without an id: its note would have none"},
		{"no ticket", "", "ticket_events", `{"id":"1","kind":"status_changed"}`, transform.OutcomeError, "ticket event without a ticket_id: its note would be on no ticket"},
		{"detail not an object", "", "ticket_events", `{"id":"1","ticket_id":"7","kind":"status_changed","detail":"x"}`, transform.OutcomeError,
			"cannot read the event: column detail: json: cannot unmarshal string into Go value of type main.detail"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := transformtest.Run(t, tt.config, tt.stream, tt.record)[0]
			if got.Outcome != tt.outcome || got.Reason != tt.reason {
				t.Fatalf("got %v %q, want %v %q", got.Outcome, got.Reason, tt.outcome, tt.reason)
			}
			if wantNote := tt.outcome == transform.OutcomeDrop; (len(got.Emitted) == 1) != wantNote {
				t.Errorf("emitted %d records, want a note: %v", len(got.Emitted), wantNote)
			}
			if tt.outcome == transform.OutcomeKeep && string(got.Records[0]) != tt.record {
				t.Errorf("record = %s, want it unchanged", got.Records[0])
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct{ config, want string }{
		{`{"kinds":[]}`, "kinds is empty"},
		{`{"kinds":["a",""]}`, "kinds[1] is empty"},
		{`{"users":{"1":""}}`, `users: "1": "": ids and names must not be empty`},
		{`{"groups":{"":"x"}}`, `groups: "": "x": ids and names must not be empty`},
		{`{"user":{}}`, `unknown field "user"`},
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
