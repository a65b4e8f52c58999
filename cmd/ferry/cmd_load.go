package main

import (
	"fmt"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/ferryhq/ferry/host/pipeline"
)

var strictFlag = &cli.BoolFlag{Name: "strict", Usage: "exit 1 when any record failed (by default a run with failed records exits 0 and says so)"}

func loadCommand() *cli.Command {
	return &cli.Command{
		Name:  "load",
		Usage: "transform the staged records and load what is not yet migrated into Intercom",
		Description: `Runs the transforms in ferry.yaml over the staged records, then creates in
Intercom, in order: companies, contacts (linked to their companies), and
conversations with every comment as a part, quietly (no notifications),
keeping source timestamps. Everything created goes into the id map at once:
a rerun creates nothing twice and resumes each ticket at its next comment.`,
		Flags: []cli.Flag{workspaceFlag, strictFlag},
		Action: func(c *cli.Context) error {
			env, closeEnv, err := openEnv(c)
			if err != nil {
				return err
			}
			defer closeEnv()
			err = inRun(c, env, "load", func(runID int64) error {
				_, err := pipeline.Load(c.Context, env, runID)
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
		Description: `Runs extract then load (see their help). Safe to rerun at any time: an
interrupted migration resumes where it stopped, and a migration run again
after the source changed brings over only the changes.`,
		Flags: []cli.Flag{workspaceFlag, pluginDirFlag, strictFlag},
		Action: func(c *cli.Context) error {
			env, closeEnv, err := openEnv(c)
			if err != nil {
				return err
			}
			defer closeEnv()
			err = inRun(c, env, "migrate", func(runID int64) error {
				return pipeline.Migrate(c.Context, env, runID)
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
