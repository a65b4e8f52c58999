package stage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// OpenReadOnly opens a workspace's database for queries people write: read
// only, and with DuckDB's external access off, so a query can neither change
// the workspace nor read or write other files, nor load extensions.
func OpenReadOnly(ctx context.Context, dir string) (*sql.DB, error) {
	path := filepath.Join(dir, FileName)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("no workspace in %s (no %s): run `ferry extract` or `ferry migrate` first", dir, FileName)
	}
	if names, _ := filepath.Glob(filepath.Join(dir, journalGlob)); len(names) > 0 {
		// A ferry that stopped outright left rows the tables do not have
		// yet: opening the workspace for writing folds them. When another
		// ferry holds it, that one folds its journal itself.
		if w, err := OpenWith(ctx, dir, OpenOptions{LockWait: time.Millisecond}); err == nil {
			if err := w.Close(); err != nil {
				return nil, fmt.Errorf("fold the journal of workspace %s: %w", path, err)
			}
		}
	}
	dsn := path + "?access_mode=READ_ONLY&enable_external_access=false&autoload_known_extensions=false&autoinstall_known_extensions=false&allow_community_extensions=false&lock_configuration=true"
	db, err := openDuckDB(dsn)
	if err != nil {
		if held := heldError(dir, err); held != err {
			return nil, held
		}
		return nil, fmt.Errorf("open workspace %s read-only: %w", path, err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		if held := heldError(dir, err); held != err {
			return nil, held
		}
		return nil, fmt.Errorf("open workspace %s read-only: %w", path, err)
	}
	return db, nil
}
