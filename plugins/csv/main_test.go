package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/ferryhq/ferry/plugins/csv/connector"
	"github.com/ferryhq/ferry/plugins/csv/csvtest"
	sourcev1 "github.com/ferryhq/ferry/sdk/proto/source/v1"
	"github.com/ferryhq/ferry/sdk/schema"
	"github.com/ferryhq/ferry/sdk/source"
)

// TestPluginBinary builds ferry-source-csv and drives it as the host does:
// a go-plugin subprocess over gRPC, reading a generated export with
// malformed rows.
func TestPluginBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the plugin binary")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool on PATH to build the plugin with")
	}
	bin := filepath.Join(t.TempDir(), "ferry-source-csv")
	build := exec.CommandContext(t.Context(), goTool, "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	export := csvtest.Generate(csvtest.Options{Seed: 7, Tickets: 120, Malformed: 2})
	w, err := export.Write(t.TempDir(), csvtest.CSV)
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(w.Config, &cfg); err != nil {
		t.Fatal(err)
	}
	cfg["checkpoint_every"] = 50
	config, _ := json.Marshal(cfg)

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
	bad := bytes.Replace(config, []byte(`"Ticket ID"`), []byte(`"Ticket Number"`), 1)
	check, err = sc.Check(ctx, &sourcev1.CheckRequest{ConfigJson: bad})
	if err != nil || check.Ok || !strings.Contains(check.Message, `files.tickets (tickets.csv): columns.id: no column "Ticket Number"`) {
		t.Fatalf("Check with a wrong column = %v, %v", check, err)
	}

	disc, err := sc.Discover(ctx, &sourcev1.DiscoverRequest{ConfigJson: config})
	if err != nil {
		t.Fatalf("Discover: %v", err)
	}
	var names []string
	for _, s := range disc.Streams {
		names = append(names, s.Name)
		if _, err := ipc.NewReader(bytes.NewReader(s.ArrowSchema)); err != nil {
			t.Errorf("stream %s's schema does not decode: %v", s.Name, err)
		}
	}
	if want := []string{schema.Users, schema.Organizations, schema.Tickets, schema.Comments}; !slices.Equal(names, want) {
		t.Errorf("Discover: streams %v, want %v", names, want)
	}

	stream, err := sc.Read(ctx, &sourcev1.ReadRequest{ConfigJson: config})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	rows := map[string]int64{}
	errs := map[string]int{}
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
			errs[m.RecordError.Stream]++
			if !strings.Contains(m.RecordError.Reason, ".csv:") {
				t.Errorf("a record error that names no file and line: %v", m.RecordError)
			}
		}
	}
	want := map[string]int64{
		schema.Users: int64(len(export.Users)), schema.Organizations: int64(len(export.Organizations)),
		schema.Tickets: int64(len(export.Tickets)), schema.Comments: int64(len(export.Comments)),
	}
	for s, n := range want {
		if rows[s] != n {
			t.Errorf("%s: %d rows, want %d", s, rows[s], n)
		}
		if errs[s] != 2 {
			t.Errorf("%s: %d record errors, want the 2 malformed rows", s, errs[s])
		}
	}
	// 122 ticket rows, 50 a checkpoint, and one at the end.
	if checkpoints[schema.Tickets] != 3 {
		t.Errorf("cursor checkpoints %v, want 3 for tickets", checkpoints)
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
