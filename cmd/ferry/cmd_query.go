package main

import (
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/urfave/cli/v2"

	"github.com/ferryhq/ferry/host/stage"
)

func queryCommand() *cli.Command {
	return &cli.Command{
		Name:      "query",
		Usage:     "run a read-only SQL query over the workspace",
		ArgsUsage: "SQL",
		Description: `Opens ferry.duckdb read-only with external access off: a query cannot change
the workspace, read or write files, or load extensions. Tables: one per
stream (tickets, comments, attachments, users, organizations, groups,
ticket_fields), transformed_tickets, id_map, ledger, runs, checkpoints;
view: migration_summary.

   ferry query "SELECT status, count(*) FROM tickets GROUP BY ALL"
   ferry query --format csv --out failed.csv "SELECT * FROM ledger WHERE outcome = 'failed'"`,
		Flags: []cli.Flag{
			workspaceFlag,
			&cli.StringFlag{Name: "format", Value: "table", Usage: "table, csv or json (one object per line)"},
			&cli.StringFlag{Name: "out", Usage: "write to this file instead of stdout"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usagef("query takes one SQL statement as its argument (quote it)")
			}
			format := c.String("format")
			if format != "table" && format != "csv" && format != "json" {
				return usagef("--format %q: want table, csv or json", format)
			}
			db, err := stage.OpenReadOnly(c.Context, c.String("workspace"))
			if err != nil {
				return err
			}
			defer db.Close()
			rows, err := db.QueryContext(c.Context, c.Args().First())
			if err != nil {
				return usagef("query: %v", err)
			}
			defer rows.Close()
			var out io.Writer = c.App.Writer
			if p := c.String("out"); p != "" {
				f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
				if err != nil {
					return fmt.Errorf("create %s: %w", p, err)
				}
				defer f.Close()
				out = f
			}
			return writeRows(out, rows, format)
		},
	}
}

func writeRows(out io.Writer, rows *sql.Rows, format string) error {
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var (
		tw  *tabwriter.Writer
		cw  *csv.Writer
		enc *json.Encoder
	)
	switch format {
	case "table":
		tw = tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, strings.ToUpper(strings.Join(cols, "\t")))
	case "csv":
		cw = csv.NewWriter(out)
		if err := cw.Write(cols); err != nil {
			return err
		}
	case "json":
		enc = json.NewEncoder(out)
	}
	n := 0
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("read row %d: %w", n+1, err)
		}
		n++
		switch format {
		case "table":
			cells := make([]string, len(vals))
			for i, v := range vals {
				cells[i] = strings.NewReplacer("\t", " ", "\n", " ").Replace(cell(v))
			}
			fmt.Fprintln(tw, strings.Join(cells, "\t"))
		case "csv":
			cells := make([]string, len(vals))
			for i, v := range vals {
				cells[i] = cell(v)
			}
			if err := cw.Write(cells); err != nil {
				return err
			}
		case "json":
			obj := make(map[string]any, len(cols))
			for i, v := range vals {
				obj[cols[i]] = jsonValue(v)
			}
			if err := enc.Encode(obj); err != nil {
				return err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("query: %w", err)
	}
	switch format {
	case "table":
		return tw.Flush()
	case "csv":
		cw.Flush()
		return cw.Error()
	}
	return nil
}

// cell renders a value for a table or CSV cell.
func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case []byte:
		return string(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case string:
		return x
	case duckdb.Interval:
		return interval(x).String()
	}
	b, err := json.Marshal(jsonValue(v))
	if err != nil {
		return fmt.Sprint(v)
	}
	if s := string(b); !strings.HasPrefix(s, `"`) {
		return s
	}
	return fmt.Sprint(v)
}

// jsonValue turns driver values into what encodes as JSON naturally.
func jsonValue(v any) any {
	switch x := v.(type) {
	case []byte:
		return string(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case duckdb.Interval:
		return interval(x).String()
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsonValue(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = jsonValue(e)
		}
		return out
	}
	return v
}

// interval renders a DuckDB interval as a Go duration, counting a month as
// 30 days: intervals in the workspace are run times, not calendar spans.
func interval(iv duckdb.Interval) time.Duration {
	return time.Duration(iv.Months)*30*24*time.Hour + time.Duration(iv.Days)*24*time.Hour + time.Duration(iv.Micros)*time.Microsecond
}
