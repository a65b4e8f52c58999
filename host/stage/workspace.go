package stage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	_ "github.com/duckdb/duckdb-go/v2" // the duckdb database/sql driver
)

// FileName is the workspace database's name inside the workspace folder.
const FileName = "ferry.duckdb"

// SchemaVersion is the version of the workspace schema this ferry writes.
// A workspace written by a newer ferry is refused rather than misread.
const SchemaVersion = 1

// Workspace is an open workspace folder and its database.
type Workspace struct {
	dir string
	db  *sql.DB
	// w commits the ledger's and the id map's small writes in groups.
	w *writer
}

// Open opens the workspace in dir, creating the folder and the database
// when they do not exist and bringing the schema up to date.
func Open(ctx context.Context, dir string) (*Workspace, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create workspace folder %s: %w", dir, err)
	}
	path := filepath.Join(dir, FileName)
	db, err := sql.Open("duckdb", path)
	if err != nil {
		return nil, fmt.Errorf("open workspace %s: %w", path, err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open workspace %s: %w", path, err)
	}
	// The workspace holds a customer's help desk: only its owner reads it.
	for _, p := range []string{path, path + ".wal"} {
		if err := os.Chmod(p, 0o600); err != nil && !errors.Is(err, os.ErrNotExist) {
			db.Close()
			return nil, fmt.Errorf("restrict workspace file %s: %w", p, err)
		}
	}
	// DuckDB folds its write-ahead log into the file whenever the log
	// passes the threshold (16 MB by default), rewriting the tables and their
	// key indexes each time: staging commits at every checkpoint of a
	// source, so that would happen every few commits and cost more than the
	// staging itself. Fold once in a while instead (and when the workspace
	// closes); a crash replays the log.
	if _, err := db.ExecContext(ctx, "SET checkpoint_threshold = '1GB'"); err != nil {
		db.Close()
		return nil, fmt.Errorf("open workspace %s: %w", path, err)
	}
	w := &Workspace{dir: dir, db: db}
	if err := w.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open workspace %s: %w", path, err)
	}
	w.w = newWriter(db)
	return w, nil
}

// Dir is the workspace folder.
func (w *Workspace) Dir() string { return w.dir }

// Path is the workspace database file.
func (w *Workspace) Path() string { return filepath.Join(w.dir, FileName) }

// DB is the workspace database, for queries of its tables and views.
func (w *Workspace) DB() *sql.DB { return w.db }

// Close closes the database, after the writes under way.
func (w *Workspace) Close() error {
	w.w.close()
	return w.db.Close()
}

func (w *Workspace) migrate(ctx context.Context) error {
	if _, err := w.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS ferry_meta (key VARCHAR PRIMARY KEY, value VARCHAR)`); err != nil {
		return fmt.Errorf("create ferry_meta: %w", err)
	}
	var v sql.NullString
	err := w.db.QueryRowContext(ctx, `SELECT value FROM ferry_meta WHERE key = 'schema_version'`).Scan(&v)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("read schema version: %w", err)
	}
	if v.Valid {
		n, err := strconv.Atoi(v.String)
		if err != nil {
			return fmt.Errorf("schema version %q is not a number: not a ferry workspace?", v.String)
		}
		if n > SchemaVersion {
			return fmt.Errorf("the workspace has schema version %d, written by a newer ferry; this ferry reads up to version %d: upgrade ferry", n, SchemaVersion)
		}
		if n == SchemaVersion {
			return nil
		}
	}
	tx, err := w.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	stmts, err := schemaDDL()
	if err != nil {
		return err
	}
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("create workspace schema: %s: %w", firstLine(s), err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO ferry_meta VALUES ('schema_version', ?)`, strconv.Itoa(SchemaVersion)); err != nil {
		return fmt.Errorf("record schema version: %w", err)
	}
	return tx.Commit()
}

func firstLine(s string) string {
	for i, c := range s {
		if c == '\n' {
			return s[:i]
		}
	}
	return s
}
