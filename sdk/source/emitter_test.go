package source

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/ipc"

	sourcev1 "github.com/ferryhq/ferry/sdk/proto/source/v1"
	"github.com/ferryhq/ferry/sdk/schema"
)

// collect is a sender that keeps what it is sent.
type collect struct{ msgs []*sourcev1.ReadMessage }

func (c *collect) send(m *sourcev1.ReadMessage) error {
	c.msgs = append(c.msgs, m)
	return nil
}

func TestEmitterBoundsBatchesInRowsAndBytes(t *testing.T) {
	ctx := context.Background()
	body := strings.Repeat("x", 1000)
	tests := []struct {
		name        string
		limits      Limits
		records     int
		wantBatches int
	}{
		{"rows", Limits{MaxRows: 10, MaxBytes: 1 << 30}, 25, 3},
		{"bytes", Limits{MaxRows: 1 << 20, MaxBytes: 10_500}, 25, 3}, // ~1,050 bytes a record: 9 per batch
		{"one batch", DefaultLimits(), 25, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c collect
			em := newEmitter(schema.Comments, tt.limits, c.send)
			defer em.release()
			for i := range tt.records {
				if err := em.Emit(ctx, &schema.Comment{ID: strings.Repeat("1", i+1), TicketID: "1", BodyText: body}); err != nil {
					t.Fatal(err)
				}
			}
			if err := em.Checkpoint(ctx, []byte("c1")); err != nil {
				t.Fatal(err)
			}
			rows, batches := 0, 0
			for i, m := range c.msgs {
				switch msg := m.GetMessage().(type) {
				case *sourcev1.ReadMessage_Batch:
					batches++
					r, err := ipc.NewReader(bytes.NewReader(msg.Batch.GetArrowIpc()))
					if err != nil {
						t.Fatal(err)
					}
					for r.Next() {
						rows += int(r.RecordBatch().NumRows())
					}
					r.Release()
					if msg.Batch.GetRows() > int64(tt.limits.MaxRows) {
						t.Errorf("batch of %d rows over the %d limit", msg.Batch.GetRows(), tt.limits.MaxRows)
					}
				case *sourcev1.ReadMessage_Checkpoint:
					if i != len(c.msgs)-1 || string(msg.Checkpoint.GetCursor()) != "c1" {
						t.Errorf("the checkpoint must come last, after every batch")
					}
				}
			}
			if rows != tt.records || batches != tt.wantBatches {
				t.Errorf("%d rows in %d batches, want %d in %d", rows, batches, tt.records, tt.wantBatches)
			}
		})
	}
}

// TestEmitterSendsALargeRecordAlone: a record over the batch bound goes in
// a batch of its own, between the batches of the others; one too big for
// any message becomes a record error, and the rest still go.
func TestEmitterSendsALargeRecordAlone(t *testing.T) {
	var c collect
	em := newEmitter(schema.Comments, Limits{MaxRows: 100, MaxBytes: 4096}, c.send)
	defer em.release()
	ctx := context.Background()
	for _, r := range []*schema.Comment{
		{ID: "small1", TicketID: "1"},
		{ID: "big", TicketID: "1", BodyHTML: strings.Repeat("y", 10_000)},
		{ID: "huge", TicketID: "1", BodyHTML: strings.Repeat("z", MaxMessageBytes)},
		{ID: "small2", TicketID: "1"},
	} {
		if err := em.Emit(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := em.Checkpoint(ctx, nil); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range c.msgs {
		switch {
		case m.GetBatch() != nil:
			got = append(got, fmt.Sprintf("batch of %d", m.GetBatch().GetRows()))
		case m.GetRecordError() != nil:
			re := m.GetRecordError()
			if !strings.Contains(re.GetReason(), "more than the") {
				t.Errorf("reason %q", re.GetReason())
			}
			got = append(got, "error "+re.GetSourceId())
		case m.GetCheckpoint() != nil:
			got = append(got, "checkpoint")
		}
	}
	if want := "batch of 1, batch of 1, error huge, batch of 1, checkpoint"; strings.Join(got, ", ") != want {
		t.Errorf("sent %s, want %s", strings.Join(got, ", "), want)
	}
}

func TestEmitterSplitsEmittedStreams(t *testing.T) {
	var c collect
	em := newEmitter(schema.Tickets, DefaultLimits(), c.send)
	defer em.release()
	ctx := context.Background()
	em.Emit(ctx, &schema.Ticket{ID: "1"})
	em.Emit(ctx, &schema.Comment{ID: "10", TicketID: "1"})
	em.Emit(ctx, &schema.Attachment{ID: "100", CommentID: "10"})
	if err := em.Checkpoint(ctx, []byte("page-1")); err != nil {
		t.Fatal(err)
	}
	var streams []string
	for _, m := range c.msgs {
		if b := m.GetBatch(); b != nil {
			streams = append(streams, b.GetStream())
		}
	}
	if strings.Join(streams, ",") != "tickets,comments,attachments" {
		t.Errorf("batches for %v, want tickets, comments, attachments in emit order", streams)
	}
	if cp := c.msgs[len(c.msgs)-1].GetCheckpoint(); cp.GetStream() != schema.Tickets {
		t.Errorf("checkpoint for %q, want the stream being read", cp.GetStream())
	}
}

// TestEmitterCheckpointThrough: a mark goes with its checkpoint, after the
// batches it covers; a plain checkpoint carries none.
func TestEmitterCheckpointThrough(t *testing.T) {
	var c collect
	em := newEmitter(schema.Comments, DefaultLimits(), c.send)
	defer em.release()
	ctx := context.Background()
	through := time.Date(2024, 3, 1, 10, 20, 30, 0, time.UTC)
	em.Emit(ctx, &schema.Comment{ID: "10", TicketID: "1"})
	if err := em.CheckpointThrough(ctx, []byte("page-1"), through); err != nil {
		t.Fatal(err)
	}
	if err := em.Checkpoint(ctx, []byte("page-2")); err != nil {
		t.Fatal(err)
	}
	if len(c.msgs) != 3 || c.msgs[0].GetBatch() == nil {
		t.Fatalf("sent %v, want a batch and two checkpoints", c.msgs)
	}
	if cp := c.msgs[1].GetCheckpoint(); string(cp.GetCursor()) != "page-1" || !cp.GetCompleteThrough().AsTime().Equal(through) {
		t.Errorf("first checkpoint %v, want page-1 through %s", cp, through)
	}
	if cp := c.msgs[2].GetCheckpoint(); cp.GetCompleteThrough() != nil {
		t.Errorf("a plain checkpoint carries the mark %v", cp.GetCompleteThrough())
	}
}

func TestEmitterLoggerSendsLogMessages(t *testing.T) {
	var c collect
	em := newEmitter(schema.Users, DefaultLimits(), c.send)
	em.Logger().Warn("slow page", "page", 3)
	l := c.msgs[0].GetLog()
	if l == nil || l.GetLevel() != sourcev1.Log_LEVEL_WARN || l.GetMessage() != "slow page page=3" || l.GetStream() != schema.Users {
		t.Errorf("log message = %v", c.msgs[0])
	}
}
