package connector

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
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

// ticketsStream reads tickets through the incremental ticket export and,
// page by page, each ticket's comments and their attachments.
type ticketsStream struct {
	c        *client
	pageSize int
	// workers fetch the comments of a page's tickets at once.
	workers int
}

// Info describes the tickets stream, which brings comments and
// attachments along.
func (s *ticketsStream) Info() source.StreamInfo {
	return source.StreamInfo{Name: schema.Tickets, CursorField: "generated_timestamp", Emits: []string{schema.Comments, schema.Attachments}}
}

// Read exports the tickets changed after cursor with their conversations,
// a page at a time, each page committed whole with the export's cursor.
func (s *ticketsStream) Read(ctx context.Context, cursor []byte, out *source.Emitter) error {
	cur, err := decodeExportCursor(cursor)
	if err != nil {
		return err
	}
	c := s.c.withLogger(out.Logger())
	total := estimate(ctx, c, "tickets", cur)
	var done int64
	return c.export(ctx, "tickets", cur.AfterCursor, s.pageSize, func(p exportPage) error {
		var live []string // tickets whose comments to read
		for _, raw := range p.Records {
			t, err := mapTicket(raw)
			if err != nil {
				if err := out.RecordError(ctx, schema.Tickets, recordID(raw), err.Error()); err != nil {
					return err
				}
				continue
			}
			if t.Status == "deleted" {
				// The export lists deleted tickets, scrubbed, and their
				// comments are gone (404).
				if err := out.Skip(ctx, schema.Tickets, t.ID, "deleted in Zendesk"); err != nil {
					return err
				}
				continue
			}
			if err := out.Emit(ctx, t); err != nil {
				return err
			}
			live = append(live, t.ID)
		}
		convs, err := s.conversations(ctx, c, live)
		if err != nil {
			return err
		}
		for i, cv := range convs {
			if err := emitConversation(ctx, out, live[i], cv); err != nil {
				return err
			}
		}
		done += int64(len(p.Records))
		if err := progress(out, done, total); err != nil {
			return err
		}
		// The page's tickets, comments and attachments commit together.
		return checkpoint(ctx, out, p)
	})
}

// conversation is a ticket's comments as fetched, or why they could not be.
type conversation struct {
	comments []json.RawMessage
	// gone is set when Zendesk has no comments for the ticket (404, 403):
	// that ticket's problem, not the read's.
	gone error
}

// conversations fetches the comments of tickets, several at once, and
// returns them in the tickets' order. An error other than a ticket's own
// fails the whole page.
func (s *ticketsStream) conversations(ctx context.Context, c *client, tickets []string) ([]conversation, error) {
	out := make([]conversation, len(tickets))
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range min(s.workers, len(tickets)) {
		wg.Go(func() {
			for i := range jobs {
				comments, err := fetchComments(ctx, c, tickets[i], s.pageSize)
				switch status := statusOf(err); {
				case err == nil:
					out[i].comments = comments
				case status == http.StatusNotFound || status == http.StatusForbidden:
					out[i].gone = err
				default:
					cancel(err)
				}
			}
		})
	}
feed:
	for i := range tickets {
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	return out, nil
}

func fetchComments(ctx context.Context, c *client, ticketID string, pageSize int) ([]json.RawMessage, error) {
	var all []json.RawMessage
	err := c.list(ctx, "/api/v2/tickets/"+ticketID+"/comments.json", "comments", pageSize, func(records []json.RawMessage) error {
		all = append(all, records...)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("fetch comments of ticket %s: %w", ticketID, err)
	}
	return all, nil
}

func emitConversation(ctx context.Context, out *source.Emitter, ticketID string, cv conversation) error {
	if cv.gone != nil {
		out.Logger().Warn("comments of a ticket could not be read", "ticket", ticketID, "error", cv.gone)
		return out.RecordError(ctx, schema.Comments, ticketID, cv.gone.Error())
	}
	for _, raw := range cv.comments {
		comment, atts, err := mapComment(ticketID, raw)
		if err != nil {
			if err := out.RecordError(ctx, schema.Comments, recordID(raw), fmt.Sprintf("ticket %s: %v", ticketID, err)); err != nil {
				return err
			}
			continue
		}
		if err := out.Emit(ctx, comment); err != nil {
			return err
		}
		for _, a := range atts {
			if err := out.Emit(ctx, a); err != nil {
				return err
			}
		}
	}
	return nil
}
