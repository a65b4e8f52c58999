package connector

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/ferryhq/ferry/plugins/csv/csvtest"
	sourcev1 "github.com/ferryhq/ferry/sdk/proto/source/v1"
	"github.com/ferryhq/ferry/sdk/schema"
	"github.com/ferryhq/ferry/sdk/source"
)

// memoryChild is set in the environment of the process TestConstantMemory
// measures in.
const memoryChild = "FERRY_CSV_MEMORY_TEST_CHILD"

// TestConstantMemory reads a file bigger than the heap bound through the
// SDK's server and samples the heap as it goes: streaming keeps it to the
// batches in flight, whatever the file's size. Its rows name their users
// (users_from_ticket), 30 people over 200,000 rows: what the read keeps
// for them grows with the people, not the rows.
func TestConstantMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and reads a 200,000-row file")
	}
	if os.Getenv(memoryChild) == "" {
		// Measure in a process of its own: what the tests before this one
		// left on the heap would count, and set the collector's pace.
		cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestConstantMemory$", "-test.v")
		cmd.Env = append(os.Environ(), memoryChild+"=1")
		out, err := cmd.CombinedOutput()
		t.Logf("the measuring process:\n%s", out)
		if err != nil {
			t.Fatalf("the measuring process failed: %v", err)
		}
		return
	}
	const (
		rows  = 200_000
		bound = 64 << 20
	)
	w, err := csvtest.WriteTickets(t.TempDir(), csvtest.CSV, rows, csvtest.Options{Seed: 1, UsersFromTicket: true})
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(filepath.Join(w.Dir, w.Files[schema.Tickets]))
	if err != nil {
		t.Fatal(err)
	}
	if info.Size() <= bound {
		t.Fatalf("the file is %d bytes, within the %d-byte bound: the test would not tell streaming from reading it whole", info.Size(), bound)
	}

	var (
		mu   sync.Mutex
		peak uint64
	)
	sample := func() {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		mu.Lock()
		peak = max(peak, m.HeapInuse)
		mu.Unlock()
	}
	// Between batches too: a read that buffered the file would grow the
	// heap before sending anything.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				sample()
			}
		}
	})
	runtime.GC()
	d := &discard{ctx: t.Context(), rows: map[string]int64{}, onBatch: sample}
	// Batches of 1 MiB rather than the default 8, so that the heap measures
	// the connector more than the SDK's batches in flight: at the defaults
	// a tickets and a comments batch being built, and one being encoded,
	// with their garbage, take the heap to about 50 MiB on their own.
	limits := source.Limits{MaxRows: 2_000, MaxBytes: 1 << 20}
	err = source.NewServer(New(), limits).Read(&sourcev1.ReadRequest{ConfigJson: w.Config}, d)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	// The default 25 customers and 5 agents.
	if d.rows[schema.Tickets] != rows || d.rows[schema.Users] != 30 || d.errors != 0 {
		t.Fatalf("read %d tickets, %d users and %d record errors, want %d, 30 and none", d.rows[schema.Tickets], d.rows[schema.Users], d.errors, rows)
	}
	t.Logf("%d rows, %d MiB file, %d comments, %d users: heap in use peaked at %.1f MiB", rows, info.Size()>>20, d.rows[schema.Comments], d.rows[schema.Users], float64(peak)/(1<<20))
	if peak > bound {
		t.Errorf("heap in use peaked at %.1f MiB, over the %d MiB bound", float64(peak)/(1<<20), bound>>20)
	}
}
