package main

import (
	"strings"
	"testing"

	"github.com/ferryhq/ferry/sdk/transform"
	"github.com/ferryhq/ferry/sdk/transform/transformtest"
)

const rules = `{"rules": [
	{"name": "spam", "tags": ["spam", "junk"]},
	{"name": "deleted", "status": ["deleted"]},
	{"name": "auto-replies", "subject": ["(?i)^out of office", "(?i)automatic reply"]},
	{"name": "internal", "requester_domains": ["@acme.example"]},
	{"name": "old tests", "tags": ["test"], "status": ["closed", "solved"]}
]}`

func TestDropByRule(t *testing.T) {
	tests := []struct {
		name   string
		config string
		stream string
		record string
		reason string // "" for a ticket that is kept unchanged
	}{
		{"tag", rules, "tickets", `{"id":"1","tags":["printer","junk"]}`, `rule "spam": tag "junk"`},
		{"tag, other case", rules, "tickets", `{"id":"1","tags":["SPAM"]}`, `rule "spam": tag "SPAM"`},
		{"status", rules, "tickets", `{"id":"1","status":"deleted"}`, `rule "deleted": status "deleted"`},
		{"subject", rules, "tickets", `{"id":"1","subject":"Out of Office: back Monday"}`, `rule "auto-replies": subject matches "(?i)^out of office"`},
		{"second subject pattern", rules, "tickets", `{"id":"1","subject":"Re: Automatic reply"}`, `rule "auto-replies": subject matches "(?i)automatic reply"`},
		{"domain from Zendesk's email channel", rules, "tickets",
			`{"id":"1","requester_id":"42","raw":{"via":{"channel":"email","source":{"from":{"address":"Bob@ACME.example","name":"Bob"}}}}}`,
			`rule "internal": requester at acme.example`},
		{"subdomain", rules, "tickets",
			`{"id":"1","raw":{"requester":{"email":"it@mail.acme.example"}}}`, `rule "internal": requester at acme.example`},
		{"requester id that is an email", rules, "tickets",
			`{"id":"1","requester_id":"ann@acme.example"}`, `rule "internal": requester at acme.example`},
		{"a domain that only ends the same", rules, "tickets",
			`{"id":"1","requester_id":"ann@notacme.example"}`, ""},
		{"all criteria of a rule", rules, "tickets", `{"id":"1","tags":["test"],"status":"closed"}`, `rule "old tests": tag "test", status "closed"`},
		{"one criterion of two", rules, "tickets", `{"id":"1","tags":["test"],"status":"open"}`, ""},
		{"first rule wins", rules, "tickets", `{"id":"1","tags":["spam"],"status":"deleted"}`, `rule "spam": tag "spam"`},
		{"unnamed rule", `{"rules":[{"tags":["x"]}]}`, "tickets", `{"id":"1","tags":["x"]}`, `rule "rules[0]": tag "x"`},
		{"configured email path", `{"rules":[{"requester_domains":["b.example"]}],"requester_email_paths":["sender"]}`, "tickets",
			`{"id":"1","raw":{"sender":"x@b.example","via":{"source":{"from":{"address":"y@c.example"}}}}}`, `rule "rules[0]": requester at b.example`},
		{"no email anywhere", rules, "tickets", `{"id":"1","requester_id":"42","raw":{"via":{"channel":"web"}}}`, ""},
		{"nothing matches", rules, "tickets", `{"id":"1","subject":"Printer on fire","status":"open","tags":["printer"]}`, ""},
		{"empty ticket", rules, "tickets", `{"id":"1"}`, ""},
		{"other stream", rules, "comments", `{"id":"1","ticket_id":"2","tags":["spam"]}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := transformtest.Run(t, tt.config, tt.stream, tt.record)[0]
			if tt.reason == "" {
				if got.Outcome != transform.OutcomeKeep || string(got.Records[0]) != tt.record {
					t.Errorf("got %v %q %s, want the record kept unchanged", got.Outcome, got.Reason, got.Records)
				}
				return
			}
			if got.Outcome != transform.OutcomeDrop || got.Reason != tt.reason {
				t.Errorf("got %v %q, want drop %q", got.Outcome, got.Reason, tt.reason)
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		config, want string
	}{
		{``, "rules is missing or empty"},
		{`{"rules":[]}`, "rules is missing or empty"},
		{`{"rules":[{"name":"x"}]}`, `rule "x" has no criteria`},
		{`{"rules":[{"tags":[]}]}`, `rule "rules[0]": tags is empty`},
		{`{"rules":[{"status":["open",""]}]}`, `rule "rules[0]": status[1] is empty`},
		{`{"rules":[{"name":"s","subject":["(x"]}]}`, `rule "s": subject[0]: error parsing regexp`},
		{`{"rules":[{"subject":[]}]}`, `subject is empty`},
		{`{"rules":[{"requester_domains":["a@b.example"]}]}`, `requester_domains: "a@b.example" is not a domain`},
		{`{"rules":[{"tags":["x"]}],"requester_email_paths":["via..from"]}`, `requester_email_paths[0]: "via..from" is not a dotted path`},
		{`{"rules":[{"tag":["x"]}]}`, `unknown field "tag"`},
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
