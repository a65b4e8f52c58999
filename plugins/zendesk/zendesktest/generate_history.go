package zendesktest

import (
	"slices"
	"strconv"
	"time"
)

// Ticket histories: the audits that brought each generated ticket from its
// creation to the state it is in. They are generated after everything
// else, so that adding them changed nothing a seed generated before.

// extraTags are the tags an agent adds while working a ticket, rather than
// the ticket arriving with them.
var extraTags = []string{"escalated", "follow_up", "needs_review", "known_issue", "spam"}

// ticketState is what the history has set so far.
type ticketState struct {
	status   string
	priority *string
	assignee *int64
	tags     []string
	followUp any
}

func (g *generator) histories() {
	for i := range g.hd.Tickets {
		g.history(&g.hd.Tickets[i])
	}
}

func (g *generator) history(t *Ticket) {
	final := ticketState{status: t.Status, priority: t.Priority, assignee: t.AssigneeID, tags: t.Tags, followUp: t.customField(g.fields.followUp.ID)}
	agentWorked := len(t.Comments) > 1 || t.Status != StatusNew
	// A ticket nobody has worked arrives as it is; one that agents worked
	// arrives new and unassigned, with the customer's tags, and perhaps at
	// normal priority until triaged.
	cur := ticketState{status: StatusNew, priority: final.priority, tags: final.tags, followUp: final.followUp}
	if agentWorked {
		cur.tags = slices.DeleteFunc(slices.Clone(final.tags), func(tag string) bool { return slices.Contains(extraTags, tag) })
		cur.followUp = nil
		if final.priority != nil && *final.priority != "normal" && g.chance(0.3) {
			cur.priority = ptr("normal")
		}
	}

	first := t.Comments[0]
	creation := Audit{ID: first.AuditID, TicketID: t.ID, CreatedAt: first.CreatedAt, AuthorID: first.AuthorID, Metadata: first.Metadata, Via: first.Via}
	creation.Events = append(creation.Events, CommentEvent(first.ID))
	create := func(field string, v any) {
		creation.Events = append(creation.Events, CreateEvent(g.id(first.CreatedAt), field, v))
	}
	create("subject", t.Subject)
	create("requester_id", IDValue(&t.RequesterID))
	create("status", cur.status)
	if cur.priority != nil {
		create("priority", *cur.priority)
	}
	if t.Type != nil {
		create("type", *t.Type)
	}
	if t.GroupID != nil {
		create("group_id", IDValue(t.GroupID))
	}
	if t.OrganizationID != nil {
		create("organization_id", IDValue(t.OrganizationID))
	}
	if len(cur.tags) > 0 {
		create("tags", cur.tags)
	}
	for _, f := range t.CustomFields {
		if f.ID == g.fields.followUp.ID && cur.followUp == nil || f.Value == nil || f.Value == false {
			continue
		}
		create(strconv.FormatInt(f.ID, 10), fieldValue(f.Value))
	}
	create("ticket_form_id", strconv.FormatInt(t.TicketFormID, 10))
	create("brand_id", strconv.FormatInt(t.BrandID, 10))
	t.Audits = []Audit{creation}

	// catchUp adds to audit a the changes that bring the state to the
	// final one, the status to status.
	catchUp := func(a *Audit, status string) {
		change := func(field string, from, to any) {
			a.Events = append(a.Events, ChangeEvent(g.id(a.CreatedAt), field, from, to))
		}
		if status != cur.status {
			change("status", cur.status, status)
			cur.status = status
		}
		if !equalPtr(cur.assignee, final.assignee) {
			change("assignee_id", IDValue(cur.assignee), IDValue(final.assignee))
			cur.assignee = final.assignee
		}
		if !equalPtr(cur.priority, final.priority) {
			change("priority", derefOrNil(cur.priority), derefOrNil(final.priority))
			cur.priority = final.priority
		}
		if !slices.Equal(cur.tags, final.tags) {
			change("tags", orEmpty(cur.tags), orEmpty(final.tags))
			cur.tags = final.tags
		}
		if cur.followUp != final.followUp {
			change(strconv.FormatInt(g.fields.followUp.ID, 10), fieldValue(cur.followUp), fieldValue(final.followUp))
			cur.followUp = final.followUp
		}
	}

	agentTouched := false
	for j, c := range t.Comments[1:] {
		last := j == len(t.Comments)-2
		a := Audit{ID: c.AuditID, TicketID: t.ID, CreatedAt: c.CreatedAt, AuthorID: c.AuthorID, Metadata: c.Metadata, Via: c.Via}
		a.Events = append(a.Events, CommentEvent(c.ID))
		byAgent := c.AuthorID != t.RequesterID
		status := cur.status
		switch {
		case !byAgent:
			status = StatusOpen
		case c.Public && last && (t.Status == StatusSolved || t.Status == StatusClosed):
			status = StatusSolved
		case c.Public:
			status = StatusPending
		case last && t.Status == StatusHold:
			status = StatusHold
		case status == StatusNew:
			status = StatusOpen // an agent's note opens the ticket
		}
		if byAgent && !agentTouched {
			// The first agent to work the ticket triages it.
			agentTouched = true
			catchUp(&a, status)
		} else if status != cur.status {
			a.Events = append(a.Events, ChangeEvent(g.id(c.CreatedAt), "status", cur.status, status))
			cur.status = status
		}
		t.Audits = append(t.Audits, a)
	}

	// What the conversation left undone: a spam ticket solved by an
	// agent, then any solved ticket closed by Zendesk's automation four
	// days on (at updated_at).
	lastAt := t.Comments[len(t.Comments)-1].CreatedAt
	if t.Status == StatusClosed && cur.status != StatusSolved {
		at := lastAt.Add(t.UpdatedAt.Sub(lastAt) / 2).Truncate(time.Second)
		author := t.SubmitterID
		if t.AssigneeID != nil {
			author = *t.AssigneeID
		}
		a := Audit{ID: g.id(at), TicketID: t.ID, CreatedAt: at, AuthorID: author, Metadata: first.Metadata, Via: webVia()}
		catchUp(&a, StatusSolved)
		t.Audits = append(t.Audits, a)
	}
	if t.Status == StatusClosed {
		rule := Via{Channel: "rule", Source: ViaSource{
			From: map[string]any{"id": g.ticketFormID + 1, "title": "Close ticket 4 days after status is set to solved"},
			To:   map[string]any{}, Rel: ptr("automation"),
		}}
		a := Audit{
			ID: g.id(t.UpdatedAt), TicketID: t.ID, CreatedAt: t.UpdatedAt, AuthorID: SystemAuthorID,
			Metadata: CommentMeta{System: map[string]any{}, Custom: map[string]any{}}, Via: rule,
		}
		catchUp(&a, StatusClosed)
		for i := range a.Events {
			a.Events[i].Via = &rule
		}
		t.Audits = append(t.Audits, a)
	}
	if cur.status != final.status || !equalPtr(cur.assignee, final.assignee) || !equalPtr(cur.priority, final.priority) ||
		!slices.Equal(cur.tags, final.tags) || cur.followUp != final.followUp {
		// Anything still off is set by the assignee when the ticket was
		// last updated.
		author := t.SubmitterID
		if t.AssigneeID != nil {
			author = *t.AssigneeID
		}
		a := Audit{ID: g.id(t.UpdatedAt), TicketID: t.ID, CreatedAt: t.UpdatedAt, AuthorID: author, Metadata: first.Metadata, Via: webVia()}
		catchUp(&a, final.status)
		t.Audits = append(t.Audits, a)
	}
}

// fieldValue writes a custom field's value as audits do: a string (a
// checkbox's "true" or "false"), or null.
func fieldValue(v any) any {
	if b, ok := v.(bool); ok {
		return strconv.FormatBool(b)
	}
	return v
}

func webVia() Via {
	return Via{Channel: "web", Source: ViaSource{From: map[string]any{}, To: map[string]any{}}}
}

// customField returns the ticket's value of custom field id, or nil.
func (t *Ticket) customField(id int64) any {
	for _, f := range t.CustomFields {
		if f.ID == id {
			return f.Value
		}
	}
	return nil
}

func derefOrNil(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func equalPtr[T comparable](a, b *T) bool {
	return a == nil && b == nil || a != nil && b != nil && *a == *b
}
