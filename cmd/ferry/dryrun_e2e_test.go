package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferryhq/ferry/plugins/zendesk/zendesktest"
)

// TestLoadDryRun: a dry run sends Intercom nothing but reads, leaves the
// workspace as it was, and writes every request the load would send; the
// real load then sends exactly those writes.
func TestLoadDryRun(t *testing.T) {
	w := newWorld(t, zendesktest.GenerateOptions{Seed: 9, Tickets: 12})
	w.mustFerry("extract", "-w", w.ws)
	countRows := func(table string) string {
		return strings.TrimSpace(w.mustFerry("query", "-w", w.ws, "--format", "csv", "SELECT count(*) AS n FROM "+table))
	}
	ledger, idMap, runs := countRows("ledger"), countRows("id_map"), countRows("runs")

	before := w.ic.Stats()
	_, stderr, code := w.ferry("load", "-w", w.ws, "--demo", "4", "--dry-run")
	if code != 0 {
		t.Fatalf("dry run: exit %d\n%s", code, stderr)
	}
	for ep, st := range w.ic.Stats().Endpoints {
		if !strings.HasPrefix(ep, "GET ") && st.Requests != before.Endpoints[ep].Requests {
			t.Errorf("the dry run sent %s to Intercom", ep)
		}
	}
	if !strings.Contains(stderr, "dry-run.jsonl") || !strings.Contains(stderr, "the load would end with") {
		t.Errorf("dry run output:\n%s", stderr)
	}
	if got := []string{countRows("ledger"), countRows("id_map"), countRows("runs")}; got[0] != ledger || got[1] != idMap || got[2] != runs {
		t.Errorf("the dry run changed the workspace: ledger, id map, runs %v, were %v", got, []string{ledger, idMap, runs})
	}

	f, err := os.Open(filepath.Join(w.ws, "dry-run.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	writes := map[string]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var r struct {
			Method, Path string
			Body         map[string]any
			Status       int
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		if r.Status >= 300 {
			t.Errorf("the stand-in refused %s %s: %d", r.Method, r.Path, r.Status)
		}
		if r.Method == "GET" {
			continue
		}
		if r.Path == "/conversations" && r.Body["created_at"] == nil {
			t.Errorf("a conversation create without created_at: %v", r.Body)
		}
		writes[r.Method]++
	}
	if writes["POST"] == 0 {
		t.Fatalf("the dry run wrote no creates")
	}

	// The real load sends those writes.
	before = w.ic.Stats()
	w.mustFerry("load", "-w", w.ws, "--demo", "4")
	after := w.ic.Stats()
	sent := map[string]int{}
	for ep, st := range after.Endpoints {
		method, _, _ := strings.Cut(ep, " ")
		if method != "GET" {
			sent[method] += int(st.Requests - before.Endpoints[ep].Requests)
		}
	}
	if sent["POST"] != writes["POST"] || sent["PUT"] != writes["PUT"] {
		t.Errorf("the load sent %v, the dry run said %v", sent, writes)
	}
	if n := len(w.ic.Snapshot().Conversations); n != 4 {
		t.Errorf("%d conversations after the real load, want 4", n)
	}
}
