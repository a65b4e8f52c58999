package stage

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
)

// memoryBudget keeps DuckDB's memory limit at the workspace's budget (its
// base: what DuckDB may cache of the tables and hold for queries) plus what
// the primary-key indexes of the ledger, the id map, the intents and the
// audit need. DuckDB keeps such an index in memory whole, counts it against
// the limit and cannot write it out: under a fixed limit, a large
// migration's ledger would stop with "Out of Memory" once its keys outgrew
// it (at 1.6M keys for 128 MB, measured). So the limit follows the indexes:
// what DuckDB reports they hold, with a quarter more for growth, or, until
// they are read (DuckDB loads an index when a statement first uses it), an
// estimate from the tables' rows; and writes that add many keys at once
// reserve room for them first.
type memoryBudget struct {
	db   *sql.DB
	base int64 // bytes

	mu sync.Mutex
	// floor is the index bytes estimated from the keyed tables' rows when
	// the workspace opened.
	floor int64
	// reserved is the room writes under way hold for the keys they add.
	reserved int64
	// limit is the limit set last.
	limit int64
}

// indexBytesPerKey is the room the estimate gives a key: DuckDB's index
// of the ledger held 55 to 63 bytes a key for ids of 8 to 16 characters
// (measured with duckdb_memory()); twice that covers longer ids.
const indexBytesPerKey = 128

// writeBytesPerKey is the room a write reserves for a key it adds: until
// it commits, the row and its key are held a second time, in the
// transaction's own storage and index.
const writeBytesPerKey = 256

// keyedTables are the tables with a primary key of many rows.
var keyedTables = []string{"ledger", "id_map", "intents", "audit_checks"}

func newMemoryBudget(db *sql.DB, baseMB int) *memoryBudget {
	base := int64(baseMB) << 20
	return &memoryBudget{db: db, base: base, limit: base}
}

// off reports whether the workspace has no cap of its own: DuckDB's
// limit then stands, and nothing is counted, reserved or refitted.
func (m *memoryBudget) off() bool { return m.base == 0 }

// estimate sets the floor from the keyed tables' rows, and the limit.
func (m *memoryBudget) estimate(ctx context.Context) error {
	if m.off() {
		return nil
	}
	var keys int64
	for _, t := range keyedTables {
		var n int64
		err := m.db.QueryRowContext(ctx, `SELECT count(*) FROM `+QuoteIdent(t)).Scan(&n)
		if err != nil {
			return fmt.Errorf("count the keys of %s: %w", t, err)
		}
		keys += n
	}
	m.mu.Lock()
	m.floor = keys * indexBytesPerKey
	m.mu.Unlock()
	return m.refit(ctx)
}

// reserve raises the limit by room for keys more index keys, and returns
// what gives the room back; a caller adding keys in bulk reserves first.
func (m *memoryBudget) reserve(ctx context.Context, keys int64) (release func(), err error) {
	if m.off() {
		return func() {}, nil
	}
	room := keys * writeBytesPerKey
	m.mu.Lock()
	m.reserved += room
	m.mu.Unlock()
	release = func() {
		m.mu.Lock()
		m.reserved -= room
		m.mu.Unlock()
		// A limit left high only lets DuckDB cache more: the next refit
		// lowers it.
		_ = m.refit(context.WithoutCancel(ctx))
	}
	if err := m.refit(ctx); err != nil {
		release()
		return nil, err
	}
	return release, nil
}

// refit sets the limit to the base, the indexes with room to grow, and the
// reservations. It lowers the limit only by an eighth or more, so that the
// limit does not move at every write; a limit DuckDB cannot lower to yet
// (it holds more now) stays where it is.
func (m *memoryBudget) refit(ctx context.Context) error {
	if m.off() {
		return nil
	}
	var held int64
	err := m.db.QueryRowContext(ctx, `SELECT coalesce(sum(memory_usage_bytes), 0)::BIGINT FROM duckdb_memory() WHERE tag = 'ART_INDEX'`).Scan(&held)
	if err != nil {
		return fmt.Errorf("read the memory of the workspace's indexes: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	want := m.base + max(held, m.floor)*5/4 + m.reserved
	if want == m.limit || (want < m.limit && m.limit-want < m.limit/8) {
		return nil
	}
	if _, err := m.db.ExecContext(ctx, fmt.Sprintf("SET memory_limit = '%dKiB'", (want+1023)>>10)); err != nil {
		if want < m.limit {
			return nil
		}
		return fmt.Errorf("raise DuckDB's memory limit to %d MB for the workspace's indexes: %w", want>>20, err)
	}
	m.limit = want
	return nil
}

// limitBytes returns the limit set last.
func (m *memoryBudget) limitBytes() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.limit
}

// reserveCounted reserves room for as many keys as count, a query of one
// number, counts: the rows a bulk INSERT is about to add.
func (m *memoryBudget) reserveCounted(ctx context.Context, count string, args ...any) (release func(), err error) {
	if m.off() {
		return func() {}, nil // no need to count
	}
	var n int64
	if err := m.db.QueryRowContext(ctx, count, args...).Scan(&n); err != nil {
		return nil, fmt.Errorf("count the keys a write adds: %w", err)
	}
	return m.reserve(ctx, n)
}

// withRoomFor runs write, a bulk INSERT into a keyed table of the rows of
// from (a FROM ... WHERE ... clause, with its args), with room reserved for
// their keys.
func (w *Workspace) withRoomFor(ctx context.Context, from string, args []any, write func() error) error {
	release, err := w.mem.reserveCounted(ctx, "SELECT count(*) "+from, args...)
	if err != nil {
		return err
	}
	defer release()
	return write()
}
