package connector

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ferryhq/ferry/plugins/csv/csvtest"
	sourcev1 "github.com/ferryhq/ferry/sdk/proto/source/v1"
	"github.com/ferryhq/ferry/sdk/schema"
	"github.com/ferryhq/ferry/sdk/source"
)

// BenchmarkRead1M reads a 1,000,000-row single-file tickets CSV (each row
// also brings its comments) in-process, through the connector and the
// SDK's server, into a sender that discards what it is sent: the
// connector's parse-map-batch-encode throughput, without a network.
func BenchmarkRead1M(b *testing.B) {
	const rows = 1_000_000
	w, err := csvtest.WriteTickets(b.TempDir(), csvtest.CSV, rows, csvtest.Options{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	info, err := os.Stat(filepath.Join(w.Dir, w.Files[schema.Tickets]))
	if err != nil {
		b.Fatal(err)
	}
	srv := source.NewServer(New(), source.DefaultLimits())
	req := &sourcev1.ReadRequest{ConfigJson: w.Config}
	b.SetBytes(info.Size())
	b.ReportAllocs()
	for b.Loop() {
		d := &discard{ctx: b.Context(), rows: map[string]int64{}}
		if err := srv.Read(req, d); err != nil {
			b.Fatal(err)
		}
		if d.rows[schema.Tickets] != rows || d.errors != 0 {
			b.Fatalf("read %d tickets and %d record errors, want %d and none", d.rows[schema.Tickets], d.errors, rows)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
