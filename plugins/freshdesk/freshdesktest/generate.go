package freshdesktest

import (
	"encoding/json"
	"fmt"
	"html"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"
)

// GenerateOptions size and seed a generated help desk. A zero field takes
// its default; the defaults are the demo's help desk.
type GenerateOptions struct {
	// Seed picks the help desk: the same options give the same help desk,
	// byte for byte.
	Seed uint64
	// Tickets is the number of tickets (default 200), spam and deleted
	// ones included.
	Tickets int
	// Contacts is the number of customers (default 60).
	Contacts int
	// Agents is the number of agents (default 8); the first is the admin.
	Agents int
	// Groups is the number of agent groups (default 3).
	Groups int
	// Companies is the number of customer companies (default 15).
	Companies int
	// MaxConversations is the most conversations (replies and notes after
	// the description) a ticket has (default 11); a ticket may have none.
	MaxConversations int
	// Categories is the number of knowledge-base categories (default 3),
	// each with one to three folders of one to four articles.
	Categories int
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
	def(&o.Contacts, 60)
	def(&o.Agents, 8)
	def(&o.Groups, 3)
	def(&o.Companies, 15)
	def(&o.MaxConversations, 11)
	def(&o.Categories, 3)
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

// The custom ticket fields the generator defines, by name.
const (
	cfProduct   = "cf_product"
	cfOrder     = "cf_order_number"
	cfReference = "cf_customer_reference"
	cfFollowUp  = "cf_follow_up_date"
	cfVIP       = "cf_vip"
	cfNotes     = "cf_internal_notes"
)

// Custom statuses the generated account adds to Freshdesk's four.
const (
	statusWaitingOnCustomer   = 6
	statusWaitingOnThirdParty = 7
)

// generator holds one Generate call's state.
type generator struct {
	o   GenerateOptions
	rng *rand.Rand
	hd  *HelpDesk

	// seq hands out ids by kind: Freshdesk's ids are large and grow with
	// time, with gaps.
	seq        map[string]int64
	usedEmails map[string]bool
	// accountStart is when the account was opened: before every record.
	accountStart time.Time
	// liveContacts are the contacts who may ask: neither deleted nor
	// blocked.
	liveContacts []*Contact
	products     []string
	ticketTypes  []string
}

// Generate builds a help desk deterministically from opts: agents,
// contacts, companies, groups, ticket fields, tickets with their
// conversations and attachments, and a knowledge base.
func Generate(opts GenerateOptions) *HelpDesk {
	o := opts.withDefaults()
	g := &generator{
		o:   o,
		rng: rand.New(rand.NewPCG(o.Seed, 0x66726573686465)),
		hd: &HelpDesk{
			Subdomain:       o.Subdomain,
			Domain:          o.Domain,
			PrimaryLanguage: "en",
		},
		seq: map[string]int64{
			"user": 67_000_000_000, "company": 67_000_500_000, "group": 67_000_050_000, "field": 67_000_090_000,
			"conversation": 67_100_000_000, "attachment": 67_200_000_000, "category": 67_000_010_000,
			"folder": 67_000_020_000, "article": 67_000_030_000, "role": 67_000_001_000, "email_config": 67_000_002_000,
		},
		usedEmails:   map[string]bool{},
		accountStart: o.End.Add(-o.Span - 365*day),
		ticketTypes:  []string{"Question", "Incident", "Problem", "Feature Request", "Refund"},
	}
	for _, tp := range topics {
		if !slices.Contains(g.products, tp.product) {
			g.products = append(g.products, tp.product)
		}
	}
	g.groups()
	g.agents()
	g.companies()
	g.contacts()
	g.ticketFields()
	g.tickets()
	g.solutions()
	return g.hd
}

// id returns the next id of a kind.
func (g *generator) id(kind string) int64 {
	g.seq[kind] += 1 + g.rng.Int64N(9)
	return g.seq[kind]
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

func ptr[T any](v T) *T { return &v }

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

// phone returns a fictional number (the ranges set aside for fiction),
// written the ways people type them.
func (g *generator) phone() Phone {
	n := g.rng.IntN(100)
	switch g.rng.IntN(5) {
	case 0:
		return Phone{Value: fmt.Sprintf("+1415555%04d", 100+n)}
	case 1:
		return Phone{Value: fmt.Sprintf("+1 (415) 555-%04d", 100+n)}
	case 2:
		return Phone{Value: fmt.Sprintf("+44 20 7946 0%03d", n)}
	case 3:
		// Digits only: stored, and served, as a number.
		return Phone{Value: fmt.Sprintf("4155550%03d", n), Numeric: true}
	}
	return Phone{Value: fmt.Sprintf("+4420794600%02d", n)}
}

func (g *generator) groups() {
	for i := range g.o.Groups {
		name := groupNames[i%len(groupNames)]
		if i >= len(groupNames) {
			name = fmt.Sprintf("%s %d", name, i/len(groupNames)+1)
		}
		created := g.accountStart.Add(time.Duration(i) * day)
		gr := Group{
			ID: g.id("group"), Name: name, Description: ptr(name + " team"),
			UnassignedFor: ptr(pick(g.rng, []string{"30m", "1h", "2h"})), AutoTicketAssign: g.chance(0.5),
			AgentIDs: []int64{}, CreatedAt: created, UpdatedAt: g.between(created, g.o.End.Add(-g.o.Span)),
		}
		if g.chance(0.3) {
			gr.Description = nil
		}
		g.hd.Groups = append(g.hd.Groups, gr)
	}
}

func (g *generator) agents() {
	start := g.o.End.Add(-g.o.Span)
	adminRole, agentRole := g.id("role"), g.id("role")
	for i := range g.o.Agents {
		first, last := pick(g.rng, firstNames), pick(g.rng, lastNames)
		created := g.accountStart
		if i > 0 {
			created = g.between(g.accountStart, start)
		}
		a := Agent{
			Available: g.chance(0.6), Occasional: i > 0 && g.chance(0.15), ID: g.id("user"),
			TicketScope: 1, GroupIDs: []int64{}, RoleIDs: []int64{agentRole}, SkillIDs: []int64{},
			Type: "support_agent", CreatedAt: created, UpdatedAt: g.between(created, g.o.End),
			Contact: AgentContact{
				Active: i == 0 || g.chance(0.9), Email: g.email(first, last, g.o.Domain), Language: pick(g.rng, languages),
				Name: first + " " + last, TimeZone: pick(g.rng, timeZones), CreatedAt: created,
				UpdatedAt: g.between(created, g.o.End),
			},
		}
		if i == 0 {
			a.RoleIDs = []int64{adminRole}
		} else if g.chance(0.25) {
			a.TicketScope = 2 // their groups' tickets only
		}
		if g.chance(0.5) {
			a.Signature = ptr("<div>" + html.EscapeString(first) + "<br>" + html.EscapeString(g.o.Subdomain) + " support</div>")
		}
		if a.Available {
			a.AvailableSince = ptr(g.between(g.o.End.Add(-day), g.o.End))
		}
		if g.chance(0.8) {
			a.LastActiveAt = ptr(g.between(g.o.End.Add(-7*day), g.o.End))
			a.Contact.LastLoginAt = a.LastActiveAt
		}
		if g.chance(0.5) {
			a.Contact.JobTitle = ptr(pick(g.rng, []string{"Support Agent", "Support Lead", "Billing Specialist"}))
		}
		if g.chance(0.4) {
			// An internal extension: digits only, served as a number.
			a.Contact.Phone = Phone{Value: strconv.Itoa(2000 + g.rng.IntN(8000)), Numeric: true}
		}
		if g.chance(0.4) {
			a.Contact.Mobile = g.phone()
		}
		if len(g.hd.Groups) > 0 {
			gi := i % len(g.hd.Groups)
			a.GroupIDs = append(a.GroupIDs, g.hd.Groups[gi].ID)
			g.hd.Groups[gi].AgentIDs = append(g.hd.Groups[gi].AgentIDs, a.ID)
		}
		g.hd.Agents = append(g.hd.Agents, a)
	}
	for i := range g.hd.Groups {
		if g.chance(0.5) {
			g.hd.Groups[i].EscalateTo = ptr(g.hd.Agents[0].ID)
		}
	}
}

func (g *generator) companies() {
	start := g.o.End.Add(-g.o.Span)
	used := map[string]bool{}
	for i := range g.o.Companies {
		var name string
		for try := 0; ; try++ {
			name = pick(g.rng, companyWords) + " " + pick(g.rng, companySuffixes)
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
		c := Company{
			ID: g.id("company"), Name: name, Domains: []string{domain}, CreatedAt: created, UpdatedAt: g.between(created, g.o.End),
			CustomFields: map[string]any{"website": "https://www." + domain, "address": nil, "contract_value": nil},
		}
		if g.chance(0.6) {
			c.Description = ptr(pick(g.rng, industries) + " company")
		}
		if g.chance(0.2) {
			c.Note = ptr("Key account")
		}
		if g.chance(0.3) {
			c.Domains = append(c.Domains, "mail."+domain)
		}
		if g.chance(0.1) {
			c.Domains = []string{}
		}
		if g.chance(0.5) {
			c.CustomFields["address"] = fmt.Sprintf("%d Harbor Road,\r\nSpringfield", 1+g.rng.IntN(200))
		}
		if g.chance(0.6) {
			c.CustomFields["contract_value"] = 1000 * (1 + g.rng.IntN(90))
		}
		if g.chance(0.7) {
			c.HealthScore = ptr(pick(g.rng, []string{"Happy", "Doing okay", "At risk"}))
		}
		if g.chance(0.8) {
			c.AccountTier = ptr(pick(g.rng, []string{"Basic", "Premium", "Enterprise"}))
		}
		if g.chance(0.5) {
			c.RenewalDate = ptr(g.between(g.o.End, g.o.End.Add(365*day)).Truncate(day))
		}
		if g.chance(0.7) {
			c.Industry = ptr(pick(g.rng, industries))
		}
		g.hd.Companies = append(g.hd.Companies, c)
	}
}

func (g *generator) contacts() {
	start := g.o.End.Add(-g.o.Span)
	n := g.o.Contacts
	// A few contacts are deleted and a few blocked, at least one each in
	// a help desk big enough to spare them.
	deleted, blocked := max(n*3/100, min(1, n/20)), max(n*3/100, min(1, n/20))
	for i := range n {
		first, last := pick(g.rng, firstNames), pick(g.rng, lastNames)
		// Most customers predate the oldest ticket, so that every ticket
		// has someone to have asked it.
		created := g.between(g.accountStart, start)
		if i >= n*3/5 && i > 0 {
			created = g.between(start, g.o.End.Add(-day))
		}
		domain := pick(g.rng, freeMailDomains)
		var companyID *int64
		if len(g.hd.Companies) > 0 && g.chance(0.65) {
			co := pick(g.rng, g.hd.Companies)
			companyID = ptr(co.ID)
			if len(co.Domains) > 0 {
				domain = co.Domains[0]
			}
		}
		c := Contact{
			Active: g.chance(0.75), CompanyID: companyID, CustomFields: map[string]any{"plan": nil, "customer_since": nil, "newsletter": false},
			ID: g.id("user"), Language: pick(g.rng, languages), Name: first + " " + last, OtherEmails: []string{}, Tags: []string{},
			TimeZone: pick(g.rng, timeZones), PreferredSource: "email", CreatedAt: created, UpdatedAt: g.between(created, g.o.End),
		}
		if companyID != nil {
			c.ViewAllTickets = ptr(g.chance(0.3))
		}
		if i == 0 || g.chance(0.95) {
			c.Email = ptr(g.email(first, last, domain))
		} else {
			// A caller known by phone only.
			c.PreferredSource = "phone"
			c.Phone = g.phone()
		}
		if g.chance(0.35) {
			c.Phone = g.phone()
		}
		if g.chance(0.25) {
			c.Mobile = g.phone()
		}
		if g.chance(0.3) {
			c.JobTitle = ptr(pick(g.rng, jobTitles))
		}
		if g.chance(0.15) {
			c.Address = ptr(fmt.Sprintf("%d Market Street, Springfield", 1+g.rng.IntN(300)))
		}
		if g.chance(0.1) {
			c.Description = ptr("Prefers email over phone.")
		}
		if g.chance(0.1) {
			c.TwitterID = ptr(strings.ToLower(first) + "_" + strconv.Itoa(g.rng.IntN(1000)))
		}
		if g.chance(0.1) {
			c.UniqueExternalID = ptr(fmt.Sprintf("CRM-%05d", g.rng.IntN(100000)))
		}
		if g.chance(0.05) {
			c.FacebookID = ptr(strconv.FormatInt(100000000+g.rng.Int64N(900000000), 10))
		}
		if g.chance(0.2) {
			c.CSATRating = ptr(int64(100 + 3*g.rng.IntN(3)))
		}
		if g.chance(0.1) && c.Email != nil {
			c.OtherEmails = []string{g.email(first, last+"-alt", pick(g.rng, freeMailDomains))}
		}
		if g.chance(0.6) {
			c.CustomFields["plan"] = pick(g.rng, plans)
		}
		if g.chance(0.4) {
			c.CustomFields["customer_since"] = created.Format(time.DateOnly)
		}
		if g.chance(0.3) {
			c.CustomFields["newsletter"] = true
		}
		if g.chance(0.15) {
			c.Tags = []string{pick(g.rng, []string{"newsletter", "beta", "churn-risk"})}
		}
		g.hd.Contacts = append(g.hd.Contacts, c)
	}
	// Deleted and blocked customers come from the end of the list and ask
	// nothing; the loader still meets them as users.
	if deleted+blocked < n {
		for i := range deleted {
			g.hd.Contacts[n-1-i].Deleted = true
		}
		for i := range blocked {
			g.hd.Contacts[n-1-deleted-i].Blocked = true
		}
	}
	for i := range g.hd.Contacts {
		if c := &g.hd.Contacts[i]; !c.Deleted && !c.Blocked {
			g.liveContacts = append(g.liveContacts, c)
		}
	}
}

func (g *generator) ticketFields() {
	created := g.accountStart
	choices := func(v any) json.RawMessage {
		b, err := json.Marshal(v)
		if err != nil {
			panic(fmt.Sprintf("freshdesktest: marshal choices: %v", err))
		}
		return b
	}
	field := func(name, label, typ string, def bool, ch json.RawMessage) {
		f := TicketField{
			ID: g.id("field"), Name: name, Label: label, Description: label, Position: len(g.hd.TicketFields) + 1,
			Type: typ, Default: def, LabelForCustomers: label, CreatedAt: created, UpdatedAt: created.Add(2 * day),
			RequiredForAgents: name == "subject" || name == "status" || name == "priority" || name == "requester",
			CustomersCanEdit:  name == "subject" || name == "description" || name == cfReference,
			Choices:           ch,
		}
		f.RequiredForCustomers = f.CustomersCanEdit && def
		f.DisplayedToCustomers = f.CustomersCanEdit || name == "status" || name == "ticket_type"
		if !def {
			created = created.Add(day)
		}
		g.hd.TicketFields = append(g.hd.TicketFields, f)
	}
	groups := map[string]int64{}
	for _, gr := range g.hd.Groups {
		groups[gr.Name] = gr.ID
	}
	agents := map[string]int64{}
	for _, a := range g.hd.Agents {
		agents[a.Contact.Name] = a.ID
	}
	field("requester", "Search a requester", FieldRequester, true, nil)
	field("subject", "Subject", FieldSubject, true, nil)
	field("ticket_type", "Type", FieldTicketType, true, choices(g.ticketTypes))
	field("source", "Source", FieldSource, true, choices(map[string]int{
		"Email": 1, "Portal": 2, "Phone": 3, "Chat": 7, "Feedback Widget": 9, "Outbound Email": 10,
	}))
	field("status", "Status", FieldStatus, true, choices(map[string][]string{
		"2": {"Open", "Being Processed"}, "3": {"Pending", "Awaiting your Reply"},
		"4": {"Resolved", "This ticket has been Resolved"}, "5": {"Closed", "This ticket has been Closed"},
		"6": {"Waiting on Customer", "Awaiting your Reply"}, "7": {"Waiting on Third Party", "Being Processed"},
	}))
	field("priority", "Priority", FieldPriority, true, choices(map[string]int{"Low": 1, "Medium": 2, "High": 3, "Urgent": 4}))
	field("group", "Group", FieldGroup, true, choices(groups))
	field("agent", "Agent", FieldAgent, true, choices(agents))
	field("company", "Company", FieldCompany, true, nil)
	field("description", "Description", FieldDescription, true, nil)
	field(cfProduct, "Product", FieldDropdown, false, choices(g.products))
	field(cfOrder, "Order number", FieldNumber, false, nil)
	field(cfReference, "Customer reference", FieldText, false, nil)
	field(cfFollowUp, "Follow-up date", FieldDate, false, nil)
	field(cfVIP, "VIP customer", FieldCheckbox, false, nil)
	field(cfNotes, "Internal notes", FieldParagraph, false, nil)
}

// requester picks who asks a ticket created at t: a live contact created
// before it, or now and then an agent.
func (g *generator) requester(t time.Time) (id int64, company *int64, email string) {
	if g.chance(0.03) {
		a := pick(g.rng, g.hd.Agents)
		return a.ID, nil, a.Contact.Email
	}
	for range 50 {
		c := pick(g.rng, g.liveContacts)
		if c.CreatedAt.Before(t) {
			return c.ID, c.CompanyID, deref(c.Email)
		}
	}
	c := g.liveContacts[0]
	return c.ID, c.CompanyID, deref(c.Email)
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func (g *generator) attachments(at time.Time, n int) []Attachment {
	out := make([]Attachment, 0, n)
	for range n {
		ft := pick(g.rng, fileTypes)
		id := g.id("attachment")
		name := fmt.Sprintf("%s-%d.%s", pick(g.rng, fileStems), 1+g.rng.IntN(40), ft.ext)
		out = append(out, Attachment{
			ID: id, ContentType: ft.contentType, Size: int64(200 + g.rng.IntN(3<<20)), Name: name,
			AttachmentURL: fmt.Sprintf("/data/helpdesk/attachments/production/%d/original/%s", id, name),
			CreatedAt:     at, UpdatedAt: at,
		})
	}
	return out
}

func paragraphs(lines ...string) (htmlBody, text string) {
	var h strings.Builder
	for _, l := range lines {
		h.WriteString("<div>" + html.EscapeString(l) + "</div>")
	}
	return h.String(), strings.Join(lines, "\n")
}

func (g *generator) tickets() {
	start := g.o.End.Add(-g.o.Span)
	created := make([]time.Time, g.o.Tickets)
	for i := range created {
		created[i] = g.between(start, g.o.End.Add(-2*day))
	}
	slices.SortFunc(created, func(a, b time.Time) int { return a.Compare(b) })
	emailConfig := g.id("email_config")
	support := "support@" + g.o.Domain
	for i := range g.o.Tickets {
		g.hd.Tickets = append(g.hd.Tickets, g.ticket(int64(i+1), created[i], emailConfig, support))
	}
	g.spamAndDeleted()
	g.bulkUpdate()
	g.manyAttachments()
}

func (g *generator) ticket(id int64, created time.Time, emailConfig int64, support string) Ticket {
	tp := pick(g.rng, topics)
	requester, company, reqEmail := g.requester(created)
	source := pick(g.rng, []int{1, 1, 1, 2, 2, 3, 7, 9, 10})
	t := Ticket{
		CCEmails: []string{}, FwdEmails: []string{}, ReplyCCEmails: []string{}, TicketCCEmails: []string{},
		Priority: pick(g.rng, []int{1, 1, 2, 2, 2, 3, 4}), RequesterID: requester, Source: source, CompanyID: company,
		Subject: pick(g.rng, tp.subjects), ID: id, CreatedAt: created, Tags: []string{},
		DueBy: created.Add(3 * day), FrDueBy: created.Add(day), CustomFields: map[string]any{},
	}
	if source == 1 || source == 10 {
		t.EmailConfigID = ptr(emailConfig)
		t.SupportEmail = ptr(support)
		t.ToEmails = []string{support}
	}
	if g.chance(0.8) {
		t.Type = ptr(tp.typ)
	}
	if len(g.hd.Groups) > 0 && g.chance(0.75) {
		t.GroupID = ptr(pick(g.rng, g.hd.Groups).ID)
	}
	if g.chance(0.85) {
		t.ResponderID = ptr(pick(g.rng, g.hd.Agents).ID)
	}
	if g.chance(0.4) {
		t.Tags = append(t.Tags, tp.tag)
	}
	if g.chance(0.2) {
		t.Tags = append(t.Tags, pick(g.rng, tagWords))
	}
	t.Tags = slices.Compact(t.Tags)
	if g.chance(0.15) {
		cc := pick(g.rng, g.liveContacts)
		if cc.Email != nil && cc.ID != requester {
			t.CCEmails = []string{*cc.Email}
			t.ReplyCCEmails = []string{*cc.Email}
			t.TicketCCEmails = []string{*cc.Email}
		}
	}
	// Every custom field is listed on every ticket, null when unset.
	t.CustomFields[cfProduct] = nil
	t.CustomFields[cfOrder] = nil
	t.CustomFields[cfReference] = nil
	t.CustomFields[cfFollowUp] = nil
	t.CustomFields[cfVIP] = false
	t.CustomFields[cfNotes] = nil
	if g.chance(0.7) {
		t.CustomFields[cfProduct] = tp.product
	}
	if g.chance(0.3) {
		t.CustomFields[cfOrder] = 10000 + g.rng.IntN(90000)
	}
	if g.chance(0.2) {
		t.CustomFields[cfReference] = fmt.Sprintf("REF-%04d", g.rng.IntN(10000))
	}
	if g.chance(0.15) {
		t.CustomFields[cfFollowUp] = created.Add(time.Duration(2+g.rng.IntN(20)) * day).Format(time.DateOnly)
	}
	if g.chance(0.1) {
		t.CustomFields[cfVIP] = true
	}
	if g.chance(0.1) {
		t.CustomFields[cfNotes] = "Customer asked us to call back.\nBest after 3pm."
	}

	opening := pick(g.rng, tp.opening)
	t.Description, t.DescriptionText = paragraphs("Hello,", opening, "Thanks")
	if g.chance(0.2) {
		t.Attachments = g.attachments(created, 1+g.rng.IntN(2))
	} else {
		t.Attachments = []Attachment{}
	}

	// The conversation: replies and notes at growing intervals.
	n := g.rng.IntN(g.o.MaxConversations + 1)
	at := created
	var firstResponse, agentResponse, requesterResponse *time.Time
	t.Conversations = []Conversation{}
	for range n {
		next := at.Add(time.Duration(10+g.rng.IntN(60*24)) * time.Minute)
		if next.After(g.o.End.Add(-time.Hour)) {
			break
		}
		at = next
		c := g.conversation(&t, tp, at, reqEmail, support)
		t.Conversations = append(t.Conversations, c)
		if c.Incoming {
			requesterResponse = ptr(at)
		} else if !c.Private {
			agentResponse = ptr(at)
			if firstResponse == nil {
				firstResponse = ptr(at)
			}
		}
	}
	t.Stats = TicketStats{AgentRespondedAt: agentResponse, RequesterRespondedAt: requesterResponse, FirstRespondedAt: firstResponse}

	// The status follows from the conversation's age.
	t.Status = pick(g.rng, []int{StatusOpen, StatusPending, StatusResolved, StatusResolved, StatusClosed, StatusClosed, StatusClosed,
		statusWaitingOnCustomer, statusWaitingOnThirdParty})
	t.UpdatedAt = at
	if t.Status != StatusOpen {
		limit := at.Add(3 * day)
		if end := g.o.End.Add(-time.Minute); limit.After(end) {
			limit = end
		}
		changed := g.between(at, limit)
		t.UpdatedAt = changed
		t.Stats.StatusUpdatedAt = ptr(changed)
		switch t.Status {
		case StatusResolved:
			t.Stats.ResolvedAt = ptr(changed)
		case StatusClosed:
			t.Stats.ResolvedAt = ptr(changed)
			t.Stats.ClosedAt = ptr(changed)
		case StatusPending, statusWaitingOnCustomer, statusWaitingOnThirdParty:
			t.Stats.PendingSince = ptr(changed)
		}
	} else {
		t.Stats.StatusUpdatedAt = ptr(created)
	}
	if t.Status == StatusOpen && t.DueBy.Before(g.o.End) {
		t.IsEscalated = g.chance(0.5)
		t.FrEscalated = t.IsEscalated && firstResponse == nil
	}
	return t
}

// conversation writes one reply or note on t, at at.
func (g *generator) conversation(t *Ticket, tp topic, at time.Time, reqEmail, support string) Conversation {
	c := Conversation{
		ID: g.id("conversation"), TicketID: t.ID, CreatedAt: at, UpdatedAt: at, ToEmails: []string{},
		Category: 2, Attachments: []Attachment{},
	}
	agent := pick(g.rng, g.hd.Agents)
	if t.ResponderID != nil && g.chance(0.8) {
		agent = *g.agentByID(*t.ResponderID)
	}
	var lines []string
	switch r := g.rng.Float64(); {
	case r < 0.45: // an agent's reply
		c.Source, c.UserID, c.Category = SourceReply, agent.ID, 3
		c.SupportEmail, c.FromEmail = ptr(support), ptr(fmt.Sprintf("%s <%s>", g.o.Subdomain+" support", support))
		if reqEmail != "" {
			c.ToEmails = []string{reqEmail}
		}
		c.CCEmails = slices.Clone(t.CCEmails)
		c.BCCEmails = []string{}
		lines = []string{"Hi,", pick(g.rng, tp.answers), "Best regards"}
	case r < 0.75: // the requester's reply
		c.Source, c.UserID, c.Incoming = SourceReply, t.RequesterID, true
		if reqEmail != "" {
			c.FromEmail = ptr(reqEmail)
		}
		c.ToEmails = []string{support}
		lines = []string{pick(g.rng, tp.followup)}
	case r < 0.95: // an agent's private note
		c.Source, c.UserID, c.Private, c.Category = SourceNote, agent.ID, true, 2
		lines = []string{pick(g.rng, tp.notes)}
	default: // a third party's reply, kept as a private note by Freshdesk
		cc := pick(g.rng, g.liveContacts)
		c.Source, c.UserID, c.Private, c.Incoming, c.Category = SourceNote, cc.ID, true, true, 2
		lines = []string{"Adding my colleague's view:", pick(g.rng, tp.followup)}
	}
	c.Body, c.BodyText = paragraphs(lines...)
	if g.chance(0.05) {
		c.LastEditedAt = ptr(at.Add(5 * time.Minute))
		c.LastEditedUserID = ptr(c.UserID)
		c.UpdatedAt = *c.LastEditedAt
	}
	if g.chance(0.1) {
		c.Attachments = g.attachments(at, 1+g.rng.IntN(3))
	}
	return c
}

func (g *generator) agentByID(id int64) *Agent {
	for i := range g.hd.Agents {
		if g.hd.Agents[i].ID == id {
			return &g.hd.Agents[i]
		}
	}
	return &g.hd.Agents[0]
}

// spamAndDeleted marks a few tickets spam and a few deleted, at least one
// of each in a help desk of ten tickets or more.
func (g *generator) spamAndDeleted() {
	n := len(g.hd.Tickets)
	if n < 10 {
		return
	}
	count := max(1, n*3/100)
	idx := g.rng.Perm(n)
	for i, k := range idx[:2*count] {
		t := &g.hd.Tickets[k]
		if i < count {
			t.Spam = true
		} else {
			t.Deleted = true
		}
		// Marking a ticket spam or deleting it updates it.
		t.UpdatedAt = g.between(t.UpdatedAt, g.o.End)
	}
}

// bulkUpdate gives a handful of tickets the same update time, to the
// second, as a bulk action or an automation does: readers that page by
// update time meet records tied at a page's boundary.
func (g *generator) bulkUpdate() {
	n := len(g.hd.Tickets)
	if n < 20 {
		return
	}
	at := g.between(g.o.End.Add(-30*day), g.o.End.Add(-day))
	k := 0
	for _, i := range g.rng.Perm(n) {
		t := &g.hd.Tickets[i]
		if k == max(5, n/40) {
			break
		}
		if t.UpdatedAt.After(at) || !t.Live() {
			continue
		}
		t.UpdatedAt = at
		if t.Status == StatusResolved {
			t.Status = StatusClosed
			t.Stats.ClosedAt = ptr(at)
		}
		k++
	}
}

// manyAttachments makes sure one conversation carries more than five
// attachments: Intercom takes five a part, and the loader must split.
func (g *generator) manyAttachments() {
	for i := range g.hd.Tickets {
		t := &g.hd.Tickets[i]
		if !t.Live() || len(t.Conversations) == 0 {
			continue
		}
		c := &t.Conversations[len(t.Conversations)-1]
		c.Attachments = append(c.Attachments, g.attachments(c.CreatedAt, 7-len(c.Attachments))...)
		return
	}
}

func (g *generator) solutions() {
	for i := range g.o.Categories {
		spec := kbCategories[i%len(kbCategories)]
		created := g.between(g.accountStart, g.o.End.Add(-g.o.Span))
		cat := SolutionCategory{ID: g.id("category"), Name: spec.name, CreatedAt: created, UpdatedAt: g.between(created, g.o.End)}
		if i >= len(kbCategories) {
			cat.Name = fmt.Sprintf("%s %d", spec.name, i/len(kbCategories)+1)
		}
		if g.chance(0.7) {
			cat.Description = ptr("Everything about " + strings.ToLower(spec.name) + ".")
		}
		cat.Folders = []SolutionFolder{}
		for j := range 1 + g.rng.IntN(min(3, len(spec.folders))) {
			fc := g.between(created, g.o.End.Add(-g.o.Span/2))
			f := SolutionFolder{
				ID: g.id("folder"), Name: spec.folders[j], Visibility: pick(g.rng, []int{VisibilityAll, VisibilityAll, VisibilityLoggedIn, VisibilityAgentsOnly}),
				CreatedAt: fc, UpdatedAt: g.between(fc, g.o.End), Articles: []SolutionArticle{},
			}
			if g.chance(0.5) {
				f.Description = ptr(spec.folders[j] + ", step by step.")
			}
			for range 1 + g.rng.IntN(4) {
				f.Articles = append(f.Articles, g.article(cat.ID, f.ID, fc))
			}
			cat.Folders = append(cat.Folders, f)
		}
		g.hd.SolutionCategories = append(g.hd.SolutionCategories, cat)
	}
}

func (g *generator) article(categoryID, folderID int64, after time.Time) SolutionArticle {
	subject := pick(g.rng, articleTopics)
	created := g.between(after, g.o.End.Add(-day))
	body, text := paragraphs(
		"This article explains "+subject+".",
		"Open Settings, choose the section you need and follow the steps on screen.",
		"If something doesn't work as described, contact our support team.",
	)
	a := SolutionArticle{
		ID: g.id("article"), Type: pick(g.rng, []int{1, 1, 1, 2}), Status: pick(g.rng, []int{ArticlePublished, ArticlePublished, ArticlePublished, ArticleDraft}),
		AgentID: pick(g.rng, g.hd.Agents).ID, CreatedAt: created, CategoryID: categoryID, FolderID: folderID,
		Title: fmt.Sprintf(pick(g.rng, articleTitles), subject), UpdatedAt: g.between(created, g.o.End),
		Description: body, DescriptionText: text, SEOData: SEOData{}, Tags: []string{}, Attachments: []Attachment{}, CloudFiles: []any{},
		ThumbsUp: g.rng.IntN(40), ThumbsDown: g.rng.IntN(5), Hits: g.rng.IntN(2000),
	}
	if g.chance(0.5) {
		a.SEOData = SEOData{MetaTitle: a.Title, MetaDescription: "How to " + subject}
	}
	if g.chance(0.4) {
		a.Tags = []string{strings.Fields(subject)[0]}
	}
	if g.chance(0.15) {
		a.Attachments = g.attachments(created, 1)
	}
	a.FeedbackCount = a.ThumbsDown
	return a
}
