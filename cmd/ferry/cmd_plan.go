package main

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/ferryhq/ferry/host/config"
	"github.com/ferryhq/ferry/host/load"
	"github.com/ferryhq/ferry/host/pipeline"
	"github.com/ferryhq/ferry/host/stage"
)

func planCommand() *cli.Command {
	return &cli.Command{
		Name:  "plan",
		Usage: "show what a load would take, with the filter or a demo pick; changes nothing",
		Description: `Reads the staged help desk and shows how many tickets the filter keeps and
how many it leaves out (with their comments and attachments), which a demo
would pick, and what is left to load: tickets, comments, attachments,
contacts and companies. With ferry.yaml's Intercom target it also reads the
Intercom workspace (GET /me, /admins, /teams; nothing else) to show how
agents map to admins and groups to teams, and estimates the calls the load
sends, by kind, and how long they take at the workspace's rate limit. It
writes nothing, to Intercom or the workspace.

   ferry plan --filter "created_at >= DATE '2023-01-01' AND status = 'closed'"
   ferry plan --demo 20 --seed 7`,
		Flags: []cli.Flag{workspaceFlag, filterFlag, demoFlag, seedFlag},
		Action: func(c *cli.Context) error {
			if c.Int("demo") < 0 {
				return usagef("--demo %d: want a number of tickets", c.Int("demo"))
			}
			filter := c.String("filter")
			cfg, cfgErr := loadConfig(c)
			if !c.IsSet("filter") && cfgErr == nil {
				filter = cfg.Filter
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
			if err := tw.Flush(); err != nil {
				return err
			}
			if cfgErr != nil {
				fmt.Fprintf(out, "\nNo Intercom estimate: %v\n", cfgErr)
				return nil
			}
			return planIntercom(c, cfg, db, sel)
		},
	}
}

// planIntercom shows the teammate mapping and the estimate of the calls a
// load sends, reading Intercom (never writing).
func planIntercom(c *cli.Context, cfg *config.Config, db *sql.DB, sel stage.Selection) error {
	out := c.App.Writer
	ic, err := pipeline.IntercomClient(&pipeline.Env{Config: cfg})
	if err != nil {
		return err
	}
	tm, err := load.MapTeammates(c.Context, ic, db, cfg.Options.DefaultAdminEmail)
	if err != nil {
		return err
	}
	calls, err := load.EstimateCalls(c.Context, db, sel, tm, load.EstimateOptions{
		TagMigrated: cfg.Options.TagMigrated, CustomAttributes: cfg.Options.CustomAttributesOn(), Client: ic, TicketType: cfg.Target.Intercom.TicketType,
	})
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "\nAGENT\tINTERCOM ADMIN\t\n")
	for _, a := range tm.Agents {
		admin := a.Admin
		if admin == "" {
			admin = "none: acts as " + tm.DefaultAdmin
		}
		fmt.Fprintf(tw, "%s <%s>\t%s\t\n", a.Name, a.Email, admin)
	}
	fmt.Fprintf(tw, "\nGROUP\tINTERCOM TEAM\t\n")
	for _, g := range tm.Groups {
		team := g.Team
		if team == "" {
			team = "none: its tickets get no team"
		}
		fmt.Fprintf(tw, "%s\t%s\t\n", g.Name, team)
	}
	fmt.Fprintf(tw, "\nINTERCOM CALLS\t\t\n")
	for _, k := range []struct {
		name string
		n    int64
	}{
		{"companies", calls.Companies}, {"contacts", calls.Contacts}, {"contact-company links", calls.CompanyLinks},
		{"conversations", calls.Conversations}, {"parts (comments, attachments)", calls.Parts}, {"participants (CCs)", calls.Participants},
		{"tags (and tag creates)", calls.Tags + calls.TagCreates}, {"titles and attributes", calls.Titles}, {"assignments", calls.Assignments},
		{"states (close, snooze)", calls.States}, {"collections", calls.Collections}, {"articles", calls.Articles}, {"custom attributes (list, create)", calls.Attributes}, {"preflight reads", calls.Preflight},
	} {
		fmt.Fprintf(tw, "%s\t%d\t\n", k.name, k.n)
	}
	fmt.Fprintf(tw, "total\t%d\t\n", calls.Total())
	if calls.Unloadable > 0 {
		fmt.Fprintf(tw, "tickets that will fail\t%d\ttheir requester is not in the source\n", calls.Unloadable)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if limit, window := ic.RateLimit(); limit > 0 {
		d := calls.Duration(limit, window)
		fmt.Fprintf(out, "\nAt %d calls per %s (the workspace's rate limit), the load takes at least %s.\n", limit, window, d.Round(time.Second))
	} else {
		fmt.Fprintf(out, "\nIntercom sent no rate-limit headers, so no duration: at Intercom's default of 1,667 calls per 10 s the load would take at least %s.\n",
			calls.Duration(1667, 10*time.Second).Round(time.Second))
	}
	return nil
}
