package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferryhq/ferry/host/sandboxstats"
)

func TestParseBenchOutput(t *testing.T) {
	const out = `goos: linux
plugin: 100000 rows in 2.308s, 43336 rows/s
BenchmarkExtract/plugin-2         	       1	2458732029 ns/op	     43336 rows/s
BenchmarkExtract/in-process-2     	       1	1887426726 ns/op	     55491 rows/s
BenchmarkStage-2   	       1	7622752974 ns/op	        66.76 MiB	         0.05550 filter-s	    143961 rows/s
BenchmarkChainArrow/wasm/batch=16384-2         	       1	4299903825 ns/op	    232563 records/s
--- BENCH: BenchmarkTransform-2
BenchmarkBroken-2  1  notanumber ns/op
PASS
`
	b, err := parseBenchOutput(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		bench, unit string
		want        float64
	}{
		{"BenchmarkExtract/plugin", "rows/s", 43336},
		{"BenchmarkExtract/in-process", "rows/s", 55491},
		{"BenchmarkStage", "MiB", 66.76},
		{"BenchmarkStage", "rows/s", 143961},
		{"BenchmarkChainArrow/wasm/batch=16384", "records/s", 232563},
	} {
		if got, err := b.value(c.bench, c.unit); err != nil || got != c.want {
			t.Errorf("%s %s = %v, %v; want %v", c.bench, c.unit, got, err, c.want)
		}
	}
	if _, err := b.value("BenchmarkBroken", "ns/op"); err == nil {
		t.Error("a line with a value that is not a number was read")
	}
	if _, err := b.value("BenchmarkTransform", "records/s"); err == nil {
		t.Error("a --- BENCH line was read as a result")
	}
}

func TestTargets(t *testing.T) {
	for _, c := range []struct {
		t              target
		v              float64
		ok, judged     bool
		renderedTarget string
	}{
		{target{"<=", 1.15}, 1.15, true, true, "≤ 1.15"},
		{target{"<=", 1.15}, 1.151, false, true, "≤ 1.15"},
		{target{">=", 5_000_000}, 4_999_999, false, true, "≥ 5,000,000"},
		{target{"==", 0}, 0, true, true, "0"},
		{target{}, 42, false, false, "report"},
	} {
		ok, judged := c.t.met(c.v)
		if ok != c.ok || judged != c.judged || c.t.String() != c.renderedTarget {
			t.Errorf("%v met(%v) = %v, %v (%q); want %v, %v (%q)", c.t, c.v, ok, judged, c.t.String(), c.ok, c.judged, c.renderedTarget)
		}
	}
	for in, want := range map[string]string{"5": "5", "1234": "1,234", "1234567.25": "1,234,567.25", "-123456": "-123,456", "100.0": "100.0"} {
		if got := groupThousands(in); got != want {
			t.Errorf("groupThousands(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestResultsJSON(t *testing.T) {
	path := filepath.Join(t.TempDir(), "results.json")
	r := results{mE2EVsLowerBound: 1.23456, mStageRowsPerSecond: 123456.7, mWasmVsNative: math.NaN()}
	if err := r.writeJSON(path); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Metrics map[string]*float64 `json:"metrics"`
	}
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatalf("%v:\n%s", err, data)
	}
	if len(got.Metrics) != len(metrics) {
		t.Errorf("%d metrics, want every one of the %d", len(got.Metrics), len(metrics))
	}
	for _, m := range metrics {
		if _, ok := got.Metrics[m.name]; !ok {
			t.Errorf("%s is missing", m.name)
		}
	}
	if v := got.Metrics[mE2EVsLowerBound]; v == nil || *v != 1.235 {
		t.Errorf("%s = %v, want 1.235 (three decimals)", mE2EVsLowerBound, v)
	}
	if v := got.Metrics[mStageRowsPerSecond]; v == nil || *v != 123457 {
		t.Errorf("%s = %v, want 123457", mStageRowsPerSecond, v)
	}
	if v := got.Metrics[mWasmVsNative]; v != nil {
		t.Errorf("NaN written as %v, want null", *v)
	}
	if v := got.Metrics[mPeakRSSMegabytesMillion]; v != nil {
		t.Errorf("a metric not measured is %v, want null", *v)
	}
	// The order.
	if i, j := strings.Index(string(data), mE2EVsLowerBound), strings.Index(string(data), mPeakRSSMegabytesMillion); i > j {
		t.Errorf("the metrics are out of order:\n%s", data)
	}
}

func TestE2EMetrics(t *testing.T) {
	st := &sandboxstats.File{}
	first := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	last := first.Add(50 * time.Second)
	st.Intercom.First, st.Intercom.Last = &first, &last
	st.Intercom.Endpoints = map[string]sandboxstats.Endpoint{
		"GET /me":                  {Requests: 1, ByStatus: map[int]int64{200: 1}},
		"POST /contacts":           {Requests: 1000, ByStatus: map[int]int64{200: 990, 409: 10}},
		"POST /contacts/search":    {Requests: 10, ByStatus: map[int]int64{200: 10}},
		"POST /conversations":      {Requests: 39_000, ByStatus: map[int]int64{200: 38_989, 429: 10, 503: 1}},
		"PUT /conversations/{id}":  {Requests: 9_989, ByStatus: map[int]int64{200: 9_989}},
		"DELETE /conversations/{}": {Requests: 0, ByStatus: map[int]int64{}},
	}
	st.Zendesk.Admitted, st.Zendesk.AdmittedIncremental = 7000, 40
	f := e2eFigures{wall: 60 * time.Second, st: st, tickets: 5000, rateFailures: 2, lim: benchLimits}

	all, admitted, productive := intercomCounts(st)
	if all != 50_000 || admitted != 49_990 || productive != 990+38_989+9_989 {
		t.Fatalf("counts: all %d, admitted %d, productive %d", all, admitted, productive)
	}
	b := f.bound()
	// Zendesk: 7000 calls at 7000/min = 60 s; incremental: 40 at 100/min =
	// 24 s; Intercom: 49,990 at 1000/s = 49.99 s.
	if !near(b.zendesk, 60) || !near(b.zendeskIncremental, 24) || !near(b.intercom, 49.99) || !near(b.max(), 60) {
		t.Errorf("bound %+v", b)
	}
	r, err := f.metrics()
	if err != nil {
		t.Fatal(err)
	}
	want := results{
		mE2EVsLowerBound:     1,
		mLoadRateUtilization: 49_990.0 / 50 / 1000,
		mLoad429Failures:     2,
		mLoadExtraCallsRatio: float64(50_000-(990+38_989+9_989)) / 50_000,
		mLoadCallsPerTicket:  10,
	}
	for k, v := range want {
		if !near(r[k], v) {
			t.Errorf("%s = %v, want %v", k, r[k], v)
		}
	}
	if len(r) != len(want) {
		t.Errorf("metrics %v, want %v", r, want)
	}

	// Seconds 0 and 1 full, 2 to 4 under half, 5 full, 50 (the last) empty.
	st.Intercom.AdmittedBySecond = map[int64]int64{}
	for sec, n := range map[int64]int64{0: 1000, 1: 1000, 2: 10, 3: 499, 5: 1000} {
		st.Intercom.AdmittedBySecond[first.Unix()+sec] = n
	}
	for sec := int64(6); sec < 50; sec++ {
		st.Intercom.AdmittedBySecond[first.Unix()+sec] = 1000
	}
	if got, want := f.underUsed(), "2-4 (509 calls), 50 (0 calls)"; got != want {
		t.Errorf("under-used seconds %q, want %q", got, want)
	}
}

func TestWrites(t *testing.T) {
	for endpoint, want := range map[string]bool{
		"POST /contacts": true, "PUT /conversations/{conversation_id}": true, "DELETE /contacts/{contact_id}": true,
		"GET /contacts": false, "POST /contacts/search": false, "POST /tickets/search": false, "unmatched": false,
	} {
		if got := writes(endpoint); got != want {
			t.Errorf("writes(%q) = %v, want %v", endpoint, got, want)
		}
	}
}

func TestParseStat(t *testing.T) {
	pid, ppid, ok := parseStat([]byte("4242 (ferry (worker) x) S 17 4242 17 0 -1 4194560"))
	if !ok || pid != 4242 || ppid != 17 {
		t.Errorf("parseStat = %d, %d, %v; want 4242, 17, true", pid, ppid, ok)
	}
	if _, _, ok := parseStat([]byte("garbage")); ok {
		t.Error("garbage parsed")
	}
}

func TestTreePeak(t *testing.T) {
	f := finished{maxRSS: 300, treeRSS: 350, peaks: map[string]int64{"ferry[1]": 320, "plugin[2]": 100}, peaksSum: 420}
	if got := f.treePeak(); got != 350 {
		t.Errorf("treePeak = %d, want the sampled sum 350", got)
	}
	f.treeRSS = 200
	if got := f.treePeak(); got != 320 {
		t.Errorf("treePeak = %d, want the largest process's peak 320", got)
	}
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }
