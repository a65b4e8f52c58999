package connector

import (
	"bytes"
	"context"
	"log/slog"
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

// usersBench sizes the users_from_ticket benchmarks: a 1,000,000-row
// single-file export whose rows name 100,000 distinct customers.
var usersBench = csvtest.Options{Seed: 1, EndUsers: 100_000, UsersFromTicket: true}

// BenchmarkReadUsers1M is BenchmarkRead1M with users_from_ticket: each row
// also names its requester and assignee, and the read emits each user
// once.
func BenchmarkReadUsers1M(b *testing.B) {
	const rows = 1_000_000
	w, err := csvtest.WriteTickets(b.TempDir(), csvtest.CSV, rows, usersBench)
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
		if d.rows[schema.Tickets] != rows || d.rows[schema.Users] == 0 || d.errors != 0 {
			b.Fatalf("read %d tickets, %d users and %d record errors, want %d, some and none", d.rows[schema.Tickets], d.rows[schema.Users], d.errors, rows)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkResumeUsers1M resumes the read of BenchmarkReadUsers1M's file
// from its last checkpoint before the end: the resumed read first parses
// the 990,000 rows before the cursor to learn their users (what a resume
// with users_from_ticket costs on top of reading the rest), then reads the
// last 10,000. Compare with BenchmarkReadUsers1M.
func BenchmarkResumeUsers1M(b *testing.B) {
	const rows = 1_000_000
	w, err := csvtest.WriteTickets(b.TempDir(), csvtest.CSV, rows, usersBench)
	if err != nil {
		b.Fatal(err)
	}
	info, err := os.Stat(filepath.Join(w.Dir, w.Files[schema.Tickets]))
	if err != nil {
		b.Fatal(err)
	}
	cps := &cursors{}
	if err := streamOf(b, New(), w.Config, schema.Tickets).read(b.Context(), nil, cps); err != nil {
		b.Fatal(err)
	}
	cursor := cps.list[len(cps.list)-2]
	srv := source.NewServer(New(), source.DefaultLimits())
	req := &sourcev1.ReadRequest{ConfigJson: w.Config, Streams: []string{schema.Tickets}, Cursors: map[string][]byte{schema.Tickets: cursor}}
	b.SetBytes(info.Size())
	b.ReportAllocs()
	for b.Loop() {
		d := &discard{ctx: b.Context(), rows: map[string]int64{}}
		if err := srv.Read(req, d); err != nil {
			b.Fatal(err)
		}
		if d.rows[schema.Tickets] != 10_000 || d.errors != 0 {
			b.Fatalf("read %d tickets and %d record errors, want the last 10,000 and none", d.rows[schema.Tickets], d.errors)
		}
	}
}

// cursors is an emitter that keeps only the cursors a read checkpoints.
type cursors struct{ list [][]byte }

func (c *cursors) Emit(context.Context, schema.Record) error                 { return nil }
func (c *cursors) RecordError(context.Context, string, string, string) error { return nil }
func (c *cursors) Progress(int64, int64) error                               { return nil }
func (c *cursors) Logger() *slog.Logger                                      { return slog.New(slog.DiscardHandler) }
func (c *cursors) Checkpoint(_ context.Context, cursor []byte) error {
	c.list = append(c.list, bytes.Clone(cursor))
	return nil
}
