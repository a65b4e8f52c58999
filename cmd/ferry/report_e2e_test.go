package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ferryhq/ferry/host/report"
	"github.com/ferryhq/ferry/plugins/zendesk/zendesktest"
)

// TestReportEndToEnd migrates a help desk in which Intercom refuses two end
// users (their emails are not emails) and a filter leaves two tickets out,
// then checks ferry report's files against the workspace: every ledger row
// in exactly one CSV, as the ledger holds it; summary.json's counts equal
// to ferry report --json; report.html showing the table's numbers and the
// failures' reason. Then the emails are mended and a second migrate brings
// what failed or was skipped: the report shows that run's delta.
func TestReportEndToEnd(t *testing.T) {
	w := newWorld(t, zendesktest.GenerateOptions{Seed: 23, Tickets: 12, EndUsers: 8, Organizations: 3, MaxComments: 4})

	// Two requesters Intercom will refuse, and two tickets of others to
	// filter out.
	broken := map[int64]string{}
	var left []string
	for _, tk := range w.hd.Tickets {
		switch {
		case len(broken) < 2 && broken[tk.RequesterID] == "":
			broken[tk.RequesterID] = deref(w.hd.User(tk.RequesterID).Email)
		case len(left) < 2 && broken[tk.RequesterID] == "":
			left = append(left, id(tk.ID))
		}
	}
	w.zd.Mutate(func(hd *zendesktest.HelpDesk) {
		for i := range hd.Users {
			if _, ok := broken[hd.Users[i].ID]; ok {
				bad := fmt.Sprintf("user %d at nowhere", hd.Users[i].ID)
				hd.Users[i].Email = &bad
			}
		}
	})
	filter := fmt.Sprintf("id NOT IN ('%s', '%s')", left[0], left[1])
	w.mustFerry("migrate", "-w", w.ws, "--no-verify", "--filter", filter) // the page then says no verify ran

	out := w.mustFerry("report", "-w", w.ws)
	dir := filepath.Join(w.ws, report.DirName)
	if !strings.Contains(out, "ENTITY") || !strings.Contains(out, filepath.Join(dir, report.ReportHTML)) {
		t.Errorf("ferry report does not print the table and where the page is:\n%s", out)
	}
	rep := w.report()
	if rep["contacts"].Failed != len(broken) || rep["tickets"].Failed == 0 || rep["tickets"].Skipped != len(left) {
		t.Fatalf("the migration did not fail and skip as the test needs: %+v", rep)
	}
	w.checkReportFiles(t, dir, rep)

	page := readReportFile(t, filepath.Join(dir, report.ReportHTML))
	table := reportText(page[strings.Index(page, `<table id="summary"`):])
	table = table[:strings.Index(table, "Total")+40]
	for _, e := range []string{"tickets", "comments", "attachments", "contacts", "companies"} {
		c := rep[e]
		if want := fmt.Sprintf("%s %d %d %d %d", e, c.Available, c.Migrated, c.Failed, c.Skipped); !strings.Contains(table, want) {
			t.Errorf("report.html does not show %q:\n%s", want, table)
		}
	}
	text := reportText(page)
	for _, want := range []string{"is not a valid email", "Not verified yet.", "The first load of this workspace."} {
		if !strings.Contains(text, want) {
			t.Errorf("report.html does not say %q", want)
		}
	}

	// The emails mended in the source, a second migrate brings what
	// failed and what the filter left out: the delta. (The change is dated
	// after the help desk's last one, and more than a minute ago: an
	// incremental export leaves out the last minute.)
	var at time.Time
	for _, u := range w.hd.Users {
		if u.UpdatedAt.After(at) {
			at = u.UpdatedAt
		}
	}
	at = at.Add(time.Hour).Truncate(time.Second)
	w.zd.Mutate(func(hd *zendesktest.HelpDesk) {
		for i := range hd.Users {
			if email, ok := broken[hd.Users[i].ID]; ok {
				hd.Users[i].Email, hd.Users[i].UpdatedAt = &email, at
			}
		}
	})
	w.mustFerry("migrate", "-w", w.ws)
	out2 := filepath.Join(t.TempDir(), "second")
	stdout, stderr, code := w.ferry("report", "-w", w.ws, "--json", "--out", out2)
	if code != 0 || !strings.Contains(stderr, filepath.Join(out2, report.ReportHTML)) {
		t.Fatalf("ferry report --json --out: exit %d\n%s\n%s", code, stdout, stderr)
	}
	var js struct {
		Entities map[string]entityCounts `json:"entities"`
	}
	if err := json.Unmarshal([]byte(stdout), &js); err != nil {
		t.Fatalf("ferry report --json prints no JSON (where the files went belongs on stderr): %v\n%s", err, stdout)
	}
	if js.Entities["contacts"].Failed != 0 || js.Entities["tickets"].Failed != 0 || js.Entities["tickets"].Skipped != 0 {
		t.Errorf("after the second migrate: %+v", js.Entities)
	}
	sum := w.checkReportFiles(t, out2, js.Entities)

	// The latest run's delta is run_changes' for that run.
	delta := map[string][2]int64{}
	for _, r := range w.queryCSV("SELECT entity, created, updated FROM run_changes WHERE run_id = (SELECT max(id) FROM runs WHERE command = 'migrate')") {
		var c, u int64
		fmt.Sscan(r[1], &c)
		fmt.Sscan(r[2], &u)
		delta[r[0]] = [2]int64{c, u}
	}
	if sum.LatestRun == nil || sum.LatestRun.EarlierRuns != 1 || sum.LatestRun.Command != "migrate" {
		t.Fatalf("latest run = %+v, want the second migrate", sum.LatestRun)
	}
	for e, ch := range sum.LatestRun.Entities {
		if got := [2]int64{ch.Created, ch.Updated}; got != delta[e] {
			t.Errorf("latest run's %s: created, updated = %v; run_changes says %v", e, got, delta[e])
		}
		delete(delta, e)
	}
	if len(delta) != 0 {
		t.Errorf("run_changes has %v, which the report does not", delta)
	}
	if got := sum.LatestRun.Entities["contacts"].Created; got != int64(len(broken)) {
		t.Errorf("the second migrate created %d contacts, want the %d mended", got, len(broken))
	}
	if text := reportText(readReportFile(t, filepath.Join(out2, report.ReportHTML))); !strings.Contains(text, "A delta over 1 earlier run") {
		t.Errorf("report.html does not show the delta:\n%s", text)
	}
}

// summaryFile is what the end-to-end test reads of summary.json.
type summaryFile struct {
	Entities  map[string]entityCounts `json:"entities"`
	LatestRun *struct {
		Command     string `json:"command"`
		EarlierRuns int64  `json:"earlier_runs"`
		Entities    map[string]struct {
			Created int64 `json:"created"`
			Updated int64 `json:"updated"`
		} `json:"entities"`
	} `json:"latest_run"`
	FailuresByReason struct {
		Groups []struct {
			Entity  string `json:"entity"`
			Reason  string `json:"reason"`
			Records int    `json:"records"`
		} `json:"groups"`
		OtherRecords int `json:"other_records"`
	} `json:"failures_by_reason"`
}

// checkReportFiles checks a report's files against the workspace and the
// summary ferry report --json printed, and returns summary.json.
func (w *world) checkReportFiles(t *testing.T, dir string, rep map[string]entityCounts) summaryFile {
	t.Helper()
	for _, name := range report.Files() {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", name, fi.Mode().Perm())
		}
	}

	// Every ledger row is in exactly one CSV, the one of its outcome, with
	// the ledger's values.
	ledger := map[[2]string][]string{}
	for _, r := range w.queryCSV("SELECT entity, source_id, outcome, intercom_id, reason, stage, run_id FROM ledger") {
		ledger[[2]string{r[0], r[1]}] = r
	}
	seen := map[[2]string]bool{}
	for outcome, name := range map[string]string{"migrated": report.MigratedCSV, "failed": report.FailedCSV, "skipped": report.SkippedCSV} {
		recs, err := csv.NewReader(strings.NewReader(readReportFile(t, filepath.Join(dir, name)))).ReadAll()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if strings.Join(recs[0], ",") != "entity,source_id,intercom_id,reason,stage,run_id,recorded_at" {
			t.Errorf("%s: header %v", name, recs[0])
		}
		for _, r := range recs[1:] {
			k := [2]string{r[0], r[1]}
			l, ok := ledger[k]
			switch {
			case !ok:
				t.Errorf("%s: %s %s is not in the ledger", name, r[0], r[1])
			case seen[k]:
				t.Errorf("%s: %s %s is in more than one file", name, r[0], r[1])
			case l[2] != outcome || l[3] != r[2] || l[4] != r[3] || l[5] != r[4] || l[6] != r[5]:
				t.Errorf("%s: %q; the ledger holds %q", name, r, l)
			}
			seen[k] = true
		}
	}
	if len(seen) != len(ledger) {
		t.Errorf("the CSV files hold %d records, the ledger %d", len(seen), len(ledger))
	}

	// summary.json's counts are ferry report --json's.
	var sum summaryFile
	if err := json.Unmarshal([]byte(readReportFile(t, filepath.Join(dir, report.SummaryJSON))), &sum); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(sum.Entities) != fmt.Sprint(rep) {
		t.Errorf("summary.json's entities %v, ferry report --json's %v", sum.Entities, rep)
	}
	failed := sum.FailuresByReason.OtherRecords
	for _, g := range sum.FailuresByReason.Groups {
		failed += g.Records
	}
	if want := rep["tickets"].Failed + rep["comments"].Failed + rep["attachments"].Failed + rep["contacts"].Failed + rep["companies"].Failed; failed != want {
		t.Errorf("summary.json's failure groups count %d records, want %d", failed, want)
	}
	return sum
}

// queryCSV runs ferry query and returns its rows (without the header).
func (w *world) queryCSV(sql string) [][]string {
	w.t.Helper()
	recs, err := csv.NewReader(strings.NewReader(w.mustFerry("query", "-w", w.ws, "--format", "csv", sql))).ReadAll()
	if err != nil {
		w.t.Fatal(err)
	}
	return recs[1:]
}

func readReportFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var (
	reportTagRE   = regexp.MustCompile(`(?s)<style.*?</style>|<[^>]*>`)
	reportSpaceRE = regexp.MustCompile(`\s+`)
)

// reportText is what a person reads of a page: its text, spaces collapsed.
func reportText(page string) string {
	return strings.TrimSpace(reportSpaceRE.ReplaceAllString(html.UnescapeString(reportTagRE.ReplaceAllString(page, " ")), " "))
}
