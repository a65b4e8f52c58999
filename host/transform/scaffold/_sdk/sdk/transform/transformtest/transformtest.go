// Package transformtest runs a transform's registered handler natively, in
// go test, through the same batch encoding a module uses inside ferry (the
// columnar format for the streams it declared columns for, JSON records
// otherwise), so a transform's tests need no wasm runtime and test what
// ferry runs:
//
//	func TestSubject(t *testing.T) {
//		results := transformtest.Run(t, `{"prefix": "ZD"}`, "tickets",
//			`{"id": "123", "subject": "Printer on fire"}`)
//		...
//	}
package transformtest

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"

	"github.com/ferryhq/ferry/sdk/transform"
)

// Result is one input record's outcome, as ferry reads it from the reply.
type Result struct {
	Outcome transform.Outcome
	// Records holds the record for a keep, the records for a split, as
	// JSON objects: the input record with what the transform changed.
	Records []json.RawMessage
	Reason  string // for a drop or an error
	// Changed reports whether the transform changed the record (a keep
	// with a value changed, or a split).
	Changed bool
	// Emitted holds the records the transform added with Context.Emit.
	Emitted []Emitted
}

// Emitted is a record a transform added to a stream.
type Emitted struct {
	Stream string          `json:"stream"`
	Record json.RawMessage `json:"record"`
}

// Record decodes the i-th record of a keep or split into a map, for
// assertions on a few columns; it returns nil when there is no such record.
func (r Result) Record(i int) map[string]any {
	if i < 0 || i >= len(r.Records) {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(r.Records[i], &m) != nil {
		return nil
	}
	return m
}

// Log is a line the transform logged.
type Log struct {
	Level   slog.Level
	Message string
}

// Module is the registered transform, configured as ferry configures a module.
type Module struct {
	instance *transform.Instance
	logs     []Log
}

// Configure configures the registered transform with config (JSON; "" for
// none), as ferry does when it loads the module; its error is the error ferry
// would report.
func Configure(config string) (*Module, error) {
	m := &Module{}
	var raw json.RawMessage
	if config != "" {
		raw = json.RawMessage(config)
	}
	inst, err := transform.NewInstance(raw, func(level slog.Level, msg string) {
		m.logs = append(m.logs, Log{Level: level, Message: msg})
	})
	if err != nil {
		return nil, fmt.Errorf("configure: %w", err)
	}
	m.instance = inst
	return m, nil
}

// Apply runs one batch of records (JSON objects) of stream through the
// transform and returns one result per record, checked as ferry checks them.
// As in ferry, a transform that declared columns for some streams but not
// this one keeps every record unchanged without being called.
func (m *Module) Apply(stream string, records ...string) ([]Result, error) {
	raws := make([]json.RawMessage, len(records))
	for i, r := range records {
		if !strings.HasPrefix(strings.TrimSpace(r), "{") || !json.Valid([]byte(r)) {
			return nil, fmt.Errorf("record %d is not a JSON object: %.60q", i, r)
		}
		raws[i] = json.RawMessage(strings.TrimSpace(r))
	}
	read, write, mode, err := declared(m.instance.Columns(stream))
	if err != nil {
		return nil, err
	}
	switch mode {
	case skipped:
		out := make([]Result, len(raws))
		for i, r := range raws {
			out[i] = Result{Outcome: transform.OutcomeKeep, Records: []json.RawMessage{r}}
		}
		return out, nil
	case columns:
		return m.applyBothWays(stream, raws, read, write)
	}
	batch, err := encodeBatch(stream, raws)
	if err != nil {
		return nil, err
	}
	return decodeReply(m.instance.Transform(transform.FormatJSON, batch), raws)
}

// applyBothWays runs a columnar batch, and when the transform has a
// transform.BatchHandler, runs it again with the record handler alone: the
// two must agree on every record, as ferry may run a record through either
// (a row the batch handler passes, a JSON batch, a batch handler that
// panicked).
func (m *Module) applyBothWays(stream string, raws []json.RawMessage, read, write []string) ([]Result, error) {
	out, err := m.applyColumnar(stream, raws, read, write)
	if err != nil || !m.instance.SetBatchHandler(false) {
		return out, err
	}
	defer m.instance.SetBatchHandler(true)
	logs := len(m.logs)
	alone, err := m.applyColumnar(stream, raws, read, write)
	m.logs = m.logs[:logs] // the same lines again
	if err != nil {
		return nil, fmt.Errorf("with the record handler alone: %w", err)
	}
	for i := range out {
		if !reflect.DeepEqual(out[i], alone[i]) {
			return nil, fmt.Errorf("the batch handler and the record handler disagree on record %d: %s against %s", i, describe(out[i]), describe(alone[i]))
		}
	}
	return out, nil
}

// describe sums up a result for a message.
func describe(r Result) string {
	b, _ := json.Marshal(r)
	return string(b)
}

// Logs returns what the transform logged so far.
func (m *Module) Logs() []Log { return m.logs }

// Run configures the registered transform with config and applies it to
// records of stream, failing the test on any error.
func Run(t testing.TB, config, stream string, records ...string) []Result {
	t.Helper()
	m, err := Configure(config)
	if err != nil {
		t.Fatal(err)
	}
	results, err := m.Apply(stream, records...)
	if err != nil {
		t.Fatal(err)
	}
	return results
}

func encodeBatch(stream string, raws []json.RawMessage) ([]byte, error) {
	batch, err := json.Marshal(struct {
		Stream  string            `json:"stream"`
		Records []json.RawMessage `json:"records"`
	}{stream, raws})
	if err != nil {
		return nil, fmt.Errorf("encode batch: %w", err)
	}
	return batch, nil
}

func decodeReply(data []byte, in []json.RawMessage) ([]Result, error) {
	n := len(in)
	var reply struct {
		Results []struct {
			Keep  json.RawMessage   `json:"keep"`
			Drop  *string           `json:"drop"`
			Split []json.RawMessage `json:"split"`
			Error *string           `json:"error"`
			Emit  []Emitted         `json:"emit"`
		} `json:"results"`
		Error *string `json:"error"`
	}
	if err := json.Unmarshal(data, &reply); err != nil {
		return nil, fmt.Errorf("decode reply: %w", err)
	}
	if reply.Error != nil {
		return nil, fmt.Errorf("the batch failed: %s", *reply.Error)
	}
	if len(reply.Results) != n {
		return nil, fmt.Errorf("%d results for %d records", len(reply.Results), n)
	}
	out := make([]Result, n)
	for i, r := range reply.Results {
		var res Result
		var set int
		if r.Keep != nil {
			set++
			res = Result{Outcome: transform.OutcomeKeep, Records: []json.RawMessage{r.Keep}, Changed: string(r.Keep) != string(in[i])}
		}
		if r.Drop != nil {
			set++
			res = Result{Outcome: transform.OutcomeDrop, Reason: *r.Drop}
		}
		if r.Split != nil {
			set++
			res = Result{Outcome: transform.OutcomeSplit, Records: r.Split, Changed: true}
		}
		if r.Error != nil {
			set++
			res = Result{Outcome: transform.OutcomeError, Reason: *r.Error}
		}
		if set != 1 {
			return nil, fmt.Errorf("result %d is not exactly one of keep, drop, split and error", i)
		}
		res.Emitted = r.Emit
		out[i] = res
	}
	return out, nil
}
