package transform

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/ferryhq/ferry/sdk/transform/columnar"
)

// Instance is a configured transform: the state that ferry_configure builds
// in a module and ferry_transform runs batches through. Inside a module the
// exports drive it; sdk/transform/transformtest drives one natively, through
// the same encodings, so that a transform's tests need no wasm runtime. A
// transform itself never uses it. Its batches must not be concurrent.
type Instance struct {
	handler Handler
	// batchHandler, when the Setup registered one, runs columnar batches
	// before handler (see BatchHandler); batchOff turns it off for a test.
	batchHandler BatchHandler
	batchOff     bool
	batch        Batch
	config       json.RawMessage
	log          LogFunc
	columns      declarations

	// The columnar path reuses these from batch to batch, so that once
	// they have grown a batch costs no allocation per record.
	view    colView
	rec     Record
	ctx     Context
	reply   columnar.ReplyWriter
	changes [][]colChange // by written column, the values rows set
	// String columns, the commonest written, keep their values apart, as
	// text in strData and spans in strs: without pointers, so that noting
	// a value costs no write barrier and the collector nothing to scan.
	strs    [][]columnar.StringAt
	strData [][]byte
}

// NewInstance configures the registered transform with config (a JSON value;
// empty or null when there is none), as ferry_configure does. log receives the
// transform's log lines and may be nil.
func NewInstance(config json.RawMessage, log LogFunc) (*Instance, error) {
	if registered.setup == nil {
		return nil, errNotRegistered
	}
	return newInstanceWith(registered.setup, registered.columns, config, log)
}

// NewInstanceOf configures a transform that is not the registered one, as
// NewInstance does: for a program that runs several transforms natively,
// such as a benchmark comparing them with their wasm builds.
func NewInstanceOf(setup Setup, config json.RawMessage, log LogFunc) (*Instance, error) {
	if setup == nil {
		return nil, errors.New("NewInstanceOf with a nil Setup")
	}
	return newInstance(setup, config, log)
}

func newInstance(setup Setup, config json.RawMessage, log LogFunc) (*Instance, error) {
	return newInstanceWith(setup, nil, config, log)
}

// newInstanceWith configures setup, with columns declared beforehand (by
// RegisterColumns).
func newInstanceWith(setup Setup, columns declarations, config json.RawMessage, log LogFunc) (*Instance, error) {
	if len(config) > 0 && !json.Valid(config) {
		return nil, fmt.Errorf("config is not valid JSON: %.60q", config)
	}
	columns = columns.clone()
	if columns == nil {
		columns = declarations{}
	}
	ctx := &Context{config: config, log: log, columns: columns}
	h, err := callSetup(setup, ctx)
	if err != nil {
		return nil, err
	}
	if h == nil {
		return nil, fmt.Errorf("setup returned no handler")
	}
	if len(columns) == 0 {
		columns = nil // nothing declared: whole records of every stream
	}
	return &Instance{handler: h, batchHandler: ctx.batchHandler, config: config, log: log, columns: columns}, nil
}

// callSetup runs a Setup, turning a panic into an error so that it reaches
// ferry as a config error naming the module rather than as a bare trap.
func callSetup(setup Setup, ctx *Context) (h Handler, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("setup panicked: %v", v)
		}
	}()
	return setup(ctx)
}

// Columns returns what ferry_columns answers for stream: nil when the
// transform does not handle the stream, {"whole":true} when it reads whole
// records, else {"read":[...],"write":[...]}, the columns it declared.
func (in *Instance) Columns(stream string) []byte {
	return in.columns.answer(stream)
}

// Transform runs the handler over one encoded batch and returns the encoded
// reply, as ferry_transform does: one result per record, in order, or a
// batch-level error when the batch cannot be read. A columnar reply shares
// memory the Instance reuses: it is valid until the next call.
func (in *Instance) Transform(format uint32, batch []byte) []byte {
	switch format {
	case FormatJSON:
		return in.transformJSON(batch)
	case FormatColumnar:
		return in.transformColumnar(batch)
	}
	return errorReply(fmt.Sprintf("unsupported batch format %d (this module reads %d)", format, formats))
}

func (in *Instance) transformJSON(batch []byte) []byte {
	batch = bytes.TrimSpace(batch)
	stream, records, err := readBatch(batch)
	if err != nil {
		return errorReply(fmt.Sprintf("decode batch: %v", err))
	}
	ctx := &Context{stream: stream, config: in.config, log: in.log, batch: true}
	// Records usually come back the size they went in; a little more for
	// the result wrappers and for what transforms add.
	out := make([]byte, 0, len(batch)+len(batch)/8+64)
	out = append(out, `{"results":[`...)
	_, handled := in.columns[stream]
	handled = handled || in.columns == nil
	panicked := false
	for i, rec := range records {
		if i > 0 {
			out = append(out, ',')
		}
		raw := batch[rec.start:rec.end]
		if raw[0] != '{' {
			out = appendError(out, "record is not a JSON object")
			continue
		}
		if !handled {
			// A stream the transform did not declare passes by, as ferry
			// passes it when it knows the declarations.
			out = append(out, `{"keep":`...)
			out = append(append(out, raw...), '}')
			continue
		}
		ctx.emits = ctx.emits[:0]
		res, stack := in.call(ctx, newRecord(raw))
		if stack != nil && !panicked {
			// One stack per batch is enough to find the bug, and a panic on
			// every record must not flood ferry's log.
			panicked = true
			ctx.Log(slog.LevelError, "transform panicked: "+res.reason+"\n"+string(stack))
		}
		out = appendResult(out, res, ctx.emits)
	}
	return append(out, "]}"...)
}

// readBatch finds a JSON v1 batch's stream and the spans of its records. The
// batch is not validated again here: ferry sends well-formed JSON, and a pass
// over every byte is what a module can least afford (see scan.go).
func readBatch(batch []byte) (stream string, records []span, err error) {
	if len(batch) == 0 || batch[0] != '{' {
		return "", nil, errors.New("not a JSON object")
	}
	for i := 1; ; {
		m, ok := nextMember(batch, i)
		if !ok {
			return stream, records, nil
		}
		i = m.next
		value := batch[m.value.start:m.value.end]
		switch string(batch[m.name.start:m.name.end]) {
		case "stream":
			if stream, ok = unquote(value); !ok {
				return "", nil, errors.New("stream is not a string")
			}
		case "records":
			if len(value) == 0 || value[0] != '[' {
				return "", nil, errors.New("records is not an array")
			}
			for j := m.value.start + 1; ; {
				elem, ok := nextElement(batch, j)
				if !ok || elem.end > m.value.end {
					break
				}
				records = append(records, elem)
				j = elem.end
			}
		}
	}
}

// call runs the handler on one record; a panic fails that record alone.
func (in *Instance) call(ctx *Context, r *Record) (res Result, stack []byte) {
	defer func() {
		if v := recover(); v != nil {
			res, stack = Fail(fmt.Sprintf("panic: %v", v)), debug.Stack()
		}
	}()
	return in.handler(ctx, r), nil
}

// appendResult appends a record's result in the JSON format, with the
// records it emitted.
func appendResult(b []byte, res Result, emits []emitted) []byte {
	if msg := res.invalid(emits); msg != "" {
		return appendError(b, msg)
	}
	switch res.outcome {
	case OutcomeKeep:
		b = append(b, `{"keep":`...)
		b = res.record.appendJSON(b)
	case OutcomeDrop:
		b = append(b, `{"drop":`...)
		b = appendJSONString(b, res.reason)
	case OutcomeSplit:
		b = append(b, `{"split":[`...)
		for i, r := range res.records {
			if i > 0 {
				b = append(b, ',')
			}
			b = r.appendJSON(b)
		}
		b = append(b, ']')
	case OutcomeError:
		return appendError(b, res.reason)
	}
	if len(emits) > 0 {
		b = append(b, `,"emit":[`...)
		for i, e := range emits {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"stream":`...)
			b = appendJSONString(b, e.stream)
			b = append(b, `,"record":`...)
			b = e.record.appendJSON(b)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

func appendError(b []byte, reason string) []byte {
	b = append(b, `{"error":`...)
	b = appendJSONString(b, reason)
	return append(b, '}')
}

// errorReply is the reply for a batch the module cannot read at all: ferry
// fails each of its records with the reason.
func errorReply(reason string) []byte {
	return appendError(nil, reason)
}
