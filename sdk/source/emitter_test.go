package source

import (
	"bytes"
	"context"
	"strings"
	"testing"

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

func TestEmitterTurnsAnOversizedRecordIntoARecordError(t *testing.T) {
	var c collect
	em := newEmitter(schema.Comments, Limits{MaxRows: 100, MaxBytes: 4096}, c.send)
	defer em.release()
	ctx := context.Background()
	if err := em.Emit(ctx, &schema.Comment{ID: "big", TicketID: "1", BodyHTML: strings.Repeat("y", 10_000)}); err != nil {
		t.Fatal(err)
	}
	if err := em.Emit(ctx, &schema.Comment{ID: "small", TicketID: "1"}); err != nil {
		t.Fatal(err)
	}
	if err := em.Checkpoint(ctx, nil); err != nil {
		t.Fatal(err)
	}
	re := c.msgs[0].GetRecordError()
	if re == nil || re.GetSourceId() != "big" || !strings.Contains(re.GetReason(), "batch limit") {
		t.Fatalf("first message = %v, want a record error for the big record", c.msgs[0])
	}
	if b := c.msgs[1].GetBatch(); b == nil || b.GetRows() != 1 {
		t.Errorf("the small record must still be sent: %v", c.msgs[1])
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

func TestEmitterLoggerSendsLogMessages(t *testing.T) {
	var c collect
	em := newEmitter(schema.Users, DefaultLimits(), c.send)
	em.Logger().Warn("slow page", "page", 3)
	l := c.msgs[0].GetLog()
	if l == nil || l.GetLevel() != sourcev1.Log_LEVEL_WARN || l.GetMessage() != "slow page page=3" || l.GetStream() != schema.Users {
		t.Errorf("log message = %v", c.msgs[0])
	}
}
