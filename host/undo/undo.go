// Package undo deletes from Intercom what a workspace's loads created, for
// `ferry undo`: a migration into the wrong workspace, a trial run to clear
// before the real one, a load to redo with other options. It is the load
// taken back, with the same bookkeeping, so that a later `ferry migrate`
// creates everything again.
//
// It deletes only what the id map says ferry created: never an object
// ferry adopted (a contact, or a company, that Intercom had before), never
// anything else in the Intercom workspace. It goes newest first (the
// reverse of the order the load created things in, which put every
// object after what it depends on: companies, contacts, conversations,
// collections, articles), one kind at a time, so that nothing is deleted
// while something that depends on it is still being deleted. A ticket's
// comments and attachments are parts of its conversation and go with it.
//
// After each delete, the workspace records it (undo_log) and forgets the
// object (id map, ledger, intents) in one transaction, so an undo stopped
// half way resumes where it stopped: what it deleted but could not record
// is a 404 the next time, recorded as gone. An object Intercom refuses to
// delete (403, its plan) is kept, and so is everything it depends on (the
// contact of a kept conversation: deleting the contact would take the
// conversation), each with the reason; other failures are recorded and
// the run goes on. A bad token (401) or an interruption stops the run.
//
// What Intercom's API cannot delete, or ferry cannot tell it created, is
// not in the id map: tags, custom attributes, ticket types. Run lists them
// in Result.NotDeleted.
package undo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/ferryhq/ferry/host/intercom"
	"github.com/ferryhq/ferry/host/stage"
)

// DefaultConcurrency is how many deletes are under way at once when
// Options.Concurrency is 0. The client's pacer holds them to Intercom's
// rate limit; a few keep it busy, and a delete costs the workspace a
// commit, which DuckDB makes one at a time.
const DefaultConcurrency = 4

// Options configure an undo.
type Options struct {
	// RunID is the workspace run the undo is recorded under.
	RunID int64
	// TicketType is target.intercom.ticket_type: when set, the load made
	// tickets Intercom tickets, which are deleted as tickets.
	TicketType string
	// TagMigrated and CustomAttributes are the load's options: what it may
	// have created that undo leaves, for Result.NotDeleted.
	TagMigrated      string
	CustomAttributes bool
	// Concurrency is how many deletes are under way at once
	// (DefaultConcurrency).
	Concurrency int
	// Logger receives what was kept or failed, and why; nil discards.
	Logger *slog.Logger
	// Progress, when set, is told of every object's outcome
	// (stage.UndoDeleted, ...), from several goroutines one at a time.
	Progress func(entity, outcome string)
}

// Counts are what an undo did with one entity's objects.
type Counts struct {
	Deleted, Gone, Kept, Failed int
}

func (c *Counts) add(outcome string) {
	switch outcome {
	case stage.UndoDeleted:
		c.Deleted++
	case stage.UndoGone:
		c.Gone++
	case stage.UndoKept:
		c.Kept++
	case stage.UndoFailed:
		c.Failed++
	}
}

// EntityCounts are one entity's line of the result.
type EntityCounts struct {
	Entity string
	Counts
}

// Result is what an undo did.
type Result struct {
	// Entities are the counts per entity, in stage.UndoEntities order.
	Entities []EntityCounts
	// NotDeleted says, one line each, what the load may have created that
	// undo leaves in Intercom, and why.
	NotDeleted []string
}

// Total sums the counts of every entity.
func (r Result) Total() Counts {
	var t Counts
	for _, e := range r.Entities {
		t.Deleted += e.Deleted
		t.Gone += e.Gone
		t.Kept += e.Kept
		t.Failed += e.Failed
	}
	return t
}

// Planned is what an undo would do with one entity's objects: delete the
// ones ferry created (unless Intercom refuses), keep the adopted ones.
type Planned struct {
	Entity          string
	Delete, Adopted int
}

// Preview counts, per entity in stage.UndoEntities order, the objects of
// the id map an undo would delete and the adopted ones it would keep. It
// changes nothing, here or in Intercom.
func Preview(ctx context.Context, ws *stage.Workspace) ([]Planned, error) {
	objs, err := ws.CreatedObjects(ctx)
	if err != nil {
		return nil, err
	}
	by := map[string]*Planned{}
	var out []Planned
	for _, e := range stage.UndoEntities() {
		out = append(out, Planned{Entity: e})
	}
	for i := range out {
		by[out[i].Entity] = &out[i]
	}
	for _, o := range objs {
		if o.Adopted {
			by[o.Entity].Adopted++
		} else {
			by[o.Entity].Delete++
		}
	}
	return out, nil
}

// Run deletes from Intercom the objects of the workspace's id map that
// ferry created, newest first, and records each in undo_log (see the
// package doc). It returns an error only for what stops the whole run: a
// bad token, an interruption, the workspace failing.
func Run(ctx context.Context, ws *stage.Workspace, ic *intercom.Client, opts Options) (Result, error) {
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	objs, err := ws.CreatedObjects(ctx)
	if err != nil {
		return Result{}, err
	}
	deps, err := ws.CreatedDependents(ctx)
	if err != nil {
		return Result{}, err
	}
	u := &undoer{ws: ws, ic: ic, opts: opts, deps: deps, mapped: map[stage.RecordKey]bool{}, adopted: map[stage.RecordKey]bool{},
		counts: map[string]*Counts{}, restricted: map[string]string{}}
	for _, e := range stage.UndoEntities() {
		u.counts[e] = &Counts{}
	}
	for _, o := range objs {
		k := stage.RecordKey{Entity: o.Entity, SourceID: o.SourceID}
		u.mapped[k], u.adopted[k] = true, o.Adopted
	}
	res := Result{NotDeleted: notDeleted(objs, opts)}
	// One kind (and one depth of collections) at a time, in order: the
	// objects of a batch depend on none of the batch, and what depends on
	// them came in batches before.
	for start := 0; start < len(objs); {
		end := start + 1
		for end < len(objs) && objs[end].Entity == objs[start].Entity && objs[end].Depth == objs[start].Depth {
			end++
		}
		if err := u.batch(ctx, objs[start:end]); err != nil {
			res.Entities = u.result()
			return res, err
		}
		start = end
	}
	res.Entities = u.result()
	return res, nil
}

// undoer is one undo run's state.
type undoer struct {
	ws   *stage.Workspace
	ic   *intercom.Client
	opts Options
	deps map[stage.RecordKey][]stage.RecordKey

	// mu guards what follows, and serializes the workspace's writes:
	// concurrent DuckDB transactions that delete rows of the same tables
	// may conflict, and DuckDB commits one at a time anyway.
	mu      sync.Mutex
	mapped  map[stage.RecordKey]bool // still in the id map
	adopted map[stage.RecordKey]bool
	counts  map[string]*Counts
	// restricted holds, per entity, Intercom's refusal once it said the
	// plan does not allow the delete: the rest are kept without asking.
	restricted map[string]string
}

func (u *undoer) result() []EntityCounts {
	u.mu.Lock()
	defer u.mu.Unlock()
	var out []EntityCounts
	for _, e := range stage.UndoEntities() {
		out = append(out, EntityCounts{Entity: e, Counts: *u.counts[e]})
	}
	return out
}

func (u *undoer) batch(ctx context.Context, objs []stage.Created) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(u.opts.Concurrency)
	for _, o := range objs {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error { return u.one(gctx, o) })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return ctx.Err()
}

// one deletes one object, unless it must stay, and records what happened.
func (u *undoer) one(ctx context.Context, o stage.Created) error {
	e := stage.UndoEntry{Entity: o.Entity, SourceID: o.SourceID, IntercomID: o.IntercomID, RunID: u.opts.RunID, Adopted: o.Adopted}
	if e.Outcome, e.Reason = u.keep(o); e.Outcome == "" {
		_, err := u.delete(ctx, o)
		switch {
		case err == nil:
			e.Outcome = stage.UndoDeleted
		case stopsRun(ctx, err):
			return fmt.Errorf("delete %s %s (%s): %w", singular(o.Entity), o.IntercomID, o.SourceID, err)
		case intercom.IsNotFound(err):
			e.Outcome = stage.UndoGone
		case intercom.StatusCode(err) == http.StatusForbidden:
			e.Outcome, e.Reason = stage.UndoKept, "Intercom refused to delete it: "+refusal(err)
			var ie *intercom.Error
			if errors.As(err, &ie) && ie.HasCode("api_plan_restricted") {
				u.mu.Lock()
				u.restricted[o.Entity] = e.Reason
				u.mu.Unlock()
			}
		default:
			e.Outcome, e.Reason = stage.UndoFailed, err.Error()
		}
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if err := u.ws.RecordUndo(ctx, e); err != nil {
		return err
	}
	k := stage.RecordKey{Entity: o.Entity, SourceID: o.SourceID}
	if e.Outcome == stage.UndoDeleted || e.Outcome == stage.UndoGone {
		delete(u.mapped, k)
	}
	u.counts[o.Entity].add(e.Outcome)
	switch e.Outcome {
	case stage.UndoKept:
		u.opts.Logger.Info("kept in Intercom", "entity", o.Entity, "source_id", o.SourceID, "intercom_id", o.IntercomID, "reason", e.Reason)
	case stage.UndoFailed:
		u.opts.Logger.Warn("delete failed", "entity", o.Entity, "source_id", o.SourceID, "intercom_id", o.IntercomID, "reason", e.Reason)
	}
	if u.opts.Progress != nil {
		u.opts.Progress(o.Entity, e.Outcome)
	}
	return nil
}

// keep says whether an object stays without a call, and why: ferry
// adopted it, Intercom's plan refuses its kind, or something that depends
// on it stays.
func (u *undoer) keep(o stage.Created) (outcome, reason string) {
	if o.Adopted {
		return stage.UndoKept, "ferry did not create it (adopted existing " + singular(o.Entity) + ")"
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if r, ok := u.restricted[o.Entity]; ok {
		return stage.UndoKept, r
	}
	var staying []stage.RecordKey
	for _, d := range u.deps[stage.RecordKey{Entity: o.Entity, SourceID: o.SourceID}] {
		// An adopted dependent stays by design, and loses only what
		// ferry made of it (a contact's link to a company ferry created).
		if u.mapped[d] && !u.adopted[d] {
			staying = append(staying, d)
		}
	}
	if len(staying) == 0 {
		return "", ""
	}
	reason = fmt.Sprintf("%s %s, which depends on it, is still in Intercom", singular(staying[0].Entity), staying[0].SourceID)
	if n := len(staying) - 1; n > 0 {
		reason = fmt.Sprintf("%s %s and %d more %s, which depend on it, are still in Intercom", singular(staying[0].Entity), staying[0].SourceID, n, staying[0].Entity)
	}
	return stage.UndoKept, reason
}

// delete sends the object's delete.
func (u *undoer) delete(ctx context.Context, o stage.Created) (*intercom.Deleted, error) {
	switch o.Entity {
	case stage.EntityArticles:
		return u.ic.DeleteArticle(ctx, o.IntercomID)
	case stage.EntityCollections:
		return u.ic.DeleteCollection(ctx, o.IntercomID)
	case stage.EntityTickets:
		if u.opts.TicketType != "" {
			return u.ic.DeleteTicket(ctx, o.IntercomID)
		}
		return u.ic.DeleteConversation(ctx, o.IntercomID)
	case stage.EntityContacts:
		return u.ic.DeleteContact(ctx, o.IntercomID)
	case stage.EntityCompanies:
		return u.ic.DeleteCompany(ctx, o.IntercomID)
	}
	return nil, fmt.Errorf("undo cannot delete %s", o.Entity)
}

// stopsRun reports whether err stops the whole undo rather than one
// object: an interruption, or a token Intercom does not take (no other
// delete would succeed).
func stopsRun(ctx context.Context, err error) bool {
	return ctx.Err() != nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		intercom.StatusCode(err) == http.StatusUnauthorized
}

// refusal is Intercom's message and code of a refused call.
func refusal(err error) string {
	var ie *intercom.Error
	if errors.As(err, &ie) && ie.Code() != "" {
		if m := ie.Message(); m != "" {
			return fmt.Sprintf("%s (%d %s)", m, ie.StatusCode, ie.Code())
		}
		return fmt.Sprintf("%d %s", ie.StatusCode, ie.Code())
	}
	return err.Error()
}

// singular names one object of an entity in reasons.
func singular(entity string) string {
	switch entity {
	case stage.EntityArticles:
		return "article"
	case stage.EntityCollections:
		return "collection"
	case stage.EntityTickets:
		return "ticket"
	case stage.EntityContacts:
		return "contact"
	case stage.EntityCompanies:
		return "company"
	}
	return entity
}

// notDeleted lists what a load may have created that undo leaves, and why.
func notDeleted(objs []stage.Created, opts Options) []string {
	var out []string
	tickets := false
	for _, o := range objs {
		tickets = tickets || o.Entity == stage.EntityTickets
	}
	if tickets || opts.TagMigrated != "" {
		tags := "the source's tags"
		if opts.TagMigrated != "" {
			tags += fmt.Sprintf(" and %q", opts.TagMigrated)
		}
		out = append(out, "tags ("+tags+"): Intercom answers a create of a tag it has with that tag, so ferry cannot tell which tags it created; "+
			"the conversations they were on are deleted, and tags no longer used can be deleted in Intercom's settings")
	}
	if opts.CustomAttributes {
		out = append(out, "custom attributes that the load created for custom fields: Intercom's API can only archive a data attribute, not delete it")
	}
	if opts.TicketType != "" {
		out = append(out, fmt.Sprintf("ticket type %q (if the load created it): Intercom's API has no delete for ticket types; archive it in Intercom's settings", opts.TicketType))
	}
	return out
}
