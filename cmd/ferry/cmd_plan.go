package main

import (
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/ferryhq/ferry/host/stage"
)

func planCommand() *cli.Command {
	return &cli.Command{
		Name:  "plan",
		Usage: "show what a load would take, with the filter or a demo pick; changes nothing",
		Description: `Reads the staged help desk and shows how many tickets the filter keeps and
how many it leaves out (with their comments and attachments), which a demo
would pick, and what is left to load: tickets, comments, attachments,
contacts and companies. It writes nothing, to Intercom or the workspace.

   ferry plan --filter "created_at >= DATE '2023-01-01' AND status = 'closed'"
   ferry plan --demo 20 --seed 7`,
		Flags: []cli.Flag{workspaceFlag, filterFlag, demoFlag, seedFlag},
		Action: func(c *cli.Context) error {
			if c.Int("demo") < 0 {
				return usagef("--demo %d: want a number of tickets", c.Int("demo"))
			}
			filter := c.String("filter")
			if !c.IsSet("filter") {
				cfg, err := loadConfig(c)
				if err == nil {
					filter = cfg.Filter
				}
			}
			db, err := stage.OpenReadOnly(c.Context, c.String("workspace"))
			if err != nil {
				return err
			}
			defer db.Close()
			sel := stage.Selection{Filter: filter, Demo: c.Int("demo"), Seed: c.Uint64("seed")}
			p, err := stage.PlanSelection(c.Context, db, sel)
			if err != nil {
				var fe *stage.FilterError
				if errors.As(err, &fe) {
					return usageError{err}
				}
				return err
			}
			out := c.App.Writer
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintf(tw, "tickets staged\t%d\t\n", p.Staged)
			if strings.TrimSpace(filter) != "" {
				fmt.Fprintf(tw, "kept by the filter\t%d\t%s\n", p.Kept, filter)
				fmt.Fprintf(tw, "left out (skipped)\t%d\twith %d comments and %d attachments\n", p.FilteredOut, p.FilteredOutComments, p.FilteredOutAttachments)
			}
			if sel.Demo > 0 {
				fmt.Fprintf(tw, "demo: picked\t%d\tat random with seed %d\n", p.Picked, sel.Seed)
			}
			fmt.Fprintf(tw, "to load\t%d tickets\t(%d of the selected are migrated already)\n", p.Selected-p.Migrated, p.Migrated)
			fmt.Fprintf(tw, "\t%d comments, %d attachments\t(of the selected tickets)\n", p.Comments, p.Attachments)
			fmt.Fprintf(tw, "\t%d contacts, %d companies\t(not migrated yet)\n", p.ContactsToLoad, p.CompaniesToLoad)
			return tw.Flush()
		},
	}
}
