// Package report writes a migration's reports from its workspace: what an
// auditor downloads, opens in a spreadsheet or a browser, and keeps.
//
// Into one folder (by default reports/ in the workspace folder) it writes:
//   - migrated.csv, failed.csv and skipped.csv: every record of the ledger,
//     each in the file of its outcome, as entity, source_id, intercom_id,
//     reason, stage, run_id, recorded_at;
//   - summary.json: the four columns per entity, what the latest verify
//     found, failures and skips grouped by reason, and the latest run's
//     delta;
//   - report.html: one self-contained page (no scripts, no external
//     resources; it works offline, from a file) with the same.
//
// It exists apart from the stages that write the workspace because it only
// reads: every query goes through stage.Query, so a report can be made while
// another ferry extracts, loads or verifies (that ferry answers the queries),
// and it streams the ledger, so a workspace of millions of records is never
// held in memory. While another ferry writes, each part of the report shows
// the workspace as it was when that part was read.
//
// Everything in the workspace that came from the source, a transform or
// Intercom is treated as hostile: the page is built with html/template and
// allows no scripts, and a CSV cell a spreadsheet would run as a formula is
// neutralized. The files are their owner's only (0600, in a 0700 folder the
// report makes) and appear together, once complete.
package report

import (
	"cmp"
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/ferryhq/ferry/host/stage"
)

// The files a report writes, in its folder.
const (
	MigratedCSV = "migrated.csv"
	FailedCSV   = "failed.csv"
	SkippedCSV  = "skipped.csv"
	SummaryJSON = "summary.json"
	ReportHTML  = "report.html"
)

// DirName is the report folder's name in the workspace folder, where
// reports go unless told otherwise.
const DirName = "reports"

// Files are the files a report writes, in the order it writes them.
func Files() []string {
	return []string{MigratedCSV, FailedCSV, SkippedCSV, SummaryJSON, ReportHTML}
}

// CSVHeader is the header of the three CSV files: the four columns a
// person reads first, then where, in which run and when the outcome was
// recorded.
func CSVHeader() []string {
	return []string{"entity", "source_id", "intercom_id", "reason", "stage", "run_id", "recorded_at"}
}

// Defaults of Options.
const (
	DefaultTopReasons    = 20
	DefaultMaxMismatches = 500
)

// Options say what to report and where.
type Options struct {
	// Workspace is the workspace folder.
	Workspace string
	// Out is the folder to write into; "" means DirName in the workspace
	// folder.
	Out string
	// Entities, when set, is the four-column summary as the caller read it
	// already (stage.QuerySummary), so that what it prints and the files
	// agree; else it is read.
	Entities []stage.EntityCounts
	// Now is the clock of generated_at; nil means time.Now.
	Now func() time.Time
	// TopReasons is how many groups of failures (and of skips) are listed;
	// 0 means DefaultTopReasons.
	TopReasons int
	// MaxMismatches is how many of verify's mismatches the page lists;
	// 0 means DefaultMaxMismatches. summary.json counts them all.
	MaxMismatches int
}

// Summary is what a report found, as summary.json and report.html show it.
type Summary struct {
	GeneratedAt time.Time
	// Workspace and Out are absolute paths.
	Workspace, Out string
	// Entities are the four columns per entity, in the order of
	// `ferry report`; Totals adds them up.
	Entities []stage.EntityCounts
	Totals   stage.EntityCounts
	// Rows counts the rows written to each CSV file, by file name.
	Rows map[string]int64
	// Failures and Skips group the failed and the skipped records by
	// entity and reason.
	Failures, Skips ReasonGroups
	// Verify is what the latest `ferry verify` found; nil when none ran.
	Verify *Verification
	// LatestRun is what the latest load or migrate did; nil when none ran.
	LatestRun *RunDelta
	// OlderWorkspace is a workspace last written by an older ferry, which
	// has no audit tables nor run_changes: Verify and LatestRun are nil.
	OlderWorkspace bool
}

// Verification is what the latest verify found.
type Verification struct {
	RunID     int64
	CheckedAt time.Time
	// RecordsChecked and FactsChecked count what it compared; Mismatches
	// counts the facts that differ (the rows of audit_mismatches).
	RecordsChecked, FactsChecked, Mismatches int64
	// Entities are audit_summary's counts per entity.
	Entities []VerifyCounts
	// MismatchRows are the first Options.MaxMismatches mismatches, by
	// entity, source id and fact.
	MismatchRows []Mismatch
}

// VerifyCounts are one entity's line of audit_summary.
type VerifyCounts struct {
	Entity                          string
	Verified, Mismatched, Unchecked int64
}

// Mismatch is one fact a verify found different in Intercom.
type Mismatch struct {
	Entity, SourceID, IntercomID, Fact, Expected, Actual, Reason string
}

// RunDelta is what one load or migrate run did, per entity: a delta
// migration's changes.
type RunDelta struct {
	RunID                 int64
	Command, Status       string
	StartedAt, FinishedAt time.Time
	// EarlierRuns counts the loads and migrates before it: above 0, the
	// run was a delta over what they migrated.
	EarlierRuns int64
	Entities    []RunChanges
}

// RunChanges are one entity's changes in a run: objects created in
// Intercom, records brought up to date (run_changes), and records whose
// latest outcome, recorded in the run, is failed or skipped.
type RunChanges struct {
	Entity                            string
	Created, Updated, Failed, Skipped int64
}

// Write reads the workspace and writes the report's files into the
// report folder, replacing an earlier report there. It returns what it
// found and wrote.
func Write(ctx context.Context, opts Options) (*Summary, error) {
	opts.TopReasons = cmp.Or(opts.TopReasons, DefaultTopReasons)
	opts.MaxMismatches = cmp.Or(opts.MaxMismatches, DefaultMaxMismatches)
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	ws, err := filepath.Abs(opts.Workspace)
	if err != nil {
		return nil, fmt.Errorf("report on %s: %w", opts.Workspace, err)
	}
	out := opts.Out
	if out == "" {
		out = filepath.Join(ws, DirName)
	}
	if out, err = filepath.Abs(out); err != nil {
		return nil, fmt.Errorf("report into %s: %w", opts.Out, err)
	}
	sum := &Summary{GeneratedAt: now().UTC(), Workspace: ws, Out: out, Entities: opts.Entities}

	// The small reads first: a workspace that cannot be read makes no folder.
	if sum.Entities == nil {
		if sum.Entities, err = stage.QuerySummary(ctx, ws); err != nil {
			return nil, err
		}
	}
	for _, e := range sum.Entities {
		sum.Totals.Available += e.Available
		sum.Totals.Migrated += e.Migrated
		sum.Totals.Failed += e.Failed
		sum.Totals.Skipped += e.Skipped
	}
	order := entityOrder(sum.Entities)
	rels, err := relations(ctx, ws)
	if err != nil {
		return nil, err
	}
	// A workspace no ferry of this version has written yet has neither
	// (any extract, load or migrate brings it up to date).
	sum.OlderWorkspace = !rels["audit_checks"] || !rels["run_changes"]
	if !sum.OlderWorkspace {
		if sum.Verify, err = readVerification(ctx, ws, order, opts.MaxMismatches); err != nil {
			return nil, err
		}
		if sum.LatestRun, err = readLatestRun(ctx, ws, order); err != nil {
			return nil, err
		}
	}

	files, err := newOutFiles(out)
	if err != nil {
		return nil, err
	}
	defer files.abort()
	if err := writeLedger(ctx, ws, files, sum, opts.TopReasons); err != nil {
		return nil, err
	}
	if err := writeSummaryJSON(files, sum); err != nil {
		return nil, err
	}
	if err := writeHTML(files, sum); err != nil {
		return nil, err
	}
	if err := files.commit(); err != nil {
		return nil, err
	}
	return sum, nil
}

// entityOrder ranks entities as the summary lists them; others go after,
// by name.
func entityOrder(sum []stage.EntityCounts) func(a, b string) int {
	rank := make(map[string]int, len(sum))
	for i, e := range sum {
		rank[e.Entity] = i
	}
	return func(a, b string) int {
		ra, oka := rank[a]
		rb, okb := rank[b]
		switch {
		case oka && okb:
			return cmp.Compare(ra, rb)
		case oka:
			return -1
		case okb:
			return 1
		}
		return cmp.Compare(a, b)
	}
}

// writeLedger streams the ledger into the three CSV files, and groups the
// failed and skipped records by reason on the way.
func writeLedger(ctx context.Context, ws string, files *outFiles, sum *Summary, top int) error {
	byOutcome := map[string]*csvFile{}
	for _, f := range []struct{ outcome, name string }{{stage.Migrated, MigratedCSV}, {stage.Failed, FailedCSV}, {stage.Skipped, SkippedCSV}} {
		of, err := files.create(f.name)
		if err != nil {
			return err
		}
		if byOutcome[f.outcome], err = newCSVFile(of, CSVHeader()); err != nil {
			return err
		}
	}
	failures, skips := newReasonGroups(), newReasonGroups()
	// Sorted, so that two reports of the same workspace are the same files
	// and the examples of a group are its first records. DuckDB sorts
	// beyond memory when it must.
	const q = `SELECT outcome, entity, source_id, intercom_id, reason, stage, run_id, recorded_at
FROM ledger WHERE outcome IN ('migrated', 'failed', 'skipped') ORDER BY entity, source_id`
	rec := make([]string, len(CSVHeader()))
	err := each(ctx, ws, "the ledger", q, func(r row) error {
		outcome, entity, sourceID, reason := r.str(0), r.str(1), r.str(2), r.str(4)
		rec[0], rec[1], rec[2], rec[3], rec[4] = entity, sourceID, r.str(3), reason, r.str(5)
		rec[5], rec[6] = "", ""
		if id := r.int(6); id != 0 {
			rec[5] = strconv.FormatInt(id, 10)
		}
		if t := r.time(7); !t.IsZero() {
			rec[6] = t.Format(time.RFC3339Nano)
		}
		switch outcome {
		case stage.Failed:
			failures.add(entity, sourceID, reason)
		case stage.Skipped:
			skips.add(entity, sourceID, reason)
		}
		return byOutcome[outcome].write(rec)
	})
	if err != nil {
		return err
	}
	sum.Rows = map[string]int64{}
	for _, c := range byOutcome {
		if err := c.flush(); err != nil {
			return err
		}
		sum.Rows[c.of.name] = c.rows
	}
	sum.Failures, sum.Skips = failures.top(top), skips.top(top)
	return nil
}

// relations returns the names of the workspace's tables and views.
func relations(ctx context.Context, ws string) (map[string]bool, error) {
	out := map[string]bool{}
	err := each(ctx, ws, "the workspace's tables", `SELECT table_name FROM duckdb_tables() WHERE NOT internal AND schema_name = 'main'
UNION ALL SELECT view_name FROM duckdb_views() WHERE NOT internal AND schema_name = 'main'`, func(r row) error {
		out[r.str(0)] = true
		return nil
	})
	return out, err
}

// readVerification reads what the latest verify found, or nil when none
// ran (audit_checks is empty).
func readVerification(ctx context.Context, ws string, order func(a, b string) int, maxRows int) (*Verification, error) {
	var v Verification
	err := each(ctx, ws, "the audit", `SELECT count(*), count(DISTINCT (entity, source_id)), count(*) FILTER (WHERE NOT ok),
  max(run_id), max(checked_at) FROM audit_checks`, func(r row) error {
		v.FactsChecked, v.RecordsChecked, v.Mismatches, v.RunID, v.CheckedAt = r.int(0), r.int(1), r.int(2), r.int(3), r.time(4)
		return nil
	})
	if err != nil || v.FactsChecked == 0 {
		return nil, err
	}
	err = each(ctx, ws, "the audit summary", `SELECT entity, verified, mismatched, unchecked FROM audit_summary`, func(r row) error {
		v.Entities = append(v.Entities, VerifyCounts{Entity: r.str(0), Verified: r.int(1), Mismatched: r.int(2), Unchecked: r.int(3)})
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(v.Entities, func(a, b VerifyCounts) int { return order(a.Entity, b.Entity) })
	err = each(ctx, ws, "the audit's mismatches", fmt.Sprintf(`SELECT entity, source_id, intercom_id, fact, expected, actual, reason
FROM audit_mismatches ORDER BY entity, source_id, fact LIMIT %d`, maxRows), func(r row) error {
		v.MismatchRows = append(v.MismatchRows, Mismatch{Entity: r.str(0), SourceID: r.str(1), IntercomID: r.str(2),
			Fact: r.str(3), Expected: r.str(4), Actual: r.str(5), Reason: r.str(6)})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &v, nil
}

// readLatestRun reads what the latest load or migrate did, or nil when
// none ran.
func readLatestRun(ctx context.Context, ws string, order func(a, b string) int) (*RunDelta, error) {
	var run *RunDelta
	err := each(ctx, ws, "the runs", `SELECT id, command, status, started_at, finished_at,
  (SELECT count(*) FROM runs e WHERE e.command IN ('load', 'migrate') AND e.id < r.id)
FROM runs r WHERE command IN ('load', 'migrate') ORDER BY id DESC LIMIT 1`, func(r row) error {
		run = &RunDelta{RunID: r.int(0), Command: r.str(1), Status: r.str(2), StartedAt: r.time(3), FinishedAt: r.time(4), EarlierRuns: r.int(5)}
		return nil
	})
	if err != nil || run == nil {
		return nil, err
	}
	err = each(ctx, ws, "the latest run's changes", fmt.Sprintf(`WITH c AS (
  SELECT entity, created, updated FROM run_changes WHERE run_id = %[1]d
), o AS (
  SELECT entity, count(*) FILTER (WHERE outcome = 'failed') AS failed, count(*) FILTER (WHERE outcome = 'skipped') AS skipped
  FROM ledger WHERE run_id = %[1]d GROUP BY entity
)
SELECT entity, coalesce(c.created, 0), coalesce(c.updated, 0), coalesce(o.failed, 0), coalesce(o.skipped, 0)
FROM c FULL JOIN o USING (entity)`, run.RunID), func(r row) error {
		run.Entities = append(run.Entities, RunChanges{Entity: r.str(0), Created: r.int(1), Updated: r.int(2), Failed: r.int(3), Skipped: r.int(4)})
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(run.Entities, func(a, b RunChanges) int { return order(a.Entity, b.Entity) })
	return run, nil
}
