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

	"github.com/ferryhq/ferry/plugins/freshdesk/connector"
	"github.com/ferryhq/ferry/plugins/freshdesk/freshdesktest"
	sourcev1 "github.com/ferryhq/ferry/sdk/proto/source/v1"
	"github.com/ferryhq/ferry/sdk/schema"
	"github.com/ferryhq/ferry/sdk/source"
)

// TestPluginBinary builds ferry-source-freshdesk and drives it as the host
// does: a go-plugin subprocess over gRPC, reading an emulated help desk.
func TestPluginBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the plugin binary")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool on PATH to build the plugin with")
	}
	bin := filepath.Join(t.TempDir(), "ferry-source-freshdesk")
	build := exec.CommandContext(t.Context(), goTool, "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	hd := freshdesktest.Generate(freshdesktest.GenerateOptions{Tickets: 120, End: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)})
	srv := freshdesktest.NewServer(hd, freshdesktest.ServerOptions{})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	config, _ := json.Marshal(connector.Config{BaseURL: ts.URL, APIKey: srv.APIKey(), PageSize: 50})

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
	bad, _ := json.Marshal(connector.Config{BaseURL: ts.URL, APIKey: "not-the-key"})
	check, err = sc.Check(ctx, &sourcev1.CheckRequest{ConfigJson: bad})
	if err != nil || check.Ok || check.Message == "" || bytes.Contains([]byte(check.Message), []byte("not-the-key")) {
		t.Fatalf("Check with a wrong key = %v, %v", check, err)
	}

	disc, err := sc.Discover(ctx, &sourcev1.DiscoverRequest{ConfigJson: config})
	if err != nil {
		t.Fatalf("Discover: %v", err)
	}
	var names []string
	for _, s := range disc.Streams {
		names = append(names, s.Name)
		if s.Name == schema.Tickets && !slices.Equal(s.Emits, []string{schema.Comments, schema.Attachments}) {
			t.Errorf("tickets emit %v", s.Emits)
		}
		if _, err := ipc.NewReader(bytes.NewReader(s.ArrowSchema)); err != nil {
			t.Errorf("stream %s's schema does not decode: %v", s.Name, err)
		}
	}
	want := []string{schema.Users, schema.Organizations, schema.Groups, schema.TicketFields, schema.Tickets, schema.KBCategories, schema.KBArticles}
	if !slices.Equal(names, want) {
		t.Errorf("Discover: streams %v, want %v", names, want)
	}

	stream, err := sc.Read(ctx, &sourcev1.ReadRequest{ConfigJson: config})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	rows := map[string]int64{}
	checkpoints := map[string]int{}
	skipped := 0
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
		case *sourcev1.ReadMessage_RecordSkipped:
			skipped++
		}
	}
	live, comments, attachments := 0, 0, 0
	for _, tk := range hd.Tickets {
		if tk.Live() {
			live++
			comments += 1 + len(tk.Conversations)
			attachments += len(tk.Attachments)
			for _, c := range tk.Conversations {
				attachments += len(c.Attachments)
			}
		}
	}
	wantRows := map[string]int64{
		schema.Users: int64(len(hd.Agents) + len(hd.Contacts)), schema.Organizations: int64(len(hd.Companies)),
		schema.Groups: int64(len(hd.Groups)), schema.TicketFields: int64(len(hd.TicketFields)),
		schema.Tickets: int64(live), schema.Comments: int64(comments), schema.Attachments: int64(attachments),
	}
	for stream, n := range wantRows {
		if rows[stream] != n {
			t.Errorf("%s: %d rows, want %d", stream, rows[stream], n)
		}
	}
	if skipped != len(hd.Tickets)-live {
		t.Errorf("%d tickets skipped, want %d", skipped, len(hd.Tickets)-live)
	}
	// Users checkpoint after the agents and after the contacts; tickets
	// after each page that brought some, 50 a page.
	if checkpoints[schema.Users] != 2 || checkpoints[schema.Tickets] < (live+49)/50 {
		t.Errorf("cursor checkpoints %v, want 2 for users and at least %d for tickets", checkpoints, (live+49)/50)
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
