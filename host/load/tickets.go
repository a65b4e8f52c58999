package load

import (
	"context"
	"fmt"
	"html"
	"strings"
	"time"

	"github.com/ferryhq/ferry/host/intercom"
	"github.com/ferryhq/ferry/host/stage"
	"github.com/ferryhq/ferry/sdk/schema"
)

// maxAttachmentsPerPart is how many attachments ferry puts on one part; the
// rest continue in follow-up parts of the same author. Intercom accepts up
// to 10 URLs, but its clients show no more than five on one part.
const maxAttachmentsPerPart = 5

// closedStatuses are the source statuses that end as a closed conversation.
var closedStatuses = map[string]bool{"solved": true, "closed": true}

func (l *Loader) tickets(ctx context.Context) error {
	convs, err := l.ws.IDMap(ctx, stage.EntityTickets)
	if err != nil {
		return err
	}
	comments, err := l.ws.Outcomes(ctx, stage.EntityComments)
	if err != nil {
		return err
	}
	sel := stage.Select{Stream: schema.Tickets, Table: l.table(schema.Tickets), Where: notMigrated(stage.EntityTickets, l.opts.Tickets), Order: "created_at, id"}
	return l.each(ctx, sel, func(ctx context.Context, r schema.Record) error {
		t := r.(*schema.Ticket)
		tl := &ticketLoad{l: l, t: t, convID: convs[t.ID], done: comments}
		return tl.run(ctx)
	})
}

// ticketLoad loads one ticket: its conversation, then its comments as parts
// in order, then tags, title, assignment and state.
type ticketLoad struct {
	l      *Loader
	t      *schema.Ticket
	convID string
	// done holds the comment outcomes at the start of the load (read only:
	// each ticket's comments are its own).
	done map[string]string

	comments    []*schema.Comment
	attachments map[string][]*schema.Attachment // by comment id
}

func (tl *ticketLoad) run(ctx context.Context) error {
	l, t := tl.l, tl.t
	if err := tl.read(ctx); err != nil {
		return err
	}
	requester, ok := tl.contactOf(t.RequesterID)
	if !ok {
		return tl.fail(ctx, 0, fmt.Errorf("its requester %s was not migrated as a contact (see contacts)", t.RequesterID))
	}
	next := 0 // the first comment not yet a part
	if tl.convID == "" {
		n, err := tl.create(ctx, requester)
		if err != nil {
			return tl.fail(ctx, 0, err)
		}
		next = n
	}
	for i := next; i < len(tl.comments); i++ {
		c := tl.comments[i]
		if tl.done[c.ID] == stage.Migrated {
			continue
		}
		if err := tl.reply(ctx, c); err != nil {
			return tl.fail(ctx, i, fmt.Errorf("comment %s: %w", c.ID, err))
		}
	}
	if err := tl.finish(ctx); err != nil {
		return tl.fail(ctx, len(tl.comments), err)
	}
	return l.record(ctx, stage.EntityTickets, t.ID, stage.Migrated, tl.convID, nil)
}

// read loads the ticket's comments in source order and their attachments.
func (tl *ticketLoad) read(ctx context.Context) error {
	ws, id := tl.l.ws, tl.t.ID
	err := ws.Records(ctx, stage.Select{Stream: schema.Comments, Table: tl.l.table(schema.Comments), Where: "ticket_id = ?", Args: []any{id}, Order: "created_at, id"}, func(r schema.Record) error {
		tl.comments = append(tl.comments, r.(*schema.Comment))
		return nil
	})
	if err != nil {
		return err
	}
	tl.attachments = map[string][]*schema.Attachment{}
	return ws.Records(ctx, stage.Select{Stream: schema.Attachments, Table: tl.l.table(schema.Attachments), Where: "ticket_id = ?", Args: []any{id}, Order: "comment_id, position, id"}, func(r schema.Record) error {
		a := r.(*schema.Attachment)
		tl.attachments[a.CommentID] = append(tl.attachments[a.CommentID], a)
		return nil
	})
}

func (tl *ticketLoad) contactOf(userID string) (string, bool) {
	tl.l.mu.Lock()
	defer tl.l.mu.Unlock()
	id, ok := tl.l.contacts[userID]
	return id, ok
}

// create starts the conversation as the requester and returns how many
// comments it used: the first one when the requester wrote it, else none
// (the conversation then opens with the subject, and every comment follows
// as a part).
func (tl *ticketLoad) create(ctx context.Context, requester string) (int, error) {
	t := tl.t
	req := intercom.CreateConversationRequest{
		From:      intercom.ConversationFrom{Type: intercom.RoleUser, ID: requester},
		Body:      openingBody(t),
		CreatedAt: unix(t.CreatedAt),
	}
	used := 0
	var first *schema.Comment
	var rest []*schema.Attachment
	if len(tl.comments) > 0 && tl.comments[0].AuthorID == t.RequesterID && tl.comments[0].Public {
		first = tl.comments[0]
		req.Body = plainBody(first)
		req.CreatedAt = unix(first.CreatedAt)
		var now []*schema.Attachment
		now, rest = split(tl.attachments[first.ID])
		req.AttachmentURLs = urls(now)
		used = 1
	}
	msg, err := tl.l.ic.CreateConversation(ctx, req)
	if err != nil {
		return 0, fmt.Errorf("create conversation: %w", err)
	}
	tl.convID = msg.ConversationID
	if err := tl.l.ws.MapID(ctx, stage.EntityTickets, t.ID, tl.convID, tl.l.opts.RunID); err != nil {
		return 0, err
	}
	if first == nil {
		return 0, nil
	}
	if len(rest) > 0 {
		if _, err := tl.moreAttachments(ctx, first, rest); err != nil {
			return 0, err
		}
	}
	return used, tl.migrated(ctx, first, msg.ID)
}

// reply adds comment c as the next part: an admin reply or note for an
// agent's public or private comment, a user reply for an end user's.
func (tl *ticketLoad) reply(ctx context.Context, c *schema.Comment) error {
	now, rest := split(tl.attachments[c.ID])
	req, err := tl.replyRequest(c, htmlBody(c))
	if err != nil {
		return err
	}
	req.AttachmentURLs = urls(now)
	partID, err := tl.send(ctx, req)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		if _, err := tl.moreAttachments(ctx, c, rest); err != nil {
			return err
		}
	}
	return tl.migrated(ctx, c, partID)
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
	contact, ok := tl.contactOf(c.AuthorID)
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

// moreAttachments sends attachments beyond the per-part limit in follow-up
// parts of the same author.
func (tl *ticketLoad) moreAttachments(ctx context.Context, c *schema.Comment, atts []*schema.Attachment) (string, error) {
	var last string
	for len(atts) > 0 {
		var now []*schema.Attachment
		now, atts = split(atts)
		req, err := tl.replyRequest(c, "<p>(attachments, continued)</p>")
		if err != nil {
			return "", err
		}
		req.AttachmentURLs = urls(now)
		if last, err = tl.send(ctx, req); err != nil {
			return "", fmt.Errorf("follow-up part with attachments: %w", err)
		}
	}
	return last, nil
}

// send posts a part and returns its id.
func (tl *ticketLoad) send(ctx context.Context, req intercom.ReplyRequest) (string, error) {
	conv, err := tl.l.ic.ReplyConversation(ctx, tl.convID, req)
	if err != nil {
		return "", fmt.Errorf("reply: %w", err)
	}
	parts := conv.ConversationParts.ConversationParts
	if len(parts) == 0 {
		return "", nil
	}
	return parts[len(parts)-1].ID, nil
}

// migrated records comment c and its attachments as migrated into part
// partID.
func (tl *ticketLoad) migrated(ctx context.Context, c *schema.Comment, partID string) error {
	os := []stage.Outcome{{Entity: stage.EntityComments, SourceID: c.ID, Outcome: stage.Migrated, IntercomID: partID}}
	for _, a := range tl.attachments[c.ID] {
		os = append(os, stage.Outcome{Entity: stage.EntityAttachments, SourceID: a.ID, Outcome: stage.Migrated, IntercomID: partID})
	}
	return tl.l.recordAll(ctx, nil, os...)
}

// finish sets what Intercom only takes after the parts: tags, title,
// assignment and state (these carry the time of the load, not the source's).
func (tl *ticketLoad) finish(ctx context.Context) error {
	l, t := tl.l, tl.t
	tags := append([]string{}, t.Tags...)
	if l.opts.TagMigrated != "" {
		tags = append(tags, l.opts.TagMigrated)
	}
	for _, name := range tags {
		id, err := l.tag(ctx, name)
		if err != nil {
			return err
		}
		if _, err := l.ic.TagConversation(ctx, tl.convID, id, l.defaultAdmin); err != nil {
			return fmt.Errorf("tag %q: %w", name, err)
		}
	}
	if t.Subject != "" {
		if _, err := l.ic.UpdateConversation(ctx, tl.convID, intercom.UpdateConversationRequest{Title: t.Subject}); err != nil {
			return fmt.Errorf("set title: %w", err)
		}
	}
	actor := l.defaultAdmin
	if admin, ok := l.agentAdmin[t.AssigneeID]; ok && t.AssigneeID != "" {
		actor = admin
		if _, err := l.ic.ManageConversation(ctx, tl.convID, intercom.ManageRequest{
			MessageType: intercom.ManageAssign, Type: "admin", AdminID: l.defaultAdmin, AssigneeID: admin,
		}); err != nil {
			return fmt.Errorf("assign to admin %s: %w", admin, err)
		}
	}
	if team, ok := l.groupTeam[t.GroupID]; ok && t.GroupID != "" {
		if _, err := l.ic.ManageConversation(ctx, tl.convID, intercom.ManageRequest{
			MessageType: intercom.ManageAssign, Type: "team", AdminID: l.defaultAdmin, AssigneeID: team,
		}); err != nil {
			return fmt.Errorf("assign to team %s: %w", team, err)
		}
	}
	if closedStatuses[t.Status] {
		if _, err := l.ic.ManageConversation(ctx, tl.convID, intercom.ManageRequest{MessageType: intercom.ManageClose, Type: "admin", AdminID: actor}); err != nil {
			return fmt.Errorf("close: %w", err)
		}
	}
	return nil
}

// tag returns the id of the tag name, creating it once per load.
func (l *Loader) tag(ctx context.Context, name string) (string, error) {
	key := strings.ToLower(name)
	l.mu.Lock()
	id, ok := l.tags[key]
	l.mu.Unlock()
	if ok {
		return id, nil
	}
	t, err := l.ic.CreateTag(ctx, name)
	if err != nil {
		return "", fmt.Errorf("create tag %q: %w", name, err)
	}
	l.mu.Lock()
	l.tags[key] = t.ID
	l.mu.Unlock()
	return t.ID, nil
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

func split(atts []*schema.Attachment) (now, rest []*schema.Attachment) {
	if len(atts) <= maxAttachmentsPerPart {
		return atts, nil
	}
	return atts[:maxAttachmentsPerPart], atts[maxAttachmentsPerPart:]
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

func unix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}
