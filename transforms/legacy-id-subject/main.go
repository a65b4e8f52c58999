// Command legacy-id-subject is a ferry transform that puts each ticket's id
// in the help desk it came from into its subject, so that agents can still
// find a ticket in Intercom by the number customers quote: with the config
// {"prefix": "ZD"}, ticket 123 "Printer on fire" becomes
// "[ZD-123] Printer on fire". The transform is in package subject; this
// package registers it.
//
// Build it with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o transforms/legacy-id-subject/legacy-id-subject.wasm ./transforms/legacy-id-subject
package main

import (
	"github.com/ferryhq/ferry/sdk/transform"
	"github.com/ferryhq/ferry/transforms/legacy-id-subject/subject"
)

func init() { transform.RegisterSetup(subject.Setup) }

// main is empty: the module is a WASI reactor, and ferry calls its exports.
func main() {}
