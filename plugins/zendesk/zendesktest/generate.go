package zendesktest

import (
	"cmp"
	"fmt"
	"html"
	"math"
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"time"
)

// GenerateOptions size and seed a generated help desk. A zero field takes
// its default; the defaults are the demo's help desk.
type GenerateOptions struct {
	// Seed picks the help desk: the same options give the same help desk,
	// byte for byte.
	Seed uint64
	// Tickets is the number of tickets (default 200).
	Tickets int
	// EndUsers is the number of end users (default 60).
	EndUsers int
	// Agents is the number of agents, two of them admins (default 8).
	Agents int
	// Groups is the number of agent groups (default 3).
	Groups int
	// Organizations is the number of customer organizations (default 15).
	Organizations int
	// MaxComments is the most comments a ticket has (default 12); a ticket
	// has at least one.
	MaxComments int
	// Articles is the number of help center articles (default 24).
	Articles int
	// End bounds every timestamp of the help desk (default
	// 2026-01-01T00:00:00Z). It is fixed rather than the current time so
	// that a seed means one help desk whenever it is generated.
	End time.Time
	// Span is how far before End tickets go back (default two years).
	Span time.Duration
	// Subdomain is the account's name (default "acme").
	Subdomain string
	// Domain is the help desk's email domain (default Subdomain + ".example").
	Domain string
}

func (o GenerateOptions) withDefaults() GenerateOptions {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.Tickets, 200)
	def(&o.EndUsers, 60)
	def(&o.Agents, 8)
	def(&o.Groups, 3)
	def(&o.Organizations, 15)
	def(&o.MaxComments, 12)
	def(&o.Articles, 24)
	if o.End.IsZero() {
		o.End = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	o.End = o.End.UTC().Truncate(time.Second)
	if o.Span <= 0 {
		o.Span = 2 * 365 * 24 * time.Hour
	}
	if o.Subdomain == "" {
		o.Subdomain = "acme"
	}
	if o.Domain == "" {
		o.Domain = o.Subdomain + ".example"
	}
	return o
}

const day = 24 * time.Hour

// generator holds one Generate call's state.
type generator struct {
	o   GenerateOptions
	rng *rand.Rand
	hd  *HelpDesk

	usedIDs    map[int64]bool
	usedEmails map[string]bool
	// accountStart is when the Zendesk account was opened: before every
	// record.
	accountStart time.Time

	agents       []*User
	endUsers     []*User // active end users, oldest first: the possible requesters
	orgDomains   map[int64]string
	orgTier      map[int64]string
	statusIDs    map[string]int64
	brandID      int64
	ticketFormID int64
	agentRoleID  int64 // the custom role of agents who are not admins

	fields struct {
		product, orderNumber, reference, followUp, vip *TicketField
	}
}

// Generate builds a help desk: users, organizations, groups, ticket fields,
// tickets with their conversations and histories, and a help center,
// deterministically from opts.
func Generate(opts GenerateOptions) *HelpDesk {
	o := opts.withDefaults()
	g := &generator{
		o:   o,
		rng: rand.New(rand.NewPCG(o.Seed, 0x7a656e6465736b)),
		hd: &HelpDesk{
			Subdomain: o.Subdomain,
			Domain:    o.Domain,
		},
		usedIDs:      map[int64]bool{},
		usedEmails:   map[string]bool{},
		accountStart: o.End.Add(-o.Span - 365*day),
		orgDomains:   map[int64]string{},
		orgTier:      map[int64]string{},
		statusIDs:    map[string]int64{},
	}
	g.brandID = g.id(g.accountStart)
	g.ticketFormID = g.id(g.accountStart)
	g.agentRoleID = g.id(g.accountStart)
	for _, s := range []string{StatusNew, StatusOpen, StatusPending, StatusHold, StatusSolved, StatusClosed} {
		g.statusIDs[s] = g.id(g.accountStart)
	}
	g.groups()
	g.ticketFields()
	g.organizations()
	g.agentUsers()
	g.endUserAccounts()
	g.tickets()
	g.ensureManyAttachments()
	// What follows came later: it draws from the generator after all the
	// above, so that a seed still gives the help desk it gave before.
	g.histories()
	g.helpCenter()
	return g.hd
}

// id returns a new Zendesk-like id for a record created at t. Zendesk's
// ids are 64-bit and grow with time, so that sorting by id sorts by
// creation; these do too, at 13 to 14 digits like real accounts'.
func (g *generator) id(t time.Time) int64 {
	base := int64(10_000_000_000_000) + t.Unix()*1000
	id := base + g.rng.Int64N(1000)
	for g.usedIDs[id] {
		id++
	}
	g.usedIDs[id] = true
	return id
}

func pick[T any](r *rand.Rand, s []T) T { return s[r.IntN(len(s))] }

func (g *generator) chance(p float64) bool { return g.rng.Float64() < p }

// between returns a time in [from, to), to the second.
func (g *generator) between(from, to time.Time) time.Time {
	if !to.After(from) {
		return from.Truncate(time.Second)
	}
	return from.Add(time.Duration(g.rng.Int64N(int64(to.Sub(from))))).Truncate(time.Second)
}

// duration returns a duration in [from, to).
func (g *generator) duration(from, to time.Duration) time.Duration {
	return from + time.Duration(g.rng.Int64N(int64(to-from)))
}

func ptr[T any](v T) *T { return &v }

func (g *generator) groups() {
	for i := range g.o.Groups {
		name := groupNames[i%len(groupNames)]
		if i >= len(groupNames) {
			name = fmt.Sprintf("%s %d", name, i/len(groupNames)+1)
		}
		created := g.accountStart.Add(time.Duration(i) * day)
		g.hd.Groups = append(g.hd.Groups, Group{
			ID: g.id(created), Name: name, Description: name + " team", Default: i == 0, IsPublic: true,
			CreatedAt: created, UpdatedAt: g.between(created, g.o.End.Add(-g.o.Span)),
		})
	}
}

func (g *generator) ticketFields() {
	created := g.accountStart
	updated := g.accountStart.Add(2 * day)
	system := func(typ, title string, removable bool, opts []FieldOption, subType bool) {
		f := TicketField{
			ID: g.id(created), Type: typ, Title: title, RawTitle: title, Description: title, RawDescription: title,
			Position: len(g.hd.TicketFields), Active: true, TitleInPortal: title, RawTitleInPortal: title,
			VisibleInPortal: typ == "subject" || typ == "description", EditableInPortal: typ == "subject" || typ == "description",
			RequiredInPortal: typ == "subject" || typ == "description", CreatedAt: created, UpdatedAt: updated,
			Removable: removable, SystemFieldOptions: opts,
		}
		if subType {
			f.SubTypeID = ptr(int64(0))
		}
		g.hd.TicketFields = append(g.hd.TicketFields, f)
	}
	options := func(pairs ...string) []FieldOption {
		var opts []FieldOption
		for i := 0; i < len(pairs); i += 2 {
			opts = append(opts, FieldOption{Name: pairs[i], Value: pairs[i+1]})
		}
		return opts
	}
	system("subject", "Subject", false, nil, false)
	system("description", "Description", false, nil, false)
	system("status", "Status", false, options("Open", "open", "Pending", "pending", "On-hold", "hold", "Solved", "solved"), true)
	system("tickettype", "Type", true, options("Question", "question", "Incident", "incident", "Problem", "problem", "Task", "task"), false)
	system("priority", "Priority", true, options("Low", "low", "Normal", "normal", "High", "high", "Urgent", "urgent"), true)
	system("group", "Group", false, nil, false)
	system("assignee", "Assignee", false, nil, false)

	created = g.accountStart.Add(30 * day)
	custom := func(typ, title, description string, regexp, tag *string, opts []FieldOption) {
		g.hd.TicketFields = append(g.hd.TicketFields, TicketField{
			ID: g.id(created), Type: typ, Title: title, RawTitle: title, Description: description, RawDescription: description,
			Position: len(g.hd.TicketFields), Active: true, RegexpForValidation: regexp, TitleInPortal: title,
			RawTitleInPortal: title, VisibleInPortal: typ == "tagger", EditableInPortal: typ == "tagger", Tag: tag,
			CreatedAt: created, UpdatedAt: g.between(created, g.o.End.Add(-g.o.Span)), Removable: true,
			CustomFieldOptions: opts,
		})
	}
	var products []FieldOption
	for _, p := range [][2]string{{"Web app", "web_app"}, {"Mobile app", "mobile_app"}, {"Billing", "billing"},
		{"Reporting", "reporting"}, {"API", "api"}, {"Hardware", "hardware"}} {
		products = append(products, FieldOption{ID: g.id(created), Name: p[0], RawName: p[0], Value: "product_" + p[1], Default: ptr(false)})
	}
	custom("tagger", "Product", "The product the request is about", nil, nil, products)
	custom("integer", "Order number", "The customer's order number, if any", ptr(`\A[-+]?\d+\z`), nil, nil)
	custom("text", "Customer reference", "The customer's own reference for the request", nil, nil, nil)
	custom("date", "Follow-up date", "When to check back with the customer",
		ptr(`\A([0-9]{4})-(1[0-2]|0[1-9])-(3[01]|[12][0-9]|0[1-9])\z`), nil, nil)
	custom("checkbox", "VIP customer", "The requester is on a VIP plan", nil, ptr("vip_customer"), nil)
	// Take the pointers once the slice has stopped growing.
	n := len(g.hd.TicketFields)
	g.fields.product = &g.hd.TicketFields[n-5]
	g.fields.orderNumber = &g.hd.TicketFields[n-4]
	g.fields.reference = &g.hd.TicketFields[n-3]
	g.fields.followUp = &g.hd.TicketFields[n-2]
	g.fields.vip = &g.hd.TicketFields[n-1]
}

func (g *generator) organizations() {
	start := g.o.End.Add(-g.o.Span)
	used := map[string]bool{}
	for i := range g.o.Organizations {
		var word, suffix, name string
		for try := 0; ; try++ {
			word, suffix = pick(g.rng, companyWords), pick(g.rng, companySuffixes)
			name = word + " " + suffix
			if try > 20 {
				name = fmt.Sprintf("%s %d", name, i)
			}
			if !used[name] {
				break
			}
		}
		used[name] = true
		domain := strings.ToLower(strings.ReplaceAll(name, " ", "-")) + ".example"
		created := g.between(g.accountStart, start)
		tier := pick(g.rng, []string{"standard", "standard", "gold", "platinum"})
		org := Organization{
			ID: g.id(created), Name: name, SharedTickets: g.chance(0.5), SharedComments: g.chance(0.3),
			CreatedAt: created, UpdatedAt: g.between(created, g.o.End), DomainNames: []string{domain},
			Tags:               []string{},
			OrganizationFields: map[string]any{"region": pick(g.rng, regions), "tier": tier},
		}
		if tier == "platinum" {
			org.Tags = append(org.Tags, "enterprise")
		}
		if g.chance(0.2) {
			org.ExternalID = ptr(fmt.Sprintf("CRM-%05d", 10000+i))
		}
		if g.chance(0.2) {
			org.Notes = ptr("Renewal due in Q" + fmt.Sprint(1+g.rng.IntN(4)))
		}
		g.orgDomains[org.ID] = domain
		g.orgTier[org.ID] = tier
		g.hd.Organizations = append(g.hd.Organizations, org)
	}
	slices.SortFunc(g.hd.Organizations, func(a, b Organization) int { return cmp.Compare(a.ID, b.ID) })
}

// email returns an unused address for a person on domain.
func (g *generator) email(first, last, domain string) string {
	local := strings.ToLower(first + "." + strings.ReplaceAll(last, "'", ""))
	addr := local + "@" + domain
	for n := 2; g.usedEmails[addr]; n++ {
		addr = fmt.Sprintf("%s%d@%s", local, n, domain)
	}
	g.usedEmails[addr] = true
	return addr
}

// phone returns a fictional number (the ranges broadcasters use), written
// the various ways people type them.
func (g *generator) phone() string {
	n := g.rng.IntN(100)
	switch g.rng.IntN(4) {
	case 0:
		return fmt.Sprintf("+1415555%04d", 100+n)
	case 1:
		return fmt.Sprintf("+1 (415) 555-%04d", 100+n)
	case 2:
		return fmt.Sprintf("+4420794600%02d", n)
	default:
		return fmt.Sprintf("+44 20 7946 0%03d", n)
	}
}

func (g *generator) newUser(role, name, email string, created time.Time) User {
	tz := pick(g.rng, timeZones)
	type locale struct {
		id   int64
		name string
	}
	loc := pick(g.rng, []locale{{1, "en-US"}, {1, "en-US"}, {1, "en-US"}, {8, "de"}, {16, "fr"}, {67, "ja"}})
	u := User{
		ID: g.id(created), Name: name, Email: ptr(email), CreatedAt: created,
		UpdatedAt: g.between(created, g.o.End), TimeZone: tz[0], IANATimeZone: tz[1],
		LocaleID: loc.id, Locale: loc.name, Role: role, Verified: true, Tags: []string{}, Active: true,
		UserFields: map[string]any{"plan": nil, "account_number": nil},
	}
	return u
}

func (g *generator) agentUsers() {
	start := g.o.End.Add(-g.o.Span)
	for i := range g.o.Agents {
		first, last := pick(g.rng, firstNames), pick(g.rng, lastNames)
		created := g.accountStart
		if i > 0 {
			created = g.between(g.accountStart, start)
		}
		role := RoleAgent
		if i < 2 {
			role = RoleAdmin
		}
		u := g.newUser(role, first+" "+last, g.email(first, last, g.o.Domain), created)
		u.LastLoginAt = ptr(g.between(g.o.End.Add(-7*day), g.o.End))
		u.UpdatedAt = *u.LastLoginAt
		u.TwoFactorAuthEnabled = ptr(g.chance(0.7))
		u.Signature = ptr(first + "\n" + g.supportName())
		u.Moderator = role == RoleAdmin
		u.ReportCSV = role == RoleAdmin
		if role == RoleAdmin {
			u.RoleType = ptr(int64(4))
		} else {
			u.RoleType = ptr(int64(0))
			u.CustomRoleID = ptr(g.agentRoleID)
		}
		if len(g.hd.Groups) > 0 {
			u.DefaultGroupID = ptr(g.hd.Groups[i%len(g.hd.Groups)].ID)
		}
		g.hd.Users = append(g.hd.Users, u)
	}
	g.hd.OwnerEmail = *g.hd.Users[0].Email
}

func (g *generator) endUserAccounts() {
	start := g.o.End.Add(-g.o.Span)
	n := g.o.EndUsers
	deleted := int(math.Round(float64(n) * 0.02))
	suspended := int(math.Round(float64(n) * 0.03))
	if deleted+suspended >= n {
		deleted, suspended = 0, 0
	}
	first := len(g.hd.Users)
	for i := range n {
		fn, ln := pick(g.rng, firstNames), pick(g.rng, lastNames)
		// Some customers predate the oldest ticket, so that every ticket
		// has someone to have asked it.
		var created time.Time
		if i < n*2/5 || i == 0 {
			created = g.between(g.accountStart, start)
		} else {
			created = g.between(start, g.o.End.Add(-day))
		}
		var orgID *int64
		domain := pick(g.rng, freeMailDomains)
		if len(g.hd.Organizations) > 0 && g.chance(0.65) {
			org := pick(g.rng, g.hd.Organizations)
			orgID = ptr(org.ID)
			domain = g.orgDomains[org.ID]
		}
		u := g.newUser(RoleEndUser, fn+" "+ln, g.email(fn, ln, domain), created)
		u.OrganizationID = orgID
		u.Verified = g.chance(0.7)
		u.TicketRestriction = ptr("requested")
		u.RestrictedAgent = true
		u.TwoFactorAuthEnabled = ptr(false)
		if g.chance(0.4) {
			u.Phone = ptr(g.phone())
			u.SharedPhoneNumber = ptr(false)
		}
		if g.chance(0.5) {
			u.LastLoginAt = ptr(g.between(created, g.o.End))
		}
		if g.chance(0.6) {
			u.UserFields["plan"] = pick(g.rng, plans)
		}
		if g.chance(0.4) {
			u.UserFields["account_number"] = fmt.Sprintf("AC-%05d", g.rng.IntN(100000))
		}
		if g.chance(0.15) {
			u.Tags = []string{pick(g.rng, []string{"newsletter", "beta", "churn_risk"})}
		}
		g.hd.Users = append(g.hd.Users, u)
	}
	// Deleted and suspended customers come from the end of the list and
	// never ask anything: a deleted user can't, and a suspended one is
	// suspended for a reason. The loader still meets them as users.
	for i := range deleted {
		u := &g.hd.Users[len(g.hd.Users)-1-i]
		u.Active = false
		u.PermanentlyDeleted = ptr(false)
	}
	for i := range suspended {
		g.hd.Users[len(g.hd.Users)-1-deleted-i].Suspended = true
	}
	for i := first; i < len(g.hd.Users)-deleted-suspended; i++ {
		u := &g.hd.Users[i]
		g.endUsers = append(g.endUsers, u)
	}
	for i := range g.hd.Users[:first] {
		g.agents = append(g.agents, &g.hd.Users[i])
	}
	slices.SortStableFunc(g.endUsers, func(a, b *User) int { return a.CreatedAt.Compare(b.CreatedAt) })
}

// ticketPlan is what a ticket will be, decided before tickets get their
// ids, which follow creation order.
type ticketPlan struct {
	status  string
	created time.Time
}

func (g *generator) tickets() {
	statuses := []struct {
		status       string
		weight       int
		from, before time.Duration // age bounds, counted back from End
	}{
		{StatusNew, 5, 3 * day, time.Hour},
		{StatusOpen, 12, 30 * day, day},
		{StatusPending, 8, 30 * day, day},
		{StatusHold, 4, 45 * day, 2 * day},
		{StatusSolved, 13, 20 * day, 2 * day},
		{StatusClosed, 58, g.o.Span, 15 * day},
	}
	total := 0
	for _, s := range statuses {
		total += s.weight
	}
	plans := make([]ticketPlan, g.o.Tickets)
	for i := range plans {
		w := g.rng.IntN(total)
		for _, s := range statuses {
			if w < s.weight {
				plans[i] = ticketPlan{status: s.status, created: g.between(g.o.End.Add(-s.from), g.o.End.Add(-s.before))}
				break
			}
			w -= s.weight
		}
	}
	slices.SortStableFunc(plans, func(a, b ticketPlan) int { return a.created.Compare(b.created) })
	g.hd.Tickets = make([]Ticket, 0, len(plans))
	for i, p := range plans {
		g.hd.Tickets = append(g.hd.Tickets, g.ticket(int64(i+1), p))
	}
}

// requester picks an active end user who existed when the ticket was
// created.
func (g *generator) requester(at time.Time) *User {
	n, _ := slices.BinarySearchFunc(g.endUsers, at, func(u *User, t time.Time) int { return u.CreatedAt.Compare(t) })
	if n == 0 {
		n = 1
	}
	return g.endUsers[g.rng.IntN(n)]
}

func (g *generator) agentOf(groupID *int64) *User {
	var in []*User
	for _, a := range g.agents {
		if groupID != nil && a.DefaultGroupID != nil && *a.DefaultGroupID == *groupID {
			in = append(in, a)
		}
	}
	if len(in) == 0 {
		in = g.agents
	}
	return pick(g.rng, in)
}

func (g *generator) ticket(id int64, p ticketPlan) Ticket {
	tp := pick(g.rng, topics)
	req := g.requester(p.created)
	spam := p.status == StatusClosed && g.chance(0.02)
	onBehalf := !spam && g.chance(0.12)

	t := Ticket{
		ID: id, CreatedAt: p.created, Status: p.status, RequesterID: req.ID, SubmitterID: req.ID,
		OrganizationID: req.OrganizationID, CollaboratorIDs: []int64{}, FollowerIDs: []int64{}, EmailCCIDs: []int64{},
		IsPublic: true, SharingAgreementIDs: []int64{}, CustomStatusID: g.statusIDs[p.status], FollowupIDs: []int64{},
		TicketFormID: g.ticketFormID, BrandID: g.brandID, AllowAttachments: true,
		Subject: pick(g.rng, tp.subjects),
	}
	if spam {
		t.Subject = pick(g.rng, []string{"You have won a prize", "Business proposal", "SEO services for your website"})
	}
	t.RawSubject = t.Subject

	switch {
	case onBehalf:
		t.Via = Via{Channel: "web", Source: ViaSource{From: map[string]any{}, To: map[string]any{}}}
	case g.chance(0.55) || spam:
		t.Via = Via{Channel: "email", Source: ViaSource{
			From: map[string]any{"address": *req.Email, "name": req.Name},
			To:   map[string]any{"address": "support@" + g.o.Domain, "name": g.supportName()},
		}}
		t.Recipient = ptr("support@" + g.o.Domain)
	case g.chance(0.8):
		t.Via = Via{Channel: "web", Source: ViaSource{From: map[string]any{}, To: map[string]any{}}}
	default:
		t.Via = Via{Channel: "api", Source: ViaSource{From: map[string]any{}, To: map[string]any{}}}
	}

	if len(g.hd.Groups) > 0 && (p.status != StatusNew || g.chance(0.5)) {
		t.GroupID = ptr(pick(g.rng, g.hd.Groups).ID)
	}
	var assignee *User
	if p.status != StatusNew {
		assignee = g.agentOf(t.GroupID)
		t.AssigneeID = ptr(assignee.ID)
	}
	opener := req
	if onBehalf {
		opener = pick(g.rng, g.agents)
		t.SubmitterID = opener.ID
	}

	if !spam {
		if g.chance(0.9) {
			t.Type = ptr(tp.ticket)
		} else if g.chance(0.5) {
			t.Type = ptr(pick(g.rng, []string{"question", "incident", "problem", "task"}))
		}
		if g.chance(0.85) {
			t.Priority = ptr(pick(g.rng, []string{"low", "normal", "normal", "normal", "high", "high", "urgent"}))
		}
	}
	tags := map[string]bool{}
	if spam {
		tags["spam"] = true
	} else {
		tags[tp.tag] = true
		if g.chance(0.2) {
			tags[pick(g.rng, []string{"escalated", "follow_up", "needs_review", "known_issue"})] = true
		}
	}

	// Custom fields: Zendesk lists every field of the form, unset ones
	// null (false for checkboxes), and a drop-down's or checked box's
	// tag joins the ticket's tags.
	var product any
	if !spam && g.chance(0.85) {
		v := "product_" + tp.product
		product, tags[v] = v, true
	}
	var order any
	if !spam && (tp.tag == "shipping" || tp.tag == "billing") && g.chance(0.8) {
		order = fmt.Sprint(100000 + g.rng.IntN(900000))
	}
	var reference any
	if !spam && g.chance(0.25) {
		reference = fmt.Sprintf("%s-%d", pick(g.rng, []string{"PO", "REF", "CASE"}), 1000+g.rng.IntN(9000))
	}
	var followUp any
	if p.status == StatusPending || p.status == StatusHold || (p.status == StatusOpen && g.chance(0.3)) {
		followUp = p.created.Add(time.Duration(3+g.rng.IntN(10)) * day).Format(time.DateOnly)
	}
	vip := req.OrganizationID != nil && g.orgTier[*req.OrganizationID] == "platinum"
	if vip {
		tags["vip_customer"] = true
	}
	t.CustomFields = []CustomFieldValue{
		{ID: g.fields.product.ID, Value: product},
		{ID: g.fields.orderNumber.ID, Value: order},
		{ID: g.fields.reference.ID, Value: reference},
		{ID: g.fields.followUp.ID, Value: followUp},
		{ID: g.fields.vip.ID, Value: vip},
	}
	t.Fields = slices.Clone(t.CustomFields)
	for tag := range tags {
		t.Tags = append(t.Tags, tag)
	}
	slices.Sort(t.Tags)

	// Others in the conversation: a colleague of the requester in copy, an
	// agent following.
	if !spam && g.chance(0.1) {
		for range 5 {
			cc := g.requester(p.created)
			if cc.ID != req.ID {
				t.EmailCCIDs = append(t.EmailCCIDs, cc.ID)
				break
			}
		}
	}
	if assignee != nil && g.chance(0.15) {
		if f := pick(g.rng, g.agents); f.ID != assignee.ID {
			t.FollowerIDs = append(t.FollowerIDs, f.ID)
		}
	}
	t.CollaboratorIDs = append(slices.Clone(t.EmailCCIDs), t.FollowerIDs...)

	if t.Type != nil && *t.Type == "task" && g.chance(0.6) {
		t.DueAt = ptr(p.created.Add(time.Duration(3+g.rng.IntN(8)) * day).Truncate(time.Hour))
	}
	if (p.status == StatusSolved || p.status == StatusClosed) && !spam && g.chance(0.3) {
		score := "good"
		if g.chance(0.15) {
			score = "bad"
		}
		t.SatisfactionRating = &SatisfactionRating{ID: g.id(p.created), Score: score, Comment: pick(g.rng, satisfactionComments)}
	}

	g.conversation(&t, tp, req, opener, assignee, spam)
	t.Description = t.Comments[0].PlainBody
	t.GeneratedTimestamp = t.UpdatedAt.Unix()
	return t
}

// speaker says who writes a comment.
type speaker int

const (
	customer speaker = iota
	agentReply
	agentNote
)

func (g *generator) conversation(t *Ticket, tp topic, req, opener, assignee *User, spam bool) {
	n := 1
	if t.Status != StatusNew && !spam {
		// Most conversations are short, a few run long.
		n = 2 + int(float64(g.o.MaxComments-1)*math.Pow(g.rng.Float64(), 1.7))
		n = min(n, g.o.MaxComments)
	}
	roles := make([]speaker, n)
	for i := 1; i < n; i++ {
		switch {
		case roles[i-1] == customer:
			roles[i] = agentReply
		case g.chance(0.25):
			roles[i] = agentNote
		default:
			roles[i] = customer
		}
	}
	// The last comment fits the status: the agent answered a pending or
	// solved ticket, the customer is waiting on an open one. Nobody answers
	// themselves, so the comment before it changes too if need be.
	if n > 1 {
		var last speaker
		switch t.Status {
		case StatusPending, StatusSolved, StatusClosed:
			last = agentReply
		case StatusHold:
			last = agentNote
		default:
			last = customer
		}
		roles[n-1] = last
		if n > 2 && roles[n-2] == last {
			if last == customer {
				roles[n-2] = agentReply
			} else {
				roles[n-2] = customer
			}
		}
	}
	// say picks a line not yet said in this conversation, when there is one.
	said := map[string]bool{}
	say := func(lines []string) string {
		line := pick(g.rng, lines)
		for try := 0; said[line] && try < 2*len(lines); try++ {
			line = pick(g.rng, lines)
		}
		said[line] = true
		return line
	}

	// Space the comments out, then squeeze them into the time the ticket
	// has, so that the last one comes before the ticket's status settled.
	reserve := time.Hour
	switch t.Status {
	case StatusClosed:
		reserve = 5 * day
	case StatusSolved:
		reserve = day
	}
	gaps := make([]time.Duration, n)
	var sum time.Duration
	for i := 1; i < n; i++ {
		switch roles[i] {
		case customer:
			gaps[i] = g.duration(time.Hour, 3*day)
		case agentReply:
			gaps[i] = g.duration(10*time.Minute, 2*day)
		case agentNote:
			gaps[i] = g.duration(5*time.Minute, day)
		}
		sum += gaps[i]
	}
	if room := g.o.End.Add(-reserve).Sub(t.CreatedAt); sum > room*9/10 && sum > 0 {
		scale := float64(room*9/10) / float64(sum)
		for i := 1; i < n; i++ {
			gaps[i] = max(time.Minute, time.Duration(float64(gaps[i])*scale))
		}
	}

	at := t.CreatedAt
	for i, role := range roles {
		at = at.Add(gaps[i]).Truncate(time.Second)
		var author *User
		var paras []string
		public := true
		via := Via{Channel: "web", Source: ViaSource{From: map[string]any{}, To: map[string]any{}}}
		switch {
		case i == 0:
			author = opener
			via = t.Via
			paras = g.opening(tp, req, opener, spam)
		case role == customer:
			author = req
			if t.Via.Channel == "email" {
				via = t.Via
			}
			line := say(tp.followup)
			if i == n-2 && (t.Status == StatusSolved || t.Status == StatusClosed) {
				line = say(thanksReplies)
			}
			paras = []string{line, pick(g.rng, customerClosings) + "\n" + firstName(req)}
		case role == agentReply:
			author = assignee
			if author == nil {
				author = pick(g.rng, g.agents)
			}
			line := say(tp.answers)
			switch {
			case i == n-1 && (t.Status == StatusSolved || t.Status == StatusClosed) && roles[i-1] == customer && g.chance(0.5):
				line = say(solvedAnswers)
			case i == n-1 && t.Status == StatusPending:
				line += " " + say(pendingAnswers)
			}
			paras = []string{fmt.Sprintf(pick(g.rng, agentGreetings), firstName(req)), line,
				pick(g.rng, agentClosings) + "\n" + firstName(author)}
		default:
			author = pick(g.rng, g.agents)
			public = false
			paras = []string{say(privateNotes)}
		}
		c := Comment{
			ID: g.id(at), Type: "Comment", AuthorID: author.ID, Public: public, AuditID: g.id(at), Via: via,
			Metadata: CommentMeta{
				System: map[string]any{
					"client":     "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
					"ip_address": fmt.Sprintf("192.0.2.%d", 1+g.rng.IntN(254)),
					"location":   pick(g.rng, []string{"London, United Kingdom", "Berlin, Germany", "Austin, TX, United States", "Osaka, Japan"}),
				},
				Custom: map[string]any{},
			},
			CreatedAt: at,
		}
		c.Body, c.PlainBody, c.HTMLBody = bodies(paras)
		c.Attachments = g.attachments(at, role, spam)
		t.Comments = append(t.Comments, c)
	}

	// The ticket was last updated when its status last changed: a little
	// after the last comment, or four days after solving for a closed one.
	updated := at.Add(g.duration(time.Minute, 2*time.Hour))
	if t.Status == StatusClosed {
		updated = updated.Add(4 * day)
	}
	if updated.After(g.o.End) {
		updated = g.o.End
	}
	t.UpdatedAt = updated.Truncate(time.Second)
}

// supportName is how the help desk signs: "Acme Support".
func (g *generator) supportName() string {
	s := g.o.Subdomain
	return strings.ToUpper(s[:1]) + s[1:] + " Support"
}

func firstName(u *User) string {
	first, _, _ := strings.Cut(u.Name, " ")
	return first
}

func (g *generator) opening(tp topic, req, opener *User, spam bool) []string {
	if spam {
		return []string{"Dear Sir or Madam,", "We are pleased to offer you an exclusive opportunity. Reply today to claim it.", "Regards"}
	}
	problem := pick(g.rng, tp.opening)
	if opener.ID != req.ID {
		return []string{pick(g.rng, onBehalfOpenings), fmt.Sprintf("%s reports: %s", req.Name, problem)}
	}
	paras := []string{pick(g.rng, []string{"Hi,", "Hello,", "Hi there,", "Good morning,"}), problem}
	if g.chance(0.4) {
		paras = append(paras, pick(g.rng, tp.followup))
	}
	return append(paras, pick(g.rng, customerClosings)+"\n"+req.Name)
}

// bodies renders a comment's paragraphs the three ways Zendesk keeps
// them: body (what was typed), plain_body (text only) and html_body.
func bodies(paras []string) (body, plain, htmlBody string) {
	body = strings.Join(paras, "\n\n")
	var b strings.Builder
	b.WriteString(`<div class="zd-comment" dir="auto">`)
	for _, p := range paras {
		b.WriteString(`<p dir="auto">`)
		b.WriteString(strings.ReplaceAll(html.EscapeString(p), "\n", "<br>"))
		b.WriteString("</p>")
	}
	b.WriteString("</div>")
	return body, body, b.String()
}

func (g *generator) attachments(at time.Time, role speaker, spam bool) []Attachment {
	p := 0.15
	if role != customer {
		p = 0.08
	}
	if spam || !g.chance(p) {
		return []Attachment{}
	}
	n := 1 + g.rng.IntN(3)
	if g.chance(0.05) {
		n = 6 + g.rng.IntN(3) // more than Intercom takes in one part
	}
	out := make([]Attachment, 0, n)
	for range n {
		out = append(out, g.attachment(at, role))
	}
	return out
}

func (g *generator) attachment(at time.Time, role speaker) Attachment {
	kind := pick(g.rng, attachmentKinds)
	base, ext, _ := strings.Cut(kind.name, ".")
	name := fmt.Sprintf("%s-%s.%s", base, at.Format("2006-01-02"), ext)
	if base == "invoice" {
		name = fmt.Sprintf("invoice-INV%05d.%s", g.rng.IntN(100000), ext)
	}
	a := Attachment{
		ID: g.id(at), FileName: name, ContentType: kind.contentType,
		Size:       kind.minSize + g.rng.Int64N(kind.maxSize-kind.minSize),
		ContentURL: "/attachments/token/" + g.token() + "/?name=" + url.QueryEscape(name),
		Thumbnails: []Attachment{},
	}
	if kind.image {
		a.Width, a.Height = ptr(int64(pick(g.rng, []int{800, 1280, 1920}))), ptr(int64(pick(g.rng, []int{600, 720, 1080})))
		a.Inline = role != customer && g.chance(0.3) || role == customer && g.chance(0.2)
	}
	return a
}

func (g *generator) token() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, 25)
	for i := range b {
		b[i] = alphabet[g.rng.IntN(len(alphabet))]
	}
	return string(b)
}

// ensureManyAttachments makes sure some comment has more than five
// attachments, so that every generated help desk exercises the loader's
// split of such comments.
func (g *generator) ensureManyAttachments() {
	var most *Comment
	for i := range g.hd.Tickets {
		for j := range g.hd.Tickets[i].Comments {
			c := &g.hd.Tickets[i].Comments[j]
			if most == nil || len(c.Attachments) > len(most.Attachments) {
				most = c
			}
		}
	}
	if most == nil {
		return
	}
	for len(most.Attachments) < 6 {
		most.Attachments = append(most.Attachments, g.attachment(most.CreatedAt, customer))
	}
}
