package main

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/urfave/cli/v2"

	"github.com/ferryhq/ferry/host/stage"
)

// Output formats of ferry query.
const (
	formatTable   = "table"
	formatCSV     = "csv"
	formatJSON    = "json"
	formatParquet = "parquet"
)

// maxCellRunes is where the table format cuts a cell: a table is for
// reading, and one long raw JSON cell would make every row unreadable.
const maxCellRunes = 80

func queryCommand() *cli.Command {
	return &cli.Command{
		Name:      "query",
		Usage:     "run a read-only SQL query over the workspace",
		ArgsUsage: "SQL",
		Description: `Runs one SELECT over ferry.duckdb: it cannot change the workspace, read or
write other files, or load extensions. It works while another ferry extracts or
loads: that ferry answers the query then. Tables: one per stream (tickets,
comments, attachments, users, organizations, groups, ticket_fields, …),
transformed_<stream>, id_map, ledger, runs, checkpoints; views:
migration_summary, ticket_overview.

Formats: table (the default: at most --max-rows rows, cells cut at 80
characters), csv, json (one object per line) and parquet (needs --out).
Timestamps are RFC 3339 in UTC; lists, structs and JSON columns are JSON;
NULL is empty in table and csv, null in json.

   ferry query "SELECT status, count(*) FROM tickets GROUP BY ALL"
   ferry query --format csv --out failed.csv "SELECT * FROM ledger WHERE outcome = 'failed'"
   ferry query --format parquet --out tickets.parquet "FROM tickets"

Exit codes: 0 done, 1 the workspace could not be read, 2 the query is refused
or wrong (DuckDB's message says why).`,
		Flags: []cli.Flag{
			workspaceFlag,
			&cli.StringFlag{Name: "format", Value: formatTable, Usage: "table, csv, json (one object per line) or parquet"},
			&cli.StringFlag{Name: "out", Usage: "write to this file (mode 0600; replaced only once the query succeeded) instead of stdout"},
			&cli.IntFlag{Name: "max-rows", Value: 1000, Usage: "table format: show at most this many rows (0: all); csv, json and parquet write every row"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usagef("query takes one SQL statement as its argument (quote it)")
			}
			format := c.String("format")
			switch format {
			case formatTable, formatCSV, formatJSON:
			case formatParquet:
				if c.String("out") == "" {
					return usagef("--format parquet needs --out FILE")
				}
			default:
				return usagef("--format %q: want table, csv, json or parquet", format)
			}
			if c.Int("max-rows") < 0 {
				return usagef("--max-rows %d: want 0 (all) or more", c.Int("max-rows"))
			}
			rdr, err := stage.Query(c.Context, c.String("workspace"), c.Args().First())
			if err != nil {
				return queryErr(err)
			}
			defer rdr.Release()
			if p := c.String("out"); p != "" {
				return queryErr(writeFileAtomic(p, func(tmp string) error {
					if format == formatParquet {
						return stage.WriteParquet(c.Context, rdr, tmp)
					}
					return writeTextFile(tmp, rdr, format, c.Int("max-rows"))
				}))
			}
			out := bufio.NewWriter(c.App.Writer)
			if err := writeResult(out, rdr, format, c.Int("max-rows")); err != nil {
				out.Flush()
				return queryErr(err)
			}
			return out.Flush()
		},
	}
}

// queryErr marks a query the SQL is at fault for as bad usage (exit 2).
func queryErr(err error) error {
	var qe *stage.QueryError
	if errors.As(err, &qe) {
		return usageError{err}
	}
	return err
}

// writeFileAtomic makes the file at path through write, which writes a
// file at the path it is given: a temporary one in a private folder beside
// path, renamed into place once complete. A failed query leaves no half
// file (and an earlier file of that name as it was), and no one else can
// read the result at any moment: it holds customers' data, so the file is
// its owner's only (0600).
func writeFileAtomic(path string, write func(tmp string) error) error {
	dir, err := os.MkdirTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	defer os.RemoveAll(dir)
	tmp := filepath.Join(dir, filepath.Base(path))
	if err := write(tmp); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// writeTextFile writes a result in a text format to a new file at path.
func writeTextFile(path string, rdr array.RecordReader, format string, maxRows int) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	defer f.Close()
	bw := bufio.NewWriter(f)
	if err := writeResult(bw, rdr, format, maxRows); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// writeResult writes a query's result in a text format; maxRows bounds the
// table format (0: no bound).
func writeResult(w io.Writer, rdr array.RecordReader, format string, maxRows int) error {
	switch format {
	case formatTable:
		return writeTable(w, rdr, maxRows)
	case formatCSV:
		return writeCSV(w, rdr)
	case formatJSON:
		return writeJSONLines(w, rdr)
	}
	return fmt.Errorf("unknown format %q", format)
}

// writeTable writes aligned columns, at most maxRows rows of them, and a
// last line that counts the rows (and says how many were left out).
func writeTable(w io.Writer, rdr array.RecordReader, maxRows int) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fields := rdr.Schema().Fields()
	head := make([]string, len(fields))
	for i, f := range fields {
		head[i] = tableCell(strings.ToUpper(f.Name))
	}
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	var shown, total int64
	cells := make([]string, len(fields))
	for rdr.Next() {
		rec := rdr.RecordBatch()
		n := rec.NumRows()
		total += n
		for i := range int(n) {
			if maxRows > 0 && shown >= int64(maxRows) {
				break
			}
			for j, f := range fields {
				cells[j] = tableCell(cellText(value(rec.Column(j), i, stage.DuckDBType(f))))
			}
			fmt.Fprintln(tw, strings.Join(cells, "\t"))
			shown++
		}
	}
	if err := rdr.Err(); err != nil {
		return err
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if shown < total {
		_, err := fmt.Fprintf(w, "(%d of %d rows shown; %d left out: --max-rows 0 shows them all, --format csv or json writes them)\n", shown, total, total-shown)
		return err
	}
	_, err := fmt.Fprintf(w, "(%d %s)\n", total, plural(total, "row", "rows"))
	return err
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// tableCell fits a value on one line of a table cell.
func tableCell(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, s)
	if utf8.RuneCountInString(s) > maxCellRunes {
		s = string([]rune(s)[:maxCellRunes-1]) + "…"
	}
	return s
}

// writeCSV writes a header and the rows, NULL as an empty field.
func writeCSV(w io.Writer, rdr array.RecordReader) error {
	cw := csv.NewWriter(w)
	fields := rdr.Schema().Fields()
	head := make([]string, len(fields))
	for i, f := range fields {
		head[i] = f.Name
	}
	if err := cw.Write(head); err != nil {
		return err
	}
	row := make([]string, len(fields))
	for rdr.Next() {
		rec := rdr.RecordBatch()
		for i := range int(rec.NumRows()) {
			for j, f := range fields {
				row[j] = cellText(value(rec.Column(j), i, stage.DuckDBType(f)))
			}
			if err := cw.Write(row); err != nil {
				return err
			}
		}
	}
	if err := rdr.Err(); err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

// writeJSONLines writes one JSON object per row, its keys in the columns'
// order (a repeated column name gets a suffix, as DuckDB's own: a, a_1).
func writeJSONLines(w io.Writer, rdr array.RecordReader) error {
	fields := rdr.Schema().Fields()
	keys := make([][]byte, len(fields))
	for i, name := range stage.ColumnNames(rdr.Schema()) {
		k, err := marshalJSON(name)
		if err != nil {
			return err
		}
		keys[i] = k
	}
	var line bytes.Buffer
	for rdr.Next() {
		rec := rdr.RecordBatch()
		for i := range int(rec.NumRows()) {
			line.Reset()
			line.WriteByte('{')
			for j, f := range fields {
				if j > 0 {
					line.WriteByte(',')
				}
				line.Write(keys[j])
				line.WriteByte(':')
				v, err := marshalJSON(value(rec.Column(j), i, stage.DuckDBType(f)))
				if err != nil {
					return fmt.Errorf("column %s: %w", f.Name, err)
				}
				line.Write(v)
			}
			line.WriteString("}\n")
			if _, err := w.Write(line.Bytes()); err != nil {
				return err
			}
		}
	}
	return rdr.Err()
}

// object is a JSON object whose keys keep their order (a STRUCT's fields,
// a MAP's entries).
type object struct {
	keys []string
	vals []any
}

func (o *object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, err := marshalJSON(k)
		if err != nil {
			return nil, err
		}
		vb, err := marshalJSON(o.vals[i])
		if err != nil {
			return nil, err
		}
		b.Write(kb)
		b.WriteByte(':')
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// marshalJSON encodes v without escaping HTML: bodies are HTML, and
// "\u003cp\u003e" is no help to anyone reading them.
func marshalJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// value returns row i of col as what writes naturally as text and JSON:
// nil for NULL, string, bool, int64, uint64, float32, float64, json.Number
// (decimals), json.RawMessage (JSON columns), []any (lists) and *object
// (structs and maps). Times are RFC 3339 in UTC. duckType is the column's
// DuckDB type, when known (it tells JSON from text).
func value(col arrow.Array, i int, duckType string) any {
	if col.IsNull(i) {
		return nil
	}
	switch a := col.(type) {
	case *array.String:
		return textValue(a.Value(i), duckType)
	case *array.LargeString:
		return textValue(a.Value(i), duckType)
	case *array.StringView:
		return textValue(a.Value(i), duckType)
	case *array.Boolean:
		return a.Value(i)
	case *array.Int8:
		return int64(a.Value(i))
	case *array.Int16:
		return int64(a.Value(i))
	case *array.Int32:
		return int64(a.Value(i))
	case *array.Int64:
		return a.Value(i)
	case *array.Uint8:
		return uint64(a.Value(i))
	case *array.Uint16:
		return uint64(a.Value(i))
	case *array.Uint32:
		return uint64(a.Value(i))
	case *array.Uint64:
		return a.Value(i)
	case *array.Float16:
		return floatValue(float64(a.Value(i).Float32()))
	case *array.Float32:
		if f := a.Value(i); !math.IsNaN(float64(f)) && !math.IsInf(float64(f), 0) {
			return f // as float32: 0.1 stays 0.1
		}
		return floatValue(float64(a.Value(i)))
	case *array.Float64:
		return floatValue(a.Value(i))
	// Decimals keep their scale (1.50 stays 1.50), as DuckDB shows them.
	case *array.Decimal32:
		return json.Number(a.Value(i).ToString(a.DataType().(arrow.DecimalType).GetScale()))
	case *array.Decimal64:
		return json.Number(a.Value(i).ToString(a.DataType().(arrow.DecimalType).GetScale()))
	case *array.Decimal128:
		return json.Number(a.Value(i).ToString(a.DataType().(arrow.DecimalType).GetScale()))
	case *array.Decimal256:
		return json.Number(a.Value(i).ToString(a.DataType().(arrow.DecimalType).GetScale()))
	case *array.Timestamp:
		unit := a.DataType().(*arrow.TimestampType).Unit
		return a.Value(i).ToTime(unit).UTC().Format(time.RFC3339Nano)
	case *array.Date32:
		return a.Value(i).ToTime().Format(time.DateOnly)
	case *array.Date64:
		return a.Value(i).ToTime().Format(time.DateOnly)
	case *array.Time32:
		return a.Value(i).ToTime(a.DataType().(*arrow.Time32Type).Unit).Format("15:04:05.999999999")
	case *array.Time64:
		return a.Value(i).ToTime(a.DataType().(*arrow.Time64Type).Unit).Format("15:04:05.999999999")
	case *array.Duration:
		unit := a.DataType().(*arrow.DurationType).Unit
		return (time.Duration(a.Value(i)) * unit.Multiplier()).String()
	case *array.MonthDayNanoInterval:
		return intervalText(a.Value(i))
	case *array.Binary:
		return blobText(a.Value(i))
	case *array.LargeBinary:
		return blobText(a.Value(i))
	case *array.FixedSizeBinary:
		return blobText(a.Value(i))
	case *array.Dictionary:
		return value(a.Dictionary(), a.GetValueIndex(i), duckType)
	case *array.Map:
		return mapValue(a, i)
	case *array.Struct:
		st := a.DataType().(*arrow.StructType)
		o := &object{}
		for j, f := range st.Fields() {
			o.keys = append(o.keys, f.Name)
			o.vals = append(o.vals, value(a.Field(j), i, ""))
		}
		return o
	case array.ListLike:
		elem := ""
		if strings.HasSuffix(duckType, "[]") {
			elem = strings.TrimSuffix(duckType, "[]")
		}
		start, end := a.ValueOffsets(i)
		out := make([]any, 0, end-start)
		for k := start; k < end; k++ {
			out = append(out, value(a.ListValues(), int(k), elem))
		}
		return out
	}
	return col.ValueStr(i)
}

// textValue is a text cell: JSON columns stay JSON.
func textValue(s, duckType string) any {
	if duckType == "JSON" && json.Valid([]byte(s)) {
		return json.RawMessage(s)
	}
	return s
}

// floatValue keeps NaN and infinities, which JSON has no numbers for, as text.
func floatValue(f float64) any {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	return f
}

// mapValue is a MAP as an object when its keys are text, else as a list
// of {"key": …, "value": …}.
func mapValue(m *array.Map, i int) any {
	start, end := m.ValueOffsets(i)
	keys, items := m.Keys(), m.Items()
	if _, ok := keys.(*array.String); ok {
		o := &object{}
		for k := start; k < end; k++ {
			o.keys = append(o.keys, keys.(*array.String).Value(int(k)))
			o.vals = append(o.vals, value(items, int(k), ""))
		}
		return o
	}
	out := make([]any, 0, end-start)
	for k := start; k < end; k++ {
		out = append(out, &object{keys: []string{"key", "value"}, vals: []any{value(keys, int(k), ""), value(items, int(k), "")}})
	}
	return out
}

// blobText writes bytes as DuckDB shows a BLOB: printable ASCII as it is,
// other bytes as \xNN.
func blobText(b []byte) string {
	var s strings.Builder
	for _, c := range b {
		if c >= 0x20 && c < 0x7f && c != '\\' {
			s.WriteByte(c)
		} else {
			fmt.Fprintf(&s, `\x%02X`, c)
		}
	}
	return s.String()
}

// intervalText writes an INTERVAL as DuckDB does: "1 year 2 months 3 days 04:05:06.5".
func intervalText(v arrow.MonthDayNanoInterval) string {
	var parts []string
	unit := func(n int64, one, many string) {
		if n != 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, plural(n, one, many)))
		}
	}
	unit(int64(v.Months/12), "year", "years")
	unit(int64(v.Months%12), "month", "months")
	unit(int64(v.Days), "day", "days")
	if v.Nanoseconds != 0 || len(parts) == 0 {
		d := time.Duration(v.Nanoseconds)
		sign := ""
		if d < 0 {
			sign, d = "-", -d
		}
		clock := fmt.Sprintf("%s%02d:%02d:%02d", sign, int64(d/time.Hour), int64(d%time.Hour/time.Minute), int64(d%time.Minute/time.Second))
		if frac := d % time.Second; frac != 0 {
			clock += strings.TrimRight(fmt.Sprintf(".%09d", int64(frac)), "0")
		}
		parts = append(parts, clock)
	}
	return strings.Join(parts, " ")
}

// cellText writes a value as a table or CSV cell: NULL empty, text as it
// is, lists, structs and JSON as compact JSON.
func cellText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.RawMessage:
		var b bytes.Buffer
		if json.Compact(&b, x) == nil {
			return b.String()
		}
		return string(x)
	case bool:
		return strconv.FormatBool(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(x), 'g', -1, 32)
	case json.Number:
		return string(x)
	}
	b, err := marshalJSON(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
