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
// batch, its config and a log. One Context serves a whole batch.
type Context struct {
	stream string
	config json.RawMessage
	log    LogFunc
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
