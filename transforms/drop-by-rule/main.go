// Command drop-by-rule is a ferry transform that leaves tickets out of the
// migration by rules: spam, tests, auto-replies, internal traffic. A ticket
// that matches a rule is dropped, so ferry reports it as skipped with a
// reason naming the rule and what matched, e.g.
//
//	rule "spam": tag "junk"
//
// Config:
//
//	{"rules": [
//	  {"name": "spam",         "tags": ["spam", "junk"]},
//	  {"name": "deleted",      "status": ["deleted"]},
//	  {"name": "auto-replies", "subject": ["(?i)^(out of office|automatic reply)"]},
//	  {"name": "internal",     "requester_domains": ["acme.example"]},
//	  {"name": "old tests",    "tags": ["test"], "status": ["closed"]}
//	],
//	 "requester_email_paths": ["via.source.from.address", "requester.email"]}
//
// A rule has a name (default "rules[<index>]") and one or more criteria:
// tags (the ticket has any of them), status (it is any of them), subject
// (a regular expression, Go's RE2 syntax, that finds a match in it) and
// requester_domains (the requester's email is at any of these domains or
// their subdomains). A rule matches when all its criteria do; a ticket is
// dropped by the first rule it matches. Tags, statuses and domains compare
// without regard to case.
//
// A transform sees one ticket at a time, not the users table, so the
// requester's email is taken from the ticket itself: its requester_id when
// that is an email address (CSV exports keyed by email), else the first of
// requester_email_paths (dotted paths into the ticket's raw source record;
// the default covers Zendesk's email channel and a sideloaded requester)
// that holds one. A ticket whose requester's email is not found there
// matches no domain. ferry.yaml's filter, in SQL, can join the users table
// instead.
//
// Build it with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o transforms/drop-by-rule/drop-by-rule.wasm ./transforms/drop-by-rule
package main

import "github.com/ferryhq/ferry/sdk/transform"

func init() { transform.RegisterSetup(setup) }

// main is empty: the module is a WASI reactor, and ferry calls its exports.
func main() {}
