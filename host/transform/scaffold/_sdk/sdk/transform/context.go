package transform

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// LogFunc receives a transform's log lines: the ferry.log import inside a
// module, a collector in tests.
type LogFunc func(level slog.Level, msg string)

// Context is what a transform knows besides the record: the stream of the
// batch, its config and a log. One Context serves a whole batch; do not keep
// it past the call that received it.
type Context struct {
	stream string
	config json.RawMessage
	log    LogFunc
	// columns receives the declarations of a Setup; nil once it returned.
	columns declarations
	// batchHandler is what a Setup registered with HandleBatches.
	batchHandler BatchHandler
	// emits holds the records the handler added for the record in hand;
	// batch is true while a handler runs, the only time Emit is allowed.
	emits []emitted
	batch bool
}

// emitted is a record a handler added to a stream.
type emitted struct {
	stream string
	record *Record
}

// Declare declares, in a [Setup], the columns the transform reads and writes
// of a stream: ferry then sends it just those columns, in the columnar
// format, which is many times faster than whole records. The id is always
// read. A column written is read too. Names are the columns of the stream in
// sdk/schema (subject, status, tags, raw, ...); ferry refuses the module at
// load when one is not.
//
//	func setup(ctx *transform.Context) (transform.Handler, error) {
//		ctx.Declare("tickets", []string{"subject"}, []string{"subject"})
//		return tagSubject, nil
//	}
//
// A transform that declares nothing gets whole records of every stream; one
// that declares some streams is called for those only (ferry passes the
// records of the others by). Reading or writing a column not declared fails
// the record with a reason that says so. Declaring a stream again adds to
// its columns. Declare panics outside a Setup, as that is a programming
// error. See also [RegisterColumns] and [Context.DeclareWhole].
func (c *Context) Declare(stream string, read, write []string) {
	if c.columns == nil {
		panic("transform: Declare outside a Setup")
	}
	if err := c.columns.declare(stream, read, write); err != nil {
		panic("transform: Declare: " + err.Error())
	}
}

// DeclareWhole declares, in a [Setup], that the transform reads whole
// records of a stream (as JSON objects, every column there), for a
// transform that declares columns for other streams. Whole records are many
// times slower to pass than declared columns.
func (c *Context) DeclareWhole(stream string) {
	if c.columns == nil {
		panic("transform: DeclareWhole outside a Setup")
	}
	if err := c.columns.declareWhole(stream); err != nil {
		panic("transform: DeclareWhole: " + err.Error())
	}
}

// Emit adds a record to a stream, besides the result of the record in hand:
// a ticket's custom fields as a private note is the ticket kept and a record
// of "comments" emitted. Build the record with [NewRecord], in the canonical
// form of its stream (id included). It is added unless the record in hand
// fails; later transforms of the chain do not see it. Emit panics outside a
// handler.
func (c *Context) Emit(stream string, r *Record) {
	if !c.batch {
		panic("transform: Emit outside a Handler")
	}
	c.emits = append(c.emits, emitted{stream: stream, record: r})
}

// Stream returns the canonical stream of the records in hand (tickets,
// users, ...). It is "" in a [Setup], which runs before any batch.
func (c *Context) Stream() string { return c.stream }

// Config decodes the transform's config (the config: of its entry in
// ferry.yaml, as JSON) into v. A transform without config leaves v as it is,
// so set defaults in v first. Unknown fields are an error, so that a typo in
// ferry.yaml is reported rather than ignored.
func (c *Context) Config(v any) error {
	if isNull(c.config) {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(c.config))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("decode config: %w", err)
	}
	return nil
}

// Log writes a line to ferry's log, under the module's name. args are
// key-value pairs, as with log/slog, and are appended to msg as key=value.
// Log is for diagnostics, not for every record: a record's outcome already
// carries its reason.
func (c *Context) Log(level slog.Level, msg string, args ...any) {
	if c.log == nil {
		return
	}
	if len(args) > 0 {
		// slog.Record turns loose args into attributes exactly as slog does.
		rec := slog.NewRecord(time.Time{}, level, msg, 0)
		rec.Add(args...)
		b := []byte(msg)
		rec.Attrs(func(a slog.Attr) bool {
			b = appendAttr(b, "", a)
			return true
		})
		msg = string(b)
	}
	c.log(level, msg)
}

func appendAttr(b []byte, prefix string, a slog.Attr) []byte {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return b
	}
	key := prefix + a.Key
	if a.Value.Kind() == slog.KindGroup {
		if a.Key != "" {
			prefix = key + "."
		}
		for _, ga := range a.Value.Group() {
			b = appendAttr(b, prefix, ga)
		}
		return b
	}
	b = append(b, ' ')
	b = append(b, key...)
	b = append(b, '=')
	s := a.Value.String()
	if s == "" || strings.IndexFunc(s, needsQuote) >= 0 {
		return strconv.AppendQuote(b, s)
	}
	return append(b, s...)
}

func needsQuote(r rune) bool {
	return r <= ' ' || r == '"' || r == '=' || r == '\\' || !unicode.IsPrint(r)
}
