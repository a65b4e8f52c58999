package stage

import (
	"context"
	"fmt"
	"strings"

	"github.com/ferryhq/ferry/sdk/schema"
)

// Select says which canonical records Records reads.
type Select struct {
	// Stream is the canonical stream the rows are records of.
	Stream string
	// Table holds them; default: the stream's own table.
	Table string
	// Where (optional) is a SQL condition over the table's columns, written
	// by ferry itself, never by a user; Args fill its ? placeholders.
	Where string
	Args  []any
	// Order (optional) is an ORDER BY list; default: id.
	Order string
}

// Records reads the rows sel selects, in order, and calls fn with each
// one. Rows come as Arrow batches, decoded straight into records (see
// schema.Records): reading them through DuckDB's JSON encoding, as this
// once did, was a sixth of a load's CPU.
func (w *Workspace) Records(ctx context.Context, sel Select, fn func(schema.Record) error) error {
	stream, table, where, order := sel.Stream, sel.Table, sel.Where, sel.Order
	if table == "" {
		table = stream
	}
	sc, err := schema.Schema(stream)
	if err != nil {
		return err
	}
	var cols []string
	for _, f := range sc.Fields() {
		cols = append(cols, QuoteIdent(f.Name))
	}
	q := fmt.Sprintf("SELECT %s FROM %s", strings.Join(cols, ", "), QuoteIdent(table))
	if where != "" {
		q += " WHERE " + where
	}
	if order == "" {
		order = "id"
	}
	q += " ORDER BY " + order
	rdr, err := w.ReadArrow(ctx, q, recordsBatchRows, sel.Args...)
	if err != nil {
		return fmt.Errorf("read %s: %w", table, err)
	}
	defer rdr.Release()
	for rdr.Next() {
		recs, err := schema.Records(stream, rdr.RecordBatch())
		if err != nil {
			return fmt.Errorf("read %s: %w", table, err)
		}
		for _, rec := range recs {
			if err := fn(rec); err != nil {
				return err
			}
		}
	}
	if err := rdr.Err(); err != nil {
		return fmt.Errorf("read %s: %w", table, err)
	}
	return nil
}

// recordsBatchRows is the batch Records decodes at a time: DuckDB's own
// (2,048 rows), which bounds what a batch of long comments holds.
const recordsBatchRows = 2048
