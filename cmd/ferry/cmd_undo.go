package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/urfave/cli/v2"

	"github.com/ferryhq/ferry/host/pipeline"
	"github.com/ferryhq/ferry/host/undo"
)

func undoCommand() *cli.Command {
	return &cli.Command{
		Name:  "undo",
		Usage: "delete from Intercom what this workspace created (asks first; cannot be reversed)",
		Description: `Deletes from Intercom what this workspace's loads created, and only that:
the conversations (or Intercom tickets) with every part, the contacts, the
companies, and the knowledge base's collections and articles: every object
of the id map, newest first. Contacts and companies ferry found in Intercom
rather than created (adopted) stay, and so does everything else there.

Deleting cannot be reversed: Intercom keeps no copy of a deleted conversation
or contact (it archives a deleted company, out of reach of the API).

It first prints what it will delete and in which Intercom workspace, and asks;
--yes deletes without asking, and is needed when stdin is not a terminal.

What it cannot delete, and says so: tags (Intercom answers the create of a
tag it has with that tag, so ferry cannot tell which it made), custom
attributes (Intercom's API only archives them), ticket types (no API). An
object Intercom refuses to delete (a 403: a plan without conversation
deletes, say) is kept, with the reason, and so are the contacts and the
companies it needs; the rest goes. A failed delete is recorded and the run
goes on; a bad token or Ctrl-C stops it, and running it again resumes.

Each object goes into undo_log (deleted, gone, kept or failed, with the
reason), and the workspace forgets what was deleted: ferry report shows it as
not migrated, and a later ferry migrate creates it again.

   ferry undo -w acme
   ferry query -w acme "SELECT entity, outcome, reason, count(*) FROM undo_log GROUP BY ALL ORDER BY ALL"`,
		Flags: []cli.Flag{workspaceFlag, strictFlag,
			&cli.BoolFlag{Name: "yes", Aliases: []string{"y"}, Usage: "delete without asking (needed when stdin is not a terminal)"},
		},
		Action: func(c *cli.Context) error {
			if c.Args().Len() > 0 {
				return usagef("undo takes no arguments (got %q): name the workspace with -w", c.Args().First())
			}
			env, closeEnv, err := openEnv(c)
			if err != nil {
				return err
			}
			defer closeEnv()
			plan, err := undo.Preview(c.Context, env.Workspace)
			if err != nil {
				return err
			}
			out := c.App.Writer
			total, all := 0, 0
			for _, p := range plan {
				total, all = total+p.Delete, all+p.Delete+p.Adopted
			}
			if total == 0 {
				fmt.Fprintln(out, "Nothing to delete: the id map holds no object ferry created in Intercom.")
				return nil
			}
			client, err := pipeline.IntercomClient(env)
			if err != nil {
				return usageError{err}
			}
			// Which workspace, before anything is asked: the token names it.
			me, err := client.Me(c.Context)
			if err != nil {
				return fmt.Errorf("check the Intercom token (GET /me): %w", err)
			}
			where := client.BaseURL()
			if me.App != nil {
				where = fmt.Sprintf("%q (%s) at %s", me.App.Name, me.App.IDCode, client.BaseURL())
			}
			fmt.Fprintf(out, "ferry undo deletes from the Intercom workspace %s, for good, what this workspace created:\n\n", where)
			if err := writePlan(out, plan); err != nil {
				return err
			}
			if !c.Bool("yes") {
				ok, err := confirm(c, total)
				if err != nil {
					return err
				}
				if !ok {
					fmt.Fprintln(out, "Nothing deleted.")
					return nil
				}
			}
			return inRun(c, env, "undo", func(runID int64) error {
				cfg := env.Config
				var done atomic.Int64
				stopProgress := progressLines(c.App.ErrWriter, &done, int64(all))
				res, err := undo.Run(c.Context, env.Workspace, client, undo.Options{
					RunID:            runID,
					TicketType:       cfg.Target.Intercom.TicketType,
					TagMigrated:      cfg.Options.TagMigrated,
					CustomAttributes: cfg.Options.CustomAttributesOn(),
					Logger:           env.Logger,
					Progress:         func(string, string) { done.Add(1) },
				})
				stopProgress()
				if c.Context.Err() != nil {
					return err
				}
				if werr := writeUndo(out, res); werr != nil && err == nil {
					err = werr
				}
				fmt.Fprintf(out, "\nEach object is in undo_log, with the reason of what was kept or failed:\n  ferry query -w %s \"SELECT entity, source_id, intercom_id, outcome, reason FROM undo_log WHERE run_id = %d\"\n",
					c.String("workspace"), runID)
				if err != nil {
					return err
				}
				if n := res.Total().Failed; n > 0 {
					fmt.Fprintf(out, "%d deletes failed; run ferry undo again to retry them.\n", n)
					if c.Bool("strict") {
						return fmt.Errorf("%d deletes failed (--strict)", n)
					}
				}
				return nil
			})
		},
	}
}

// confirm asks on stdin whether to delete n objects: only a terminal can
// answer, so that a script never deletes by accident (it passes --yes).
func confirm(c *cli.Context, n int) (bool, error) {
	f, ok := c.App.Reader.(*os.File)
	if !ok || !(isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())) {
		return false, usagef("stdin is not a terminal, so ferry cannot ask before deleting: pass --yes to delete these %d objects (ferry undo -w %s --yes)",
			n, c.String("workspace"))
	}
	fmt.Fprintf(c.App.Writer, "\nDelete %d objects from Intercom? [y/N] ", n)
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return false, fmt.Errorf("read the answer: %w", err)
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true, nil
	}
	return false, nil
}

// writePlan writes what an undo will delete and keep, per entity.
func writePlan(w io.Writer, plan []undo.Planned) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "ENTITY\tDELETE\tKEEP (ADOPTED)\t")
	for _, p := range plan {
		fmt.Fprintf(tw, "%s\t%d\t%d\t\n", p.Entity, p.Delete, p.Adopted)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w, "\nA ticket's comments and attachments are parts of its conversation (or Intercom ticket), and go with it.")
	return err
}

// writeUndo writes what an undo did, per entity, and what it leaves.
func writeUndo(w io.Writer, res undo.Result) error {
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "ENTITY\tDELETED\tGONE\tKEPT\tFAILED\t")
	for _, e := range res.Entities {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t\n", e.Entity, e.Deleted, e.Gone, e.Kept, e.Failed)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(res.NotDeleted) > 0 {
		fmt.Fprintln(w)
	}
	for _, s := range res.NotDeleted {
		fmt.Fprintf(w, "not deleted: %s\n", s)
	}
	return nil
}

// progressLines prints how far an undo is, every few seconds, until stop
// is called.
func progressLines(w io.Writer, done *atomic.Int64, total int64) (stop func()) {
	quit := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				fmt.Fprintf(w, "undo: %d of %d objects\n", done.Load(), total)
			}
		}
	}()
	return func() {
		close(quit)
		<-finished
	}
}
