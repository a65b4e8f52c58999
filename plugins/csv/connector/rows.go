package connector

import "fmt"

// What the CSV and the JSON Lines readers share.

// readBuffer is the read-ahead of a file: big enough that a read is few
// system calls, small enough to not matter next to a batch.
const readBuffer = 64 << 10

// defaultMaxRow bounds one row (or JSON line) in bytes; a CSV row is
// caught within a read buffer past it. A CSV row that long is almost
// always a quoted field that is never closed, and reading the rest of the
// file into memory to find out would defeat streaming. The bound is above
// the SDK's batch bound, so no row it refuses could have been sent.
const defaultMaxRow = 16 << 20

// position is a place in a file between rows.
type position struct {
	// offset is the byte offset.
	offset int64
	// line is the number of newlines before offset: the next row starts
	// on line+1.
	line int64
}

// rowError is a row that cannot be read; the read goes on after it.
type rowError struct {
	line int64
	msg  string
}

func (e *rowError) Error() string { return e.msg }

// rowSource reads a file's rows from a position.
type rowSource interface {
	columnSource
	// start is the position of the first row (after a CSV header).
	start() position
	// seek moves to a position between rows.
	seek(p position) error
	// next reads a row and the line it starts on. It returns io.EOF at the
	// end, a *rowError for a row it cannot read (the next call reads on),
	// and any other error when the read cannot go on.
	next() (rowData, int64, error)
	// pos is the position after the last row read.
	pos() position
}

// byteSize writes a size in bytes for people.
func byteSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// appendJSONString appends s, valid UTF-8, as a JSON string.
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
