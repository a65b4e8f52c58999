package stage

import (
	"context"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

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
// one. Rows come through DuckDB's JSON encoding into the canonical JSON
// form, so that one path serves every stream.
func (w *Workspace) Records(ctx context.Context, sel Select, fn func(schema.Record) error) error {
	if err := w.sync(ctx); err != nil {
		return err
	}
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
		name := QuoteIdent(f.Name)
		if f.Type.ID() == arrow.TIMESTAMP {
			cols = append(cols, fmt.Sprintf("%s := strftime(%s, '%%Y-%%m-%%dT%%H:%%M:%%S.%%fZ')", name, name))
		} else {
			cols = append(cols, name+" := "+name)
		}
	}
	q := fmt.Sprintf("SELECT to_json(struct_pack(%s))::VARCHAR FROM %s", strings.Join(cols, ", "), QuoteIdent(table))
	if where != "" {
		q += " WHERE " + where
	}
	if order == "" {
		order = "id"
	}
	q += " ORDER BY " + order
	rows, err := w.db.QueryContext(ctx, q, sel.Args...)
	if err != nil {
		return fmt.Errorf("read %s: %w", table, err)
	}
	defer rows.Close()
	for rows.Next() {
		var js string
		if err := rows.Scan(&js); err != nil {
			return fmt.Errorf("read %s: %w", table, err)
		}
		rec, err := schema.DecodeJSON(stream, []byte(js))
		if err != nil {
			return fmt.Errorf("read %s: %w", table, err)
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read %s: %w", table, err)
	}
	return nil
}
