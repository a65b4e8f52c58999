package load

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"maps"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/ferryhq/ferry/host/intercom"
	"github.com/ferryhq/ferry/host/phone"
	"github.com/ferryhq/ferry/host/stage"
	"github.com/ferryhq/ferry/sdk/schema"
)

// Verify reads back from Intercom everything the ledger says was migrated
// and compares it with the staged source, fact by fact, into the
// workspace's audit_checks (replacing the previous audit). What Intercom
// should hold is worked out with the load's own mapping (agents to admins,
// comments to parts, custom fields to attributes), so a mismatch is always
// Intercom differing from what the source says: a part lost or doubled, an
// object changed or deleted there since. Verify writes nothing to Intercom.

// AuditCounts are what a verify found of one entity.
type AuditCounts struct {
	Checked, Verified, Mismatched int
}

// Audit is what a verify found, by entity.
type Audit map[string]*AuditCounts

// Verify checks companies, contacts, tickets and the knowledge base. It
// returns an error only for what stops the whole verify (a bad token, the
// workspace failing); an object Intercom does not have is a mismatch.
//
// With run above 0, it checks only the records that run migrated (what a
// migrate just did), replacing their checks and keeping the others'.
func (l *Loader) Verify(ctx context.Context, run int64) (Audit, error) {
	if _, err := l.preflight(ctx, false); err != nil {
		return nil, err
	}
	var err error
	if l.contacts, err = l.ws.IDMap(ctx, stage.EntityContacts); err != nil {
		return nil, err
	}
	if run <= 0 {
		if err := l.ws.ClearAudit(ctx); err != nil {
			return nil, err
		}
	}
	a := &auditor{l: l, audit: Audit{}, run: run}
	for _, step := range []func(context.Context) error{a.companies, a.contacts, a.tickets, a.knowledgeBase} {
		if err := step(ctx); err != nil {
			return a.audit, err
		}
	}
	return a.audit, a.flush(ctx)
}

// auditor gathers a verify's checks and writes them in batches.
type auditor struct {
	l     *Loader
	run   int64 // only the records this run migrated; 0: all
	mu    sync.Mutex
	buf   []stage.Check
	audit Audit
}

// record adds the checks of one record.
func (a *auditor) record(ctx context.Context, checks []stage.Check) error {
	if len(checks) == 0 {
		return nil
	}
	ok := true
	for _, c := range checks {
		ok = ok && c.OK
	}
	a.mu.Lock()
	e := checks[0].Entity
	n := a.audit[e]
	if n == nil {
		n = &AuditCounts{}
		a.audit[e] = n
	}
	n.Checked++
	if ok {
		n.Verified++
	} else {
		n.Mismatched++
	}
	a.buf = append(a.buf, checks...)
	var batch []stage.Check
	if len(a.buf) >= 2000 {
		batch, a.buf = a.buf, nil
	}
	a.mu.Unlock()
	if a.l.opts.OnOutcome != nil {
		a.l.opts.OnOutcome(e, map[bool]string{true: "verified", false: "mismatched"}[ok])
	}
	if batch != nil {
		return a.l.ws.WriteChecks(ctx, a.l.opts.RunID, batch)
	}
	return nil
}

func (a *auditor) flush(ctx context.Context) error {
	a.mu.Lock()
	batch := a.buf
	a.buf = nil
	a.mu.Unlock()
	return a.l.ws.WriteChecks(ctx, a.l.opts.RunID, batch)
}

// facts builds one record's checks.
type facts struct {
	entity, sourceID, intercomID string
	checks                       []stage.Check
}

// add records a fact: ok when expected equals actual.
func (f *facts) add(fact, expected, actual string) {
	f.addf(fact, expected == actual, expected, actual, "")
}

// addf records a fact with its verdict and, when it does not hold, why.
func (f *facts) addf(fact string, ok bool, expected, actual, reason string) {
	if !ok && reason == "" {
		reason = fmt.Sprintf("the source has %s, Intercom %s", quoteOr(expected), quoteOr(actual))
	}
	if ok {
		reason = ""
	}
	f.checks = append(f.checks, stage.Check{Entity: f.entity, SourceID: f.sourceID, IntercomID: f.intercomID, Fact: fact,
		OK: ok, Expected: short(expected), Actual: short(actual), Reason: reason})
}

// missing records that the object is not in Intercom: the only fact then.
func (f *facts) missing(err error) {
	reason := "not in Intercom"
	if intercom.StatusCode(err) != 404 {
		reason = "could not be read back: " + err.Error()
	} else {
		reason += " (deleted there since?)"
	}
	f.addf(stage.FactFound, false, "exists", "missing", reason)
}

func quoteOr(s string) string {
	if s == "" {
		return "nothing"
	}
	return strconv.Quote(short(s))
}

// short keeps an audit's values readable: long bodies are cut.
func short(s string) string {
	const max = 200
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// gone tells a missing object from a failure that stops the verify.
func (a *auditor) gone(ctx context.Context, err error) bool {
	return !fatal(ctx, err)
}

// migrated selects the records of entity the ledger calls migrated (by
// the auditor's run, when it has one).
func (a *auditor) migrated(entity string) string {
	if a.run > 0 {
		return fmt.Sprintf("id IN (SELECT source_id FROM ledger WHERE entity = '%s' AND outcome = 'migrated' AND run_id = %d)", entity, a.run)
	}
	return "id IN " + migratedIDs(entity)
}

func (a *auditor) companies(ctx context.Context) error {
	l := a.l
	ids, err := l.ws.IDMap(ctx, stage.EntityCompanies)
	if err != nil {
		return err
	}
	sel := stage.Select{Stream: schema.Organizations, Table: l.table(schema.Organizations), Where: a.migrated(stage.EntityCompanies)}
	return l.each(ctx, sel, func(ctx context.Context, r schema.Record) error {
		o := r.(*schema.Organization)
		f := &facts{entity: stage.EntityCompanies, sourceID: o.ID, intercomID: ids[o.ID]}
		c, err := l.ic.GetCompanyByCompanyID(ctx, o.ID)
		switch {
		case err != nil && !a.gone(ctx, err):
			return err
		case err != nil:
			f.missing(err)
		default:
			f.add(stage.FactFound, "exists", "exists")
			f.add(stage.FactName, o.Name, c.Name)
			want, _ := l.orgAttrs.values(o.CustomFields)
			f.attributes(want, c.CustomAttributes)
		}
		return a.record(ctx, f.checks)
	})
}

func (a *auditor) contacts(ctx context.Context) error {
	l := a.l
	companies, err := l.ws.IDMap(ctx, stage.EntityCompanies)
	if err != nil {
		return err
	}
	sel := stage.Select{Stream: schema.Users, Table: l.table(schema.Users), Where: a.migrated(stage.EntityContacts)}
	return l.each(ctx, sel, func(ctx context.Context, r schema.Record) error {
		u := r.(*schema.User)
		id, _ := l.contactOf(u.ID)
		f := &facts{entity: stage.EntityContacts, sourceID: u.ID, intercomID: id}
		c, err := l.ic.GetContact(ctx, id)
		switch {
		case err != nil && !a.gone(ctx, err):
			return err
		case err != nil:
			f.missing(err)
			return a.record(ctx, f.checks)
		}
		f.add(stage.FactFound, "exists", "exists")
		f.addf(stage.FactEmail, strings.EqualFold(u.Email, c.Email), u.Email, c.Email, "")
		f.add(stage.FactName, u.Name, c.Name)
		var tel string
		if u.Phone != "" {
			tel, _ = phone.E164(u.Phone, l.opts.PhoneCountry) // one that cannot be E.164 was left out
		}
		f.add(stage.FactPhone, tel, c.Phone)
		var want []string
		if company, ok := companies[u.OrganizationID]; ok && u.OrganizationID != "" {
			want = []string{company}
		}
		linked, err := l.ic.ListContactCompanies(ctx, id)
		if err != nil && !a.gone(ctx, err) {
			return err
		}
		var got []string
		for _, co := range linked {
			got = append(got, co.ID)
		}
		slices.Sort(got)
		f.add(stage.FactCompanies, strings.Join(want, ", "), strings.Join(got, ", "))
		attrs, _ := l.userAttrs.values(u.CustomFields)
		f.attributes(attrs, c.CustomAttributes)
		return a.record(ctx, f.checks)
	})
}

// attributes compares the custom attributes ferry set with Intercom's:
// Intercom may hold others, which are not the migration's.
func (f *facts) attributes(want, got map[string]any) {
	var bad, exp, act []string
	for _, k := range slices.Sorted(maps.Keys(want)) {
		w, g := attributeText(want[k]), attributeText(got[k])
		if _, ok := got[k]; !ok {
			g = "(none)"
		}
		exp, act = append(exp, k+"="+w), append(act, k+"="+g)
		if w != g {
			bad = append(bad, fmt.Sprintf("%s is %q in the source, %q in Intercom", k, w, g))
		}
	}
	f.addf(stage.FactAttributes, len(bad) == 0, strings.Join(exp, "; "), strings.Join(act, "; "), strings.Join(bad, "; "))
}

// attributeText is an attribute's value as text, numbers alike however
// they were decoded (JSON makes every number a float).
func attributeText(v any) string {
	switch n := v.(type) {
	case float64:
		return strconv.FormatFloat(n, 'f', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(n), 'f', -1, 64)
	case json.Number:
		return n.String()
	}
	return fmt.Sprint(v)
}

// thread is a conversation or ticket as verify compares it: its opening
// message and its message parts (not the state and assignment parts).
type thread struct {
	createdAt                 int64
	opening                   threadPart
	parts                     []threadPart
	tags                      []string
	attrs                     map[string]any
	admin, team, state, title string
	// truncated says Intercom showed only the newest parts; messages is
	// then how many message parts it holds in all (its total_count of
	// parts, less the state and assignment parts among those it showed).
	truncated bool
	messages  int
}

// threadPart is one message of a thread.
type threadPart struct {
	ref        string // the comment it comes from (expected), or the part id
	authorType string
	authorID   string
	kind       string // comment or note
	createdAt  int64
	body       string
	atts       []attachmentFacts
}

type attachmentFacts struct {
	names []string // any of these names is the file's (Intercom names a file from its URL)
	size  int64
	url   string
}

func (a *auditor) tickets(ctx context.Context) error {
	l := a.l
	convs, err := l.ws.IDMap(ctx, stage.EntityTickets)
	if err != nil {
		return err
	}
	done, err := l.ws.Outcomes(ctx, stage.EntityComments)
	if err != nil {
		return err
	}
	sel := stage.Select{Stream: schema.Tickets, Table: l.table(schema.Tickets), Where: a.migrated(stage.EntityTickets), Order: "created_at, id"}
	return l.eachTicket(ctx, sel, func(t *schema.Ticket) *ticketLoad {
		return &ticketLoad{l: l, t: t, convID: convs[t.ID], done: done}
	}, func(ctx context.Context, tl *ticketLoad) error {
		checks, err := a.ticket(ctx, tl)
		if err != nil {
			return err
		}
		return a.record(ctx, checks)
	})
}

// ticket compares one ticket with its conversation (or Intercom ticket).
func (a *auditor) ticket(ctx context.Context, tl *ticketLoad) ([]stage.Check, error) {
	f := &facts{entity: stage.EntityTickets, sourceID: tl.t.ID, intercomID: tl.convID}
	got, err := a.readThread(ctx, tl.convID)
	switch {
	case err != nil && !a.gone(ctx, err):
		return nil, err
	case err != nil:
		f.missing(err)
		return f.checks, nil
	}
	f.add(stage.FactFound, "exists", "exists")
	want := tl.expected()
	comparePartsOf(f, want, got, a.sameBytes(ctx))

	wantTags := slices.Clone(tl.t.Tags)
	if tl.l.opts.TagMigrated != "" {
		wantTags = append(wantTags, tl.l.opts.TagMigrated)
	}
	f.add(stage.FactTags, tagSet(wantTags), tagSet(got.tags))
	if tl.l.asTickets == nil {
		attrs, _ := tl.l.ticketAttrs.values(tl.t.CustomFields)
		f.attributes(attrs, got.attrs)
	}
	// An assignment the source does not have is not the migration's to
	// judge: Intercom's own rules may assign.
	f.addf(stage.FactAssignee, want.admin == "" || want.admin == got.admin, want.admin, got.admin, "")
	f.addf(stage.FactTeam, want.team == "" || want.team == got.team, want.team, got.team, "")
	f.add(stage.FactState, want.state, got.state)
	f.addf(stage.FactTitle, want.title == "" || want.title == got.title, want.title, got.title, "")
	return f.checks, nil
}

func tagSet(tags []string) string {
	set := map[string]bool{}
	for _, t := range tags {
		set[strings.ToLower(strings.TrimSpace(t))] = true
	}
	return strings.Join(slices.Sorted(maps.Keys(set)), ", ")
}

// readThread reads a conversation, or an Intercom ticket when tickets load
// as such.
func (a *auditor) readThread(ctx context.Context, id string) (thread, error) {
	if a.l.asTickets != nil {
		tk, err := a.l.ic.GetTicket(ctx, id)
		if err != nil {
			return thread{}, err
		}
		th := thread{createdAt: tk.CreatedAt, admin: string(tk.AdminAssigneeID), team: string(tk.TeamAssigneeID), state: "open",
			title: fmt.Sprint(tk.TicketAttributes[intercom.TicketTitle])}
		if !tk.Open {
			th.state = "closed"
		} else if tk.SnoozedUntil != 0 {
			th.state = "snoozed"
		}
		th.opening = threadPart{body: fmt.Sprint(tk.TicketAttributes[intercom.TicketDescription]), createdAt: tk.CreatedAt}
		if len(tk.Contacts.Contacts) > 0 {
			th.opening.authorType, th.opening.authorID = intercom.RoleUser, tk.Contacts.Contacts[0].ID
		}
		for _, t := range tk.Tags.Tags {
			th.tags = append(th.tags, t.Name)
		}
		th.parts = messageParts(tk.TicketParts.TicketParts)
		th.truncated = tk.TicketParts.TotalCount > len(tk.TicketParts.TicketParts)
		th.messages = tk.TicketParts.TotalCount - (len(tk.TicketParts.TicketParts) - len(th.parts))
		return th, nil
	}
	c, err := a.l.ic.GetConversation(ctx, id)
	if err != nil {
		return thread{}, err
	}
	th := thread{createdAt: c.CreatedAt, admin: c.AdminAssigneeID, team: c.TeamAssigneeID, state: c.State, title: c.Title, attrs: c.CustomAttributes}
	th.opening = threadPart{authorType: c.Source.Author.Type, authorID: c.Source.Author.ID, kind: intercom.MessageComment,
		createdAt: c.CreatedAt, body: c.Source.Body, atts: attachmentsOf(c.Source.Attachments)}
	for _, t := range c.Tags.Tags {
		th.tags = append(th.tags, t.Name)
	}
	th.parts = messageParts(c.ConversationParts.ConversationParts)
	th.truncated = c.ConversationParts.TotalCount > len(c.ConversationParts.ConversationParts)
	th.messages = c.ConversationParts.TotalCount - (len(c.ConversationParts.ConversationParts) - len(th.parts))
	return th, nil
}

// messageParts are the parts that carry a message: replies and notes, not
// assignments and state changes.
func messageParts(parts []intercom.ConversationPart) []threadPart {
	var out []threadPart
	for _, p := range parts {
		kind := messageType(p)
		if kind != intercom.MessageComment && kind != intercom.MessageNote {
			continue
		}
		out = append(out, threadPart{ref: "part " + p.ID, authorType: p.Author.Type, authorID: p.Author.ID, kind: kind,
			createdAt: p.CreatedAt, body: p.Body, atts: attachmentsOf(p.Attachments)})
	}
	return out
}

func attachmentsOf(atts []intercom.Attachment) []attachmentFacts {
	var out []attachmentFacts
	for _, a := range atts {
		out = append(out, attachmentFacts{names: []string{a.Name}, size: a.Filesize, url: a.URL})
	}
	return out
}

// expected is the thread the load makes of the ticket: the same opening,
// parts, authors and bodies it sends (see open, comment, finish).
func (tl *ticketLoad) expected() thread {
	l, t := tl.l, tl.t
	requester, _ := l.contactOf(t.RequesterID)
	var th thread
	var comments []*schema.Comment
	for _, c := range tl.comments {
		if tl.done[c.ID] == stage.Migrated {
			comments = append(comments, c)
		}
	}
	th.createdAt = unix(t.CreatedAt)
	th.opening = threadPart{authorType: intercom.RoleUser, authorID: requester, kind: intercom.MessageComment, createdAt: th.createdAt, body: openingBody(t)}
	from := 0
	if len(comments) > 0 && comments[0] == tl.comments[0] && tl.opensWith(comments[0]) {
		c := comments[0]
		th.createdAt = unix(c.CreatedAt)
		th.opening.createdAt, th.opening.body, th.opening.ref = th.createdAt, plainBody(c), "comment "+c.ID
		if l.asTickets == nil {
			th.opening.atts = expectedAttachments(chunk(tl.attachments[c.ID], 0))
		}
		for k := 1; k < steps(tl.attachments[c.ID]); k++ {
			th.parts = append(th.parts, tl.expectedPart(c, k))
		}
		from = 1
	}
	for _, c := range comments[from:] {
		for k := range steps(tl.attachments[c.ID]) {
			th.parts = append(th.parts, tl.expectedPart(c, k))
		}
	}
	if admin, ok := l.agentAdmin[t.AssigneeID]; ok && t.AssigneeID != "" {
		th.admin = admin
	}
	if team, ok := l.groupTeam[t.GroupID]; ok && t.GroupID != "" {
		th.team = team
	}
	switch status := strings.ToLower(t.Status); {
	case closedStatuses[status]:
		th.state = "closed"
	case snoozedStatuses[status]:
		th.state = "snoozed"
	default:
		th.state = "open"
	}
	th.title = t.Subject
	if l.asTickets != nil {
		th.title = openingBody(t)
	}
	return th
}

// opensWith says whether the ticket's conversation opens with comment c
// (its first): the requester's public comment does (see open).
func (tl *ticketLoad) opensWith(c *schema.Comment) bool {
	return c.AuthorID == tl.t.RequesterID && c.Public && (tl.l.asTickets == nil || len(tl.attachments[c.ID]) == 0)
}

func (tl *ticketLoad) expectedPart(c *schema.Comment, k int) threadPart {
	req, err := tl.stepRequest(c, k)
	p := threadPart{ref: "comment " + c.ID, createdAt: unix(c.CreatedAt), atts: expectedAttachments(chunk(tl.attachments[c.ID], k))}
	if err != nil {
		return p
	}
	p.authorType, p.authorID, p.kind, p.body = req.Type, req.AdminID, req.MessageType, req.Body
	if req.Type == intercom.RoleUser {
		p.authorID = req.IntercomUserID
	}
	return p
}

func expectedAttachments(atts []*schema.Attachment) []attachmentFacts {
	var out []attachmentFacts
	for _, a := range atts {
		if a.URL == "" {
			continue // not sent: nothing to fetch
		}
		names := []string{a.FileName}
		if u, err := url.Parse(a.URL); err == nil {
			names = append(names, path.Base(u.Path))
		}
		out = append(out, attachmentFacts{names: names, size: a.Size, url: a.URL})
	}
	return out
}

// comparePartsOf compares the messages of two threads: their number, and
// pair by pair their authors, kinds, order, times, bodies and files (their
// bytes with same, when given).
func comparePartsOf(f *facts, want, got thread, same sameFunc) {
	wantAll := append([]threadPart{want.opening}, want.parts...)
	gotAll := append([]threadPart{got.opening}, got.parts...)
	n := strconv.Itoa(len(wantAll))
	switch {
	case len(wantAll) == len(gotAll):
		f.add(stage.FactParts, n, strconv.Itoa(len(gotAll)))
	case got.truncated && got.messages == len(want.parts) && len(got.parts) <= len(want.parts):
		// Intercom shows only the newest parts of a conversation this
		// long, and counts them all: the count is checked, and the
		// newest parts against the comments they must be (the older
		// ones cannot be read back).
		f.add(stage.FactParts, n, strconv.Itoa(got.messages+1))
		wantAll = append([]threadPart{want.opening}, want.parts[len(want.parts)-len(got.parts):]...)
	case got.truncated:
		f.addf(stage.FactParts, false, n, strconv.Itoa(got.messages+1), fmt.Sprintf(
			"Intercom holds %d messages where the source has %d (it shows only the newest %d parts of a conversation this long, so which ones differ cannot be told)",
			got.messages+1, len(wantAll), len(gotAll)-1))
	default:
		f.addf(stage.FactParts, false, n, strconv.Itoa(len(gotAll)), partsReason(wantAll, gotAll))
	}
	pairs := pairParts(wantAll, gotAll)

	var authors, kinds, times, bodies, files []string
	for _, p := range pairs {
		w, g := p[0], p[1]
		if w.authorType != g.authorType || w.authorID != g.authorID {
			authors = append(authors, fmt.Sprintf("%s: by %s %s, Intercom's by %s %s", w.ref, w.authorType, w.authorID, g.authorType, g.authorID))
		}
		if w.kind != g.kind {
			kinds = append(kinds, fmt.Sprintf("%s: a %s, Intercom's a %s", w.ref, w.kind, g.kind))
		}
		if w.createdAt != g.createdAt {
			times = append(times, fmt.Sprintf("%s: at %d, Intercom's at %d", w.ref, w.createdAt, g.createdAt))
		}
		if wt, gt := bodyText(w.body), bodyText(g.body); wt != gt {
			bodies = append(bodies, fmt.Sprintf("%s: %q, Intercom's %q", w.ref, short(wt), short(gt)))
		}
		if why := compareFiles(w.atts, g.atts, same); why != "" {
			files = append(files, w.ref+": "+why)
		}
	}
	if want.createdAt != got.createdAt {
		times = append([]string{fmt.Sprintf("the conversation at %d, Intercom's at %d", want.createdAt, got.createdAt)}, times...)
	}
	f.addf(stage.FactAuthors, len(authors) == 0, "", "", strings.Join(authors, "; "))
	f.addf(stage.FactVisibility, len(kinds) == 0, "", "", strings.Join(kinds, "; "))
	order := ""
	for i := 1; i < len(gotAll); i++ {
		if gotAll[i].createdAt < gotAll[i-1].createdAt {
			order = fmt.Sprintf("%s (at %d) comes after %s (at %d)", gotAll[i].ref, gotAll[i].createdAt, gotAll[i-1].ref, gotAll[i-1].createdAt)
			break
		}
	}
	f.addf(stage.FactOrder, order == "", "", "", order)
	f.addf(stage.FactTimestamps, len(times) == 0, "", "", strings.Join(times, "; "))
	f.addf(stage.FactBodies, len(bodies) == 0, "", "", strings.Join(bodies, "; "))
	f.addf(stage.FactAttachments, len(files) == 0, "", "", strings.Join(files, "; "))
}

// pairParts pairs each expected message with Intercom's: one for one when
// their numbers agree, else by time and author, in order, so that a part
// lost or doubled leaves the others compared.
func pairParts(want, got []threadPart) [][2]threadPart {
	var out [][2]threadPart
	if len(want) == len(got) {
		for i := range want {
			out = append(out, [2]threadPart{want[i], got[i]})
		}
		return out
	}
	j := 0
	for _, w := range want {
		for k := j; k < len(got); k++ {
			if got[k].createdAt == w.createdAt && got[k].authorID == w.authorID {
				out = append(out, [2]threadPart{w, got[k]})
				j = k + 1
				break
			}
		}
	}
	return out
}

// partsReason says which messages are missing or extra.
func partsReason(want, got []threadPart) string {
	used := make([]bool, len(got))
	var missing []string
	for _, w := range want {
		found := false
		for k, g := range got {
			if !used[k] && g.createdAt == w.createdAt && g.authorID == w.authorID {
				used[k], found = true, true
				break
			}
		}
		if !found {
			missing = append(missing, w.ref)
		}
	}
	var extra []string
	for k, g := range got {
		if !used[k] {
			extra = append(extra, g.ref)
		}
	}
	var why []string
	if len(missing) > 0 {
		why = append(why, fmt.Sprintf("%d missing in Intercom: %s", len(missing), strings.Join(missing, ", ")))
	}
	if len(extra) > 0 {
		why = append(why, fmt.Sprintf("%d in Intercom that the source does not have (doubled?): %s", len(extra), strings.Join(extra, ", ")))
	}
	return fmt.Sprintf("the comments make %d messages, Intercom has %d: %s", len(want), len(got), strings.Join(why, "; "))
}

// compareFiles compares a message's files: their number, names and sizes
// (where Intercom gives one), and with same their bytes.
func compareFiles(want, got []attachmentFacts, same sameFunc) string {
	if len(want) != len(got) {
		return fmt.Sprintf("%d files, Intercom's %d", len(want), len(got))
	}
	for i := range want {
		name := got[i].names[0]
		if !slices.Contains(want[i].names, name) {
			return fmt.Sprintf("file %d is %q, Intercom's %q", i+1, want[i].names[0], name)
		}
		if got[i].size > 0 && want[i].size > 0 && got[i].size != want[i].size {
			return fmt.Sprintf("file %q has %d bytes, Intercom's %d", name, want[i].size, got[i].size)
		}
		if same != nil && want[i].url != got[i].url {
			if ok, why := same(want[i].url, got[i].url); !ok {
				return fmt.Sprintf("file %q: %s", name, why)
			}
		}
	}
	return ""
}

// scriptOrStyle matches an HTML script or style element, content and all.
var scriptOrStyle = regexp.MustCompile(`(?is)<script\b[^>]*>.*?</script\s*>|<style\b[^>]*>.*?</style\s*>`)

// bodyText is a body as a reader sees it: Intercom renders and cleans the
// HTML it is given, so bodies compare as their text.
func bodyText(s string) string {
	// Scripts and styles are no text a reader sees, and Intercom cleans
	// them out.
	s = scriptOrStyle.ReplaceAllString(s, "")
	s = strings.NewReplacer("<br>", " ", "<br/>", " ", "<br />", " ", "</p>", " ").Replace(s)
	s = html.UnescapeString(htmlTag.ReplaceAllString(s, ""))
	return strings.TrimSpace(space.ReplaceAllString(s, " "))
}

// space is a run of white space, as the bodies compare.
var space = regexp.MustCompile(`\s+`)

// knowledgeBase compares the collections and articles ferry created with
// Intercom's lists of them.
func (a *auditor) knowledgeBase(ctx context.Context) error {
	l := a.l
	colIDs, err := l.ws.IDMap(ctx, stage.EntityCollections)
	if err != nil {
		return err
	}
	artIDs, err := l.ws.IDMap(ctx, stage.EntityArticles)
	if err != nil {
		return err
	}
	if len(colIDs) == 0 && len(artIDs) == 0 {
		return nil
	}
	cols := map[string]intercom.Collection{}
	for c, err := range listed(ctx, l.ic.ListCollections, 150) {
		if err != nil {
			return fmt.Errorf("list collections: %w", err)
		}
		cols[string(c.ID)] = c
	}
	arts := map[string]intercom.Article{}
	if len(artIDs) > 0 {
		for a, err := range listed(ctx, l.ic.ListArticles, 150) {
			if err != nil {
				return fmt.Errorf("list articles: %w", err)
			}
			arts[string(a.ID)] = a
		}
	}
	err = l.ws.Records(ctx, stage.Select{Stream: schema.KBCategories, Table: l.table(schema.KBCategories), Where: a.migrated(stage.EntityCollections), Order: "id"}, func(r schema.Record) error {
		c := r.(*schema.KBCategory)
		f := &facts{entity: stage.EntityCollections, sourceID: c.ID, intercomID: colIDs[c.ID]}
		got, ok := cols[colIDs[c.ID]]
		if !ok {
			f.missing(&intercom.Error{StatusCode: 404})
			return a.record(ctx, f.checks)
		}
		f.add(stage.FactFound, "exists", "exists")
		f.add(stage.FactName, c.Title, got.Name)
		return a.record(ctx, f.checks)
	})
	if err != nil {
		return err
	}
	return l.ws.Records(ctx, stage.Select{Stream: schema.KBArticles, Table: l.table(schema.KBArticles), Where: a.migrated(stage.EntityArticles), Order: "id"}, func(r schema.Record) error {
		art := r.(*schema.KBArticle)
		f := &facts{entity: stage.EntityArticles, sourceID: art.ID, intercomID: artIDs[art.ID]}
		got, ok := arts[artIDs[art.ID]]
		if !ok {
			f.missing(&intercom.Error{StatusCode: 404})
			return a.record(ctx, f.checks)
		}
		f.add(stage.FactFound, "exists", "exists")
		want, _, err := l.articleRequest(art, colIDs)
		if err != nil {
			f.addf(stage.FactTitle, false, art.Title, got.Title, err.Error())
			return a.record(ctx, f.checks)
		}
		f.add(stage.FactTitle, want.Title, got.Title)
		f.add(stage.FactBody, bodyText(want.Body), bodyText(got.Body))
		var wantLocales, gotLocales, bad []string
		for loc, tr := range want.TranslatedContent {
			wantLocales = append(wantLocales, loc)
			var content intercom.ArticleContent
			if raw, ok := got.TranslatedContent[loc]; ok && json.Unmarshal(raw, &content) == nil {
				if content.Title != tr.Title || bodyText(content.Body) != bodyText(tr.Body) {
					bad = append(bad, fmt.Sprintf("%s: %q, Intercom's %q", loc, tr.Title, content.Title))
				}
			}
		}
		own, _ := intercomLocale(art.Locale)
		for loc, raw := range got.TranslatedContent {
			if loc != "type" && loc != own && string(raw) != "null" {
				gotLocales = append(gotLocales, loc)
			}
		}
		slices.Sort(wantLocales)
		slices.Sort(gotLocales)
		e, g := strings.Join(wantLocales, ", "), strings.Join(gotLocales, ", ")
		reason := ""
		if e != g {
			reason = fmt.Sprintf("translations in %s, Intercom's in %s", quoteOr(e), quoteOr(g))
		}
		if len(bad) > 0 {
			reason = strings.TrimPrefix(reason+"; "+strings.Join(bad, "; "), "; ")
		}
		f.addf(stage.FactTranslations, reason == "", e, g, reason)
		return a.record(ctx, f.checks)
	})
}
