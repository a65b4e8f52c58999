package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/ferryhq/ferry/host/sandboxstats"
)

// The bench's limits: ten times the real defaults (Zendesk 700 requests a
// minute and 10 incremental exports; Intercom 10,000 calls a minute, i.e.
// 1,667 per 10 s) so that a run takes about a minute.
var benchLimits = limits{
	zendeskPerMinute: 7000, zendeskIncrementalPerMinute: 100,
	intercomPer10s: 10000, intercomLatency: 20 * time.Millisecond,
}

// e2eFigures are what the end-to-end metrics are made of.
type e2eFigures struct {
	wall time.Duration // ferry migrate's
	st   *sandboxstats.File
	// tickets is how many tickets the help desk has; rateFailures how many
	// records the ledger says failed because of rate limiting.
	tickets, rateFailures int64
	lim                   limits
}

// boundParts are the lower bound's terms, in seconds: each server's
// admitted calls at its rate.
type boundParts struct {
	zendesk, zendeskIncremental, intercom float64
}

func (b boundParts) max() float64 { return max(b.zendesk, b.zendeskIncremental, b.intercom) }

// intercomCounts splits the Intercom sandbox's calls: all of them; those
// the rate limit let through (not 429); and those that created or changed
// something (a write answered 2xx).
func intercomCounts(st *sandboxstats.File) (all, admitted, productive int64) {
	for endpoint, e := range st.Intercom.Endpoints {
		for status, n := range e.ByStatus {
			all += n
			if status != 429 {
				admitted += n
			}
			if writes(endpoint) && status >= 200 && status < 300 {
				productive += n
			}
		}
	}
	return all, admitted, productive
}

// writes reports whether an Intercom sandbox endpoint ("POST /contacts")
// creates or changes something: any method but GET, except searches.
// Unmatched requests change nothing.
func writes(endpoint string) bool {
	method, path, ok := strings.Cut(endpoint, " ")
	return ok && method != "GET" && method != "HEAD" && !strings.HasSuffix(path, "/search")
}

// bound is the fastest a migration could be: the larger of each limit's
// calls at its rate (Zendesk's general and incremental limits counted
// apart), in seconds. Calls answered 429 are left out: a perfect client
// makes none.
func (f e2eFigures) bound() boundParts {
	_, admitted, _ := intercomCounts(f.st)
	var b boundParts
	if f.lim.zendeskPerMinute > 0 {
		b.zendesk = float64(f.st.Zendesk.Admitted) / (float64(f.lim.zendeskPerMinute) / 60)
	}
	if f.lim.zendeskIncrementalPerMinute > 0 {
		b.zendeskIncremental = float64(f.st.Zendesk.AdmittedIncremental) / (float64(f.lim.zendeskIncrementalPerMinute) / 60)
	}
	if f.lim.intercomPer10s > 0 {
		b.intercom = float64(admitted) / (float64(f.lim.intercomPer10s) / 10)
	}
	return b
}

// loadSpan is the time between the first and the latest Intercom call.
func (f e2eFigures) loadSpan() time.Duration {
	ic := f.st.Intercom
	if ic.First == nil || ic.Last == nil {
		return 0
	}
	return ic.Last.Sub(*ic.First)
}

// underUsed lists the seconds, counted from the first Intercom call, in
// which fewer calls than half the limit were let through, as ranges with
// the calls made ("0-2 (12 calls), 40 (480 calls)"): where
// load_rate_utilization loses.
func (f e2eFigures) underUsed() string {
	ic := f.st.Intercom
	if ic.First == nil || ic.Last == nil || f.lim.intercomPer10s == 0 {
		return ""
	}
	first, last := ic.First.Unix(), ic.Last.Unix()
	half := int64(f.lim.intercomPer10s / 10 / 2)
	var out []string
	for sec := first; sec <= last; {
		if ic.AdmittedBySecond[sec] >= half {
			sec++
			continue
		}
		start, calls := sec, int64(0)
		for ; sec <= last && ic.AdmittedBySecond[sec] < half; sec++ {
			calls += ic.AdmittedBySecond[sec]
		}
		r := fmt.Sprint(start - first)
		if sec-1 > start {
			r += fmt.Sprintf("-%d", sec-1-first)
		}
		out = append(out, fmt.Sprintf("%s (%d calls)", r, calls))
	}
	return strings.Join(out, ", ")
}

// metrics computes the end-to-end metrics.
func (f e2eFigures) metrics() (results, error) {
	all, admitted, productive := intercomCounts(f.st)
	if all == 0 || f.tickets == 0 {
		return nil, fmt.Errorf("the migration made %d Intercom calls for %d tickets", all, f.tickets)
	}
	r := results{
		mLoad429Failures:     float64(f.rateFailures),
		mLoadExtraCallsRatio: float64(all-productive) / float64(all),
		mLoadCallsPerTicket:  float64(all) / float64(f.tickets),
	}
	if b := f.bound().max(); b > 0 {
		r[mE2EVsLowerBound] = f.wall.Seconds() / b
	}
	if span := f.loadSpan(); span > 0 && f.lim.intercomPer10s > 0 {
		r[mLoadRateUtilization] = float64(admitted) / span.Seconds() / (float64(f.lim.intercomPer10s) / 10)
	}
	return r, nil
}

// describe prints what the end-to-end figures are made of.
func (f e2eFigures) describe(h *harness) {
	all, admitted, productive := intercomCounts(f.st)
	b := f.bound()
	h.note("e2e: ferry migrate --no-verify took %.1fs (verify's read-back GETs are left out: the bound is the migration's)", f.wall.Seconds())
	h.note("e2e: lower bound %.1fs = max(Zendesk %d calls at %d/min = %.1fs, incremental exports %d at %d/min = %.1fs, Intercom %d calls at %d/10s = %.1fs)",
		b.max(), f.st.Zendesk.Admitted, f.lim.zendeskPerMinute, b.zendesk,
		f.st.Zendesk.AdmittedIncremental, f.lim.zendeskIncrementalPerMinute, b.zendeskIncremental,
		admitted, f.lim.intercomPer10s, b.intercom)
	if span := f.loadSpan(); span > 0 {
		h.note("e2e: Intercom calls from the first to the last: %.1fs, %.0f calls/s (limit %d/s)",
			span.Seconds(), float64(admitted)/span.Seconds(), f.lim.intercomPer10s/10)
	}
	if idle := f.underUsed(); idle != "" {
		h.note("e2e: seconds the Intercom budget was under half used (since the first call): %s", idle)
	}
	h.note("e2e: %d Intercom calls, %d created or changed something, %d answered 429, for %d tickets; %d records failed for rate limiting",
		all, productive, all-admitted, f.tickets, f.rateFailures)
	type ep struct {
		name string
		n    int64
	}
	var eps []ep
	for name, e := range f.st.Intercom.Endpoints {
		eps = append(eps, ep{name, e.Requests})
	}
	sort.Slice(eps, func(i, j int) bool { return eps[i].n > eps[j].n || eps[i].n == eps[j].n && eps[i].name < eps[j].name })
	var parts []string
	for _, e := range eps[:min(len(eps), 6)] {
		parts = append(parts, fmt.Sprintf("%s %d", e.name, e.n))
	}
	h.note("e2e: Intercom calls by endpoint: %s", strings.Join(parts, ", "))
}

// rateFailureQuery counts the records the ledger says failed because of
// Intercom's rate limit.
const rateFailureQuery = `SELECT count(*) AS n FROM ledger WHERE outcome = 'failed'
AND (reason ILIKE '%429%' OR reason ILIKE '%rate limit%' OR reason ILIKE '%rate_limit%' OR reason ILIKE '%too many requests%')`

// runE2E migrates the bench help desk from the Zendesk emulator into the
// Intercom sandbox at the bench's limits, timing `ferry migrate
// --no-verify`.
func (h *harness) runE2E(ctx context.Context) (results, error) {
	sb, err := h.startSandbox(ctx, "e2e", h.deskFile(), h.size.desk, benchLimits)
	if err != nil {
		return nil, err
	}
	defer sb.kill()
	ws := h.path("e2e-workspace")
	if err := writeWorkspace(ws, sb.zendeskYAML(benchLimits.zendeskIncrementalPerMinute)); err != nil {
		return nil, err
	}
	h.note("e2e: ferry migrate of %d tickets (Zendesk %d/min, incremental %d/min; Intercom %d/10s, %s latency)",
		h.size.desk.tickets, benchLimits.zendeskPerMinute, benchLimits.zendeskIncrementalPerMinute, benchLimits.intercomPer10s, benchLimits.intercomLatency)
	run, err := h.ferryJob("e2e-migrate", tokenEnv, "migrate", "-w", ws, "--no-verify").run(ctx)
	if err != nil {
		return nil, err
	}
	st, err := sb.stop()
	if err != nil {
		return nil, err
	}
	f := e2eFigures{wall: run.wall, st: st, lim: benchLimits}
	if f.tickets, err = h.queryCount(ctx, ws, "SELECT count(*) AS n FROM tickets"); err != nil {
		return nil, err
	}
	if f.rateFailures, err = h.queryCount(ctx, ws, rateFailureQuery); err != nil {
		return nil, err
	}
	f.describe(h)
	return f.metrics()
}

// runHostCPU measures ferry's CPU per Intercom call: the bench help desk
// extracted first, then `ferry load` alone, against a sandbox without
// limits or latency, so that ferry is never waiting for a limit. The load
// has no plugin: its rusage is ferry's alone.
func (h *harness) runHostCPU(ctx context.Context) (results, error) {
	sb, err := h.startSandbox(ctx, "cpu", h.deskFile(), h.size.desk, limits{})
	if err != nil {
		return nil, err
	}
	defer sb.kill()
	ws := h.path("cpu-workspace")
	if err := writeWorkspace(ws, sb.zendeskYAML(1000)); err != nil {
		return nil, err
	}
	if _, err := h.ferryJob("cpu-extract", tokenEnv, "extract", "-w", ws).run(ctx); err != nil {
		return nil, err
	}
	run, err := h.ferryJob("cpu-load", tokenEnv, "load", "-w", ws).run(ctx)
	if err != nil {
		return nil, err
	}
	st, err := sb.stop()
	if err != nil {
		return nil, err
	}
	all, _, _ := intercomCounts(st)
	if all == 0 {
		return nil, errors.New("the load made no Intercom call")
	}
	h.note("cpu: ferry load used %.2fs of CPU (user+system) in %.1fs for %d Intercom calls, no limit, no latency",
		run.cpu.Seconds(), run.wall.Seconds(), all)
	return results{mHostCPUMicrosPerCall: float64(run.cpu.Microseconds()) / float64(all)}, nil
}

// writeWorkspace makes a fresh workspace folder holding ferry.yaml.
func writeWorkspace(dir, yaml string) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "ferry.yaml"), []byte(yaml), 0o600)
}
