package pipeline

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ferryhq/ferry/host/intercom"
	"github.com/ferryhq/ferry/host/load"
	"github.com/ferryhq/ferry/host/stage"
)

// IntercomClient returns a client for the configured Intercom workspace.
func IntercomClient(env *Env) (*intercom.Client, error) {
	ic := env.Config.Target.Intercom
	return intercom.New(intercom.Options{
		BaseURL: ic.BaseURL, Region: ic.Region, Token: ic.Token, Ceiling: ic.Ceiling, Logger: env.logger(),
	})
}

// LoadOptions choose what a load takes.
type LoadOptions struct {
	// Filter overrides the config's filter when set.
	Filter string
	// Demo picks that many random tickets (with Seed), when above 0.
	Demo int
	Seed uint64
	// DryRun, when set, is a file to write every request the load would
	// send to, as JSON Lines, sending none (see dryRun).
	DryRun string
	// SkipVerify leaves out the verify that ends a migrate.
	SkipVerify bool
}

// Selection is the ticket selection a load with opts takes.
func (e *Env) Selection(opts LoadOptions) stage.Selection {
	filter := e.Config.Filter
	if opts.Filter != "" {
		filter = opts.Filter
	}
	return stage.Selection{Filter: filter, Demo: opts.Demo, Seed: opts.Seed}
}

// Load selects the tickets to load (the filter, or a demo's picks), runs the
// configured transforms over them, and loads what is not yet migrated into
// Intercom.
func Load(ctx context.Context, env *Env, runID int64, opts LoadOptions) (load.Result, error) {
	if opts.DryRun != "" {
		return dryRun(ctx, env, runID, opts)
	}
	client, err := env.intercomClient()
	if err != nil {
		return load.Result{}, err
	}
	start := time.Now()
	t, err := newTransformer(ctx, env)
	if err != nil {
		return load.Result{}, err
	}
	defer t.close(context.WithoutCancel(ctx))
	lr := &loadRun{env: env, runID: runID, opts: opts, client: client, t: t, prog: newProgress(env, "load"), start: start}
	res, err := lr.pass(ctx, time.Time{})
	lr.finish()
	return res, err
}

// intercomClient is the Intercom a load writes to.
func (e *Env) intercomClient() (*intercom.Client, error) {
	if e.client != nil {
		return e.client, nil
	}
	return IntercomClient(e)
}

// loadRun is a load in one or more passes (a migration's, while it
// extracts), which share the transforms, the loader and the progress.
type loadRun struct {
	env    *Env
	runID  int64
	opts   LoadOptions
	client *intercom.Client
	t      *transformer
	prog   *progress
	loader *load.Loader // from the first pass on
	start  time.Time
	passes int
	res    load.Result // of the passes so far
}

// pass selects, transforms and loads what is not yet migrated. With before
// set (a migration that loads while it extracts), it loads only the
// tickets last updated before it, whose comments are all staged
// (stage.TicketsChangedBefore), and says nothing of the selection and the
// transforms, which the passes repeat.
func (r *loadRun) pass(ctx context.Context, before time.Time) (load.Result, error) {
	env := r.env
	sel := env.Selection(r.opts)
	picked, err := env.Workspace.Select(ctx, sel, r.runID)
	if err != nil {
		return load.Result{}, err
	}
	tenv := env
	if before.IsZero() {
		describeSelection(env, sel, picked.Plan)
	} else {
		quiet := *env
		quiet.Progress = nil
		tenv = &quiet
	}
	tr, err := r.t.run(ctx, tenv, r.runID)
	if err != nil {
		return load.Result{}, err
	}
	// What is left to load, for the estimate of the time left: the
	// tickets, contacts and companies not yet migrated, and the comments
	// and files of every selected ticket (the plan counts them all).
	plan := picked.Plan
	for entity, n := range map[string]int64{
		stage.EntityTickets: plan.Selected - plan.Migrated, stage.EntityContacts: plan.ContactsToLoad, stage.EntityCompanies: plan.CompaniesToLoad,
	} {
		r.prog.left(entity, n)
	}
	r.prog.total(stage.EntityComments, 0, plan.Comments)
	r.prog.total(stage.EntityAttachments, 0, plan.Attachments)
	tickets := stage.SelectedTickets("id")
	if !before.IsZero() {
		tickets += " AND " + stage.TicketsChangedBefore("id", before)
	}
	if r.loader == nil {
		lo := loaderOptions(env, r.runID, tr.Tables)
		lo.OnOutcome = func(entity, _ string) { r.prog.add(entity, 1) }
		lo.Contacts, lo.Companies = stage.SelectedContacts(sel), stage.SelectedCompanies(sel)
		r.loader = load.New(env.Workspace, r.client, lo)
	}
	// The views the transforms wrote keep their names from pass to pass.
	r.loader.NarrowTickets(tickets, !before.IsZero())
	res, err := r.loader.Run(ctx)
	r.passes++
	r.res = mergeResults(r.res, res)
	return res, err
}

// finish ends the load's progress and says what the passes did.
func (r *loadRun) finish() {
	r.prog.stop()
	if r.passes > 1 {
		fmt.Fprintf(r.env.progress(), "load: %d passes, all but the last while extracting\n", r.passes)
	}
	describeLoad(r.env, r.res, r.client.Stats(), time.Since(r.start))
}

// mergeResults adds a load pass's result to those of the passes before.
// The loader counts over its runs and its preflight ran once, so the
// latest pass says most; the knowledge base's notes are the pass's that
// loaded it.
func mergeResults(a, b load.Result) load.Result {
	out := b
	out.KnowledgeBase.DatesNotKept += a.KnowledgeBase.DatesNotKept
	if len(out.KnowledgeBase.LocalesLeftOut) == 0 {
		out.KnowledgeBase.LocalesLeftOut = a.KnowledgeBase.LocalesLeftOut
	}
	return out
}

// describeLoad says what a load did and what Intercom could not take.
func describeLoad(env *Env, res load.Result, st intercom.Stats, took time.Duration) {
	secs := took.Seconds()
	fmt.Fprintf(env.progress(), "load: %d Intercom calls in %.1fs (%.0f/s), %d retried, %d rate-limited\n",
		st.Calls, secs, float64(st.Calls)/secs, st.Retries, st.RateLimited)
	if n := len(res.UnmappedAgents); n > 0 {
		fmt.Fprintf(env.progress(), "load: %d agents have no Intercom admin of the same email and act as %s: %s\n",
			n, res.DefaultAdmin, strings.Join(res.UnmappedAgents, ", "))
	}
	if n := len(res.Attributes.Created); n > 0 {
		fmt.Fprintf(env.progress(), "load: created %d custom attributes: %s\n", n, strings.Join(res.Attributes.Created, ", "))
	}
	for _, s := range res.Attributes.Skipped {
		fmt.Fprintf(env.progress(), "load: %s\n", s)
	}
	if kb := res.KnowledgeBase; kb.DatesNotKept > 0 || len(kb.LocalesLeftOut) > 0 {
		fmt.Fprintf(env.progress(), "load: %d collections and articles carry the load's date: Intercom does not let a knowledge base's dates be set\n", kb.DatesNotKept)
		if n := len(kb.LocalesLeftOut); n > 0 {
			fmt.Fprintf(env.progress(), "load: %d article translations are in locales Intercom does not have (or a second one of the same language) and were left out: %s\n",
				n, strings.Join(kb.LocalesLeftOut[:min(n, 10)], ", "))
		}
	}
	if res.CCsLeftOut > 0 {
		fmt.Fprintf(env.progress(), "load: %d CC'd people were left out: an Intercom ticket has one contact\n", res.CCsLeftOut)
	}
	if res.PhonesLeftOut > 0 {
		fmt.Fprintf(env.progress(), "load: %d contacts were created without their phone number, which could not be made E.164 (see the log; options.phone_country sets the calling code of numbers written without one)\n", res.PhonesLeftOut)
	}
	if n := len(res.InvisibleCompanies); n > 0 {
		var names []string
		for _, c := range res.InvisibleCompanies[:min(n, 10)] {
			names = append(names, fmt.Sprintf("%s (%s)", c[1], c[0]))
		}
		more := ""
		if n > 10 {
			more = fmt.Sprintf(" and %d more", n-10)
		}
		fmt.Fprintf(env.progress(), "load: %d companies have no contact, and Intercom does not show a company without one: %s%s\n", n, strings.Join(names, ", "), more)
	}
	if n := len(res.UnmappedGroups); n > 0 {
		fmt.Fprintf(env.progress(), "load: %d groups have no Intercom team of the same name, their tickets are not assigned to a team: %s\n",
			n, strings.Join(res.UnmappedGroups, ", "))
	}
}

// loaderOptions are the loader's options from the config: the same for a
// load and a verify, so that verify expects what the load sends.
func loaderOptions(env *Env, runID int64, tables map[string]string) load.Options {
	options := env.Config.Options
	return load.Options{
		Tables:            tables,
		DefaultAdminEmail: options.DefaultAdminEmail,
		TagMigrated:       options.TagMigrated,
		PhoneCountry:      options.PhoneCountry,
		CustomAttributes:  options.CustomAttributesOn(),
		TicketType:        env.Config.Target.Intercom.TicketType,
		SnoozeFor:         time.Duration(options.SnoozeDays) * 24 * time.Hour,
		Concurrency:       env.Config.Target.Intercom.Concurrency,
		RunID:             runID,
		Logger:            env.logger(),
	}
}

// describeSelection says what a load takes.
func describeSelection(env *Env, sel stage.Selection, p stage.Plan) {
	out := env.progress()
	if strings.TrimSpace(sel.Filter) != "" {
		fmt.Fprintf(out, "select: the filter keeps %d of %d tickets; %d are skipped as filtered, with their %d comments and %d attachments\n",
			p.Kept, p.Staged, p.FilteredOut, p.FilteredOutComments, p.FilteredOutAttachments)
	}
	if sel.Demo > 0 {
		fmt.Fprintf(out, "select: a demo of %d tickets picked at random (seed %d) from %d, with their %d contacts and %d companies; demo_picks records which\n",
			p.Picked, sel.Seed, p.Kept, p.ContactsToLoad, p.CompaniesToLoad)
	}
}
