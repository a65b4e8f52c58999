package zendesktest

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestGenerateIsDeterministic(t *testing.T) {
	encode := func(hd *HelpDesk) []byte {
		b, err := json.Marshal(hd)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a := encode(Generate(GenerateOptions{Seed: 42}))
	b := encode(Generate(GenerateOptions{Seed: 42}))
	if !bytes.Equal(a, b) {
		t.Error("the same seed gave two different help desks")
	}
	if c := encode(Generate(GenerateOptions{Seed: 43})); bytes.Equal(a, c) {
		t.Error("two seeds gave the same help desk")
	}
}

func TestGenerateCounts(t *testing.T) {
	tests := []struct {
		name string
		opts GenerateOptions
		// want
		tickets, users, agents, groups, orgs int
	}{
		{"defaults", GenerateOptions{}, 200, 68, 8, 3, 15},
		{"benchmark", GenerateOptions{Tickets: 5000, EndUsers: 2000, Organizations: 200}, 5000, 2008, 8, 3, 200},
		{"tiny", GenerateOptions{Tickets: 3, EndUsers: 2, Agents: 1, Groups: 1, Organizations: 1}, 3, 3, 1, 1, 1},
		{"many groups", GenerateOptions{Tickets: 10, Groups: 9}, 10, 68, 8, 9, 15},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hd := Generate(tt.opts)
			agents := 0
			for i := range hd.Users {
				if hd.Users[i].IsAgent() {
					agents++
				}
			}
			got := []int{len(hd.Tickets), len(hd.Users), agents, len(hd.Groups), len(hd.Organizations)}
			want := []int{tt.tickets, tt.users, tt.agents, tt.groups, tt.orgs}
			if !slices.Equal(got, want) {
				t.Errorf("tickets, users, agents, groups, organizations = %v, want %v", got, want)
			}
			checkInvariants(t, hd, tt.opts.withDefaults())
		})
	}
}

// checkInvariants checks what every generated help desk promises.
func checkInvariants(t *testing.T, hd *HelpDesk, o GenerateOptions) {
	t.Helper()
	ids := map[int64]string{}
	unique := func(kind string, id int64) {
		if id <= 0 {
			t.Errorf("%s has id %d", kind, id)
		}
		if prev, ok := ids[id]; ok && !(kind == "ticket" || prev == "ticket") {
			t.Errorf("id %d is both a %s and a %s", id, prev, kind)
		}
		ids[id] = kind
	}
	users := map[int64]*User{}
	for i := range hd.Users {
		u := &hd.Users[i]
		unique("user", u.ID)
		users[u.ID] = u
		if u.UpdatedAt.Before(u.CreatedAt) || u.UpdatedAt.After(o.End) {
			t.Errorf("user %d: updated %v, created %v", u.ID, u.UpdatedAt, u.CreatedAt)
		}
		if u.IsAgent() && (u.Email == nil || !strings.HasSuffix(*u.Email, "@"+o.Domain)) {
			t.Errorf("agent %d's email %v is not on %s", u.ID, u.Email, o.Domain)
		}
		if !u.Active && u.PermanentlyDeleted == nil {
			t.Errorf("deleted user %d has no permanently_deleted", u.ID)
		}
	}
	if owner := hd.User(0); owner != nil {
		t.Error("user 0 exists")
	}
	for i := range hd.Organizations {
		unique("organization", hd.Organizations[i].ID)
	}
	groups := map[int64]bool{}
	for _, g := range hd.Groups {
		unique("group", g.ID)
		groups[g.ID] = true
	}
	fields := map[int64]TicketField{}
	for _, f := range hd.TicketFields {
		unique("ticket field", f.ID)
		fields[f.ID] = f
	}
	for i := range hd.Tickets {
		tk := &hd.Tickets[i]
		unique("ticket", tk.ID)
		req := users[tk.RequesterID]
		switch {
		case req == nil:
			t.Errorf("ticket %d: requester %d doesn't exist", tk.ID, tk.RequesterID)
			continue
		case req.IsAgent() || !req.Active:
			t.Errorf("ticket %d: requester %d is %s (active %v), want an active end user", tk.ID, req.ID, req.Role, req.Active)
		case req.CreatedAt.After(tk.CreatedAt):
			t.Errorf("ticket %d was asked by user %d before the user existed", tk.ID, req.ID)
		}
		if !equalPtr(tk.OrganizationID, req.OrganizationID) {
			t.Errorf("ticket %d's organization is not its requester's", tk.ID)
		}
		if users[tk.SubmitterID] == nil {
			t.Errorf("ticket %d: submitter %d doesn't exist", tk.ID, tk.SubmitterID)
		}
		if tk.AssigneeID != nil && (users[*tk.AssigneeID] == nil || !users[*tk.AssigneeID].IsAgent()) {
			t.Errorf("ticket %d: assignee %d is not an agent", tk.ID, *tk.AssigneeID)
		}
		if tk.GroupID != nil && !groups[*tk.GroupID] {
			t.Errorf("ticket %d: group %d doesn't exist", tk.ID, *tk.GroupID)
		}
		for _, id := range tk.CollaboratorIDs {
			if users[id] == nil {
				t.Errorf("ticket %d: collaborator %d doesn't exist", tk.ID, id)
			}
		}
		if !slices.IsSorted(tk.Tags) || len(slices.Compact(slices.Clone(tk.Tags))) != len(tk.Tags) {
			t.Errorf("ticket %d: tags %v are not sorted and distinct", tk.ID, tk.Tags)
		}
		for _, cf := range tk.CustomFields {
			f, ok := fields[cf.ID]
			if !ok {
				t.Errorf("ticket %d: value of unknown field %d", tk.ID, cf.ID)
				continue
			}
			switch v := cf.Value.(type) {
			case nil:
			case bool:
				if f.Type != "checkbox" {
					t.Errorf("ticket %d: a bool in %s field %d", tk.ID, f.Type, f.ID)
				}
			case string:
				if f.Type == "checkbox" {
					t.Errorf("ticket %d: a string in checkbox field %d", tk.ID, f.ID)
				}
				if f.Type == "tagger" && !slices.Contains(tk.Tags, v) {
					t.Errorf("ticket %d: drop-down value %q is not among its tags", tk.ID, v)
				}
			default:
				t.Errorf("ticket %d: field %d holds a %T", tk.ID, f.ID, v)
			}
		}

		if n := len(tk.Comments); n < 1 || n > o.MaxComments {
			t.Errorf("ticket %d has %d comments", tk.ID, n)
			continue
		}
		first := tk.Comments[0]
		if !first.CreatedAt.Equal(tk.CreatedAt) || first.PlainBody != tk.Description {
			t.Errorf("ticket %d: the first comment is not the ticket's description", tk.ID)
		}
		if first.AuthorID != tk.RequesterID && !users[first.AuthorID].IsAgent() {
			t.Errorf("ticket %d: opened by %d, neither its requester nor an agent", tk.ID, first.AuthorID)
		}
		for j, c := range tk.Comments {
			unique("comment", c.ID)
			if j > 0 && !c.CreatedAt.After(tk.Comments[j-1].CreatedAt) {
				t.Errorf("ticket %d: comment %d is not after the one before it", tk.ID, c.ID)
			}
			author := users[c.AuthorID]
			if author == nil {
				t.Errorf("ticket %d: comment %d's author %d doesn't exist", tk.ID, c.ID, c.AuthorID)
			} else if !c.Public && !author.IsAgent() {
				t.Errorf("ticket %d: end user %d wrote a private comment", tk.ID, c.AuthorID)
			}
			if c.PlainBody == "" || !strings.HasPrefix(c.HTMLBody, "<div") {
				t.Errorf("ticket %d: comment %d lacks a body", tk.ID, c.ID)
			}
			for _, a := range c.Attachments {
				unique("attachment", a.ID)
				if _, ok := attachmentToken(a.ContentURL); !ok || a.Size <= 0 || a.FileName == "" || a.ContentType == "" {
					t.Errorf("ticket %d: attachment %+v", tk.ID, a)
				}
			}
		}
		checkHistory(t, tk, unique)
		last := tk.Comments[len(tk.Comments)-1].CreatedAt
		if tk.UpdatedAt.Before(last) || tk.UpdatedAt.After(o.End) || tk.GeneratedTimestamp != tk.UpdatedAt.Unix() {
			t.Errorf("ticket %d: updated %v, last comment %v, generated %d", tk.ID, tk.UpdatedAt, last, tk.GeneratedTimestamp)
		}
		if tk.CreatedAt.Before(o.End.Add(-o.Span)) {
			t.Errorf("ticket %d created %v, more than %v before %v", tk.ID, tk.CreatedAt, o.Span, o.End)
		}
	}
	if owner := hd.User(hd.Users[0].ID); owner == nil || owner.Role != RoleAdmin || *owner.Email != hd.OwnerEmail {
		t.Errorf("the owner %q is not the first user, an admin", hd.OwnerEmail)
	}
	checkHelpCenter(t, hd, users, unique)
}

// checkHistory checks a ticket's audits: in time order, each comment in
// one of them, and, replayed on a blank ticket, they give the ticket as it
// is.
func checkHistory(t *testing.T, tk *Ticket, unique func(kind string, id int64)) {
	t.Helper()
	if len(tk.Audits) == 0 || tk.Audits[0].ID != tk.Comments[0].AuditID || !tk.Audits[0].CreatedAt.Equal(tk.CreatedAt) {
		t.Errorf("ticket %d: the first audit is not its creation", tk.ID)
		return
	}
	blank := Ticket{ID: tk.ID}
	for _, f := range tk.CustomFields {
		var zero any
		if _, ok := f.Value.(bool); ok {
			zero = false
		}
		blank.CustomFields = append(blank.CustomFields, CustomFieldValue{ID: f.ID, Value: zero})
	}
	commentAudit := map[int64]int64{}
	for i, a := range tk.Audits {
		unique("audit", a.ID)
		if i > 0 && a.CreatedAt.Before(tk.Audits[i-1].CreatedAt) {
			t.Errorf("ticket %d: audit %d is before the one before it", tk.ID, a.ID)
		}
		if a.TicketID != tk.ID || len(a.Events) == 0 {
			t.Errorf("ticket %d: audit %d of ticket %d, %d events", tk.ID, a.ID, a.TicketID, len(a.Events))
		}
		for _, ev := range a.Events {
			if ev.Type == EventComment {
				if _, dup := commentAudit[ev.ID]; dup {
					t.Errorf("ticket %d: comment %d is in two audits", tk.ID, ev.ID)
				}
				commentAudit[ev.ID] = a.ID
				continue
			}
			unique("event", ev.ID)
		}
		if err := blank.AddAudit(a); err != nil {
			t.Errorf("ticket %d: %v", tk.ID, err)
		}
	}
	for _, c := range tk.Comments {
		if commentAudit[c.ID] != c.AuditID {
			t.Errorf("ticket %d: comment %d is in audit %d, says %d", tk.ID, c.ID, commentAudit[c.ID], c.AuditID)
		}
	}
	if blank.Status != tk.Status || !equalPtr(blank.Priority, tk.Priority) || !equalPtr(blank.Type, tk.Type) ||
		!equalPtr(blank.AssigneeID, tk.AssigneeID) || !equalPtr(blank.GroupID, tk.GroupID) || blank.Subject != tk.Subject ||
		!slices.Equal(orEmpty(blank.Tags), orEmpty(tk.Tags)) {
		t.Errorf("ticket %d: its history ends at status %s, priority %v, assignee %v, group %v, tags %v; the ticket is %s, %v, %v, %v, %v",
			tk.ID, blank.Status, blank.Priority, blank.AssigneeID, blank.GroupID, blank.Tags, tk.Status, tk.Priority, tk.AssigneeID, tk.GroupID, tk.Tags)
	}
	for i, f := range tk.CustomFields {
		if blank.CustomFields[i] != f {
			t.Errorf("ticket %d: its history sets field %d to %#v, the ticket has %#v", tk.ID, f.ID, blank.CustomFields[i].Value, f.Value)
		}
	}
}

// checkHelpCenter checks that the knowledge base hangs together.
func checkHelpCenter(t *testing.T, hd *HelpDesk, users map[int64]*User, unique func(kind string, id int64)) {
	t.Helper()
	hc := &hd.HelpCenter
	cats, secs := map[int64]bool{}, map[int64]bool{}
	for _, c := range hc.Categories {
		unique("category", c.ID)
		cats[c.ID] = true
	}
	for _, s := range hc.Sections {
		unique("section", s.ID)
		secs[s.ID] = true
		if !cats[s.CategoryID] {
			t.Errorf("section %d is in no category", s.ID)
		}
	}
	for _, a := range hc.Articles {
		unique("article", a.ID)
		if !secs[a.SectionID] || users[a.AuthorID] == nil || !users[a.AuthorID].IsAgent() || a.UpdatedAt.Before(a.CreatedAt) {
			t.Errorf("article %d: section %d, author %d, created %v, updated %v", a.ID, a.SectionID, a.AuthorID, a.CreatedAt, a.UpdatedAt)
		}
		if len(a.Translations) == 0 || a.Translations[0].Locale != a.Locale || a.Translations[0].Title != a.Title || a.Translations[0].Body != a.Body {
			t.Errorf("article %d: its first translation is not its own text", a.ID)
		}
		for _, tr := range a.Translations {
			unique("translation", tr.ID)
			if tr.SourceID != a.ID {
				t.Errorf("article %d: translation %d is of %d", a.ID, tr.ID, tr.SourceID)
			}
		}
		for _, f := range a.Attachments {
			unique("article attachment", f.ID)
			if f.ArticleID != a.ID || f.Size <= 0 || !strings.HasPrefix(f.ContentURL, "/hc/article_attachments/") {
				t.Errorf("article %d: attachment %+v", a.ID, f)
			}
		}
	}
}

// TestGenerateVariety checks that the demo's help desk has some of each
// thing the loader must handle.
func TestGenerateVariety(t *testing.T) {
	hd := Generate(GenerateOptions{})
	has := map[string]bool{}
	for _, u := range hd.Users {
		if u.IsAgent() {
			continue
		}
		has["end user in an organization"] = has["end user in an organization"] || u.OrganizationID != nil
		has["end user in no organization"] = has["end user in no organization"] || u.OrganizationID == nil
		has["end user with a phone"] = has["end user with a phone"] || u.Phone != nil
		has["suspended end user"] = has["suspended end user"] || u.Suspended
		has["deleted end user"] = has["deleted end user"] || !u.Active
	}
	for _, f := range hd.TicketFields {
		has["field "+f.Type] = true
		if f.Type == "tagger" && len(f.CustomFieldOptions) > 1 {
			has["drop-down with options"] = true
		}
	}
	counts := map[int]bool{}
	for _, tk := range hd.Tickets {
		has["status "+tk.Status] = true
		counts[len(tk.Comments)] = true
		if tk.Priority != nil {
			has["priority "+*tk.Priority] = true
		}
		if tk.Type != nil {
			has["type "+*tk.Type] = true
		}
		has["tagged"] = has["tagged"] || len(tk.Tags) > 0
		has["with email CCs"] = has["with email CCs"] || len(tk.EmailCCIDs) > 0
		if tk.Comments[0].AuthorID != tk.RequesterID {
			has["opened by an agent"] = true
		}
		for _, c := range tk.Comments {
			has["private comment"] = has["private comment"] || !c.Public
			has["public comment"] = has["public comment"] || c.Public
			has["comment with attachments"] = has["comment with attachments"] || len(c.Attachments) > 0
			has["comment with more than five attachments"] = has["comment with more than five attachments"] || len(c.Attachments) > 5
			for _, a := range c.Attachments {
				has["inline attachment"] = has["inline attachment"] || a.Inline
			}
		}
	}
	for _, tk := range hd.Tickets {
		for _, a := range tk.Audits {
			if a.AuthorID == SystemAuthorID {
				has["a change by an automation"] = true
			}
			for _, ev := range a.Events {
				if ev.Type == EventChange {
					has["a change of "+ev.FieldName] = true
				}
			}
		}
	}
	for _, a := range hd.HelpCenter.Articles {
		has["a translated article"] = has["a translated article"] || len(a.Translations) > 1
		has["a draft article"] = has["a draft article"] || a.Draft
		for _, f := range a.Attachments {
			has["an inline article attachment"] = has["an inline article attachment"] || f.Inline
			has["an article attachment to download"] = has["an article attachment to download"] || !f.Inline
		}
	}
	has["a ticket with 1 comment"] = counts[1]
	has["a ticket with 12 comments"] = counts[12]
	created := func(tk Ticket) time.Time { return tk.CreatedAt }
	oldest := slices.MinFunc(hd.Tickets, func(a, b Ticket) int { return created(a).Compare(created(b)) })
	has["tickets over more than 18 months"] = oldest.CreatedAt.Before(time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC))
	for _, want := range []string{
		"end user in an organization", "end user in no organization", "end user with a phone", "suspended end user", "deleted end user",
		"field text", "field tagger", "field checkbox", "field date", "field integer", "drop-down with options",
		"status new", "status open", "status pending", "status hold", "status solved", "status closed",
		"priority low", "priority normal", "priority high", "priority urgent", "type question", "type incident", "type problem", "type task",
		"tagged", "with email CCs", "opened by an agent", "private comment", "public comment", "comment with attachments",
		"comment with more than five attachments", "inline attachment", "a ticket with 1 comment", "a ticket with 12 comments",
		"tickets over more than 18 months",
		"a change by an automation", "a change of status", "a change of assignee_id", "a change of priority", "a change of tags",
		"a change of " + strconv.FormatInt(hd.TicketFields[len(hd.TicketFields)-2].ID, 10),
		"a translated article", "a draft article", "an inline article attachment", "an article attachment to download",
	} {
		if !has[want] {
			t.Errorf("the default help desk has no %s", want)
		}
	}
}

func TestSaveLoad(t *testing.T) {
	hd := Generate(GenerateOptions{Seed: 3, Tickets: 40})
	path := filepath.Join(t.TempDir(), "helpdesk.json")
	if err := hd.Save(path); err != nil {
		t.Fatal(err)
	}
	loaded, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(hd)
	got, _ := json.Marshal(loaded)
	if !bytes.Equal(got, want) {
		t.Error("the loaded help desk differs from the saved one")
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Error("Load of a missing file succeeded")
	}
	if err := hd.Save(filepath.Join(t.TempDir(), "no", "such", "dir.json")); err == nil {
		t.Error("Save into a missing folder succeeded")
	}
}
