package stage

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	_ "github.com/duckdb/duckdb-go/v2" // the duckdb database/sql driver

	"github.com/ferryhq/ferry/sdk/schema"
)

// FileName is the workspace database's name inside the workspace folder.
const FileName = "ferry.duckdb"

// SchemaVersion is the version of the workspace schema this ferry writes.
// A workspace written by a newer ferry is refused rather than misread.
const SchemaVersion = 4

// writerSettings configure the DuckDB instance of a writing ferry.
//
// checkpoint_threshold: DuckDB folds its write-ahead log into the file
// whenever the log passes the threshold (16 MB by default), rewriting tables
// each time; staging commits at every checkpoint of a source, so that would
// happen every few commits and cost more than the staging itself. Fold once
// in a while instead (and when the workspace closes); a crash replays the log.
// Staging checkpoints sooner, itself (see checkpointLogBytes).
//
// memory_limit (added by OpenWith when asked: see OpenOptions.MemoryMB):
// DuckDB's default is 80% of the machine's memory, which it fills with the
// pages of the tables it staged, well past what a migration needs; beyond
// a limit it writes them out and spills big joins and sorts to disk.
//
// enable_external_access: people's SQL runs here too (filters, and queries
// served while this process writes). ferry never reads or writes other files
// or loads extensions through DuckDB, so nothing may; the setting holds for
// every connection of the instance and cannot be turned back on.
const writerSettings = "checkpoint_threshold=1GB&enable_external_access=false&autoload_known_extensions=false&autoinstall_known_extensions=false&allow_community_extensions=false"

// Workspace is an open workspace folder and its database.
type Workspace struct {
	dir string
	db  *sql.DB
	// w commits the ledger's and the id map's small writes in groups.
	w *writer
	// mem keeps DuckDB's memory limit at the budget plus the indexes.
	mem *memoryBudget
	// checkpointAt is the log size at which staging checkpoints (see
	// checkpointLogBytes).
	checkpointAt int64
}

// Open opens the workspace in dir, creating the folder and the database
// when they do not exist and bringing the schema up to date.
func Open(ctx context.Context, dir string) (*Workspace, error) {
	return OpenWith(ctx, dir, OpenOptions{})
}

// OpenWith is Open with options.
func OpenWith(ctx context.Context, dir string, opts OpenOptions) (*Workspace, error) {
	if opts.LockWait <= 0 {
		opts.LockWait = DefaultLockWait
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create workspace folder %s: %w", dir, err)
	}
	path := filepath.Join(dir, FileName)
	db, err := openWriter(ctx, dir, path, opts.LockWait, opts.MemoryMB)
	if err != nil {
		return nil, err
	}
	// The workspace holds a customer's help desk: only its owner reads it.
	for _, p := range []string{path, path + ".wal"} {
		if err := os.Chmod(p, 0o600); err != nil && !errors.Is(err, os.ErrNotExist) {
			db.Close()
			return nil, fmt.Errorf("restrict workspace file %s: %w", p, err)
		}
	}
	w := &Workspace{dir: dir, db: db, mem: newMemoryBudget(db, opts.MemoryMB), checkpointAt: cmp.Or(opts.checkpointAt, checkpointLogBytes)}
	if err := w.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open workspace %s: %w", path, err)
	}
	if err := w.mem.estimate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open workspace %s: %w", path, err)
	}
	if w.w, err = newWriter(db, dir, opts.foldEvery, w.mem); err != nil {
		db.Close()
		return nil, fmt.Errorf("open workspace %s: %w", path, err)
	}
	return w, nil
}

// sync makes what the writer acknowledged readable in the tables (it
// folds the journal: see writer): every method that reads or writes the
// ledger, the id map or the intents with SQL calls it first.
func (w *Workspace) sync(ctx context.Context) error {
	if err := w.w.sync(ctx); err != nil {
		return fmt.Errorf("workspace: %w", err)
	}
	return nil
}

// DefaultLockWait is how long Open waits for another process to let go of
// the workspace: a ferry query reading it holds it for moments.
const DefaultLockWait = 20 * time.Second

// OpenOptions tune OpenWith.
type OpenOptions struct {
	// LockWait is how long to wait while another process holds the
	// workspace (default DefaultLockWait).
	LockWait time.Duration
	// MemoryMB caps the memory DuckDB keeps for the workspace (0: DuckDB's
	// own limit, 80% of the machine's memory): its cache of the tables'
	// pages and what queries hold, plus what the key indexes need (see
	// memoryBudget). Past it, DuckDB writes pages out and spills joins and
	// sorts to disk; what cannot spill (a batch of very large records being
	// staged: 128 MiB was too little for comments of 5 MB) fails with
	// DuckDB's "Out of Memory" error.
	MemoryMB int
	// foldEvery is how often the writer folds its journal (tests).
	foldEvery time.Duration
	// checkpointAt stands for checkpointLogBytes (tests).
	checkpointAt int64
}

// openWriter opens the database for writing, waiting while another process
// holds it for a short while.
func openWriter(ctx context.Context, dir, path string, lockWait time.Duration, memoryMB int) (*sql.DB, error) {
	deadline := time.Now().Add(lockWait)
	for {
		// duckdb-go opens the database in sql.Open already: a lock held by
		// another process shows there or in the ping.
		dsn := path + "?" + writerSettings
		if memoryMB > 0 {
			dsn += fmt.Sprintf("&memory_limit=%dMiB", memoryMB)
		}
		db, err := openDuckDB(dsn)
		if err == nil {
			if err = db.PingContext(ctx); err == nil {
				return db, nil
			}
			db.Close()
		}
		var held *WorkspaceHeldError
		if !errors.As(heldError(dir, err), &held) {
			return nil, fmt.Errorf("open workspace %s: %w", path, err)
		}
		if time.Now().After(deadline) {
			who := "another process"
			if held.PID > 0 {
				who = fmt.Sprintf("%s (PID %d)", held.Program, held.PID)
			}
			return nil, fmt.Errorf("the workspace %s is in use by %s, and DuckDB lets one process write it at a time: "+
				"wait for it to finish (another ferry extract, load or migrate?), or stop it, then run this again", dir, who)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Dir is the workspace folder.
func (w *Workspace) Dir() string { return w.dir }

// Path is the workspace database file.
func (w *Workspace) Path() string { return filepath.Join(w.dir, FileName) }

// DB is the workspace database, for queries of its tables and views.
//
// What the loader recorded a moment ago is in the tables when DB returns
// (its journal is folded first; see writer).
func (w *Workspace) DB() *sql.DB {
	// Best effort: a fold that fails now fails again, with its error, in
	// whatever reads next through a method of the workspace.
	_ = w.sync(context.Background())
	return w.db
}

// Close closes the database, after the writes under way.
func (w *Workspace) Close() error {
	w.w.close()
	// Closing checkpoints what the log holds (see checkpointLogBytes).
	if w.logBytes() >= closeReleaseBytes {
		debug.FreeOSMemory()
	}
	return w.db.Close()
}

func (w *Workspace) migrate(ctx context.Context) error {
	version, err := w.schemaVersion(ctx)
	if err != nil {
		return err
	}
	if version > SchemaVersion {
		return fmt.Errorf("the workspace has schema version %d, written by a newer ferry; this ferry reads up to version %d: upgrade ferry", version, SchemaVersion)
	}
	tx, err := w.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if version == 0 {
		if _, err := tx.ExecContext(ctx, `CREATE TABLE ferry_meta (key VARCHAR PRIMARY KEY, value VARCHAR)`); err != nil {
			return fmt.Errorf("create ferry_meta: %w", err)
		}
		stmts, err := schemaDDL()
		if err != nil {
			return err
		}
		for _, s := range stmts {
			if _, err := tx.ExecContext(ctx, s); err != nil {
				return fmt.Errorf("create workspace schema: %s: %w", firstLine(s), err)
			}
		}
	}
	for v := max(version, 1); v < SchemaVersion; v++ {
		if err := upgrades()[v-1](ctx, tx); err != nil {
			return fmt.Errorf("upgrade the workspace from schema version %d to %d: %w", v, v+1, err)
		}
	}
	// Views hold no data: they are made anew on every open, so a newer
	// ferry's views never meet an older one's.
	for _, v := range views() {
		if _, err := tx.ExecContext(ctx, v); err != nil {
			return fmt.Errorf("create view: %s: %w", firstLine(v), err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO ferry_meta VALUES ('schema_version', ?)`, strconv.Itoa(SchemaVersion)); err != nil {
		return fmt.Errorf("record schema version: %w", err)
	}
	return tx.Commit()
}

// schemaVersion reads the workspace's schema version: 0 for a new, empty
// database. A database that holds other tables but no ferry_meta is not a
// ferry workspace, and is left alone.
func (w *Workspace) schemaVersion(ctx context.Context) (int, error) {
	var tables []string
	rows, err := w.db.QueryContext(ctx, `SELECT table_name FROM duckdb_tables() WHERE NOT internal AND schema_name = 'main' ORDER BY 1`)
	if err != nil {
		return 0, fmt.Errorf("list tables: %w", err)
	}
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return 0, err
		}
		tables = append(tables, t)
	}
	rows.Close()
	if len(tables) == 0 {
		return 0, nil
	}
	if !slices.Contains(tables, "ferry_meta") {
		if len(tables) > 5 {
			tables = append(tables[:5], "…")
		}
		return 0, fmt.Errorf("not a ferry workspace: the database holds other tables (%s) and no ferry_meta; ferry leaves it alone", strings.Join(tables, ", "))
	}
	var v sql.NullString
	err = w.db.QueryRowContext(ctx, `SELECT value FROM ferry_meta WHERE key = 'schema_version'`).Scan(&v)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	n, err := strconv.Atoi(v.String)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("schema version %q is not a version: not a ferry workspace?", v.String)
	}
	return n, nil
}

// upgrades[i] brings a workspace from schema version i+1 to i+2.
func upgrades() []func(context.Context, *sql.Tx) error {
	return []func(context.Context, *sql.Tx) error{upgrade1to2, upgrade2to3, upgrade3to4}
}

// upgrade3to4 adds what verify, delta and undo keep: the source version a
// record was migrated at, whether an id was adopted rather than created,
// the audit's checks and undo's log.
func upgrade3to4(ctx context.Context, tx *sql.Tx) error {
	for _, q := range []string{
		`DROP VIEW IF EXISTS ticket_migration`,
		`DROP VIEW IF EXISTS failures`,
		`ALTER TABLE ledger ADD COLUMN IF NOT EXISTS source_updated_at TIMESTAMP`,
		`ALTER TABLE id_map ADD COLUMN IF NOT EXISTS adopted BOOLEAN DEFAULT false`,
		`UPDATE id_map SET adopted = false WHERE adopted IS NULL`,
		auditDDL,
		undoDDL,
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", firstLine(q), err)
		}
	}
	return nil
}

// upgrade2to3 adds the intents of creates (see intentsDDL).
func upgrade2to3(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, intentsDDL)
	return err
}

// upgrade1to2 drops the key indexes of the stream tables (and of the
// transformed_ tables): ids stay unique through the Ingest.
func upgrade1to2(ctx context.Context, tx *sql.Tx) error {
	for _, q := range []string{`DROP VIEW IF EXISTS migration_summary`, selectionDDL, demoPicksDDL} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	for _, stream := range schema.StreamNames() {
		for _, t := range []struct {
			table string
			extra []string
		}{
			{stream, []string{"_run_id BIGINT", "_extracted_at TIMESTAMP"}},
			{"transformed_" + stream, []string{"_transforms VARCHAR[]", "_run_id BIGINT"}},
		} {
			var exists bool
			if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM duckdb_tables() WHERE table_name = ?)`, t.table).Scan(&exists); err != nil {
				return err
			}
			if !exists {
				continue
			}
			ddl, err := streamTableDDL(t.table+"__v2", stream, t.extra...)
			if err != nil {
				return err
			}
			for _, q := range []string{
				ddl,
				fmt.Sprintf("INSERT INTO %s SELECT * FROM %s", QuoteIdent(t.table+"__v2"), QuoteIdent(t.table)),
				"DROP TABLE " + QuoteIdent(t.table),
				fmt.Sprintf("ALTER TABLE %s RENAME TO %s", QuoteIdent(t.table+"__v2"), QuoteIdent(t.table)),
			} {
				if _, err := tx.ExecContext(ctx, q); err != nil {
					return fmt.Errorf("%s: %w", firstLine(q), err)
				}
			}
		}
	}
	return nil
}

func firstLine(s string) string {
	for i, c := range s {
		if c == '\n' {
			return s[:i]
		}
	}
	return s
}

// CopyTo copies the workspace's database into a new workspace folder dir
// (which must not hold one) and opens the copy: what a dry run works on, so
// that it changes nothing here. The database is checkpointed first, so the
// file alone holds everything (the workspace's DuckDB may not open other
// files itself).
func (w *Workspace) CopyTo(ctx context.Context, dir string) (*Workspace, error) {
	if err := w.sync(ctx); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create workspace folder %s: %w", dir, err)
	}
	dst := filepath.Join(dir, FileName)
	if _, err := os.Stat(dst); err == nil {
		return nil, fmt.Errorf("copy the workspace: %s exists", dst)
	}
	if _, err := w.db.ExecContext(ctx, "FORCE CHECKPOINT"); err != nil {
		return nil, fmt.Errorf("copy the workspace: checkpoint: %w", err)
	}
	if err := copyFile(w.Path(), dst); err != nil {
		return nil, fmt.Errorf("copy the workspace: %w", diskFull(err))
	}
	return Open(ctx, dir)
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
