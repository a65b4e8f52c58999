package report

import (
	"bufio"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ferryhq/ferry/host/stage"
)

// writeReport writes the fixture's report into a fresh folder.
func writeReport(t *testing.T, f *fixture) *Summary {
	t.Helper()
	sum, err := Write(t.Context(), Options{Workspace: f.dir, Out: filepath.Join(t.TempDir(), "out"), Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCSVFilesHoldEveryLedgerRowOnce(t *testing.T) {
	f := newFixture(t, true)
	sum := writeReport(t, f)
	tests := []struct {
		file, outcome string
		rows          int
	}{
		{MigratedCSV, stage.Migrated, 44},
		{FailedCSV, stage.Failed, 12},
		{SkippedCSV, stage.Skipped, 8},
	}
	seen := map[[2]string]string{}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			recs, err := csv.NewReader(strings.NewReader(readFile(t, filepath.Join(sum.Out, tt.file)))).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(recs[0], CSVHeader()) || !slices.Equal(recs[0][:4], []string{"entity", "source_id", "intercom_id", "reason"}) {
				t.Fatalf("header %q, want %q", recs[0], CSVHeader())
			}
			var got [][]string
			for _, r := range recs[1:] {
				if _, err := time.Parse(time.RFC3339Nano, r[6]); err != nil {
					t.Errorf("recorded_at %q: %v", r[6], err)
				}
				got = append(got, r[:6])
				k := [2]string{r[0], r[1]}
				if other, ok := seen[k]; ok {
					t.Errorf("%s %s is in %s and %s", r[0], r[1], other, tt.file)
				}
				seen[k] = tt.file
			}
			want := f.wantRows(tt.outcome)
			for _, r := range want {
				for i := range r {
					r[i] = cellSafe(r[i]) // a formula is neutralized; see TestCellSafe
				}
			}
			if len(got) != tt.rows || !slices.EqualFunc(got, want, slices.Equal) {
				t.Errorf("%d rows:\n%q\nwant %d:\n%q", len(got), got, tt.rows, want)
			}
			if sum.Rows[tt.file] != int64(tt.rows) {
				t.Errorf("Rows[%s] = %d, want %d", tt.file, sum.Rows[tt.file], tt.rows)
			}
		})
	}
	if len(seen) != len(f.want) {
		t.Errorf("the files hold %d records, the ledger %d", len(seen), len(f.want))
	}
}

func TestSummaryJSON(t *testing.T) {
	f := newFixture(t, true)
	sum := writeReport(t, f)
	var got struct {
		GeneratedAt string                        `json:"generated_at"`
		Workspace   string                        `json:"workspace"`
		Entities    map[string]stage.EntityCounts `json:"entities"`
		Totals      stage.EntityCounts            `json:"totals"`
		Verify      *struct {
			RunID          int64  `json:"run_id"`
			CheckedAt      string `json:"checked_at"`
			RecordsChecked int64  `json:"records_checked"`
			FactsChecked   int64  `json:"facts_checked"`
			Mismatches     int64  `json:"mismatches"`
			Entities       map[string]struct{ Verified, Mismatched, Unchecked int64 }
		} `json:"verify"`
		FailuresByReason ReasonGroups `json:"failures_by_reason"`
		SkippedByReason  ReasonGroups `json:"skipped_by_reason"`
		LatestRun        *struct {
			RunID       int64   `json:"run_id"`
			Command     string  `json:"command"`
			Status      string  `json:"status"`
			EarlierRuns int64   `json:"earlier_runs"`
			FinishedAt  *string `json:"finished_at"`
			Entities    map[string]struct{ Created, Updated, Failed, Skipped int64 }
		} `json:"latest_run"`
		Files map[string]struct{ Rows int64 } `json:"files"`
	}
	dec := json.NewDecoder(strings.NewReader(readFile(t, filepath.Join(sum.Out, SummaryJSON))))
	if err := dec.Decode(&got); err != nil {
		t.Fatal(err)
	}
	type counts = stage.EntityCounts
	checks := []struct {
		name      string
		got, want any
	}{
		{"generated_at", got.GeneratedAt, "2025-03-14T15:09:26Z"},
		{"workspace", got.Workspace, f.dir},
		{"tickets", got.Entities["tickets"], counts{Available: 15, Migrated: 9, Failed: 4, Skipped: 2}},
		{"comments", got.Entities["comments"], counts{Available: 25, Migrated: 17, Failed: 4, Skipped: 4}},
		{"attachments", got.Entities["attachments"], counts{Available: 12, Migrated: 8, Failed: 2, Skipped: 2}},
		{"contacts", got.Entities["contacts"], counts{Available: 8, Migrated: 7, Failed: 1}},
		{"companies", got.Entities["companies"], counts{Available: 4, Migrated: 3, Failed: 1}},
		{"entities", len(got.Entities), 5},
		{"totals", got.Totals, counts{Available: 64, Migrated: 44, Failed: 12, Skipped: 8}},
		{"verify run", got.Verify.RunID, f.verifyRun},
		{"verify checked_at set", got.Verify.CheckedAt != "", true},
		{"records checked", got.Verify.RecordsChecked, int64(15)},
		{"facts checked", got.Verify.FactsChecked, int64(31)},
		{"mismatches", got.Verify.Mismatches, int64(3)},
		{"verify tickets", got.Verify.Entities["tickets"], struct{ Verified, Mismatched, Unchecked int64 }{6, 2, 1}},
		{"verify contacts", got.Verify.Entities["contacts"], struct{ Verified, Mismatched, Unchecked int64 }{6, 1, 0}},
		{"verify comments", got.Verify.Entities["comments"], struct{ Verified, Mismatched, Unchecked int64 }{0, 0, 17}},
		{"latest run", got.LatestRun.RunID, f.deltaRun},
		{"latest run command", got.LatestRun.Command, "migrate"},
		{"latest run status", got.LatestRun.Status, stage.RunSucceeded},
		{"latest run finished", got.LatestRun.FinishedAt != nil, true},
		{"earlier runs", got.LatestRun.EarlierRuns, int64(1)},
		{"delta tickets", got.LatestRun.Entities["tickets"], struct{ Created, Updated, Failed, Skipped int64 }{1, 1, 0, 0}},
		{"delta comments", got.LatestRun.Entities["comments"], struct{ Created, Updated, Failed, Skipped int64 }{1, 0, 0, 0}},
		{"delta entities", len(got.LatestRun.Entities), 2},
		{"failed.csv rows", got.Files[FailedCSV].Rows, int64(12)},
		{"failure groups", len(got.FailuresByReason.Groups), 10},
		{"skip groups", len(got.SkippedByReason.Groups), 3},
	}
	for _, c := range checks {
		if fmt.Sprint(c.got) != fmt.Sprint(c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	// Comments not loaded after an earlier one failed: one group, ids left
	// out of the reason; with the attachments of the failed comments, the
	// largest groups.
	var notLoaded ReasonGroup
	for _, g := range got.FailuresByReason.Groups {
		if g.Entity == "comments" && g.Reason == "not loaded: an earlier comment of ticket … failed" {
			notLoaded = g
		}
	}
	if notLoaded.Records != 2 || !slices.Equal(notLoaded.ExampleSourceIDs, []string{"t10-c2", "t9-c2"}) ||
		notLoaded.ExampleReason != "not loaded: an earlier comment of ticket t10 failed" {
		t.Errorf("the group of comments not loaded = %+v", notLoaded)
	}
	if g := got.FailuresByReason.Groups; g[0].Records != 2 || g[1].Records != 2 || g[2].Records != 1 {
		t.Errorf("the failure groups are not largest first: %+v", g)
	}
	var skippedComments ReasonGroup
	for _, g := range got.SkippedByReason.Groups {
		if g.Entity == "comments" {
			skippedComments = g
		}
	}
	if skippedComments.Records != 4 || skippedComments.Reason != "ticket … skipped: filtered: status <> 'closed'" || len(skippedComments.ExampleSourceIDs) != maxExamples {
		t.Errorf("skipped comments = %+v", skippedComments)
	}
}

func TestSummaryJSONWithoutVerifyOrRuns(t *testing.T) {
	dir := t.TempDir()
	ws, err := stage.Open(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	ws.Close()
	sum, err := Write(t.Context(), Options{Workspace: dir, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, DirName); sum.Out != want {
		t.Errorf("default folder %s, want %s", sum.Out, want)
	}
	var got map[string]json.RawMessage
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join(sum.Out, SummaryJSON))), &got); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]string{"verify": "null", "latest_run": "null",
		"failures_by_reason": `{"groups":[],"other_groups":0,"other_records":0}`} {
		if g := strings.Join(strings.Fields(string(got[key])), ""); g != want {
			t.Errorf("%s = %s, want %s", key, g, want)
		}
	}
	page := pageText(readFile(t, filepath.Join(sum.Out, ReportHTML)))
	for _, want := range []string{"Not verified yet.", "No record failed.", "No load has run yet"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page does not say %q:\n%s", want, page)
		}
	}
}

// tagRE and spaceRE turn a page into what a person reads.
var (
	tagRE   = regexp.MustCompile(`(?s)<style.*?</style>|<[^>]*>`)
	spaceRE = regexp.MustCompile(`\s+`)
)

// pageText is the text of a page (or a part of one), tags left out and
// spaces collapsed.
func pageText(page string) string {
	return strings.TrimSpace(spaceRE.ReplaceAllString(html.UnescapeString(tagRE.ReplaceAllString(page, " ")), " "))
}

// element is the markup of the element with the given id, up to its
// closing tag (elements of the same name must not nest).
func element(t *testing.T, page, tag, id string) string {
	t.Helper()
	open := regexp.MustCompile(`<` + tag + `\b[^>]*\bid="` + regexp.QuoteMeta(id) + `"`).FindStringIndex(page)
	if open == nil {
		t.Fatalf("no <%s id=%q> in the page", tag, id)
	}
	end := strings.Index(page[open[0]:], `</`+tag+`>`)
	if end < 0 {
		t.Fatalf("<%s id=%q> is not closed", tag, id)
	}
	return page[open[0] : open[0]+end+len(tag)+3]
}

func TestHTMLShowsTheReport(t *testing.T) {
	f := newFixture(t, true)
	sum := writeReport(t, f)
	page := readFile(t, filepath.Join(sum.Out, ReportHTML))
	tests := []struct {
		name, tag, id string
		want          []string
	}{
		{"four-column table", "table", "summary", []string{
			"Entity Available Migrated Failed Skipped",
			"tickets 15 9 4 2", "comments 25 17 4 4", "attachments 12 8 2 2", "contacts 8 7 1 0", "companies 4 3 1 0",
			"Total 64 44 12 8"}},
		{"chart", "svg", "outcome-chart", []string{
			"tickets: 15 available, 9 migrated, 4 failed, 2 skipped", "tickets: 9 migrated of 15 (60.0%)", "60.0% migrated"}},
		{"failures", "table", "failure-reasons", []string{
			`not loaded: an earlier comment of ticket … failed e.g. not loaded: an earlier comment of ticket t10 failed comments 2 t10-c2, t9-c2`,
			`create contact: 400 Bad Request: parameter_invalid: "…" is not a valid email e.g. create contact: 400 Bad Request: parameter_invalid: "not-an-email" is not a valid email contacts 1 u8`,
			`requester … was not migrated e.g. requester u8 was not migrated tickets 1 t9`}},
		{"skips", "table", "skip-reasons", []string{`ticket … skipped: filtered: status <> 'closed'`, "comments 4 t11-c1, t11-c2, t12-c1"}},
		{"verification", "table", "verify-summary", []string{"Entity Verified Mismatched Unchecked", "tickets 6 2 1", "contacts 6 1 0", "comments 0 0 17"}},
		{"mismatches", "table", "mismatches", []string{
			"Entity Source id Intercom id Fact Expected Actual Reason",
			"tickets t2 ic-t2 bodies <p>Hello</p> <p>Hello</p><img src=x onerror=alert(1)> part 2's body differs",
			"tickets t5 ic-t5 parts 2 1 Intercom holds 1 part of 2",
			"contacts u7 ic-u7 name Zoë Ashford Zoe Ashford the name differs"}},
		{"delta", "table", "run-changes", []string{"Entity Created Updated Failed Skipped", "tickets 1 1 0 0", "comments 1 0 0 0"}},
		{"run", "section", "latest-run", []string{fmt.Sprintf("Run %d", f.deltaRun), "ferry migrate", "succeeded", "A delta over 1 earlier run"}},
		{"files", "section", "files", []string{"migrated.csv · 44 rows", "failed.csv · 12 rows", "skipped.csv · 8 rows", "summary.json"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := pageText(element(t, page, tt.tag, tt.id))
			for _, w := range tt.want {
				if !strings.Contains(text, w) {
					t.Errorf("%q is not shown; the %s says:\n%s", w, tt.id, text)
				}
			}
		})
	}
	if head := pageText(page[:strings.Index(page, "</header>")]); !strings.Contains(head, "Migration report") || !strings.Contains(head, "2025-03-14 15:09:26 UTC") || !strings.Contains(head, f.dir) {
		t.Errorf("the page's head says %q", head)
	}
	// Links to the files beside it, nothing else.
	for _, m := range regexp.MustCompile(`(?:href|src)="([^"]*)"`).FindAllStringSubmatch(page, -1) {
		if !slices.Contains([]string{MigratedCSV, FailedCSV, SkippedCSV, SummaryJSON}, m[1]) {
			t.Errorf("the page refers to %q", m[1])
		}
	}
}

func TestHTMLEscapesWhatTheSourceSays(t *testing.T) {
	f := newFixture(t, true)
	sum := writeReport(t, f)
	page := readFile(t, filepath.Join(sum.Out, ReportHTML))
	if n := strings.Count(page, "<script"); n != 0 {
		t.Errorf("the page has %d <script> elements", n)
	}
	for _, bad := range []string{"<b>bold</b>", "<img src=x", "<Ltd>"} {
		if strings.Contains(page, bad) {
			t.Errorf("the page holds %q as markup", bad)
		}
	}
	// Shown as text, as the source said it.
	text := pageText(element(t, page, "table", "failure-reasons"))
	if !strings.Contains(text, hostileReason) && !strings.Contains(text, `<script>document.title='pwned'</script> & "…" <b>bold</b>`) {
		t.Errorf("the hostile reason is not shown as text:\n%s", text)
	}
	if !strings.Contains(page, "&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;") {
		t.Error("the hostile reason is not escaped as expected")
	}
	if !strings.Contains(page, `http-equiv="Content-Security-Policy" content="default-src 'none';`) {
		t.Error("the page has no content security policy")
	}
	// And in the CSV, as the ledger holds it, a formula neutralized.
	failed := readFile(t, filepath.Join(sum.Out, FailedCSV))
	if !strings.Contains(failed, `"<script>document.title='pwned'</script> & ""quoted"" <b>bold</b>"`) {
		t.Errorf("failed.csv does not hold the reason as it is:\n%s", failed)
	}
	if !strings.Contains(failed, `"'=HYPERLINK(""http://evil.example"",""click"")"`) {
		t.Errorf("failed.csv does not neutralize a formula:\n%s", failed)
	}
}

func TestReasonPattern(t *testing.T) {
	tests := []struct{ in, want string }{
		{"requester 123 was not migrated", "requester … was not migrated"},
		{"requester u8 was not migrated", "requester … was not migrated"},
		{"its comment 42-c1 failed", "its comment … failed"},
		{`create contact: 400 Bad Request: parameter_invalid: "x@y" is not a valid email`, `create contact: 400 Bad Request: parameter_invalid: "…" is not a valid email`},
		{"create conversation: 503 Service Unavailable (after 5 tries)", "create conversation: 503 Service Unavailable (after … tries)"},
		{"status 999 is not HTTP", "status … is not HTTP"},
		{"ticket 123 and 404 Not Found", "ticket … and 404 Not Found"},
		{"requester 404 was not migrated", "requester … was not migrated"},
		{"intercom: POST /contacts: 400 Bad Request: parameter_invalid", "intercom: POST /contacts: 400 Bad Request: parameter_invalid"},
		{"filtered: status <> 'closed'", "filtered: status <> 'closed'"},
		{"  ", noReason},
		{strings.Repeat("a", 600), strings.Repeat("a", maxReasonRunes) + "…"},
	}
	for _, tt := range tests {
		if got := reasonPattern(tt.in); got != tt.want {
			t.Errorf("reasonPattern(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestReasonGroupsStayBounded(t *testing.T) {
	g := newReasonGroups()
	for i := range maxGroups + 50 {
		// Letters only: each is a pattern of its own.
		g.add("tickets", fmt.Sprint(i), strings.Repeat("x", 1+i%3)+strings.Map(func(r rune) rune { return 'a' + (r - '0') }, fmt.Sprint(i)))
	}
	top := g.top(5)
	if len(g.groups) != maxGroups || len(top.Groups) != 5 || top.OtherRecords != 50+maxGroups-5 || top.OtherGroups != maxGroups-5 {
		t.Errorf("%d groups kept; top %d, other groups %d, other records %d", len(g.groups), len(top.Groups), top.OtherGroups, top.OtherRecords)
	}
}

func TestCellSafe(t *testing.T) {
	tests := []struct{ in, want string }{
		{"12345", "12345"},
		{"-12", "-12"},
		{"+1.5", "+1.5"},
		{"=1+1", "'=1+1"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"},
		{"\t=x", "'\t=x"},
		{"create contact: =x", "create contact: =x"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := cellSafe(tt.in); got != tt.want {
			t.Errorf("cellSafe(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestFormatting(t *testing.T) {
	tests := []struct{ got, want string }{
		{thousands(0), "0"},
		{thousands(999), "999"},
		{thousands(1000), "1,000"},
		{thousands(1234567), "1,234,567"},
		{thousands(-1234), "-1,234"},
		{percent(1, 3), "33.3%"},
		{percent(0, 0), "–"},
		{percent(1, 100000), "<0.1%"},
		{percent(99999, 100000), ">99.9%"},
		{percent(5, 5), "100.0%"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestOutcomeChartProportions(t *testing.T) {
	c := outcomeChart([]stage.EntityCounts{
		{Entity: "tickets", Available: 200, Migrated: 150, Failed: 20, Skipped: 10},
		{Entity: "comments", Available: 100000, Migrated: 99999, Failed: 1},
		{Entity: "attachments"},
	})
	want := map[string][]float64{ // widths of migrated, failed, skipped, pending
		"tickets":  {chartBarW * 0.75, chartBarW * 0.1, chartBarW * 0.05, chartBarW * 0.1},
		"comments": {chartBarW - chartMinSeg, chartMinSeg},
	}
	for _, r := range c.Rows {
		var widths []float64
		var end float64 = chartLabelW
		for _, s := range r.Segments {
			if s.X < end-0.02 || s.X > end+0.02 {
				t.Errorf("%s: segment %s starts at %v, want %v", r.Entity, s.Class, s.X, end)
			}
			end = s.X + s.W
			widths = append(widths, s.W)
		}
		if fmt.Sprint(widths) != fmt.Sprint(want[r.Entity]) {
			t.Errorf("%s: widths %v, want %v", r.Entity, widths, want[r.Entity])
		}
		if len(r.Segments) > 0 && (end < chartLabelW+chartBarW-0.05 || end > chartLabelW+chartBarW+0.05) {
			t.Errorf("%s: the bar ends at %v, want %d", r.Entity, end, chartLabelW+chartBarW)
		}
	}
	if c.Rows[2].Note != "none available" {
		t.Errorf("an entity with nothing: %q", c.Rows[2].Note)
	}
}

func TestFilesAreOwnerOnlyAndReplacedWhole(t *testing.T) {
	f := newFixture(t, false)
	out := filepath.Join(t.TempDir(), "reports")
	old := filepath.Join(out, FailedCSV)
	for range 2 { // the second replaces the first
		if _, err := Write(t.Context(), Options{Workspace: f.dir, Out: out}); err != nil {
			t.Fatal(err)
		}
	}
	fi, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("%s has mode %v, want 0700", out, fi.Mode().Perm())
	}
	entries, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", e.Name(), info.Mode().Perm())
		}
	}
	want := Files()
	slices.Sort(names)
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Errorf("the folder holds %v, want %v (no temporary files left)", names, want)
	}

	// A report that fails leaves the one before as it was.
	before := readFile(t, old)
	if _, err := Write(t.Context(), Options{Workspace: t.TempDir(), Out: out}); err == nil {
		t.Fatal("a report of a folder without a workspace succeeded")
	}
	if readFile(t, old) != before {
		t.Error("a failed report changed the one before")
	}
}

// Environment of the holder process of TestReportWhileAnotherFerryHolds.
const holderDirEnv = "FERRY_REPORT_TEST_HOLDER_DIR"

// TestReportHelperHolder is not a test: it is the other ferry of
// TestReportWhileAnotherFerryHolds, in a process of its own. It opens the
// workspace for writing, serves queries, says "ready" and holds the
// workspace until its stdin closes.
func TestReportHelperHolder(t *testing.T) {
	dir := os.Getenv(holderDirEnv)
	if dir == "" {
		t.Skip("the holder process of TestReportWhileAnotherFerryHolds; it runs only when that test starts it")
	}
	ws, err := stage.Open(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	stop, err := ws.ServeQueries(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin)
}

// TestReportWhileAnotherFerryHolds makes a report while another process
// holds the workspace open for writing (as a ferry load does): DuckDB lets
// no one else open the file then, and the report reads through that
// process. The files are those of a report of the file itself.
func TestReportWhileAnotherFerryHolds(t *testing.T) {
	f := newFixture(t, true)
	direct := writeReport(t, f)

	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestReportHelperHolder$", "-test.count=1")
	cmd.Env = append(os.Environ(), holderDirEnv+"="+f.dir)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stdin.Close()
		if err := cmd.Wait(); err != nil {
			t.Errorf("the holder: %v\n%s", err, stderr.String())
		}
	}()
	sc := bufio.NewScanner(stdout)
	if !sc.Scan() || sc.Text() != "ready" {
		t.Fatalf("the holder did not get ready: %q\n%s", sc.Text(), stderr.String())
	}
	go io.Copy(io.Discard, stdout)
	if _, err := stage.OpenReadOnly(t.Context(), f.dir); err == nil {
		t.Fatal("the workspace opened while another process holds it: the test tests nothing")
	}

	held := writeReport(t, f)
	for _, name := range Files() {
		a, b := readFile(t, filepath.Join(direct.Out, name)), readFile(t, filepath.Join(held.Out, name))
		if name == ReportHTML || name == SummaryJSON {
			a, b = strings.ReplaceAll(a, direct.Out, "OUT"), strings.ReplaceAll(b, held.Out, "OUT")
		}
		if a != b {
			t.Errorf("%s differs when another ferry holds the workspace:\n%s\n---\n%s", name, a, b)
		}
	}
}

func TestShellWord(t *testing.T) {
	for in, want := range map[string]string{
		"/tmp/acme":         "/tmp/acme",
		"/tmp/my migration": "'/tmp/my migration'",
		"/tmp/it's":         `'/tmp/it'\''s'`,
		"/tmp/$(rm -rf ~)":  "'/tmp/$(rm -rf ~)'",
	} {
		if got := shellWord(in); got != want {
			t.Errorf("shellWord(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMismatchesAreCapped(t *testing.T) {
	f := newFixture(t, true)
	sum, err := Write(t.Context(), Options{Workspace: f.dir, Out: t.TempDir(), MaxMismatches: 2})
	if err != nil {
		t.Fatal(err)
	}
	page := readFile(t, filepath.Join(sum.Out, ReportHTML))
	if rows := strings.Count(element(t, page, "table", "mismatches"), "<tr>"); rows != 1+2 {
		t.Errorf("the mismatches table has %d rows, want a header and 2", rows)
	}
	if text := pageText(page); !strings.Contains(text, `And 1 more, see ferry query "SELECT * FROM audit_mismatches"`) {
		t.Errorf("the page does not say how many more mismatches there are:\n%s", text)
	}
}

// TestOlderWorkspace reports on a workspace an older ferry wrote (no audit
// tables, no run_changes; reading it read-only does not upgrade it): the
// four columns and the files, and the page says what it cannot know.
func TestOlderWorkspace(t *testing.T) {
	f := newFixture(t, false)
	db, err := sql.Open("duckdb", filepath.Join(f.dir, stage.FileName))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"DROP VIEW run_changes", "DROP VIEW audit_summary", "DROP VIEW audit_mismatches", "DROP VIEW ticket_comparison", "DROP TABLE audit_checks"} {
		if _, err := db.ExecContext(t.Context(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()
	sum, err := Write(t.Context(), Options{Workspace: f.dir, Out: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if !sum.OlderWorkspace || sum.Verify != nil || sum.LatestRun != nil || sum.Rows[FailedCSV] != 12 {
		t.Errorf("summary = %+v", sum)
	}
	if text := pageText(readFile(t, filepath.Join(sum.Out, ReportHTML))); !strings.Contains(text, "An older ferry wrote this workspace.") {
		t.Errorf("the page does not say the workspace is older:\n%s", text)
	}
}
