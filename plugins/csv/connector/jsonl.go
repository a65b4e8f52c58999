package connector

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// jsonlSource reads a JSON Lines file: one JSON object a line, blank lines
// ignored. Unlike CSV it can always resynchronize at the next newline, so
// an overlong line is a row error, not the end of the read.
type jsonlSource struct {
	f       io.ReadSeeker
	br      *bufio.Reader
	at      position
	maxRow  int64
	long    []byte // a line longer than the buffer, put together
	display string
}

func openJSONL(f io.ReadSeeker, s *settings, maxRow int64) (*jsonlSource, error) {
	j := &jsonlSource{f: f, maxRow: maxRow, display: s.display}
	return j, j.seek(position{})
}

func (j *jsonlSource) start() position { return position{} }
func (j *jsonlSource) pos() position   { return j.at }

func (j *jsonlSource) seek(p position) error {
	if _, err := j.f.Seek(p.offset, io.SeekStart); err != nil {
		return fmt.Errorf("seek %s to byte %d: %w", j.display, p.offset, err)
	}
	j.br = bufio.NewReaderSize(j.f, readBuffer)
	j.at = p
	return nil
}

// readLine reads through the next newline. It returns the line (valid
// until the next call), the bytes it took, whether the line was over the
// bound (and so not kept), and whether it ended with a newline.
func (j *jsonlSource) readLine() (line []byte, n int64, tooLong, nl bool, err error) {
	chunk, err := j.br.ReadSlice('\n')
	n = int64(len(chunk))
	if !errors.Is(err, bufio.ErrBufferFull) {
		return chunk, n, n > j.maxRow, endsLine(chunk), err
	}
	j.long = append(j.long[:0], chunk...)
	for errors.Is(err, bufio.ErrBufferFull) {
		chunk, err = j.br.ReadSlice('\n')
		n += int64(len(chunk))
		if !tooLong && int64(len(j.long)+len(chunk)) > j.maxRow {
			tooLong, j.long = true, j.long[:0]
		}
		if !tooLong {
			j.long = append(j.long, chunk...)
		}
	}
	return j.long, n, tooLong, endsLine(chunk), err
}

func endsLine(b []byte) bool { return len(b) > 0 && b[len(b)-1] == '\n' }

func (j *jsonlSource) next() (rowData, int64, error) {
	for {
		startOffset := j.at.offset
		line, n, tooLong, nl, err := j.readLine()
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, 0, fmt.Errorf("read %s: %w", j.display, err)
		}
		if n == 0 {
			return nil, 0, io.EOF
		}
		lineNo := j.at.line + 1
		j.at.offset += n
		if nl {
			j.at.line++
		}
		if tooLong {
			return nil, lineNo, &rowError{line: lineNo, msg: fmt.Sprintf("the line is longer than %s", byteSize(j.maxRow))}
		}
		if startOffset == 0 {
			line = bytes.TrimPrefix(line, []byte("\uFEFF"))
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		if !utf8.Valid(line) {
			return nil, lineNo, &rowError{line: lineNo, msg: "the line is not valid UTF-8: convert the file to UTF-8"}
		}
		if line[0] != '{' {
			what := "not JSON"
			if json.Valid(line) {
				what = "a JSON " + jsonType(line)
			}
			return nil, lineNo, &rowError{line: lineNo, msg: fmt.Sprintf("the line is %s, not a JSON object", what)}
		}
		raw := bytes.Clone(line)
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(raw, &obj); err != nil {
			return nil, lineNo, &rowError{line: lineNo, msg: fmt.Sprintf("the line is not a valid JSON object: %v", jsonError(err))}
		}
		return &jsonRow{obj: obj, line: raw}, lineNo, nil
	}
}

// jsonError drops encoding/json's package prefix, which means nothing to
// someone fixing an export.
func jsonError(err error) string {
	return strings.TrimPrefix(err.Error(), "json: ")
}

// jsonType names the type of a valid JSON value.
func jsonType(v []byte) string {
	switch v[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

func (j *jsonlSource) ref(name string) (colRef, bool) {
	ref := colRef{name: name, index: -1}
	if strings.Contains(name, ".") {
		ref.path = strings.Split(name, ".")
	}
	return ref, true
}

func (j *jsonlSource) describe(missing string) string {
	return fmt.Sprintf("no key %q", missing)
}

// jsonRow is one JSON Lines object.
type jsonRow struct {
	obj  map[string]json.RawMessage
	line []byte
}

// lookup finds a column: a key of the object, or else a path of keys into
// nested objects.
func (r *jsonRow) lookup(ref colRef) (json.RawMessage, bool) {
	if v, ok := r.obj[ref.name]; ok || ref.path == nil {
		return v, ok
	}
	cur := r.obj
	for i, key := range ref.path {
		v, ok := cur[key]
		if !ok {
			return nil, false
		}
		if i == len(ref.path)-1 {
			return v, true
		}
		cur = nil
		if json.Unmarshal(v, &cur) != nil || cur == nil {
			return nil, false
		}
	}
	return nil, false
}

func (r *jsonRow) cell(ref colRef) (cell, error) {
	v, ok := r.lookup(ref)
	if !ok || len(v) == 0 || v[0] == 'n' {
		return cell{}, nil
	}
	switch v[0] {
	case '{':
		return cell{}, errors.New("a JSON object where a value belongs")
	case '[':
		var items []json.RawMessage
		if err := json.Unmarshal(v, &items); err != nil {
			return cell{}, err
		}
		c := cell{present: true, isList: true, list: make([]string, 0, len(items))}
		for _, it := range items {
			if len(it) == 0 || it[0] == 'n' {
				continue
			}
			if it[0] == '[' || it[0] == '{' {
				return cell{}, errors.New("a JSON array holding arrays or objects: want strings or numbers")
			}
			c.list = append(c.list, scalar(it))
		}
		return c, nil
	}
	return cell{present: true, text: scalar(v)}, nil
}

// scalar is a JSON string's text, or a number's or boolean's literal.
func scalar(v json.RawMessage) string {
	if v[0] != '"' {
		return string(v)
	}
	if bytes.IndexByte(v, '\\') < 0 {
		// No escapes: the text is between the quotes (the line was checked
		// to be valid JSON and UTF-8).
		return string(v[1 : len(v)-1])
	}
	var s string
	_ = json.Unmarshal(v, &s) // valid: the whole line was decoded
	return s
}

func (r *jsonRow) appendJSON(dst []byte, ref colRef) ([]byte, bool) {
	v, ok := r.lookup(ref)
	if !ok || len(v) == 0 || v[0] == 'n' {
		return dst, false
	}
	return append(dst, v...), true
}

func (r *jsonRow) raw() json.RawMessage { return r.line }
