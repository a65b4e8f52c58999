package stage

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// undo deletes from Intercom what the workspace created; each object it
// tried is a row here: deleted, already gone, or kept with the reason (the
// API cannot delete it, or refused).
const undoDDL = `CREATE TABLE IF NOT EXISTS undo_log (
  entity VARCHAR NOT NULL,
  source_id VARCHAR NOT NULL,
  intercom_id VARCHAR NOT NULL,
  outcome VARCHAR NOT NULL,
  reason VARCHAR,
  run_id BIGINT,
  recorded_at TIMESTAMP NOT NULL
)`

// Outcomes of an object in undo_log.
const (
	UndoDeleted = "deleted" // undo deleted it
	UndoGone    = "gone"    // Intercom no longer had it
	UndoKept    = "kept"    // the API cannot delete it, or ferry did not create it
	UndoFailed  = "failed"  // the delete failed
)

// UndoEntities are the entities undo deletes, in the order it deletes
// those the id map says were created at the same moment: what holds
// others last (an article before its collection, a conversation before
// its contact, a contact before its company). Comments and attachments
// are parts of their ticket's conversation and go with it.
func UndoEntities() []string {
	return []string{EntityArticles, EntityCollections, EntityTickets, EntityContacts, EntityCompanies}
}

// Created is one object of the id map.
type Created struct {
	Entity, SourceID, IntercomID string
	// RunID and CreatedAt say which run mapped it, and when.
	RunID     int64
	CreatedAt time.Time
	// Adopted says ferry found the object in Intercom rather than created it.
	Adopted bool
	// Depth is how deep a collection nests (0 at the top); 0 for the others.
	Depth int
}

// CreatedObjects returns the objects of the id map of UndoEntities, newest
// first (the reverse of the order ferry created them in), those of the
// same moment in UndoEntities order and collections nested deeper first.
func (w *Workspace) CreatedObjects(ctx context.Context) ([]Created, error) {
	if err := w.sync(ctx); err != nil {
		return nil, err
	}
	rows, err := w.db.QueryContext(ctx, `
WITH RECURSIVE tree(id, depth) AS (
  SELECT id, 0 FROM kb_categories WHERE parent_id IS NULL OR parent_id NOT IN (SELECT id FROM kb_categories)
  UNION ALL
  -- A source whose categories loop has no top to start from; the bound is
  -- for a depth no help center has.
  SELECT c.id, t.depth + 1 FROM kb_categories c JOIN tree t ON c.parent_id = t.id WHERE t.depth < 64
), depths AS (SELECT id, max(depth) AS depth FROM tree GROUP BY id)
SELECT m.entity, m.source_id, m.intercom_id, coalesce(m.run_id, 0), m.created_at, coalesce(m.adopted, false),
  CASE WHEN m.entity = 'collections' THEN coalesce(d.depth, 0) ELSE 0 END AS depth
FROM id_map m LEFT JOIN depths d ON m.entity = 'collections' AND d.id = m.source_id
WHERE m.entity IN (SELECT unnest(?::VARCHAR[]))
ORDER BY m.created_at DESC, list_position(?::VARCHAR[], m.entity), depth DESC, m.source_id`, UndoEntities(), UndoEntities())
	if err != nil {
		return nil, fmt.Errorf("read the id map: %w", err)
	}
	defer rows.Close()
	var out []Created
	for rows.Next() {
		var c Created
		if err := rows.Scan(&c.Entity, &c.SourceID, &c.IntercomID, &c.RunID, &c.CreatedAt, &c.Adopted, &c.Depth); err != nil {
			return nil, fmt.Errorf("read the id map: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the id map: %w", err)
	}
	return out, nil
}

// CreatedDependents returns, for objects of the id map, the mapped records
// whose Intercom objects depend on them: the tickets a contact requested
// or is CC'd on (deleting a contact takes its conversations, or leaves them
// without it), the contacts of a company (deleting it detaches them), and
// the collections and articles in a collection. Undo keeps an object while
// something that depends on it stays. Records that transforms changed or
// added count as the load saw them (the load_ views), and as staged.
func (w *Workspace) CreatedDependents(ctx context.Context) (map[RecordKey][]RecordKey, error) {
	if err := w.sync(ctx); err != nil {
		return nil, err
	}
	var parts []string
	for _, p := range []struct{ entity, stream, dependent, sql string }{
		{EntityContacts, "tickets", EntityTickets, `SELECT requester_id, id FROM %s WHERE requester_id IS NOT NULL
  UNION SELECT unnest(cc_ids), id FROM %[1]s`},
		{EntityCompanies, "users", EntityContacts, `SELECT organization_id, id FROM %s WHERE organization_id IS NOT NULL`},
		{EntityCollections, "kb_categories", EntityCollections, `SELECT parent_id, id FROM %s WHERE parent_id IS NOT NULL`},
		{EntityCollections, "kb_articles", EntityArticles, `SELECT parent_id, id FROM %s WHERE parent_id IS NOT NULL`},
	} {
		tables, err := w.withLoadView(ctx, p.stream)
		if err != nil {
			return nil, err
		}
		for _, t := range tables {
			parts = append(parts, fmt.Sprintf(`SELECT '%s' AS entity, x.source_id, '%s' AS dep_entity, x.dep FROM (%s) x(source_id, dep)`,
				p.entity, p.dependent, fmt.Sprintf(p.sql, t)))
		}
	}
	rows, err := w.db.QueryContext(ctx, `SELECT DISTINCT d.entity, d.source_id, d.dep_entity, d.dep FROM (`+strings.Join(parts, "\nUNION ALL ")+`) d
JOIN id_map m ON m.entity = d.dep_entity AND m.source_id = d.dep
WHERE d.source_id IS NOT NULL
ORDER BY ALL`)
	if err != nil {
		return nil, fmt.Errorf("read what depends on the objects ferry created: %w", err)
	}
	defer rows.Close()
	out := map[RecordKey][]RecordKey{}
	for rows.Next() {
		var k, dep RecordKey
		if err := rows.Scan(&k.Entity, &k.SourceID, &dep.Entity, &dep.SourceID); err != nil {
			return nil, fmt.Errorf("read what depends on the objects ferry created: %w", err)
		}
		out[k] = append(out[k], dep)
	}
	return out, rows.Err()
}

// withLoadView returns the stream's table, and its load_ view when
// transforms made one (quoted).
func (w *Workspace) withLoadView(ctx context.Context, stream string) ([]string, error) {
	out := []string{QuoteIdent(stream)}
	var exists bool
	if err := w.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM duckdb_views() WHERE view_name = ? AND NOT internal)`, LoadView(stream)).Scan(&exists); err != nil {
		return nil, fmt.Errorf("look for %s: %w", LoadView(stream), err)
	}
	if exists {
		out = append(out, QuoteIdent(LoadView(stream)))
	}
	return out, nil
}

// UndoEntry is what undo did with one object of the id map: a row of
// undo_log.
type UndoEntry struct {
	Entity, SourceID, IntercomID string
	Outcome                      string // UndoDeleted, UndoGone, UndoKept or UndoFailed
	Reason                       string // why it was kept or failed
	RunID                        int64
	// Adopted says ferry found the object in Intercom rather than created
	// it; undo keeps it.
	Adopted bool
}

// RecordUndo appends e to undo_log and, in the same transaction, makes the
// workspace agree with Intercom, so that a later load creates again what
// undo took away:
//
//   - an object deleted or gone leaves the id map, the ledger and the
//     intents; a ticket's comments and attachments (parts of its
//     conversation) leave them with it;
//   - an adopted object that undo kept stays in the id map (it is still
//     the source record's object: a later load uses it again), but leaves
//     the ledger, so that the load links it again to what it recreates;
//   - an object kept because Intercom refused, or whose delete failed,
//     stays as it is: it is still there, and a later undo tries again.
//
// A crash between Intercom's answer and this commit is resolved by the
// next undo: Intercom then answers 404, and the object is recorded gone.
func (w *Workspace) RecordUndo(ctx context.Context, e UndoEntry) error {
	if err := w.sync(ctx); err != nil {
		return err
	}
	// What Intercom did is recorded even when the run is being stopped.
	ctx = context.WithoutCancel(ctx)
	var stmts []stmt
	switch {
	case e.Outcome == UndoDeleted || e.Outcome == UndoGone:
		stmts = append(stmts,
			stmt{`DELETE FROM id_map WHERE entity = ? AND source_id = ?`, []any{e.Entity, e.SourceID}},
			stmt{`DELETE FROM ledger WHERE entity = ? AND source_id = ?`, []any{e.Entity, e.SourceID}},
			stmt{`DELETE FROM intents WHERE entity = ? AND source_id = ?`, []any{e.Entity, e.SourceID}})
		if e.Entity == EntityTickets {
			more, err := w.forgetThread(ctx, e.SourceID, e.IntercomID)
			if err != nil {
				return err
			}
			stmts = append(stmts, more...)
		}
		if e.Entity == EntityArticles {
			// Its files were accounted with it (SkipArticleAttachments).
			stmts = append(stmts, stmt{`DELETE FROM ledger WHERE entity = 'attachments' AND stage = 'load' AND source_id IN (SELECT id FROM attachments WHERE article_id = ?)`, []any{e.SourceID}})
		}
	case e.Outcome == UndoKept && e.Adopted:
		stmts = append(stmts, stmt{`DELETE FROM ledger WHERE entity = ? AND source_id = ?`, []any{e.Entity, e.SourceID}})
	}
	tx, err := w.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("record the undo of %s %s: %w", e.Entity, e.SourceID, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO undo_log (entity, source_id, intercom_id, outcome, reason, run_id, recorded_at)
VALUES (?, ?, ?, ?, ?, ?, now()::TIMESTAMP)`, e.Entity, e.SourceID, e.IntercomID, e.Outcome, nullIfEmpty(e.Reason), e.RunID); err != nil {
		return fmt.Errorf("record the undo of %s %s: %w", e.Entity, e.SourceID, err)
	}
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s.q, s.args...); err != nil {
			return fmt.Errorf("record the undo of %s %s: %s: %w", e.Entity, e.SourceID, firstLine(s.q), err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("record the undo of %s %s: %w", e.Entity, e.SourceID, err)
	}
	return nil
}

type stmt struct {
	q    string
	args []any
}

// forgetThread are the statements that take a deleted conversation's
// comments and attachments out of the id map, the ledger (what the load
// recorded; a transform's drop stays) and the intents (parts meant for
// that conversation).
func (w *Workspace) forgetThread(ctx context.Context, ticketID, conversationID string) ([]stmt, error) {
	var out []stmt
	for _, s := range []struct{ entity, stream string }{{EntityComments, "comments"}, {EntityAttachments, "attachments"}} {
		tables, err := w.withLoadView(ctx, s.stream)
		if err != nil {
			return nil, err
		}
		var sel []string
		var args []any
		for _, t := range tables {
			sel = append(sel, "SELECT id FROM "+t+" WHERE ticket_id = ?")
			args = append(args, ticketID)
		}
		ids := "(" + strings.Join(sel, " UNION ") + ")"
		out = append(out,
			stmt{`DELETE FROM id_map WHERE entity = ? AND source_id IN ` + ids, append([]any{s.entity}, args...)},
			stmt{`DELETE FROM ledger WHERE entity = ? AND stage = 'load' AND source_id IN ` + ids, append([]any{s.entity}, args...)})
		if s.entity == EntityComments {
			out = append(out, stmt{`DELETE FROM intents WHERE entity = ? AND (target = ? OR source_id IN ` + ids + `)`,
				append([]any{s.entity, conversationID}, args...)})
		}
	}
	return out, nil
}

// Undone reports whether an undo deleted the Intercom object intercomID of
// a source record (or found it gone): a load that meets that object again
// (Intercom archives a deleted company, and an upsert may bring it back)
// knows that ferry created it.
func (w *Workspace) Undone(ctx context.Context, entity, sourceID, intercomID string) (bool, error) {
	if err := w.sync(ctx); err != nil {
		return false, err
	}
	var ok bool
	err := w.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM undo_log WHERE entity = ? AND source_id = ? AND intercom_id = ? AND outcome IN (?, ?))`,
		entity, sourceID, intercomID, UndoDeleted, UndoGone).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("look up %s %s in undo_log: %w", entity, sourceID, err)
	}
	return ok, nil
}
