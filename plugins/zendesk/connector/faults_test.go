package connector

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferryhq/ferry/plugins/zendesk/zendesktest"
	"github.com/ferryhq/ferry/sdk/schema"
	"github.com/ferryhq/ferry/sdk/source/faults"
)

func TestRetries(t *testing.T) {
	t.Run("server errors are retried", func(t *testing.T) {
		z := startZendesk(t, zendesktest.GenerateOptions{Tickets: 80}, zendesktest.ServerOptions{})
		z.srv.InjectFault(zendesktest.Fault{Path: "/api/v2/incremental/tickets/cursor.json", Status: http.StatusServiceUnavailable, Times: 2})
		z.srv.InjectFault(zendesktest.Fault{Path: "/api/v2/incremental/ticket_events.json", Status: http.StatusInternalServerError, Times: 1})
		z.srv.InjectFault(zendesktest.Fault{Path: "/api/v2/groups.json", Status: http.StatusBadGateway, Times: 3})

		res, err := read(t, testConnector(), z.config(t, 50), []string{schema.Groups, schema.Tickets, schema.Comments}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := len(res.rows[schema.Tickets]); got != 80 {
			t.Errorf("%d tickets, want 80", got)
		}
		if got := len(res.rows[schema.Comments]); got != z.hd.CommentCount() {
			t.Errorf("%d comments, want %d", got, z.hd.CommentCount())
		}
		st := z.srv.Stats()
		if st.Statuses[503] != 2 || st.Statuses[500] != 1 || st.Statuses[502] != 3 {
			t.Errorf("statuses %v: the faults did not all happen", st.Statuses)
		}
	})

	t.Run("a 429 is waited out as Retry-After says", func(t *testing.T) {
		// The connector is not told the exports' limit of one a second: it
		// meets it.
		z := startZendesk(t, zendesktest.GenerateOptions{Tickets: 30}, zendesktest.ServerOptions{IncrementalPerMinute: 1, RateLimitWindow: time.Second})
		start := time.Now()
		res, err := read(t, testConnector(), z.config(t, 20), []string{schema.Tickets}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := len(res.rows[schema.Tickets]); got != 30 {
			t.Errorf("%d tickets, want 30", got)
		}
		if st := z.srv.Stats(); st.Statuses[http.StatusTooManyRequests] == 0 || time.Since(start) < 900*time.Millisecond {
			t.Errorf("statuses %v after %v: the second page should have met a 429 and waited a second", st.Statuses, time.Since(start))
		}
	})

	t.Run("an error that outlasts the retries fails the read", func(t *testing.T) {
		z := startZendesk(t, zendesktest.GenerateOptions{Tickets: 5}, zendesktest.ServerOptions{})
		z.srv.InjectFault(zendesktest.Fault{Path: "/api/v2/groups.json", Status: http.StatusInternalServerError})
		res, err := read(t, testConnector(), z.config(t, 0), nil, nil)
		if err == nil || !strings.Contains(err.Error(), "500") || !strings.Contains(err.Error(), "groups") {
			t.Fatalf("error = %v, want the groups' 500", err)
		}
		if n := z.srv.Stats().Requests[zendesktest.EndpointGroups]; n != fastPolicy().attempts {
			t.Errorf("%d tries, want %d", n, fastPolicy().attempts)
		}
		// What came before is committed; what came after never started.
		if len(res.rows[schema.Users]) == 0 || len(res.rows[schema.Tickets]) != 0 {
			t.Errorf("users %d, tickets %d", len(res.rows[schema.Users]), len(res.rows[schema.Tickets]))
		}
	})

	t.Run("a client error is not retried", func(t *testing.T) {
		z := startZendesk(t, zendesktest.GenerateOptions{Tickets: 5}, zendesktest.ServerOptions{})
		z.srv.InjectFault(zendesktest.Fault{Path: "/api/v2/ticket_fields.json", Status: http.StatusForbidden})
		_, err := read(t, testConnector(), z.config(t, 0), []string{schema.TicketFields}, nil)
		if err == nil || !strings.Contains(err.Error(), "403") {
			t.Fatalf("error = %v", err)
		}
		if n := z.srv.Stats().Requests[zendesktest.EndpointTicketFields]; n != 1 {
			t.Errorf("%d tries of a 403, want 1", n)
		}
	})
}

// TestFaultsYieldTheSameRecords reads a help desk, every option on, once
// cleanly and once through a network and an API that fail a tenth of the
// requests (429s with and without Retry-After, 5xx, resets, truncated
// bodies, stalls): the two reads must stage exactly the same records.
func TestFaultsYieldTheSameRecords(t *testing.T) {
	hd := zendesktest.Generate(zendesktest.GenerateOptions{Seed: 5, Tickets: 80, End: testEnd()})
	srv := zendesktest.NewServer(hd, zendesktest.ServerOptions{})
	var handler atomic.Pointer[http.Handler]
	serve := http.Handler(srv)
	handler.Store(&serve)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*handler.Load()).ServeHTTP(w, r) }))
	t.Cleanup(ts.Close)
	z := &zendesk{hd: hd, srv: srv, ts: ts}
	// Small pages: more requests, more faults.
	cfg := z.config(t, 10, everything)
	// Patient, as a real read is, but without the real waits.
	conn := testConnector()
	conn.retry = retryPolicy{attempts: 10, throttled: 20, backoff: time.Millisecond, maxBackoff: 20 * time.Millisecond, maxWait: 5 * time.Second}

	clean := rowsOf(t, conn, cfg, nil)
	faults := faults.Wrap(srv, faults.Options{Rate: 0.1, Seed: 18, Stall: 100 * time.Millisecond})
	faulty := http.Handler(faults)
	handler.Store(&faulty)
	flaky := rowsOf(t, conn, cfg, nil)

	injected := faults.Injected()
	if len(injected) < 5 {
		t.Fatalf("faults injected: %v; the test means more kinds of them", injected)
	}
	t.Logf("faults injected: %v, requests served: %d", injected, faults.Served())
	for _, s := range schema.StreamNames() {
		a, b := sortedRows(clean.rows[s]), sortedRows(flaky.rows[s])
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: %d records through the faults, %d without, or they differ", s, len(b), len(a))
		}
	}
	if !reflect.DeepEqual(clean.errors, flaky.errors) || !reflect.DeepEqual(clean.skips, flaky.skips) {
		t.Errorf("record errors %v and skips %v through the faults; %v and %v without", flaky.errors, flaky.skips, clean.errors, clean.skips)
	}
	if len(clean.rows[schema.Comments]) != hd.CommentCount() {
		t.Errorf("%d comments, want %d", len(clean.rows[schema.Comments]), hd.CommentCount())
	}
}

func sortedRows(rows []map[string]any) []map[string]any {
	out := slices.Clone(rows)
	slices.SortFunc(out, func(a, b map[string]any) int { return strings.Compare(a["id"].(string), b["id"].(string)) })
	return out
}

// TestPacingAvoidsRateLimits reads from an emulator that allows 12
// requests a second, and 3 incremental exports: told the exports' limit,
// the connector paces on it and on the rate-limit headers and meets no
// 429, without waiting much longer than the limits make it.
func TestPacingAvoidsRateLimits(t *testing.T) {
	const perWindow, exportsPerWindow = 12, 3
	z := startZendesk(t, zendesktest.GenerateOptions{Tickets: 20, Articles: 20}, zendesktest.ServerOptions{
		RequestsPerMinute: perWindow, IncrementalPerMinute: exportsPerWindow, RateLimitWindow: time.Second,
	})
	conn := testConnector()
	conn.window = time.Second
	cfg := z.config(t, 50, everything, func(c *Config) { c.IncrementalPerMinute = exportsPerWindow })

	start := time.Now()
	res := rowsOf(t, conn, cfg, nil)
	elapsed := time.Since(start)
	st := z.srv.Stats()
	if n := st.Statuses[http.StatusTooManyRequests]; n != 0 {
		t.Errorf("%d answers were 429: the pacing let requests run into the limit (calls %v)", n, st.Requests)
	}
	checkHelpDesk(t, z, res, true, true)
	// Each full window's worth of requests costs at most a window's wait,
	// and a little: more means sleeping for nothing.
	exports := st.Requests[zendesktest.EndpointUsersExport] + st.Requests[zendesktest.EndpointTicketsExport] + st.Requests[zendesktest.EndpointTicketEvents]
	windows := max(st.Total()/perWindow, exports/exportsPerWindow)
	if limit := time.Duration(windows+1)*time.Second + 500*time.Millisecond; elapsed > limit {
		t.Errorf("%d requests (%d exports) took %v, more than the %v the limits call for", st.Total(), exports, elapsed, limit)
	}
	t.Logf("%d requests (%d exports) in %v", st.Total(), exports, elapsed)
}
