package transform

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/ferryhq/ferry/sdk/schema"
)

// Outcome is what became of one input record.
type Outcome uint8

// The outcomes of a [Result].
const (
	Keep  Outcome = iota + 1 // the record goes on, possibly changed: Records holds it
	Drop                     // the record is skipped: Reason says why
	Split                    // the record became several: Records holds them
	Error                    // the record failed: Reason says why
)

// String returns the outcome's name in the ABI.
func (o Outcome) String() string {
	switch o {
	case Keep:
		return "keep"
	case Drop:
		return "drop"
	case Split:
		return "split"
	case Error:
		return "error"
	default:
		return fmt.Sprintf("Outcome(%d)", o)
	}
}

// Result is what became of one input record.
type Result struct {
	Outcome Outcome
	// Records holds the record a Keep passes on, or the records of a Split,
	// each a JSON object with the stream's columns.
	Records []json.RawMessage
	// Reason says why a record was dropped or failed.
	Reason string
	// ModuleSHA256 identifies the module that decided the outcome: the one
	// that dropped or failed the record, or the last one that kept or split
	// it. It is what the workspace records against each transformed row.
	ModuleSHA256 string
	// Extra holds the records of other streams (or new records of the same)
	// that modules added for this record with Emit, unless it failed.
	Extra []ExtraRecord
}

// ExtraRecord is a record a batch's transforms added: a piece of a split
// beyond the first, or a record a module emitted, of its stream or another.
type ExtraRecord struct {
	// From is the input row (or record) it came from.
	From int
	// Stream is its stream: the batch's for a piece.
	Stream string
	// Record is the record, a JSON object in the canonical form.
	Record json.RawMessage
	// Partial marks a piece of a split in a batch whose modules all
	// declared their columns: Record holds the id and the columns of
	// BatchResult.Out, and its other columns are those of input row From.
	// A whole record (an emitted one, or a piece of a chain with a whole
	// record module) is not partial.
	Partial bool
	// Module is the SHA-256 of the module that emitted it, or that split
	// its row.
	Module string
}

// BatchResult is what a chain did to one Arrow batch ([Chain.ApplyArrow]),
// aligned with the input rows.
type BatchResult struct {
	// Outcomes holds each input row's outcome:
	//   - Keep: the row goes on as one record, with Out's values;
	//   - Split: the row became several records: the first is in Out, the
	//     others in Extra (From: the row);
	//   - Drop: every record the row became was dropped;
	//   - Error: a module failed the row, or one of the records it became.
	Outcomes []Outcome
	// Reasons holds the reason of each Drop and Error row ("" for others).
	Reasons []string
	// Changed lists, per input row, the SHA-256 of the modules that
	// changed it, in chain order: kept it with a value changed, split it,
	// dropped it or failed it (a batch failure counts for the module whose
	// batch failed). A row no module changed has none, and Out holds it as
	// it came in.
	Changed [][]string
	// Out holds, one row per input row, the id and the columns the chain
	// writes (every column when a module reads whole records), in schema
	// order: the values of the Keep and Split rows; other rows are null.
	// The caller releases it (or the result, with Release).
	Out arrow.RecordBatch
	// Extra holds the records splits and Emit added, in input row order.
	Extra []ExtraRecord
}

// Release releases Out.
func (r *BatchResult) Release() {
	if r != nil && r.Out != nil {
		r.Out.Release()
		r.Out = nil
	}
}

// maxReason bounds a reason a module gives, as it ends up in the workspace
// and in reports for every record it applies to.
const maxReason = 4 << 10

// encodeBatch builds a JSON v1 batch. Records are copied in as they are, once
// checked to be well-formed JSON objects in UTF-8: the ABI promises modules
// that, so that they need not check it again, and a malformed record would
// make the whole batch unreadable.
func encodeBatch(stream string, records []json.RawMessage) ([]byte, error) {
	size := len(stream) + 32
	for i, r := range records {
		r = bytes.TrimSpace(r)
		if len(r) == 0 || r[0] != '{' || !json.Valid(r) {
			return nil, fmt.Errorf("record %d is not a JSON object: %.60q", i, r)
		}
		// The ABI promises UTF-8, which json.Valid does not check.
		if !utf8.Valid(r) {
			return nil, fmt.Errorf("record %d is not valid UTF-8", i)
		}
		size += len(r) + 1
	}
	name, err := json.Marshal(stream)
	if err != nil {
		return nil, fmt.Errorf("encode stream name: %w", err)
	}
	b := make([]byte, 0, size)
	b = append(b, `{"stream":`...)
	b = append(b, name...)
	b = append(b, `,"records":[`...)
	for i, r := range records {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, bytes.TrimSpace(r)...)
	}
	return append(b, "]}"...), nil
}

// decodeResults reads a JSON v1 reply to a batch of n records: exactly n
// results, each exactly one of keep (an object), drop (a reason), split (a
// non-empty list of objects) or error (a reason), with the records it
// emitted. Anything else is an error, as is a batch-level {"error": ...}
// reply, whose reason is the error's text. module is the SHA-256 emitted
// records are attributed to.
func decodeResults(data []byte, n int, module string) ([]Result, error) {
	var reply struct {
		Results []struct {
			Keep  json.RawMessage   `json:"keep"`
			Drop  *string           `json:"drop"`
			Split []json.RawMessage `json:"split"`
			Error *string           `json:"error"`
			Emit  []struct {
				Stream string          `json:"stream"`
				Record json.RawMessage `json:"record"`
			} `json:"emit"`
		} `json:"results"`
		Error *string `json:"error"`
	}
	if err := json.Unmarshal(data, &reply); err != nil {
		return nil, fmt.Errorf("malformed reply: %w", err)
	}
	switch {
	case reply.Error != nil:
		return nil, errors.New(reason(*reply.Error, "the module failed the batch without a reason"))
	case reply.Results == nil:
		return nil, errors.New(`malformed reply: neither "results" nor "error"`)
	case len(reply.Results) != n:
		return nil, fmt.Errorf("the module returned %d results for %d records", len(reply.Results), n)
	}
	results := make([]Result, n)
	for i, r := range reply.Results {
		var set int
		if r.Keep != nil {
			set++
			if !isObject(r.Keep) {
				return nil, fmt.Errorf("result %d: keep is not a JSON object", i)
			}
			results[i] = Result{Outcome: Keep, Records: []json.RawMessage{r.Keep}}
		}
		if r.Drop != nil {
			set++
			results[i] = Result{Outcome: Drop, Reason: reason(*r.Drop, "dropped by the transform")}
		}
		if r.Split != nil {
			set++
			if len(r.Split) == 0 {
				return nil, fmt.Errorf("result %d: split into no records", i)
			}
			for j, rec := range r.Split {
				if !isObject(rec) {
					return nil, fmt.Errorf("result %d: split record %d is not a JSON object", i, j)
				}
			}
			results[i] = Result{Outcome: Split, Records: r.Split}
		}
		if r.Error != nil {
			set++
			results[i] = Result{Outcome: Error, Reason: reason(*r.Error, "failed by the transform without a reason")}
		}
		if set != 1 {
			return nil, fmt.Errorf("result %d has %d of keep, drop, split and error, want exactly one", i, set)
		}
		if results[i].Outcome == Error {
			continue // a failed record adds nothing
		}
		for j, e := range r.Emit {
			if err := checkEmitted(e.Stream, e.Record); err != nil {
				return nil, fmt.Errorf("result %d: emitted record %d: %w", i, j, err)
			}
			results[i].Extra = append(results[i].Extra, ExtraRecord{From: i, Stream: e.Stream, Record: e.Record, Module: module})
		}
	}
	return results, nil
}

// checkEmitted checks a record a module emitted: an object, of a canonical
// stream.
func checkEmitted(stream string, record json.RawMessage) error {
	if _, err := schema.Schema(stream); err != nil {
		return fmt.Errorf("of stream %q: not a canonical stream", stream)
	}
	if !isObject(record) {
		return errors.New("not a JSON object")
	}
	return nil
}

// isObject reports whether a value json.Unmarshal left in a RawMessage is an
// object: it is valid JSON without leading space, or the literal null.
func isObject(v json.RawMessage) bool { return len(v) > 0 && v[0] == '{' }

// reason returns a module's reason bounded in size and in UTF-8, or def for
// an empty one.
func reason(s, def string) string {
	if s == "" {
		return def
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= maxReason {
		return s
	}
	cut := maxReason
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// failAll is the result of a batch that failed as a whole.
func failAll(n int, reason, module string) []Result {
	results := make([]Result, n)
	for i := range results {
		results[i] = Result{Outcome: Error, Reason: reason, ModuleSHA256: module}
	}
	return results
}
