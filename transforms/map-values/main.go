// Command map-values is a ferry transform that maps column values through
// tables in its config: the old help desk's statuses, priorities, tags or
// custom field options onto the ones wanted in Intercom. With the config
//
//	{
//	  "tickets": {"status": {"hold": "pending", "new": "open"}, "priority": {"urgent": "high"}},
//	  "custom_fields": {"360001": {"old-option": "new-option"}},
//	  "strict": true
//	}
//
// a ticket with status "hold" gets status "pending", and custom field 360001
// "old-option" becomes "new-option".
//
// Config:
//
//	<stream>       for a canonical stream (tickets, users, comments, ...), a map
//	               from a column to its table (from value → to value). String
//	               columns are mapped whole; list columns (tags, cc_ids,
//	               domains) element by element. Mapping to "" clears a string
//	               column and removes a list element.
//	custom_fields  a map from a custom field id to its table, applied to the
//	               custom_fields of every record: string values, and the
//	               strings of a list value (a multi-select field).
//	strict         when true, a value with no mapping fails the record, with
//	               a reason naming the value; a value that is already one of
//	               its table's targets passes. Default false: unmapped values
//	               are kept as they are.
//
// Absent, null and empty values are never mapped, and never fail.
//
// Build it with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o transforms/map-values/map-values.wasm ./transforms/map-values
package main

import (
	"github.com/ferryhq/ferry/sdk/transform"
	"github.com/ferryhq/ferry/transforms/map-values/mapping"
)

func init() { transform.RegisterSetup(mapping.Setup) }

// main is empty: the module is a WASI reactor, and ferry calls its exports.
func main() {}
