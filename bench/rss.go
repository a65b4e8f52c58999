package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/ferryhq/ferry/plugins/csv/csvtest"
)

// refuseAll is an Intercom stand-in that answers every request 401, as
// Intercom does a wrong token: a load against it selects and transforms
// every ticket, then stops at its first call.
func refuseAll(ctx context.Context) (url string, stop func(), err error) {
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"type":"error.list","request_id":"bench","errors":[{"code":"unauthorized","message":"Access Token Invalid"}]}`))
	})}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() { _ = srv.Close() }, nil
}

// runPeakRSS measures the peak resident memory of extracting, staging and
// transforming a CSV export of n tickets (single file: each row is a ticket
// with its requester and first comment) through the csv plugin, with the
// legacy-id-subject and map-values transforms, the workspace capped at 128
// MiB (workspace.memory_mb): `ferry extract`, then `ferry
// load` against an Intercom that refuses the token, so that it selects and
// transforms every ticket and stops before loading. Each command's
// process tree (ferry and its plugin) is sampled from /proc every 20 ms;
// the figure is the larger over the two commands of the tree's peak (see
// finished.treePeak), and the sum of each process's own peak, an upper
// bound, is printed with it.
func (h *harness) runPeakRSS(ctx context.Context) (results, error) {
	n := h.size.rssTickets
	dir := h.path("rss-export")
	h.note("rss: writing a CSV export of %d tickets", n)
	written, err := csvtest.WriteTickets(dir, csvtest.CSV, n, csvtest.Options{Seed: 1})
	if err != nil {
		return nil, err
	}
	url, stop, err := refuseAll(ctx)
	if err != nil {
		return nil, err
	}
	defer stop()
	ws := h.path("rss-workspace")
	transforms := filepath.Join(h.root, "transforms")
	yaml := fmt.Sprintf(`# The bench's memory run: a CSV export through the transforms, not loaded.
source:
  plugin: csv
  config: %s
transforms:
  - wasm: %q
    config: { prefix: "ZD" }
  - wasm: %q
    config: { tickets: { status: { new: open, hold: pending, solved: closed }, priority: { urgent: high, low: normal } } }
target:
  intercom: { base_url: %q, token: "${INTERCOM_TOKEN}" }
workspace: { memory_mb: 128 }
`, strings.ReplaceAll(string(written.Config), "\n", " "),
		filepath.Join(transforms, "legacy-id-subject", "legacy-id-subject.wasm"),
		filepath.Join(transforms, "map-values", "map-values.wasm"), url)
	if err := writeWorkspace(ws, yaml); err != nil {
		return nil, err
	}
	extract := h.ferryJob("rss-extract", tokenEnv, "extract", "-w", ws)
	extract.sample = true
	ex, err := extract.run(ctx)
	if err != nil {
		return nil, err
	}
	load := h.ferryJob("rss-load", tokenEnv, "load", "-w", ws)
	load.sample = true
	ld, err := load.run(ctx)
	var ee *exitError
	if !errors.As(err, &ee) || !strings.Contains(ee.tail, "401") {
		return nil, fmt.Errorf("the load against an Intercom refusing the token should stop at a 401: %v", err)
	}
	// The transforms ran over every ticket before the load stopped.
	transformed, err := h.queryCount(ctx, ws, "SELECT count(*) AS n FROM load_tickets WHERE starts_with(subject, '[ZD-')")
	if err != nil {
		return nil, err
	}
	if transformed != int64(n) {
		return nil, fmt.Errorf("%d of %d tickets came out of the transforms", transformed, n)
	}
	peak := int64(0)
	for _, s := range []struct {
		name string
		f    finished
	}{{"extract", ex}, {"load (select + transform)", ld}} {
		var procs []string
		for p, b := range s.f.peaks {
			procs = append(procs, fmt.Sprintf("%s %.0f MB", p, mb(b)))
		}
		sort.Strings(procs)
		h.note("rss: ferry %s of %d tickets: %.1fs; peak %.0f MB (largest sum at one sample %.0f MB; each process's peak: %s, summed %.0f MB)",
			s.name, n, s.f.wall.Seconds(), mb(s.f.treePeak()), mb(s.f.treeRSS), strings.Join(procs, ", "), mb(s.f.peaksSum))
		peak = max(peak, s.f.treePeak())
	}
	return results{mPeakRSSMegabytesMillion: mb(peak)}, nil
}

// mb is bytes in megabytes of 2^20 bytes, as ps and top count them.
func mb(b int64) float64 { return float64(b) / (1 << 20) }
