package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/ferryhq/ferry/host/load"
	"github.com/ferryhq/ferry/host/pipeline"
	"github.com/ferryhq/ferry/host/stage"
)

// mismatchesShown is how many of the mismatches verify prints; the rest
// are in the workspace's audit_mismatches.
const mismatchesShown = 20

func verifyCommand() *cli.Command {
	return &cli.Command{
		Name:  "verify",
		Usage: "read back from Intercom what was migrated and compare it with the source",
		Description: `Reads back from Intercom every object the workspace says ferry migrated, and
compares it with the staged source, fact by fact:
  tickets: the number of parts against the comments (split parts counted), and
    each part's author, visibility (reply or note), order, timestamp, body and
    files (count, names, sizes); tags, custom attributes, assignee, team,
    state and title;
  contacts: email, name, phone, company links and custom attributes;
  companies: name and custom attributes;
  collections and articles: names, titles, bodies and translations.
What Intercom should hold is what the load sends for the source (its
mapping of agents, comments and fields), so a mismatch is Intercom holding
something else: a part lost or doubled, an object changed or deleted there.

With --checksums, every file whose Intercom copy lives at another URL than
the source's is downloaded from both and their SHA-256 compared. The
downloads carry no credentials: a file only the help desk's login can read
is not compared (the log says which).

Verify sends Intercom only reads. The results replace the previous verify's
in the workspace, for auditors to query:
   ferry query "SELECT * FROM audit_summary"
   ferry query "SELECT * FROM audit_mismatches"
   ferry query "SELECT * FROM ticket_comparison WHERE NOT all_ok"
and ferry report shows them. Exits 1 when anything does not match.`,
		Flags: []cli.Flag{workspaceFlag,
			&cli.BoolFlag{Name: "checksums", Usage: "also download every file from the source and Intercom's copy, and compare their bytes (SHA-256)"}},
		Action: func(c *cli.Context) error {
			env, closeEnv, err := openEnv(c)
			if err != nil {
				return err
			}
			defer closeEnv()
			var audit load.Audit
			err = inRun(c, env, "verify", func(runID int64) error {
				audit, err = pipeline.Verify(c.Context, env, runID, 0, c.Bool("checksums"))
				return err
			})
			if err != nil {
				return err
			}
			out := c.App.Writer
			writeAudit(out, audit)
			mismatched := 0
			for _, n := range audit {
				mismatched += n.Mismatched
			}
			if mismatched == 0 {
				fmt.Fprintln(out, "\nIntercom holds what the source says, for every record checked.")
				return nil
			}
			if err := writeMismatches(c, out, env.Workspace); err != nil {
				return err
			}
			return cli.Exit(fmt.Sprintf("%d records differ from the source in Intercom", mismatched), 1)
		},
	}
}

// writeAudit prints what verify found per entity, in the summary's order.
func writeAudit(w io.Writer, audit load.Audit) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "ENTITY\tCHECKED\tVERIFIED\tMISMATCHED\t")
	for _, e := range stage.SummaryEntities() {
		if n, ok := audit[e]; ok {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t\n", e, n.Checked, n.Verified, n.Mismatched)
		}
	}
	tw.Flush()
}

// writeMismatches prints the first mismatches, and how to see them all.
func writeMismatches(c *cli.Context, w io.Writer, ws *stage.Workspace) error {
	rows, err := ws.DB().QueryContext(c.Context, `SELECT entity, source_id, fact, reason FROM audit_mismatches ORDER BY entity, source_id, fact LIMIT ?`, mismatchesShown+1)
	if err != nil {
		return fmt.Errorf("read the mismatches: %w", err)
	}
	defer rows.Close()
	fmt.Fprintln(w, "\nMismatches:")
	var n int
	for rows.Next() {
		var entity, id, fact, reason string
		if err := rows.Scan(&entity, &id, &fact, &reason); err != nil {
			return fmt.Errorf("read the mismatches: %w", err)
		}
		if n++; n > mismatchesShown {
			break
		}
		fmt.Fprintf(w, "  %s %s, %s: %s\n", entity, id, fact, reason)
	}
	if n > mismatchesShown {
		fmt.Fprintf(w, "  … and more: ferry query -w %s \"SELECT * FROM audit_mismatches\"\n", c.String("workspace"))
	}
	return rows.Err()
}
