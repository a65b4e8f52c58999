package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ferryhq/ferry/plugins/zendesk/zendesktest"
)

// TestMigrateOverlaps runs a migration whose comments export takes a while
// (small pages, paced at the account's incremental limit): ferry migrate
// loads tickets while the comments are still being extracted, in several
// passes, and the sandbox ends exactly the source, every ticket once. A
// second migrate then sends no writes.
func TestMigrateOverlaps(t *testing.T) {
	w := newWorld(t, zendesktest.GenerateOptions{Seed: 23, Tickets: 40, EndUsers: 20, Organizations: 4})
	// A page of ten updates in a fifth of a second: the comments take
	// seconds to extract, and the tickets they complete load meanwhile.
	w.slowComments(200*time.Millisecond, 10)

	_, stderr, code := w.ferry("migrate", "-w", w.ws)
	if code != 0 {
		t.Fatalf("ferry migrate: exit %d\n%s", code, stderr)
	}
	m := regexp.MustCompile(`load: (\d+) passes, all but the last while extracting`).FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("migrate did not load while extracting:\n%s", stderr)
	}
	if n, _ := strconv.Atoi(m[1]); n < 3 {
		t.Errorf("%d load passes, want several while the comments export ran:\n%s", n, stderr)
	}
	t.Logf("%s load passes", m[1])
	// The passes share one preflight (the verify has its own).
	if n := w.ic.Stats().Endpoints["GET /admins"].Requests; n != 2 {
		t.Errorf("%d × GET /admins, want one for the load's passes and one for the verify", n)
	}
	// The proof of the overlap is in the workspace: tickets were migrated
	// before the last comments were staged.
	rows := w.queryCSV(`SELECT
  (SELECT count(*) FROM ledger WHERE entity = 'tickets' AND outcome = 'migrated'
     AND recorded_at < (SELECT max(_extracted_at) FROM comments)),
  (SELECT count(*) FROM comments WHERE _extracted_at > (SELECT min(recorded_at) FROM ledger WHERE entity = 'tickets' AND outcome = 'migrated'))`)
	if len(rows) != 1 || rows[0][0] == "0" || rows[0][1] == "0" {
		t.Errorf("tickets migrated before the last comment was staged, comments staged after the first ticket migrated: %v; want both above 0", rows)
	}
	t.Logf("%s tickets migrated before the last comment was staged; %s comments staged after the first ticket was migrated", rows[0][0], rows[0][1])

	w.checkMigratedExactly(t)

	before := w.ic.Stats()
	w.mustFerry("migrate", "-w", w.ws)
	for ep, st := range w.ic.Stats().Endpoints {
		if n := st.Requests - before.Endpoints[ep].Requests; n != 0 && !strings.HasPrefix(ep, "GET ") {
			t.Errorf("a second migrate sent %d × %s, want no writes", n, ep)
		}
	}
}

// slowComments makes the world's ticket events export answer pages of
// pageSize updates, each after delay: a comments extract that takes a
// while, as a large help desk's does at Zendesk's rate limits.
func (w *world) slowComments(delay time.Duration, pageSize int) {
	w.t.Helper()
	w.routeZendesk(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/v2/incremental/ticket_events") {
			time.Sleep(delay)
		}
		w.zd.ServeHTTP(rw, r)
	}), fmt.Sprintf("page_size: %d, incremental_per_minute: 1000", pageSize))
}

// routeZendesk points the world's source config at h, served on a server
// of its own in front of the emulator (to slow it or break it), with
// settings added to the config.
func (w *world) routeZendesk(h http.Handler, settings string) {
	w.t.Helper()
	front := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		// The emulator writes links (next pages, attachments) to the host
		// asked: the world's, as the other tests see them.
		r.Host = strings.TrimPrefix(w.zendesk.URL, "http://")
		h.ServeHTTP(rw, r)
	}))
	w.t.Cleanup(front.Close)
	cfgPath := filepath.Join(w.ws, "ferry.yaml")
	cfg, err := os.ReadFile(cfgPath)
	if err != nil {
		w.t.Fatal(err)
	}
	routed := strings.Replace(string(cfg), fmt.Sprintf(`base_url: %q`, w.zendesk.URL), fmt.Sprintf(`base_url: %q`, front.URL), 1)
	if settings != "" {
		routed = strings.Replace(routed, `token: "${ZENDESK_TOKEN}" }`, `token: "${ZENDESK_TOKEN}", `+settings+` }`, 1)
	}
	if !strings.Contains(routed, front.URL) || settings != "" && !strings.Contains(routed, settings) {
		w.t.Fatalf("ferry.yaml: no source config to route:\n%s", cfg)
	}
	if err := os.WriteFile(cfgPath, []byte(routed), 0o600); err != nil {
		w.t.Fatal(err)
	}
}

// checkMigratedExactly checks that every ticket, comment, contact and
// company of the source was migrated (the report's counts), and that the
// sandbox holds exactly the source (checkExact); it returns the report.
func (w *world) checkMigratedExactly(t *testing.T) map[string]entityCounts {
	t.Helper()
	var endUsers []zendesktest.User
	for _, u := range w.hd.Users {
		if !u.IsAgent() {
			endUsers = append(endUsers, u)
		}
	}
	rep := w.report()
	for entity, n := range map[string]int{"tickets": len(w.hd.Tickets), "comments": w.hd.CommentCount(), "contacts": len(endUsers), "companies": len(w.hd.Organizations)} {
		if got := rep[entity]; got != (entityCounts{Available: n, Migrated: n}) {
			t.Errorf("report %s = %+v, want %d available and migrated", entity, got, n)
		}
	}
	w.checkExact(t, endUsers)
	return rep
}
