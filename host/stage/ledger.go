package stage

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Run statuses.
const (
	RunRunning   = "running"
	RunSucceeded = "succeeded"
	RunFailed    = "failed"
)

// StartRun records the start of a command that changes the workspace and
// returns its run id.
func (w *Workspace) StartRun(ctx context.Context, command string) (int64, error) {
	var id int64
	err := w.db.QueryRowContext(ctx,
		`INSERT INTO runs (command, started_at, status) VALUES (?, now()::TIMESTAMP, ?) RETURNING id`, command, RunRunning).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("record the start of %s: %w", command, err)
	}
	return id, nil
}

// FinishRun records how a run ended.
func (w *Workspace) FinishRun(ctx context.Context, id int64, status, detail string) error {
	if _, err := w.db.ExecContext(ctx,
		`UPDATE runs SET finished_at = now()::TIMESTAMP, status = ?, detail = ? WHERE id = ?`, status, detail, id); err != nil {
		return fmt.Errorf("record the end of run %d: %w", id, err)
	}
	return nil
}

// Outcome is what happened to one record.
type Outcome struct {
	Entity     string // EntityCompanies, ...
	SourceID   string
	Outcome    string // Migrated, Failed or Skipped
	Reason     string // why it failed or was skipped
	IntercomID string // the object created, when migrated
	Stage      string // extract, transform or load
	RunID      int64
	// SourceUpdatedAt is the source record's updated_at as migrated: a
	// delta migration loads again what the source changed after it.
	SourceUpdatedAt time.Time
}

// MapID records that ferry created Intercom object intercomID for a source
// record, as soon as it exists and before the record's other steps, so that
// a rerun after a failure in between resumes with the object instead of
// creating a second one.
func (w *Workspace) MapID(ctx context.Context, entity, sourceID, intercomID string, runID int64) error {
	return w.mapID(ctx, idMapRow{entity, sourceID, intercomID, runID, false})
}

// MapAdopted records that a source record is the Intercom object
// intercomID, which ferry found there rather than created (a contact of the
// same email): undo does not delete it.
func (w *Workspace) MapAdopted(ctx context.Context, entity, sourceID, intercomID string, runID int64) error {
	return w.mapID(ctx, idMapRow{entity, sourceID, intercomID, runID, true})
}

func (w *Workspace) mapID(ctx context.Context, r idMapRow) error {
	entity, sourceID, intercomID := r.entity, r.sourceID, r.intercomID
	if err := w.w.write(ctx, nil, []idMapRow{r}); err != nil {
		return fmt.Errorf("map %s %s to %s: %w", entity, sourceID, intercomID, err)
	}
	return nil
}

// SetOutcome records a record's outcome in the ledger and, when it has an
// Intercom id, in the id map, in one transaction: a rerun never creates an
// object twice.
func (w *Workspace) SetOutcome(ctx context.Context, o Outcome) error {
	if err := w.SetOutcomes(ctx, []Outcome{o}); err != nil {
		return fmt.Errorf("record %s %s as %s: %w", o.Entity, o.SourceID, o.Outcome, err)
	}
	return nil
}

// SetOutcomes records many outcomes in one transaction.
func (w *Workspace) SetOutcomes(ctx context.Context, os []Outcome) error {
	ledger := make([]ledgerRow, 0, len(os))
	var idMap []idMapRow
	for _, o := range os {
		ledger = append(ledger, ledgerRow{o.Entity, o.SourceID, o.Outcome, o.Reason, o.IntercomID, o.Stage, o.RunID, o.SourceUpdatedAt})
		if o.IntercomID != "" {
			idMap = append(idMap, idMapRow{o.Entity, o.SourceID, o.IntercomID, o.RunID, false})
		}
	}
	return w.w.write(ctx, ledger, idMap)
}

// IDMap returns source id → Intercom id for every object of entity that
// ferry created.
func (w *Workspace) IDMap(ctx context.Context, entity string) (map[string]string, error) {
	if err := w.sync(ctx); err != nil {
		return nil, err
	}
	rows, err := w.db.QueryContext(ctx, `SELECT source_id, intercom_id FROM id_map WHERE entity = ?`, entity)
	if err != nil {
		return nil, fmt.Errorf("read the id map of %s: %w", entity, err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var s, i string
		if err := rows.Scan(&s, &i); err != nil {
			return nil, fmt.Errorf("read the id map of %s: %w", entity, err)
		}
		out[s] = i
	}
	return out, rows.Err()
}

// EntityCounts are one entity's line of the summary.
type EntityCounts struct {
	Entity    string `json:"-"`
	Available int64  `json:"available"`
	Migrated  int64  `json:"migrated"`
	Failed    int64  `json:"failed"`
	Skipped   int64  `json:"skipped"`
}

// SummaryEntities are the summary's entities in the order it shows them.
func SummaryEntities() []string {
	return []string{EntityTickets, EntityComments, EntityAttachments, EntityContacts, EntityCompanies}
}

// Summary returns the four-column summary (available, migrated, failed,
// skipped) of every entity, in SummaryEntities order, with zero lines for
// entities the workspace has none of.
func (w *Workspace) Summary(ctx context.Context) ([]EntityCounts, error) {
	if err := w.sync(ctx); err != nil {
		return nil, err
	}
	return Summary(ctx, w.db)
}

// Summary reads the summary from a workspace database opened by Open or
// OpenReadOnly.
func Summary(ctx context.Context, db *sql.DB) ([]EntityCounts, error) {
	rows, err := db.QueryContext(ctx, `SELECT entity, available, migrated, failed, skipped FROM migration_summary`)
	if err != nil {
		return nil, fmt.Errorf("read the migration summary: %w", err)
	}
	defer rows.Close()
	got := map[string]EntityCounts{}
	for rows.Next() {
		var c EntityCounts
		if err := rows.Scan(&c.Entity, &c.Available, &c.Migrated, &c.Failed, &c.Skipped); err != nil {
			return nil, fmt.Errorf("read the migration summary: %w", err)
		}
		got[c.Entity] = c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the migration summary: %w", err)
	}
	var out []EntityCounts
	for _, e := range SummaryEntities() {
		c := got[e]
		c.Entity = e
		out = append(out, c)
		delete(got, e)
	}
	// The knowledge base, when the source has one.
	for _, e := range []string{EntityCollections, EntityArticles} {
		if c, ok := got[e]; ok {
			c.Entity = e
			out = append(out, c)
			delete(got, e)
		}
	}
	for _, c := range got { // entities a later ferry added; keep them visible
		out = append(out, c)
	}
	return out, nil
}

// Outcomes returns source id → outcome for every ledger row of entity.
func (w *Workspace) Outcomes(ctx context.Context, entity string) (map[string]string, error) {
	if err := w.sync(ctx); err != nil {
		return nil, err
	}
	rows, err := w.db.QueryContext(ctx, `SELECT source_id, outcome FROM ledger WHERE entity = ?`, entity)
	if err != nil {
		return nil, fmt.Errorf("read the outcomes of %s: %w", entity, err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var s, o string
		if err := rows.Scan(&s, &o); err != nil {
			return nil, fmt.Errorf("read the outcomes of %s: %w", entity, err)
		}
		out[s] = o
	}
	return out, rows.Err()
}

// CascadeTicketOutcomes gives the comments and attachments of every ticket
// that was skipped or failed before loading (at extract or transform), the
// ticket's outcome, so that they are accounted for rather than left pending.
// The loader accounts for the comments of tickets that fail while loading.
func (w *Workspace) CascadeTicketOutcomes(ctx context.Context, runID int64) error {
	if err := w.sync(ctx); err != nil {
		return err
	}
	for _, q := range []struct{ entity, table string }{{EntityComments, "comments"}, {EntityAttachments, "attachments"}} {
		from := fmt.Sprintf(`
FROM %s c JOIN ledger t ON t.entity = 'tickets' AND t.source_id = c.ticket_id AND t.outcome IN ('skipped', 'failed') AND t.stage <> 'load'
WHERE NOT EXISTS (SELECT 1 FROM ledger l WHERE l.entity = ? AND l.source_id = c.id AND l.outcome = 'migrated')`, q.table)
		err := w.withRoomFor(ctx, from, []any{q.entity}, func() error {
			_, err := w.db.ExecContext(ctx, `
INSERT OR REPLACE INTO ledger (entity, source_id, outcome, reason, intercom_id, stage, run_id, recorded_at)
SELECT ?, c.id, t.outcome, 'ticket ' || t.source_id || ' ' || t.outcome || ': ' || coalesce(t.reason, ''), NULL, t.stage, ?, now()::TIMESTAMP`+from,
				q.entity, runID, q.entity)
			return err
		})
		if err != nil {
			return fmt.Errorf("account for the %s of skipped and failed tickets: %w", q.entity, err)
		}
	}
	return nil
}

// SkipOrphans accounts for the comments whose ticket is not staged, and the
// files of such comments (or of comments that are not staged): they have
// no conversation to go into. They are skipped with the reason, unless the
// ledger has an outcome for them already; should the ticket come in a
// later extract, its load takes them and records what they became.
func (w *Workspace) SkipOrphans(ctx context.Context, runID int64) error {
	if err := w.sync(ctx); err != nil {
		return err
	}
	from := `
FROM comments c
WHERE (c.ticket_id IS NULL OR c.ticket_id NOT IN (SELECT id FROM tickets))
  AND c.id NOT IN (SELECT source_id FROM ledger WHERE entity = 'comments')`
	err := w.withRoomFor(ctx, from, nil, func() error {
		_, err := w.db.ExecContext(ctx, `
INSERT OR REPLACE INTO ledger (entity, source_id, outcome, reason, intercom_id, stage, run_id, recorded_at)
SELECT 'comments', c.id, 'skipped',
  CASE WHEN c.ticket_id IS NULL THEN 'it names no ticket, so it has no conversation to go into'
       ELSE 'its ticket ' || c.ticket_id || ' is not in the source (the source listed the comment but not the ticket), so it has no conversation to go into' END,
  NULL, 'load', ?, now()::TIMESTAMP`+from, runID)
		return err
	})
	if err != nil {
		return fmt.Errorf("account for the comments of tickets the source did not list: %w", err)
	}
	from = `
FROM attachments a
WHERE a.article_id IS NULL AND a.ticket_id IS NOT NULL
  AND (a.ticket_id NOT IN (SELECT id FROM tickets) OR a.comment_id IS NULL OR a.comment_id NOT IN (SELECT id FROM comments))
  AND a.id NOT IN (SELECT source_id FROM ledger WHERE entity = 'attachments')`
	err = w.withRoomFor(ctx, from, nil, func() error {
		_, err := w.db.ExecContext(ctx, `
INSERT OR REPLACE INTO ledger (entity, source_id, outcome, reason, intercom_id, stage, run_id, recorded_at)
SELECT 'attachments', a.id, 'skipped',
  CASE WHEN a.ticket_id NOT IN (SELECT id FROM tickets)
       THEN 'its ticket ' || a.ticket_id || ' is not in the source (the source listed the file but not the ticket), so it has no conversation to go into'
       ELSE 'its comment ' || coalesce(a.comment_id, '(none)') || ' is not in the source (the source listed the file but not the comment), so it has no part to go into' END,
  NULL, 'load', ?, now()::TIMESTAMP`+from, runID)
		return err
	})
	if err != nil {
		return fmt.Errorf("account for the files of comments the source did not list: %w", err)
	}
	return nil
}

// SkipArticleAttachments accounts for the files of the articles that are
// migrated or failed: Intercom's articles API takes no files, so a
// migrated article's are skipped (its body still links to them where the
// source's did), and a failed article's fail with it.
func (w *Workspace) SkipArticleAttachments(ctx context.Context, runID int64) error {
	if err := w.sync(ctx); err != nil {
		return err
	}
	from := `
FROM attachments a JOIN ledger l ON l.entity = 'articles' AND l.source_id = a.article_id
WHERE a.article_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ledger x WHERE x.entity = 'attachments' AND x.source_id = a.id AND x.outcome = 'migrated')`
	err := w.withRoomFor(ctx, from, nil, func() error {
		_, err := w.db.ExecContext(ctx, `
INSERT OR REPLACE INTO ledger (entity, source_id, outcome, reason, intercom_id, stage, run_id, recorded_at)
SELECT 'attachments', a.id,
  CASE WHEN l.outcome = 'migrated' THEN 'skipped' ELSE l.outcome END,
  CASE WHEN l.outcome = 'migrated' THEN 'a file of article ' || l.source_id || ': Intercom''s articles take no files (the body links to it where the source''s did)'
       ELSE 'article ' || l.source_id || ' ' || l.outcome || ': ' || coalesce(l.reason, '') END,
  NULL, 'load', ?, now()::TIMESTAMP`+from, runID)
		return err
	})
	if err != nil {
		return fmt.Errorf("account for the files of articles: %w", err)
	}
	return nil
}

// CompaniesWithoutContacts returns the source ids and names of the
// companies ferry created that no migrated contact is linked to: Intercom
// does not show a company without contacts (in its UI, or in
// POST /companies/list).
func (w *Workspace) CompaniesWithoutContacts(ctx context.Context) ([][2]string, error) {
	if err := w.sync(ctx); err != nil {
		return nil, err
	}
	rows, err := w.db.QueryContext(ctx, `
SELECT m.source_id, coalesce(o.name, '')
FROM id_map m LEFT JOIN organizations o ON o.id = m.source_id
WHERE m.entity = 'companies' AND m.source_id NOT IN (
  SELECT u.organization_id FROM users u
  JOIN ledger l ON l.entity = 'contacts' AND l.source_id = u.id AND l.outcome = 'migrated'
  WHERE u.organization_id IS NOT NULL)
ORDER BY 2, 1`)
	if err != nil {
		return nil, fmt.Errorf("find companies without contacts: %w", err)
	}
	defer rows.Close()
	var out [][2]string
	for rows.Next() {
		var id, name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, fmt.Errorf("find companies without contacts: %w", err)
		}
		out = append(out, [2]string{id, name})
	}
	return out, rows.Err()
}
