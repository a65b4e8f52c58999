package stage

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/duckdb/duckdb-go/v2"
)

// ReadArrow runs one of ferry's own queries over the workspace and returns
// its rows as Arrow batches of about batchRows rows each (DuckDB hands out
// 2,048 at a time; larger batches make each call across the WASM boundary
// worth more). The caller releases the reader, which frees the connection.
func (w *Workspace) ReadArrow(ctx context.Context, query string, batchRows int, args ...any) (array.RecordReader, error) {
	if err := w.sync(ctx); err != nil {
		return nil, err
	}
	conn, err := w.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	var src array.RecordReader
	ar, err := arrowOf(conn)
	if err == nil {
		src, err = ar.QueryContext(ctx, query, args...)
	}
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("read the workspace: %w", err)
	}
	return &rebatcher{src: src, conn: conn, rows: int64(max(batchRows, 1)), refs: atomic.Int64{}}, nil
}

// arrowOf opens DuckDB's Arrow interface on one of the workspace's
// connections, which it then uses (the connection outlives it).
func arrowOf(conn *sql.Conn) (*duckdb.Arrow, error) {
	var ar *duckdb.Arrow
	err := conn.Raw(func(dc any) error {
		c, ok := dc.(driver.Conn)
		if !ok {
			return fmt.Errorf("not a driver connection: %T", dc)
		}
		var err error
		ar, err = duckdb.NewArrowFromConn(c)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("open Arrow interface: %w", err)
	}
	return ar, nil
}

// rebatcher joins a reader's small batches into batches of about rows rows.
type rebatcher struct {
	src  array.RecordReader
	conn *sql.Conn
	rows int64
	cur  arrow.RecordBatch
	err  error
	refs atomic.Int64
}

func (r *rebatcher) Retain()               { r.refs.Add(1) }
func (r *rebatcher) Schema() *arrow.Schema { return r.src.Schema() }
func (r *rebatcher) Err() error            { return r.err }

// RecordBatch is the current batch, valid until the next call to Next.
func (r *rebatcher) RecordBatch() arrow.RecordBatch { return r.cur }

// Record is RecordBatch, for older callers of array.RecordReader.
func (r *rebatcher) Record() arrow.RecordBatch { return r.cur }

func (r *rebatcher) Release() {
	if r.refs.Add(-1) >= 0 {
		return
	}
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	r.src.Release()
	r.conn.Close()
}

func (r *rebatcher) Next() bool {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	var parts []arrow.RecordBatch
	var n int64
	for n < r.rows && r.src.Next() {
		rec := r.src.RecordBatch()
		rec.Retain()
		parts = append(parts, rec)
		n += rec.NumRows()
	}
	if err := r.src.Err(); err != nil {
		r.err = err
	}
	switch len(parts) {
	case 0:
		return false
	case 1:
		r.cur = parts[0]
		return true
	}
	defer func() {
		for _, p := range parts {
			p.Release()
		}
	}()
	cols := make([]arrow.Array, parts[0].NumCols())
	for i := range cols {
		arrs := make([]arrow.Array, len(parts))
		for j, p := range parts {
			arrs[j] = p.Column(i)
		}
		c, err := array.Concatenate(arrs, memory.DefaultAllocator)
		if err != nil {
			r.err = fmt.Errorf("join batches: %w", err)
			for _, done := range cols[:i] {
				done.Release()
			}
			return false
		}
		cols[i] = c
	}
	r.cur = array.NewRecordBatch(parts[0].Schema(), cols, n)
	for _, c := range cols {
		c.Release()
	}
	return true
}
