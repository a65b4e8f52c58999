// Package transform is what a ferry transform imports: it turns the transform
// ABI into a record-shaped API, so that a transform is one function from a
// record to a [Result].
//
// A transform is a WASI reactor module built from a main package whose main
// function is empty and whose init function registers the transform:
//
//	package main
//
//	import "github.com/ferryhq/ferry/sdk/transform"
//
//	func init() { transform.Register(redact) }
//
//	func main() {}
//
//	func redact(ctx *transform.Context, r *transform.Record) transform.Result {
//		if ctx.Stream() != "users" {
//			return transform.Keep(r)
//		}
//		r.SetString("phone", "")
//		return transform.Keep(r)
//	}
//
// It is built with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o redact.wasm .
//
// and tested natively, without a wasm runtime, with the transformtest package.
// A transform whose config needs decoding or checking registers a setup
// function with [RegisterSetup] instead: it runs once when ferry loads the
// module, and a setup error stops the migration before any record is read.
//
// # Records
//
// A [Record] is a row of one of the canonical streams of sdk/schema, as a JSON
// object keyed by column name: ids are strings, timestamps RFC 3339 strings in
// UTC, lists arrays, custom_fields, options, translations, detail and raw
// embedded JSON values, and a null column is null or absent. Raw is the
// source system's own record, for fields the canonical model does not name. A
// Record reads only as far as the columns a transform asks for, and a record
// the transform does not change goes back to ferry byte for byte.
//
// # Batch handlers
//
// A transform that declares its columns ([Context.Declare]) may also register
// a [BatchHandler] with [Context.HandleBatches]: it gets a whole columnar
// batch, reads columns as [Strings] and sets values with a [StringSetter],
// without a call per record, which inside a module is most of what a simple
// transform costs. Rows it cannot settle go to the record handler
// ([Batch.Pass]), and transformtest checks that the two handlers agree.
//
// # The ABI, version 1
//
// Other languages can implement the same exports; docs/transform-abi.md in
// the ferry repository is the full specification. In short, a module exports
// its linear memory as "memory" and these functions (i32 and i64 are wasm
// value types; a packed i64 is ptr<<32 | len):
//
//	_initialize()                                   reactor initialisation, called first (optional)
//	ferry_abi_version() -> i32                      1
//	ferry_formats() -> i32                          bit mask of batch formats; bit 0 (value 1) = JSON v1
//	ferry_alloc(size i32) -> i32                    memory for the host to write an input into
//	ferry_free(ptr i32, size i32)                   releases an input, or a reply once the host has read it
//	ferry_configure(ptr i32, len i32) -> i64        the config (JSON); 0, or a packed error message
//	ferry_transform(format i32, ptr i32, len i32) -> i64
//	                                                one batch; a packed reply in the same format
//
// and may import one function, ferry.log(level i32, ptr i32, len i32), whose
// levels are those of log/slog (-4 debug, 0 info, 4 warn, 8 error). A JSON v1
// batch is {"stream": "tickets", "records": [{...}, ...]}; its reply is
// {"results": [...]} with exactly one result per record, in order, each one
// of {"keep": {...}}, {"drop": "reason"}, {"split": [{...}, ...]} or
// {"error": "reason"}; or {"error": "reason"} for the whole batch.
package transform
