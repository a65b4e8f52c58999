package csvtest

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Formats Write writes.
const (
	CSV   = "csv"
	JSONL = "jsonl"
)

// Written says what Write wrote.
type Written struct {
	// Dir is the folder of the files.
	Dir string
	// Config is the connector config that reads the files (also written
	// to Dir/config.json), with base_dir set to Dir.
	Config json.RawMessage
	// Files maps each stream to its file, relative to Dir as the config
	// names it.
	Files map[string]string
	// Malformed lists the malformed rows injected, in file order.
	Malformed []BadRow
}

// BadRow is a malformed row injected into a file.
type BadRow struct {
	// Stream is the stream the file is read as.
	Stream string
	// File is the file as the config names it; Line is the line the row
	// is on (each malformed row is one line).
	File string
	Line int
	// Kind says what is wrong, such as "bare quote" or "bad time".
	Kind string
	// ID is the source id its record error carries: the row's id when it
	// has a readable one, else File:Line.
	ID string
}

// Malformed-row kinds.
const (
	BadBareQuote   = "bare quote"    // CSV: a quote inside an unquoted field
	BadStrayQuote  = "stray quote"   // CSV: text after a quoted field's closing quote
	BadFieldCount  = "field count"   // CSV: fewer fields than the header
	BadTime        = "bad time"      // a time column that is not a time
	BadBoolean     = "bad boolean"   // a boolean column that is not a boolean
	BadUTF8        = "invalid UTF-8" // bytes that are not UTF-8
	BadMissingID   = "missing id"    // an empty id
	BadNotObject   = "not an object" // JSON Lines: an array where an object belongs
	BadInvalidJSON = "invalid JSON"  // JSON Lines: a truncated object
	BadNested      = "nested object" // JSON Lines: an object where a value belongs
	// BadUserTime is a ticket row (UsersFromTicket) whose requester's
	// created time is not a time. The row has no ticket id either, so that
	// it brings no ticket: it is two bad rows, a BadMissingID of tickets
	// and a BadUserTime of users.
	BadUserTime = "bad user time"
)

// How the CSV files write times.
const (
	ticketsZone   = "Asia/Kolkata" // ticket times, written without an offset
	ticketsLayout = "2006-01-02 15:04:05"
	orgsLayout    = "02/01/2006 15:04:05" // organizations' updated_at, in UTC
)

// kolkata is Asia/Kolkata's offset, which has had no daylight saving
// since 1945: times written in it without an offset read back exactly.
func kolkata() *time.Location { return time.FixedZone("IST", 5*3600+1800) }

// Write writes the export into dir as CSV or JSON Lines files, one per
// stream (no comments file for a single-file export), and the config that
// reads them.
func (e *Export) Write(dir, format string) (*Written, error) {
	w := &writer{dir: dir, format: format, opts: e.opts, files: map[string]any{}, written: &Written{Dir: dir, Files: map[string]string{}}, people: people(e.Users)}
	if format != CSV && format != JSONL {
		return nil, fmt.Errorf("write export: format %q: want %s or %s", format, CSV, JSONL)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("write export: %w", err)
	}
	steps := []func() error{func() error { return w.organizations(e.Organizations) }}
	if !e.opts.UsersFromTicket {
		steps = append(steps, func() error { return w.users(e.Users) })
	}
	steps = append(steps, func() error {
		return w.tickets(len(e.Tickets), func(i int) *Ticket { return e.Tickets[i] })
	})
	if !e.opts.SingleFile {
		steps = append(steps, func() error { return w.comments(e.Comments) })
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	return w.finish()
}

// WriteTickets writes a single-file export of n tickets into dir (only the
// tickets file, and its config), generating each row as it is written: n
// can be in the millions without the tickets being held in memory. Ticket
// i is the one Generate(opts) makes at index i for a single-file export.
func WriteTickets(dir, format string, n int, opts Options) (*Written, error) {
	opts.SingleFile = true
	opts.Tickets = n
	g := newGenerator(opts)
	w := &writer{dir: dir, format: format, opts: g.o, files: map[string]any{}, written: &Written{Dir: dir, Files: map[string]string{}}, people: people(g.users)}
	if format != CSV && format != JSONL {
		return nil, fmt.Errorf("write tickets: format %q: want %s or %s", format, CSV, JSONL)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("write tickets: %w", err)
	}
	err := w.tickets(n, func(i int) *Ticket {
		t, _ := g.ticket(i)
		return t
	})
	if err != nil {
		return nil, err
	}
	return w.finish()
}

// writer writes an export's files and builds the config that reads them.
type writer struct {
	dir, format string
	opts        Options
	files       map[string]any // the config's files entries
	written     *Written
	// people are the users by id, for the ticket rows that carry them.
	people map[string]*User
}

func people(users []*User) map[string]*User {
	out := make(map[string]*User, len(users))
	for _, u := range users {
		out[u.ID] = u
	}
	return out
}

func (w *writer) finish() (*Written, error) {
	cfg, err := json.MarshalIndent(map[string]any{"base_dir": w.dir, "files": w.files}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("write export config: %w", err)
	}
	if err := os.WriteFile(filepath.Join(w.dir, "config.json"), cfg, 0o644); err != nil {
		return nil, fmt.Errorf("write export config: %w", err)
	}
	w.written.Config = cfg
	return w.written, nil
}

// table is one file's rows, in either format.
type table struct {
	stream string
	n      int
	header []string             // CSV
	csvRow func(i int) []string // CSV
	json   func(i int) object   // JSON Lines
	// bad makes the k-th malformed row, of a kind from kinds.
	bad   func(k int, kind string) badLine
	kinds []string
}

// badLine is a malformed row as written, and the id its record error
// carries ("": file:line). A BadUserTime row also has a user's record
// error, with the user's id.
type badLine struct {
	text, id string
	userID   string
}

func (w *writer) file(t table, config map[string]any) error {
	name := t.stream + "." + w.format
	path := filepath.Join(w.dir, name)
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 256<<10)
	var cw *csv.Writer
	line := 1 // the line the next row starts on
	if w.format == CSV {
		cw = csv.NewWriter(bw)
		if err := cw.Write(t.header); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
		line++
	}
	// Malformed rows go before the rows at these indexes, spread evenly
	// (several before one row when there are more than rows).
	bad := map[int][]int{}
	for k := 1; k <= w.opts.Malformed && len(t.kinds) > 0; k++ {
		i := k * t.n / (w.opts.Malformed + 1)
		bad[i] = append(bad[i], k)
	}
	writeBad := func(k int) error {
		kind := t.kinds[(k-1)%len(t.kinds)]
		row := t.bad(k, kind)
		if cw != nil {
			cw.Flush()
			if err := cw.Error(); err != nil {
				return err
			}
		}
		if _, err := bw.WriteString(row.text + "\n"); err != nil {
			return err
		}
		id := row.id
		if id == "" {
			id = name + ":" + strconv.Itoa(line)
		}
		if kind == BadUserTime {
			// The row has no ticket id, and a user whose time is bad.
			w.written.Malformed = append(w.written.Malformed,
				BadRow{Stream: t.stream, File: name, Line: line, Kind: BadMissingID, ID: id},
				BadRow{Stream: "users", File: name, Line: line, Kind: BadUserTime, ID: row.userID})
		} else {
			w.written.Malformed = append(w.written.Malformed, BadRow{Stream: t.stream, File: name, Line: line, Kind: kind, ID: id})
		}
		line++
		return nil
	}
	var buf []byte
	for i := 0; i <= t.n; i++ {
		for _, k := range bad[i] {
			if err := writeBad(k); err != nil {
				return fmt.Errorf("write %s: %w", name, err)
			}
		}
		if i == t.n {
			break
		}
		if cw != nil {
			row := t.csvRow(i)
			if err := cw.Write(row); err != nil {
				return fmt.Errorf("write %s: %w", name, err)
			}
			line++
			for _, v := range row {
				line += strings.Count(v, "\n")
			}
			continue
		}
		buf, err = t.json(i).appendTo(buf[:0])
		if err != nil {
			return fmt.Errorf("write %s row %d: %w", name, i, err)
		}
		buf = append(buf, '\n')
		if _, err := bw.Write(buf); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
		line++
	}
	if cw != nil {
		cw.Flush()
		if err := cw.Error(); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if len(config) == 0 {
		w.files[t.stream] = name // the bare-path form of a file entry
	} else {
		config["path"] = name
		w.files[t.stream] = config
	}
	w.written.Files[t.stream] = name
	return nil
}

// object is a JSON object that keeps its keys in order; a nil value is
// written as null.
type object []field

type field struct {
	key   string
	value any
}

func (o object) appendTo(dst []byte) ([]byte, error) {
	dst = append(dst, '{')
	for i, f := range o {
		if i > 0 {
			dst = append(dst, ',')
		}
		k, err := json.Marshal(f.key)
		if err != nil {
			return nil, err
		}
		dst = append(dst, k...)
		dst = append(dst, ':')
		var v []byte
		if inner, ok := f.value.(object); ok {
			v, err = inner.appendTo(nil)
		} else {
			v, err = json.Marshal(f.value)
		}
		if err != nil {
			return nil, err
		}
		dst = append(dst, v...)
	}
	return append(dst, '}'), nil
}

// num writes a numeric id as a JSON number, as many APIs export ids.
func num(id string) any {
	if id == "" {
		return nil
	}
	return json.Number(id)
}

func nums(ids []string) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = num(id)
	}
	return out
}

// orNil is nil (null) for "".
func orNil(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// csvLine joins simple fields (no quotes, delimiters or newlines) as a
// CSV line, for malformed rows written by hand.
func csvLine(fields []string) string { return strings.Join(fields, ",") }

// badCSV makes a malformed CSV row from a well-formed one: template gives
// the row's fields, with idCol, timeCol and boolCol their indexes (-1 for
// none).
func badCSV(template []string, idCol, textCol, timeCol, boolCol int, kind string) badLine {
	row := append([]string(nil), template...)
	id := row[idCol]
	switch kind {
	case BadBareQuote:
		row[textCol] = `a "quoted" word`
		return badLine{text: csvLine(row)}
	case BadStrayQuote:
		row[textCol] = `"closed" then more`
		return badLine{text: csvLine(row)}
	case BadFieldCount:
		return badLine{text: csvLine(row[:2])}
	case BadTime:
		row[timeCol] = "not a time"
		return badLine{text: csvLine(row), id: id}
	case BadBoolean:
		row[boolCol] = "maybe"
		return badLine{text: csvLine(row), id: id}
	case BadUTF8:
		row[textCol] = "caf\xe9 au lait"
		return badLine{text: csvLine(row)}
	case BadMissingID:
		row[idCol] = ""
		return badLine{text: csvLine(row)}
	}
	panic("csvtest: no malformed CSV row of kind " + kind)
}

// badJSON makes a malformed JSON line: good is a well-formed object of the
// stream with id first, then a text key, and timeKey and boolKey ("" for
// none) name its time and boolean keys.
func badJSON(good object, textKey, timeKey, boolKey, kind string) badLine {
	id, _ := good[0].value.(string)
	set := func(key string, v any) object {
		o := append(object(nil), good...)
		for i := range o {
			if o[i].key == key {
				o[i].value = v
				return o
			}
		}
		return append(o, field{key, v})
	}
	line := func(o object) string {
		b, err := o.appendTo(nil)
		if err != nil {
			panic(err)
		}
		return string(b)
	}
	switch kind {
	case BadNotObject:
		return badLine{text: `["not", "an", "object"]`}
	case BadInvalidJSON:
		s := line(good)
		return badLine{text: s[:len(s)/2]}
	case BadTime:
		return badLine{text: line(set(timeKey, "not a time")), id: id}
	case BadBoolean:
		return badLine{text: line(set(boolKey, "maybe")), id: id}
	case BadNested:
		return badLine{text: line(set(textKey, object{{"nested", true}})), id: id}
	case BadUTF8:
		s := line(set(textKey, "PLACEHOLDER"))
		return badLine{text: strings.Replace(s, "PLACEHOLDER", "caf\xe9 au lait", 1)}
	case BadMissingID:
		return badLine{text: line(good[1:])}
	}
	panic("csvtest: no malformed JSON line of kind " + kind)
}
