package connector

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"google.golang.org/grpc"

	"github.com/ferryhq/ferry/plugins/zendesk/zendesktest"
	sourcev1 "github.com/ferryhq/ferry/sdk/proto/source/v1"
	"github.com/ferryhq/ferry/sdk/source"
)

// testEnd bounds the generated help desks' timestamps: in the past, so the
// exports' one-minute horizon hides nothing.
func testEnd() time.Time { return time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC) }

// fastPolicy retries as readPolicy does, without the waiting.
func fastPolicy() retryPolicy {
	return retryPolicy{attempts: 4, throttled: 10, backoff: time.Millisecond, maxBackoff: 10 * time.Millisecond, maxWait: 5 * time.Second}
}

// testWindow is the rate-limit window tests give the connector: the
// emulators here count over a second or not at all, and a minute would
// hold the incremental exports back for nothing.
const testWindow = 20 * time.Millisecond

func testConnector() *Connector {
	c := New()
	c.retry, c.check = fastPolicy(), fastPolicy()
	c.window = testWindow
	return c
}

// zendesk is a generated help desk served on loopback.
type zendesk struct {
	hd  *zendesktest.HelpDesk
	srv *zendesktest.Server
	ts  *httptest.Server
}

func startZendesk(t *testing.T, gen zendesktest.GenerateOptions, opts zendesktest.ServerOptions) *zendesk {
	t.Helper()
	if gen.End.IsZero() {
		gen.End = testEnd()
	}
	hd := zendesktest.Generate(gen)
	srv := zendesktest.NewServer(hd, opts)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &zendesk{hd: hd, srv: srv, ts: ts}
}

// config is a connector config for the emulator's credentials, changed
// by opts.
func (z *zendesk) config(t *testing.T, pageSize int, opts ...func(*Config)) json.RawMessage {
	t.Helper()
	email, token := z.srv.Credentials()
	cfg := Config{BaseURL: z.ts.URL, Email: email, Token: token, PageSize: pageSize}
	for _, o := range opts {
		o(&cfg)
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// everything turns every option on.
func everything(c *Config) { c.TicketEvents, c.HelpCenter = true, true }

// withOAuth signs in with the emulator's OAuth access token instead of an
// API token.
func (z *zendesk) withOAuth(c *Config) {
	c.Email, c.Token, c.OAuthToken = "", "", z.srv.OAuthToken()
}

// readResult is everything a Read sent, decoded.
type readResult struct {
	rows        map[string][]map[string]any // by stream, in order
	checkpoints []*sourcev1.Checkpoint
	errors      []*sourcev1.RecordError
	skips       []*sourcev1.RecordSkipped
	progress    []*sourcev1.Progress
	logs        []*sourcev1.Log
}

// captureStream is the server side of a Read call, in memory.
type captureStream struct {
	grpc.ServerStream
	ctx  context.Context
	mu   sync.Mutex
	msgs []*sourcev1.ReadMessage
}

func (s *captureStream) Context() context.Context { return s.ctx }

func (s *captureStream) Send(m *sourcev1.ReadMessage) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, m)
	return nil
}

// read runs a Read through the SDK's server, as the host would over gRPC,
// and decodes what it sent.
func read(t *testing.T, c *Connector, cfg json.RawMessage, streams []string, cursors map[string][]byte) (*readResult, error) {
	t.Helper()
	stream := &captureStream{ctx: t.Context()}
	err := source.NewServer(c, source.DefaultLimits()).Read(&sourcev1.ReadRequest{ConfigJson: cfg, Streams: streams, Cursors: cursors}, stream)
	res := &readResult{rows: map[string][]map[string]any{}}
	for _, m := range stream.msgs {
		switch m := m.Message.(type) {
		case *sourcev1.ReadMessage_Batch:
			res.rows[m.Batch.Stream] = append(res.rows[m.Batch.Stream], decodeBatch(t, m.Batch.ArrowIpc)...)
		case *sourcev1.ReadMessage_Checkpoint:
			res.checkpoints = append(res.checkpoints, m.Checkpoint)
		case *sourcev1.ReadMessage_RecordError:
			res.errors = append(res.errors, m.RecordError)
		case *sourcev1.ReadMessage_RecordSkipped:
			res.skips = append(res.skips, m.RecordSkipped)
		case *sourcev1.ReadMessage_Progress:
			res.progress = append(res.progress, m.Progress)
		case *sourcev1.ReadMessage_Log:
			res.logs = append(res.logs, m.Log)
		}
	}
	return res, err
}

// decodeBatch turns an Arrow IPC batch into rows: strings, bools, int64s,
// []string lists and timestamps as RFC 3339 strings; null as nil.
func decodeBatch(t *testing.T, data []byte) []map[string]any {
	t.Helper()
	rdr, err := ipc.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("decode batch: %v", err)
	}
	defer rdr.Release()
	var rows []map[string]any
	for rdr.Next() {
		rec := rdr.RecordBatch()
		sc := rec.Schema()
		for i := range int(rec.NumRows()) {
			row := map[string]any{}
			for j, col := range rec.Columns() {
				name := sc.Field(j).Name
				if col.IsNull(i) {
					row[name] = nil
					continue
				}
				switch a := col.(type) {
				case *array.String:
					row[name] = strings.Clone(a.Value(i))
				case *array.Boolean:
					row[name] = a.Value(i)
				case *array.Int64:
					row[name] = a.Value(i)
				case *array.Timestamp:
					row[name] = time.UnixMicro(int64(a.Value(i))).UTC().Format(time.RFC3339Nano)
				case *array.List:
					start, end := a.ValueOffsets(i)
					vals := a.ListValues().(*array.String)
					list := []string{}
					for k := start; k < end; k++ {
						list = append(list, strings.Clone(vals.Value(int(k))))
					}
					row[name] = list
				default:
					t.Fatalf("column %s has an unexpected type %T", name, col)
				}
			}
			rows = append(rows, row)
		}
	}
	if err := rdr.Err(); err != nil {
		t.Fatalf("decode batch: %v", err)
	}
	return rows
}

// rowsOf reads a help desk: every stream, from cursors (nil: from the
// beginning), and fails the test on an error.
func rowsOf(t *testing.T, c *Connector, cfg json.RawMessage, cursors map[string][]byte) *readResult {
	t.Helper()
	res, err := read(t, c, cfg, nil, cursors)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// finalCursors are the last cursors a read checkpointed, by stream.
func (r *readResult) finalCursors() map[string][]byte {
	out := map[string][]byte{}
	for _, cp := range r.checkpoints {
		if len(cp.Cursor) > 0 {
			out[cp.Stream] = cp.Cursor
		}
	}
	return out
}

// byID indexes rows by their id column.
func byID(rows []map[string]any) map[string]map[string]any {
	m := make(map[string]map[string]any, len(rows))
	for _, r := range rows {
		m[r["id"].(string)] = r
	}
	return m
}
