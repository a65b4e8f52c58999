package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
)

// The metrics of issue 9, in the order the table and results.json list them.
const (
	mE2EVsLowerBound         = "e2e_vs_lower_bound"
	mLoadRateUtilization     = "load_rate_utilization"
	mLoad429Failures         = "load_429_failures"
	mLoadExtraCallsRatio     = "load_extra_calls_ratio"
	mLoadCallsPerTicket      = "load_calls_per_ticket"
	mHostCPUMicrosPerCall    = "host_cpu_us_per_call"
	mExtractRowsPerSecond    = "extract_rows_per_s"
	mExtractPluginVsInProc   = "extract_plugin_vs_inprocess"
	mStageRowsPerSecond      = "stage_rows_per_s"
	mWasmRecordsPerSecond    = "wasm_records_per_s"
	mWasmVsNative            = "wasm_vs_native"
	mPeakRSSMegabytesMillion = "peak_rss_mb_1m"
)

// target is what a metric must meet: op is "<=", ">=" or "==", or "" for a
// figure that is only reported.
type target struct {
	op    string
	value float64
}

// String renders the target as the issue writes it: "≤ 1.15", "report".
func (t target) String() string {
	sym := map[string]string{"<=": "≤ ", ">=": "≥ ", "==": ""}[t.op]
	if t.op == "" {
		return "report"
	}
	return sym + groupThousands(strconv.FormatFloat(t.value, 'f', -1, 64))
}

// met reports whether v meets the target; judged is false for a figure
// that is only reported.
func (t target) met(v float64) (ok, judged bool) {
	switch t.op {
	case "<=":
		return v <= t.value, true
	case ">=":
		return v >= t.value, true
	case "==":
		return v == t.value, true
	}
	return false, false
}

// metric is one line of the table and one key of results.json.
type metric struct {
	name     string
	target   target
	decimals int    // how many decimals the value keeps
	unit     string // shown after the value in the table
}

// metrics are issue 9's, with their targets.
var metrics = []metric{
	{mE2EVsLowerBound, target{"<=", 1.15}, 3, "×"},
	{mLoadRateUtilization, target{">=", 0.95}, 3, ""},
	{mLoad429Failures, target{"==", 0}, 0, "records"},
	{mLoadExtraCallsRatio, target{"<=", 0.02}, 4, ""},
	{mLoadCallsPerTicket, target{}, 2, "calls"},
	{mHostCPUMicrosPerCall, target{"<=", 100}, 1, "µs"},
	{mExtractRowsPerSecond, target{}, 0, "rows/s"},
	{mExtractPluginVsInProc, target{">=", 0.6}, 3, "×"},
	{mStageRowsPerSecond, target{">=", 5_000_000}, 0, "rows/s"},
	{mWasmRecordsPerSecond, target{">=", 1_000_000}, 0, "records/s"},
	{mWasmVsNative, target{}, 3, "×"},
	{mPeakRSSMegabytesMillion, target{"<=", 512}, 1, "MB"},
}

// results holds the measured values by metric name; a metric whose phase
// failed or did not run is absent.
type results map[string]float64

// round keeps the metric's decimals.
func (m metric) round(v float64) float64 {
	p := math.Pow(10, float64(m.decimals))
	return math.Round(v*p) / p
}

// writeJSON writes {"metrics": {...}} with every metric, in the issue's
// order; a metric not measured is null.
func (r results) writeJSON(path string) error {
	var b bytes.Buffer
	b.WriteString("{\n  \"metrics\": {\n")
	for i, m := range metrics {
		name, _ := json.Marshal(m.name)
		val := []byte("null")
		if v, ok := r[m.name]; ok && !math.IsNaN(v) && !math.IsInf(v, 0) {
			val = []byte(strconv.FormatFloat(m.round(v), 'f', -1, 64))
		}
		sep := ","
		if i == len(metrics)-1 {
			sep = ""
		}
		fmt.Fprintf(&b, "    %s: %s%s\n", name, val, sep)
	}
	b.WriteString("  }\n}\n")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	return nil
}

// writeTable prints metric, value, target and ok/missed, one line each.
// It returns how many judged targets were missed.
func (r results) writeTable(w io.Writer) (missed int, err error) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "metric\tvalue\ttarget\tresult")
	for _, m := range metrics {
		v, ok := r[m.name]
		if !ok {
			fmt.Fprintf(tw, "%s\t-\t%s\tnot measured\n", m.name, m.target)
			continue
		}
		verdict := "report"
		if met, judged := m.target.met(m.round(v)); judged {
			verdict = "ok"
			if !met {
				verdict = "missed"
				missed++
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", m.name, formatValue(m, v), m.target, verdict)
	}
	return missed, tw.Flush()
}

// formatValue renders a value with its metric's decimals, thousands
// grouped, and its unit.
func formatValue(m metric, v float64) string {
	s := groupThousands(strconv.FormatFloat(m.round(v), 'f', m.decimals, 64))
	if m.unit != "" {
		s += " " + m.unit
	}
	return s
}

// groupThousands puts commas between the thousands of a decimal number's
// integer part: "5000000.5" becomes "5,000,000.5".
func groupThousands(s string) string {
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	whole, frac, hasFrac := strings.Cut(s, ".")
	var b strings.Builder
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if hasFrac {
		return sign + b.String() + "." + frac
	}
	return sign + b.String()
}
