package report

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/ferryhq/ferry/host/stage"
)

// summaryFile is summary.json. Its entities are `ferry report --json`'s,
// so that a script reads either the same way.
type summaryFile struct {
	GeneratedAt time.Time                     `json:"generated_at"`
	Workspace   string                        `json:"workspace"`
	Entities    map[string]stage.EntityCounts `json:"entities"`
	Totals      stage.EntityCounts            `json:"totals"`
	// Verify is null until `ferry verify` has run.
	Verify           *verifyJSON         `json:"verify"`
	FailuresByReason ReasonGroups        `json:"failures_by_reason"`
	SkippedByReason  ReasonGroups        `json:"skipped_by_reason"`
	LatestRun        *runJSON            `json:"latest_run"`
	Files            map[string]fileJSON `json:"files"`
	// OlderWorkspace: written by an older ferry, the workspace cannot say
	// what verify found or what the runs changed (both are null).
	OlderWorkspace bool `json:"older_workspace,omitempty"`
}

type verifyJSON struct {
	RunID          int64                      `json:"run_id"`
	CheckedAt      time.Time                  `json:"checked_at"`
	RecordsChecked int64                      `json:"records_checked"`
	FactsChecked   int64                      `json:"facts_checked"`
	Mismatches     int64                      `json:"mismatches"`
	Entities       map[string]verifyCountJSON `json:"entities"`
}

type verifyCountJSON struct {
	Verified   int64 `json:"verified"`
	Mismatched int64 `json:"mismatched"`
	Unchecked  int64 `json:"unchecked"`
}

type runJSON struct {
	RunID       int64                     `json:"run_id"`
	Command     string                    `json:"command"`
	Status      string                    `json:"status"`
	StartedAt   time.Time                 `json:"started_at"`
	FinishedAt  *time.Time                `json:"finished_at"` // null while it runs
	EarlierRuns int64                     `json:"earlier_runs"`
	Entities    map[string]runChangesJSON `json:"entities"`
}

type runChangesJSON struct {
	Created int64 `json:"created"`
	Updated int64 `json:"updated"`
	Failed  int64 `json:"failed"`
	Skipped int64 `json:"skipped"`
}

type fileJSON struct {
	Rows int64 `json:"rows"`
}

func writeSummaryJSON(files *outFiles, sum *Summary) error {
	f := summaryFile{
		GeneratedAt:      sum.GeneratedAt,
		Workspace:        sum.Workspace,
		Entities:         make(map[string]stage.EntityCounts, len(sum.Entities)),
		Totals:           sum.Totals,
		FailuresByReason: sum.Failures,
		SkippedByReason:  sum.Skips,
		Files:            map[string]fileJSON{},
		OlderWorkspace:   sum.OlderWorkspace,
	}
	for _, e := range sum.Entities {
		f.Entities[e.Entity] = e
	}
	for name, n := range sum.Rows {
		f.Files[name] = fileJSON{Rows: n}
	}
	if v := sum.Verify; v != nil {
		f.Verify = &verifyJSON{RunID: v.RunID, CheckedAt: v.CheckedAt, RecordsChecked: v.RecordsChecked,
			FactsChecked: v.FactsChecked, Mismatches: v.Mismatches, Entities: map[string]verifyCountJSON{}}
		for _, e := range v.Entities {
			f.Verify.Entities[e.Entity] = verifyCountJSON{Verified: e.Verified, Mismatched: e.Mismatched, Unchecked: e.Unchecked}
		}
	}
	if r := sum.LatestRun; r != nil {
		f.LatestRun = &runJSON{RunID: r.RunID, Command: r.Command, Status: r.Status, StartedAt: r.StartedAt,
			EarlierRuns: r.EarlierRuns, Entities: map[string]runChangesJSON{}}
		if !r.FinishedAt.IsZero() {
			f.LatestRun.FinishedAt = &r.FinishedAt
		}
		for _, e := range r.Entities {
			f.LatestRun.Entities[e.Entity] = runChangesJSON{Created: e.Created, Updated: e.Updated, Failed: e.Failed, Skipped: e.Skipped}
		}
	}
	of, err := files.create(SummaryJSON)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(of)
	enc.SetIndent("", "  ")
	if err := enc.Encode(f); err != nil {
		return fmt.Errorf("write %s: %w", SummaryJSON, err)
	}
	return nil
}
