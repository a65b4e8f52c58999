package main

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/ferryhq/ferry/host/report"
	"github.com/ferryhq/ferry/host/stage"
)

func reportCommand() *cli.Command {
	return &cli.Command{
		Name:  "report",
		Usage: "show what was available, migrated, failed and skipped, and write the report files",
		Description: `Prints the four-column summary per entity. With --json, prints
{"entities": {"tickets": {"available": N, "migrated": N, "failed": N, "skipped": N}, ...}}
for scripts (and says on stderr where the files went).

It also writes the report's files into --out (default: reports/ in the
workspace folder), replacing the previous report there; they hold customers'
data, so only you can read them:
   report.html    one page to open in a browser (works offline): the table,
                  a chart of outcomes per entity, failures and skips grouped
                  by reason with example ids, what the latest ferry verify
                  found (or that none ran), and the latest run's delta:
                  what it created and brought up to date
   migrated.csv   every migrated record, failed.csv and skipped.csv every
                  failed and skipped one: entity, source_id, intercom_id,
                  reason, stage, run_id, recorded_at
   summary.json   the page's numbers, for scripts

It works while another ferry extracts, loads or verifies (that ferry answers
then), showing what is committed so far. The workspace answers more:
   ferry query "SELECT entity, reason, count(*) FROM failures GROUP BY ALL ORDER BY 3 DESC"
   ferry query "SELECT * FROM audit_mismatches"
   ferry query "SELECT entity, created, updated FROM run_changes WHERE run_id = (SELECT max(run_id) FROM run_changes)"`,
		Flags: []cli.Flag{
			workspaceFlag,
			&cli.BoolFlag{Name: "json", Usage: "print the summary as JSON"},
			&cli.StringFlag{Name: "out", Usage: "the folder to write the report files into (default: reports/ in the workspace folder)"},
		},
		Action: func(c *cli.Context) error {
			// Through Query, not the file: a load in progress holds the
			// file, and answers for it.
			ws := c.String("workspace")
			sum, err := stage.QuerySummary(c.Context, ws)
			if err != nil {
				return err
			}
			// stdout is the summary (and with --json, a contract): where
			// the files went goes to stderr then.
			rep, err := report.Write(c.Context, report.Options{Workspace: ws, Out: c.String("out"), Entities: sum})
			if err != nil {
				return fmt.Errorf("write the report files: %w", err)
			}
			where := c.App.Writer
			if c.Bool("json") {
				where = c.App.ErrWriter
				err = writeSummaryJSON(c.App.Writer, sum, rep.Verify)
			} else {
				err = writeSummary(c.App.Writer, sum)
			}
			if err != nil {
				return err
			}
			return writeReportFiles(where, rep)
		},
	}
}

// writeReportFiles says where the report's files are.
func writeReportFiles(w io.Writer, rep *report.Summary) error {
	fmt.Fprintf(w, "\nreport: %s\n", filepath.Join(rep.Out, report.ReportHTML))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, name := range []string{report.MigratedCSV, report.FailedCSV, report.SkippedCSV} {
		fmt.Fprintf(tw, "  %s\t%d %s\n", name, rep.Rows[name], plural(rep.Rows[name], "row", "rows"))
	}
	fmt.Fprintf(tw, "  %s\t%s\n", report.SummaryJSON, "the numbers, for scripts")
	return tw.Flush()
}

// writeSummaryJSON writes the summary in the report --json contract, with
// "verify": {"checked": N, "mismatches": N} (records) once a verify ran.
func writeSummaryJSON(w io.Writer, sum []stage.EntityCounts, v *report.Verification) error {
	entities := make(map[string]stage.EntityCounts, len(sum))
	for _, e := range sum {
		entities[e.Entity] = e
	}
	out := map[string]any{"entities": entities}
	if v != nil {
		var mismatched int64
		for _, e := range v.Entities {
			mismatched += e.Mismatched
		}
		out["verify"] = map[string]int64{"checked": v.RecordsChecked, "mismatches": mismatched}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// writeSummary writes the four-column table.
func writeSummary(w io.Writer, sum []stage.EntityCounts) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "ENTITY\tAVAILABLE\tMIGRATED\tFAILED\tSKIPPED\t")
	for _, e := range sum {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t\n", e.Entity, e.Available, e.Migrated, e.Failed, e.Skipped)
	}
	return tw.Flush()
}
