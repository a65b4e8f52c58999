// Package sourcetest is the conformance kit for ferry source connectors: it
// runs a connector through the real plugin protocol (gRPC, in-process) and
// checks what every connector must do, so a connector's own tests only add
// what is particular to its source.
//
//	func TestConformance(t *testing.T) {
//		srv := httptest.NewServer(mytest.NewServer(mytest.Generate(...)))
//		defer srv.Close()
//		sourcetest.Run(t, connector.New(), config(srv.URL), sourcetest.Options{})
//	}
package sourcetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/ipc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"

	sourcev1 "github.com/ferryhq/ferry/sdk/proto/source/v1"
	"github.com/ferryhq/ferry/sdk/schema"
	"github.com/ferryhq/ferry/sdk/source"
)

// Client serves c over an in-memory gRPC connection, as a plugin process
// would, and returns a client of it. The server stops when the test ends.
func Client(t testing.TB, c source.Connector, limits source.Limits) sourcev1.SourceClient {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	srv := grpc.NewServer(grpc.MaxRecvMsgSize(source.MaxMessageBytes), grpc.MaxSendMsgSize(source.MaxMessageBytes))
	sourcev1.RegisterSourceServer(srv, source.NewServer(c, limits))
	go srv.Serve(lis)
	conn, err := grpc.NewClient("passthrough:///sourcetest",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(source.MaxMessageBytes)))
	if err != nil {
		t.Fatalf("connect to the in-memory server: %v", err)
	}
	t.Cleanup(func() {
		conn.Close()
		srv.Stop()
	})
	return sourcev1.NewSourceClient(conn)
}

// Message is one message of a read, decoded.
type Message struct {
	// Kind is batch, checkpoint, record_error, record_skipped, log or progress.
	Kind   string
	Stream string
	// Records of a batch.
	Records []schema.Record
	// Cursor of a checkpoint.
	Cursor []byte
	// SourceID and Reason of a record error or skip; Reason is a log's text.
	SourceID, Reason string
	// Done and Total of a progress report.
	Done, Total int64
}

// Result is what a read brought.
type Result struct {
	// Messages in the order they came.
	Messages []Message
	// Err is the error the read ended with, if any.
	Err error
}

// Records returns every record of a canonical stream, in arrival order.
func (r *Result) Records(stream string) []schema.Record {
	var out []schema.Record
	for _, m := range r.Messages {
		if m.Kind == "batch" && m.Stream == stream {
			out = append(out, m.Records...)
		}
	}
	return out
}

// Outcomes returns the record errors (kind record_error) or skips (kind
// record_skipped) of a stream.
func (r *Result) Outcomes(kind, stream string) []Message {
	var out []Message
	for _, m := range r.Messages {
		if m.Kind == kind && m.Stream == stream {
			out = append(out, m)
		}
	}
	return out
}

// Checkpoints returns the cursors checkpointed for a stream, in order
// (an empty cursor commits without moving the stream's cursor).
func (r *Result) Checkpoints(stream string) [][]byte {
	var out [][]byte
	for _, m := range r.Messages {
		if m.Kind == "checkpoint" && m.Stream == stream {
			out = append(out, m.Cursor)
		}
	}
	return out
}

// Read reads streams (none: all) from cursors through client. Batches are
// decoded into records; a batch that does not decode fails the test.
func Read(t testing.TB, client sourcev1.SourceClient, config json.RawMessage, streams []string, cursors map[string][]byte) *Result {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res := &Result{}
	st, err := client.Read(ctx, &sourcev1.ReadRequest{ConfigJson: config, Streams: streams, Cursors: cursors})
	if err != nil {
		res.Err = err
		return res
	}
	for {
		m, err := st.Recv()
		if errors.Is(err, io.EOF) {
			return res
		}
		if err != nil {
			res.Err = err
			return res
		}
		res.Messages = append(res.Messages, decode(t, m))
	}
}

func decode(t testing.TB, m *sourcev1.ReadMessage) Message {
	t.Helper()
	switch msg := m.GetMessage().(type) {
	case *sourcev1.ReadMessage_Batch:
		b := msg.Batch
		out := Message{Kind: "batch", Stream: b.GetStream()}
		rdr, err := ipc.NewReader(bytes.NewReader(b.GetArrowIpc()))
		if err != nil {
			t.Fatalf("a %s batch is not an Arrow IPC stream: %v", b.GetStream(), err)
		}
		defer rdr.Release()
		want, err := schema.Schema(b.GetStream())
		if err != nil {
			t.Fatalf("a batch of stream %q: %v", b.GetStream(), err)
		}
		if !rdr.Schema().Equal(want) {
			t.Fatalf("a %s batch's schema is not the canonical one:\n got %s\nwant %s", b.GetStream(), rdr.Schema(), want)
		}
		var rows int64
		for rdr.Next() {
			recs, err := schema.Records(b.GetStream(), rdr.RecordBatch())
			if err != nil {
				t.Fatal(err)
			}
			rows += int64(len(recs))
			out.Records = append(out.Records, recs...)
		}
		if err := rdr.Err(); err != nil {
			t.Fatalf("a %s batch does not decode: %v", b.GetStream(), err)
		}
		if rows != b.GetRows() {
			t.Fatalf("a %s batch says %d rows and holds %d", b.GetStream(), b.GetRows(), rows)
		}
		return out
	case *sourcev1.ReadMessage_Checkpoint:
		return Message{Kind: "checkpoint", Stream: msg.Checkpoint.GetStream(), Cursor: msg.Checkpoint.GetCursor()}
	case *sourcev1.ReadMessage_RecordError:
		e := msg.RecordError
		return Message{Kind: "record_error", Stream: e.GetStream(), SourceID: e.GetSourceId(), Reason: e.GetReason()}
	case *sourcev1.ReadMessage_RecordSkipped:
		e := msg.RecordSkipped
		return Message{Kind: "record_skipped", Stream: e.GetStream(), SourceID: e.GetSourceId(), Reason: e.GetReason()}
	case *sourcev1.ReadMessage_Log:
		return Message{Kind: "log", Stream: msg.Log.GetStream(), Reason: msg.Log.GetMessage()}
	case *sourcev1.ReadMessage_Progress:
		p := msg.Progress
		return Message{Kind: "progress", Stream: p.GetStream(), Done: p.GetDone(), Total: p.GetTotal()}
	}
	t.Fatalf("unknown message %v", m)
	return Message{}
}
