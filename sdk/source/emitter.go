package source

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/protobuf/types/known/timestamppb"

	sourcev1 "github.com/ferryhq/ferry/sdk/proto/source/v1"
	"github.com/ferryhq/ferry/sdk/schema"
)

// Limits bound the batches an Emitter sends.
type Limits struct {
	// MaxRows is the most records in one batch.
	MaxRows int
	// MaxBytes bounds a batch's Arrow buffers (schema.Builder's estimate). A
	// single record bigger than this goes in a batch of its own; one that
	// does not fit a message (MaxMessageBytes) becomes a record error.
	MaxBytes int64
}

// DefaultLimits are the batch bounds Serve uses. A batch is held several
// times over on its way (the plugin's builders, for each stream at once;
// the message; the host's decoded copy, and DuckDB's while it stages it):
// 4 MB rather than 8 took the bench's 1M-ticket CSV extract from about 650
// MB to 530 at its peak, plugin and host together, for about a tenth of its
// speed, on a stage that waits for the source's rate limit anyway.
func DefaultLimits() Limits {
	return Limits{MaxRows: 10_000, MaxBytes: 4 << 20}
}

// MaxMessageBytes is the gRPC message limit that fits a batch of
// DefaultLimits: the IPC framing, offsets and validity bitmaps add to the
// estimate, so leave generous room.
const MaxMessageBytes = 32 << 20

// maxRecordBytes is the largest record an Emitter sends (in a batch of
// its own when it is over Limits.MaxBytes): a message's limit less room
// for the IPC framing.
const maxRecordBytes = MaxMessageBytes - 1<<20

// sender sends protocol messages; gRPC streams are not safe for concurrent
// sends, so the Emitter serializes them.
type sender func(*sourcev1.ReadMessage) error

// Emitter receives the records of one stream's Read, batches them per
// canonical stream, and sends batches, checkpoints, record errors, progress
// and logs to the host. It is safe for concurrent use.
type Emitter struct {
	stream string
	limits Limits
	mem    memory.Allocator

	mu       sync.Mutex
	send     sender
	builders map[string]*schema.Builder
	order    []string // streams in first-emitted order, so batches flush deterministically
	logger   *slog.Logger
	// lastSent and the last progress let a heartbeat repeat the progress
	// when the stream has been quiet (waiting out a rate limit, say), so the
	// host can tell a slow source from a hung plugin.
	lastSent    time.Time
	done, total int64
}

func newEmitter(stream string, limits Limits, send sender) *Emitter {
	e := &Emitter{
		stream:   stream,
		limits:   limits,
		mem:      memory.NewGoAllocator(),
		send:     send,
		builders: map[string]*schema.Builder{},
	}
	e.logger = slog.New(&logHandler{e: e})
	return e
}

// Emit adds a record to its stream's pending batch, sending the batch when it
// reaches the row or byte bound.
func (e *Emitter) Emit(ctx context.Context, r schema.Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	size := schema.Size(r)
	e.mu.Lock()
	defer e.mu.Unlock()
	if size > maxRecordBytes {
		return e.sendLocked(&sourcev1.ReadMessage{Message: &sourcev1.ReadMessage_RecordError{RecordError: &sourcev1.RecordError{
			Stream: r.Stream(), SourceId: r.SourceID(),
			Reason: fmt.Sprintf("record is %d bytes, more than the %d bytes one message to ferry carries", size, maxRecordBytes),
		}}})
	}
	b, err := e.builderLocked(r.Stream())
	if err != nil {
		return err
	}
	if size > e.limits.MaxBytes {
		// Over the batch bound but within a message (a comment with a
		// body of megabytes, whose raw record holds it again): alone.
		if b.Rows() > 0 {
			if err := e.flushLocked(b); err != nil {
				return err
			}
		}
		if err := b.Append(r); err != nil {
			return err
		}
		return e.flushLocked(b)
	}
	if b.Rows() > 0 && b.Bytes()+size > e.limits.MaxBytes {
		if err := e.flushLocked(b); err != nil {
			return err
		}
	}
	if err := b.Append(r); err != nil {
		return err
	}
	if b.Rows() >= e.limits.MaxRows {
		return e.flushLocked(b)
	}
	return nil
}

// Checkpoint sends every pending batch and then the cursor: the host commits
// them together, and a resumed Read gets cursor back.
func (e *Emitter) Checkpoint(ctx context.Context, cursor []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.checkpointLocked(cursor, time.Time{})
}

// CheckpointThrough is Checkpoint for a stream that reads the source in
// order of change: it also promises that every record the source changed
// before through has been emitted, with everything it brings (a ticket's
// comments, say). The host uses the promise to load while the read goes
// on; a stream that cannot keep it calls Checkpoint.
func (e *Emitter) CheckpointThrough(ctx context.Context, cursor []byte, through time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.checkpointLocked(cursor, through)
}

// checkpointLocked flushes the pending batches and sends the checkpoint;
// a zero through promises nothing.
func (e *Emitter) checkpointLocked(cursor []byte, through time.Time) error {
	for _, name := range e.order {
		if err := e.flushLocked(e.builders[name]); err != nil {
			return err
		}
	}
	cp := &sourcev1.Checkpoint{Stream: e.stream, Cursor: cursor}
	if !through.IsZero() {
		cp.CompleteThrough = timestamppb.New(through)
	}
	return e.sendLocked(&sourcev1.ReadMessage{Message: &sourcev1.ReadMessage_Checkpoint{Checkpoint: cp}})
}

// RecordError reports a record of stream that could not be read or mapped;
// it becomes a failed record with reason.
func (e *Emitter) RecordError(ctx context.Context, stream, sourceID, reason string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.sendLocked(&sourcev1.ReadMessage{Message: &sourcev1.ReadMessage_RecordError{RecordError: &sourcev1.RecordError{Stream: stream, SourceId: sourceID, Reason: reason}}})
}

// Skip reports a record of stream the source has but that is not to be
// migrated (deleted in the source, say); it becomes a skipped record.
func (e *Emitter) Skip(ctx context.Context, stream, sourceID, reason string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.sendLocked(&sourcev1.ReadMessage{Message: &sourcev1.ReadMessage_RecordSkipped{RecordSkipped: &sourcev1.RecordSkipped{Stream: stream, SourceId: sourceID, Reason: reason}}})
}

// Progress reports how many records the stream has read and, when the source
// says, how many it has in all (0 when unknown).
func (e *Emitter) Progress(done, total int64) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.done, e.total = done, total
	return e.sendLocked(&sourcev1.ReadMessage{Message: &sourcev1.ReadMessage_Progress{Progress: &sourcev1.Progress{Stream: e.stream, Done: done, Total: total}}})
}

// Logger returns a logger whose records reach ferry's log, tagged with the
// plugin and the stream. Never log a secret through it.
func (e *Emitter) Logger() *slog.Logger { return e.logger }

func (e *Emitter) builderLocked(stream string) (*schema.Builder, error) {
	if b, ok := e.builders[stream]; ok {
		return b, nil
	}
	b, err := schema.NewBuilder(e.mem, stream)
	if err != nil {
		return nil, fmt.Errorf("emit to stream %s: %w", stream, err)
	}
	e.builders[stream] = b
	e.order = append(e.order, stream)
	return b, nil
}

func (e *Emitter) flushLocked(b *schema.Builder) error {
	if b.Rows() == 0 {
		return nil
	}
	rows, size := b.Rows(), b.Bytes()
	rec := b.NewRecordBatch()
	defer rec.Release()
	data, err := encodeBatch(rec, size)
	if err != nil {
		return fmt.Errorf("encode %s batch: %w", b.Stream(), err)
	}
	return e.sendLocked(&sourcev1.ReadMessage{Message: &sourcev1.ReadMessage_Batch{Batch: &sourcev1.Batch{Stream: b.Stream(), ArrowIpc: data, Rows: int64(rows)}}})
}

func (e *Emitter) sendLocked(m *sourcev1.ReadMessage) error {
	if err := e.send(m); err != nil {
		return fmt.Errorf("send to host: %w", err)
	}
	e.lastSent = time.Now()
	return nil
}

// HeartbeatInterval is how long a stream may be quiet before the SDK repeats
// its progress to show the host it is alive. Hosts should allow several
// intervals before they call a plugin hung.
const HeartbeatInterval = 15 * time.Second

// heartbeat repeats the progress whenever the stream has sent nothing for
// interval, until ctx ends.
func (e *Emitter) heartbeat(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			e.mu.Lock()
			if now.Sub(e.lastSent) >= interval {
				// A failed send means the read is over; Read reports it.
				_ = e.sendLocked(&sourcev1.ReadMessage{Message: &sourcev1.ReadMessage_Progress{Progress: &sourcev1.Progress{Stream: e.stream, Done: e.done, Total: e.total}}})
			}
			e.mu.Unlock()
		}
	}
}

func (e *Emitter) release() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, b := range e.builders {
		b.Release()
	}
	e.builders = map[string]*schema.Builder{}
	e.order = nil
}

// EncodeBatch writes rec as one self-contained Arrow IPC stream: its schema,
// the batch and the end-of-stream marker.
func EncodeBatch(rec arrow.RecordBatch) ([]byte, error) {
	return encodeBatch(rec, 0)
}

// encodeBatch is EncodeBatch with the buffer sized from the builder's
// estimate, so a large batch is not copied over and over as it grows.
func encodeBatch(rec arrow.RecordBatch, sizeHint int64) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(int(sizeHint) + int(sizeHint)/8 + 4096)
	w := ipc.NewWriter(&buf, ipc.WithSchema(rec.Schema()))
	if err := w.Write(rec); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// EncodeSchema writes sc as an Arrow IPC stream with no batches.
func EncodeSchema(sc *arrow.Schema) ([]byte, error) {
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(sc))
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// logHandler sends slog records to the host as protocol log messages.
type logHandler struct {
	e     *Emitter
	attrs []slog.Attr
	group string
}

func (h *logHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *logHandler) Handle(_ context.Context, r slog.Record) error {
	var msg bytes.Buffer
	msg.WriteString(r.Message)
	write := func(a slog.Attr) bool {
		key := a.Key
		if h.group != "" {
			key = h.group + "." + key
		}
		fmt.Fprintf(&msg, " %s=%v", key, a.Value.Any())
		return true
	}
	for _, a := range h.attrs {
		write(a)
	}
	r.Attrs(write)
	level := sourcev1.Log_LEVEL_INFO
	switch {
	case r.Level >= slog.LevelError:
		level = sourcev1.Log_LEVEL_ERROR
	case r.Level >= slog.LevelWarn:
		level = sourcev1.Log_LEVEL_WARN
	case r.Level < slog.LevelInfo:
		level = sourcev1.Log_LEVEL_DEBUG
	}
	h.e.mu.Lock()
	defer h.e.mu.Unlock()
	return h.e.sendLocked(&sourcev1.ReadMessage{Message: &sourcev1.ReadMessage_Log{Log: &sourcev1.Log{Level: level, Message: msg.String(), Stream: h.e.stream}}})
}

func (h *logHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &logHandler{e: h.e, attrs: append(append([]slog.Attr{}, h.attrs...), attrs...), group: h.group}
}

func (h *logHandler) WithGroup(name string) slog.Handler {
	return &logHandler{e: h.e, attrs: h.attrs, group: name}
}
