// Package load turns the workspace's canonical records into Intercom calls:
// companies, contacts linked to their companies, and tickets as
// conversations with every comment as a part in source order, keeping the
// source's authors and timestamps.
//
// Every object is written to the workspace's id map as soon as Intercom
// returns it, and every record's outcome to the ledger, so a rerun never
// creates anything twice and resumes a ticket at its first missing part.
package load

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/mail"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/ferryhq/ferry/host/intercom"
	"github.com/ferryhq/ferry/host/phone"
	"github.com/ferryhq/ferry/host/stage"
	"github.com/ferryhq/ferry/sdk/schema"
)

// DefaultConcurrency is how many records load at once unless
// Options.Concurrency says otherwise. Each worker waits on Intercom's
// answer and on the workspace's commit of what it did, and the workspace
// commits the records of all the workers waiting at once: 32 keep
// Intercom's default budget (and ten times it, BenchmarkLoad) busy where 8
// left it idle, and the pacer still holds them to the rate limit.
const DefaultConcurrency = 32

// Options configure a load.
type Options struct {
	// Tables says which workspace table holds each stream's records to
	// load: transformed_<stream> for streams that went through transforms;
	// a stream not in it loads from its own table.
	Tables map[string]string
	// DefaultAdminEmail is the admin agents without an Intercom admin of the
	// same email act as; empty: the token's own admin.
	DefaultAdminEmail string
	// TagMigrated, when set, tags every migrated conversation.
	TagMigrated string
	// TicketType, when set, makes tickets load as Intercom tickets of the
	// type of that name (created when missing) instead of conversations.
	TicketType string
	// CustomAttributes makes custom fields custom attributes (created in
	// preflight when missing) of conversations, contacts and companies.
	CustomAttributes bool
	// SnoozeFor is how long a ticket waiting on someone (pending, on hold)
	// is snoozed for; 0 means DefaultSnooze.
	SnoozeFor time.Duration
	// PhoneCountry is the calling code of phone numbers written without
	// one (see phone.E164).
	PhoneCountry string
	// Concurrency is how many records load at once (DefaultConcurrency). The parts
	// of one conversation always go in order.
	Concurrency int
	// RunID is the workspace run this load belongs to.
	RunID  int64
	Logger *slog.Logger
	// OnOutcome, when set, is told of every record's outcome, for progress.
	OnOutcome func(entity, outcome string)
	// VerifyChecksums makes Verify download each file from the source and
	// from Intercom where their URLs differ, and compare the bytes.
	VerifyChecksums bool
	// ExtractRunning says the extract is still staging (a migration that
	// loads while it extracts): a comment whose ticket is not staged may
	// be waiting for it, rather than be one the source has no ticket for
	// (see stage.Workspace.SkipOrphans), so such comments are left for a
	// load once the extract is done.
	ExtractRunning bool
	// Tickets, Contacts and Companies are SQL conditions (over the tickets,
	// users and organizations tables) narrowing what loads: a filter's or a
	// demo's selection (stage.SelectedTickets and the like). Empty: all.
	Tickets, Contacts, Companies string
}

// Result says what a load did besides the ledger.
type Result struct {
	// UnmappedAgents are the emails of agents with no Intercom admin of the
	// same email; their parts were written as the default admin.
	UnmappedAgents []string
	// DefaultAdmin is the email of the admin unmapped agents act as.
	DefaultAdmin string
	// UnmappedGroups are groups with no Intercom team of the same name.
	UnmappedGroups []string
	// Attributes says which custom attributes preflight created, and which
	// fields' values are left out.
	Attributes Attributes
	// InvisibleCompanies are the companies (source id and name) that no
	// migrated contact is linked to: Intercom does not show them.
	InvisibleCompanies [][2]string
	// CCsLeftOut counts the CC'd people of tickets loaded as Intercom
	// tickets, which take one contact.
	CCsLeftOut int
	// KnowledgeBase says what Intercom could not keep of the knowledge base.
	KnowledgeBase KnowledgeBase
	// PhonesLeftOut counts contacts created without their phone number,
	// which could not be made E.164 (each is logged with its reason).
	PhonesLeftOut int
}

// Loader loads one workspace into one Intercom workspace.
type Loader struct {
	ws   *stage.Workspace
	ic   *intercom.Client
	opts Options
	log  *slog.Logger

	// Set by preflight, read-only afterwards.
	defaultAdmin string            // Intercom admin id
	agentAdmin   map[string]string // source agent id → Intercom admin id
	groupTeam    map[string]string // source group id → Intercom team id
	users        map[string]*schema.User
	// Custom fields → attributes, by ticket field id and by custom field key.
	ticketAttrs, userAttrs, orgAttrs attributeSet
	// asTickets is the ticket type tickets load as; nil: conversations.
	asTickets *ticketTarget
	// preflown is preflight's result, once it ran: a Loader run again (a
	// migration's next load pass) maps and creates nothing twice.
	preflown *Result

	// files asks the source's file hosts whether the files are there.
	files *fileChecker

	mu            sync.Mutex
	phonesLeftOut int
	ccsLeftOut    int
	contacts      map[string]string // source user id → Intercom contact id
	tags          map[string]*tagID // by tag name, lower case
}

// New returns a Loader.
func New(ws *stage.Workspace, ic *intercom.Client, opts Options) *Loader {
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Loader{ws: ws, ic: ic, opts: opts, log: log, tags: map[string]*tagID{},
		files: &fileChecker{client: &http.Client{Timeout: time.Minute}, log: log}}
}

// Run loads everything not yet migrated: companies, then contacts, then
// tickets. Records that fail are recorded with the reason and the run goes
// on; Run returns an error only for what stops the whole load (a bad token,
// a missing default admin, a cancelled context, the workspace failing).
//
// A Loader may run again, over what became ready since (see NarrowTickets):
// preflight runs once, and the counts of the Result add up over the runs.
func (l *Loader) Run(ctx context.Context) (Result, error) {
	if l.preflown == nil {
		res, err := l.preflight(ctx, true)
		if err != nil {
			return res, err
		}
		l.preflown = &res
	}
	res := *l.preflown
	var err error
	if err := l.companies(ctx); err != nil {
		return res, err
	}
	if err := l.contactsStage(ctx); err != nil {
		return res, err
	}
	l.mu.Lock()
	res.PhonesLeftOut = l.phonesLeftOut
	l.mu.Unlock()
	if res.InvisibleCompanies, err = l.ws.CompaniesWithoutContacts(ctx); err != nil {
		return res, err
	}
	if err := l.tickets(ctx); err != nil {
		return res, err
	}
	l.mu.Lock()
	res.CCsLeftOut = l.ccsLeftOut
	l.mu.Unlock()
	if err := l.ws.CascadeTicketOutcomes(ctx, l.opts.RunID); err != nil {
		return res, err
	}
	if !l.opts.ExtractRunning {
		if err := l.ws.SkipOrphans(ctx, l.opts.RunID); err != nil {
			return res, err
		}
	}
	if res.KnowledgeBase, err = l.knowledgeBase(ctx); err != nil {
		return res, err
	}
	return res, l.ws.SkipArticleAttachments(ctx, l.opts.RunID)
}

// NarrowTickets sets the condition (over the tickets) on the tickets the
// next Run loads, as Options.Tickets does, and whether the extract is
// still running (Options.ExtractRunning).
func (l *Loader) NarrowTickets(cond string, extractRunning bool) {
	l.opts.Tickets, l.opts.ExtractRunning = cond, extractRunning
}

// preflight maps agents to admins by email and groups to teams by name:
// Intercom has no API to create either. With create, it creates the
// custom attributes and the ticket type the load needs and Intercom lacks;
// without (a verify), it only maps: what is missing shows as mismatches.
func (l *Loader) preflight(ctx context.Context, create bool) (Result, error) {
	var res Result
	me, err := l.ic.Me(ctx)
	if err != nil {
		return res, fmt.Errorf("check the Intercom token (GET /me): %w", err)
	}
	admins, err := l.ic.ListAdmins(ctx)
	if err != nil {
		return res, fmt.Errorf("list Intercom admins: %w", err)
	}
	byEmail := map[string]intercom.Admin{}
	var emails []string
	for _, a := range admins {
		byEmail[emailKey(a.Email)] = a
		emails = append(emails, a.Email)
	}
	l.defaultAdmin, res.DefaultAdmin = me.ID, me.Email
	if e := l.opts.DefaultAdminEmail; e != "" {
		a, ok := byEmail[emailKey(e)]
		if !ok {
			return res, fmt.Errorf("options.default_admin_email %s is not an admin of the Intercom workspace (its admins: %s)", e, strings.Join(emails, ", "))
		}
		l.defaultAdmin, res.DefaultAdmin = a.ID, a.Email
	}
	teams, err := l.ic.ListTeams(ctx)
	if err != nil {
		return res, fmt.Errorf("list Intercom teams: %w", err)
	}
	teamByName := map[string]string{}
	for _, t := range teams {
		teamByName[teamKey(t.Name)] = t.ID
	}

	l.agentAdmin = map[string]string{}
	l.users = map[string]*schema.User{}
	err = l.ws.Records(ctx, stage.Select{Stream: schema.Users}, func(r schema.Record) error {
		u := r.(*schema.User)
		l.users[u.ID] = u
		if u.Role != schema.RoleAgent {
			return nil
		}
		if a, ok := byEmail[emailKey(u.Email)]; ok && u.Email != "" {
			l.agentAdmin[u.ID] = a.ID
		} else {
			l.agentAdmin[u.ID] = l.defaultAdmin
			res.UnmappedAgents = append(res.UnmappedAgents, u.Email)
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	l.groupTeam = map[string]string{}
	err = l.ws.Records(ctx, stage.Select{Stream: schema.Groups}, func(r schema.Record) error {
		g := r.(*schema.Group)
		if id, ok := teamByName[teamKey(g.Name)]; ok {
			l.groupTeam[g.ID] = id
		} else {
			res.UnmappedGroups = append(res.UnmappedGroups, g.Name)
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	var tickets, users, orgs attributeSet
	if l.opts.CustomAttributes {
		if tickets, users, orgs, err = planAttributes(ctx, l.ws.DB()); err != nil {
			return res, err
		}
	}
	switch {
	case l.opts.TicketType == "":
	case create:
		// Ticket fields become attributes of the ticket type, not of
		// conversations.
		if l.asTickets, err = l.ensureTicketType(ctx, l.opts.TicketType, tickets, &res.Attributes); err != nil {
			return res, fmt.Errorf("prepare ticket type %q: %w", l.opts.TicketType, err)
		}
	default:
		tt, err := l.findTicketType(ctx, l.opts.TicketType)
		if err != nil {
			return res, fmt.Errorf("find ticket type %q: %w", l.opts.TicketType, err)
		}
		l.asTickets = &ticketTarget{}
		if tt != nil {
			l.asTickets.typeID = string(tt.ID)
		}
	}
	if l.opts.CustomAttributes && create {
		convAttrs := tickets
		if l.asTickets != nil {
			convAttrs = nil
		}
		created, err := l.ensureAttributes(ctx, convAttrs, users, orgs)
		if err != nil {
			return res, fmt.Errorf("create custom attributes: %w", err)
		}
		res.Attributes.Created = append(res.Attributes.Created, created.Created...)
		res.Attributes.Skipped = append(res.Attributes.Skipped, created.Skipped...)
		for _, s := range res.Attributes.Skipped {
			l.log.Warn("custom field left out", "reason", s)
		}
	}
	l.ticketAttrs, l.userAttrs, l.orgAttrs = tickets, users, orgs
	if n := len(res.UnmappedAgents); n > 0 {
		l.log.Info("agents without an Intercom admin of the same email act as the default admin",
			"agents", n, "default_admin", res.DefaultAdmin)
	}
	return res, nil
}

// table is the table to load stream's records from.
func (l *Loader) table(stream string) string {
	if t, ok := l.opts.Tables[stream]; ok {
		return t
	}
	return stream
}

// notMigrated selects the records of entity the ledger does not call
// migrated, and that cond (optional) selects.
func notMigrated(entity, cond string) string {
	q := "id NOT IN " + migratedIDs(entity)
	if cond != "" {
		q += " AND (" + cond + ")"
	}
	return q
}

// toLoad selects what a load (the first or a delta) takes of entity: the
// records the ledger does not call migrated, and the migrated ones the
// source changed since (an updated_at later than the one they were
// migrated at), among those cond (optional) selects. A record migrated
// without an updated_at is taken as unchanged: nothing says otherwise.
// Conditions in also select more migrated records as changed.
func toLoad(entity, cond string, also ...string) string {
	q := "(id NOT IN " + migratedIDs(entity) + " OR " + changed(entity)
	for _, a := range also {
		q += " OR " + a
	}
	q += ")"
	if cond != "" {
		q += " AND (" + cond + ")"
	}
	return q
}

// changed is a condition, over a table of entity's records, that holds for
// those migrated at an older updated_at than theirs.
func changed(entity string) string {
	return "updated_at > (SELECT l.source_updated_at FROM ledger l WHERE l.entity = '" + entity + "' AND l.source_id = id AND l.outcome = 'migrated')"
}

// migratedIDs is a subquery of the source ids of entity the ledger calls
// migrated.
func migratedIDs(entity string) string {
	return "(SELECT source_id FROM ledger WHERE entity = '" + entity + "' AND outcome = 'migrated')"
}

// each runs fn over the selected records with the load's concurrency,
// stopping at the first error fn returns (a fatal one: record failures are
// recorded, not returned).
func (l *Loader) each(ctx context.Context, sel stage.Select, fn func(context.Context, schema.Record) error) error {
	return fanOut(ctx, l.opts.Concurrency, func(ctx context.Context, send func(schema.Record) error) error {
		return l.ws.Records(ctx, sel, send)
	}, fn)
}

// fanOut runs work on n workers over what produce sends, stopping at the
// first error either returns.
func fanOut[T any](ctx context.Context, n int, produce func(context.Context, func(T) error) error, work func(context.Context, T) error) error {
	g, ctx := errgroup.WithContext(ctx)
	items := make(chan T)
	for range n {
		g.Go(func() error {
			for v := range items {
				if err := work(ctx, v); err != nil {
					return err
				}
			}
			return nil
		})
	}
	g.Go(func() error {
		defer close(items)
		return produce(ctx, func(v T) error {
			select {
			case items <- v:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	})
	return g.Wait()
}

// record writes an outcome, and says whether the error that caused a
// failure must stop the load.
func (l *Loader) record(ctx context.Context, entity, sourceID, outcome, intercomID string, cause error) error {
	return l.recordAll(ctx, cause, stage.Outcome{Entity: entity, SourceID: sourceID, Outcome: outcome, IntercomID: intercomID})
}

// recordMigrated records that a source record, as of its updated_at, is
// Intercom object intercomID: a delta loads it again once the source's
// updated_at is later.
func (l *Loader) recordMigrated(ctx context.Context, entity, sourceID, intercomID string, updatedAt time.Time) error {
	return l.recordAll(ctx, nil, stage.Outcome{Entity: entity, SourceID: sourceID, Outcome: stage.Migrated, IntercomID: intercomID, SourceUpdatedAt: updatedAt})
}

// recordAll writes outcomes together, the reason being cause's message; a
// cause that must stop the load is returned instead.
func (l *Loader) recordAll(ctx context.Context, cause error, os ...stage.Outcome) error {
	if cause != nil && fatal(ctx, cause) {
		return cause
	}
	for i := range os {
		os[i].Stage, os[i].RunID = "load", l.opts.RunID
		if cause != nil && os[i].Reason == "" {
			os[i].Reason = cause.Error()
		}
	}
	if err := l.ws.SetOutcomes(ctx, os); err != nil {
		return err
	}
	if l.opts.OnOutcome != nil {
		for _, o := range os {
			l.opts.OnOutcome(o.Entity, o.Outcome)
		}
	}
	return nil
}

// settle writes a settlement whose outcomes are the load's, and tells
// OnOutcome of them.
func (l *Loader) settle(ctx context.Context, set stage.Settlement) error {
	for i := range set.Outcomes {
		set.Outcomes[i].Stage, set.Outcomes[i].RunID = "load", l.opts.RunID
	}
	if err := l.ws.Settle(ctx, set); err != nil {
		return err
	}
	if l.opts.OnOutcome != nil {
		for _, o := range set.Outcomes {
			l.opts.OnOutcome(o.Entity, o.Outcome)
		}
	}
	return nil
}

// fatal reports whether err stops the whole load rather than one record:
// no retry of another record would succeed.
func fatal(ctx context.Context, err error) bool {
	if ctx.Err() != nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	switch intercom.StatusCode(err) {
	case http.StatusUnauthorized:
		return true
	case http.StatusForbidden:
		var ie *intercom.Error
		return errors.As(err, &ie) && ie.HasCode("api_plan_restricted")
	}
	return false
}

func (l *Loader) companies(ctx context.Context) error {
	// Upserted by company_id: a delta's changed company is the same call.
	return l.each(ctx, stage.Select{Stream: schema.Organizations, Table: l.table(schema.Organizations), Where: toLoad(stage.EntityCompanies, l.opts.Companies)}, func(ctx context.Context, r schema.Record) error {
		o := r.(*schema.Organization)
		attrs, bad := l.orgAttrs.values(o.CustomFields)
		for _, b := range bad {
			l.log.Warn("custom field value left out of the company", "organization", o.ID, "reason", b)
		}
		sent := time.Now()
		c, err := l.ic.UpsertCompany(ctx, intercom.CompanyRequest{CompanyID: o.ID, Name: o.Name, RemoteCreatedAt: unix(o.CreatedAt), Website: firstDomain(o.Domains), CustomAttributes: attrs})
		if err != nil {
			return l.record(ctx, stage.EntityCompanies, o.ID, stage.Failed, "", fmt.Errorf("create company: %w", err))
		}
		if err := l.adoptCompany(ctx, o.ID, c, sent); err != nil {
			return err
		}
		return l.recordMigrated(ctx, stage.EntityCompanies, o.ID, c.ID, o.UpdatedAt)
	})
}

// adoptCompany maps the company as adopted when Intercom's answer to the
// upsert shows that it existed before (created more than a minute, for
// clock skew, before the upsert was sent): ferry undo leaves it. The id
// map keeps what it recorded first, so this changes nothing for a company
// ferry created in an earlier run; and a company an undo deleted that the
// upsert brought back (Intercom archives a deleted company) is ferry's.
func (l *Loader) adoptCompany(ctx context.Context, sourceID string, c *intercom.Company, sent time.Time) error {
	if c.CreatedAt == 0 || c.CreatedAt >= sent.Add(-time.Minute).Unix() {
		return nil
	}
	if undone, err := l.ws.Undone(ctx, stage.EntityCompanies, sourceID, c.ID); err != nil || undone {
		return err
	}
	return l.ws.MapAdopted(ctx, stage.EntityCompanies, sourceID, c.ID, l.opts.RunID)
}

func firstDomain(domains []string) string {
	if len(domains) == 0 {
		return ""
	}
	return "https://" + domains[0]
}

func (l *Loader) contactsStage(ctx context.Context) error {
	var err error
	if l.contacts, err = l.ws.IDMap(ctx, stage.EntityContacts); err != nil {
		return err
	}
	companies, err := l.ws.IDMap(ctx, stage.EntityCompanies)
	if err != nil {
		return err
	}
	migrated, err := l.ws.Outcomes(ctx, stage.EntityContacts)
	if err != nil {
		return err
	}
	keeper, err := l.duplicateEmails(ctx)
	if err != nil {
		return err
	}
	var mu sync.Mutex // guards migrated, tried and dups
	tried := map[string]bool{}
	isMigrated := func(id string) bool {
		mu.Lock()
		defer mu.Unlock()
		return migrated[id] == stage.Migrated
	}
	one := func(ctx context.Context, u *schema.User) error {
		mu.Lock()
		tried[u.ID] = true
		mu.Unlock()
		id, mapped := l.contactOf(u.ID)
		if mapped && isMigrated(u.ID) {
			// A delta: the source changed a user migrated before.
			if err := checkEmail(u.Email); err != nil {
				return l.record(ctx, stage.EntityContacts, u.ID, stage.Failed, id, err)
			}
			if _, err := l.ic.UpdateContact(ctx, id, l.contactRequest(u)); err != nil {
				return l.record(ctx, stage.EntityContacts, u.ID, stage.Failed, id, fmt.Errorf("update the contact with the source's changes: %w", err))
			}
		} else {
			var err error
			if id, err = l.contact(ctx, u); err != nil {
				return l.record(ctx, stage.EntityContacts, u.ID, stage.Failed, "", err)
			}
		}
		if u.OrganizationID != "" {
			companyID, ok := companies[u.OrganizationID]
			if !ok {
				return l.record(ctx, stage.EntityContacts, u.ID, stage.Failed, id,
					fmt.Errorf("contact created, but its organization %s was not migrated (see companies)", u.OrganizationID))
			}
			if _, err := l.ic.AttachContactToCompany(ctx, id, companyID); err != nil {
				return l.record(ctx, stage.EntityContacts, u.ID, stage.Failed, id,
					fmt.Errorf("contact created, but linking it to company %s failed: %w", companyID, err))
			}
		}
		if err := l.recordMigrated(ctx, stage.EntityContacts, u.ID, id, u.UpdatedAt); err != nil {
			return err
		}
		mu.Lock()
		migrated[u.ID] = stage.Migrated
		mu.Unlock()
		return nil
	}
	where := "(" + stage.ContactUsers + ") AND " + toLoad(stage.EntityContacts, l.opts.Contacts)
	var dups []*schema.User
	err = l.each(ctx, stage.Select{Stream: schema.Users, Table: l.table(schema.Users), Where: where}, func(ctx context.Context, r schema.Record) error {
		u := r.(*schema.User)
		if _, dup := keeper[u.ID]; dup {
			mu.Lock()
			dups = append(dups, u)
			mu.Unlock()
			return nil
		}
		return one(ctx, u)
	})
	if err != nil {
		return err
	}
	// The users who share an email with another, once that one's contact
	// is made (here, when this load did not select it), one at a time.
	slices.SortFunc(dups, func(a, b *schema.User) int { return strings.Compare(a.ID, b.ID) })
	for _, u := range dups {
		k := keeper[u.ID]
		if _, ok := l.contactOf(k); (!ok || !isMigrated(k)) && !tried[k] {
			// As the transforms left it, if they left it.
			err := l.ws.Records(ctx, stage.Select{Stream: schema.Users, Table: l.table(schema.Users), Where: "id = ?", Args: []any{k}}, func(r schema.Record) error {
				return one(ctx, r.(*schema.User))
			})
			if err != nil {
				return err
			}
		}
		id, ok := l.contactOf(k)
		if !ok || !isMigrated(k) {
			if err := l.record(ctx, stage.EntityContacts, u.ID, stage.Failed, "", fmt.Errorf(
				"it has the email of user %s (%s), whose contact could not be created (see contacts); Intercom keeps one contact per email", k, u.Email)); err != nil {
				return err
			}
			continue
		}
		if cur, mapped := l.contactOf(u.ID); !mapped || cur != id {
			// Adopted: the contact is user k's, and ferry undo deletes it
			// as that user's.
			if err := l.ws.MapAdopted(ctx, stage.EntityContacts, u.ID, id, l.opts.RunID); err != nil {
				return err
			}
			l.mu.Lock()
			l.contacts[u.ID] = id
			l.mu.Unlock()
		}
		err := l.recordAll(ctx, nil, stage.Outcome{Entity: stage.EntityContacts, SourceID: u.ID, Outcome: stage.Skipped, IntercomID: id,
			Reason: fmt.Sprintf("same email as user %s (%s): Intercom keeps one contact per email, so this user's tickets and comments are that user's contact's", k, u.Email)})
		if err != nil {
			return err
		}
	}
	return nil
}

// duplicateEmails maps each user who becomes a contact and shares its
// email (whatever its case) with an earlier one to the earliest of them
// (by created_at, then id): Intercom keeps one contact per email, that
// one's.
func (l *Loader) duplicateEmails(ctx context.Context) (map[string]string, error) {
	rows, err := l.ws.DB().QueryContext(ctx, `
WITH c AS (
  SELECT id, lower(trim(email)) AS e, created_at FROM `+stage.QuoteIdent(l.table(schema.Users))+`
  WHERE (`+stage.ContactUsers+`) AND trim(coalesce(email, '')) <> ''
), k AS (
  SELECT id, first_value(id) OVER (PARTITION BY e ORDER BY created_at NULLS LAST, id) AS keeper FROM c
)
SELECT id, keeper FROM k WHERE id <> keeper`)
	if err != nil {
		return nil, fmt.Errorf("find users who share an email: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, keeper string
		if err := rows.Scan(&id, &keeper); err != nil {
			return nil, fmt.Errorf("find users who share an email: %w", err)
		}
		out[id] = keeper
	}
	return out, rows.Err()
}

// checkEmail says why Intercom refuses email as a contact's, before it is
// sent: an address it cannot parse. No email at all is fine (a contact is
// also known by its external id).
func checkEmail(email string) error {
	if email == "" {
		return nil
	}
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != strings.TrimSpace(email) {
		return fmt.Errorf("its email %q is not a valid email address, which Intercom refuses: correct it in the source (or with a transform) and run again", email)
	}
	return nil
}

// contactOf is the Intercom contact of source user id, when it has one.
func (l *Loader) contactOf(id string) (string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c, ok := l.contacts[id]
	return c, ok
}

// contactRequest is the contact of end user u: a phone number that cannot
// be made E.164 and custom field values of the wrong type are left out
// (and logged), never failing the contact.
func (l *Loader) contactRequest(u *schema.User) intercom.ContactRequest {
	var tel string
	if u.Phone != "" {
		var err error
		if tel, err = phone.E164(u.Phone, l.opts.PhoneCountry); err != nil {
			l.log.Warn("phone number left out of the contact: not E.164", "user", u.ID, "reason", err.Error())
			l.mu.Lock()
			l.phonesLeftOut++
			l.mu.Unlock()
		}
	}
	attrs, bad := l.userAttrs.values(u.CustomFields)
	for _, b := range bad {
		l.log.Warn("custom field value left out of the contact", "user", u.ID, "reason", b)
	}
	return intercom.ContactRequest{
		Role: intercom.RoleUser, ExternalID: u.ID, Email: u.Email, Name: u.Name, Phone: tel, SignedUpAt: unix(u.CreatedAt), CustomAttributes: attrs,
	}
}

// contact returns the Intercom contact of end user u, creating it unless an
// earlier run did, and adopting the existing contact when Intercom already
// has one with the same email or external id.
func (l *Loader) contact(ctx context.Context, u *schema.User) (string, error) {
	if id, ok := l.contactOf(u.ID); ok {
		return id, nil
	}
	if err := checkEmail(u.Email); err != nil {
		return "", err
	}
	c, err := l.ic.CreateContact(ctx, l.contactRequest(u))
	var id string
	mapID := l.ws.MapID
	switch {
	case err == nil:
		id = c.ID
	default:
		existing, ok := intercom.ExistingContactID(err)
		if !ok {
			return "", fmt.Errorf("create contact: %w", err)
		}
		l.log.Info("adopting an existing Intercom contact", "user", u.ID, "contact", existing)
		// Mapped as adopted: ferry undo leaves a contact ferry did not create.
		id, mapID = existing, l.ws.MapAdopted
	}
	if err := mapID(ctx, stage.EntityContacts, u.ID, id, l.opts.RunID); err != nil {
		return "", err
	}
	l.mu.Lock()
	l.contacts[u.ID] = id
	l.mu.Unlock()
	return id, nil
}
