package connector

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/ferryhq/ferry/sdk/schema"
	"github.com/ferryhq/ferry/sdk/source"
)

// lag keeps incremental reads a minute behind now, as Zendesk's exports
// are: a record changed while a read runs, or stamped by a clock behind
// ours, is left for the next read rather than passed by the cursor.
const lag = time.Minute

// commentsStream reads the tickets' comments, their attachments and, when
// the config asks, the tickets' field changes (ticket_events) from the
// incremental ticket events export with the comment_events sideload: one
// call brings up to a thousand ticket updates, each with the comments it
// added, where the comments endpoint costs a call per ticket.
//
// The export is time-based: it lists every update (an audit) at or after a
// start time, in time order, a page at a time, and the next page starts at
// the second the last one ended in, so that second's updates come again.
// The stream's cursor is a source.UpdatedAt cursor over the updates: the
// second read up to, and the ids of the updates read in that second.
//
// The invariant that makes every checkpoint a barrier: an update is
// emitted whole or not at all (every comment it added, each with its
// attachments, and its field changes), and the checkpoint after a page is
// sent after everything the page emitted and holds the newest second kept
// and the ids of every update kept in that second. Since the export lists
// in time order, every update before that second was kept by this page or
// an earlier one, and every update in that second that the cursor does not
// name was not. A read resumed from the checkpoint asks from that second,
// drops the updates the cursor names and keeps the others; so every
// update, and with it every comment, is committed exactly once, whether
// the read was interrupted or not. Updates newer than a minute are left
// for the next read, and the cursor never passes them.
//
// The stream's records name their ticket; the tickets stream stages the
// tickets, and the host joins the two. A deleted ticket's comments are not
// staged: the read starts by listing the deleted tickets (one call a
// hundred) and leaves their updates out, as the tickets stream skips the
// tickets. (A ticket deleted while the read runs keeps what was staged of
// it; the next read of the tickets records it as skipped.)
type commentsStream struct {
	c            *client
	pageSize     int
	workers      int
	ticketEvents bool
}

// Info describes the comments stream, which brings attachments, and
// ticket events when asked for.
func (s *commentsStream) Info() source.StreamInfo {
	emits := []string{schema.Attachments}
	if s.ticketEvents {
		emits = append(emits, schema.TicketEvents)
	}
	return source.StreamInfo{Name: schema.Comments, CursorField: "timestamp", Emits: emits}
}

// zdTicketEvent is one entry of the ticket events export: an update of a
// ticket and what it did (its child events).
type zdTicketEvent struct {
	ID          int64             `json:"id"`
	TicketID    int64             `json:"ticket_id"`
	Timestamp   int64             `json:"timestamp"`
	CreatedAt   time.Time         `json:"created_at"`
	UpdaterID   int64             `json:"updater_id"`
	ChildEvents []json.RawMessage `json:"child_events"`
}

func (e zdTicketEvent) at() time.Time {
	if e.Timestamp > 0 {
		return time.Unix(e.Timestamp, 0).UTC()
	}
	return e.CreatedAt.UTC()
}

// Read exports the updates after cursor, a page at a time, each page's
// comments, attachments and ticket events committed with the cursor after
// it.
func (s *commentsStream) Read(ctx context.Context, cursor []byte, out *source.Emitter) error {
	now := time.Now()
	if _, err := source.NewUpdatedAt(cursor, now, lag); err != nil {
		return fmt.Errorf("resume cursor %q is not one this connector wrote: %w", cursor, err)
	}
	c := s.c.withLogger(out.Logger())
	deleted, err := deletedTickets(ctx, c)
	if err != nil {
		return err
	}
	var done int64
	for {
		// Each page's cursor is the next page's start: its Keep drops the
		// updates of the boundary second the page before already kept.
		u, err := source.NewUpdatedAt(cursor, now, lag)
		if err != nil {
			return err
		}
		// A first read starts at the zero time, long before Unix's.
		page, err := c.ticketEventsPage(ctx, max(u.Since().Unix(), 0), s.pageSize)
		if err != nil {
			return err
		}
		var events []zdTicketEvent
		caughtUp := false
		for _, raw := range page.Records {
			var ev zdTicketEvent
			if err := json.Unmarshal(raw, &ev); err != nil || ev.ID == 0 || ev.TicketID == 0 {
				reason := "a ticket event without an id or a ticket"
				if err != nil {
					reason = fmt.Sprintf("decode ticket event: %v", err)
				}
				if err := out.RecordError(ctx, schema.Comments, recordID(raw), reason); err != nil {
					return err
				}
				continue
			}
			if ev.at().After(u.Until()) {
				caughtUp = true // the rest is for the next read
				break
			}
			if u.Keep(id(ev.ID), ev.at()) {
				events = append(events, ev)
			}
		}
		n, err := s.emitPage(ctx, c, out, events, deleted)
		if err != nil {
			return err
		}
		done += n
		if err := out.Progress(done, 0); err != nil {
			return err
		}
		next := u.Cursor()
		// The export lists updates in time order: every update before the
		// newest one kept is staged with its comments (the next page may
		// bring more of that second); at the end, every one before Until.
		// The host loads a ticket once its last update is before the mark.
		through := u.Newest()
		if page.EndOfStream || caughtUp {
			through = u.Until()
		}
		if err := out.CheckpointThrough(ctx, next, through); err != nil {
			return err
		}
		switch {
		case page.EndOfStream || caughtUp:
			return nil
		case len(events) == 0:
			// Asking again would get the same page forever: more than a
			// page of updates in one second.
			return fmt.Errorf("export ticket events: the export does not advance past %s", u.Since().Format(time.RFC3339))
		}
		cursor = next
	}
}

// childKinds are the child events the stream reads.
const (
	childComment      = "comment"
	childChange       = "change"
	childCommentLater = "comment changed" // a comment changed after it was written
	childOther        = "other"
)

// childKind classifies a child event of the export.
func childKind(obj map[string]json.RawMessage) string {
	var typ string
	if json.Unmarshal(obj["event_type"], &typ) != nil || typ == "" {
		json.Unmarshal(obj["type"], &typ)
	}
	switch typ {
	case "Comment", "VoiceComment":
		return childComment
	case "Create", "Change":
		return childChange
	case "CommentPrivacyChange", "CommentRedactionEvent", "AttachmentRedactionEvent":
		return childCommentLater
	}
	return childOther
}

// hasContent reports whether a comment child event holds the comment, as
// it does with the comment_events sideload, rather than only flagging it.
func hasContent(obj map[string]json.RawMessage) bool {
	for _, k := range []string{"body", "html_body", "plain_body"} {
		if _, ok := obj[k]; ok {
			return true
		}
	}
	return false
}

// emitPage emits the comments, attachments and ticket events of a page's
// updates, those of deleted tickets left out, and returns how many
// comments it emitted.
//
// The export serves a comment as it was written. Where it cannot serve a
// ticket's comments as they are, the ticket's comments endpoint (one call
// a ticket) serves them instead: a comment made private or redacted later
// (the export records only that it changed), or a comment the export names
// without its content (a server that did not honour the sideload). Such a
// ticket's comments come from the endpoint alone, so that the page emits
// each once; a comment emitted by an earlier page comes again, as it now
// is, and the host keeps the newer.
func (s *commentsStream) emitPage(ctx context.Context, c *client, out *source.Emitter, events []zdTicketEvent, deleted map[string]bool) (int64, error) {
	type child struct {
		ev  *zdTicketEvent
		raw json.RawMessage
		obj map[string]json.RawMessage
	}
	var children []child
	refetch := map[string]bool{}
	var refetchOrder []string
	for i := range events {
		ev := &events[i]
		ticketID := id(ev.TicketID)
		if deleted[ticketID] {
			continue
		}
		for _, raw := range ev.ChildEvents {
			var obj map[string]json.RawMessage
			if err := json.Unmarshal(raw, &obj); err != nil {
				if err := out.RecordError(ctx, schema.Comments, recordID(raw), fmt.Sprintf("ticket %s: decode event %d's child event: %v", ticketID, ev.ID, err)); err != nil {
					return 0, err
				}
				continue
			}
			kind := childKind(obj)
			if kind == childCommentLater || kind == childComment && !hasContent(obj) {
				if !refetch[ticketID] {
					refetch[ticketID] = true
					refetchOrder = append(refetchOrder, ticketID)
				}
				continue
			}
			children = append(children, child{ev, raw, obj})
		}
	}
	var emitted int64
	for _, ch := range children {
		ticketID := id(ch.ev.TicketID)
		switch childKind(ch.obj) {
		case childComment:
			if refetch[ticketID] {
				continue
			}
			comment, atts, err := mapComment(ticketID, ch.raw)
			if err != nil {
				if err := out.RecordError(ctx, schema.Comments, recordID(ch.raw), fmt.Sprintf("ticket %s: %v", ticketID, err)); err != nil {
					return 0, err
				}
				continue
			}
			if comment.CreatedAt.IsZero() {
				comment.CreatedAt = ch.ev.at()
			}
			if err := emitComment(ctx, out, comment, atts); err != nil {
				return 0, err
			}
			emitted++
		case childChange:
			if !s.ticketEvents {
				continue
			}
			te, err := mapTicketEvent(ticketID, authorOf(ch.ev.UpdaterID), ch.ev.at(), ch.obj, ch.raw)
			if err != nil {
				if err := out.RecordError(ctx, schema.TicketEvents, recordID(ch.raw), fmt.Sprintf("ticket %s: %v", ticketID, err)); err != nil {
					return 0, err
				}
				continue
			}
			if err := out.Emit(ctx, te); err != nil {
				return 0, err
			}
		}
	}
	n, err := s.refetch(ctx, c, out, refetchOrder)
	return emitted + n, err
}

// authorOf is an update's author: Zendesk's automations and triggers
// write as user -1, which is nobody.
func authorOf(updaterID int64) string {
	if updaterID < 0 {
		return ""
	}
	return id(updaterID)
}

func emitComment(ctx context.Context, out *source.Emitter, comment *schema.Comment, atts []*schema.Attachment) error {
	if err := out.Emit(ctx, comment); err != nil {
		return err
	}
	for _, a := range atts {
		if err := out.Emit(ctx, a); err != nil {
			return err
		}
	}
	return nil
}

// conversation is a ticket's comments as the comments endpoint serves
// them, or why it could not.
type conversation struct {
	comments []json.RawMessage
	// gone is set when Zendesk has no comments for the ticket (404, 403):
	// that ticket's problem, not the read's.
	gone error
}

// refetch reads tickets' comments from the comments endpoint, several at
// once, and emits them in the tickets' order; it returns how many.
func (s *commentsStream) refetch(ctx context.Context, c *client, out *source.Emitter, tickets []string) (int64, error) {
	if len(tickets) == 0 {
		return 0, nil
	}
	out.Logger().Info("reading comments the ticket events export cannot serve from the comments endpoint", "tickets", len(tickets))
	convs := make([]conversation, len(tickets))
	err := parallel(ctx, s.workers, len(tickets), func(ctx context.Context, i int) error {
		comments, err := fetchComments(ctx, c, tickets[i], s.pageSize)
		switch status := statusOf(err); {
		case err == nil:
			convs[i].comments = comments
		case status == http.StatusNotFound || status == http.StatusForbidden:
			convs[i].gone = err
		default:
			return err
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	var n int64
	for i, cv := range convs {
		if cv.gone != nil {
			out.Logger().Warn("comments of a ticket could not be read", "ticket", tickets[i], "error", cv.gone)
			if err := out.RecordError(ctx, schema.Comments, tickets[i], cv.gone.Error()); err != nil {
				return 0, err
			}
			continue
		}
		for _, raw := range cv.comments {
			comment, atts, err := mapComment(tickets[i], raw)
			if err != nil {
				if err := out.RecordError(ctx, schema.Comments, recordID(raw), fmt.Sprintf("ticket %s: %v", tickets[i], err)); err != nil {
					return 0, err
				}
				continue
			}
			if err := emitComment(ctx, out, comment, atts); err != nil {
				return 0, err
			}
			n++
		}
	}
	return n, nil
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

// deletedTickets lists the ids of the tickets deleted in Zendesk, whose
// comments are not to be staged. The export is in time order, and a
// ticket's deletion comes after its comments: only a list of the deleted
// tickets, read first, tells which comments to leave out.
func deletedTickets(ctx context.Context, c *client) (map[string]bool, error) {
	deleted := map[string]bool{}
	err := c.list(ctx, "/api/v2/deleted_tickets.json", "deleted_tickets", maxListPage, func(records []json.RawMessage) error {
		for _, raw := range records {
			if tid := recordID(raw); tid != "" {
				deleted[tid] = true
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list deleted tickets: %w", err)
	}
	return deleted, nil
}
