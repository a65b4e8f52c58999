package main

import (
	"github.com/urfave/cli/v2"

	"github.com/ferryhq/ferry/host/pipeline"
)

func extractCommand() *cli.Command {
	return &cli.Command{
		Name:  "extract",
		Usage: "read the source into the workspace (again: only what changed)",
		Description: `Runs the source plugin named in ferry.yaml and stages every stream in
ferry.duckdb. Batches are committed with the plugin's checkpoints: an
interrupted extract resumes after the last one, and a later extract fetches
only what changed since.`,
		Flags: []cli.Flag{workspaceFlag, pluginDirFlag},
		Action: func(c *cli.Context) error {
			env, closeEnv, err := openEnv(c)
			if err != nil {
				return err
			}
			defer closeEnv()
			return inRun(c, env, "extract", func(runID int64) error {
				_, err := pipeline.Extract(c.Context, env, runID)
				return err
			})
		},
	}
}
