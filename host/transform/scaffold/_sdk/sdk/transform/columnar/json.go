package columnar

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s as a JSON string. It exists because
// encoding/json escapes <, > and & and allocates, and both show in a module
// that writes a string into every record; the output is what json.Marshal
// would produce without HTML escaping, invalid UTF-8 included (as U+FFFD).
func AppendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		// U+2028 and U+2029 are valid JSON but end lines in JavaScript;
		// encoding/json escapes them too, and so does this.
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// AppendValueJSON appends v, a value of type t, in the canonical JSON form
// of sdk/schema: strings as JSON strings, JSON text as it is, timestamps as
// RFC 3339 strings in UTC, lists as arrays, null as null.
func AppendValueJSON(dst []byte, t Type, v Value) []byte {
	if v.Null {
		return append(dst, "null"...)
	}
	switch t {
	case String:
		return AppendJSONString(dst, v.Str)
	case JSON:
		if v.Str == "" {
			return append(dst, "null"...)
		}
		return append(dst, v.Str...)
	case Bool:
		return strconv.AppendBool(dst, v.Bool)
	case Int64:
		return strconv.AppendInt(dst, v.Int, 10)
	case Timestamp:
		return AppendTimestampJSON(dst, v.Int)
	case StringList:
		dst = append(dst, '[')
		for i, s := range v.List {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendJSONString(dst, s)
		}
		return append(dst, ']')
	}
	return append(dst, "null"...)
}

// AppendCellJSON appends row i of c as AppendValueJSON does, without
// building a Value.
func AppendCellJSON(dst []byte, c *Column, i int) []byte {
	if c.IsNull(i) {
		return append(dst, "null"...)
	}
	switch c.Type {
	case String, JSON, Bool, Int64, Timestamp:
		return AppendValueJSON(dst, c.Type, c.Value(i))
	case StringList:
		dst = append(dst, '[')
		for k := range c.ListLen(i) {
			if k > 0 {
				dst = append(dst, ',')
			}
			dst = AppendJSONString(dst, c.ListAt(i, k))
		}
		return append(dst, ']')
	}
	return append(dst, "null"...)
}

// AppendTimestampJSON appends microseconds since the Unix epoch as an RFC 3339
// JSON string in UTC, as encoding/json writes a time.Time.
func AppendTimestampJSON(dst []byte, micros int64) []byte {
	dst = append(dst, '"')
	dst = time.UnixMicro(micros).UTC().AppendFormat(dst, time.RFC3339Nano)
	return append(dst, '"')
}

// ParseTimestamp reads an RFC 3339 time as microseconds since the Unix epoch.
func ParseTimestamp(s string) (int64, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, err
	}
	return t.UnixMicro(), nil
}

// ParseValue reads a value of type t from its canonical JSON form; absent
// (empty) or null is a null value. A JSON value is kept as its text.
func ParseValue(t Type, raw []byte) (Value, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return Value{Null: true}, nil
	}
	switch t {
	case String:
		s, err := unquote(raw)
		return Value{Str: s}, err
	case JSON:
		if !json.Valid(raw) {
			return Value{}, errors.New("not valid JSON")
		}
		return Value{Str: string(raw)}, nil
	case Bool:
		switch string(raw) {
		case "true":
			return Value{Bool: true}, nil
		case "false":
			return Value{}, nil
		}
		return Value{}, fmt.Errorf("%.40s is not a boolean", raw)
	case Int64:
		n, err := strconv.ParseInt(string(raw), 10, 64)
		if err != nil {
			return Value{}, fmt.Errorf("%.40s is not an integer", raw)
		}
		return Value{Int: n}, nil
	case Timestamp:
		s, err := unquote(raw)
		if err != nil {
			return Value{}, err
		}
		us, err := ParseTimestamp(s)
		if err != nil {
			return Value{}, fmt.Errorf("%q is not an RFC 3339 time", s)
		}
		return Value{Int: us}, nil
	case StringList:
		var list []string
		if err := json.Unmarshal(raw, &list); err != nil {
			return Value{}, fmt.Errorf("%.40s is not a list of strings", raw)
		}
		if list == nil {
			list = []string{}
		}
		return Value{List: list}, nil
	}
	return Value{}, fmt.Errorf("unknown type %d", t)
}

// unquote reads a JSON string.
func unquote(raw []byte) (string, error) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", fmt.Errorf("%.40s is not a string", raw)
	}
	// Most strings have no escapes, and reading them needs no decoder.
	if inner := raw[1 : len(raw)-1]; bytes.IndexByte(inner, '\\') < 0 && bytes.IndexByte(inner, '"') < 0 && utf8.Valid(inner) {
		return string(inner), nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("%.40s is not a string", raw)
	}
	return s, nil
}

// Member is a member of a JSON object: a name and its value as JSON text.
type Member struct {
	Name  string
	Value []byte
}

// Patch returns the JSON object obj with the members of patch: a member obj
// has takes the patch's value where it stands, and the others are added at
// the end. obj's other members are kept as they are.
func Patch(obj []byte, patch []Member) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(obj))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New("not a JSON object")
	}
	out := make([]byte, 0, len(obj)+64)
	out = append(out, '{')
	used := make([]bool, len(patch))
	n := 0
	member := func(name string, value []byte) {
		if n > 0 {
			out = append(out, ',')
		}
		n++
		out = AppendJSONString(out, name)
		out = append(out, ':')
		out = append(out, value...)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("not a JSON object: %w", err)
		}
		name, _ := tok.(string)
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return nil, fmt.Errorf("not a JSON object: %w", err)
		}
		for k := range patch {
			if patch[k].Name == name {
				value, used[k] = patch[k].Value, true
				break
			}
		}
		member(name, value)
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, errors.New("not a JSON object")
	}
	if _, err := dec.Token(); err == nil {
		return nil, errors.New("data after the JSON object")
	}
	for k, m := range patch {
		if !used[k] {
			member(m.Name, m.Value)
		}
	}
	return append(out, '}'), nil
}
