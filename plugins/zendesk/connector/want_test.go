package connector

import (
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/ferryhq/ferry/plugins/zendesk/zendesktest"
	"github.com/ferryhq/ferry/sdk/schema"
)

// Expected rows, built from the help desk the emulator serves.

func idOf(p *int64) any {
	if p == nil {
		return nil
	}
	return strconv.FormatInt(*p, 10)
}

func strOf(p *string) any {
	if p == nil || *p == "" {
		return nil
	}
	return *p
}

func orNil(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func ts(t time.Time) any { return t.UTC().Format(time.RFC3339Nano) }

func jsonOf(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func wantUser(t *testing.T, u *zendesktest.User) map[string]any {
	role := schema.RoleEndUser
	if u.IsAgent() {
		role = schema.RoleAgent
	}
	var custom any
	if len(u.UserFields) > 0 {
		custom = jsonOf(t, u.UserFields)
	}
	return map[string]any{
		"id": strconv.FormatInt(u.ID, 10), "role": role, "name": u.Name, "email": strOf(u.Email), "phone": strOf(u.Phone),
		"organization_id": idOf(u.OrganizationID), "active": u.Active, "suspended": u.Suspended,
		"created_at": ts(u.CreatedAt), "updated_at": ts(u.UpdatedAt), "custom_fields": custom,
	}
}

func wantOrganization(t *testing.T, o *zendesktest.Organization) map[string]any {
	return map[string]any{
		"id": strconv.FormatInt(o.ID, 10), "name": o.Name, "domains": o.DomainNames,
		"created_at": ts(o.CreatedAt), "updated_at": ts(o.UpdatedAt), "custom_fields": jsonOf(t, o.OrganizationFields),
	}
}

func wantGroup(g *zendesktest.Group) map[string]any {
	return map[string]any{"id": strconv.FormatInt(g.ID, 10), "name": g.Name, "created_at": ts(g.CreatedAt), "updated_at": ts(g.UpdatedAt)}
}

func wantTicketField(t *testing.T, f *zendesktest.TicketField) map[string]any {
	opts := f.CustomFieldOptions
	if len(opts) == 0 {
		opts = f.SystemFieldOptions
	}
	var options any
	if len(opts) > 0 {
		var list []map[string]string
		for _, o := range opts {
			list = append(list, map[string]string{"name": o.Name, "value": o.Value})
		}
		options = jsonOf(t, list)
	}
	return map[string]any{"id": strconv.FormatInt(f.ID, 10), "title": f.Title, "type": f.Type, "active": f.Active, "options": options}
}

func wantTicket(t *testing.T, tk *zendesktest.Ticket) map[string]any {
	cc := []string{}
	for _, id := range append(slices.Clone(tk.EmailCCIDs), tk.CollaboratorIDs...) {
		if s := strconv.FormatInt(id, 10); !slices.Contains(cc, s) {
			cc = append(cc, s)
		}
	}
	custom := map[string]any{}
	for _, f := range tk.CustomFields {
		custom[strconv.FormatInt(f.ID, 10)] = f.Value
	}
	tags := tk.Tags
	if tags == nil {
		tags = []string{}
	}
	return map[string]any{
		"id": strconv.FormatInt(tk.ID, 10), "subject": tk.Subject, "status": tk.Status, "priority": strOf(tk.Priority),
		"type": strOf(tk.Type), "requester_id": strconv.FormatInt(tk.RequesterID, 10), "submitter_id": strconv.FormatInt(tk.SubmitterID, 10),
		"assignee_id": idOf(tk.AssigneeID), "group_id": idOf(tk.GroupID), "organization_id": idOf(tk.OrganizationID),
		"tags": tags, "cc_ids": cc, "custom_fields": jsonOf(t, custom), "created_at": ts(tk.CreatedAt), "updated_at": ts(tk.UpdatedAt),
	}
}

func wantComment(tk *zendesktest.Ticket, c *zendesktest.Comment) map[string]any {
	return map[string]any{
		"id": strconv.FormatInt(c.ID, 10), "ticket_id": strconv.FormatInt(tk.ID, 10), "author_id": strconv.FormatInt(c.AuthorID, 10),
		"public": c.Public, "body_html": orNil(c.HTMLBody), "body_text": orNil(c.PlainBody), "created_at": ts(c.CreatedAt),
	}
}

func wantAttachment(base string, tk *zendesktest.Ticket, c *zendesktest.Comment, position int, a *zendesktest.Attachment) map[string]any {
	return map[string]any{
		"id": strconv.FormatInt(a.ID, 10), "ticket_id": strconv.FormatInt(tk.ID, 10), "comment_id": strconv.FormatInt(c.ID, 10),
		"article_id": nil, "file_name": a.FileName, "content_type": a.ContentType, "size": a.Size,
		"url": base + a.ContentURL, "inline": a.Inline, "position": int64(position),
	}
}

// ticketEventKinds are the Kind stems of the fields ticket events name.
var ticketEventKinds = map[string]string{
	"status": "status", "priority": "priority", "tags": "tags", "assignee_id": "assignee", "group_id": "group",
}

// wantTicketEvent is the ticket event of a Create or Change event of audit
// a of ticket tk.
func wantTicketEvent(t *testing.T, tk *zendesktest.Ticket, a *zendesktest.Audit, ev *zendesktest.AuditEvent) map[string]any {
	kind := ticketEventKinds[ev.FieldName]
	if kind == "" {
		kind = "field"
		if _, err := strconv.ParseInt(ev.FieldName, 10, 64); err == nil {
			kind = "custom_field"
		}
	}
	detail := map[string]any{"field": ev.FieldName, "to": json.RawMessage(ev.Value)}
	if ev.Type == zendesktest.EventChange {
		kind += "_changed"
		detail["from"] = json.RawMessage(ev.PreviousValue)
	} else {
		kind += "_set"
	}
	if ev.FieldName == "tags" {
		var before, after []string
		json.Unmarshal(ev.PreviousValue, &before)
		json.Unmarshal(ev.Value, &after)
		added, removed := []string{}, []string{}
		for _, tag := range after {
			if !slices.Contains(before, tag) {
				added = append(added, tag)
			}
		}
		for _, tag := range before {
			if !slices.Contains(after, tag) {
				removed = append(removed, tag)
			}
		}
		detail["added"], detail["removed"] = added, removed
	}
	var author any = strconv.FormatInt(a.AuthorID, 10)
	if a.AuthorID == zendesktest.SystemAuthorID {
		author = nil
	}
	return map[string]any{
		"id": strconv.FormatInt(ev.ID, 10), "ticket_id": strconv.FormatInt(tk.ID, 10), "author_id": author,
		"kind": kind, "detail": jsonOf(t, detail), "created_at": ts(a.CreatedAt),
	}
}

func wantCategory(c *zendesktest.Category) map[string]any {
	return map[string]any{
		"id": strconv.FormatInt(c.ID, 10), "parent_id": nil, "locale": c.Locale, "title": c.Name, "body_html": orNil(c.Description),
		"author_id": nil, "translations": nil, "created_at": ts(c.CreatedAt), "updated_at": ts(c.UpdatedAt),
	}
}

func wantSection(s *zendesktest.Section) map[string]any {
	return map[string]any{
		"id": strconv.FormatInt(s.ID, 10), "parent_id": strconv.FormatInt(s.CategoryID, 10), "locale": s.Locale, "title": s.Name,
		"body_html": orNil(s.Description), "author_id": nil, "translations": nil, "created_at": ts(s.CreatedAt), "updated_at": ts(s.UpdatedAt),
	}
}

func wantArticle(t *testing.T, a *zendesktest.Article) map[string]any {
	tr := map[string]any{}
	for _, x := range a.Translations {
		tr[x.Locale] = map[string]string{"title": x.Title, "body": x.Body}
	}
	return map[string]any{
		"id": strconv.FormatInt(a.ID, 10), "parent_id": strconv.FormatInt(a.SectionID, 10), "locale": a.Locale, "title": a.Title,
		"body_html": a.Body, "author_id": strconv.FormatInt(a.AuthorID, 10), "translations": jsonOf(t, tr),
		"created_at": ts(a.CreatedAt), "updated_at": ts(a.UpdatedAt),
	}
}

func wantArticleAttachment(base string, a *zendesktest.Article, position int, f *zendesktest.ArticleAttachment) map[string]any {
	return map[string]any{
		"id": strconv.FormatInt(f.ID, 10), "ticket_id": nil, "comment_id": nil, "article_id": strconv.FormatInt(a.ID, 10),
		"file_name": f.FileName, "content_type": f.ContentType, "size": f.Size, "url": base + f.ContentURL,
		"inline": f.Inline, "position": int64(position),
	}
}

// checkRow compares a row's columns with want's, and reports whether they
// are the same; JSON columns compare as JSON, whatever their key order.
func checkRow(t *testing.T, what string, row, want map[string]any) bool {
	t.Helper()
	if row == nil {
		t.Errorf("%s: not read", what)
		return false
	}
	same := true
	for col, w := range want {
		got := row[col]
		if col == "custom_fields" || col == "options" || col == "detail" || col == "translations" {
			got, w = normJSON(t, got), normJSON(t, w)
		}
		if !reflect.DeepEqual(got, w) {
			t.Errorf("%s: %s = %#v, want %#v", what, col, got, w)
			same = false
		}
	}
	return same
}

func normJSON(t *testing.T, v any) any {
	t.Helper()
	s, ok := v.(string)
	if !ok {
		return v
	}
	var out any
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		t.Fatalf("%q is not JSON: %v", s, err)
	}
	return out
}

// checkHelpDesk compares every record a read of the whole help desk
// brought with the help desk, field by field: what a read must stage.
// Deleted tickets, and their comments and events, must not come.
func checkHelpDesk(t *testing.T, z *zendesk, res *readResult, ticketEvents, helpCenter bool) {
	t.Helper()
	hd := z.hd
	want := map[string]map[string]map[string]any{}
	add := func(stream string, row map[string]any) {
		if want[stream] == nil {
			want[stream] = map[string]map[string]any{}
		}
		want[stream][row["id"].(string)] = row
	}
	for i := range hd.Users {
		add(schema.Users, wantUser(t, &hd.Users[i]))
	}
	for i := range hd.Organizations {
		add(schema.Organizations, wantOrganization(t, &hd.Organizations[i]))
	}
	for i := range hd.Groups {
		add(schema.Groups, wantGroup(&hd.Groups[i]))
	}
	for i := range hd.TicketFields {
		add(schema.TicketFields, wantTicketField(t, &hd.TicketFields[i]))
	}
	for i := range hd.Tickets {
		tk := &hd.Tickets[i]
		if tk.Status == zendesktest.StatusDeleted {
			continue
		}
		add(schema.Tickets, wantTicket(t, tk))
		for j := range tk.Comments {
			c := &tk.Comments[j]
			add(schema.Comments, wantComment(tk, c))
			for k := range c.Attachments {
				add(schema.Attachments, wantAttachment(z.ts.URL, tk, c, k, &c.Attachments[k]))
			}
		}
		for j := range tk.Audits {
			a := &tk.Audits[j]
			for k := range a.Events {
				if ev := &a.Events[k]; ticketEvents && (ev.Type == zendesktest.EventCreate || ev.Type == zendesktest.EventChange) {
					add(schema.TicketEvents, wantTicketEvent(t, tk, a, ev))
				}
			}
		}
	}
	if helpCenter {
		hc := &hd.HelpCenter
		for i := range hc.Categories {
			add(schema.KBCategories, wantCategory(&hc.Categories[i]))
		}
		for i := range hc.Sections {
			add(schema.KBCategories, wantSection(&hc.Sections[i]))
		}
		for i := range hc.Articles {
			a := &hc.Articles[i]
			add(schema.KBArticles, wantArticle(t, a))
			for j := range a.Attachments {
				add(schema.Attachments, wantArticleAttachment(z.ts.URL, a, j, &a.Attachments[j]))
			}
		}
	}

	for _, stream := range schema.StreamNames() {
		got := byID(res.rows[stream])
		if len(got) != len(want[stream]) {
			t.Errorf("%s: %d records, want %d", stream, len(got), len(want[stream]))
		}
		wrong := 0
		for id, w := range want[stream] {
			if !checkRow(t, stream+" "+id, got[id], w) {
				wrong++
			}
			if wrong == 3 {
				break // a few records' differences tell the story
			}
		}
	}
}
