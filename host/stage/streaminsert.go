package stage

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// A streamInsert appends batches to a table through one INSERT that reads
// them as they are put. A statement of its own for each batch costs DuckDB
// a view, a plan and a pipeline each time; with one statement the batches
// flow through a single scan, which measured about 1.7 times as fast for an
// overlay of a million rows in 8,192-row batches.
type streamInsert struct {
	rdr  *chanReader
	done chan error
	err  error // the INSERT's, once done
}

// startStream begins an INSERT into table that reads batches of schema sc
// until finish. extra gives SQL expressions for the table's columns that
// the batches do not have.
func (in *Ingest) startStream(ctx context.Context, table string, sc *arrow.Schema, extra map[string]string) (*streamInsert, error) {
	in.views++
	view := fmt.Sprintf("ferry_stream_%d", in.views)
	rdr := &chanReader{schema: sc, batches: make(chan arrow.RecordBatch, 2), stop: make(chan struct{})}
	rdr.refs.Store(1)
	release, err := in.arrow.RegisterView(rdr, view)
	if err != nil {
		return nil, fmt.Errorf("register Arrow view: %w", err)
	}
	s := &streamInsert{rdr: rdr, done: make(chan error, 1)}
	q := insertSQL(table, sc, extra, view)
	go func() {
		_, err := in.conn.ExecContext(ctx, q)
		// The scan may end early (an error): whoever puts must not wait
		// for it.
		close(rdr.stop)
		release()
		in.conn.ExecContext(context.WithoutCancel(ctx), "DROP VIEW IF EXISTS "+QuoteIdent(view))
		s.done <- err
	}()
	return s, nil
}

// put hands a batch to the INSERT; it returns the INSERT's error if the
// INSERT has ended.
func (s *streamInsert) put(rec arrow.RecordBatch) error {
	rec.Retain()
	select {
	case s.rdr.batches <- rec:
		return nil
	case <-s.rdr.stop:
		rec.Release()
		return s.finish()
	}
}

// finish ends the batches and waits for the INSERT.
func (s *streamInsert) finish() error {
	if s.done != nil {
		s.rdr.closeOnce.Do(func() { close(s.rdr.batches) })
		s.err = <-s.done
		s.done = nil
	}
	return s.err
}

// chanReader is an array.RecordReader over batches sent on a channel, for
// DuckDB's Arrow scan to pull from.
type chanReader struct {
	refs      atomic.Int64
	schema    *arrow.Schema
	batches   chan arrow.RecordBatch
	stop      chan struct{}
	closeOnce sync.Once
	cur       arrow.RecordBatch
}

var _ array.RecordReader = (*chanReader)(nil)

func (r *chanReader) Retain() { r.refs.Add(1) }

func (r *chanReader) Release() {
	if r.refs.Add(-1) == 0 {
		if r.cur != nil {
			r.cur.Release()
			r.cur = nil
		}
		// Batches put but never read.
		for {
			select {
			case rec, ok := <-r.batches:
				if !ok {
					return
				}
				rec.Release()
			default:
				return
			}
		}
	}
}

func (r *chanReader) Schema() *arrow.Schema { return r.schema }

func (r *chanReader) Next() bool {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	rec, ok := <-r.batches
	if !ok {
		return false
	}
	r.cur = rec
	return true
}

func (r *chanReader) RecordBatch() arrow.RecordBatch { return r.cur }

// Record is RecordBatch under its deprecated name.
func (r *chanReader) Record() arrow.RecordBatch { return r.cur }

func (r *chanReader) Err() error { return nil }
