package source

import (
	"context"
	"encoding/json"
)

// Connector is a source of help-desk data.
type Connector interface {
	// Spec describes the connector: its name, version and config schema.
	Spec() Spec
	// Check verifies that config is valid and that the source answers with
	// it (credentials accepted, for example). The error is shown to people:
	// it says what is wrong and never includes a secret.
	Check(ctx context.Context, config json.RawMessage) error
	// Streams lists the streams the connector reads with config.
	Streams(config json.RawMessage) ([]Stream, error)
}

// Spec describes a connector.
type Spec struct {
	// Name is the connector's name: its binary is ferry-source-<Name>.
	Name string
	// Version is the connector's own semantic version.
	Version string
	// ConfigSchema is a JSON Schema of the connector's config.
	ConfigSchema string
}

// StreamInfo describes a stream.
type StreamInfo struct {
	// Name is a canonical stream name (sdk/schema).
	Name string
	// CursorField names the source field the stream's cursor follows, or
	// is empty when the stream is read whole every time.
	CursorField string
	// Emits lists other canonical streams whose records this stream's Read
	// also emits (a ticket reader that brings each ticket's comments, say).
	Emits []string
}

// Stream reads one canonical stream (and the streams in its Emits).
type Stream interface {
	Info() StreamInfo
	// Read emits the stream's records, starting after cursor (nil: from the
	// beginning), and calls out.Checkpoint whenever what it emitted so far is
	// complete. Read returning nil means the stream is complete; the SDK
	// then commits what is pending.
	Read(ctx context.Context, cursor []byte, out *Emitter) error
}
