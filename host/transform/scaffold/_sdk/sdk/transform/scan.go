package transform

import (
	"bytes"
	"encoding/json"
)

// The scanners below find the byte spans of an object's members and an
// array's elements without decoding anything, and only as far as asked.
// Inside a module every byte looked at is expensive (wazero checks for a
// timeout at each loop iteration, out in Go), so reading a batch is one pass
// to find where each record ends, and a record is read only up to the
// columns a transform touches; json.Unmarshal would decode everything, twice
// counting its validation.
//
// The host promises well-formed JSON (the ABI says so) and the guest does not
// check it again. On malformed input these functions still stay in bounds and
// always make progress; what they return is then garbage, which the host
// rejects when it reads the reply.

// span is a range of bytes, [start, end).
type span struct{ start, end int }

// member is one member of an object: its name (inside the quotes) and its value.
type member struct {
	name, value span
	next        int // where to look for the next member
}

// nextMember finds the member of the object src that follows offset i (just
// past the '{', or a member's next). ok is false at the end of the object.
func nextMember(src []byte, i int) (m member, ok bool) {
	i = skipSpace(src, i)
	if i < len(src) && src[i] == ',' {
		i = skipSpace(src, i+1)
	}
	if i >= len(src) || src[i] != '"' {
		return member{}, false
	}
	nameEnd := stringEnd(src, i)
	m.name = span{i + 1, max(nameEnd-1, i+1)}
	i = skipSpace(src, nameEnd)
	if i >= len(src) || src[i] != ':' {
		return member{}, false
	}
	i = skipSpace(src, i+1)
	end := valueEnd(src, i)
	m.value = span{i, end}
	m.next = end
	return m, true
}

// nextElement finds the element of the array src that follows offset i (just
// past the '[', or an element's end). ok is false at the end of the array.
func nextElement(src []byte, i int) (elem span, ok bool) {
	i = skipSpace(src, i)
	if i < len(src) && src[i] == ',' {
		i = skipSpace(src, i+1)
	}
	if i >= len(src) || src[i] == ']' {
		return span{}, false
	}
	// A stray byte is taken as a one-byte element, so that the scan moves on.
	return span{i, max(valueEnd(src, i), i+1)}, true
}

func skipSpace(src []byte, i int) int {
	for i < len(src) {
		switch src[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// stringEnd returns the offset just past the string that starts at src[i].
func stringEnd(src []byte, i int) int {
	for j := i + 1; j < len(src); j++ {
		switch src[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(src)
}

// valueEnd returns the offset just past the value that starts at src[i].
func valueEnd(src []byte, i int) int {
	if i >= len(src) {
		return len(src)
	}
	switch src[i] {
	case '"':
		return stringEnd(src, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(src); j++ {
			switch src[j] {
			case '"':
				j = stringEnd(src, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return len(src)
	default: // a number, true, false or null
		j := i
		for j < len(src) {
			switch src[j] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return j
			}
			j++
		}
		return j
	}
}

// unquote returns the text of a raw JSON string, or "", false when raw is not one.
func unquote(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	// Most strings have no escapes, and reading them needs no decoder.
	if inner := raw[1 : len(raw)-1]; bytes.IndexByte(inner, '\\') < 0 {
		return string(inner), true
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}
