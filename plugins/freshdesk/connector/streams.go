package connector

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/ferryhq/ferry/sdk/schema"
	"github.com/ferryhq/ferry/sdk/source"
)

// maxTicketPages is the last page of tickets Freshdesk serves.
const maxTicketPages = 300

// formatSince writes a time as Freshdesk's updated_since takes it. A first
// read starts at the Unix epoch: without updated_since, Freshdesk lists
// only the tickets created in the last 30 days.
func formatSince(t time.Time) string {
	if t.IsZero() {
		t = time.Unix(0, 0)
	}
	return t.UTC().Format(time.RFC3339)
}

// clock gives streams the time a read starts at, for the lag window.
type clock func() time.Time

// usersCursor is the users stream's checkpoint: agents and contacts are
// two listings, each with its own update-time cursor.
type usersCursor struct {
	Agents   json.RawMessage `json:"agents,omitempty"`
	Contacts json.RawMessage `json:"contacts,omitempty"`
}

func decodeUsersCursor(b []byte) (usersCursor, error) {
	var c usersCursor
	if len(b) == 0 {
		return c, nil
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("resume cursor %q is not one this connector wrote: %w", b, err)
	}
	return c, nil
}

// usersStream reads agents, then contacts: the default list, the blocked
// and the deleted ones.
type usersStream struct {
	c        *client
	pageSize int
	now      clock
	lag      time.Duration
}

// Info describes the users stream: incremental, by updated_at.
func (s *usersStream) Info() source.StreamInfo {
	return source.StreamInfo{Name: schema.Users, CursorField: "updated_at"}
}

// Read reads the agents and contacts updated since cursor. Neither list
// comes in update order (contacts come by name), so each listing's cursor
// is only good once the listing is whole: the stream checkpoints after
// the agents and after the contacts.
func (s *usersStream) Read(ctx context.Context, cursor []byte, out *source.Emitter) error {
	cur, err := decodeUsersCursor(cursor)
	if err != nil {
		return err
	}
	c := s.c.withLogger(out.Logger())
	now := s.now()
	var done int64
	// seen drops a record listed twice in one read: a record inserted
	// before the current page while the list is read shifts the next page
	// back by one.
	seen := map[string]bool{}
	emit := func(u *source.UpdatedAt, user *schema.User) error {
		if seen[user.ID] || !u.Keep(user.ID, user.UpdatedAt) {
			return nil
		}
		seen[user.ID] = true
		done++
		return out.Emit(ctx, user)
	}

	agents, err := source.NewUpdatedAt(cur.Agents, now, s.lag)
	if err != nil {
		return fmt.Errorf("resume users: %w", err)
	}
	err = c.list(ctx, "/api/v2/agents", nil, s.pageSize, func(records []json.RawMessage) error {
		for _, raw := range records {
			user, err := mapAgent(raw)
			if err != nil {
				if err := out.RecordError(ctx, schema.Users, recordID(raw), err.Error()); err != nil {
					return err
				}
				continue
			}
			if err := emit(agents, user); err != nil {
				return err
			}
		}
		return out.Progress(done, 0)
	})
	if err != nil {
		return fmt.Errorf("read agents: %w", err)
	}
	cur.Agents = agents.Cursor()
	if err := out.Checkpoint(ctx, encode(cur)); err != nil {
		return err
	}

	contacts, err := source.NewUpdatedAt(cur.Contacts, now, s.lag)
	if err != nil {
		return fmt.Errorf("resume users: %w", err)
	}
	// The default list leaves out blocked and deleted contacts; they are
	// users all the same, and tickets may name them.
	for _, state := range []string{"", stateBlocked, stateDeleted} {
		q := url.Values{}
		if state != "" {
			q.Set("state", state)
		}
		if !contacts.Since().IsZero() {
			q.Set("_updated_since", formatSince(contacts.Since()))
		}
		err := c.list(ctx, "/api/v2/contacts", q, s.pageSize, func(records []json.RawMessage) error {
			for _, raw := range records {
				user, err := mapContact(raw, state)
				if err != nil {
					if err := out.RecordError(ctx, schema.Users, recordID(raw), err.Error()); err != nil {
						return err
					}
					continue
				}
				if err := emit(contacts, user); err != nil {
					return err
				}
			}
			return out.Progress(done, 0)
		})
		if err != nil {
			return fmt.Errorf("read contacts: %w", err)
		}
	}
	cur.Contacts = contacts.Cursor()
	return out.Checkpoint(ctx, encode(cur))
}

func encode(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		// Cursors are structs of strings and JSON values that decoded.
		panic(fmt.Sprintf("freshdesk: encode cursor: %v", err))
	}
	return b
}

// listStream reads a whole list endpoint each time: companies, groups and
// ticket fields have no updated_since, and are few.
type listStream[R schema.Record] struct {
	c    *client
	name string // the canonical stream
	path string // the endpoint
	// pageSize is the per_page to ask for; 0 for an endpoint that takes
	// no paging parameters.
	pageSize int
	mapper   func(json.RawMessage) (R, error)
}

// Info describes the stream: read whole, without a cursor.
func (s *listStream[R]) Info() source.StreamInfo { return source.StreamInfo{Name: s.name} }

// Read reads the whole list; the cursor is ignored.
func (s *listStream[R]) Read(ctx context.Context, _ []byte, out *source.Emitter) error {
	c := s.c.withLogger(out.Logger())
	var done int64
	err := c.list(ctx, s.path, nil, s.pageSize, func(records []json.RawMessage) error {
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

// ticketsStream reads tickets by update time and, page by page, each
// ticket's description, conversations and attachments.
type ticketsStream struct {
	c        *client
	pageSize int
	// workers fetch a page's tickets at once.
	workers int
	now     clock
	lag     time.Duration
}

// Info describes the tickets stream, which brings comments and
// attachments along.
func (s *ticketsStream) Info() source.StreamInfo {
	return source.StreamInfo{Name: schema.Tickets, CursorField: "updated_at", Emits: []string{schema.Comments, schema.Attachments}}
}

// listed is a ticket as a list gives it: what paging and sorting out
// spam need.
type listed struct {
	ID        string
	UpdatedAt time.Time
	Spam      bool
	Deleted   bool
}

func decodeListed(raw json.RawMessage) (listed, error) {
	var t struct {
		ID        int64     `json:"id"`
		UpdatedAt time.Time `json:"updated_at"`
		Spam      bool      `json:"spam"`
		Deleted   bool      `json:"deleted"`
	}
	if err := json.Unmarshal(raw, &t); err != nil {
		return listed{}, fmt.Errorf("decode listed ticket: %w", err)
	}
	if t.ID == 0 || t.UpdatedAt.IsZero() {
		// Without both, the list cannot be followed by update time.
		return listed{}, fmt.Errorf("a listed ticket has no id or no updated_at: %.200s", raw)
	}
	return listed{ID: id(t.ID), UpdatedAt: t.UpdatedAt.UTC(), Spam: t.Spam, Deleted: t.Deleted}, nil
}

// Skip reasons.
const (
	reasonSpam    = "spam in Freshdesk"
	reasonDeleted = "deleted in Freshdesk"
)

// Read reads the tickets updated since cursor, oldest update first, a page
// at a time, each page committed whole with its tickets' conversations
// and the cursor after it. Spam and deleted tickets, which Freshdesk lists
// apart, are reported as skipped first.
func (s *ticketsStream) Read(ctx context.Context, cursor []byte, out *source.Emitter) error {
	if _, err := source.NewUpdatedAt(cursor, time.Time{}, s.lag); err != nil {
		return fmt.Errorf("resume tickets: %w", err)
	}
	c := s.c.withLogger(out.Logger())
	now := s.now()
	fields, err := s.fields(ctx, c)
	if err != nil {
		return err
	}
	// Skips come before the first checkpoint, which commits them: a read
	// resumed from a later checkpoint does not list them again.
	for _, f := range []struct{ filter, reason string }{{"spam", reasonSpam}, {"deleted", reasonDeleted}} {
		err := s.scan(ctx, c, f.filter, cursor, now, func(kept []listed, _ []byte) error {
			for _, t := range kept {
				if err := out.Skip(ctx, schema.Tickets, t.ID, f.reason); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	var done int64
	return s.scan(ctx, c, "", cursor, now, func(kept []listed, next []byte) error {
		details, err := s.details(ctx, c, kept)
		if err != nil {
			return err
		}
		for i, t := range kept {
			if err := emitTicket(ctx, out, t, details[i], fields); err != nil {
				return err
			}
		}
		done += int64(len(kept))
		if err := out.Progress(done, 0); err != nil {
			return err
		}
		if len(kept) == 0 {
			return nil
		}
		// The page's tickets, comments and attachments commit together.
		return out.Checkpoint(ctx, next)
	})
}

// fields reads the ticket fields, which name the account's own statuses
// and give custom fields their ids.
func (s *ticketsStream) fields(ctx context.Context, c *client) (ticketMeta, error) {
	var all []json.RawMessage
	err := c.list(ctx, "/api/v2/ticket_fields", nil, 0, func(records []json.RawMessage) error {
		all = append(all, records...)
		return nil
	})
	if err != nil {
		return ticketMeta{}, fmt.Errorf("read ticket fields: %w", err)
	}
	meta, err := newTicketMeta(all)
	if err != nil {
		return ticketMeta{}, fmt.Errorf("read ticket fields: %w", err)
	}
	return meta, nil
}

// scan lists the tickets of filter ("" for the live ones) updated since
// cursor, oldest update first, and calls page with each page's tickets
// that the cursor keeps (not read before, not updated within the lag
// window) and the cursor after them.
//
// It pages by update time rather than by page number: after each page
// that moved the cursor it asks again from the newest update time read.
// Page numbers over a list ordered by update time shift whenever a ticket
// already read is updated, which moves it to the end, so the ticket after
// the page's end would be skipped for good; asking from an update time
// never skips, and the boundary's tickets come again only to be dropped
// by the cursor. It also never meets Freshdesk's 300-page cap, except
// through more than 300 pages of tickets updated in the same second.
func (s *ticketsStream) scan(ctx context.Context, c *client, filter string, cursor []byte, now time.Time, page func(kept []listed, next []byte) error) error {
	what := "list tickets"
	if filter != "" {
		what = "list " + filter + " tickets"
	}
	u, err := source.NewUpdatedAt(cursor, now, s.lag)
	if err != nil {
		return fmt.Errorf("resume tickets: %w", err)
	}
	since := u.Since()
	for n := 1; ; {
		q := url.Values{
			"updated_since": {formatSince(since)}, "order_by": {"updated_at"}, "order_type": {"asc"},
			"per_page": {strconv.Itoa(s.pageSize)},
		}
		if filter != "" {
			q.Set("filter", filter)
		}
		if n > 1 {
			q.Set("page", strconv.Itoa(n))
		}
		body, header, err := c.get(ctx, "/api/v2/tickets", q)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		records, err := decodeList(body)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		var kept []listed
		newest, tooNew := since, false
		for _, raw := range records {
			t, err := decodeListed(raw)
			if err != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
			if t.UpdatedAt.After(u.Until()) {
				// The list is in update order: the rest is newer still,
				// for the next read.
				tooNew = true
				break
			}
			if !u.Keep(t.ID, t.UpdatedAt) {
				continue
			}
			kept = append(kept, t)
			newest = latest(newest, t.UpdatedAt)
		}
		if err := page(kept, u.Cursor()); err != nil {
			return err
		}
		next, more, err := nextPage(header.Get("Link"))
		switch {
		case err != nil:
			return fmt.Errorf("%s: %w", what, err)
		case tooNew || !more:
			return nil
		case newest.After(since):
			// Ask again from the newest update time read.
			if u, err = source.NewUpdatedAt(u.Cursor(), now, s.lag); err != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
			since, n = u.Since(), 1
		case next > maxTicketPages:
			return fmt.Errorf("%s: more than %d pages of tickets were updated at %s; a larger page_size gets past them", what, maxTicketPages, since.Format(time.RFC3339))
		case next <= n:
			return fmt.Errorf("%s: the next page (%d) does not come after page %d", what, next, n)
		default:
			// The whole page was updated in the instant the list starts
			// from: only the next page moves on.
			n = next
		}
	}
}

// detail is what a page's ticket brought, or why it could not.
type detail struct {
	view          json.RawMessage
	conversations []json.RawMessage
	// gone is set when the ticket was deleted for good since it was
	// listed (404).
	gone error
	// denied is set when the API key may not see the ticket (403).
	denied error
	// convErr is set when the ticket's conversations could not be read
	// (403, 404): that ticket's problem, not the read's.
	convErr error
}

// details fetches each live ticket of a page and its conversations,
// several at once, in the tickets' order. An error other than a ticket's
// own fails the page.
func (s *ticketsStream) details(ctx context.Context, c *client, tickets []listed) ([]detail, error) {
	out := make([]detail, len(tickets))
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(max(1, s.workers))
	for i, t := range tickets {
		if t.Spam || t.Deleted {
			continue
		}
		g.Go(func() error {
			view, err := c.getObject(ctx, "/api/v2/tickets/"+t.ID, nil)
			switch statusOf(err) {
			case 0:
				if err != nil {
					return fmt.Errorf("view ticket %s: %w", t.ID, err)
				}
			case http.StatusNotFound:
				out[i].gone = err
				return nil
			case http.StatusForbidden:
				out[i].denied = err
				return nil
			default:
				return fmt.Errorf("view ticket %s: %w", t.ID, err)
			}
			out[i].view = view
			err = c.list(ctx, "/api/v2/tickets/"+t.ID+"/conversations", nil, s.pageSize, func(records []json.RawMessage) error {
				out[i].conversations = append(out[i].conversations, records...)
				return nil
			})
			switch statusOf(err) {
			case 0:
				if err != nil {
					return fmt.Errorf("read conversations of ticket %s: %w", t.ID, err)
				}
			case http.StatusNotFound, http.StatusForbidden:
				out[i].convErr = err
			default:
				return fmt.Errorf("read conversations of ticket %s: %w", t.ID, err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// emitTicket emits a ticket, its description and conversations as
// comments, and their attachments; or the skip or error that replaces
// them.
func emitTicket(ctx context.Context, out *source.Emitter, t listed, d detail, fields ticketMeta) error {
	switch {
	case t.Spam:
		return out.Skip(ctx, schema.Tickets, t.ID, reasonSpam)
	case t.Deleted:
		return out.Skip(ctx, schema.Tickets, t.ID, reasonDeleted)
	case d.gone != nil:
		out.Logger().Warn("a listed ticket is gone", "ticket", t.ID, "error", d.gone)
		return out.Skip(ctx, schema.Tickets, t.ID, reasonDeleted)
	case d.denied != nil:
		return out.RecordError(ctx, schema.Tickets, t.ID, d.denied.Error())
	}
	ticket, err := mapTicket(d.view, fields)
	if err != nil {
		return out.RecordError(ctx, schema.Tickets, t.ID, err.Error())
	}
	// The ticket may have moved to spam or the trash since it was listed.
	var flags struct{ Spam, Deleted bool }
	if err := json.Unmarshal(d.view, &flags); err == nil {
		switch {
		case flags.Spam:
			return out.Skip(ctx, schema.Tickets, t.ID, reasonSpam)
		case flags.Deleted:
			return out.Skip(ctx, schema.Tickets, t.ID, reasonDeleted)
		}
	}
	if err := out.Emit(ctx, ticket); err != nil {
		return err
	}
	desc, atts, err := mapDescription(d.view)
	if err != nil {
		if err := out.RecordError(ctx, schema.Comments, descriptionID(t.ID), err.Error()); err != nil {
			return err
		}
	} else if err := emitComment(ctx, out, desc, atts); err != nil {
		return err
	}
	if d.convErr != nil {
		out.Logger().Warn("the conversations of a ticket could not be read", "ticket", t.ID, "error", d.convErr)
		return out.RecordError(ctx, schema.Comments, t.ID, d.convErr.Error())
	}
	for _, raw := range d.conversations {
		comment, atts, err := mapConversation(t.ID, raw)
		if err != nil {
			if err := out.RecordError(ctx, schema.Comments, recordID(raw), fmt.Sprintf("ticket %s: %v", t.ID, err)); err != nil {
				return err
			}
			continue
		}
		if err := emitComment(ctx, out, comment, atts); err != nil {
			return err
		}
	}
	return nil
}

func emitComment(ctx context.Context, out *source.Emitter, c *schema.Comment, atts []*schema.Attachment) error {
	if err := out.Emit(ctx, c); err != nil {
		return err
	}
	for _, a := range atts {
		if err := out.Emit(ctx, a); err != nil {
			return err
		}
	}
	return nil
}

// kbStream reads the knowledge base: solution categories and their
// folders (kb_categories), or the folders' articles (kb_articles). Neither
// has updated_since; both are read whole.
type kbStream struct {
	c        *client
	name     string
	pageSize int
}

// Info describes the stream: read whole. Articles' attachments stay in
// their Raw: the attachments stream is the tickets stream's, and one
// canonical stream has one stream that emits it.
func (s *kbStream) Info() source.StreamInfo { return source.StreamInfo{Name: s.name} }

// Read walks categories, folders and, for kb_articles, articles.
func (s *kbStream) Read(ctx context.Context, _ []byte, out *source.Emitter) error {
	c := s.c.withLogger(out.Logger())
	locale := helpdeskLanguage(ctx, c)
	var done int64
	// fail reports a record that does not map, and goes on.
	fail := func(stream string, raw json.RawMessage, err error) error {
		return out.RecordError(ctx, stream, recordID(raw), err.Error())
	}
	err := c.list(ctx, "/api/v2/solutions/categories", nil, 0, func(categories []json.RawMessage) error {
		for _, raw := range categories {
			cat, err := mapCategory(raw, locale)
			if err != nil {
				if err := fail(schema.KBCategories, raw, err); err != nil {
					return err
				}
				continue
			}
			if s.name == schema.KBCategories {
				if err := out.Emit(ctx, cat); err != nil {
					return err
				}
				done++
			}
			catID, _ := strconv.ParseInt(recordID(raw), 10, 64)
			err = c.list(ctx, fmt.Sprintf("/api/v2/solutions/categories/%d/folders", catID), nil, 0, func(folders []json.RawMessage) error {
				for _, raw := range folders {
					folder, err := mapFolder(raw, catID, locale)
					if err != nil {
						if err := fail(schema.KBCategories, raw, err); err != nil {
							return err
						}
						continue
					}
					if s.name == schema.KBCategories {
						if err := out.Emit(ctx, folder); err != nil {
							return err
						}
						done++
						continue
					}
					folderNum, _ := strconv.ParseInt(recordID(raw), 10, 64)
					if err := s.articles(ctx, c, out, folderNum, locale, &done); err != nil {
						return err
					}
				}
				return out.Progress(done, 0)
			})
			if err != nil {
				return fmt.Errorf("read the folders of category %d: %w", catID, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read %s: %w", s.name, err)
	}
	return nil
}

func (s *kbStream) articles(ctx context.Context, c *client, out *source.Emitter, folder int64, locale string, done *int64) error {
	err := c.list(ctx, fmt.Sprintf("/api/v2/solutions/folders/%d/articles", folder), nil, s.pageSize, func(records []json.RawMessage) error {
		for _, raw := range records {
			article, err := mapArticle(raw, folder, locale)
			if err != nil {
				if err := out.RecordError(ctx, schema.KBArticles, recordID(raw), err.Error()); err != nil {
					return err
				}
				continue
			}
			if err := out.Emit(ctx, article); err != nil {
				return err
			}
			*done++
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read the articles of folder %d: %w", folder, err)
	}
	return nil
}

// helpdeskLanguage is the account's primary language, the locale of its
// knowledge base. Only admins may read the help desk's settings: without
// them the locale stays unknown, and the read goes on.
func helpdeskLanguage(ctx context.Context, c *client) string {
	obj, err := c.getObject(ctx, "/api/v2/settings/helpdesk", nil)
	if err != nil {
		c.log.Warn("the knowledge base's language is unknown", "error", err)
		return ""
	}
	var v struct {
		PrimaryLanguage string `json:"primary_language"`
	}
	if err := json.Unmarshal(obj, &v); err != nil {
		c.log.Warn("the knowledge base's language is unknown", "error", err)
		return ""
	}
	return v.PrimaryLanguage
}
