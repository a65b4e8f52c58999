package stage

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/ferryhq/ferry/sdk/schema"
)

// Selection says which staged tickets a load takes.
type Selection struct {
	// Filter is one condition over ticket_overview (see ValidateFilter);
	// empty keeps every ticket.
	Filter string
	// Demo, when above 0, picks that many of the kept tickets at random,
	// the same ones for the same Seed and staged tickets.
	Demo int
	Seed uint64
}

// reason is the ledger's reason for a ticket the filter leaves out.
func (s Selection) reason() string { return "filtered: " + strings.TrimSpace(s.Filter) }

// keptQuery selects the ids of the tickets the selection keeps.
func (s Selection) keptQuery() (string, []any) {
	q := "SELECT id FROM ticket_overview"
	if strings.TrimSpace(s.Filter) != "" {
		q = filterQuery(s.Filter)
	}
	if s.Demo <= 0 {
		return q, nil
	}
	// md5 rather than DuckDB's hash: the picks must stay the same across
	// DuckDB versions for a seed to mean something.
	return "SELECT id FROM (" + q + ") ORDER BY md5(? || ':' || id) LIMIT ?", []any{fmt.Sprint(s.Seed), s.Demo}
}

// Plan is what a selection takes, counted without changing anything.
type Plan struct {
	// Tickets staged, kept by the filter, and left out by it.
	Staged, Kept, FilteredOut int64
	// Picked by --demo (0 without it).
	Picked int64
	// Of the selected tickets (kept, or picked): how many are migrated
	// already, and how many comments and attachments the rest bring.
	Selected, Migrated     int64
	Comments, Attachments  int64
	ContactsToLoad         int64
	CompaniesToLoad        int64
	FilteredOutComments    int64
	FilteredOutAttachments int64
}

// ctes names the selection's tickets for the queries that follow: kept
// (by the filter) and sel (kept, or a demo's picks).
func (s Selection) ctes() (string, []any) {
	keep := s
	keep.Demo = 0
	keptQ, _ := keep.keptQuery()
	selQ, args := s.keptQuery()
	return "WITH kept AS (" + keptQ + "), sel AS (" + selQ + ") ", args
}

// SelectionCTEs returns a WITH clause naming the selection's tickets (kept
// by the filter, and sel: kept, or a demo's picks), for queries that
// follow it, with its arguments.
func SelectionCTEs(s Selection) (string, []any) { return s.ctes() }

// ContactsCondition is the condition (over users, after SelectionCTEs) of
// the contacts a load of the selection creates (see contactsCondition).
func ContactsCondition(onlyReferenced bool) string { return contactsCondition(onlyReferenced) }

// CompaniesCondition is the condition (over organizations, after
// SelectionCTEs) of the companies a load of the selection creates.
func CompaniesCondition(onlyReferenced bool) string { return companiesCondition(onlyReferenced) }

// PlanSelection counts what a selection takes, on a workspace database
// opened by Open or OpenReadOnly. The filter is validated first.
func PlanSelection(ctx context.Context, db *sql.DB, sel Selection) (Plan, error) {
	var p Plan
	if err := ValidateFilter(ctx, db, sel.Filter); err != nil {
		return p, err
	}
	with, args := sel.ctes()
	onlyReferenced := sel.Demo > 0
	steps := []struct {
		dst *int64
		q   string
	}{
		{&p.Staged, "SELECT count(*) FROM tickets"},
		{&p.Kept, "SELECT count(*) FROM kept"},
		{&p.Selected, "SELECT count(*) FROM sel"},
		{&p.Migrated, "SELECT count(*) FROM sel JOIN ledger l ON l.entity = 'tickets' AND l.source_id = sel.id AND l.outcome = 'migrated'"},
		{&p.Comments, "SELECT count(*) FROM comments WHERE ticket_id IN (SELECT id FROM sel)"},
		{&p.Attachments, "SELECT count(*) FROM attachments WHERE ticket_id IN (SELECT id FROM sel)"},
		{&p.FilteredOutComments, "SELECT count(*) FROM comments WHERE ticket_id NOT IN (SELECT id FROM kept)"},
		{&p.FilteredOutAttachments, "SELECT count(*) FROM attachments WHERE ticket_id NOT IN (SELECT id FROM kept)"},
		{&p.ContactsToLoad, "SELECT count(*) FROM users WHERE " + contactsCondition(onlyReferenced) +
			" AND id NOT IN (SELECT source_id FROM ledger WHERE entity = 'contacts' AND outcome = 'migrated')"},
		{&p.CompaniesToLoad, "SELECT count(*) FROM organizations WHERE " + companiesCondition(onlyReferenced) +
			" AND id NOT IN (SELECT source_id FROM ledger WHERE entity = 'companies' AND outcome = 'migrated')"},
	}
	for _, st := range steps {
		q := st.q
		if strings.Contains(q, "sel") || strings.Contains(q, "kept") {
			q = with + q
		}
		a := args
		if !strings.Contains(q, "sel AS") {
			a = nil
		}
		if err := db.QueryRowContext(ctx, q, a...).Scan(st.dst); err != nil {
			return p, fmt.Errorf("count what the selection takes: %w", err)
		}
	}
	p.FilteredOut = p.Staged - p.Kept
	if sel.Demo > 0 {
		p.Picked = p.Selected
	}
	return p, nil
}

// contactsCondition is the condition (over users, where a relation sel holds
// the selected ticket ids) of the end users a load creates: all of them, or
// with onlyReferenced (a demo) those the selected tickets name: requesters,
// people in copy and commenters.
func contactsCondition(onlyReferenced bool) string {
	if !onlyReferenced {
		return "(" + ContactUsers + ")"
	}
	return `(` + ContactUsers + `) AND id IN (
  SELECT requester_id FROM tickets WHERE id IN (SELECT id FROM sel)
  UNION SELECT unnest(cc_ids) FROM tickets WHERE id IN (SELECT id FROM sel)
  UNION SELECT author_id FROM comments WHERE ticket_id IN (SELECT id FROM sel))`
}

// ContactUsers is the SQL condition (over users) of the people who become
// Intercom contacts: end users, and agents who requested a ticket (an
// outbound ticket, or one an agent opened for themselves). An Intercom
// conversation starts with a message from a contact, so such an agent's
// tickets load with a contact of the agent's email as their requester; the
// agent's replies still come from the admin the agent maps to.
const ContactUsers = "role = 'end_user' OR id IN (SELECT requester_id FROM tickets WHERE requester_id IS NOT NULL)"

// companiesCondition is the condition (over organizations) of those a load
// creates: all, or with onlyReferenced those of the selected tickets and of
// the contacts it creates.
func companiesCondition(onlyReferenced bool) string {
	if !onlyReferenced {
		return "true"
	}
	return `id IN (
  SELECT organization_id FROM tickets WHERE id IN (SELECT id FROM sel)
  UNION SELECT organization_id FROM users WHERE ` + contactsCondition(true) + `)`
}

// SelectionResult is what Select recorded.
type SelectionResult struct {
	Plan
}

// Select records which tickets a load takes, in the table load_selection
// (one row per ticket id) that the transform and load stages read. Tickets
// the filter leaves out, and are not migrated already, become skipped in the
// ledger with the reason "filtered: <filter>" (their comments and
// attachments follow them, see CascadeTicketOutcomes); a ticket the filter
// takes again loses such a skip. A demo's picks are recorded in demo_picks
// with the run and the seed; tickets it does not pick are left as they are.
func (w *Workspace) Select(ctx context.Context, sel Selection, runID int64) (SelectionResult, error) {
	if err := w.sync(ctx); err != nil {
		return SelectionResult{}, err
	}
	p, err := PlanSelection(ctx, w.db, sel)
	if err != nil {
		return SelectionResult{}, err
	}
	with, args := sel.ctes()
	const skipFrom = `
		   FROM tickets t
		   WHERE t.id NOT IN (SELECT id FROM kept)
		     AND t.id NOT IN (SELECT source_id FROM ledger WHERE entity = 'tickets' AND outcome = 'migrated')`
	filtered := strings.TrimSpace(sel.Filter) != ""
	if filtered {
		// Every ticket the filter leaves out may become a ledger key.
		release, err := w.mem.reserveCounted(ctx, with+"SELECT count(*)"+skipFrom, args...)
		if err != nil {
			return SelectionResult{}, err
		}
		defer release()
	}
	tx, err := w.db.BeginTx(ctx, nil)
	if err != nil {
		return SelectionResult{}, err
	}
	defer tx.Rollback()
	type stmt struct {
		q    string
		args []any
	}
	stmts := []stmt{
		{"DELETE FROM load_selection", nil},
		{"INSERT INTO load_selection " + with + "SELECT id FROM sel", args},
		// Skips of an earlier filter that this one takes back.
		{with + `DELETE FROM ledger WHERE stage = 'filter' AND (
		    (entity = 'tickets' AND source_id IN (SELECT id FROM kept))
		 OR (entity = 'comments' AND source_id IN (SELECT id FROM comments WHERE ticket_id IN (SELECT id FROM kept)))
		 OR (entity = 'attachments' AND source_id IN (SELECT id FROM attachments WHERE ticket_id IN (SELECT id FROM kept))))`, args},
	}
	if filtered {
		stmts = append(stmts, stmt{with + `INSERT OR REPLACE INTO ledger (entity, source_id, outcome, reason, intercom_id, stage, run_id, recorded_at)
		   SELECT 'tickets', t.id, 'skipped', ?, NULL, 'filter', ?, now()::TIMESTAMP` + skipFrom, append(append([]any{}, args...), sel.reason(), runID)})
	}
	if sel.Demo > 0 {
		// A migration selects again for each load pass: its picks once.
		stmts = append(stmts, stmt{`DELETE FROM demo_picks WHERE run_id = ?`, []any{runID}},
			stmt{`INSERT INTO demo_picks SELECT ?, ?, ticket_id, now()::TIMESTAMP FROM load_selection`, []any{runID, fmt.Sprint(sel.Seed)}})
	}
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s.q, s.args...); err != nil {
			return SelectionResult{}, fmt.Errorf("record the selection: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return SelectionResult{}, fmt.Errorf("record the selection: %w", err)
	}
	return SelectionResult{Plan: p}, nil
}

// SelectedContacts is the SQL condition (over users) of the end users a load
// with sel creates, once Select recorded it.
func SelectedContacts(sel Selection) string {
	return "id IN (WITH sel AS (SELECT ticket_id AS id FROM load_selection) SELECT id FROM users WHERE " + contactsCondition(sel.Demo > 0) + ")"
}

// SelectedCompanies is the SQL condition (over organizations) of the
// organizations a load with sel creates, once Select recorded it.
func SelectedCompanies(sel Selection) string {
	return "id IN (WITH sel AS (SELECT ticket_id AS id FROM load_selection) SELECT id FROM organizations WHERE " + companiesCondition(sel.Demo > 0) + ")"
}

// SelectedTickets is the SQL condition (over tickets, comments' ticket_id
// and the like) of the tickets a load takes, once Select recorded it.
func SelectedTickets(column string) string {
	return column + " IN (SELECT ticket_id FROM load_selection)"
}

// TicketsChangedBefore is a condition on a ticket id column: the staged
// ticket was last updated before t. A migration loading while it extracts
// takes only those: once the comments stream has sent every update before
// t (see plugin.MarkHandler), such a ticket has all its comments staged.
// Tickets without an update time, and those transforms added, wait for
// the end of the extract.
func TicketsChangedBefore(column string, t time.Time) string {
	return fmt.Sprintf("%s IN (SELECT id FROM tickets WHERE updated_at < TIMESTAMP '%s')", column, t.UTC().Format("2006-01-02 15:04:05.999999"))
}

// TicketsChangedBetween counts the staged tickets last updated in [from, to).
func (w *Workspace) TicketsChangedBetween(ctx context.Context, from, to time.Time) (int64, error) {
	var n int64
	err := w.db.QueryRowContext(ctx, `SELECT count(*) FROM tickets WHERE updated_at >= ? AND updated_at < ?`, from.UTC(), to.UTC()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count the tickets updated between %s and %s: %w", from, to, err)
	}
	return n, nil
}

// SelectAdded adds to the load's selection the tickets transforms added
// (the pieces of a split, new tickets): they were not staged when the
// selection was made, and load with the tickets that made them.
func (w *Workspace) SelectAdded(ctx context.Context) error {
	overlay := QuoteIdent(OverlayTable(schema.Tickets))
	q := fmt.Sprintf(`INSERT INTO load_selection SELECT DISTINCT id FROM %s WHERE %s = '%s' AND id NOT IN (SELECT ticket_id FROM load_selection)`,
		overlay, overlayKind, OverlayNew)
	if _, err := w.db.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("select the tickets transforms added: %w", err)
	}
	return nil
}
