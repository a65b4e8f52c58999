// Command events-to-notes is a ferry transform that carries a ticket's
// history into Intercom, which has no place for another help desk's field
// changes: each record of the ticket_events stream becomes a private note on
// its ticket (a record of the comments stream), such as
//
//	Status changed from open to pending by Ann Agent
//	Tags changed by Ann Agent: added vip; removed new
//	Order number set to A-1042
//
// and the event itself is dropped, with the reason "turned into a note".
// The note has the event's author and time, so it sits where the change
// happened in the conversation; its id is the event's with "-note" after it,
// so a rerun writes the same note rather than a second one.
//
// Config (every member optional):
//
//	users   user id → name, for authors, assignees and requesters; a
//	        transform sees one record at a time, so names come from here
//	        (a user without one is "user <id>")
//	groups  group id → name (a group without one is "group <id>")
//	fields  custom field id → title (a field without one is "field <id>")
//	kinds   the event kinds to turn into notes (status_changed, tags_set,
//	        ...; default: every kind); events of other kinds are kept as
//	        they are
//
// Its entry in ferry.yaml names the stream, as transforms see tickets only
// by default:
//
//	transforms:
//	  - wasm: transforms/events-to-notes/events-to-notes.wasm
//	    streams: [ticket_events]
//	    config: { users: { "42": "Ann Agent" }, kinds: [status_changed, assignee_changed] }
//
// Build it with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o transforms/events-to-notes/events-to-notes.wasm ./transforms/events-to-notes
package main

import "github.com/ferryhq/ferry/sdk/transform"

func init() { transform.RegisterSetup(setup) }

// main is empty: the module is a WASI reactor, and ferry calls its exports.
func main() {}
