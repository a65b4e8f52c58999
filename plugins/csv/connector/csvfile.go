package connector

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// errRowTooLong stops a CSV read: past an unclosed quote nothing can be
// trusted to be a row boundary.
var errRowTooLong = errors.New("row too long")

// lineTracker counts the newlines below a csv.Reader's buffer, so that
// every offset the reader reaches has an exact line number: csv.Reader
// reports where rows start, not where they end. It also bounds how far a
// single row reads.
type lineTracker struct {
	r   io.Reader
	pos int64 // offset of the next byte to read from r
	// nl are the offsets of newlines read from r, from head on not yet
	// passed by through.
	nl   []int64
	head int
	// lines is the number of newlines before the last offset through saw.
	lines int64
	// rowStart is where the row being read starts; max bounds how far past
	// it reading may go.
	rowStart, max int64
	err           error
}

func (t *lineTracker) Read(p []byte) (int, error) {
	if t.err != nil {
		return 0, t.err
	}
	if t.pos-t.rowStart > t.max+readBuffer {
		t.err = errRowTooLong
		return 0, t.err
	}
	n, err := t.r.Read(p)
	for i := 0; i < n; {
		j := bytes.IndexByte(p[i:n], '\n')
		if j < 0 {
			break
		}
		t.nl = append(t.nl, t.pos+int64(i+j))
		i += j + 1
	}
	t.pos += int64(n)
	return n, err
}

// through returns the number of newlines before offset off; offsets must
// not go back between calls.
func (t *lineTracker) through(off int64) int64 {
	for t.head < len(t.nl) && t.nl[t.head] < off {
		t.head++
		t.lines++
	}
	// Drop what is passed now and then, not every row: the slice holds at
	// most a buffer's and a row's newlines.
	if t.head > 1024 && t.head*2 > len(t.nl) {
		t.nl = t.nl[:copy(t.nl, t.nl[t.head:])]
		t.head = 0
	}
	return t.lines
}

// csvSource reads a CSV file with a header row.
type csvSource struct {
	f       io.ReadSeeker
	comma   rune
	lazy    bool
	maxRow  int64
	header  []string
	index   map[string]int // header name → its first column
	keys    [][]byte       // each column's `"name":`, for raw; repeated names get a suffix
	first   position       // after the header
	base    position       // where the csv.Reader started
	at      position
	r       *csv.Reader
	lines   *lineTracker
	display string
}

// openCSV reads a CSV file's header.
func openCSV(f io.ReadSeeker, s *settings, maxRow int64) (*csvSource, error) {
	c := &csvSource{f: f, comma: s.comma, lazy: s.file.LazyQuotes, maxRow: maxRow, display: s.display}
	if err := c.seek(position{}); err != nil {
		return nil, err
	}
	fields, err := c.r.Read()
	c.at = c.position()
	var pe *csv.ParseError
	switch {
	case c.lines.err != nil:
		return nil, fmt.Errorf("%s:1: the header row is longer than %s: is this a CSV file?", s.display, byteSize(maxRow))
	case errors.Is(err, io.EOF):
		return nil, fmt.Errorf("%s: the file is empty: a CSV export starts with a header row", s.display)
	case errors.As(err, &pe):
		return nil, fmt.Errorf("%s:%d: the header row is malformed: %s", s.display, pe.StartLine, describeParseError(pe, 0))
	case err != nil:
		return nil, fmt.Errorf("read the header of %s: %w", s.display, err)
	}
	c.header = make([]string, len(fields))
	c.index = make(map[string]int, len(fields))
	seen := map[string]int{}
	for i, name := range fields {
		if i == 0 {
			// Spreadsheet programs start UTF-8 files with a byte-order mark.
			name = strings.TrimPrefix(name, "\uFEFF")
		}
		if !utf8.ValidString(name) {
			return nil, fmt.Errorf("%s:%d: the header row is not valid UTF-8: convert the file to UTF-8 (iconv -f WINDOWS-1252 -t UTF-8, say)", s.display, c.at.line)
		}
		// Names are compared trimmed: a trailing space in a header is
		// invisible in a spreadsheet.
		name = strings.TrimSpace(name)
		c.header[i] = name
		if _, dup := c.index[name]; !dup {
			c.index[name] = i
		}
		key := name
		if n := seen[name]; n > 0 {
			key = fmt.Sprintf("%s (%d)", name, n+1)
		}
		seen[name]++
		c.keys = append(c.keys, append(appendJSONString(nil, key), ':'))
	}
	c.first = c.at
	return c, nil
}

func (c *csvSource) start() position { return c.first }
func (c *csvSource) pos() position   { return c.at }

func (c *csvSource) position() position {
	off := c.base.offset + c.r.InputOffset()
	return position{offset: off, line: c.lines.through(off)}
}

func (c *csvSource) seek(p position) error {
	if _, err := c.f.Seek(p.offset, io.SeekStart); err != nil {
		return fmt.Errorf("seek %s to byte %d: %w", c.display, p.offset, err)
	}
	c.lines = &lineTracker{r: c.f, pos: p.offset, lines: p.line, rowStart: p.offset, max: c.maxRow}
	c.r = csv.NewReader(bufio.NewReaderSize(c.lines, readBuffer))
	c.r.Comma = c.comma
	c.r.LazyQuotes = c.lazy
	c.r.FieldsPerRecord = -1 // checked here, to say which counts differ
	c.r.ReuseRecord = true
	c.base, c.at = p, p
	return nil
}

func (c *csvSource) next() (rowData, int64, error) {
	c.lines.rowStart = c.at.offset
	// The row starts on the next line, or after blank lines past it.
	next := c.at.line + 1
	fields, err := c.r.Read()
	c.at = c.position()
	if c.lines.err != nil {
		return nil, 0, fmt.Errorf("%s:%d: a row is longer than %s, so a quoted field is probably never closed: reading stopped there", c.display, next, byteSize(c.maxRow))
	}
	var pe *csv.ParseError
	switch {
	case errors.Is(err, io.EOF):
		return nil, 0, io.EOF
	case errors.As(err, &pe):
		line := c.base.line + int64(pe.StartLine)
		return nil, line, &rowError{line: line, msg: describeParseError(pe, c.base.line)}
	case err != nil:
		return nil, 0, fmt.Errorf("read %s: %w", c.display, err)
	}
	first, _ := c.r.FieldPos(0)
	line := c.base.line + int64(first)
	if len(fields) != len(c.header) {
		return nil, line, &rowError{line: line, msg: fmt.Sprintf("the row has %d fields, the header has %d", len(fields), len(c.header))}
	}
	for i, v := range fields {
		if !utf8.ValidString(v) {
			return nil, line, &rowError{line: line, msg: fmt.Sprintf("column %q is not valid UTF-8: convert the file to UTF-8", c.header[i])}
		}
	}
	return &csvRow{src: c, fields: fields}, line, nil
}

// describeParseError says what is wrong with a row csv.Reader refused;
// base is the line the reader started after.
func describeParseError(pe *csv.ParseError, base int64) string {
	at := fmt.Sprintf("column %d", pe.Column)
	if pe.Line != pe.StartLine {
		// The row spans lines: say which one holds the fault.
		at = fmt.Sprintf("line %d, column %d", base+int64(pe.Line), pe.Column)
	}
	switch {
	case errors.Is(pe.Err, csv.ErrBareQuote):
		return fmt.Sprintf("a quote (\") in an unquoted field (%s): quote the field and double the quotes in it, or set lazy_quotes", at)
	case errors.Is(pe.Err, csv.ErrQuote):
		return fmt.Sprintf("a quoted field has a stray quote (\") or is never closed (%s)", at)
	}
	return fmt.Sprintf("%v (%s)", pe.Err, at)
}

func (c *csvSource) ref(name string) (colRef, bool) {
	i, ok := c.index[name]
	return colRef{name: name, index: i}, ok
}

func (c *csvSource) describe(missing string) string {
	for _, h := range c.header {
		if strings.EqualFold(strings.Join(strings.Fields(h), " "), strings.Join(strings.Fields(missing), " ")) {
			return fmt.Sprintf("no column %q in the header: did you mean %q?", missing, h)
		}
	}
	const most = 25
	cols := c.header
	more := ""
	if len(cols) > most {
		cols, more = cols[:most], fmt.Sprintf(", and %d more", len(c.header)-most)
	}
	return fmt.Sprintf("no column %q in the header (%s%s)", missing, quoteAll(cols), more)
}

func quoteAll(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

// csvRow is one CSV record; it is valid until the next row is read.
type csvRow struct {
	src    *csvSource
	fields []string
}

func (r *csvRow) cell(ref colRef) (cell, error) {
	return cell{present: true, text: r.fields[ref.index]}, nil
}

func (r *csvRow) appendJSON(dst []byte, ref colRef) ([]byte, bool) {
	v := r.fields[ref.index]
	if strings.TrimSpace(v) == "" {
		return dst, false
	}
	return appendJSONString(dst, v), true
}

func (r *csvRow) raw() json.RawMessage {
	// Room for the usual escapes (newlines, quotes) without regrowing.
	n := 2
	for i, v := range r.fields {
		n += len(r.src.keys[i]) + len(v) + len(v)/8 + 3
	}
	buf := make([]byte, 0, n)
	buf = append(buf, '{')
	for i, v := range r.fields {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, r.src.keys[i]...)
		buf = appendJSONString(buf, v)
	}
	return append(buf, '}')
}
