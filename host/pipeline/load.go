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
	sel := env.Selection(opts)
	picked, err := env.Workspace.Select(ctx, sel, runID)
	if err != nil {
		return load.Result{}, err
	}
	describeSelection(env, sel, picked.Plan)
	tr, err := Transform(ctx, env, runID)
	if err != nil {
		return load.Result{}, err
	}
	client := env.client
	if client == nil {
		if client, err = IntercomClient(env); err != nil {
			return load.Result{}, err
		}
	}
	start := time.Now()
	prog := newProgress(env, "load")
	defer prog.stop()
	// What is left to load, for the estimate of the time left.
	plan := picked.Plan
	for entity, n := range map[string]int64{
		stage.EntityTickets: plan.Selected - plan.Migrated, stage.EntityComments: plan.Comments, stage.EntityAttachments: plan.Attachments,
		stage.EntityContacts: plan.ContactsToLoad, stage.EntityCompanies: plan.CompaniesToLoad,
	} {
		prog.total(entity, 0, n)
	}
	lo := loaderOptions(env, runID, tr.Tables)
	lo.OnOutcome = func(entity, _ string) { prog.add(entity, 1) }
	lo.Tickets, lo.Contacts, lo.Companies = stage.SelectedTickets("id"), stage.SelectedContacts(sel), stage.SelectedCompanies(sel)
	l := load.New(env.Workspace, client, lo)
	res, err := l.Run(ctx)
	prog.stop()
	st := client.Stats()
	secs := time.Since(start).Seconds()
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
	return res, err
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

// Migrate runs extract, transform and load in order, then verifies what
// the load migrated (unless opts.SkipVerify).
func Migrate(ctx context.Context, env *Env, runID int64, opts LoadOptions) error {
	if _, err := Extract(ctx, env, runID); err != nil {
		return fmt.Errorf("extract: %w", err)
	}
	if _, err := Load(ctx, env, runID, opts); err != nil {
		return fmt.Errorf("load: %w", err)
	}
	if opts.SkipVerify {
		return nil
	}
	audit, err := Verify(ctx, env, runID, runID, false)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	var checked, mismatched int
	for _, n := range audit {
		checked += n.Checked
		mismatched += n.Mismatched
	}
	switch {
	case checked == 0:
	case mismatched == 0:
		fmt.Fprintf(env.progress(), "verify: the %d records this run migrated read back from Intercom equal to the source\n", checked)
	default:
		fmt.Fprintf(env.progress(), "verify: %d of the %d records this run migrated differ from the source in Intercom; see why with:\n  ferry query \"SELECT * FROM audit_mismatches\"\n", mismatched, checked)
	}
	return nil
}
