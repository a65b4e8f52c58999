package pipeline

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/ferryhq/ferry/host/config"
	"github.com/ferryhq/ferry/host/plugin"
	"github.com/ferryhq/ferry/host/stage"
	csvconnector "github.com/ferryhq/ferry/plugins/csv/connector"
	"github.com/ferryhq/ferry/plugins/csv/csvtest"
	"github.com/ferryhq/ferry/sdk/schema"
)

// BenchmarkExtract measures canonical ticket rows per second from a source
// into the workspace, through the plugin subprocess and through the same
// reader linked in-process, on the same file in one run. FERRY_BENCH_ROWS
// sets the size (default 1,000,000).
func BenchmarkExtract(b *testing.B) {
	rows := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("FERRY_BENCH_ROWS")); err == nil && v > 0 {
		rows = v
	}
	dir := b.TempDir()
	written, err := csvtest.WriteTickets(dir, csvtest.CSV, rows, csvtest.Options{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	// Tickets only: the measure is ticket rows.
	var cfg map[string]any
	if err := json.Unmarshal(written.Config, &cfg); err != nil {
		b.Fatal(err)
	}
	tickets := cfg["files"].(map[string]any)["tickets"].(map[string]any)
	delete(tickets, "comments_from_ticket")

	bin := filepath.Join(b.TempDir(), "ferry-source-csv")
	if out, err := exec.Command("go", "build", "-o", bin, "../../plugins/csv").CombinedOutput(); err != nil {
		b.Fatalf("build the csv plugin: %v\n%s", err, out)
	}
	for _, mode := range []string{"plugin", "in-process"} {
		b.Run(mode, func(b *testing.B) {
			for b.Loop() {
				ws, err := stage.Open(b.Context(), b.TempDir())
				if err != nil {
					b.Fatal(err)
				}
				env := &Env{Workspace: ws, Config: &config.Config{Source: config.Source{Plugin: "csv", Config: cfg}}}
				var src *plugin.Source
				if mode == "plugin" {
					if src, err = plugin.Start(b.Context(), "csv", bin, plugin.Options{}); err != nil {
						b.Fatal(err)
					}
				} else {
					src = plugin.Local("csv", csvconnector.New(), plugin.Options{})
				}
				start := time.Now()
				res, err := ExtractFrom(b.Context(), env, 1, src)
				src.Close()
				// Closing folds the write-ahead log into the file: part of
				// the cost of staging.
				if cerr := ws.Close(); err == nil {
					err = cerr
				}
				elapsed := time.Since(start)
				if err != nil {
					b.Fatal(err)
				}
				if got := res.Rows[schema.Tickets]; got != int64(rows) {
					b.Fatalf("staged %d tickets, want %d", got, rows)
				}
				b.ReportMetric(float64(rows)/elapsed.Seconds(), "rows/s")
				fmt.Fprintf(os.Stderr, "%s: %d rows in %s, %.0f rows/s\n", mode, rows, elapsed.Round(time.Millisecond), float64(rows)/elapsed.Seconds())
			}
		})
	}
}
