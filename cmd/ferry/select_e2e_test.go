package main

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/ferryhq/ferry/plugins/zendesk/zendesktest"
)

// TestFilterAndDemo: a filter migrates only the tickets it keeps and
// reports the rest as skipped with their comments; a bad filter is refused
// before anything runs; a demo migrates N random tickets and only the people
// they name, the same ones for the same seed.
func TestFilterAndDemo(t *testing.T) {
	t.Run("filter", func(t *testing.T) {
		w := newWorld(t, zendesktest.GenerateOptions{Seed: 5, Tickets: 40})
		closed := 0
		for _, tk := range w.hd.Tickets {
			if tk.Status == "closed" || tk.Status == "solved" {
				closed++
			}
		}
		filter := "status IN ('closed', 'solved')"
		if _, stderr, code := w.ferry("migrate", "-w", w.ws, "--filter", "status = "); code != exitUsage || !strings.Contains(stderr, `filter "status = "`) {
			t.Fatalf("a broken filter: exit %d, %s", code, stderr)
		}
		if n := len(w.ic.Snapshot().Contacts); n != 0 {
			t.Fatalf("a refused filter still created %d contacts", n)
		}
		w.mustFerry("extract", "-w", w.ws)
		out := w.mustFerry("plan", "-w", w.ws, "--filter", filter)
		if !strings.Contains(out, "kept by the filter") || !strings.Contains(out, filter) || !strings.Contains(out, "INTERCOM CALLS") {
			t.Errorf("plan:\n%s", out)
		}
		// The plan's estimate is what the load sends.
		m := regexp.MustCompile(`(?m)^total\s+(\d+)`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("plan shows no total of calls:\n%s", out)
		}
		before := w.ic.Stats().Requests
		w.mustFerry("migrate", "-w", w.ws, "--no-verify", "--filter", filter) // the plan estimates the load alone
		if sent := w.ic.Stats().Requests - before; fmt.Sprint(sent) != m[1] {
			t.Errorf("plan estimated %s Intercom calls, the migrate sent %d:\n%s", m[1], sent, out)
		}
		rep := w.report()
		if got := rep["tickets"]; got.Migrated != closed || got.Skipped != len(w.hd.Tickets)-closed || got.Failed != 0 {
			t.Errorf("tickets = %+v, want %d migrated and %d skipped", got, closed, len(w.hd.Tickets)-closed)
		}
		if got := rep["comments"]; got.Migrated+got.Skipped != got.Available || got.Skipped == 0 {
			t.Errorf("comments = %+v: the filtered tickets' comments must be skipped", got)
		}
		if n := len(w.ic.Snapshot().Conversations); n != closed {
			t.Errorf("%d conversations, want %d", n, closed)
		}
		reason := w.mustFerry("query", "-w", w.ws, "--format", "csv", "SELECT DISTINCT reason FROM ledger WHERE entity = 'tickets' AND outcome = 'skipped'")
		if !strings.Contains(reason, "filtered: "+filter) {
			t.Errorf("skip reasons: %s", reason)
		}
	})
	t.Run("demo", func(t *testing.T) {
		w := newWorld(t, zendesktest.GenerateOptions{Seed: 6, Tickets: 40})
		w.mustFerry("migrate", "-w", w.ws, "--demo", "5", "--seed", "3")
		snap := w.ic.Snapshot()
		if n := len(snap.Conversations); n != 5 {
			t.Fatalf("a demo of 5 made %d conversations", n)
		}
		if n := len(snap.Contacts); n == 0 || n >= 40 {
			t.Errorf("a demo of 5 tickets created %d contacts, want only the people they name", n)
		}
		picks := w.mustFerry("query", "-w", w.ws, "--format", "csv", "SELECT ticket_id FROM demo_picks ORDER BY 1")
		w.mustFerry("migrate", "-w", w.ws, "--demo", "5", "--seed", "3")
		if n := len(w.ic.Snapshot().Conversations); n != 5 {
			t.Errorf("the same demo again made %d conversations in all, want the same 5", n)
		}
		again := w.mustFerry("query", "-w", w.ws, "--format", "csv", "SELECT DISTINCT ticket_id FROM demo_picks ORDER BY 1")
		if picks != again {
			t.Errorf("the same seed picked other tickets:\n%s\n%s", picks, again)
		}
		rep := w.report()
		if got := rep["tickets"]; got.Migrated != 5 || got.Skipped != 0 || got.Failed != 0 {
			t.Errorf("tickets after a demo = %+v: the others are neither skipped nor failed", got)
		}
	})
}
