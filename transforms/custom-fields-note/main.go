// Command custom-fields-note is a ferry transform that keeps a ticket's
// custom fields readable in Intercom, where they have no place of their own:
// for each ticket with custom field values, it adds a private note to the
// ticket (a record of the comments stream) listing each field's title and
// value, and keeps the ticket as it is. With the config
//
//	{"titles": {"360001": "Order number", "360002": "Plan"}, "author_id": "900"}
//
// a ticket whose custom_fields are {"360001": "A-1042", "360002": ["gold"]}
// gets the note
//
//	Custom fields
//	Order number: A-1042
//	Plan: gold
//
// The note's id is the ticket's with "-fields" after it, so a rerun of the
// migration writes the same note rather than a second one; it is dated at the
// ticket's creation, so it comes first in the conversation.
//
// Config (every member optional):
//
//	titles     field id → title; a transform sees one record at a time, not
//	           the ticket_fields stream, so titles come from here (a field
//	           without one is listed by its id)
//	fields     the field ids to list, in this order (default: every field,
//	           by id)
//	author_id  the note's author, a user id (default: none; ferry's loader
//	           then uses the default admin)
//	heading    the note's first line (default "Custom fields")
//
// Empty values are left out: null, "", [] and false (Zendesk gives every
// unticked checkbox false). A ticket with no value left gets no note. Option
// values are listed as the source stores them (a drop-down's tag); chain
// map-values before this transform to turn them into names.
//
// Build it with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o transforms/custom-fields-note/custom-fields-note.wasm ./transforms/custom-fields-note
package main

import "github.com/ferryhq/ferry/sdk/transform"

func init() { transform.RegisterSetup(setup) }

// main is empty: the module is a WASI reactor, and ferry calls its exports.
func main() {}
