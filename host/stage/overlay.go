package stage

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/ferryhq/ferry/sdk/schema"
)

// A stream that goes through WASM transforms gets an overlay table,
// transformed_<stream>, with one row per record the transforms did
// something to: a record they changed (its changed columns), a record they
// added (whole), and a record they dropped or failed. Records they left
// alone have no row: the overlay is as narrow as the transforms' work, so
// writing it does not cost a copy of the help desk. load_<stream>, a view,
// is what loads: the stream's records with the overlay applied.

// Kinds of overlay rows (the _kind column).
const (
	OverlayChanged = "changed"
	OverlayNew     = "new"
	OverlayDropped = "dropped"
	OverlayFailed  = "failed"
)

// Columns an overlay has besides the stream's own.
const (
	overlayKind       = "_kind"
	overlayTransforms = "_transforms"
	overlayRun        = "_run_id"
)

// OverlayTable names the overlay of a stream.
func OverlayTable(stream string) string { return "transformed_" + stream }

// LoadView names the view a transformed stream loads from.
func LoadView(stream string) string { return "load_" + stream }

// LoadViews returns, by stream, the load views the last transform made:
// what the last load read in place of the stream's table.
func (w *Workspace) LoadViews(ctx context.Context) (map[string]string, error) {
	rows, err := w.db.QueryContext(ctx, `SELECT view_name FROM duckdb_views() WHERE NOT internal AND schema_name = 'main' AND view_name LIKE 'load\_%' ESCAPE '\'`)
	if err != nil {
		return nil, fmt.Errorf("list the load views: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("list the load views: %w", err)
		}
		if stream := strings.TrimPrefix(v, "load_"); slices.Contains(schema.StreamNames(), stream) {
			out[stream] = v
		}
	}
	return out, rows.Err()
}

// overlayDDL creates an overlay: the stream's columns, all nullable but id
// (a changed record's row holds only what changed), and the overlay's own.
func overlayDDL(stream string) (string, error) {
	sc, err := schema.Schema(stream)
	if err != nil {
		return "", err
	}
	var cols []string
	for _, f := range sc.Fields() {
		t, err := columnType(f)
		if err != nil {
			return "", err
		}
		def := QuoteIdent(f.Name) + " " + t
		if f.Name == "id" {
			def += " NOT NULL"
		}
		cols = append(cols, def)
	}
	cols = append(cols, overlayKind+" VARCHAR NOT NULL", overlayTransforms+" VARCHAR[]", overlayRun+" BIGINT")
	return fmt.Sprintf("CREATE TABLE %s (\n  %s\n)", QuoteIdent(OverlayTable(stream)), strings.Join(cols, ",\n  ")), nil
}

// ReplaceOverlay replaces the overlay of stream in one transaction: fill
// writes its rows through put, each batch holding id, _kind, _transforms
// (list of the SHA-256 of the modules that changed the row) and any of the
// stream's columns. A row whose kind is new holds a whole record.
func (w *Workspace) ReplaceOverlay(ctx context.Context, stream string, runID int64, fill func(put func(arrow.RecordBatch) error) error) error {
	ddl, err := overlayDDL(stream)
	if err != nil {
		return err
	}
	table := OverlayTable(stream)
	in, err := w.NewIngest(ctx, runID)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := in.begin(ctx); err != nil {
		return err
	}
	// Made anew each time: an overlay from an older ferry, or from the
	// full-record tables of schema version 2's first days, may have other
	// columns.
	if _, err := in.conn.ExecContext(ctx, "DROP VIEW IF EXISTS "+QuoteIdent(LoadView(stream))); err != nil {
		return err
	}
	if _, err := in.conn.ExecContext(ctx, "DROP TABLE IF EXISTS "+QuoteIdent(table)); err != nil {
		return fmt.Errorf("empty %s: %w", table, err)
	}
	if _, err := in.conn.ExecContext(ctx, ddl); err != nil {
		return fmt.Errorf("create %s: %w", table, err)
	}
	sc, _ := schema.Schema(stream)
	extra := map[string]string{overlayRun: fmt.Sprint(runID)}
	// Batches of one schema go through one statement; a batch of another
	// (the records transforms added, whole) starts the next.
	var cur *streamInsert
	rows := 0
	err = fill(func(rec arrow.RecordBatch) error {
		if cur == nil || !cur.rdr.schema.Equal(rec.Schema()) {
			for _, f := range rec.Schema().Fields() {
				switch f.Name {
				case overlayKind, overlayTransforms:
					continue
				}
				if len(sc.FieldIndices(f.Name)) == 0 {
					return fmt.Errorf("write %s: %q is not a column of %s", table, f.Name, stream)
				}
			}
			if cur != nil {
				if err := cur.finish(); err != nil {
					return fmt.Errorf("write %d rows to %s: %w", rows, table, diskFull(err))
				}
			}
			if cur, err = in.startStream(ctx, table, rec.Schema(), extra); err != nil {
				return fmt.Errorf("write %s: %w", table, err)
			}
			rows = 0
		}
		rows += int(rec.NumRows())
		if err := cur.put(rec); err != nil {
			return fmt.Errorf("write %d rows to %s: %w", rows, table, diskFull(err))
		}
		return nil
	})
	if cur != nil {
		if ferr := cur.finish(); ferr != nil && err == nil {
			err = fmt.Errorf("write %d rows to %s: %w", rows, table, diskFull(ferr))
		}
	}
	if err != nil {
		return err
	}
	if _, err := in.conn.ExecContext(ctx, "COMMIT"); err != nil {
		return fmt.Errorf("commit %s: %w", table, diskFull(err))
	}
	in.inTx = false
	return nil
}

// CreateLoadView makes load_<stream>: the stream's records with the
// overlay applied. A changed record takes the overlay's values for the
// columns the transforms write (all of them when whole); a dropped or
// failed record is left out; an added record is taken whole.
func (w *Workspace) CreateLoadView(ctx context.Context, stream string, written []string, whole bool) error {
	sc, err := schema.Schema(stream)
	if err != nil {
		return err
	}
	var cols, newCols []string
	for _, f := range sc.Fields() {
		c := QuoteIdent(f.Name)
		newCols = append(newCols, c)
		if f.Name != "id" && (whole || slices.Contains(written, f.Name)) {
			cols = append(cols, fmt.Sprintf("CASE WHEN o.%s = '%s' THEN o.%s ELSE t.%s END AS %s", overlayKind, OverlayChanged, c, c, c))
		} else {
			cols = append(cols, "t."+c)
		}
	}
	table, overlay := QuoteIdent(stream), QuoteIdent(OverlayTable(stream))
	q := fmt.Sprintf(`CREATE OR REPLACE VIEW %s AS
SELECT %s
FROM %s t LEFT JOIN %s o ON o.id = t.id AND o.%s <> '%s'
WHERE o.id IS NULL OR o.%s = '%s'
UNION ALL
SELECT %s FROM %s WHERE %s = '%s'`,
		QuoteIdent(LoadView(stream)), strings.Join(cols, ", "), table, overlay, overlayKind, OverlayNew, overlayKind, OverlayChanged,
		strings.Join(newCols, ", "), overlay, overlayKind, OverlayNew)
	if _, err := w.db.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("create %s: %w", LoadView(stream), err)
	}
	return nil
}
