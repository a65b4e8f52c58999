package csvtest

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The files' shapes. CSV files have header names as exports write them,
// with a few canonical names left for the connector's same-name default;
// JSON Lines files have mostly canonical keys, ids as numbers, a nested
// object and typed values. Each table's config is what reads it.

// statusLabels are the statuses as the CSV export writes them.
func statusLabels() map[string]string {
	return map[string]string{"new": "New", "open": "Open", "pending": "Pending", "hold": "On hold", "solved": "Solved", "closed": "Closed"}
}

// roleLabels are the roles as the CSV export writes them: words the
// connector does not know, so that the config's values map them.
func roleLabels() map[bool]string { return map[bool]string{true: "Staff member", false: "Client"} }

func invert[K comparable](m map[K]string) map[string]K {
	out := make(map[string]K, len(m))
	for k, v := range m {
		out[v] = k
	}
	return out
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func oneZero(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func (w *writer) organizations(orgs []*Organization) error {
	t := table{stream: "organizations", n: len(orgs)}
	cfg := map[string]any{"custom_fields": []string{"Tier"}}
	if w.format == CSV {
		t.header = []string{"Organization ID", "name", "Domains", "Tier", "created_at", "updated_at"}
		t.csvRow = func(i int) []string {
			o := orgs[i]
			return []string{o.ID, o.Name, strings.Join(o.Domains, ";"), o.Tier, o.CreatedAt.Format(time.RFC3339), o.UpdatedAt.UTC().Format(orgsLayout)}
		}
		cfg["columns"] = map[string]string{"id": "Organization ID", "domains": "Domains"}
		cfg["list_separator"] = ";"
		cfg["time_format"] = []string{orgsLayout}
		t.kinds = []string{BadBareQuote, BadFieldCount, BadTime, BadUTF8, BadMissingID, BadStrayQuote}
		t.bad = func(k int, kind string) badLine {
			row := []string{fmt.Sprintf("bad-org-%d", k), "Malformed Org", "bad.example", "gold", "2024-01-01T00:00:00Z", "01/01/2024 00:00:00"}
			return badCSV(row, 0, 1, 4, -1, kind)
		}
	} else {
		t.json = func(i int) object {
			o := orgs[i]
			return object{{"id", o.ID}, {"name", o.Name}, {"domains", o.Domains}, {"Tier", o.Tier}, {"created_at", rfc3339(o.CreatedAt)}, {"updated_at", rfc3339(o.UpdatedAt)}}
		}
		t.kinds = []string{BadNotObject, BadInvalidJSON, BadTime, BadUTF8, BadMissingID, BadNested}
		t.bad = func(k int, kind string) badLine {
			good := object{{"id", fmt.Sprintf("bad-org-%d", k)}, {"name", "Malformed Org"}, {"created_at", "2024-01-01T00:00:00Z"}}
			return badJSON(good, "name", "created_at", "", kind)
		}
	}
	return w.file(t, cfg)
}

func (w *writer) users(users []*User) error {
	t := table{stream: "users", n: len(users)}
	cfg := map[string]any{"custom_fields": []string{"Plan"}}
	if w.format == CSV {
		roles := roleLabels()
		// Created times carry an offset: RFC 3339 with one reads as is.
		mountain := time.FixedZone("MST", -7*3600)
		t.header = []string{"User ID", "Role", "name", "email", "Phone", "Organization", "Active", "Suspended", "Plan", "Created", "updated_at"}
		t.csvRow = func(i int) []string {
			u := users[i]
			return []string{u.ID, roles[u.Agent], u.Name, u.Email, u.Phone, u.OrganizationID, yesNo(u.Active), oneZero(u.Suspended), u.Plan,
				u.CreatedAt.In(mountain).Format(time.RFC3339), rfc3339(u.UpdatedAt)}
		}
		cfg["columns"] = map[string]string{"id": "User ID", "role": "Role", "phone": "Phone", "organization_id": "Organization", "active": "Active", "suspended": "Suspended", "created_at": "Created"}
		cfg["values"] = map[string]any{"role": map[string]string{roles[true]: "agent", roles[false]: "end_user"}}
		t.kinds = []string{BadBareQuote, BadFieldCount, BadTime, BadBoolean, BadUTF8, BadMissingID}
		t.bad = func(k int, kind string) badLine {
			row := []string{fmt.Sprintf("bad-user-%d", k), "Client", "Bad Row", "bad@mail.example", "", "", "yes", "0", "free", "2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z"}
			return badCSV(row, 0, 2, 9, 6, kind)
		}
	} else {
		t.json = func(i int) object {
			u := users[i]
			role := "end-user"
			if u.Agent {
				role = "agent"
			}
			o := object{{"id", num(u.ID)}, {"role", role}, {"name", u.Name}, {"email", u.Email}, {"phone", orNil(u.Phone)}}
			if u.OrganizationID != "" {
				o = append(o, field{"org", object{{"id", u.OrganizationID}, {"name", "ignored"}}})
			}
			return append(o, field{"active", u.Active}, field{"suspended", yesNo(u.Suspended)}, field{"Plan", orNil(u.Plan)},
				field{"created_at", u.CreatedAt.Unix()}, field{"updated_at", rfc3339(u.UpdatedAt)})
		}
		cfg["columns"] = map[string]string{"organization_id": "org.id"}
		cfg["time_format"] = "unix"
		t.kinds = []string{BadNotObject, BadInvalidJSON, BadTime, BadBoolean, BadUTF8, BadMissingID}
		t.bad = func(k int, kind string) badLine {
			good := object{{"id", fmt.Sprintf("bad-user-%d", k)}, {"name", "Bad Row"}, {"created_at", 1700000000}, {"active", true}}
			return badJSON(good, "name", "created_at", "active", kind)
		}
	}
	return w.file(t, cfg)
}

func (w *writer) tickets(n int, ticket func(i int) *Ticket) error {
	t := table{stream: "tickets", n: n}
	single, users := w.opts.SingleFile, w.opts.UsersFromTicket
	cfg := map[string]any{"custom_fields": []string{"Product", "Channel"}}
	// person is a ticket's requester or assignee, or an empty one for none.
	person := func(id string) *User {
		if u := w.people[id]; u != nil {
			return u
		}
		return &User{}
	}
	if w.format == CSV {
		ist := kolkata()
		at := func(v time.Time) string {
			if v.IsZero() {
				return ""
			}
			return v.In(ist).Format(ticketsLayout)
		}
		labels := statusLabels()
		t.header = []string{"Ticket ID", "subject", "Status", "priority", "type", "Requester", "submitter_id", "Assignee", "group_id", "organization_id", "Tags", "CC", "Product", "Channel", "Created", "Updated"}
		if single {
			t.header = append(t.header, "Description", "Resolution", "Resolved")
		}
		if users {
			t.header = append(t.header, "Requester Name", "Requester Email", "Requester Phone", "Plan", "Requester Since", "Assignee Name", "Assignee Email")
		}
		t.csvRow = func(i int) []string {
			tk := ticket(i)
			row := []string{tk.ID, tk.Subject, labels[tk.Status], tk.Priority, tk.Type, tk.RequesterID, tk.SubmitterID, tk.AssigneeID, tk.GroupID, tk.OrganizationID,
				strings.Join(tk.Tags, ";"), strings.Join(tk.CCIDs, ";"), tk.Product, tk.Channel, at(tk.CreatedAt), at(tk.UpdatedAt)}
			if single {
				row = append(row, tk.Description, tk.Resolution, at(tk.ResolvedAt))
			}
			if users {
				req, asg := person(tk.RequesterID), person(tk.AssigneeID)
				row = append(row, req.Name, req.Email, req.Phone, req.Plan, at(req.CreatedAt), asg.Name, asg.Email)
			}
			return row
		}
		cfg["columns"] = map[string]string{"id": "Ticket ID", "status": "Status", "requester_id": "Requester", "assignee_id": "Assignee", "tags": "Tags", "cc_ids": "CC", "created_at": "Created", "updated_at": "Updated"}
		cfg["values"] = map[string]any{"status": invert(labels)}
		cfg["time_format"] = ticketsLayout
		cfg["time_zone"] = ticketsZone
		cfg["list_separator"] = ";"
		if single {
			cfg["comments_from_ticket"] = []any{
				map[string]any{"id_suffix": DescriptionSuffix, "columns": map[string]string{"body_text": "Description", "author_id": "Requester"}},
				map[string]any{"id_suffix": ResolutionSuffix, "columns": map[string]string{"body_text": "Resolution", "author_id": "Assignee", "created_at": "Resolved"}},
			}
		}
		if users {
			cfg["users_from_ticket"] = []any{
				map[string]any{"columns": map[string]string{"id": "Requester", "name": "Requester Name", "email": "Requester Email", "phone": "Requester Phone",
					"organization_id": "organization_id", "created_at": "Requester Since"}, "custom_fields": []string{"Plan"}},
				map[string]any{"columns": map[string]string{"id": "Assignee", "name": "Assignee Name", "email": "Assignee Email"}, "defaults": map[string]string{"role": "agent"}},
			}
		}
		t.kinds = []string{BadBareQuote, BadFieldCount, BadTime, BadUTF8, BadMissingID, BadStrayQuote}
		if users {
			t.kinds = append(t.kinds, BadUserTime)
		}
		t.bad = func(k int, kind string) badLine {
			row := make([]string, len(t.header))
			row[0], row[1], row[2], row[5], row[13], row[14] = fmt.Sprintf("bad-ticket-%d", k), "Malformed", "Open", "200001", "Email", "2024-01-01 10:00:00"
			if users {
				// The row's requester would be a user made of these
				// columns, empty here: name none.
				row[5] = ""
			}
			if kind == BadUserTime {
				user := fmt.Sprintf("bad-user-%d", k)
				since := slices.Index(t.header, "Requester Since")
				row[0], row[5], row[since] = "", user, "not a time"
				return badLine{text: csvLine(row), userID: user}
			}
			return badCSV(row, 0, 1, 14, -1, kind)
		}
	} else {
		plus2 := time.FixedZone("CEST", 2*3600)
		t.json = func(i int) object {
			tk := ticket(i)
			tags := tk.Tags
			if tags == nil {
				tags = []string{}
			}
			o := object{{"id", num(tk.ID)}, {"subject", tk.Subject}, {"status", tk.Status}, {"priority", orNil(tk.Priority)}}
			if tk.Type != "" {
				o = append(o, field{"type", tk.Type})
			}
			o = append(o, field{"requester", object{{"id", num(tk.RequesterID)}}}, field{"submitter_id", num(tk.SubmitterID)},
				field{"assignee_id", num(tk.AssigneeID)}, field{"group_id", orNil(tk.GroupID)}, field{"organization_id", orNil(tk.OrganizationID)},
				field{"tags", tags}, field{"cc_ids", nums(tk.CCIDs)}, field{"Product", orNil(tk.Product)}, field{"Channel", tk.Channel},
				field{"created_at", rfc3339(tk.CreatedAt)}, field{"updated_at", tk.UpdatedAt.In(plus2).Format(time.RFC3339)})
			if single {
				var resolved any
				if !tk.ResolvedAt.IsZero() {
					resolved = rfc3339(tk.ResolvedAt)
				}
				o = append(o, field{"description", tk.Description}, field{"resolution", orNil(tk.Resolution)}, field{"resolved_at", resolved})
			}
			if users {
				req := person(tk.RequesterID)
				// The requester's object has its details; the plan is a
				// key of the ticket's, as exports flatten some.
				i := slices.IndexFunc(o, func(f field) bool { return f.key == "requester" })
				o[i].value = object{{"id", num(tk.RequesterID)}, {"name", req.Name}, {"email", req.Email}, {"phone", orNil(req.Phone)}, {"since", rfc3339(req.CreatedAt)}}
				o = append(o, field{"Plan", req.Plan})
				if tk.AssigneeID != "" {
					asg := person(tk.AssigneeID)
					o = append(o, field{"assignee", object{{"name", asg.Name}, {"email", asg.Email}}})
				}
			}
			return o
		}
		cfg["columns"] = map[string]string{"requester_id": "requester.id"}
		if users {
			cfg["users_from_ticket"] = []any{
				map[string]any{"columns": map[string]string{"id": "requester.id", "name": "requester.name", "email": "requester.email", "phone": "requester.phone",
					"organization_id": "organization_id", "created_at": "requester.since"}, "custom_fields": []string{"Plan"}},
				map[string]any{"columns": map[string]string{"id": "assignee_id", "name": "assignee.name", "email": "assignee.email"}, "defaults": map[string]string{"role": "agent"}},
			}
		}
		if single {
			cfg["comments_from_ticket"] = []any{
				map[string]any{"id_suffix": DescriptionSuffix, "columns": map[string]string{"body_text": "description", "author_id": "requester.id"}},
				map[string]any{"id_suffix": ResolutionSuffix, "columns": map[string]string{"body_text": "resolution", "author_id": "assignee_id", "created_at": "resolved_at"}},
			}
		}
		t.kinds = []string{BadNotObject, BadInvalidJSON, BadTime, BadUTF8, BadMissingID, BadNested}
		if users {
			t.kinds = append(t.kinds, BadUserTime)
		}
		t.bad = func(k int, kind string) badLine {
			good := object{{"id", fmt.Sprintf("bad-ticket-%d", k)}, {"subject", "Malformed"}, {"created_at", "2024-01-01T00:00:00Z"}}
			if kind == BadUserTime {
				user := fmt.Sprintf("bad-user-%d", k)
				bad := append(good[1:], field{"requester", object{{"id", user}, {"since", "not a time"}}})
				line, err := bad.appendTo(nil)
				if err != nil {
					panic(err)
				}
				return badLine{text: string(line), userID: user}
			}
			return badJSON(good, "subject", "created_at", "", kind)
		}
	}
	return w.file(t, cfg)
}

func (w *writer) comments(comments []*Comment) error {
	t := table{stream: "comments", n: len(comments)}
	cfg := map[string]any{}
	if w.format == CSV {
		t.header = []string{"Comment ID", "Ticket", "Author", "Public", "body_text", "body_html", "Created"}
		t.csvRow = func(i int) []string {
			c := comments[i]
			return []string{c.ID, c.TicketID, c.AuthorID, strings.ToUpper(strconv.FormatBool(c.Public)), c.BodyText, c.BodyHTML, rfc3339(c.CreatedAt)}
		}
		cfg["columns"] = map[string]string{"id": "Comment ID", "ticket_id": "Ticket", "author_id": "Author", "public": "Public", "created_at": "Created"}
		t.kinds = []string{BadBareQuote, BadFieldCount, BadTime, BadBoolean, BadUTF8, BadMissingID}
		t.bad = func(k int, kind string) badLine {
			row := []string{fmt.Sprintf("bad-comment-%d", k), "5001", "200001", "TRUE", "Malformed", "", "2024-01-01T00:00:00Z"}
			return badCSV(row, 0, 4, 6, 3, kind)
		}
	} else {
		// Every key is canonical: the config is the bare path.
		t.json = func(i int) object {
			c := comments[i]
			o := object{{"id", num(c.ID)}, {"ticket_id", num(c.TicketID)}, {"author_id", num(c.AuthorID)}, {"public", c.Public}, {"body_text", c.BodyText}}
			if c.BodyHTML != "" {
				o = append(o, field{"body_html", c.BodyHTML})
			}
			return append(o, field{"created_at", rfc3339(c.CreatedAt)})
		}
		t.kinds = []string{BadNotObject, BadInvalidJSON, BadTime, BadBoolean, BadUTF8, BadMissingID}
		t.bad = func(k int, kind string) badLine {
			good := object{{"id", fmt.Sprintf("bad-comment-%d", k)}, {"ticket_id", "5001"}, {"body_text", "Malformed"}, {"public", true}, {"created_at", "2024-01-01T00:00:00Z"}}
			return badJSON(good, "body_text", "created_at", "public", kind)
		}
	}
	return w.file(t, cfg)
}
