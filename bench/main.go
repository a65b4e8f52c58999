// Command bench is `make bench`: it measures ferry against the targets of
// issue 9, prints a table and writes bench/results.json as
// {"metrics": {...}}. Every ratio is measured in one run with what it is
// compared with.
//
// The phases, each against the built binaries in bin/ or the Go benchmarks:
//
//   - e2e: `ferry sandbox` serves a generated help desk (5,000 tickets with
//     1 to 12 comments, 2,000 users, 200 organizations) from the Zendesk
//     emulator at 7,000 requests a minute (incremental exports 100) and the
//     Intercom sandbox at 10,000 calls per 10 s with 20 ms latency; `ferry
//     migrate --no-verify` is timed, and the sandbox's own counts (its
//     --stats-file) give the calls. e2e_vs_lower_bound is the wall time ÷
//     max(Zendesk calls ÷ its rate, incremental exports ÷ theirs, Intercom
//     calls ÷ its rate), calls answered 429 left out; load_rate_utilization
//     is the Intercom calls not answered 429 ÷ the time from the first to
//     the last ÷ 1,000/s; load_429_failures counts the ledger's records
//     failed for rate limiting; load_extra_calls_ratio is the calls that
//     created or changed nothing (GETs, searches, and any call not answered
//     2xx: retries, conflicts) ÷ all calls; load_calls_per_ticket is all
//     calls ÷ tickets.
//   - cpu: the same help desk, extracted, then `ferry load` alone against a
//     sandbox without limits or latency; host_cpu_us_per_call is the load
//     process's user+system time (wait4's rusage) ÷ the calls the sandbox
//     counted.
//   - extract, stage, transform, chain: go test -bench with -benchtime 1x
//     (BenchmarkExtract, BenchmarkStage, BenchmarkTransform,
//     BenchmarkChainArrow), reading what they report.
//   - rss: a CSV export of 1M tickets through `ferry extract` and `ferry
//     load` with the legacy-id-subject and map-values transforms, the load
//     pointed at an Intercom that refuses the token so that it stops after
//     the transforms; the peak is the most resident memory ferry and its
//     plugin held together, read from /proc every 20 ms (see
//     finished.treePeak).
//
// FERRY_BENCH_QUICK=1 (or -quick) runs the phases small (500 tickets,
// 100,000 rows; the chain benchmark has no size knob and stays at 1M) and
// writes bench/results-quick.json instead, to try the
// harness; -phases runs some of the phases only.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// sizes are how big each phase's data is.
type sizes struct {
	desk deskSize
	// rows is the Go benchmarks' rows (FERRY_BENCH_ROWS and
	// FERRY_BENCH_TICKETS), rssTickets the memory run's tickets.
	rows, rssTickets int
}

var (
	fullSizes  = sizes{desk: deskSize{tickets: 5000, endUsers: 1992, organizations: 200, maxComments: 12}, rows: 1_000_000, rssTickets: 1_000_000}
	quickSizes = sizes{desk: deskSize{tickets: 500, endUsers: 192, organizations: 20, maxComments: 12}, rows: 100_000, rssTickets: 100_000}
)

// phases are the harness's phases, in the order they run.
var phases = []string{"e2e", "cpu", "extract", "stage", "transform", "chain", "rss"}

// harness is one bench run.
type harness struct {
	root    string // the repository
	ferry   string // bin/ferry
	goTool  string
	scratch string // every file the run writes but the results
	size    sizes
	log     *slog.Logger
	notes   []string
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	quickEnv, _ := strconv.ParseBool(os.Getenv("FERRY_BENCH_QUICK"))
	quick := flag.Bool("quick", quickEnv, "run every phase small, to try the harness (also FERRY_BENCH_QUICK=1)")
	out := flag.String("out", "", "the results file (default bench/results.json, bench/results-quick.json with -quick)")
	only := flag.String("phases", strings.Join(phases, ","), "the phases to run, comma-separated")
	keep := flag.Bool("keep", false, "keep the scratch folder (workspaces, logs, sandbox stats)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	h, err := newHarness(*quick)
	if err != nil {
		return err
	}
	if *keep {
		h.log.Info("the scratch folder is kept", "dir", h.scratch)
	} else {
		defer os.RemoveAll(h.scratch)
	}
	if *out == "" {
		*out = filepath.Join(h.root, "bench", "results.json")
		if *quick {
			*out = filepath.Join(h.root, "bench", "results-quick.json")
		}
	}
	selected := strings.Split(*only, ",")
	for _, p := range selected {
		if !slices.Contains(phases, p) {
			return fmt.Errorf("-phases: no phase %q (the phases: %s)", p, strings.Join(phases, ", "))
		}
	}

	began := time.Now()
	res := results{}
	var failed []string
	for _, p := range phases {
		if !slices.Contains(selected, p) {
			continue
		}
		start := time.Now()
		h.log.Info("phase", "name", p)
		r, err := h.phase(ctx, p)
		if err != nil {
			h.log.Error("phase failed", "name", p, "error", err)
			failed = append(failed, p)
			if ctx.Err() != nil {
				break
			}
			continue
		}
		h.log.Info("phase done", "name", p, "took", time.Since(start).Round(time.Second))
		for k, v := range r {
			res[k] = v
		}
	}

	fmt.Println()
	for _, n := range h.notes {
		fmt.Println(n)
	}
	fmt.Println()
	missed, err := res.writeTable(os.Stdout)
	if err != nil {
		return err
	}
	if err := res.writeJSON(*out); err != nil {
		return err
	}
	size := "full"
	if *quick {
		size = "quick"
	}
	fmt.Printf("\n%s run in %s on %d CPUs; %d targets missed; wrote %s\n",
		size, time.Since(began).Round(time.Second), runtime.NumCPU(), missed, *out)
	if len(failed) > 0 {
		return fmt.Errorf("phases failed: %s", strings.Join(failed, ", "))
	}
	return nil
}

// newHarness finds the repository and the binaries, and makes the scratch
// folder.
func newHarness(quick bool) (*harness, error) {
	root, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		return nil, fmt.Errorf("run the bench from the repository's root (make bench): %w", err)
	}
	ferry := filepath.Join(root, "bin", "ferry")
	if _, err := os.Stat(ferry); err != nil {
		return nil, fmt.Errorf("%s: run make build first (make bench does): %w", ferry, err)
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		return nil, err
	}
	scratch, err := os.MkdirTemp("", "ferry-bench-")
	if err != nil {
		return nil, err
	}
	// duckdb-go's Arrow interface, which staging uses, is behind a tag.
	if !strings.Contains(os.Getenv("GOFLAGS"), "duckdb_arrow") {
		os.Setenv("GOFLAGS", strings.TrimSpace(os.Getenv("GOFLAGS")+" -tags=duckdb_arrow"))
	}
	os.Setenv("CGO_ENABLED", "1")
	h := &harness{root: root, ferry: ferry, goTool: goTool, scratch: scratch, size: fullSizes,
		log: slog.New(slog.NewTextHandler(os.Stderr, nil))}
	if quick {
		h.size = quickSizes
	}
	return h, nil
}

// phase runs one phase and returns its metrics.
func (h *harness) phase(ctx context.Context, name string) (results, error) {
	rows := strconv.Itoa(h.size.rows)
	switch name {
	case "e2e":
		return h.runE2E(ctx)
	case "cpu":
		return h.runHostCPU(ctx)
	case "extract":
		// The plugin subprocess and the same reader linked in, one after
		// the other on the same file.
		b, err := h.goBench(ctx, name, "./host/pipeline/", "^BenchmarkExtract$", []string{"FERRY_BENCH_ROWS=" + rows})
		if err != nil {
			return nil, err
		}
		plugin, err := b.value("BenchmarkExtract/plugin", "rows/s")
		if err != nil {
			return nil, err
		}
		inProcess, err := b.value("BenchmarkExtract/in-process", "rows/s")
		if err != nil {
			return nil, err
		}
		h.note("extract: %s ticket rows from a CSV file: %.0f rows/s through the plugin, %.0f in-process", rows, plugin, inProcess)
		return results{mExtractRowsPerSecond: plugin, mExtractPluginVsInProc: plugin / inProcess}, nil
	case "stage":
		b, err := h.goBench(ctx, name, "./host/stage/", "^BenchmarkStage$", []string{"FERRY_BENCH_TICKETS=" + rows})
		if err != nil {
			return nil, err
		}
		v, err := b.value("BenchmarkStage", "rows/s")
		if err != nil {
			return nil, err
		}
		h.note("stage: %s tickets with 5 comments each and 20,000 users as 100,000-row Arrow batches: %.0f rows/s", rows, v)
		return results{mStageRowsPerSecond: v}, nil
	case "transform":
		b, err := h.goBench(ctx, name, "./host/pipeline/", "^BenchmarkTransform$", []string{"FERRY_BENCH_TICKETS=" + rows})
		if err != nil {
			return nil, err
		}
		v, err := b.value("BenchmarkTransform", "records/s")
		if err != nil {
			return nil, err
		}
		h.note("transform: legacy-id-subject + map-values over %s staged tickets, workspace → WASM → workspace: %.0f records/s", rows, v)
		return results{mWasmRecordsPerSecond: v}, nil
	case "chain":
		// Always 1M rows: the benchmark has no size knob.
		const size = "16384"
		b, err := h.goBench(ctx, name, "./host/transform/", "^BenchmarkChainArrow$/^(wasm|native)$/^batch="+size+"$", nil)
		if err != nil {
			return nil, err
		}
		wasm, err := b.value("BenchmarkChainArrow/wasm/batch="+size, "records/s")
		if err != nil {
			return nil, err
		}
		native, err := b.value("BenchmarkChainArrow/native/batch="+size, "records/s")
		if err != nil {
			return nil, err
		}
		h.note("chain: legacy-id-subject + map-values over 1,000,000 Arrow rows in batches of %s: %.0f records/s in wasm, %.0f compiled natively", size, wasm, native)
		return results{mWasmVsNative: wasm / native}, nil
	case "rss":
		return h.runPeakRSS(ctx)
	}
	return nil, fmt.Errorf("no phase %q", name)
}

// note records a line of detail for the report, and logs it.
func (h *harness) note(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	h.notes = append(h.notes, line)
	h.log.Info(line)
}

// path is a file or folder in the scratch folder.
func (h *harness) path(name string) string { return filepath.Join(h.scratch, name) }

// deskFile is where the bench help desk is saved once generated, so that
// the second sandbox serves the same one without generating it again.
func (h *harness) deskFile() string {
	return h.path(fmt.Sprintf("helpdesk-%d.json", h.size.desk.tickets))
}

// ferryJob is a bin/ferry command, logged into the scratch folder.
func (h *harness) ferryJob(name string, env []string, args ...string) job {
	return job{name: "ferry " + strings.Join(args, " "), args: append([]string{h.ferry}, args...), env: env,
		dir: h.root, log: h.path(name + ".log")}
}

// queryCount runs a query returning one row with a count n over a
// workspace, through `ferry query`.
func (h *harness) queryCount(ctx context.Context, ws, sql string) (int64, error) {
	cmd := exec.CommandContext(ctx, h.ferry, "query", "-w", ws, "--format", "json", sql)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return 0, fmt.Errorf("ferry query %q: %w: %s", sql, err, stderr.String())
	}
	var row struct {
		N *int64 `json:"n"`
	}
	if err := json.Unmarshal(out, &row); err != nil || row.N == nil {
		return 0, fmt.Errorf("ferry query %q answered %q, want {\"n\": N}", sql, out)
	}
	return *row.N, nil
}
