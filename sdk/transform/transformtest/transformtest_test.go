package transformtest_test

import (
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/ferryhq/ferry/sdk/transform"
	"github.com/ferryhq/ferry/sdk/transform/transformtest"
)

// The test binary is a transform of its own: it registers, as a module's
// main package would.
func init() {
	transform.RegisterSetup(func(ctx *transform.Context) (transform.Handler, error) {
		var cfg struct {
			Refuse bool `json:"refuse"`
			// Subjects makes it a columnar transform that tags subjects,
			// with a batch handler too; Disagree makes that handler tag
			// them otherwise than the record handler.
			Subjects, Disagree bool
		}
		if err := ctx.Config(&cfg); err != nil {
			return nil, err
		}
		if cfg.Refuse {
			return nil, errors.New("refused")
		}
		if cfg.Subjects {
			ctx.Declare("tickets", []string{"subject"}, []string{"subject"})
			tag := "S-"
			if cfg.Disagree {
				tag = "X-"
			}
			ctx.HandleBatches(func(_ *transform.Context, b *transform.Batch) {
				ids, set := b.IDs(), must(b.Setter("subject"))
				for i := range b.Len() {
					set.SetString(i, tag+ids.At(i))
				}
			})
			return func(_ *transform.Context, r *transform.Record) transform.Result {
				r.SetString("subject", "S-"+r.ID())
				return transform.Keep(r)
			}, nil
		}
		ctx.Log(slog.LevelInfo, "configured")
		return func(ctx *transform.Context, r *transform.Record) transform.Result {
			switch r.String("do") {
			case "drop":
				return transform.Drop("dropped " + r.ID())
			case "split":
				b := r.Clone()
				b.SetString("id", r.ID()+"b")
				return transform.Split(r, b)
			case "fail":
				ctx.Log(slog.LevelWarn, "failing", "id", r.ID())
				return transform.Fail("failed " + r.ID())
			}
			return transform.Keep(r)
		}, nil
	})
}

func TestRun(t *testing.T) {
	results := transformtest.Run(t, "", "tickets",
		`{"id":"1"}`, `{"id":"2","do":"drop"}`, `{"id":"3","do":"split"}`, `{"id":"4","do":"fail"}`)
	tests := []struct {
		outcome transform.Outcome
		ids     []string
		reason  string
	}{
		{transform.OutcomeKeep, []string{"1"}, ""},
		{transform.OutcomeDrop, nil, "dropped 2"},
		{transform.OutcomeSplit, []string{"3", "3b"}, ""},
		{transform.OutcomeError, nil, "failed 4"},
	}
	for i, tt := range tests {
		got := results[i]
		if got.Outcome != tt.outcome || got.Reason != tt.reason || len(got.Records) != len(tt.ids) {
			t.Errorf("result %d = %+v, want %v %q", i, got, tt.outcome, tt.reason)
			continue
		}
		for j, id := range tt.ids {
			if got.Record(j)["id"] != id {
				t.Errorf("result %d record %d = %s, want id %s", i, j, got.Records[j], id)
			}
		}
	}
	if results[0].Record(1) != nil || results[1].Record(0) != nil {
		t.Error("Record out of range: not nil")
	}
}

func TestModule(t *testing.T) {
	m, err := transformtest.Configure(`{"refuse":false}`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Apply("tickets", `{"id":"1","do":"fail"}`); err != nil {
		t.Fatal(err)
	}
	want := []transformtest.Log{{Level: slog.LevelInfo, Message: "configured"}, {Level: slog.LevelWarn, Message: "failing id=1"}}
	if got := m.Logs(); len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("Logs() = %v, want %v", got, want)
	}
	if _, err := m.Apply("tickets", `[1]`); err == nil {
		t.Error("Apply of a record that is not an object: no error")
	}
	for config, want := range map[string]string{`{"refuse":true}`: "refused", `{"x":1}`: `unknown field "x"`} {
		if _, err := transformtest.Configure(config); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Configure(%s) = %v, want an error containing %q", config, err, want)
		}
	}
}

func must[T any](v T, ok bool) T {
	if !ok {
		panic("no such column")
	}
	return v
}

// TestBatchHandlerChecked checks that Apply runs a transform's batch
// handler against its record handler, and reports where they disagree.
func TestBatchHandlerChecked(t *testing.T) {
	results := transformtest.Run(t, `{"subjects":true}`, "tickets", `{"id":"1","subject":"a"}`, `{"id":"2"}`)
	for i, want := range []string{"S-1", "S-2"} {
		if got := results[i].Record(0)["subject"]; got != want {
			t.Errorf("record %d: subject %v, want %s", i, got, want)
		}
	}
	m, err := transformtest.Configure(`{"subjects":true,"disagree":true}`)
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Apply("tickets", `{"id":"1","subject":"a"}`)
	if err == nil || !strings.Contains(err.Error(), "disagree on record 0") || !strings.Contains(err.Error(), "X-1") {
		t.Errorf("Apply with handlers that disagree: %v, want an error naming record 0 and X-1", err)
	}
}
