// Command redact is a ferry transform that removes card numbers and national
// id numbers from free text before it reaches Intercom: ticket subjects and
// comment bodies (body_html and body_text), by default. Each is replaced by a
// mask, and each record it changed is logged with how many of each it found
// (never with what it found).
//
// Card numbers are 13 to 19 digits, possibly grouped by spaces, dashes or
// non-breaking spaces, that pass the Luhn check: an order or tracking number
// of the same length almost never does, so it survives. National ids are
// regular expressions; the default matches US social security numbers
// (123-45-6789, 123 45 6789) in the ranges the SSA issues.
//
// Config (every member optional):
//
//	mask          the replacement (default "[redacted]"); HTML-escaped in
//	              *_html columns
//	cards         false to leave card numbers alone (default true)
//	national_ids  regular expressions (Go's RE2 syntax) of national ids,
//	              replacing the default US SSN pattern; [] for none
//	columns       the columns to redact, by stream (default
//	              {"tickets": ["subject"], "comments": ["body_html", "body_text"]})
//
// Build it with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o transforms/redact/redact.wasm ./transforms/redact
package main

import "github.com/ferryhq/ferry/sdk/transform"

func init() { transform.RegisterSetup(setup) }

// main is empty: the module is a WASI reactor, and ferry calls its exports.
func main() {}
