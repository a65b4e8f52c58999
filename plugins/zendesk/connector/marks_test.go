package connector

import (
	"strconv"
	"testing"
	"time"

	"github.com/ferryhq/ferry/plugins/zendesk/zendesktest"
	sourcev1 "github.com/ferryhq/ferry/sdk/proto/source/v1"
	"github.com/ferryhq/ferry/sdk/schema"
	"github.com/ferryhq/ferry/sdk/source"
)

// TestCommentsMarkWhatIsComplete reads the comments in small pages and
// holds the stream to its marks: at each checkpoint that carries one,
// every ticket last updated before the mark has had all its comments sent
// (the promise the host loads tickets on while the read goes on), and the
// marks never go back.
func TestCommentsMarkWhatIsComplete(t *testing.T) {
	z := startZendesk(t, zendesktest.GenerateOptions{Seed: 5, Tickets: 30, EndUsers: 12}, zendesktest.ServerOptions{})
	want := map[string]int{}
	updated := map[string]time.Time{}
	for _, tk := range z.hd.Tickets {
		id := strconv.FormatInt(tk.ID, 10)
		want[id], updated[id] = len(tk.Comments), tk.UpdatedAt
	}
	stream := &captureStream{ctx: t.Context()}
	req := &sourcev1.ReadRequest{ConfigJson: z.config(t, 7), Streams: []string{schema.Comments}}
	if err := source.NewServer(testConnector(), source.DefaultLimits()).Read(req, stream); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	var last time.Time
	marks := 0
	for _, m := range stream.msgs {
		switch m := m.Message.(type) {
		case *sourcev1.ReadMessage_Batch:
			if m.Batch.Stream != schema.Comments {
				continue
			}
			for _, row := range decodeBatch(t, m.Batch.ArrowIpc) {
				got[row["ticket_id"].(string)]++
			}
		case *sourcev1.ReadMessage_Checkpoint:
			if m.Checkpoint.GetCompleteThrough() == nil {
				continue
			}
			mark := m.Checkpoint.GetCompleteThrough().AsTime()
			if mark.Before(last) {
				t.Errorf("mark %s after mark %s: marks must not go back", mark, last)
			}
			last = mark
			marks++
			for id, u := range updated {
				if u.Before(mark) && got[id] != want[id] {
					t.Errorf("at mark %s, ticket %s (updated %s) has %d of its %d comments sent", mark, id, u, got[id], want[id])
				}
			}
		}
	}
	if marks < 3 {
		t.Errorf("%d marks in a read of many pages, want one a page", marks)
	}
	for id, n := range want {
		if got[id] != n {
			t.Errorf("ticket %s: %d comments read, want %d", id, got[id], n)
		}
	}
}
