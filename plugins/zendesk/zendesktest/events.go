package zendesktest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ticketEvent is one entry of the incremental ticket events export: an
// audit of a ticket.
type ticketEvent struct {
	ticket *Ticket
	audit  Audit
}

func (e ticketEvent) position() position { return position{e.audit.CreatedAt.Unix(), e.audit.ID} }

// indexEvents rebuilds the audits' lookups; the caller holds mu for
// writing.
func (s *Server) indexEvents() {
	s.events = s.events[:0]
	s.auditsOf = make(map[int64][]Audit, len(s.hd.Tickets))
	s.commentOf = map[int64]*Comment{}
	tickets := make([]*Ticket, 0, len(s.hd.Tickets)+len(s.hd.Unlisted))
	for i := range s.hd.Tickets {
		tickets = append(tickets, &s.hd.Tickets[i])
	}
	for i := range s.hd.Unlisted {
		tickets = append(tickets, &s.hd.Unlisted[i])
	}
	for _, t := range tickets {
		for j := range t.Comments {
			s.commentOf[t.Comments[j].ID] = &t.Comments[j]
		}
		audits := auditsOf(t)
		s.auditsOf[t.ID] = audits
		for _, a := range audits {
			s.events = append(s.events, ticketEvent{ticket: t, audit: a})
		}
	}
	slices.SortFunc(s.events, func(a, b ticketEvent) int { return compare(a.position(), b.position()) })
}

// viaName is how the ticket events export names a channel.
func viaName(channel string) string {
	switch channel {
	case "web":
		return "Web form"
	case "email":
		return "Mail"
	case "api":
		return "Web service"
	case "rule":
		return "Rule"
	case "sample_ticket":
		return "Sample ticket"
	}
	return channel
}

// The ticket events export's shapes.

type apiTicketEvent struct {
	ID          int64          `json:"id"`
	TicketID    int64          `json:"ticket_id"`
	Timestamp   int64          `json:"timestamp"`
	CreatedAt   time.Time      `json:"created_at"`
	UpdaterID   int64          `json:"updater_id"`
	Via         string         `json:"via"`
	System      map[string]any `json:"system"`
	Metadata    map[string]any `json:"metadata"`
	EventType   string         `json:"event_type"`
	ChildEvents []any          `json:"child_events"`
}

// apiCommentEvent is a comment as the comment_events sideload and the
// audits list it.
type apiCommentEvent struct {
	ID             int64           `json:"id"`
	Via            *Via            `json:"via,omitempty"`
	ViaReferenceID *int64          `json:"via_reference_id,omitempty"`
	Type           string          `json:"type"`
	AuthorID       int64           `json:"author_id"`
	Body           string          `json:"body"`
	HTMLBody       string          `json:"html_body"`
	PlainBody      string          `json:"plain_body"`
	Public         bool            `json:"public"`
	Attachments    []apiAttachment `json:"attachments"`
	AuditID        int64           `json:"audit_id"`
	CreatedAt      *time.Time      `json:"created_at,omitempty"`
	EventType      string          `json:"event_type,omitempty"`
}

func (s *Server) commentEvent(base string, c *Comment, audit Audit, export bool) apiCommentEvent {
	ev := apiCommentEvent{
		ID: c.ID, Type: cmpOrString(c.Type, EventComment), AuthorID: c.AuthorID, Body: c.Body, HTMLBody: c.HTMLBody,
		PlainBody: c.PlainBody, Public: c.Public, Attachments: make([]apiAttachment, len(c.Attachments)), AuditID: audit.ID,
	}
	for i := range c.Attachments {
		ev.Attachments[i] = toAPIAttachment(base, &c.Attachments[i])
	}
	if export {
		via, at := c.Via, c.CreatedAt
		ev.Via, ev.CreatedAt, ev.EventType = &via, &at, EventComment
	}
	return ev
}

func cmpOrString(v, fallback string) string {
	if v == "" {
		return fallback
	}
	return v
}

// childEvent writes an audit event as the ticket events export does: a
// Create or Change names its field as a key that holds the new value (and
// a tags change lists the tags added and removed); a comment is in full
// with the comment_events sideload, and only flagged without it.
func (s *Server) childEvent(base string, ev AuditEvent, audit Audit, withComments bool) (any, bool) {
	via := viaName(audit.Via.Channel)
	switch ev.Type {
	case EventComment:
		c := s.commentOf[ev.ID]
		if c == nil {
			return nil, false
		}
		if withComments {
			return s.commentEvent(base, c, audit, true), true
		}
		return map[string]any{"id": ev.ID, "via": via, "via_reference_id": nil, "comment_present": true, "comment_public": c.Public, "event_type": EventComment}, true
	case EventCreate, EventChange:
		out := map[string]any{"id": ev.ID, "via": via, "via_reference_id": nil, "event_type": ev.Type, ev.FieldName: ev.Value}
		if ev.Type == EventChange {
			out["previous_value"] = ev.PreviousValue
		}
		if ev.FieldName == "tags" {
			var before, after []string
			jsonUnmarshalLoose(ev.PreviousValue, &before)
			jsonUnmarshalLoose(ev.Value, &after)
			out["added_tags"] = orEmpty(difference(after, before))
			out["removed_tags"] = orEmpty(difference(before, after))
		}
		return out, true
	default:
		out := map[string]any{"id": ev.ID, "via": via, "via_reference_id": nil, "event_type": ev.Type}
		if ev.CommentID != 0 {
			out["comment_id"] = ev.CommentID
		}
		if ev.Public != nil {
			out["public"] = *ev.Public
		}
		return out, true
	}
}

func difference(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// serveTicketEvents answers the incremental ticket events export: a
// time-based export of every ticket's audits from start_time on, up to
// per_page (1,000) a page, leaving out the last minute. A page never splits
// a second: it runs past per_page to the end of its last second, and past
// its first second too when that is all it would hold, so that end_time,
// the next page's start_time, always moves on. That next page starts at
// end_time inclusive and so lists that second's events again, as Zendesk's
// time-based exports do: readers drop what they have seen.
func (s *Server) serveTicketEvents(w http.ResponseWriter, r *http.Request, base string) {
	q := r.URL.Query()
	if q.Get("start_time") == "" {
		writeError(w, http.StatusBadRequest, "InvalidValue", "start_time is required")
		return
	}
	start, ok := s.parseStartTime(w, q.Get("start_time"))
	if !ok {
		return
	}
	perPage, ok := parsePerPage(w, q.Get("per_page"))
	if !ok {
		return
	}
	withComments := slices.Contains(strings.Split(q.Get("include"), ","), "comment_events")
	horizon := s.opts.Now().Add(-time.Minute).Unix()

	s.mu.RLock()
	defer s.mu.RUnlock()
	i, _ := slices.BinarySearchFunc(s.events, start, func(e ticketEvent, t int64) int {
		if e.audit.CreatedAt.Unix() < t {
			return -1
		}
		return 1
	})
	out := []apiTicketEvent{}
	end := start
	for ; i < len(s.events); i++ {
		e := s.events[i]
		ts := e.audit.CreatedAt.Unix()
		if ts > horizon || len(out) >= perPage && ts != end && end > start {
			break
		}
		out = append(out, s.apiTicketEvent(base, e, withComments))
		end = ts
	}
	eos := i >= len(s.events) || s.events[i].audit.CreatedAt.Unix() > horizon
	next := url.Values{"start_time": {strconv.FormatInt(end, 10)}}
	for _, k := range []string{"include", "per_page"} {
		if v := q.Get(k); v != "" {
			next.Set(k, v)
		}
	}
	writeObject(w, http.StatusOK,
		field{"ticket_events", out},
		field{"next_page", pageURL(base, r, next)},
		field{"count", len(out)},
		field{"end_of_stream", eos},
		field{"end_time", end},
	)
}

func (s *Server) apiTicketEvent(base string, e ticketEvent, withComments bool) apiTicketEvent {
	a := e.audit
	out := apiTicketEvent{
		ID: a.ID, TicketID: e.ticket.ID, Timestamp: a.CreatedAt.Unix(), CreatedAt: a.CreatedAt, UpdaterID: a.AuthorID,
		Via: viaName(a.Via.Channel), System: orEmptyMap(a.Metadata.System), Metadata: orEmptyMap(a.Metadata.Custom),
		EventType: "Audit", ChildEvents: []any{},
	}
	for _, ev := range a.Events {
		if child, ok := s.childEvent(base, ev, a, withComments); ok {
			out.ChildEvents = append(out.ChildEvents, child)
		}
	}
	return out
}

func orEmptyMap(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// apiAudit is an audit as the audits endpoints list it.
type apiAudit struct {
	ID        int64       `json:"id"`
	TicketID  int64       `json:"ticket_id"`
	CreatedAt time.Time   `json:"created_at"`
	AuthorID  int64       `json:"author_id"`
	Metadata  CommentMeta `json:"metadata"`
	Events    []any       `json:"events"`
	Via       Via         `json:"via"`
}

func (s *Server) apiAudit(base string, a Audit) apiAudit {
	out := apiAudit{ID: a.ID, TicketID: a.TicketID, CreatedAt: a.CreatedAt, AuthorID: a.AuthorID, Metadata: a.Metadata, Via: a.Via, Events: []any{}}
	if out.Metadata.System == nil {
		out.Metadata.System = map[string]any{}
	}
	if out.Metadata.Custom == nil {
		out.Metadata.Custom = map[string]any{}
	}
	for _, ev := range a.Events {
		if ev.Type != EventComment {
			out.Events = append(out.Events, ev)
			continue
		}
		if c := s.commentOf[ev.ID]; c != nil {
			out.Events = append(out.Events, s.commentEvent(base, c, a, false))
		}
	}
	return out
}

// serveTicketAudits lists one ticket's audits, oldest first.
func (s *Server) serveTicketAudits(w http.ResponseWriter, r *http.Request, base string) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	s.mu.RLock()
	defer s.mu.RUnlock()
	t := s.ticketByID[id]
	if err != nil || t == nil || t.Status == StatusDeleted {
		writeError(w, http.StatusNotFound, "RecordNotFound", "Not found")
		return
	}
	audits := s.auditsOf[t.ID]
	items := make([]item, len(audits))
	for i, a := range audits {
		items[i] = item{pos: position{a.CreatedAt.Unix(), a.ID}, v: s.apiAudit(base, a)}
	}
	servePage(w, r, base, "audits", items)
}

// serveAudits lists every ticket's audits, oldest first. Like Zendesk's,
// the list pages with cursors only.
func (s *Server) serveAudits(w http.ResponseWriter, r *http.Request, base string) {
	q := r.URL.Query()
	if !q.Has("page[size]") && !q.Has("page[after]") && !q.Has("page[before]") {
		q.Set("page[size]", "100")
		r = r.Clone(r.Context())
		r.URL.RawQuery = q.Encode()
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	items := make([]item, 0, len(s.events))
	for _, e := range s.events {
		if e.ticket.Status == StatusDeleted {
			continue
		}
		items = append(items, item{pos: e.position(), v: s.apiAudit(base, e.audit)})
	}
	servePage(w, r, base, "audits", items)
}

// serveDeletedTickets lists the tickets deleted in the help desk.
func (s *Server) serveDeletedTickets(w http.ResponseWriter, r *http.Request, base string) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var actor map[string]any
	if len(s.hd.Users) > 0 {
		actor = map[string]any{"id": s.hd.Users[0].ID, "name": s.hd.Users[0].Name}
	}
	var items []item
	for _, t := range s.tickets {
		if t.Status != StatusDeleted {
			continue
		}
		previous := StatusOpen
		for _, a := range s.auditsOf[t.ID] {
			for _, ev := range a.Events {
				var st string
				if ev.FieldName == "status" && jsonUnmarshalLoose(ev.Value, &st) && st != StatusDeleted {
					previous = st
				}
			}
		}
		items = append(items, item{pos: position{id: t.ID}, v: map[string]any{
			"id": t.ID, "subject": t.Subject, "description": t.Description, "previous_state": previous,
			"deleted_at": t.UpdatedAt, "actor": actor,
		}})
	}
	slices.SortFunc(items, func(a, b item) int { return compare(a.pos, b.pos) })
	servePage(w, r, base, "deleted_tickets", items)
}

// jsonUnmarshalLoose decodes data into v, reporting whether it could; an
// audit value of another type than expected is simply not that value.
func jsonUnmarshalLoose(data []byte, v any) bool {
	return len(data) > 0 && json.Unmarshal(data, v) == nil
}
