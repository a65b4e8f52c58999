package connector

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/ferryhq/ferry/sdk/schema"
	"github.com/ferryhq/ferry/sdk/source"
)

// cursorField is what every stream's cursor follows: the position in its
// file.
const cursorField = "file_position"

// progressEvery is how many rows go between progress reports, besides the
// one each checkpoint sends.
const progressEvery = 1000

// headBytes is how much of a file's beginning its fingerprint covers: the
// header and the first rows, where a re-export differs first.
const headBytes = 64 << 10

// fileCursor is a stream's cursor: where the next read starts, and enough
// about the file to tell whether it is still the file that was read.
type fileCursor struct {
	// Offset is the byte offset after the last row committed.
	Offset int64 `json:"offset"`
	// Line is the number of newlines before Offset, so that line numbers
	// (in messages and made-up ids) go on exactly.
	Line int64 `json:"line"`
	// Size is the file's size then: a smaller file is another file.
	Size int64 `json:"size"`
	// HeadBytes and Head are the length and SHA-256 of the file's start
	// then: a file that was appended to keeps them.
	HeadBytes int64  `json:"head_bytes"`
	Head      string `json:"head"`
	// Mapping fingerprints the file's config: under another mapping, the
	// rows already read would come out differently.
	Mapping string `json:"mapping"`
	// Users is how many distinct users (users_from_ticket) the rows before
	// Offset brought. A resumed read learns them again from those rows and
	// checks it finds as many: the cursor carries a count, not the users,
	// so that it stays small however many there are.
	Users int64 `json:"users,omitempty"`
}

// emitter is what a read sends to: *source.Emitter, or a test's recorder.
type emitter interface {
	Emit(ctx context.Context, r schema.Record) error
	Checkpoint(ctx context.Context, cursor []byte) error
	RecordError(ctx context.Context, stream, sourceID, reason string) error
	Progress(done, total int64) error
	Logger() *slog.Logger
}

// fileStream reads one export file as one canonical stream, and the
// comments and users its rows hold when it is the tickets file.
type fileStream struct {
	s      *settings
	maxRow int64
}

// Info describes the stream: its cursor follows the file position, and a
// tickets file with comments_from_ticket also emits comments, one with
// users_from_ticket users.
func (st *fileStream) Info() source.StreamInfo {
	info := source.StreamInfo{Name: st.s.stream, CursorField: cursorField}
	if len(st.s.comments) > 0 {
		info.Emits = append(info.Emits, schema.Comments)
	}
	if len(st.s.users) > 0 {
		info.Emits = append(info.Emits, schema.Users)
	}
	return info
}

// Read streams the file from cursor (nil: from its first row), in constant
// memory but for the ids of the users a tickets file's rows bring (see
// TicketUser). Every CheckpointEvery rows, and at the end, it checkpoints
// the position after the last row. A file that changed since the cursor
// was written (smaller, a different start, another mapping, or rows before
// the cursor that are not the ones read then) is read again from its first
// row.
//
// Users are emitted at the first row that names them, so a read resumed
// from a cursor must know which users the rows before it brought: it
// parses those rows again first, emitting nothing (learnUsers). That keeps
// a resumed read exact (the records after the checkpoint, no more) with a
// cursor of constant size, at the cost of a parse of the file up to the
// cursor; a read from the end of the file, a delta read of an unchanged
// file, costs nothing.
//
// Progress counts rows: done is the rows read so far in this read, total
// an estimate of the rows this read will have read, from the bytes left
// in the file and the average row so far (exact at the end).
func (st *fileStream) Read(ctx context.Context, cursor []byte, out *source.Emitter) error {
	return st.read(ctx, cursor, out)
}

func (st *fileStream) read(ctx context.Context, cursor []byte, out emitter) error {
	f, err := os.Open(st.s.path)
	if err != nil {
		return fmt.Errorf("open the %s file: %w", st.s.stream, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("open the %s file: %w", st.s.stream, err)
	}
	if !info.Mode().IsRegular() {
		return fmt.Errorf("the %s file %s is not a regular file: a resumable read needs to seek", st.s.stream, st.s.path)
	}
	return st.readFrom(ctx, f, info.Size(), cursor, out)
}

// open reads what comes before the rows: a CSV header.
func (st *fileStream) open(f io.ReadSeeker) (rowSource, error) {
	s := st.s
	maxRow := cmp.Or(st.maxRow, defaultMaxRow)
	switch s.format {
	case formatCSV:
		return openCSV(f, s, maxRow)
	case formatJSONL:
		return openJSONL(f, s, maxRow)
	}
	return nil, fmt.Errorf("%s: unknown format %q", s.display, s.format)
}

// bind binds the mapping to the file's columns; its problems say which
// configured columns the file does not have.
func (st *fileStream) bind(src rowSource) (rowMapper, []error) {
	s := st.s
	switch s.stream {
	case schema.Tickets:
		return newTicketMapper(s, src)
	case schema.Comments:
		return newMapper(s.stream, commentType(), s, src)
	case schema.Users:
		return newMapper(s.stream, userType(), s, src)
	case schema.Organizations:
		return newMapper(s.stream, organizationType(), s, src)
	}
	return nil, []error{fmt.Errorf("this source does not read %s", s.stream)}
}

// Rows are read and mapped on one goroutine and sent on another, so that
// parsing and mapping overlap with the SDK's batching and encoding. They
// travel in chunks, a few at a time: the queue bounds memory.
const (
	chunkRows  = 256
	chunkQueue = 2
)

// chunk is a run of rows, read and mapped.
type chunk struct {
	outs []outcome
	rows int64
	// end is the position after the chunk's last row, and users the
	// distinct users the rows up to it brought.
	end   position
	users int64
	// checkpoint asks for a checkpoint at end; last says no chunk follows.
	checkpoint, last bool
	// err ends the read.
	err error
}

// readFrom reads f, of size bytes, from cursor.
func (st *fileStream) readFrom(ctx context.Context, f io.ReadSeeker, size int64, cursor []byte, out emitter) error {
	s := st.s
	log := out.Logger().With("file", s.display)
	src, err := st.open(f)
	if err != nil {
		return err
	}
	m, problems := st.bind(src)
	if len(problems) > 0 {
		return fmt.Errorf("%s: the config does not fit the file: %w", s.display, errors.Join(problems...))
	}
	headLen := min(size, headBytes)
	head, err := fingerprint(f, headLen)
	if err != nil {
		return fmt.Errorf("%s: %w", s.display, err)
	}
	from, users, err := st.resume(log, f, size, cursor, src.start())
	if err != nil {
		return err
	}
	if tm, ok := m.(*ticketMapper); ok && len(tm.users) > 0 && from != src.start() {
		if from, err = st.learnUsers(ctx, log, src, tm, from, users, size); err != nil {
			return err
		}
	}
	if err := src.seek(from); err != nil {
		return err
	}

	cm := &committer{ctx: ctx, out: out, s: s, size: size, head: head, headLen: headLen, from: from, at: from, saved: position{offset: -1}}
	readCtx, cancel := context.WithCancel(ctx)
	chunks := make(chan *chunk, chunkQueue)
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(chunks)
		st.produce(readCtx, src, m, func(c *chunk) bool {
			select {
			case chunks <- c:
				return true
			case <-readCtx.Done():
				return false
			}
		})
	})
	// The producer stops at a send once the read is over, whatever ended it.
	defer func() {
		cancel()
		wg.Wait()
	}()
	for c := range chunks {
		if err := cm.consume(c); err != nil || cm.finished {
			return err
		}
	}
	// The producer stopped before the last chunk: the read was canceled.
	if err := ctx.Err(); err != nil {
		return err
	}
	return fmt.Errorf("read %s: stopped before the end of the file", s.display)
}

// committer is the sending side of a read: it sends what the rows
// brought, in order, and checkpoints and progress at their positions.
type committer struct {
	ctx     context.Context
	out     emitter
	s       *settings
	size    int64
	head    string
	headLen int64
	// from is where the read started, at where its last chunk ended, and
	// saved the position of the last checkpoint.
	from, at, saved position
	done, pending   int64
	// users is the distinct users the rows up to at brought.
	users    int64
	finished bool
}

func (cm *committer) consume(c *chunk) error {
	if c.err != nil {
		return c.err
	}
	if err := cm.ctx.Err(); err != nil {
		return err
	}
	for _, o := range c.outs {
		var err error
		if o.rec == nil {
			err = cm.out.RecordError(cm.ctx, o.stream, o.id, o.reason)
		} else {
			err = cm.out.Emit(cm.ctx, o.rec)
		}
		if err != nil {
			return err
		}
	}
	before := cm.done
	cm.done += c.rows
	cm.pending += c.rows
	cm.at, cm.users = c.end, c.users
	switch {
	case c.last:
		cm.finished = true
		if cm.pending > 0 || cm.at != cm.saved {
			return cm.checkpoint(true)
		}
		return cm.progress(true)
	case c.checkpoint:
		return cm.checkpoint(false)
	case cm.done/progressEvery != before/progressEvery:
		return cm.progress(false)
	}
	return nil
}

func (cm *committer) checkpoint(final bool) error {
	data, err := json.Marshal(fileCursor{Offset: cm.at.offset, Line: cm.at.line, Size: max(cm.size, cm.at.offset), HeadBytes: cm.headLen, Head: cm.head, Mapping: cm.s.mapping, Users: cm.users})
	if err != nil {
		return fmt.Errorf("encode the cursor of %s: %w", cm.s.display, err)
	}
	if err := cm.out.Checkpoint(cm.ctx, data); err != nil {
		return err
	}
	cm.pending, cm.saved = 0, cm.at
	return cm.progress(final)
}

func (cm *committer) progress(final bool) error {
	if final {
		return cm.out.Progress(cm.done, cm.done)
	}
	return cm.out.Progress(cm.done, estimate(cm.done, cm.from.offset, cm.at.offset, cm.size))
}

// produce reads and maps rows into chunks and hands each to send, until
// the end of the file (a chunk marked last), an error (a chunk with it),
// or send returning false.
func (st *fileStream) produce(ctx context.Context, src rowSource, m rowMapper, send func(*chunk) bool) {
	s := st.s
	c := &chunk{}
	// The users the rows so far brought, for the cursor; read here, where
	// the rows are mapped, as the committer runs on another goroutine.
	tm, _ := m.(*ticketMapper)
	next := func() bool {
		if tm != nil {
			c.users = tm.usersSeen()
		}
		ok := send(c)
		c = &chunk{outs: make([]outcome, 0, len(c.outs))}
		return ok && ctx.Err() == nil
	}
	var sinceCheckpoint int
	for {
		row, line, err := src.next()
		if errors.Is(err, io.EOF) {
			c.end, c.last = src.pos(), true
			next()
			return
		}
		var re *rowError
		switch {
		case errors.As(err, &re):
			where := loc(s.display, re.line)
			c.outs = append(c.outs, outcome{stream: s.stream, id: where, reason: where + ": " + re.msg})
		case err != nil:
			c.err = err
			next()
			return
		default:
			n := len(c.outs)
			c.outs = m.mapRow(row, line, c.outs)
			for i := n; i < len(c.outs); i++ {
				if o := &c.outs[i]; o.err != nil {
					o.reason = loc(s.display, line) + ": " + o.err.Error()
				}
			}
		}
		c.rows++
		c.end = src.pos()
		sinceCheckpoint++
		if sinceCheckpoint >= s.every {
			c.checkpoint, sinceCheckpoint = true, 0
		}
		if (c.checkpoint || c.rows >= chunkRows) && !next() {
			return
		}
	}
}

// estimate is the rows a read that started at byte from will have read,
// from the rows done by byte at, in a file of size bytes.
func estimate(done, from, at, size int64) int64 {
	if done == 0 || at <= from {
		return 0
	}
	total := int64(float64(done) * float64(size-from) / float64(at-from))
	return max(total, done)
}

// resume decides where a read starts: after the cursor when it was written
// for this file and mapping, else at the first row. Reading a file again
// is always safe (staging replaces records by id); resuming a changed one
// is not, so any doubt reads it again. users is the cursor's count of the
// users the rows before it brought.
func (st *fileStream) resume(log *slog.Logger, f io.ReadSeeker, size int64, cursor []byte, first position) (_ position, users int64, _ error) {
	if len(cursor) == 0 {
		return first, 0, nil
	}
	var c fileCursor
	if err := json.Unmarshal(cursor, &c); err != nil {
		log.Warn("the resume cursor is not one this connector writes: reading the file from its first row", "cursor", string(cursor))
		return first, 0, nil
	}
	switch {
	case c.Mapping != st.s.mapping:
		log.Info("the file's config changed since the last read: reading it again from its first row")
	case size < c.Size:
		log.Info("the file is smaller than at the last read, so it was replaced: reading it again from its first row", "size", size, "was", c.Size)
	case c.Offset < first.offset || c.Offset > size || c.Line < first.line || c.HeadBytes < 0 || c.HeadBytes > size || c.Users < 0:
		log.Warn("the resume cursor does not fit the file: reading it again from its first row", "cursor", string(cursor))
	default:
		head, err := fingerprint(f, c.HeadBytes)
		if err != nil {
			return position{}, 0, fmt.Errorf("%s: %w", st.s.display, err)
		}
		if head != c.Head {
			log.Info("the start of the file changed since the last read, so it was replaced: reading it again from its first row", "compared_bytes", c.HeadBytes)
			return first, 0, nil
		}
		return position{offset: c.Offset, line: c.Line}, c.Users, nil
	}
	return first, 0, nil
}

// learnCheckEvery is how many rows learnUsers reads between looks at its
// context.
const learnCheckEvery = 1024

// learnUsers reads the rows before from again, emitting nothing, so that
// tm knows the users they brought and emits none of them again: a user
// comes at the first row that names it, and a resumed read must not bring
// one the rows before its cursor brought. want is the cursor's count of
// those users. It returns where the read starts: from, or the first row
// when the rows before from are not the ones the cursor was written after
// (from is not between rows, or they bring another number of users), as
// when the file was edited past the part its fingerprint covers.
//
// The cost is a parse of the file up to from (the user columns are mapped
// only at a user's first row), which is why a read with nothing after its
// cursor skips it.
func (st *fileStream) learnUsers(ctx context.Context, log *slog.Logger, src rowSource, tm *ticketMapper, from position, want, size int64) (position, error) {
	first := src.start()
	if from.offset >= size {
		// No row follows, so none can name a user; the cursor this read
		// writes still counts the users before it.
		tm.carried = want
		return from, nil
	}
	began := time.Now()
	if err := src.seek(first); err != nil {
		return position{}, err
	}
	var rows int64
	for src.pos().offset < from.offset {
		if rows%learnCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return position{}, fmt.Errorf("learn the users before the cursor in %s: %w", st.s.display, err)
			}
		}
		row, line, err := src.next()
		var re *rowError
		if errors.Is(err, io.EOF) {
			break
		}
		if errors.As(err, &re) {
			rows++
			continue
		}
		if err != nil {
			return position{}, fmt.Errorf("learn the users before the cursor: %w", err)
		}
		tm.learn(row, line)
		rows++
	}
	if at := src.pos(); at != from || tm.usersSeen() != want {
		log.Info("the rows before the resume cursor are not the ones read then, so the file was edited: reading it again from its first row",
			"cursor_offset", from.offset, "row_end", at.offset, "users", tm.usersSeen(), "cursor_users", want)
		tm.forgetUsers()
		return first, nil
	}
	log.Info("learned the users the rows before the resume cursor brought, so that none comes twice",
		"rows", rows, "bytes", from.offset-first.offset, "users", want, "took", time.Since(began).Round(time.Millisecond))
	return from, nil
}

// fingerprint is the SHA-256 of f's first n bytes.
func fingerprint(f io.ReadSeeker, n int64) (string, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", fmt.Errorf("fingerprint the file: %w", err)
	}
	h := sha256.New()
	if _, err := io.CopyN(h, f, n); err != nil {
		return "", fmt.Errorf("fingerprint the file's first %d bytes: %w", n, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
