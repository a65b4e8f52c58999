package transform

import (
	"errors"
	"slices"
)

// declarations maps each stream a transform declared to what it declared. A
// transform that declares nothing reads whole records of every stream, in
// the JSON format; one that declares some streams is called for those only,
// and ferry passes the records of the others by without calling it.
type declarations map[string]*declared

// declared is what a transform reads and writes of one stream.
type declared struct {
	// whole: the transform reads whole records, in the JSON format.
	whole bool
	// read lists "id", then every other column read or written, once each:
	// the columns ferry sends. A column written is read too, so that a
	// record the transform keeps unchanged needs nothing sent back.
	read  []string
	write []string
}

// declare adds columns read and written of stream.
func (d declarations) declare(stream string, read, write []string) error {
	if stream == "" {
		return errors.New("a declaration without a stream")
	}
	for _, c := range slices.Concat(read, write) {
		if c == "" {
			return errors.New("an empty column name for stream " + stream)
		}
	}
	dc := d[stream]
	if dc == nil {
		dc = &declared{read: []string{"id"}}
		d[stream] = dc
	}
	for _, c := range slices.Concat(read, write) {
		if !slices.Contains(dc.read, c) {
			dc.read = append(dc.read, c)
		}
	}
	for _, c := range write {
		if !slices.Contains(dc.write, c) {
			dc.write = append(dc.write, c)
		}
	}
	return nil
}

// declareWhole makes stream's records come whole.
func (d declarations) declareWhole(stream string) error {
	if stream == "" {
		return errors.New("a declaration without a stream")
	}
	d[stream] = &declared{whole: true}
	return nil
}

// clone returns a copy that can be declared into independently.
func (d declarations) clone() declarations {
	if d == nil {
		return nil
	}
	c := make(declarations, len(d))
	for s, dc := range d {
		cp := *dc
		cp.read, cp.write = slices.Clone(dc.read), slices.Clone(dc.write)
		c[s] = &cp
	}
	return c
}

// answer is ferry_columns' reply for stream: nil when the transform does
// not handle the stream, {"whole":true} for whole records, else the columns.
func (d declarations) answer(stream string) []byte {
	if d == nil {
		return []byte(`{"whole":true}`)
	}
	dc, ok := d[stream]
	switch {
	case !ok:
		return nil
	case dc.whole:
		return []byte(`{"whole":true}`)
	}
	b := []byte(`{"read":`)
	b = appendStrings(b, dc.read)
	b = append(b, `,"write":`...)
	b = appendStrings(b, dc.write)
	return append(b, '}')
}

// appendStrings appends a JSON array of strings.
func appendStrings(b []byte, list []string) []byte {
	b = append(b, '[')
	for i, s := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, s)
	}
	return append(b, ']')
}
