package load

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/ferryhq/ferry/host/intercom"
	"github.com/ferryhq/ferry/host/stage"
)

// Teammates is how the help desk's agents and groups map onto the Intercom
// workspace's admins and teams (Intercom has no API to create either), as
// a load would map them.
type Teammates struct {
	// DefaultAdmin is the email of the admin unmapped agents act as.
	DefaultAdmin string
	Agents       []AgentMapping
	Groups       []GroupMapping
	// teams holds the source group ids that have a team.
	teams []string
}

// AgentMapping is one agent's admin ("" when unmapped: the default admin).
type AgentMapping struct{ ID, Name, Email, Admin string }

// GroupMapping is one group's team ("" when none has its name).
type GroupMapping struct{ ID, Name, Team string }

// emailKey and teamKey are how agents meet admins (by email) and groups
// meet teams (by name), for the loader and the plan alike.
func emailKey(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
func teamKey(s string) string  { return strings.ToLower(strings.TrimSpace(s)) }

// MapTeammates reads the Intercom workspace's admins and teams (reads only)
// and maps the staged agents and groups onto them.
func MapTeammates(ctx context.Context, ic *intercom.Client, db *sql.DB, defaultAdminEmail string) (Teammates, error) {
	var tm Teammates
	me, err := ic.Me(ctx)
	if err != nil {
		return tm, fmt.Errorf("check the Intercom token (GET /me): %w", err)
	}
	admins, err := ic.ListAdmins(ctx)
	if err != nil {
		return tm, fmt.Errorf("list Intercom admins: %w", err)
	}
	teams, err := ic.ListTeams(ctx)
	if err != nil {
		return tm, fmt.Errorf("list Intercom teams: %w", err)
	}
	adminEmail := map[string]string{}
	for _, a := range admins {
		adminEmail[emailKey(a.Email)] = a.Email
	}
	tm.DefaultAdmin = me.Email
	if defaultAdminEmail != "" {
		e, ok := adminEmail[emailKey(defaultAdminEmail)]
		if !ok {
			return tm, fmt.Errorf("options.default_admin_email %s is not an admin of the Intercom workspace", defaultAdminEmail)
		}
		tm.DefaultAdmin = e
	}
	teamName := map[string]string{}
	for _, t := range teams {
		teamName[teamKey(t.Name)] = t.Name
	}
	rows, err := db.QueryContext(ctx, `SELECT id, coalesce(name, ''), coalesce(email, '') FROM users WHERE role = 'agent' ORDER BY name, id`)
	if err != nil {
		return tm, fmt.Errorf("read the agents: %w", err)
	}
	for rows.Next() {
		var a AgentMapping
		if err := rows.Scan(&a.ID, &a.Name, &a.Email); err != nil {
			rows.Close()
			return tm, fmt.Errorf("read the agents: %w", err)
		}
		if a.Email != "" {
			a.Admin = adminEmail[emailKey(a.Email)]
		}
		tm.Agents = append(tm.Agents, a)
	}
	rows.Close()
	rows, err = db.QueryContext(ctx, `SELECT id, coalesce(name, '') FROM groups ORDER BY name, id`)
	if err != nil {
		return tm, fmt.Errorf("read the groups: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var g GroupMapping
		if err := rows.Scan(&g.ID, &g.Name); err != nil {
			return tm, fmt.Errorf("read the groups: %w", err)
		}
		g.Team = teamName[teamKey(g.Name)]
		if g.Team != "" {
			tm.teams = append(tm.teams, g.ID)
		}
		tm.Groups = append(tm.Groups, g)
	}
	return tm, rows.Err()
}

// EstimateOptions are the load's options that change its calls.
type EstimateOptions struct {
	TagMigrated      string
	CustomAttributes bool
	// TicketType says tickets load as Intercom tickets (see
	// Options.TicketType).
	TicketType string
	// Client reads the attributes Intercom has (with CustomAttributes).
	Client *intercom.Client
}

// attributeCalls counts the calls preflight makes about custom
// attributes: a list per model that has fields, and a create for each
// attribute Intercom lacks (reading Intercom to know which).
func attributeCalls(ctx context.Context, ic *intercom.Client, tickets, users, orgs attributeSet) (int64, error) {
	var n int64
	for _, m := range modelSets(tickets, users, orgs) {
		n++
		existing, err := existingAttributes(ctx, ic, m.model)
		if err != nil {
			return 0, err
		}
		for _, a := range m.set {
			if _, ok := existing[strings.ToLower(a.name)]; !ok {
				n++
			}
		}
	}
	return n, nil
}

// Calls estimates the Intercom calls a load sends, by kind.
type Calls struct {
	Preflight     int64 // GET /me, /admins, /teams
	Companies     int64 // POST /companies
	Contacts      int64 // POST /contacts
	CompanyLinks  int64 // POST /contacts/{id}/companies
	Conversations int64 // POST /conversations
	Parts         int64 // POST /conversations/{id}/reply
	Participants  int64 // POST /conversations/{id}/customers
	TagCreates    int64 // POST /tags, once per tag name
	Tags          int64 // POST /conversations/{id}/tags
	Titles        int64 // PUT /conversations/{id} (title and custom attributes)
	Attributes    int64 // GET and POST /data_attributes, /conversations/attributes
	Collections   int64 // POST /help_center/collections
	Articles      int64 // POST /articles
	Assignments   int64 // POST /conversations/{id}/parts (assignment)
	States        int64 // POST /conversations/{id}/parts (close, snooze)
	// Unloadable tickets fail before any call: their requester is not a
	// contact (not in the source).
	Unloadable int64
}

// Total is every call.
func (c Calls) Total() int64 {
	return c.Preflight + c.Attributes + c.Collections + c.Articles + c.Companies + c.Contacts + c.CompanyLinks + c.Conversations + c.Parts + c.Participants +
		c.TagCreates + c.Tags + c.Titles + c.Assignments + c.States
}

// Duration is how long the calls take at limit calls per window, with
// nothing failing: the lower bound of the load.
func (c Calls) Duration(limit int, window time.Duration) time.Duration {
	if limit <= 0 {
		return 0
	}
	return time.Duration(float64(c.Total()) / float64(limit) * float64(window))
}

// EstimateCalls counts the calls a load of sel would send, by the loader's
// own rules (a first comment by the requester opens the conversation; five
// attachments a part; statuses that close or snooze), on a workspace
// database opened by stage.Open or stage.OpenReadOnly. What an earlier run
// migrated is not counted; retries and reads after lost answers are not
// either.
func EstimateCalls(ctx context.Context, db *sql.DB, sel stage.Selection, tm Teammates, opts EstimateOptions) (Calls, error) {
	c := Calls{Preflight: 3}
	tagMigrated := opts.TagMigrated
	hasAttrs := "false"
	asTickets := opts.TicketType != ""
	var tickets, users, orgs attributeSet
	if opts.CustomAttributes {
		var err error
		if tickets, users, orgs, err = planAttributes(ctx, db); err != nil {
			return c, err
		}
		convAttrs := tickets
		if asTickets {
			convAttrs = nil
		}
		if c.Attributes, err = attributeCalls(ctx, opts.Client, convAttrs, users, orgs); err != nil {
			return c, err
		}
		var ids []string
		for id := range tickets {
			ids = append(ids, "'"+strings.ReplaceAll(id, "'", "''")+"'")
		}
		if len(ids) > 0 {
			hasAttrs = "EXISTS (SELECT 1 FROM json_each(lt.custom_fields) AS j WHERE j.key IN (" + strings.Join(ids, ", ") + ") AND json_type(j.value) <> 'NULL')"
		}
	}
	if asTickets {
		n, err := ticketTypeCalls(ctx, opts.Client, opts.TicketType, tickets)
		if err != nil {
			return c, err
		}
		c.Attributes += n
	}
	// An Intercom ticket's description takes no attachments: a first
	// comment with some is a part of its own.
	opensWith := "c.n = 1 AND c.public AND c.author_id = lt.requester_id"
	if asTickets {
		opensWith += " AND coalesce(a.k, 0) = 0"
	}
	with, args := stage.SelectionCTEs(sel)
	onlyReferenced := sel.Demo > 0
	quote := func(ss []string) string {
		if len(ss) == 0 {
			return "NULL"
		}
		q := make([]string, len(ss))
		for i, s := range ss {
			q[i] = "'" + strings.ReplaceAll(s, "'", "''") + "'"
		}
		return strings.Join(q, ", ")
	}
	var closed, snoozed []string
	for s := range closedStatuses {
		closed = append(closed, s)
	}
	for s := range snoozedStatuses {
		snoozed = append(snoozed, s)
	}
	tagOne := int64(0)
	if tagMigrated != "" {
		tagOne = 1
	}
	// t: the tickets to load whose requester becomes a contact.
	q := with + `, contact_users AS (SELECT id FROM users WHERE ` + stage.ContactUsers + `),
t AS (SELECT * FROM tickets WHERE id IN (SELECT id FROM sel) AND id NOT IN ` + migratedIDs("tickets") + `),
lt AS (SELECT * FROM t WHERE requester_id IN (SELECT id FROM contact_users)),
c AS (SELECT c.id, c.ticket_id, c.author_id, c.public, row_number() OVER (PARTITION BY c.ticket_id ORDER BY c.created_at, c.id) AS n
      FROM comments c WHERE c.ticket_id IN (SELECT id FROM lt)),
a AS (SELECT comment_id, count(*) AS k FROM attachments WHERE ticket_id IN (SELECT id FROM lt) GROUP BY comment_id),
cc AS (SELECT DISTINCT lt.id, x.cc FROM lt, unnest(lt.cc_ids) AS x(cc) WHERE x.cc <> lt.requester_id AND x.cc IN (SELECT id FROM contact_users))
SELECT
  (SELECT count(*) FROM t) - (SELECT count(*) FROM lt),
  (SELECT count(*) FROM lt),
  (SELECT coalesce(sum(greatest(1, ceil(coalesce(a.k, 0) / ` + fmt.Sprint(maxAttachmentsPerPart) + `.0))::BIGINT
      - CASE WHEN ` + opensWith + ` THEN 1 ELSE 0 END), 0)::BIGINT
   FROM c JOIN lt ON lt.id = c.ticket_id LEFT JOIN a ON a.comment_id = c.id
   WHERE c.id NOT IN ` + migratedIDs("comments") + `),
  (SELECT count(*) FROM cc),
  (SELECT coalesce(sum(len(coalesce(tags, []))) + count(*) * ` + fmt.Sprint(tagOne) + `, 0)::BIGINT FROM lt),
  (SELECT count(DISTINCT lower(x.tag)) FROM lt, unnest(lt.tags) AS x(tag)),
  (SELECT count(*) FROM lt WHERE coalesce(subject, '') <> '' OR (custom_fields IS NOT NULL AND ` + hasAttrs + `)),
  (SELECT count(*) FROM lt WHERE assignee_id IN (SELECT id FROM users WHERE role = 'agent'))
    + (SELECT count(*) FROM lt WHERE group_id IN (` + quote(tm.teams) + `)),
  (SELECT count(*) FROM lt WHERE lower(status) IN (` + quote(closed) + `) OR lower(status) IN (` + quote(snoozed) + `)),
  (SELECT count(*) FROM users WHERE ` + stage.ContactsCondition(onlyReferenced) + ` AND id NOT IN ` + migratedIDs("contacts") + `),
  (SELECT count(*) FROM users WHERE ` + stage.ContactsCondition(onlyReferenced) + ` AND id NOT IN ` + migratedIDs("contacts") + ` AND coalesce(organization_id, '') <> ''),
  (SELECT count(*) FROM organizations WHERE ` + stage.CompaniesCondition(onlyReferenced) + ` AND id NOT IN ` + migratedIDs("companies") + `)`
	err := db.QueryRowContext(ctx, q, args...).Scan(&c.Unloadable, &c.Conversations, &c.Parts, &c.Participants, &c.Tags, &c.TagCreates,
		&c.Titles, &c.Assignments, &c.States, &c.Contacts, &c.CompanyLinks, &c.Companies)
	if err != nil {
		return c, fmt.Errorf("estimate the Intercom calls: %w", err)
	}
	if tagMigrated != "" {
		c.TagCreates++
	}
	// The knowledge base: what hangs from a category that loads (a
	// collection whose parent is missing fails, and its articles with it).
	kb := `WITH RECURSIVE r AS (
  SELECT id FROM kb_categories WHERE coalesce(parent_id, '') = ''
  UNION SELECT k.id FROM kb_categories k JOIN r ON k.parent_id = r.id)
SELECT (SELECT count(*) FROM r WHERE id NOT IN ` + migratedIDs("collections") + `),
  (SELECT count(*) FROM kb_articles WHERE (coalesce(parent_id, '') = '' OR parent_id IN (SELECT id FROM r)) AND id NOT IN ` + migratedIDs("articles") + `)`
	if err := db.QueryRowContext(ctx, kb).Scan(&c.Collections, &c.Articles); err != nil {
		return c, fmt.Errorf("estimate the knowledge base's calls: %w", err)
	}
	if asTickets {
		// Title, attributes and assignment go with the create; CCs cannot.
		c.Titles, c.Assignments, c.Participants = 0, 0, 0
	}
	return c, nil
}

// ticketTypeCalls counts the calls preflight makes about the ticket type:
// the list, its create when missing, and the attributes it lacks.
func ticketTypeCalls(ctx context.Context, ic *intercom.Client, name string, set attributeSet) (int64, error) {
	types, err := ic.ListTicketTypes(ctx)
	if err != nil {
		return 0, err
	}
	n := int64(1)
	have := map[string]bool{}
	found := false
	for _, tt := range types {
		if !tt.Archived && strings.EqualFold(strings.TrimSpace(tt.Name), strings.TrimSpace(name)) {
			found = true
			for _, a := range tt.Attributes.List {
				have[strings.ToLower(a.Name)] = true
			}
			break
		}
	}
	if !found {
		n++
	}
	for _, a := range set {
		if !have[strings.ToLower(a.name)] {
			n++
		}
	}
	return n, nil
}
