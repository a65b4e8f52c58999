package stage

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/ferryhq/ferry/sdk/schema"
)

// overlayBatch builds an overlay batch: id, subject, _kind, _transforms.
func overlayBatch(rows [][4]string) arrow.RecordBatch {
	mem := memory.NewGoAllocator()
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.BinaryTypes.String},
		{Name: "subject", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: overlayKind, Type: arrow.BinaryTypes.String},
		{Name: overlayTransforms, Type: arrow.ListOf(arrow.BinaryTypes.String), Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(mem, sc)
	defer b.Release()
	for _, r := range rows {
		b.Field(0).(*array.StringBuilder).Append(r[0])
		if r[1] == "" {
			b.Field(1).AppendNull()
		} else {
			b.Field(1).(*array.StringBuilder).Append(r[1])
		}
		b.Field(2).(*array.StringBuilder).Append(r[2])
		lb := b.Field(3).(*array.ListBuilder)
		lb.Append(true)
		if r[3] != "" {
			lb.ValueBuilder().(*array.StringBuilder).Append(r[3])
		}
	}
	return b.NewRecordBatch()
}

func TestOverlayAndLoadView(t *testing.T) {
	ctx := t.Context()
	w := openTest(t)
	stageTickets(t, w, 4) // t1..t4, subject empty
	rec := overlayBatch([][4]string{
		{"t1", "[ZD-1] changed", OverlayChanged, "sha-a"},
		{"t2", "", OverlayDropped, ""},
		{"t3", "", OverlayFailed, ""},
		{"t9", "a new ticket", OverlayNew, "sha-b"},
	})
	defer rec.Release()
	if err := w.ReplaceOverlay(ctx, schema.Tickets, 3, func(put func(arrow.RecordBatch) error) error { return put(rec) }); err != nil {
		t.Fatal(err)
	}
	if err := w.CreateLoadView(ctx, schema.Tickets, []string{"subject"}, false); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	err := w.Records(ctx, Select{Stream: schema.Tickets, Table: LoadView(schema.Tickets)}, func(r schema.Record) error {
		got[r.SourceID()] = r.(*schema.Ticket).Subject + "|" + r.(*schema.Ticket).RequesterID
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"t1": "[ZD-1] changed|u1", "t4": "|u4", "t9": "a new ticket|"}
	if len(got) != len(want) {
		t.Errorf("load view = %v, want %v", got, want)
	}
	for id, v := range want {
		if got[id] != v {
			t.Errorf("%s = %q, want %q", id, got[id], v)
		}
	}
	// A second run replaces the overlay whole.
	rec2 := overlayBatch([][4]string{{"t4", "only t4", OverlayChanged, "sha-c"}})
	defer rec2.Release()
	if err := w.ReplaceOverlay(ctx, schema.Tickets, 4, func(put func(arrow.RecordBatch) error) error { return put(rec2) }); err != nil {
		t.Fatal(err)
	}
	if err := w.CreateLoadView(ctx, schema.Tickets, []string{"subject"}, false); err != nil {
		t.Fatal(err)
	}
	if n := count(t, w, "SELECT count(*) FROM load_tickets"); n != 4 {
		t.Errorf("load view has %d tickets after the second run, want the 4 staged", n)
	}
	if n := count(t, w, "SELECT count(*) FROM transformed_tickets WHERE _transforms[1] = 'sha-c' AND _run_id = 4"); n != 1 {
		t.Error("the overlay does not record the module that changed the row")
	}
}

// An overlay is written through one statement per run of batches of one
// schema: batches of several schemas, in turns, all arrive; a batch the
// table refuses fails the whole overlay, and the one before stays.
func TestOverlayStreams(t *testing.T) {
	ctx := t.Context()
	w := openTest(t)
	stageTickets(t, w, 4)
	a := overlayBatch([][4]string{{"t1", "one", OverlayChanged, "sha-a"}, {"t2", "two", OverlayChanged, "sha-a"}})
	defer a.Release()
	b := overlayBatch([][4]string{{"t3", "three", OverlayChanged, "sha-a"}})
	defer b.Release()
	// Another schema: no subject.
	mem := memory.NewGoAllocator()
	nb := array.NewRecordBuilder(mem, arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.BinaryTypes.String},
		{Name: overlayKind, Type: arrow.BinaryTypes.String},
	}, nil))
	nb.Field(0).(*array.StringBuilder).Append("t4")
	nb.Field(1).(*array.StringBuilder).Append(OverlayDropped)
	c := nb.NewRecordBatch()
	nb.Release()
	defer c.Release()
	err := w.ReplaceOverlay(ctx, schema.Tickets, 3, func(put func(arrow.RecordBatch) error) error {
		for _, r := range []arrow.RecordBatch{a, b, c, a} {
			if err := put(r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := count(t, w, "SELECT count(*) FROM transformed_tickets"); n != 6 {
		t.Errorf("overlay has %d rows, want 6", n)
	}
	if n := count(t, w, "SELECT count(*) FROM transformed_tickets WHERE id = 't4' AND _kind = 'dropped' AND subject IS NULL"); n != 1 {
		t.Error("the batch of the other schema is not in the overlay")
	}

	// A kind is NOT NULL: a batch with a null one fails the overlay.
	kb := array.NewRecordBuilder(mem, c.Schema())
	kb.Field(0).(*array.StringBuilder).Append("t1")
	kb.Field(1).AppendNull()
	bad := kb.NewRecordBatch()
	kb.Release()
	defer bad.Release()
	err = w.ReplaceOverlay(ctx, schema.Tickets, 4, func(put func(arrow.RecordBatch) error) error {
		for _, r := range []arrow.RecordBatch{a, bad, b} {
			if err := put(r); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		t.Fatal("an overlay with a null kind was written")
	}
	if n := count(t, w, "SELECT count(*) FROM transformed_tickets WHERE _run_id = 3"); n != 6 {
		t.Errorf("after the failed run the overlay has %d rows of the run before, want 6", n)
	}
}
