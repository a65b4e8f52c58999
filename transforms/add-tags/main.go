// Command add-tags is a ferry transform that adds tags to every record it
// sees, so that migrated conversations can be told apart in Intercom (for
// example to find everything that came from the old help desk). With the
// config
//
//	{"tags": ["migrated", "from-zendesk"]}
//
// a ticket tagged ["printer"] becomes ["printer", "migrated", "from-zendesk"].
// A tag the record already has is not added twice, so running the transform
// again (a rerun of the migration) changes nothing.
//
// Config:
//
//	tags     the tags to add (required, at least one; no empty tags)
//	streams  the streams whose records get them (default ["tickets"]);
//	         records of other streams pass through unchanged
//
// Build it with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o transforms/add-tags/add-tags.wasm ./transforms/add-tags
package main

import "github.com/ferryhq/ferry/sdk/transform"

func init() { transform.RegisterSetup(setup) }

// main is empty: the module is a WASI reactor, and ferry calls its exports.
func main() {}
