package connector

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/ferryhq/ferry/sdk/schema"
	"github.com/ferryhq/ferry/sdk/source"
)

// exportCursor is what an incremental stream checkpoints. It is JSON so
// that later versions can add to it (a lag window, the ticket events'
// own position) and still read the cursors this one wrote.
type exportCursor struct {
	// AfterCursor is the export's after_cursor: the next read asks for
	// what changed after it.
	AfterCursor string `json:"after_cursor"`
}

func decodeExportCursor(b []byte) (exportCursor, error) {
	var c exportCursor
	if len(b) == 0 {
		return c, nil
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("resume cursor %q is not one this connector wrote: %w", b, err)
	}
	return c, nil
}

func (c exportCursor) encode() []byte {
	b, _ := json.Marshal(c) // a struct of strings always marshals
	return b
}

// usersStream reads users through the incremental user export.
type usersStream struct {
	c        *client
	pageSize int
}

// Info describes the users stream: incremental, by updated_at.
func (s *usersStream) Info() source.StreamInfo {
	return source.StreamInfo{Name: schema.Users, CursorField: "updated_at"}
}

// Read exports the users changed after cursor, a page at a time, each
// page committed with the export's cursor.
func (s *usersStream) Read(ctx context.Context, cursor []byte, out *source.Emitter) error {
	cur, err := decodeExportCursor(cursor)
	if err != nil {
		return err
	}
	c := s.c.withLogger(out.Logger())
	total := estimate(ctx, c, "users", cur)
	var done int64
	return c.export(ctx, "users", cur.AfterCursor, s.pageSize, func(p exportPage) error {
		for _, raw := range p.Records {
			u, err := mapUser(raw)
			if err != nil {
				if err := out.RecordError(ctx, schema.Users, recordID(raw), err.Error()); err != nil {
					return err
				}
				continue
			}
			if err := out.Emit(ctx, u); err != nil {
				return err
			}
		}
		done += int64(len(p.Records))
		if err := progress(out, done, total); err != nil {
			return err
		}
		return checkpoint(ctx, out, p)
	})
}

// progress reports how far a stream has come. Zendesk's counts are
// estimates (and leave out deleted records the exports include), so the
// total grows to what was read rather than be passed.
func progress(out *source.Emitter, done, total int64) error {
	if total > 0 && done > total {
		total = done
	}
	return out.Progress(done, total)
}

// estimate asks for a total to report progress against, on a first run
// only: a resumed run reads what changed since, which no count tells.
// Without one, progress goes on without a total.
func estimate(ctx context.Context, c *client, resource string, cur exportCursor) int64 {
	if cur.AfterCursor != "" {
		return 0
	}
	n, err := c.count(ctx, resource)
	if err != nil {
		c.log.Warn("no total to report progress against", "resource", resource, "error", err)
		return 0
	}
	return n
}

// checkpoint commits a page: everything emitted for it, and the cursor
// after it. A last page without a cursor commits the records alone.
func checkpoint(ctx context.Context, out *source.Emitter, p exportPage) error {
	if p.AfterCursor == "" {
		return nil
	}
	return out.Checkpoint(ctx, exportCursor{AfterCursor: p.AfterCursor}.encode())
}

// listStream reads a whole list endpoint each time: organizations, groups
// and ticket fields change rarely and are few.
type listStream[R schema.Record] struct {
	c        *client
	name     string // the canonical stream
	path     string // the endpoint
	key      string // where its records are in a page
	pageSize int
	mapper   func(json.RawMessage) (R, error)
}

// Info describes the stream: read whole, without a cursor.
func (s *listStream[R]) Info() source.StreamInfo { return source.StreamInfo{Name: s.name} }

// Read reads the whole list; the cursor is ignored.
func (s *listStream[R]) Read(ctx context.Context, _ []byte, out *source.Emitter) error {
	c := s.c.withLogger(out.Logger())
	var done int64
	err := c.list(ctx, s.path, s.key, s.pageSize, func(records []json.RawMessage) error {
		for _, raw := range records {
			r, err := s.mapper(raw)
			if err != nil {
				if err := out.RecordError(ctx, s.name, recordID(raw), err.Error()); err != nil {
					return err
				}
				continue
			}
			if err := out.Emit(ctx, r); err != nil {
				return err
			}
		}
		done += int64(len(records))
		return out.Progress(done, 0)
	})
	if err != nil {
		return fmt.Errorf("read %s: %w", s.name, err)
	}
	return nil
}

// ticketsStream reads tickets through the incremental ticket export.
// Their comments are a stream of their own (commentsStream).
type ticketsStream struct {
	c        *client
	pageSize int
}

// Info describes the tickets stream: incremental, by generated_timestamp.
func (s *ticketsStream) Info() source.StreamInfo {
	return source.StreamInfo{Name: schema.Tickets, CursorField: "generated_timestamp"}
}

// Read exports the tickets changed after cursor, a page at a time, each
// page committed with the export's cursor. A deleted ticket is a skipped
// record, with the reason.
func (s *ticketsStream) Read(ctx context.Context, cursor []byte, out *source.Emitter) error {
	cur, err := decodeExportCursor(cursor)
	if err != nil {
		return err
	}
	c := s.c.withLogger(out.Logger())
	total := estimate(ctx, c, "tickets", cur)
	var done int64
	return c.export(ctx, "tickets", cur.AfterCursor, s.pageSize, func(p exportPage) error {
		for _, raw := range p.Records {
			t, err := mapTicket(raw)
			if err != nil {
				if err := out.RecordError(ctx, schema.Tickets, recordID(raw), err.Error()); err != nil {
					return err
				}
				continue
			}
			if t.Status == "deleted" {
				// The export lists deleted tickets, scrubbed; the comments
				// stream leaves their comments out.
				if err := out.Skip(ctx, schema.Tickets, t.ID, "deleted in Zendesk"); err != nil {
					return err
				}
				continue
			}
			if err := out.Emit(ctx, t); err != nil {
				return err
			}
		}
		done += int64(len(p.Records))
		if err := progress(out, done, total); err != nil {
			return err
		}
		return checkpoint(ctx, out, p)
	})
}

// parallel calls fn for 0 to n-1, up to workers at once, and returns the
// first error, after which no new call starts.
func parallel(ctx context.Context, workers, n int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range min(max(workers, 1), n) {
		wg.Go(func() {
			for i := range jobs {
				if err := fn(ctx, i); err != nil {
					cancel(err)
				}
			}
		})
	}
feed:
	for i := range n {
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	return context.Cause(ctx)
}
