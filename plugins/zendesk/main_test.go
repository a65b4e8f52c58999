package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/ferryhq/ferry/plugins/zendesk/connector"
	"github.com/ferryhq/ferry/plugins/zendesk/zendesktest"
	sourcev1 "github.com/ferryhq/ferry/sdk/proto/source/v1"
	"github.com/ferryhq/ferry/sdk/schema"
	"github.com/ferryhq/ferry/sdk/source"
)

// TestPluginBinary builds ferry-source-zendesk and drives it as the host
// does: a go-plugin subprocess over gRPC, reading an emulated help desk.
func TestPluginBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the plugin binary")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool on PATH to build the plugin with")
	}
	bin := filepath.Join(t.TempDir(), "ferry-source-zendesk")
	build := exec.CommandContext(t.Context(), goTool, "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	hd := zendesktest.Generate(zendesktest.GenerateOptions{Tickets: 120, End: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)})
	srv := zendesktest.NewServer(hd, zendesktest.ServerOptions{})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	email, token := srv.Credentials()
	// Every option on; the emulator has no rate limits, so the connector
	// need not keep to Zendesk's ten exports a minute.
	config, _ := json.Marshal(connector.Config{BaseURL: ts.URL, Email: email, Token: token, PageSize: 50,
		TicketEvents: true, HelpCenter: true, IncrementalPerMinute: 1000})

	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  source.Handshake(),
		VersionedPlugins: source.PluginSets(nil),
		Cmd:              exec.Command(bin),
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		Logger:           hclog.New(&hclog.LoggerOptions{Name: "host", Output: os.Stderr, Level: hclog.Warn}),
		GRPCDialOptions:  []grpc.DialOption{grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(source.MaxMessageBytes))},
	})
	t.Cleanup(client.Kill)
	rpc, err := client.Client()
	if err != nil {
		t.Fatalf("start the plugin: %v", err)
	}
	raw, err := rpc.Dispense(source.PluginName)
	if err != nil {
		t.Fatalf("dispense: %v", err)
	}
	sc, ok := raw.(sourcev1.SourceClient)
	if !ok {
		t.Fatalf("dispensed a %T, not a SourceClient", raw)
	}
	ctx := t.Context()

	spec, err := sc.Spec(ctx, &sourcev1.SpecRequest{})
	if err != nil || spec.Name != connector.Name || spec.Version != connector.Version || !json.Valid([]byte(spec.ConfigSchemaJson)) {
		t.Fatalf("Spec = %v, %v", spec, err)
	}

	check, err := sc.Check(ctx, &sourcev1.CheckRequest{ConfigJson: config})
	if err != nil || !check.Ok {
		t.Fatalf("Check = %v, %v", check, err)
	}
	bad, _ := json.Marshal(connector.Config{BaseURL: ts.URL, Email: email, Token: "not-the-token"})
	check, err = sc.Check(ctx, &sourcev1.CheckRequest{ConfigJson: bad})
	if err != nil || check.Ok || check.Message == "" || bytes.Contains([]byte(check.Message), []byte("not-the-token")) {
		t.Fatalf("Check with a wrong token = %v, %v", check, err)
	}

	disc, err := sc.Discover(ctx, &sourcev1.DiscoverRequest{ConfigJson: config})
	if err != nil {
		t.Fatalf("Discover: %v", err)
	}
	var names []string
	for _, s := range disc.Streams {
		names = append(names, s.Name)
		if s.Name == schema.Comments && !slices.Equal(s.Emits, []string{schema.Attachments, schema.TicketEvents}) {
			t.Errorf("comments emit %v", s.Emits)
		}
		if _, err := ipc.NewReader(bytes.NewReader(s.ArrowSchema)); err != nil {
			t.Errorf("stream %s's schema does not decode: %v", s.Name, err)
		}
	}
	if want := []string{schema.Users, schema.Organizations, schema.Groups, schema.TicketFields, schema.Tickets,
		schema.KBCategories, schema.KBArticles, schema.Comments}; !slices.Equal(names, want) {
		t.Errorf("Discover: streams %v, want %v", names, want)
	}

	stream, err := sc.Read(ctx, &sourcev1.ReadRequest{ConfigJson: config})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	rows := map[string]int64{}
	checkpoints := map[string]int{}
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		switch m := msg.Message.(type) {
		case *sourcev1.ReadMessage_Batch:
			n := countRows(t, m.Batch.ArrowIpc)
			if n != m.Batch.Rows {
				t.Errorf("a %s batch says %d rows and holds %d", m.Batch.Stream, m.Batch.Rows, n)
			}
			rows[m.Batch.Stream] += n
		case *sourcev1.ReadMessage_Checkpoint:
			if len(m.Checkpoint.Cursor) > 0 {
				checkpoints[m.Checkpoint.Stream]++
			}
		case *sourcev1.ReadMessage_RecordError:
			t.Errorf("record error: %v", m.RecordError)
		}
	}
	var events int64
	for _, tk := range hd.Tickets {
		for _, a := range tk.Audits {
			for _, ev := range a.Events {
				if ev.Type == zendesktest.EventCreate || ev.Type == zendesktest.EventChange {
					events++
				}
			}
		}
	}
	hc := hd.HelpCenter
	want := map[string]int64{
		schema.Users: int64(len(hd.Users)), schema.Organizations: int64(len(hd.Organizations)), schema.Groups: int64(len(hd.Groups)),
		schema.TicketFields: int64(len(hd.TicketFields)), schema.Tickets: int64(len(hd.Tickets)),
		schema.Comments: int64(hd.CommentCount()), schema.Attachments: int64(hd.AttachmentCount() + hd.ArticleAttachmentCount()),
		schema.TicketEvents: events, schema.KBCategories: int64(len(hc.Categories) + len(hc.Sections)), schema.KBArticles: int64(len(hc.Articles)),
	}
	for stream, n := range want {
		if rows[stream] != n {
			t.Errorf("%s: %d rows, want %d", stream, rows[stream], n)
		}
	}
	// 120 tickets, 68 users and their updates, 50 a page: each page
	// committed with its cursor; the articles, listed newest first, once.
	wantPages := (hd.TicketEventCount() + 49) / 50
	if checkpoints[schema.Tickets] != 3 || checkpoints[schema.Users] != 2 || checkpoints[schema.KBArticles] != 1 ||
		checkpoints[schema.Comments] < wantPages {
		t.Errorf("cursor checkpoints %v, want 3 for tickets, 2 for users, 1 for articles and %d or more for comments", checkpoints, wantPages)
	}
}

func countRows(t *testing.T, data []byte) int64 {
	t.Helper()
	rdr, err := ipc.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("decode batch: %v", err)
	}
	defer rdr.Release()
	var n int64
	for rdr.Next() {
		n += rdr.RecordBatch().NumRows()
	}
	if err := rdr.Err(); err != nil {
		t.Fatalf("decode batch: %v", err)
	}
	return n
}
