package transform

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
)

// Instance is a configured transform: the state that ferry_configure builds
// in a module and ferry_transform runs batches through. Inside a module the
// exports drive it; sdk/transform/transformtest drives one natively, through
// the same encoding, so that a transform's tests need no wasm runtime. A
// transform itself never uses it.
type Instance struct {
	handler Handler
	config  json.RawMessage
	log     LogFunc
}

// NewInstance configures the registered transform with config (a JSON value;
// empty or null when there is none), as ferry_configure does. log receives the
// transform's log lines and may be nil.
func NewInstance(config json.RawMessage, log LogFunc) (*Instance, error) {
	if registered == nil {
		return nil, errNotRegistered
	}
	return newInstance(registered, config, log)
}

func newInstance(setup Setup, config json.RawMessage, log LogFunc) (*Instance, error) {
	if len(config) > 0 && !json.Valid(config) {
		return nil, fmt.Errorf("config is not valid JSON: %.60q", config)
	}
	ctx := &Context{config: config, log: log}
	h, err := callSetup(setup, ctx)
	if err != nil {
		return nil, err
	}
	if h == nil {
		return nil, fmt.Errorf("setup returned no handler")
	}
	return &Instance{handler: h, config: config, log: log}, nil
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

// Transform runs the handler over one encoded batch and returns the encoded
// reply, as ferry_transform does: one result per record, in order, or a
// batch-level error when the batch cannot be read.
func (in *Instance) Transform(format uint32, batch []byte) []byte {
	if format != FormatJSON {
		return errorReply(fmt.Sprintf("unsupported batch format %d (this module reads %d)", format, formats))
	}
	batch = bytes.TrimSpace(batch)
	stream, records, err := readBatch(batch)
	if err != nil {
		return errorReply(fmt.Sprintf("decode batch: %v", err))
	}
	ctx := &Context{stream: stream, config: in.config, log: in.log}
	// Records usually come back the size they went in; a little more for
	// the result wrappers and for what transforms add.
	out := make([]byte, 0, len(batch)+len(batch)/8+64)
	out = append(out, `{"results":[`...)
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
		res, stack := in.call(ctx, newRecord(raw))
		if stack != nil && !panicked {
			// One stack per batch is enough to find the bug, and a panic on
			// every record must not flood ferry's log.
			panicked = true
			ctx.Log(slog.LevelError, "transform panicked: "+res.reason+"\n"+string(stack))
		}
		out = appendResult(out, res)
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

func appendResult(b []byte, res Result) []byte {
	switch res.outcome {
	case OutcomeKeep:
		if res.records[0] == nil {
			return appendError(b, "Keep of a nil record")
		}
		b = append(b, `{"keep":`...)
		b = res.records[0].appendJSON(b)
		return append(b, '}')
	case OutcomeDrop:
		b = append(b, `{"drop":`...)
		b = appendJSONString(b, res.reason)
		return append(b, '}')
	case OutcomeSplit:
		if len(res.records) == 0 {
			return appendError(b, "Split into no records (use Drop to leave a record out)")
		}
		for _, r := range res.records {
			if r == nil {
				return appendError(b, "Split with a nil record")
			}
		}
		b = append(b, `{"split":[`...)
		for i, r := range res.records {
			if i > 0 {
				b = append(b, ',')
			}
			b = r.appendJSON(b)
		}
		return append(b, "]}"...)
	case OutcomeError:
		return appendError(b, res.reason)
	default:
		return appendError(b, "the transform returned no result (a zero transform.Result)")
	}
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
