package pipeline

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/ferryhq/ferry/host/config"
	"github.com/ferryhq/ferry/host/stage"
	"github.com/ferryhq/ferry/sdk/schema"
)

// BenchmarkTransform runs the legacy-id-subject and map-values examples,
// chained, over 1M staged tickets (FERRY_BENCH_TICKETS to change it): from
// the workspace, through the modules on both cores, into the overlay and
// the load view. Each iteration is one run of the stage; it reports
// records/s. host/transform's BenchmarkChainArrow measures the chain alone,
// in wasm and compiled natively.
func BenchmarkTransform(b *testing.B) {
	n := 1_000_000
	if s := os.Getenv("FERRY_BENCH_TICKETS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			b.Fatal(err)
		}
	}
	ctx := b.Context()
	ws, err := stage.Open(ctx, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer ws.Close()
	began := time.Now()
	stageBenchTickets(b, ws, n)
	b.Logf("staged %d tickets in %s", n, time.Since(began).Round(time.Millisecond))
	if _, err := ws.Select(ctx, stage.Selection{}, 1); err != nil {
		b.Fatal(err)
	}
	env := &Env{Workspace: ws, Config: &config.Config{Transforms: []config.Transform{
		{WASM: buildWasm(b, "../../transforms/legacy-id-subject"), Config: map[string]any{"prefix": "ZD"}},
		{WASM: buildWasm(b, "../../transforms/map-values"), Config: map[string]any{"tickets": map[string]any{
			"status":   map[string]any{"new": "open", "hold": "pending", "solved": "closed"},
			"priority": map[string]any{"urgent": "high", "low": "normal"},
		}}},
	}}, Progress: io.Discard}
	// The first run compiles the modules into the workspace's cache, as a
	// migration's first transform does once; the runs measured load them.
	if _, err := Transform(ctx, env, 2); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := range b.N {
		res, err := Transform(ctx, env, int64(3+i))
		if err != nil {
			b.Fatal(err)
		}
		if c := res.Counts[schema.Tickets]; c["changed"] != int64(n) {
			b.Fatalf("counts %v, want %d changed", c, n)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "records/s")
	var subject string
	if err := ws.DB().QueryRowContext(ctx, `SELECT subject || ' ' || status FROM load_tickets WHERE id = '100000'`).Scan(&subject); err != nil {
		b.Fatal(err)
	}
	if subject != "[ZD-100000] Printer on fire on floor 0 open" {
		b.Fatalf("ticket 100000 came out as %q", subject)
	}
}

// stageBenchTickets stages n tickets 100000.. with varied statuses and
// priorities, as BenchmarkChainArrow builds them.
func stageBenchTickets(b *testing.B, ws *stage.Workspace, n int) {
	ctx := b.Context()
	in, err := ws.NewIngest(ctx, 1)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	statuses := []string{"new", "open", "hold", "solved", "closed"}
	priorities := []string{"low", "normal", "high", "urgent", ""}
	tb, err := schema.NewBuilder(memory.NewGoAllocator(), schema.Tickets)
	if err != nil {
		b.Fatal(err)
	}
	defer tb.Release()
	created := time.Date(2023, 5, 1, 9, 0, 0, 0, time.UTC)
	flush := func() {
		rec := tb.NewRecordBatch()
		defer rec.Release()
		if err := in.Batch(ctx, schema.Tickets, rec); err != nil {
			b.Fatal(err)
		}
	}
	for i := range n {
		err := tb.Append(&schema.Ticket{
			ID: strconv.Itoa(100000 + i), Subject: fmt.Sprintf("Printer on fire on floor %d", i%40),
			Status: statuses[i%len(statuses)], Priority: priorities[i%len(priorities)], Type: "incident",
			RequesterID: strconv.Itoa(i % 5000), Tags: []string{"printer", "fire"},
			CreatedAt: created.Add(time.Duration(i) * time.Minute), UpdatedAt: created.Add(time.Duration(i) * time.Minute),
		})
		if err != nil {
			b.Fatal(err)
		}
		if tb.Rows() == 16384 {
			flush()
		}
	}
	if tb.Rows() > 0 {
		flush()
	}
	if err := in.Checkpoint(ctx, schema.Tickets, nil); err != nil {
		b.Fatal(err)
	}
}
