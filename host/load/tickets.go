package load

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/ferryhq/ferry/host/intercom"
	"github.com/ferryhq/ferry/host/stage"
	"github.com/ferryhq/ferry/sdk/schema"
)

// maxAttachmentsPerPart is how many attachments ferry puts on one part; the
// rest continue in follow-up parts of the same author. Intercom accepts up
// to 10 URLs, but its clients show no more than five on one part.
const maxAttachmentsPerPart = 5

// Intercom's conversation states a ticket's status ends as: closed for
// solved and closed tickets (Zendesk) and resolved ones (Freshdesk);
// snoozed for those waiting on someone (Zendesk's pending and on-hold,
// Freshdesk's waiting statuses); open for the rest. A transform (the
// map-values example) can map other statuses onto these.
var (
	closedStatuses  = map[string]bool{"solved": true, "closed": true, "resolved": true}
	snoozedStatuses = map[string]bool{"pending": true, "hold": true, "on-hold": true, "waiting on customer": true, "waiting on third party": true}
)

// DefaultSnooze is how long a ticket that waits on someone is snoozed for
// when Options.SnoozeFor is 0.
const DefaultSnooze = 7 * 24 * time.Hour

func (l *Loader) tickets(ctx context.Context) error {
	convs, err := l.ws.IDMap(ctx, stage.EntityTickets)
	if err != nil {
		return err
	}
	comments, err := l.ws.Outcomes(ctx, stage.EntityComments)
	if err != nil {
		return err
	}
	creates, err := l.ws.Intents(ctx, stage.EntityTickets)
	if err != nil {
		return err
	}
	parts, err := l.ws.Intents(ctx, stage.EntityComments)
	if err != nil {
		return err
	}
	// Conversations other tickets have, so that resolving a lost create
	// never adopts one of them.
	taken := make(map[string]bool, len(convs))
	for _, id := range convs {
		taken[id] = true
	}
	sel := stage.Select{Stream: schema.Tickets, Table: l.table(schema.Tickets), Where: toLoad(stage.EntityTickets, l.opts.Tickets, withNewComments(l.table(schema.Comments))), Order: "created_at, id"}
	return l.eachTicket(ctx, sel, func(t *schema.Ticket) *ticketLoad {
		return &ticketLoad{l: l, t: t, convID: convs[t.ID], resumed: convs[t.ID] != "", done: comments, create: creates[t.ID], parts: parts, taken: taken}
	}, func(ctx context.Context, tl *ticketLoad) error { return tl.run(ctx) })
}

// eachTicket runs work over the selected tickets with the load's
// concurrency, each made into a ticketLoad by mk with its comments and
// attachments read (a batch of tickets at a time).
func (l *Loader) eachTicket(ctx context.Context, sel stage.Select, mk func(*schema.Ticket) *ticketLoad, work func(context.Context, *ticketLoad) error) error {
	return fanOut(ctx, l.opts.Concurrency, func(ctx context.Context, send func(*ticketLoad) error) error {
		var batch []*ticketLoad
		flush := func() error {
			if err := l.readThreads(ctx, batch); err != nil {
				return err
			}
			for _, tl := range batch {
				if err := send(tl); err != nil {
					return err
				}
			}
			batch = batch[:0]
			return nil
		}
		err := l.ws.Records(ctx, sel, func(r schema.Record) error {
			batch = append(batch, mk(r.(*schema.Ticket)))
			if len(batch) == ticketBatch {
				return flush()
			}
			return nil
		})
		if err != nil {
			return err
		}
		return flush()
	}, work)
}

// withNewComments selects the tickets with comments (in table comments)
// the ledger has no outcome for: a source that adds a comment without
// changing its ticket's updated_at still gets it into a delta.
func withNewComments(comments string) string {
	return "id IN (SELECT c.ticket_id FROM " + stage.QuoteIdent(comments) + " c WHERE c.id NOT IN (SELECT source_id FROM ledger WHERE entity = 'comments'))"
}

// ticketBatch is how many tickets' comments and attachments are read with
// one query each: a query a ticket cost the workspace more than the ticket's
// Intercom calls cost ferry.
const ticketBatch = 256

// readThreads reads the comments (in source order) and attachments of a
// batch of tickets.
func (l *Loader) readThreads(ctx context.Context, batch []*ticketLoad) error {
	if len(batch) == 0 {
		return nil
	}
	ids := make([]string, len(batch))
	byID := make(map[string]*ticketLoad, len(batch))
	for i, tl := range batch {
		ids[i] = tl.t.ID
		byID[tl.t.ID] = tl
		tl.attachments = map[string][]*schema.Attachment{}
		tl.comments = nil
		tl.read = true
	}
	in := "ticket_id IN (SELECT unnest(?::VARCHAR[]))"
	err := l.ws.Records(ctx, stage.Select{Stream: schema.Comments, Table: l.table(schema.Comments), Where: in, Args: []any{ids}, Order: "ticket_id, created_at, id"}, func(r schema.Record) error {
		c := r.(*schema.Comment)
		tl := byID[c.TicketID]
		tl.comments = append(tl.comments, c)
		return nil
	})
	if err != nil {
		return fmt.Errorf("read the comments of %d tickets: %w", len(batch), err)
	}
	// A file recorded gone (see checkFiles) is in no part: not in the
	// load's, nor in what verify expects.
	where := in + " AND id NOT IN (SELECT source_id FROM ledger WHERE entity = 'attachments' AND outcome = 'failed' AND starts_with(reason, '" + fileGone + "'))"
	err = l.ws.Records(ctx, stage.Select{Stream: schema.Attachments, Table: l.table(schema.Attachments), Where: where, Args: []any{ids}, Order: "ticket_id, comment_id, position, id"}, func(r schema.Record) error {
		a := r.(*schema.Attachment)
		tl := byID[a.TicketID]
		tl.attachments[a.CommentID] = append(tl.attachments[a.CommentID], a)
		return nil
	})
	if err != nil {
		return fmt.Errorf("read the attachments of %d tickets: %w", len(batch), err)
	}
	return nil
}

// ticketLoad loads one ticket: its conversation, then its comments as parts
// in order, then tags, title, assignment and state.
type ticketLoad struct {
	l      *Loader
	t      *schema.Ticket
	convID string
	// resumed says the conversation existed before this load (an earlier
	// run made it, or its lost create was found).
	resumed bool
	// done, create, parts and taken hold the ledger's comment outcomes,
	// the ticket's intent to create its conversation, the comments'
	// intents and the conversations of other tickets at the start of the
	// load (read only: each ticket's records are its own).
	done   map[string]string
	create []stage.Intent
	parts  map[string][]stage.Intent
	taken  map[string]bool

	comments    []*schema.Comment
	attachments map[string][]*schema.Attachment // by comment id
	read        bool                            // comments and attachments are in (readThreads)
	// lastPart is the id of the conversation's newest part ferry knows of:
	// a part sent after it is looked for after it.
	lastPart      string
	lastPartKnown bool
	// pre names the step whose intent the last settle wrote with it (see
	// intentAfter): it is durable, and its send writes none.
	pre stepKey
}

// stepKey names step k of a comment.
type stepKey struct {
	comment string
	k       int
}

func (tl *ticketLoad) run(ctx context.Context) error {
	l, t := tl.l, tl.t
	if !tl.read {
		if err := l.readThreads(ctx, []*ticketLoad{tl}); err != nil {
			return err
		}
	}
	requester, ok := tl.l.contactOf(t.RequesterID)
	if !ok {
		see := "see contacts"
		if u, known := l.users[t.RequesterID]; !known {
			see = "the source does not list that user"
		} else if u.Email != "" {
			see += ", " + u.Email
		}
		return tl.fail(ctx, 0, fmt.Errorf("its requester %s was not migrated as a contact (%s)", t.RequesterID, see))
	}
	if err := tl.checkFiles(ctx); err != nil {
		return err
	}
	first := 0 // the first comment not yet a part
	if tl.convID == "" {
		n, err := tl.open(ctx, requester)
		if err != nil {
			return tl.fail(ctx, 0, err)
		}
		first = n
	}
	for i := first; i < len(tl.comments); i++ {
		c := tl.comments[i]
		if tl.done[c.ID] == stage.Migrated {
			continue
		}
		if err := tl.comment(ctx, i, 0); err != nil {
			return tl.fail(ctx, i, fmt.Errorf("comment %s: %w", c.ID, err))
		}
	}
	if err := tl.finish(ctx); err != nil {
		return tl.fail(ctx, len(tl.comments), err)
	}
	return l.recordMigrated(ctx, stage.EntityTickets, t.ID, tl.convID, t.UpdatedAt)
}

// fileGone begins the reason of a file that is gone from the source: a
// load leaves it out of its part, and what reads the ticket's files back
// (a rerun, verify) leaves it out too.
const fileGone = "its file is gone from the source"

// checkFiles asks the source's file host for the files of the comments not
// yet sent (no step of theirs intended), without credentials, and leaves
// out those it answers 404 or 410 for: Intercom would have no file to fetch
// behind their URL. Each is recorded failed, with what the host answered,
// before any of the ticket's parts is intended, so that a rerun and verify
// leave out the same files (see readThreads).
func (tl *ticketLoad) checkFiles(ctx context.Context) error {
	var gone []stage.Outcome
	for _, c := range tl.comments {
		atts := tl.attachments[c.ID]
		if len(atts) == 0 || tl.done[c.ID] == stage.Migrated || len(tl.parts[c.ID]) > 0 {
			continue
		}
		kept := atts[:0:0]
		for _, a := range atts {
			if why := tl.l.files.gone(ctx, a.URL); why != "" {
				gone = append(gone, stage.Outcome{Entity: stage.EntityAttachments, SourceID: a.ID, Outcome: stage.Failed,
					Reason: fmt.Sprintf("%s (%s), so it was left out of comment %s's part", fileGone, why, c.ID)})
				continue
			}
			kept = append(kept, a)
		}
		tl.attachments[c.ID] = kept
	}
	if len(gone) == 0 {
		return nil
	}
	return tl.l.recordAll(ctx, nil, gone...)
}

// fileChecker asks file hosts whether files are there.
type fileChecker struct {
	client *http.Client
	log    *slog.Logger
}

// gone says why the file at rawURL is gone ("GET <url> answered 404 Not
// Found"), or "" when it is there or its host does not say: an error, a
// refusal (a file only the help desk's login can read), anything but 404
// and 410. The request carries no credentials, and reads none of the file.
func (f *fileChecker) gone(ctx context.Context, rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return ""
	}
	req.Header.Set("Range", "bytes=0-0")
	resp, err := f.client.Do(req)
	if err != nil {
		f.log.Debug("a file's host did not answer; its URL goes to Intercom as it is", "url", rawURL, "error", err.Error())
		return ""
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusGone {
		return ""
	}
	return fmt.Sprintf("GET %s answered %s", redactURL(u), resp.Status)
}

// redactURL is a URL for a reason: without a password or the query, which
// may hold a signature.
func redactURL(u *url.URL) string {
	c := *u
	c.User, c.RawQuery, c.Fragment = nil, "", ""
	return c.String()
}

// opening is what identifies a conversation ferry created, should its
// answer be lost: who started it and when (the source's time).
type opening struct {
	Contact   string `json:"contact"`
	CreatedAt int64  `json:"created_at"`
	Comment   string `json:"comment,omitempty"` // the comment it opened with
}

// open starts the conversation as the requester (or finds the one a lost
// create made) and returns how many comments it used: the first one when
// the requester wrote it, else none (the conversation then opens with the
// subject, and every comment follows as a part). A first comment with
// more attachments than one message takes goes on in follow-up parts.
func (tl *ticketLoad) open(ctx context.Context, requester string) (int, error) {
	t := tl.t
	var first *schema.Comment
	if len(tl.comments) > 0 && tl.comments[0].AuthorID == t.RequesterID && tl.comments[0].Public &&
		// An Intercom ticket's description takes no attachments.
		(tl.l.asTickets == nil || len(tl.attachments[tl.comments[0].ID]) == 0) {
		first = tl.comments[0]
	}
	o := opening{Contact: requester, CreatedAt: unix(t.CreatedAt)}
	if first != nil {
		o.Comment, o.CreatedAt = first.ID, unix(first.CreatedAt)
	}
	create, find := tl.openConversation(requester, first), tl.findOpening
	if tl.l.asTickets != nil {
		create, find = tl.openTicket(requester, first), tl.findTicket
	}
	detail, _ := json.Marshal(o)

	var msgID string
	found := false
	if len(tl.create) > 0 {
		// An earlier run sent this create and lost the answer (or
		// crashed): look for what it made before sending it again.
		var err error
		if tl.convID, msgID, found, err = find(ctx, o); err != nil {
			return 0, err
		}
		tl.resumed = found
	} else if err := tl.l.ws.Intend(ctx, stage.Intent{Entity: stage.EntityTickets, SourceID: t.ID, Detail: string(detail), RunID: tl.l.opts.RunID}); err != nil {
		return 0, err
	}
	for try := 0; !found; try++ {
		id, opening, err := create(ctx)
		if err == nil {
			tl.convID, msgID, found = id, opening, true
			break
		}
		if !errors.Is(err, intercom.ErrOutcomeUnknown) || try >= maxResends {
			return 0, err
		}
		tl.l.log.Warn("the answer to a create was lost: reading Intercom back", "ticket", t.ID, "error", err)
		if tl.convID, msgID, found, err = find(ctx, o); err != nil {
			return 0, err
		}
	}
	// A conversation just made has no parts; one found may (read it).
	tl.lastPart, tl.lastPartKnown = "", !tl.resumed
	set := stage.Settlement{
		IDs:   []stage.IDMapping{{Entity: stage.EntityTickets, SourceID: t.ID, IntercomID: tl.convID, RunID: tl.l.opts.RunID}},
		Clear: []stage.RecordKey{{Entity: stage.EntityTickets, SourceID: t.ID}},
	}
	// The first part's intent goes with this commit (see intentAfter):
	// a new conversation has no parts yet; a found one is read first.
	piggyback := func(i int) {
		if tl.lastPartKnown {
			next, key := tl.intentAfter(i, 0, "")
			set.Intents = append(set.Intents, next...)
			tl.pre = key
		}
	}
	if first == nil {
		piggyback(-1)
		if err := tl.l.ws.Settle(ctx, set); err != nil {
			tl.pre = stepKey{}
			return 0, err
		}
		return 0, nil
	}
	if steps(tl.attachments[first.ID]) == 1 {
		set.Outcomes = tl.migratedOutcomes(first, msgID)
		set.Clear = append(set.Clear, stage.RecordKey{Entity: stage.EntityComments, SourceID: first.ID})
		piggyback(0)
		if err := tl.l.settle(ctx, set); err != nil {
			tl.pre = stepKey{}
			return 0, err
		}
		return 1, nil
	}
	// The first comment's message is its step 0; its other attachments
	// follow as parts.
	sent := stage.Intent{Entity: stage.EntityComments, SourceID: first.ID, Step: 0, State: stage.IntentSent, Target: tl.convID, IntercomID: msgID, RunID: tl.l.opts.RunID}
	set.Intents = []stage.Intent{sent}
	piggyback(0)
	if err := tl.l.ws.Settle(ctx, set); err != nil {
		tl.pre = stepKey{}
		return 0, err
	}
	tl.parts = map[string][]stage.Intent{first.ID: {sent}}
	if err := tl.comment(ctx, 0, 1); err != nil {
		return 0, fmt.Errorf("comment %s: %w", first.ID, err)
	}
	return 1, nil
}

// openConversation creates the ticket's conversation as the requester,
// opening with the first comment (and its first attachments) when given,
// else with the subject; it returns the conversation and its first message.
func (tl *ticketLoad) openConversation(requester string, first *schema.Comment) func(context.Context) (string, string, error) {
	t := tl.t
	req := intercom.CreateConversationRequest{
		From:      intercom.ConversationFrom{Type: intercom.RoleUser, ID: requester},
		Body:      openingBody(t),
		CreatedAt: unix(t.CreatedAt),
	}
	if first != nil {
		req.Body = plainBody(first)
		req.CreatedAt = unix(first.CreatedAt)
		req.AttachmentURLs = urls(chunk(tl.attachments[first.ID], 0))
	}
	return func(ctx context.Context) (string, string, error) {
		msg, err := tl.l.ic.CreateConversation(ctx, req)
		if err != nil {
			return "", "", fmt.Errorf("create conversation: %w", err)
		}
		return msg.ConversationID, msg.ID, nil
	}
}

// openTicket creates the Intercom ticket: the subject its title, the first
// comment (else the subject) its description, the custom fields its
// attributes, assigned as the source ticket is. It returns the ticket twice:
// the first comment became the ticket itself.
func (tl *ticketLoad) openTicket(requester string, first *schema.Comment) func(context.Context) (string, string, error) {
	l, t := tl.l, tl.t
	attrs, bad := l.ticketAttrs.values(t.CustomFields)
	for _, b := range bad {
		l.log.Warn("custom field value left out of the ticket", "ticket", t.ID, "reason", b)
	}
	if attrs == nil {
		attrs = map[string]any{}
	}
	attrs[intercom.TicketTitle] = openingBody(t)
	attrs[intercom.TicketDescription] = openingBody(t)
	req := intercom.CreateTicketRequest{TicketTypeID: l.asTickets.typeID, Contacts: []intercom.TicketContact{{ID: requester}},
		TicketAttributes: attrs, CreatedAt: unix(t.CreatedAt), SkipNotifications: true}
	if first != nil {
		attrs[intercom.TicketDescription] = plainBody(first)
		req.CreatedAt = unix(first.CreatedAt)
	}
	var as intercom.TicketAssignment
	if admin, ok := l.agentAdmin[t.AssigneeID]; ok && t.AssigneeID != "" {
		as.AdminAssigneeID = admin
	}
	if team, ok := l.groupTeam[t.GroupID]; ok && t.GroupID != "" {
		as.TeamAssigneeID = team
	}
	if as != (intercom.TicketAssignment{}) {
		req.Assignment = &as
	}
	return func(ctx context.Context) (string, string, error) {
		tk, err := l.ic.CreateTicket(ctx, req)
		if err != nil {
			return "", "", err
		}
		return string(tk.ID), string(tk.ID), nil
	}
}

// findTicket looks in Intercom for the ticket a lost create made: the
// contact's ticket of that created_at that no other source ticket has.
func (tl *ticketLoad) findTicket(ctx context.Context, o opening) (id, opening string, found bool, err error) {
	cursor := ""
	for {
		tks, next, err := tl.l.ic.SearchTickets(ctx, "contact_ids", o.Contact, cursor, 150)
		if err != nil {
			return "", "", false, fmt.Errorf("look for the ticket of a lost create: %w", err)
		}
		for _, tk := range tks {
			if tk.CreatedAt == o.CreatedAt && !tl.taken[string(tk.ID)] {
				tl.l.log.Info("found the ticket a lost create made", "ticket", tl.t.ID, "intercom_ticket", tk.ID)
				return string(tk.ID), string(tk.ID), true, nil
			}
		}
		if next == "" {
			return "", "", false, nil
		}
		cursor = next
	}
}

// reply sends a part to the conversation or ticket and returns its id.
func (tl *ticketLoad) reply(ctx context.Context, req intercom.ReplyRequest) (string, error) {
	if tl.l.asTickets != nil {
		p, err := tl.l.ic.ReplyTicket(ctx, tl.convID, req)
		if err != nil {
			return "", fmt.Errorf("reply: %w", err)
		}
		return p.ID, nil
	}
	id, err := tl.l.ic.ReplyConversation(ctx, tl.convID, req)
	if err != nil {
		return "", fmt.Errorf("reply: %w", err)
	}
	return id, nil
}

// readParts reads the conversation's or ticket's parts (the newest 500).
func (tl *ticketLoad) readParts(ctx context.Context) ([]intercom.ConversationPart, error) {
	if tl.l.asTickets != nil {
		tk, err := tl.l.ic.GetTicket(ctx, tl.convID)
		if err != nil {
			return nil, err
		}
		return tk.TicketParts.TicketParts, nil
	}
	conv, err := tl.l.ic.GetConversation(ctx, tl.convID)
	if err != nil {
		return nil, err
	}
	return conv.ConversationParts.ConversationParts, nil
}

// maxResends bounds how often a create whose answer was lost, and which
// Intercom does not have, is sent again.
const maxResends = 3

// findOpening looks in Intercom for the conversation a lost create made:
// the contact's conversation of that created_at that no other ticket has.
func (tl *ticketLoad) findOpening(ctx context.Context, o opening) (convID, msgID string, found bool, err error) {
	cursor := ""
	for {
		page, err := tl.l.ic.SearchConversations(ctx, "contact_ids", o.Contact, cursor, 150)
		if err != nil {
			return "", "", false, fmt.Errorf("look for the conversation of a lost create: %w", err)
		}
		for _, c := range page.Conversations {
			if c.CreatedAt == o.CreatedAt && c.Source.Author.ID == o.Contact && !tl.taken[c.ID] {
				tl.l.log.Info("found the conversation a lost create made", "ticket", tl.t.ID, "conversation", c.ID)
				return c.ID, c.Source.ID, true, nil
			}
		}
		if page.Next == "" {
			return "", "", false, nil
		}
		cursor = page.Next
	}
}

// partMark is what identifies a part ferry sent, should its answer be
// lost: the part of that author, type and created_at after the part that
// was the conversation's newest when it was sent.
type partMark struct {
	After     string `json:"after,omitempty"`
	Author    string `json:"author"`
	Type      string `json:"type"`
	CreatedAt int64  `json:"created_at"`
}

// steps is how many parts a comment with atts becomes.
func steps(atts []*schema.Attachment) int {
	return max(1, (len(atts)+maxAttachmentsPerPart-1)/maxAttachmentsPerPart)
}

// chunk is the attachments of step n.
func chunk(atts []*schema.Attachment, n int) []*schema.Attachment {
	lo := n * maxAttachmentsPerPart
	if lo >= len(atts) {
		return nil
	}
	return atts[lo:min(len(atts), lo+maxAttachmentsPerPart)]
}

// comment sends the i-th comment's parts from step from on: an admin reply or
// note for an agent's public or private comment, a user reply for an end
// user's; attachments beyond one part's share continue in follow-up parts
// of the same author. Steps an earlier run sent are skipped, and one whose
// answer was lost is looked for before it is sent again.
func (tl *ticketLoad) comment(ctx context.Context, i, from int) error {
	c := tl.comments[i]
	atts := tl.attachments[c.ID]
	n := steps(atts)
	sent := map[int]stage.Intent{}
	for _, in := range tl.parts[c.ID] {
		sent[in.Step] = in
	}
	mainPart := sent[0].IntercomID
	for k := from; k < n; k++ {
		req, err := tl.stepRequest(c, k)
		if err != nil {
			return err
		}
		in, ok := sent[k]
		var partID string
		switch {
		case ok && in.State == stage.IntentSent:
			tl.lastPart, tl.lastPartKnown = in.IntercomID, true
			partID = in.IntercomID
		default:
			if partID, err = tl.sendPart(ctx, i, k, req, in, ok); err != nil {
				return err
			}
		}
		if k == 0 {
			mainPart = partID
		}
		if k < n-1 {
			continue
		}
		set := stage.Settlement{Outcomes: tl.migratedOutcomes(c, mainPart), Clear: []stage.RecordKey{{Entity: stage.EntityComments, SourceID: c.ID}}}
		next, key := tl.intentAfter(i, k, partID)
		set.Intents = next
		if err := tl.l.settle(ctx, set); err != nil {
			return err
		}
		tl.pre = key
		return nil
	}
	return nil
}

// stepRequest is the reply that step k of comment c sends: the comment,
// or the attachments that continue it.
func (tl *ticketLoad) stepRequest(c *schema.Comment, k int) (intercom.ReplyRequest, error) {
	body := htmlBody(c)
	if k > 0 {
		body = "<p>(attachments, continued)</p>"
	}
	req, err := tl.replyRequest(c, body)
	if err != nil {
		return req, err
	}
	req.AttachmentURLs = urls(chunk(tl.attachments[c.ID], k))
	return req, nil
}

// markOf is what identifies the part req makes, sent after part after.
func markOf(req intercom.ReplyRequest, after string) partMark {
	m := partMark{After: after, Author: req.AdminID, Type: req.MessageType, CreatedAt: req.CreatedAt}
	if req.Type == intercom.RoleUser {
		m.Author = req.IntercomUserID
	}
	return m
}

// intentAfter is the intent of the step that follows step k of the i-th
// comment (i -1: the conversation's opening), whose part is id, for the
// settle of that step to write in the same commit: a part then costs one
// commit of the workspace, not two. It is nil when nothing follows, or
// when an earlier run recorded the next step's intent (that one is read
// back when its turn comes).
func (tl *ticketLoad) intentAfter(i, k int, id string) ([]stage.Intent, stepKey) {
	j, nk := -1, 0
	if i >= 0 && k+1 < steps(tl.attachments[tl.comments[i].ID]) {
		j, nk = i, k+1
	} else {
		for x := i + 1; x < len(tl.comments); x++ {
			if tl.done[tl.comments[x].ID] != stage.Migrated {
				j = x
				break
			}
		}
	}
	if j < 0 {
		return nil, stepKey{}
	}
	c := tl.comments[j]
	for _, in := range tl.parts[c.ID] {
		if in.Step == nk {
			return nil, stepKey{}
		}
	}
	req, err := tl.stepRequest(c, nk)
	if err != nil {
		return nil, stepKey{}
	}
	detail, _ := json.Marshal(markOf(req, id))
	return []stage.Intent{{Entity: stage.EntityComments, SourceID: c.ID, Step: nk, Target: tl.convID, Detail: string(detail), RunID: tl.l.opts.RunID}},
		stepKey{c.ID, nk}
}

// sendPart sends step k of the i-th comment, unless it finds that an earlier try
// (intent, when known) made it, and returns the part's id. A step that is
// not the comment's last is recorded as sent.
func (tl *ticketLoad) sendPart(ctx context.Context, i, k int, req intercom.ReplyRequest, in stage.Intent, known bool) (string, error) {
	c := tl.comments[i]
	l := tl.l
	var mark partMark
	if known {
		if err := json.Unmarshal([]byte(in.Detail), &mark); err != nil {
			return "", fmt.Errorf("read the intent of part %d: %w", k, err)
		}
		id, found, err := tl.findPart(ctx, mark)
		if err != nil {
			return "", err
		}
		if found {
			return id, tl.sentStep(ctx, i, k, id)
		}
	} else {
		if err := tl.knowLastPart(ctx); err != nil {
			return "", err
		}
		mark = markOf(req, tl.lastPart)
		if tl.pre != (stepKey{c.ID, k}) {
			detail, _ := json.Marshal(mark)
			if err := l.ws.Intend(ctx, stage.Intent{Entity: stage.EntityComments, SourceID: c.ID, Step: k, Target: tl.convID, Detail: string(detail), RunID: l.opts.RunID}); err != nil {
				return "", err
			}
		}
		tl.pre = stepKey{}
	}
	for try := 0; ; try++ {
		id, err := tl.reply(ctx, req)
		if err == nil {
			return id, tl.sentStep(ctx, i, k, id)
		}
		if !errors.Is(err, intercom.ErrOutcomeUnknown) || try >= maxResends {
			return "", err
		}
		l.log.Warn("the answer to a reply was lost: reading Intercom back", "comment", c.ID, "error", err)
		id, found, ferr := tl.findPart(ctx, mark)
		if ferr != nil {
			return "", ferr
		}
		if found {
			return id, tl.sentStep(ctx, i, k, id)
		}
	}
}

// sentStep notes that step k of the i-th comment made part id: recorded for a
// step that is not the comment's last (the last one settles the comment).
func (tl *ticketLoad) sentStep(ctx context.Context, i, k int, id string) error {
	c := tl.comments[i]
	tl.lastPart, tl.lastPartKnown = id, true
	if k == steps(tl.attachments[c.ID])-1 {
		return nil
	}
	next, key := tl.intentAfter(i, k, id)
	err := tl.l.ws.Settle(ctx, stage.Settlement{Intents: append([]stage.Intent{{
		Entity: stage.EntityComments, SourceID: c.ID, Step: k, State: stage.IntentSent, Target: tl.convID, IntercomID: id, RunID: tl.l.opts.RunID,
	}}, next...)})
	if err == nil {
		tl.pre = key
	}
	return err
}

// knowLastPart reads the newest part of a conversation an earlier run
// made, once, so that the parts sent now can be told from it.
func (tl *ticketLoad) knowLastPart(ctx context.Context) error {
	if tl.lastPartKnown {
		return nil
	}
	parts, err := tl.readParts(ctx)
	if err != nil {
		return fmt.Errorf("read the conversation to resume it: %w", err)
	}
	tl.lastPart, tl.lastPartKnown = newestPart(parts), true
	return nil
}

// findPart looks in the conversation for the part a lost reply made.
func (tl *ticketLoad) findPart(ctx context.Context, m partMark) (string, bool, error) {
	parts, err := tl.readParts(ctx)
	if err != nil {
		return "", false, fmt.Errorf("look for the part of a lost reply: %w", err)
	}
	from := 0
	if m.After != "" {
		from = len(parts) // not in the window: nothing after it is ours
		for i, p := range parts {
			if p.ID == m.After {
				from = i + 1
				break
			}
		}
	}
	for _, p := range parts[from:] {
		if p.CreatedAt == m.CreatedAt && p.Author.ID == m.Author && messageType(p) == m.Type {
			tl.l.log.Info("found the part a lost reply made", "ticket", tl.t.ID, "part", p.ID)
			return p.ID, true, nil
		}
	}
	return "", false, nil
}

// messageType is the message type of the reply that made part p: a
// customer's reply into a closed or snoozed conversation reopens it, and
// Intercom records it as an "open" part that carries the message.
func messageType(p intercom.ConversationPart) string {
	if p.PartType == intercom.ManageOpen && p.Author.Type == intercom.RoleUser && p.Body != "" {
		return intercom.MessageComment
	}
	return p.PartType
}

// newestPart is the id of the newest of parts ("" for none).
func newestPart(parts []intercom.ConversationPart) string {
	if len(parts) == 0 {
		return ""
	}
	return parts[len(parts)-1].ID
}

// replyRequest is the part of c's author, with body.
func (tl *ticketLoad) replyRequest(c *schema.Comment, body string) (intercom.ReplyRequest, error) {
	l := tl.l
	req := intercom.ReplyRequest{Body: body, CreatedAt: unix(c.CreatedAt), SkipNotifications: true}
	if admin, ok := l.agentAdmin[c.AuthorID]; ok {
		req.Type, req.AdminID, req.MessageType = "admin", admin, intercom.MessageComment
		if !c.Public {
			req.MessageType = intercom.MessageNote
		}
		return req, nil
	}
	contact, ok := tl.l.contactOf(c.AuthorID)
	if ok && c.Public {
		req.Type, req.IntercomUserID, req.MessageType = intercom.RoleUser, contact, intercom.MessageComment
		return req, nil
	}
	// An end user's private comment, or an author ferry cannot map: keep
	// the text as a note of the default admin that says who wrote it, so
	// nothing private becomes visible and nothing is lost.
	who := "unknown user " + c.AuthorID
	if u, ok := l.users[c.AuthorID]; ok {
		who = strings.TrimSpace(u.Name + " <" + u.Email + ">")
	}
	req.Type, req.AdminID, req.MessageType = "admin", l.defaultAdmin, intercom.MessageNote
	req.Body = fmt.Sprintf("<p><em>Comment by %s:</em></p>%s", html.EscapeString(who), body)
	return req, nil
}

// migratedOutcomes are comment c's and its attachments' outcomes once it is
// in part partID.
func (tl *ticketLoad) migratedOutcomes(c *schema.Comment, partID string) []stage.Outcome {
	os := []stage.Outcome{{Entity: stage.EntityComments, SourceID: c.ID, Outcome: stage.Migrated, IntercomID: partID}}
	for _, a := range tl.attachments[c.ID] {
		os = append(os, stage.Outcome{Entity: stage.EntityAttachments, SourceID: a.ID, Outcome: stage.Migrated, IntercomID: partID})
	}
	return os
}

// finish sets what Intercom only takes after the parts: tags, title,
// assignment and state (these carry the time of the load, not the source's).
// A conversation an earlier run made is read first, so that what that run
// did already is not done twice.
func (tl *ticketLoad) finish(ctx context.Context) error {
	if tl.l.asTickets != nil {
		return tl.finishTicket(ctx)
	}
	l, t := tl.l, tl.t
	var now *intercom.Conversation
	if tl.resumed {
		var err error
		if now, err = l.ic.GetConversation(ctx, tl.convID); err != nil {
			return fmt.Errorf("read the conversation to resume it: %w", err)
		}
	}
	if err := tl.participants(ctx, now); err != nil {
		return err
	}
	err := tl.tagAll(ctx, func(id string) error {
		_, err := l.ic.TagConversation(ctx, tl.convID, id, l.defaultAdmin)
		return err
	})
	if err != nil {
		return err
	}
	// The title and the custom attributes go in one call.
	attrs, bad := l.ticketAttrs.values(t.CustomFields)
	for _, b := range bad {
		l.log.Warn("custom field value left out of the conversation", "ticket", t.ID, "reason", b)
	}
	if (t.Subject != "" && (now == nil || now.Title != t.Subject)) || len(attrs) > 0 {
		if err := l.ic.UpdateConversation(ctx, tl.convID, intercom.UpdateConversationRequest{Title: t.Subject, CustomAttributes: attrs}); err != nil {
			return fmt.Errorf("set title and attributes: %w", err)
		}
	}
	actor := l.defaultAdmin
	if admin, ok := l.agentAdmin[t.AssigneeID]; ok && t.AssigneeID != "" {
		actor = admin
		err := tl.manage(ctx, intercom.ManageRequest{MessageType: intercom.ManageAssign, Type: "admin", AdminID: l.defaultAdmin, AssigneeID: admin},
			now, func(c *intercom.Conversation) bool { return c.AdminAssigneeID == admin })
		if err != nil {
			return fmt.Errorf("assign to admin %s: %w", admin, err)
		}
	}
	if team, ok := l.groupTeam[t.GroupID]; ok && t.GroupID != "" {
		err := tl.manage(ctx, intercom.ManageRequest{MessageType: intercom.ManageAssign, Type: "team", AdminID: l.defaultAdmin, AssigneeID: team},
			now, func(c *intercom.Conversation) bool { return c.TeamAssigneeID == team })
		if err != nil {
			return fmt.Errorf("assign to team %s: %w", team, err)
		}
	}
	switch status := strings.ToLower(t.Status); {
	case closedStatuses[status]:
		err := tl.manage(ctx, intercom.ManageRequest{MessageType: intercom.ManageClose, Type: "admin", AdminID: actor},
			now, func(c *intercom.Conversation) bool { return c.State == "closed" })
		if err != nil {
			return fmt.Errorf("close: %w", err)
		}
	case snoozedStatuses[status]:
		until := time.Now().Add(cmp.Or(l.opts.SnoozeFor, DefaultSnooze)).Unix()
		err := tl.manage(ctx, intercom.ManageRequest{MessageType: intercom.ManageSnooze, AdminID: actor, SnoozedUntil: until},
			now, func(c *intercom.Conversation) bool { return c.State == "snoozed" })
		if err != nil {
			return fmt.Errorf("snooze: %w", err)
		}
	default:
		// A new conversation is open; one migrated closed or snoozed
		// before (a delta: the source reopened the ticket) is opened.
		if now != nil && now.State != "open" {
			err := tl.manage(ctx, intercom.ManageRequest{MessageType: intercom.ManageOpen, AdminID: actor},
				now, func(c *intercom.Conversation) bool { return c.State == "open" })
			if err != nil {
				return fmt.Errorf("reopen: %w", err)
			}
		}
	}
	return nil
}

// finishTicket sets what an Intercom ticket takes after its parts: tags and
// state (title, attributes and assignment went with the create). A ticket
// an earlier run made is read first. CCs cannot be kept: a ticket has one
// contact.
func (tl *ticketLoad) finishTicket(ctx context.Context) error {
	l, t := tl.l, tl.t
	var now *intercom.Ticket
	if tl.resumed {
		var err error
		if now, err = l.ic.GetTicket(ctx, tl.convID); err != nil {
			return fmt.Errorf("read the ticket to resume it: %w", err)
		}
	}
	requester, _ := tl.l.contactOf(t.RequesterID)
	for _, cc := range t.CCIDs {
		if contact, ok := tl.l.contactOf(cc); ok && contact != requester {
			l.mu.Lock()
			l.ccsLeftOut++
			l.mu.Unlock()
		}
	}
	err := tl.tagAll(ctx, func(id string) error { return l.ic.TagTicket(ctx, tl.convID, id, l.defaultAdmin) })
	if err != nil {
		return err
	}
	actor := l.defaultAdmin
	if admin, ok := l.agentAdmin[t.AssigneeID]; ok && t.AssigneeID != "" {
		actor = admin
	}
	switch status := strings.ToLower(t.Status); {
	case closedStatuses[status] && (now == nil || now.Open):
		closed := false
		if _, err := l.ic.UpdateTicket(ctx, tl.convID, intercom.UpdateTicketRequest{Open: &closed, AdminID: adminNumber(actor)}); err != nil {
			return fmt.Errorf("close: %w", err)
		}
	case snoozedStatuses[status] && (now == nil || now.SnoozedUntil == 0):
		until := time.Now().Add(cmp.Or(l.opts.SnoozeFor, DefaultSnooze)).Unix()
		if _, err := l.ic.UpdateTicket(ctx, tl.convID, intercom.UpdateTicketRequest{SnoozedUntil: until, AdminID: adminNumber(actor)}); err != nil {
			return fmt.Errorf("snooze: %w", err)
		}
	case !closedStatuses[status] && !snoozedStatuses[status] && now != nil && (!now.Open || now.SnoozedUntil != 0):
		// Migrated closed or snoozed before; the source reopened it.
		open := true
		if _, err := l.ic.UpdateTicket(ctx, tl.convID, intercom.UpdateTicketRequest{Open: &open, AdminID: adminNumber(actor)}); err != nil {
			return fmt.Errorf("reopen: %w", err)
		}
	}
	return nil
}

// tagAll applies the ticket's tags, and the tag of every migrated ticket,
// through apply (given each tag's id).
func (tl *ticketLoad) tagAll(ctx context.Context, apply func(tagID string) error) error {
	tags := append([]string{}, tl.t.Tags...)
	if tl.l.opts.TagMigrated != "" {
		tags = append(tags, tl.l.opts.TagMigrated)
	}
	for _, name := range tags {
		id, err := tl.l.tag(ctx, name)
		if err != nil {
			return err
		}
		if err := apply(id); err != nil {
			return fmt.Errorf("tag %q: %w", name, err)
		}
	}
	return nil
}

// participants adds the ticket's CC'd people who are contacts to the
// conversation (agents are admins, not participants), but for those taking
// part already.
func (tl *ticketLoad) participants(ctx context.Context, now *intercom.Conversation) error {
	l := tl.l
	in := map[string]bool{}
	if now != nil {
		for _, c := range now.Contacts.Contacts {
			in[c.ID] = true
		}
	}
	requester, _ := tl.l.contactOf(tl.t.RequesterID)
	in[requester] = true
	for _, cc := range tl.t.CCIDs {
		contact, ok := tl.l.contactOf(cc)
		if !ok {
			if _, agent := l.agentAdmin[cc]; !agent {
				l.log.Info("a CC'd person is not a contact and is left out", "ticket", tl.t.ID, "user", cc)
			}
			continue
		}
		if in[contact] {
			continue
		}
		in[contact] = true
		if _, err := l.ic.AddParticipant(ctx, tl.convID, l.defaultAdmin, contact); err != nil {
			return fmt.Errorf("add CC'd user %s: %w", cc, err)
		}
	}
	return nil
}

// manage sends a state or assignment change unless done says the
// conversation has it already (now, when read; or read back after a lost
// answer).
func (tl *ticketLoad) manage(ctx context.Context, req intercom.ManageRequest, now *intercom.Conversation, done func(*intercom.Conversation) bool) error {
	if now != nil && done(now) {
		return nil
	}
	for try := 0; ; try++ {
		err := tl.l.ic.ManageConversation(ctx, tl.convID, req)
		if err == nil {
			return nil
		}
		if !errors.Is(err, intercom.ErrOutcomeUnknown) || try >= maxResends {
			return err
		}
		conv, gerr := tl.l.ic.GetConversation(ctx, tl.convID)
		if gerr != nil {
			return fmt.Errorf("read the conversation back after a lost answer: %w", gerr)
		}
		if done(conv) {
			return nil
		}
	}
}

// tagID is one tag's id, made once however many workers ask at once.
type tagID struct {
	once sync.Once
	id   string
	err  error
}

// tag returns the id of the tag name, creating it once per load.
func (l *Loader) tag(ctx context.Context, name string) (string, error) {
	key := strings.ToLower(name)
	l.mu.Lock()
	t, ok := l.tags[key]
	if !ok {
		t = &tagID{}
		l.tags[key] = t
	}
	l.mu.Unlock()
	t.once.Do(func() {
		tag, err := l.ic.CreateTag(ctx, name)
		if err != nil {
			t.err = fmt.Errorf("create tag %q: %w", name, err)
			return
		}
		t.id = tag.ID
	})
	if t.err != nil {
		// Let a later ticket try again.
		l.mu.Lock()
		if l.tags[key] == t {
			delete(l.tags, key)
		}
		l.mu.Unlock()
	}
	return t.id, t.err
}

// fail records the ticket as failed, and its comments from the i-th on:
// the comments before it are parts already, and the ones after wait so that
// a rerun keeps their order.
func (tl *ticketLoad) fail(ctx context.Context, i int, cause error) error {
	t := tl.t
	if fatal(ctx, cause) {
		return cause
	}
	os := []stage.Outcome{{Entity: stage.EntityTickets, SourceID: t.ID, Outcome: stage.Failed, IntercomID: tl.convID}}
	for j := i; j < len(tl.comments); j++ {
		c := tl.comments[j]
		if tl.done[c.ID] == stage.Migrated {
			continue
		}
		o := stage.Outcome{Entity: stage.EntityComments, SourceID: c.ID, Outcome: stage.Failed}
		if j > i {
			o.Reason = fmt.Sprintf("not loaded: an earlier comment of ticket %s failed", t.ID)
		}
		os = append(os, o)
		for _, a := range tl.attachments[c.ID] {
			os = append(os, stage.Outcome{Entity: stage.EntityAttachments, SourceID: a.ID, Outcome: stage.Failed, Reason: fmt.Sprintf("its comment %s failed", c.ID)})
		}
	}
	return tl.l.recordAll(ctx, cause, os...)
}

func urls(atts []*schema.Attachment) []string {
	var out []string
	for _, a := range atts {
		if a.URL != "" {
			out = append(out, a.URL)
		}
	}
	return out
}

// openingBody opens a conversation whose first comment is not the
// requester's: Intercom conversations start with a message from a contact.
func openingBody(t *schema.Ticket) string {
	if t.Subject != "" {
		return t.Subject
	}
	return "Ticket " + t.ID
}

// plainBody is a comment as text, for the conversation's first message,
// where Intercom does not render HTML.
func plainBody(c *schema.Comment) string {
	if c.BodyText != "" {
		return c.BodyText
	}
	return c.BodyHTML
}

// htmlBody is a comment as HTML, for parts, which Intercom renders.
func htmlBody(c *schema.Comment) string {
	if c.BodyHTML != "" {
		return c.BodyHTML
	}
	if c.BodyText == "" {
		return "<p></p>"
	}
	paras := strings.Split(c.BodyText, "\n\n")
	for i, p := range paras {
		paras[i] = "<p>" + strings.ReplaceAll(html.EscapeString(p), "\n", "<br>") + "</p>"
	}
	return strings.Join(paras, "")
}

// unix is a source time as Intercom takes it: Unix seconds, 0 for none (the
// field is left out, and Intercom takes the time of the call). Intercom
// reads 0 as none and refuses a time before 1970, so a source time at or
// before the epoch (a help desk's way of saying it does not know when) goes
// as 1, 1970-01-01T00:00:01Z: the earliest Intercom keeps, still first in
// its conversation, and the same on every run, which finding a part whose
// answer was lost relies on.
func unix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return max(t.Unix(), 1)
}
