// Package source is what a ferry source-connector author imports.
//
// A connector maps a help desk's API into ferry's canonical streams
// (sdk/schema). It implements Connector, and its main.go is one line:
//
//	func main() { source.Serve(connector.New()) }
//
// The SDK does the rest: it speaks the plugin protocol (ferry.source.v1 over
// hashicorp/go-plugin gRPC), batches records into Arrow IPC messages bounded
// in rows and bytes, sends checkpoints as barriers, and turns records it
// cannot send (too big for any batch) into record errors instead of dropping
// them.
//
// A stream's Read gets the cursor of its last committed checkpoint (nil on a
// first run) and emits records through an Emitter. It calls
// Emitter.Checkpoint whenever everything emitted so far is complete: the host
// commits those records together with the cursor, so a resumed read starts
// exactly after the last checkpoint and nothing is lost or staged twice.
package source
