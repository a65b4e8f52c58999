package stage

import (
	"context"
	"fmt"
)

// A create that Intercom makes anew each time it is applied (a
// conversation, a part) is recorded here as intended, durably, before it
// is sent, and as sent with the id Intercom gave it once it is; a record's
// rows go when the record's outcome is written, in the same transaction.
// After a crash or a lost answer, an intent without a result is resolved
// against Intercom (read back) before anything is sent again: never a
// duplicate, never a gap.
const intentsDDL = `CREATE TABLE IF NOT EXISTS intents (
  entity VARCHAR NOT NULL,
  source_id VARCHAR NOT NULL,
  step INTEGER NOT NULL,
  state VARCHAR NOT NULL,
  target VARCHAR,
  detail VARCHAR,
  intercom_id VARCHAR,
  run_id BIGINT,
  recorded_at TIMESTAMP NOT NULL,
  PRIMARY KEY (entity, source_id, step)
)`

// Intent states.
const (
	IntentIntended = "intended"
	IntentSent     = "sent"
)

// An Intent is one create of a record: its step (a comment sent as several
// parts has one per part), the object it goes into (a conversation, for a
// part), and what identifies the object once made (Detail, the loader's
// own JSON).
type Intent struct {
	Entity, SourceID string
	Step             int
	State            string // IntentIntended or IntentSent
	Target           string
	Detail           string
	IntercomID       string // once sent
	RunID            int64
}

// Settlement is what one step of a load writes at once: intents sent (or
// newly intended), records whose intents are done with, outcomes and id
// mappings.
type Settlement struct {
	Intents  []Intent
	Clear    []RecordKey
	Outcomes []Outcome
	IDs      []IDMapping
}

// RecordKey names a record.
type RecordKey struct{ Entity, SourceID string }

// IDMapping is one row of the id map.
type IDMapping struct {
	Entity, SourceID, IntercomID string
	RunID                        int64
	// Adopted says ferry found the object in Intercom rather than created
	// it (a contact of the same email): undo leaves it.
	Adopted bool
}

// Intend records that a create is about to be sent; it returns once that
// is durable.
func (w *Workspace) Intend(ctx context.Context, in Intent) error {
	in.State = IntentIntended
	if err := w.Settle(ctx, Settlement{Intents: []Intent{in}}); err != nil {
		return fmt.Errorf("record the intent to create %s %s (step %d): %w", in.Entity, in.SourceID, in.Step, err)
	}
	return nil
}

// Settle writes a settlement in one transaction.
func (w *Workspace) Settle(ctx context.Context, s Settlement) error {
	ledger := make([]ledgerRow, 0, len(s.Outcomes))
	var idMap []idMapRow
	for _, o := range s.Outcomes {
		ledger = append(ledger, ledgerRow{o.Entity, o.SourceID, o.Outcome, o.Reason, o.IntercomID, o.Stage, o.RunID, o.SourceUpdatedAt})
		if o.IntercomID != "" {
			idMap = append(idMap, idMapRow{o.Entity, o.SourceID, o.IntercomID, o.RunID, false})
		}
	}
	for _, m := range s.IDs {
		idMap = append(idMap, idMapRow{m.Entity, m.SourceID, m.IntercomID, m.RunID, m.Adopted})
	}
	return w.w.do(ctx, writeOp{ledger: ledger, idMap: idMap, intents: s.Intents, clear: s.Clear})
}

// Intents returns every intent of entity (sent or not) of records that are
// not settled, by source id, in step order.
func (w *Workspace) Intents(ctx context.Context, entity string) (map[string][]Intent, error) {
	if err := w.sync(ctx); err != nil {
		return nil, err
	}
	rows, err := w.db.QueryContext(ctx, `SELECT source_id, step, state, coalesce(target, ''), coalesce(detail, ''), coalesce(intercom_id, ''), coalesce(run_id, 0)
FROM intents WHERE entity = ? ORDER BY source_id, step`, entity)
	if err != nil {
		return nil, fmt.Errorf("read the intents of %s: %w", entity, err)
	}
	defer rows.Close()
	out := map[string][]Intent{}
	for rows.Next() {
		in := Intent{Entity: entity}
		if err := rows.Scan(&in.SourceID, &in.Step, &in.State, &in.Target, &in.Detail, &in.IntercomID, &in.RunID); err != nil {
			return nil, fmt.Errorf("read the intents of %s: %w", entity, err)
		}
		out[in.SourceID] = append(out[in.SourceID], in)
	}
	return out, rows.Err()
}
