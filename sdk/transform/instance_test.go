package transform

import (
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

func TestInstanceTransform(t *testing.T) {
	const batch = `{"stream":"tickets","records":[{"id":"1","subject":"a"},{"id":"2"}]}`
	tests := []struct {
		name    string
		handler Handler
		batch   string
		format  uint32
		want    string
	}{
		{"keep unchanged", func(_ *Context, r *Record) Result { return Keep(r) }, batch, FormatJSON,
			`{"results":[{"keep":{"id":"1","subject":"a"}},{"keep":{"id":"2"}}]}`},
		{"keep changed", func(ctx *Context, r *Record) Result { r.SetString("stream", ctx.Stream()); return Keep(r) }, batch, FormatJSON,
			`{"results":[{"keep":{"id":"1","subject":"a","stream":"tickets"}},{"keep":{"id":"2","stream":"tickets"}}]}`},
		{"drop", func(_ *Context, r *Record) Result { return Drop("spam " + r.ID()) }, batch, FormatJSON,
			`{"results":[{"drop":"spam 1"},{"drop":"spam 2"}]}`},
		{"split", func(_ *Context, r *Record) Result {
			c := r.Clone()
			c.SetString("id", r.ID()+"b")
			return Split(r, c)
		}, batch, FormatJSON,
			`{"results":[{"split":[{"id":"1","subject":"a"},{"id":"1b","subject":"a"}]},{"split":[{"id":"2"},{"id":"2b"}]}]}`},
		{"fail", func(*Context, *Record) Result { return Fail(`bad "thing"`) }, batch, FormatJSON,
			`{"results":[{"error":"bad \"thing\""},{"error":"bad \"thing\""}]}`},
		{"panic fails the record alone", func(_ *Context, r *Record) Result {
			if r.ID() == "1" {
				panic("boom")
			}
			return Keep(r)
		}, batch, FormatJSON,
			`{"results":[{"error":"panic: boom"},{"keep":{"id":"2"}}]}`},
		{"zero result", func(*Context, *Record) Result { return Result{} }, batch, FormatJSON,
			`{"results":[{"error":"the transform returned no result (a zero transform.Result)"},{"error":"the transform returned no result (a zero transform.Result)"}]}`},
		{"keep nil", func(*Context, *Record) Result { return Keep(nil) }, `{"stream":"x","records":[{}]}`, FormatJSON,
			`{"results":[{"error":"Keep of a nil record"}]}`},
		{"empty split", func(*Context, *Record) Result { return Split() }, `{"stream":"x","records":[{}]}`, FormatJSON,
			`{"results":[{"error":"Split into no records (use Drop to leave a record out)"}]}`},
		{"split with nil", func(_ *Context, r *Record) Result { return Split(r, nil) }, `{"stream":"x","records":[{}]}`, FormatJSON,
			`{"results":[{"error":"Split with a nil record"}]}`},
		{"no records", func(_ *Context, r *Record) Result { return Keep(r) }, `{"stream":"x","records":[]}`, FormatJSON,
			`{"results":[]}`},
		{"not an object", func(_ *Context, r *Record) Result { return Keep(r) }, `{"stream":"x","records":[1,{}]}`, FormatJSON,
			`{"results":[{"error":"record is not a JSON object"},{"keep":{}}]}`},
		{"cut batch", func(_ *Context, r *Record) Result { return Keep(r) }, `{"stream":`, FormatJSON,
			`{"error":"decode batch: stream is not a string"}`},
		{"batch not an object", func(_ *Context, r *Record) Result { return Keep(r) }, `[1]`, FormatJSON,
			`{"error":"decode batch: not a JSON object"}`},
		{"records not an array", func(_ *Context, r *Record) Result { return Keep(r) }, `{"stream":"x","records":{}}`, FormatJSON,
			`{"error":"decode batch: records is not an array"}`},
		{"no records member", func(_ *Context, r *Record) Result { return Keep(r) }, `{"stream":"x"}`, FormatJSON,
			`{"results":[]}`},
		{"pretty batch, members in another order", func(ctx *Context, r *Record) Result { r.SetString("s", ctx.Stream()); return Keep(r) },
			"{\n  \"records\" : [ {\"id\" : \"1\"} ,\n {} ],\n  \"extra\": [\"]\"],  \"stream\" : \"t\\\"x\"\n}", FormatJSON,
			`{"results":[{"keep":{"id" : "1","s":"t\"x"}},{"keep":{"s":"t\"x"}}]}`},
		{"unknown format", func(_ *Context, r *Record) Result { return Keep(r) }, batch, 1 << 2,
			`{"error":"unsupported batch format 4 (this module reads 3)"}`},
		{"columnar format, not columnar", func(_ *Context, r *Record) Result { return Keep(r) }, batch, FormatColumnar,
			`{"error":"decode batch: not a columnar batch (it does not start with \"FRYB\")"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, err := newInstance(func(*Context) (Handler, error) { return tt.handler, nil }, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			got := in.Transform(tt.format, []byte(tt.batch))
			if string(got) != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			if !json.Valid(got) {
				t.Errorf("reply is not valid JSON: %s", got)
			}
		})
	}
}

func TestInstancePanicLogsOnce(t *testing.T) {
	var logs []string
	in, err := newInstance(func(*Context) (Handler, error) {
		return func(*Context, *Record) Result { panic("boom") }, nil
	}, nil, func(_ slog.Level, msg string) { logs = append(logs, msg) })
	if err != nil {
		t.Fatal(err)
	}
	in.Transform(FormatJSON, []byte(`{"stream":"x","records":[{},{},{}]}`))
	if len(logs) != 1 || !strings.Contains(logs[0], "panic: boom") || !strings.Contains(logs[0], "goroutine") {
		t.Errorf("logs = %q, want one line with the panic and its stack", logs)
	}
}

func TestNewInstance(t *testing.T) {
	keep := func(_ *Context, r *Record) Result { return Keep(r) }
	tests := []struct {
		name   string
		setup  Setup
		config string
		want   string // "" for no error
	}{
		{"no config", func(*Context) (Handler, error) { return keep, nil }, "", ""},
		{"null config", func(ctx *Context) (Handler, error) {
			v := struct{ A int }{A: 7}
			if err := ctx.Config(&v); err != nil || v.A != 7 {
				return nil, errors.New("defaults lost")
			}
			return keep, nil
		}, "null", ""},
		{"config decoded", func(ctx *Context) (Handler, error) {
			var v struct {
				A int `json:"a"`
			}
			if err := ctx.Config(&v); err != nil || v.A != 3 {
				return nil, errors.New("config not decoded")
			}
			return keep, nil
		}, `{"a":3}`, ""},
		{"unknown field", func(ctx *Context) (Handler, error) {
			var v struct {
				A int `json:"a"`
			}
			return keep, ctx.Config(&v)
		}, `{"b":3}`, `unknown field "b"`},
		{"invalid config", func(*Context) (Handler, error) { return keep, nil }, `{`, "not valid JSON"},
		{"setup error", func(*Context) (Handler, error) { return nil, errors.New("no") }, "", "no"},
		{"setup panic", func(*Context) (Handler, error) { panic("oops") }, "", "setup panicked: oops"},
		{"nil handler", func(*Context) (Handler, error) { return nil, nil }, "", "no handler"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := newInstance(tt.setup, json.RawMessage(tt.config), nil)
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestContextLog(t *testing.T) {
	tests := []struct {
		msg  string
		args []any
		want string
	}{
		{"plain", nil, "plain"},
		{"pairs", []any{"n", 3, "s", "a b", "e", ""}, `pairs n=3 s="a b" e=""`},
		{"attr", []any{slog.String("k", "v"), slog.Group("g", "x", 1)}, "attr k=v g.x=1"},
		{"odd", []any{"lonely"}, "odd !BADKEY=lonely"},
	}
	for _, tt := range tests {
		t.Run(tt.msg, func(t *testing.T) {
			var got string
			var level slog.Level
			ctx := &Context{log: func(l slog.Level, msg string) { level, got = l, msg }}
			ctx.Log(slog.LevelWarn, tt.msg, tt.args...)
			if got != tt.want || level != slog.LevelWarn {
				t.Errorf("got %v %q, want WARN %q", level, got, tt.want)
			}
		})
	}
}
