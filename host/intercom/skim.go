package intercom

import (
	"bytes"
	"unicode/utf8"
)

// lastPartID reads the id of the newest part from the answer to a reply:
// the last element's "id" of conversation_parts.conversation_parts, as
// decoding into partIDs would. The answer is the whole conversation, up to
// 500 parts with their bodies, and a loader replies once per comment: with
// encoding/json (a scan to find the value's end, a scan to check it, a walk
// to decode it) reading these answers was a third of the loader's CPU. This
// is one pass that checks the JSON's grammar on the way.
//
// ok is false for anything it does not settle with certainty: JSON that is
// not valid, a key written with escapes or other than ASCII (encoding/json
// matches keys without regard to case, and folds a few runes besides), an
// id written with escapes, or no parts at all. The caller then decodes the
// answer with encoding/json, which says what is wrong. FuzzLastPartID
// holds the two to the same answers.
func lastPartID(body []byte) (id string, ok bool) {
	s := skimmer{b: body}
	found := false
	var last []byte // the id, as written (a slice of body)
	ok = s.object(func(key []byte) bool {
		if !s.keyIs(key, "conversation_parts") {
			return s.value()
		}
		// encoding/json takes the last of repeated keys, and a value of
		// another kind fails the whole decode; null leaves a struct be.
		if s.peek() == 'n' {
			return s.value()
		}
		return s.object(func(key []byte) bool {
			if !s.keyIs(key, "conversation_parts") {
				return s.value()
			}
			// A new list, or null (which empties a slice), replaces
			// what an earlier key held.
			found, last = false, nil
			if s.peek() == 'n' {
				return s.value()
			}
			return s.array(func() bool {
				found = true
				// Each element starts from an empty id, as a new struct.
				last = nil
				if s.peek() == 'n' {
					return s.value()
				}
				return s.object(func(key []byte) bool {
					if !s.keyIs(key, "id") {
						return s.value()
					}
					v, ok := s.idValue()
					if ok {
						last = v
					}
					return ok
				})
			})
		})
	})
	if !ok || !found || s.skipSpace() != len(s.b) || s.bad {
		return "", false
	}
	return string(last), true
}

// skimmer walks JSON text, checking its grammar as encoding/json's
// scanner does, without building anything.
type skimmer struct {
	b []byte
	i int
	// bad marks something the skimmer will not answer for even though the
	// JSON is valid (see lastPartID).
	bad bool
	// depth is the nesting of objects and arrays, which encoding/json
	// bounds.
	depth int
}

// maxDepth bounds the nesting the skimmer follows, well inside
// encoding/json's own bound (10,000); an answer of Intercom's nests a few
// levels.
const maxDepth = 1000

func (s *skimmer) enter() bool {
	s.depth++
	if s.depth > maxDepth {
		s.bad = true
		return false
	}
	return true
}

func (s *skimmer) skipSpace() int {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return s.i
		}
	}
	return s.i
}

// peek returns the next byte after space, or 0 at the end.
func (s *skimmer) peek() byte {
	if s.skipSpace() < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// keyIs reports whether key (raw, between its quotes) is name, and marks
// the skim bad for a key encoding/json might match to name otherwise.
func (s *skimmer) keyIs(key []byte, name string) bool {
	if string(key) == name {
		return true
	}
	if bytes.IndexByte(key, '\\') >= 0 || !ascii(key) || bytes.EqualFold(key, []byte(name)) {
		s.bad = true
	}
	return false
}

func ascii(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// object reads an object, calling member at each key with the skimmer
// before the member's value, which member must read.
func (s *skimmer) object(member func(key []byte) bool) bool {
	if s.peek() != '{' || !s.enter() {
		return false
	}
	s.i++
	if s.peek() == '}' {
		s.i++
		s.depth--
		return true
	}
	for {
		if s.peek() != '"' {
			return false
		}
		start := s.i + 1
		if !s.str() {
			return false
		}
		key := s.b[start : s.i-1]
		if s.peek() != ':' {
			return false
		}
		s.i++
		if !member(key) {
			return false
		}
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			s.depth--
			return true
		default:
			return false
		}
	}
}

// array reads an array, calling elem before each element, which elem must
// read.
func (s *skimmer) array(elem func() bool) bool {
	if s.peek() != '[' || !s.enter() {
		return false
	}
	s.i++
	if s.peek() == ']' {
		s.i++
		s.depth--
		return true
	}
	for {
		if !elem() {
			return false
		}
		switch s.peek() {
		case ',':
			s.i++
		case ']':
			s.i++
			s.depth--
			return true
		default:
			return false
		}
	}
}

// value reads any value.
func (s *skimmer) value() bool {
	switch c := s.peek(); {
	case c == '{':
		return s.object(func([]byte) bool { return s.value() })
	case c == '[':
		return s.array(s.value)
	case c == '"':
		return s.str()
	case c == '-' || (c >= '0' && c <= '9'):
		return s.number()
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	}
	return false
}

func (s *skimmer) literal(word string) bool {
	if !bytes.HasPrefix(s.b[s.i:], []byte(word)) {
		return false
	}
	s.i += len(word)
	return true
}

// str reads a string from its opening quote to past its closing one.
func (s *skimmer) str() bool {
	s.i++ // the opening quote
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return true
		case c < 0x20:
			return false
		case c == '\\':
			if s.i+1 >= len(s.b) {
				return false
			}
			switch s.b[s.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i += 2
			case 'u':
				if s.i+6 > len(s.b) {
					return false
				}
				for _, h := range s.b[s.i+2 : s.i+6] {
					if !isHex(h) {
						return false
					}
				}
				s.i += 6
			default:
				return false
			}
		default:
			s.i++
		}
	}
	return false
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// number reads a number in JSON's grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *skimmer) number() bool {
	if s.i < len(s.b) && s.b[s.i] == '-' {
		s.i++
	}
	switch {
	case s.i < len(s.b) && s.b[s.i] == '0':
		s.i++
	case s.digits() == 0:
		return false
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if s.digits() == 0 {
			return false
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if s.digits() == 0 {
			return false
		}
	}
	return true
}

func (s *skimmer) digits() int {
	n := 0
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
		n++
	}
	return n
}

// idValue reads a part's id as flexString decodes it: a string, a number
// (as written) or null (empty). An id with escapes marks the skim bad.
func (s *skimmer) idValue() ([]byte, bool) {
	start := s.skipSpace()
	switch s.peek() {
	case '"':
		if !s.str() {
			return nil, false
		}
		raw := s.b[start+1 : s.i-1]
		// encoding/json unescapes, and makes bytes that are not UTF-8
		// U+FFFD.
		if bytes.IndexByte(raw, '\\') >= 0 || !utf8.Valid(raw) {
			s.bad = true
		}
		return raw, true
	case 'n':
		return nil, s.literal("null")
	case 't', 'f', '{', '[':
		// flexString refuses these; so does the decode.
		return nil, false
	}
	if !s.number() {
		return nil, false
	}
	return s.b[start:s.i], true
}
