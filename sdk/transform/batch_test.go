package transform_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/ferryhq/ferry/sdk/transform"
	"github.com/ferryhq/ferry/sdk/transform/columnar"
)

// row is a ticket of a test batch, and what became of it: subject and
// status as strings, nil for null.
type row struct {
	id              string
	subject, status any
	outcome         columnar.Outcome
	reason          string
}

// runBatch runs rows (id, subject, status, both written) through an
// instance of setup in the columnar format and returns them as the reply
// leaves them.
func runBatch(t *testing.T, in *transform.Instance, rows []row) []row {
	t.Helper()
	cols := make([]columnar.Column, 3)
	for k, name := range []string{"id", "subject", "status"} {
		b := columnar.NewBuilder(columnar.String)
		for _, r := range rows {
			v := map[string]any{"id": r.id, "subject": r.subject, "status": r.status}[name]
			if v == nil {
				b.AppendNull()
			} else {
				b.AppendString(v.(string))
			}
		}
		cols[k] = b.Column(name)
		cols[k].Written = name != "id"
	}
	p, err := columnar.PlanBatch("tickets", cols, nil)
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, p.Size())
	p.Put(data)
	reply, err := columnar.ReadReply(in.Transform(transform.FormatColumnar, data), cols, len(rows))
	if err != nil {
		t.Fatal(err)
	}
	out := make([]row, len(rows))
	for i, r := range rows {
		out[i] = row{id: r.id, subject: r.subject, status: r.status, outcome: reply.Outcomes[i], reason: reply.Reason(i)}
		for _, c := range reply.Columns {
			if !c.IsSet(i) {
				continue
			}
			var v any
			if !c.IsNull(i) {
				v = c.Str(i)
			}
			if c.Index == 1 {
				out[i].subject = v
			} else {
				out[i].status = v
			}
		}
	}
	return out
}

// batchSetup declares subject and status of tickets, read and written, and
// registers bh beside the record handler h.
func batchSetup(h transform.Handler, bh transform.BatchHandler) transform.Setup {
	return func(ctx *transform.Context) (transform.Handler, error) {
		ctx.Declare("tickets", []string{"subject", "status"}, []string{"subject", "status"})
		ctx.HandleBatches(bh)
		return h, nil
	}
}

// upper is a record handler: the subject in capitals, and a ticket whose
// status is "bad" failed.
func upper(calls *int) transform.Handler {
	return func(_ *transform.Context, r *transform.Record) transform.Result {
		*calls++
		if r.String("status") == "bad" {
			return transform.Fail("bad status")
		}
		r.SetString("subject", strings.ToUpper(r.String("subject")))
		return transform.Keep(r)
	}
}

func TestBatchHandler(t *testing.T) {
	rows := []row{
		{id: "1", subject: "a", status: "open"},
		{id: "2", subject: "b", status: "new"},
		{id: "3", subject: "c", status: "open"},
		{id: "4", subject: "D", status: "open"},
		{id: "5", subject: nil, status: "open"},
		{id: "6", subject: "f", status: "bad"},
	}
	// byRecords is what the record handler alone makes of rows.
	byRecords := []row{
		{id: "1", subject: "A", status: "open", outcome: columnar.KeepChanged},
		{id: "2", subject: "B", status: "new", outcome: columnar.KeepChanged},
		{id: "3", subject: "C", status: "open", outcome: columnar.KeepChanged},
		{id: "4", subject: "D", status: "open", outcome: columnar.Keep},
		{id: "5", subject: nil, status: "open", outcome: columnar.Keep},
		{id: "6", subject: "f", status: "bad", outcome: columnar.Error, reason: "bad status"},
	}
	var calls int
	var logs []string
	log := func(_ slog.Level, msg string) { logs = append(logs, msg) }
	tests := []struct {
		name  string
		batch transform.BatchHandler
		want  []row
		calls int // of the record handler
		log   string
	}{
		{
			name: "sets, keeps and passes",
			batch: func(_ *transform.Context, b *transform.Batch) {
				subjects, _ := b.Strings("subject")
				statuses, _ := b.Strings("status")
				setSubject, _ := b.Setter("subject")
				setStatus, _ := b.Setter("status")
				for i := range b.Len() {
					switch {
					case statuses.At(i) == "bad", statuses.At(i) == "new":
						b.Pass(i) // the record handler capitalizes 2 and fails 6
					default:
						setSubject.SetString(i, strings.ToUpper(subjects.At(i)))
					}
				}
				setStatus.SetNull(2)           // changed: open to null
				setStatus.SetString(3, "open") // the same: no change
				setStatus.SetString(5, "gone") // a passed row: forgotten
			},
			want: []row{
				{id: "1", subject: "A", status: "open", outcome: columnar.KeepChanged},
				{id: "2", subject: "B", status: "new", outcome: columnar.KeepChanged},
				{id: "3", subject: "C", status: nil, outcome: columnar.KeepChanged},
				{id: "4", subject: "D", status: "open", outcome: columnar.Keep},
				{id: "5", subject: nil, status: "open", outcome: columnar.Keep},
				{id: "6", subject: "f", status: "bad", outcome: columnar.Error, reason: "bad status"},
			},
			calls: 2,
		},
		{
			name: "rows out of order",
			batch: func(_ *transform.Context, b *transform.Batch) {
				set, _ := b.Setter("subject")
				set.SetString(2, "x")
				set.SetString(1, "y")
			},
			want:  byRecords,
			calls: 6,
			log:   "row 1 set after row 2",
		},
		{
			name: "pass all",
			batch: func(_ *transform.Context, b *transform.Batch) {
				set, _ := b.Setter("subject")
				set.SetString(0, "forgotten")
				b.PassAll()
			},
			want:  byRecords,
			calls: 6,
		},
		{
			name: "emit",
			batch: func(ctx *transform.Context, b *transform.Batch) {
				ctx.Emit("comments", transform.NewRecord())
			},
			want:  byRecords,
			calls: 6,
			log:   "Emit outside a Handler",
		},
		{
			name: "columns it does not have",
			batch: func(_ *transform.Context, b *transform.Batch) {
				_, readsOther := b.Strings("priority")
				_, setsID := b.Setter("id")
				if readsOther || setsID {
					panic(fmt.Sprintf("Strings(priority) %v, Setter(id) %v", readsOther, setsID))
				}
			},
			want: []row{
				{id: "1", subject: "a", status: "open", outcome: columnar.Keep},
				{id: "2", subject: "b", status: "new", outcome: columnar.Keep},
				{id: "3", subject: "c", status: "open", outcome: columnar.Keep},
				{id: "4", subject: "D", status: "open", outcome: columnar.Keep},
				{id: "5", subject: nil, status: "open", outcome: columnar.Keep},
				{id: "6", subject: "f", status: "bad", outcome: columnar.Keep},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls, logs = 0, nil
			in, err := transform.NewInstanceOf(batchSetup(upper(&calls), tt.batch), nil, log)
			if err != nil {
				t.Fatal(err)
			}
			// Twice: the second batch reuses the first one's memory.
			for range 2 {
				calls = 0
				got := runBatch(t, in, rows)
				for i := range tt.want {
					if got[i] != tt.want[i] {
						t.Errorf("row %d = %+v, want %+v", i, got[i], tt.want[i])
					}
				}
				if calls != tt.calls {
					t.Errorf("record handler called %d times, want %d", calls, tt.calls)
				}
			}
			if tt.log == "" && len(logs) > 0 || tt.log != "" && (len(logs) != 2 || !strings.Contains(logs[0], tt.log)) {
				t.Errorf("logs %q, want one a batch containing %q", logs, tt.log)
			}
		})
	}
}

// TestBatchHandlerOff checks that SetBatchHandler turns the batch handler
// off and on, and that JSON batches go to the record handler.
func TestBatchHandlerOff(t *testing.T) {
	var calls int
	setX := func(_ *transform.Context, b *transform.Batch) {
		set, _ := b.Setter("subject")
		for i := range b.Len() {
			set.SetString(i, "x")
		}
	}
	in, err := transform.NewInstanceOf(batchSetup(upper(&calls), setX), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	rows := []row{{id: "1", subject: "a", status: "open"}}
	for _, on := range []bool{false, true} {
		if !in.SetBatchHandler(on) {
			t.Fatal("SetBatchHandler: the transform has no batch handler")
		}
		want := map[bool]string{false: "A", true: "x"}[on]
		if got := runBatch(t, in, rows); got[0].subject != want {
			t.Errorf("batch handler on %v: subject %v, want %s", on, got[0].subject, want)
		}
	}
	reply := in.Transform(transform.FormatJSON, []byte(`{"stream":"tickets","records":[{"id":"1","subject":"a"}]}`))
	var res struct {
		Results []struct{ Keep json.RawMessage }
	}
	if err := json.Unmarshal(reply, &res); err != nil || len(res.Results) != 1 || !strings.Contains(string(res.Results[0].Keep), `"subject":"A"`) {
		t.Errorf("JSON batch: %s, want the record handler's subject A", reply)
	}
	plain, err := transform.NewInstanceOf(func(*transform.Context) (transform.Handler, error) { return upper(&calls), nil }, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if plain.SetBatchHandler(true) {
		t.Error("SetBatchHandler on a transform without a batch handler reported one")
	}
}

func TestHandleBatchesOutsideSetup(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("HandleBatches outside a Setup did not panic")
		}
	}()
	var ctx transform.Context
	ctx.HandleBatches(func(*transform.Context, *transform.Batch) {})
}
