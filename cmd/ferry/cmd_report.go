package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/ferryhq/ferry/host/stage"
)

func reportCommand() *cli.Command {
	return &cli.Command{
		Name:  "report",
		Usage: "show what was available, migrated, failed and skipped",
		Description: `Prints the four-column summary per entity. With --json, prints
{"entities": {"tickets": {"available": N, "migrated": N, "failed": N, "skipped": N}, ...}}
for scripts. It works while another ferry extracts or loads (that ferry
answers then), showing what is committed so far. The reasons for each failed
or skipped record are in the ledger:
   ferry query "SELECT entity, reason, count(*) FROM ledger WHERE outcome <> 'migrated' GROUP BY ALL"`,
		Flags: []cli.Flag{
			workspaceFlag,
			&cli.BoolFlag{Name: "json", Usage: "print the summary as JSON"},
		},
		Action: func(c *cli.Context) error {
			// Through Query, not the file: a load in progress holds the
			// file, and answers for it.
			sum, err := stage.QuerySummary(c.Context, c.String("workspace"))
			if err != nil {
				return err
			}
			if c.Bool("json") {
				return writeSummaryJSON(c.App.Writer, sum)
			}
			return writeSummary(c.App.Writer, sum)
		},
	}
}

// writeSummaryJSON writes the summary in the report --json contract.
func writeSummaryJSON(w io.Writer, sum []stage.EntityCounts) error {
	entities := make(map[string]stage.EntityCounts, len(sum))
	for _, e := range sum {
		entities[e.Entity] = e
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(map[string]any{"entities": entities})
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
