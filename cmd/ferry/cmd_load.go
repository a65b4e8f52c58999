package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/ferryhq/ferry/host/pipeline"
	"github.com/ferryhq/ferry/host/stage"
)

var strictFlag = &cli.BoolFlag{Name: "strict", Usage: "exit 1 when any record failed (by default a run with failed records exits 0 and says so)"}

// Flags that choose which tickets a load takes.
var (
	filterFlag = &cli.StringFlag{Name: "filter", Usage: "one SQL condition over ticket_overview that a ticket must meet to migrate (overrides filter: in ferry.yaml), e.g. \"created_at >= DATE '2023-01-01'\""}
	demoFlag   = &cli.IntFlag{Name: "demo", Usage: "migrate only this many tickets picked at random (with their people and companies): a demo migration"}
	seedFlag   = &cli.Uint64Flag{Name: "seed", Value: 1, Usage: "with --demo: which random pick (the same seed picks the same tickets)"}
)

// loadOptions reads the selection flags, and validates the filter before
// anything runs.
func loadOptions(c *cli.Context, env *pipeline.Env) (pipeline.LoadOptions, error) {
	opts := pipeline.LoadOptions{Filter: c.String("filter"), Demo: c.Int("demo"), Seed: c.Uint64("seed")}
	if opts.Demo < 0 {
		return opts, usagef("--demo %d: want a number of tickets", opts.Demo)
	}
	if err := stage.ValidateFilter(c.Context, env.Workspace.DB(), env.Selection(opts).Filter); err != nil {
		return opts, usageError{err}
	}
	return opts, nil
}

func loadCommand() *cli.Command {
	return &cli.Command{
		Name:  "load",
		Usage: "transform the staged records and load what is not yet migrated into Intercom",
		Description: `Runs the transforms in ferry.yaml over the staged records, then creates in
Intercom, in order: companies, contacts (linked to their companies), and
conversations with every comment as a part, quietly (no notifications),
keeping source timestamps. Everything created goes into the id map at once:
a rerun creates nothing twice and resumes each ticket at its next comment.

Which tickets: those the filter keeps (filter: in ferry.yaml, or --filter;
the others are reported as skipped, with their comments), or with --demo N
only N of them picked at random (reproducibly with --seed), with just the
contacts and companies they name. See what either would take with ferry plan.

With --dry-run, nothing is sent to Intercom but reads of its admins, teams,
custom attributes and ticket types: the load runs, on a copy of the workspace, into an
in-memory stand-in of your Intercom workspace, and every request it would
send is written to dry-run.jsonl in the workspace folder (--out to choose),
one JSON object a line: method, path, query, body, and the status the
stand-in answered. The workspace is left as it was. (The stand-in cannot
know which of your contacts Intercom has already: the real load adopts
those where the dry run shows a create.)

   ferry load --demo 20 --dry-run
   jq -c 'select(.path == "/conversations")' acme/dry-run.jsonl | head`,
		Flags: []cli.Flag{workspaceFlag, strictFlag, filterFlag, demoFlag, seedFlag,
			&cli.BoolFlag{Name: "dry-run", Usage: "send nothing: write every request the load would send to dry-run.jsonl (see --out)"},
			&cli.StringFlag{Name: "out", Usage: "with --dry-run: the file to write the requests to (default: dry-run.jsonl in the workspace folder)"},
		},
		Action: func(c *cli.Context) error {
			env, closeEnv, err := openEnv(c)
			if err != nil {
				return err
			}
			defer closeEnv()
			opts, err := loadOptions(c, env)
			if err != nil {
				return err
			}
			if c.IsSet("out") && !c.Bool("dry-run") {
				return usagef("--out goes with --dry-run")
			}
			if c.Bool("dry-run") {
				opts.DryRun = c.String("out")
				if opts.DryRun == "" {
					opts.DryRun = filepath.Join(env.Workspace.Dir(), "dry-run.jsonl")
				}
				// No run is recorded: a dry run changes nothing here.
				_, err := pipeline.Load(c.Context, env, 0, opts)
				return err
			}
			err = inRun(c, env, "load", func(runID int64) error {
				_, err := pipeline.Load(c.Context, env, runID, opts)
				return err
			})
			return finish(c, env, err)
		},
	}
}

func migrateCommand() *cli.Command {
	return &cli.Command{
		Name:  "migrate",
		Usage: "extract, transform and load: the whole migration (again: only what changed)",
		Description: `Runs extract and load (see their help) at once, then verifies what the
load migrated: reads it back from Intercom and compares it with the source
(see ferry verify; --no-verify leaves that out). The load does not wait for
the extract: when the source marks how far its comments have come (the
Zendesk plugin does), a ticket loads as soon as it and its comments are
staged, in passes while the extract runs, and a last pass after it loads
the rest. Safe to rerun at any time: an
interrupted migration resumes where it stopped, and a migration run again
after the source changed brings over only the changes (a delta): new
tickets, new comments as parts of their conversations, changed fields and
states, new and changed users. "this run:" says what it created and brought
up to date.`,
		Flags: []cli.Flag{workspaceFlag, pluginDirFlag, strictFlag, filterFlag, demoFlag, seedFlag,
			&cli.BoolFlag{Name: "no-verify", Usage: "do not read back and compare what the load migrated"}},
		Action: func(c *cli.Context) error {
			env, closeEnv, err := openEnv(c)
			if err != nil {
				return err
			}
			defer closeEnv()
			opts, err := loadOptions(c, env)
			if err != nil {
				return err
			}
			opts.SkipVerify = c.Bool("no-verify")
			err = inRun(c, env, "migrate", func(runID int64) error {
				return pipeline.Migrate(c.Context, env, runID, opts)
			})
			return finish(c, env, err)
		},
	}
}

// finish prints the four-column summary after a load, and where things are.
func finish(c *cli.Context, env *pipeline.Env, runErr error) error {
	if c.Context.Err() != nil {
		return runErr
	}
	sum, err := env.Workspace.Summary(c.Context)
	if err != nil {
		if runErr != nil {
			return runErr
		}
		return err
	}
	out := c.App.Writer
	fmt.Fprintln(out)
	if err := writeSummary(out, sum); err != nil {
		return err
	}
	var failed int64
	for _, e := range sum {
		failed += e.Failed
	}
	if line := runChanges(c, env); line != "" {
		fmt.Fprintf(out, "\nthis run: %s\n", line)
	}
	abs, _ := filepath.Abs(env.Workspace.Path())
	fmt.Fprintf(out, "\nworkspace: %s\n", abs)
	if runErr != nil {
		return runErr
	}
	if failed > 0 {
		fmt.Fprintf(out, "%d records failed; see why with:\n  ferry query -w %s \"SELECT entity, source_id, reason FROM ledger WHERE outcome = 'failed'\"\nthen fix and run again: only what is not migrated is retried.\n",
			failed, c.String("workspace"))
		if c.Bool("strict") {
			return fmt.Errorf("%d records failed (--strict)", failed)
		}
	}
	return nil
}

// runChanges says what the latest load created and updated in Intercom (a
// delta's changes), from the run_changes view; "" when it did nothing.
func runChanges(c *cli.Context, env *pipeline.Env) string {
	rows, err := env.Workspace.DB().QueryContext(c.Context, `SELECT entity, created, updated FROM run_changes
WHERE run_id = (SELECT max(id) FROM runs WHERE command IN ('load', 'migrate')) ORDER BY entity`)
	if err != nil {
		return ""
	}
	defer rows.Close()
	var created, updated []string
	for rows.Next() {
		var entity string
		var nc, nu int64
		if rows.Scan(&entity, &nc, &nu) != nil {
			return ""
		}
		if nc > 0 {
			created = append(created, fmt.Sprintf("%d %s", nc, entity))
		}
		if nu > 0 {
			updated = append(updated, fmt.Sprintf("%d %s", nu, entity))
		}
	}
	var parts []string
	if len(created) > 0 {
		parts = append(parts, "created "+strings.Join(created, ", "))
	}
	if len(updated) > 0 {
		parts = append(parts, "brought up to date "+strings.Join(updated, ", "))
	}
	return strings.Join(parts, "; ")
}
