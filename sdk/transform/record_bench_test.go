package transform_test

import (
	"encoding/json"
	"strconv"
	"testing"

	"github.com/ferryhq/ferry/sdk/transform"
	"github.com/ferryhq/ferry/sdk/transform/columnar"
	"github.com/ferryhq/ferry/transforms/legacy-id-subject/subject"
	"github.com/ferryhq/ferry/transforms/map-values/mapping"
)

// columnarTickets is a columnar batch of n tickets with the columns given
// (written, beside the id), as the host sends them.
func columnarTickets(tb testing.TB, n int, cols ...string) []byte {
	statuses := []string{"new", "open", "hold", "solved", "closed"}
	priorities := []string{"low", "normal", "high", "urgent", ""}
	var out []columnar.Column
	for _, name := range append([]string{"id"}, cols...) {
		b := columnar.NewBuilder(columnar.String)
		for i := range n {
			switch name {
			case "id":
				b.AppendString(strconv.Itoa(100000 + i))
			case "subject":
				b.AppendString("Printer on fire on floor " + strconv.Itoa(i%40))
			case "status":
				b.AppendString(statuses[i%len(statuses)])
			case "priority":
				if p := priorities[i%len(priorities)]; p != "" {
					b.AppendString(p)
				} else {
					b.AppendNull()
				}
			}
		}
		c := b.Column(name)
		c.Written = name != "id"
		out = append(out, c)
	}
	p, err := columnar.PlanBatch("tickets", out, nil)
	if err != nil {
		tb.Fatal(err)
	}
	batch := make([]byte, p.Size())
	p.Put(batch)
	return batch
}

// BenchmarkColumnarRecord measures what a record costs the SDK and the
// examples in a columnar batch of 4,096 tickets: the SDK's loop alone (a
// handler that keeps the record), reading two columns, setting one, and
// the two examples the bench chains. Natively it is the floor; inside a
// module, the figure the wasm stage pays:
//
//	go build -o /tmp/wasmexec ./bench/wasmexec
//	GOOS=wasip1 GOARCH=wasm go test -exec /tmp/wasmexec -run '^$' -bench ColumnarRecord ./sdk/transform/
func BenchmarkColumnarRecord(b *testing.B) {
	declare := func(h transform.Handler) transform.Setup {
		return func(ctx *transform.Context) (transform.Handler, error) {
			ctx.Declare("tickets", []string{"subject"}, []string{"subject"})
			return h, nil
		}
	}
	declareBatch := func(h transform.BatchHandler) transform.Setup {
		return func(ctx *transform.Context) (transform.Handler, error) {
			ctx.Declare("tickets", []string{"subject"}, []string{"subject"})
			ctx.HandleBatches(h)
			return func(_ *transform.Context, r *transform.Record) transform.Result {
				return transform.Fail("not the batch handler")
			}, nil
		}
	}
	sink := 0
	for _, bc := range []struct {
		name   string
		setup  transform.Setup
		config string
		cols   []string
	}{
		{"keep", declare(func(_ *transform.Context, r *transform.Record) transform.Result { return transform.Keep(r) }), `{}`, []string{"subject"}},
		{"read-two", declare(func(_ *transform.Context, r *transform.Record) transform.Result {
			sink += len(r.ID()) + len(r.String("subject"))
			return transform.Keep(r)
		}), `{}`, []string{"subject"}},
		{"set-one", declare(func(_ *transform.Context, r *transform.Record) transform.Result {
			r.SetString("subject", "Printer fixed")
			return transform.Keep(r)
		}), `{}`, []string{"subject"}},
		{"batch-keep", declareBatch(func(*transform.Context, *transform.Batch) {}), `{}`, []string{"subject"}},
		{"batch-read-two", declareBatch(func(_ *transform.Context, b *transform.Batch) {
			ids, subjects := b.IDs(), must(b.Strings("subject"))
			for i := range b.Len() {
				sink += len(ids.At(i)) + len(subjects.At(i))
			}
		}), `{}`, []string{"subject"}},
		{"batch-set-one", declareBatch(func(_ *transform.Context, b *transform.Batch) {
			set := must(b.Setter("subject"))
			for i := range b.Len() {
				set.SetString(i, "Printer fixed")
			}
		}), `{}`, []string{"subject"}},
		{"legacy-id-subject", subject.Setup, `{"prefix":"ZD"}`, []string{"subject"}},
		{"map-values", mapping.Setup, `{"tickets": {"status": {"new": "open", "hold": "pending", "solved": "closed"}, "priority": {"urgent": "high", "low": "normal"}}}`, []string{"status", "priority"}},
	} {
		// An example with a batch handler runs twice: as ferry runs it,
		// and through its record handler alone.
		for _, batches := range []bool{true, false} {
			in, err := transform.NewInstanceOf(bc.setup, json.RawMessage(bc.config), nil)
			if err != nil {
				b.Fatal(err)
			}
			name := bc.name
			if in.SetBatchHandler(batches) {
				name += map[bool]string{true: "/batch-handler", false: "/record-handler"}[batches]
			} else if !batches {
				continue
			}
			b.Run(name, func(b *testing.B) {
				const rows = 4096
				batch := columnarTickets(b, rows, bc.cols...)
				for b.Loop() {
					if reply := in.Transform(transform.FormatColumnar, batch); string(reply[:4]) != columnar.ReplyMagic {
						b.Fatalf("reply %.200q", reply)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/record")
			})
		}
	}
}

// must returns v, panicking when ok is false.
func must[T any](v T, ok bool) T {
	if !ok {
		panic("transform: no such column")
	}
	return v
}
