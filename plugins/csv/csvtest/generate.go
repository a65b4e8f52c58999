// Package csvtest generates help-desk exports for the CSV source's tests,
// benchmarks and demos: organizations, users, tickets and comments, made
// deterministically from a seed, written as CSV or JSON Lines files with
// the connector config that reads them.
//
// The files are shaped like real exports rather than like ferry's model:
// header names such as "Ticket ID" and "Created", statuses written as
// "On hold", times in a zone, lists joined with ";", multi-line bodies
// with quotes and commas, ids as JSON numbers, nested JSON objects. An
// option injects malformed rows at known lines, and WriteTickets writes any
// number of ticket rows without holding them in memory.
package csvtest

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// Options size and seed a generated export. A zero field takes its
// default.
type Options struct {
	// Seed picks the export: the same options give the same files, byte
	// for byte.
	Seed uint64
	// Tickets is the number of tickets (default 60).
	Tickets int
	// EndUsers is the number of customers (default 25).
	EndUsers int
	// Agents is the number of agents (default 5).
	Agents int
	// Organizations is the number of customer companies (default 6).
	Organizations int
	// MaxReplies is the most replies a ticket has after its first message
	// (default 3).
	MaxReplies int
	// SingleFile writes the export as one tickets file, as many help desks
	// export: each ticket row holds its first message and, once solved,
	// its resolution; there is no comments file, and the config turns
	// those columns into comments.
	SingleFile bool
	// UsersFromTicket writes a single-file export (it implies SingleFile)
	// whose ticket rows also carry their requester's name, email, phone,
	// plan and sign-up time and their assignee's name and email, and no
	// users file: the config makes users of those columns
	// (users_from_ticket). Export.TicketUsers lists the users a correct
	// read brings.
	UsersFromTicket bool
	// Malformed is the number of malformed rows injected into each file,
	// spread between the good rows (Written.Malformed says where).
	Malformed int
	// End bounds every timestamp (default 2025-06-01T00:00:00Z); it is
	// fixed so that a seed means one export whenever it is generated.
	End time.Time
}

func (o Options) withDefaults() Options {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.Tickets, 60)
	def(&o.EndUsers, 25)
	def(&o.Agents, 5)
	def(&o.Organizations, 6)
	def(&o.MaxReplies, 3)
	if o.UsersFromTicket {
		o.SingleFile = true
	}
	if o.End.IsZero() {
		o.End = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	}
	o.End = o.End.UTC().Truncate(time.Second)
	return o
}

// Export is a generated help desk, in ferry's canonical terms: what a
// correct reading of the written files gives.
type Export struct {
	Organizations []*Organization
	Users         []*User
	Tickets       []*Ticket
	// Comments are every comment, in ticket order. In a single-file export
	// they are the comments the ticket rows hold, with ids made of the
	// ticket's id and "-description" or "-resolution".
	Comments []*Comment

	opts Options
}

// Organization is a customer company.
type Organization struct {
	ID        string
	Name      string
	Domains   []string
	Tier      string // the custom field "Tier"
	CreatedAt time.Time
	UpdatedAt time.Time
}

// User is an agent or a customer.
type User struct {
	ID             string
	Agent          bool
	Name           string
	Email          string
	Phone          string // "" for none
	OrganizationID string // "" for none
	Active         bool
	Suspended      bool
	Plan           string // the custom field "Plan"; "" for none
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Ticket is a support request.
type Ticket struct {
	ID             string
	Subject        string
	Status         string // new, open, pending, hold, solved or closed
	Priority       string // "" for none
	Type           string // "" for none
	RequesterID    string
	SubmitterID    string
	AssigneeID     string // "" for none
	GroupID        string // "" for none
	OrganizationID string // "" for none
	Tags           []string
	CCIDs          []string
	Product        string // the custom field "Product"; "" for none
	Channel        string // the custom field "Channel"
	CreatedAt      time.Time
	UpdatedAt      time.Time
	// Description is the first message, by the requester at CreatedAt.
	Description string
	// Resolution is the last message of a solved or closed ticket, by the
	// assignee at ResolvedAt; "" for others.
	Resolution string
	ResolvedAt time.Time
}

// Comment is a message on a ticket.
type Comment struct {
	ID        string
	TicketID  string
	AuthorID  string
	Public    bool
	BodyText  string
	BodyHTML  string // "" for none
	CreatedAt time.Time
}

// Suffixes of the comments a single-file export's ticket rows hold.
const (
	DescriptionSuffix = "description"
	ResolutionSuffix  = "resolution"
)

// TicketUsers are the users the ticket rows of a UsersFromTicket export
// name, each once, in the order a read meets them first: each ticket's
// requester, then its assignee. The rows carry a requester's ID, name,
// email, phone, organization, plan and created time, and an assignee's
// ID, name and email: a user read from them has those, and the defaults
// for the rest. Nil for other exports.
func (e *Export) TicketUsers() []*User {
	if !e.opts.UsersFromTicket {
		return nil
	}
	byID := make(map[string]*User, len(e.Users))
	for _, u := range e.Users {
		byID[u.ID] = u
	}
	var out []*User
	seen := map[string]bool{}
	for _, t := range e.Tickets {
		for _, id := range []string{t.RequesterID, t.AssigneeID} {
			if id != "" && !seen[id] {
				seen[id] = true
				out = append(out, byID[id])
			}
		}
	}
	return out
}

// Generate builds an export deterministically from opts.
func Generate(opts Options) *Export {
	g := newGenerator(opts)
	e := &Export{Organizations: g.orgs, Users: g.users, opts: g.o}
	for i := range g.o.Tickets {
		t, comments := g.ticket(i)
		e.Tickets = append(e.Tickets, t)
		e.Comments = append(e.Comments, comments...)
	}
	return e
}

// generator makes the records of one export: organizations and users up
// front (they are few), tickets one at a time from their index, so that
// any number of them can be written without being held.
type generator struct {
	o      Options
	w      *words
	orgs   []*Organization
	users  []*User
	agents []*User
	// customers are the end users, the possible requesters.
	customers []*User
}

func newGenerator(opts Options) *generator {
	w := newWords()
	g := &generator{o: opts.withDefaults(), w: w}
	rng := rand.New(rand.NewPCG(g.o.Seed, 0x6373762d6f7267))
	start := g.o.End.AddDate(-3, 0, 0)
	for i := range g.o.Organizations {
		name := pick(rng, w.companyWords) + " " + pick(rng, w.companyKinds)
		if i%4 == 3 {
			name = pick(rng, w.companyWords) + ", " + pick(rng, w.companyWords) + " & Co."
		}
		dom := strings.ToLower(strings.NewReplacer(" ", "", ",", "", "&", "", ".", "").Replace(name)) + strconv.Itoa(i+1)
		o := &Organization{
			ID:        fmt.Sprintf("org-%02d", i+1),
			Name:      name,
			Domains:   []string{dom + ".example"},
			Tier:      pick(rng, w.tiers),
			CreatedAt: between(rng, start, start.AddDate(0, 6, 0)),
		}
		if i%2 == 0 {
			o.Domains = append(o.Domains, dom+".test")
		}
		o.UpdatedAt = between(rng, o.CreatedAt, g.o.End.AddDate(0, 0, -1))
		g.orgs = append(g.orgs, o)
	}
	person := func(i int, agent bool) *User {
		first, last := pick(rng, w.firstNames), pick(rng, w.lastNames)
		u := &User{Agent: agent, Name: first + " " + last, Active: true}
		local := strings.ToLower(asciiOnly(first) + "." + asciiOnly(last) + strconv.Itoa(i+1))
		if agent {
			u.ID = strconv.Itoa(100001 + i)
			u.Email = local + "@support.example"
		} else {
			u.ID = strconv.Itoa(200001 + i)
			if len(g.orgs) > 0 && rng.IntN(5) > 0 {
				org := g.orgs[rng.IntN(len(g.orgs))]
				u.OrganizationID = org.ID
				u.Email = local + "@" + org.Domains[0]
			} else {
				u.Email = local + "@mail.example"
			}
			u.Plan = pick(rng, w.plans)
			u.Active = rng.IntN(10) > 0
			u.Suspended = rng.IntN(15) == 0
		}
		if rng.IntN(3) > 0 {
			u.Phone = fmt.Sprintf("+1 555 %03d %04d", rng.IntN(1000), rng.IntN(10000))
		}
		u.CreatedAt = between(rng, start, start.AddDate(1, 0, 0))
		u.UpdatedAt = between(rng, u.CreatedAt, g.o.End.AddDate(0, 0, -1))
		return u
	}
	for i := range g.o.Agents {
		u := person(i, true)
		g.users = append(g.users, u)
		g.agents = append(g.agents, u)
	}
	for i := range g.o.EndUsers {
		u := person(i, false)
		g.users = append(g.users, u)
		g.customers = append(g.customers, u)
	}
	return g
}

// ticket makes ticket i and its comments; it depends on i and the seed
// only, not on the tickets before it.
func (g *generator) ticket(i int) (*Ticket, []*Comment) {
	w := g.w
	rng := rand.New(rand.NewPCG(g.o.Seed^0x7469636b6574, uint64(i)))
	req := g.customers[rng.IntN(len(g.customers))]
	created := between(rng, g.o.End.AddDate(-1, 0, 0), g.o.End.AddDate(0, 0, -20))
	product := pick(rng, w.products)
	t := &Ticket{
		ID:             strconv.Itoa(5001 + i),
		Status:         pick(rng, w.statuses),
		Priority:       pick(rng, w.priorities),
		Type:           pick(rng, w.types),
		RequesterID:    req.ID,
		SubmitterID:    req.ID,
		OrganizationID: req.OrganizationID,
		Product:        product,
		Channel:        pick(rng, w.channels),
		CreatedAt:      created,
	}
	t.Subject = strings.ReplaceAll(pick(rng, w.subjects), "{p}", product)
	if rng.IntN(6) == 0 {
		t.Product = ""
	}
	if t.Status != "new" {
		agent := g.agents[rng.IntN(len(g.agents))]
		t.AssigneeID = agent.ID
		t.GroupID = pick(rng, w.groups)
	}
	if rng.IntN(8) == 0 {
		// Filed by an agent on the customer's behalf.
		t.SubmitterID = g.agents[rng.IntN(len(g.agents))].ID
	}
	for range rng.IntN(4) {
		if tag := pick(rng, w.tags); !contains(t.Tags, tag) {
			t.Tags = append(t.Tags, tag)
		}
	}
	if rng.IntN(4) == 0 {
		if cc := g.customers[rng.IntN(len(g.customers))]; cc.ID != req.ID {
			t.CCIDs = append(t.CCIDs, cc.ID)
		}
	}

	at := created
	t.Description = message(rng, w, product, req.Name)
	comments := []*Comment{{ID: t.ID + "01", TicketID: t.ID, AuthorID: req.ID, Public: true, BodyText: t.Description, CreatedAt: at}}
	if rng.IntN(3) == 0 {
		comments[0].BodyHTML = "<p>" + strings.ReplaceAll(htmlEscape(t.Description), "\n", "<br>") + "</p>"
	}
	if t.AssigneeID != "" {
		for k := range rng.IntN(g.o.MaxReplies + 1) {
			at = at.Add(time.Duration(1+rng.IntN(48*60)) * time.Minute)
			c := &Comment{ID: fmt.Sprintf("%s%02d", t.ID, k+2), TicketID: t.ID, Public: true, CreatedAt: at}
			if k%2 == 0 {
				c.AuthorID = t.AssigneeID
				c.BodyText = reply(rng, w)
				c.Public = rng.IntN(4) > 0 // some are internal notes
			} else {
				c.AuthorID = req.ID
				c.BodyText = message(rng, w, product, req.Name)
			}
			comments = append(comments, c)
		}
		if t.Status == "solved" || t.Status == "closed" {
			at = at.Add(time.Duration(1+rng.IntN(72*60)) * time.Minute)
			t.Resolution = pick(rng, w.resolutions)
			t.ResolvedAt = at
			comments = append(comments, &Comment{ID: fmt.Sprintf("%s%02d", t.ID, len(comments)+1), TicketID: t.ID, AuthorID: t.AssigneeID, Public: true, BodyText: t.Resolution, CreatedAt: at})
		}
	}
	t.UpdatedAt = at.Add(time.Duration(rng.IntN(600)) * time.Second)
	if g.o.SingleFile {
		comments = comments[:1]
		comments[0] = &Comment{ID: t.ID + "-" + DescriptionSuffix, TicketID: t.ID, AuthorID: req.ID, Public: true, BodyText: t.Description, CreatedAt: created}
		if t.Resolution != "" {
			comments = append(comments, &Comment{ID: t.ID + "-" + ResolutionSuffix, TicketID: t.ID, AuthorID: t.AssigneeID, Public: true, BodyText: t.Resolution, CreatedAt: t.ResolvedAt})
		}
	}
	return t, comments
}

// between is a whole second in [a, b).
func between(rng *rand.Rand, a, b time.Time) time.Time {
	span := int64(b.Sub(a) / time.Second)
	if span <= 0 {
		return a
	}
	return a.Add(time.Duration(rng.Int64N(span)) * time.Second)
}

func pick(rng *rand.Rand, from []string) string { return from[rng.IntN(len(from))] }

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// asciiOnly keeps the letters of s that fit an email address.
func asciiOnly(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}

// message is a customer's message: several lines, with the quotes,
// commas, blank lines and non-ASCII text real messages have.
func message(rng *rand.Rand, w *words, product, name string) string {
	var b strings.Builder
	b.WriteString(pick(rng, w.greetings))
	b.WriteString("\n\n")
	n := 1 + rng.IntN(3)
	for k := range n {
		if k > 0 {
			b.WriteString(" ")
		}
		b.WriteString(strings.ReplaceAll(pick(rng, w.problems), "{p}", product))
	}
	if rng.IntN(3) == 0 {
		b.WriteString("\n\nThe error says: \"" + pick(rng, w.errorsSeen) + "\"")
	}
	b.WriteString("\n\n")
	b.WriteString(pick(rng, w.closings))
	b.WriteString(",\n")
	b.WriteString(name)
	return b.String()
}

func reply(rng *rand.Rand, w *words) string {
	return pick(rng, w.replies) + "\n\n— " + pick(rng, w.signatures)
}

// words is the vocabulary the generator writes with. Names, companies and
// domains are invented; domains use the reserved .example and .test
// top-level domains.
type words struct {
	companyWords []string
	companyKinds []string
	tiers        []string
	plans        []string
	firstNames   []string
	lastNames    []string
	products     []string
	statuses     []string
	priorities   []string
	types        []string
	groups       []string
	channels     []string
	tags         []string
	subjects     []string
	greetings    []string
	problems     []string
	errorsSeen   []string
	closings     []string
	replies      []string
	signatures   []string
	resolutions  []string
}

func newWords() *words {
	return &words{
		companyWords: []string{"Northwind", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Wayne", "Stark", "Acme", "Soylent", "Tyrell", "Nakatomi", "Oceanic", "Gringotts", "Müller", "Løvstad"},
		companyKinds: []string{"Traders", "Corp", "Industries", "GmbH", "Logistics", "Labs", "SARL", "AB"},
		tiers:        []string{"bronze", "silver", "gold", "platinum"},
		plans:        []string{"free", "starter", "team", "business", "enterprise"},
		firstNames:   []string{"Ada", "Bo", "Chioma", "Dmitri", "Eun-ji", "François", "Grace", "Hamid", "Ines", "José", "Kai", "Łukasz", "Mei", "Noor", "Olu", "Priya", "Quinn", "Renée", "Siobhan", "Tomás", "Uma", "Viktor", "Wen", "Yusuf", "Zoë"},
		lastNames:    []string{"Okafor", "O'Brien", "Nakamura", "García", "Smith-Jones", "Müller", "Kowalski", "Haddad", "Nguyen", "Søreide", "Ivanova", "Dubois", "Adeyemi", "Lindqvist", "Rossi"},
		products:     []string{"GoPro Hero", "LG Smart TV", "Dell XPS", "Microsoft Office", "Nest Thermostat", "Kindle Paperwhite", "Sony PlayStation", "Fitbit Charge", "Philips Hue", "Canon EOS"},
		statuses:     []string{"new", "open", "open", "pending", "hold", "solved", "solved", "closed"},
		priorities:   []string{"", "low", "normal", "normal", "high", "urgent"},
		types:        []string{"", "question", "incident", "problem", "task"},
		groups:       []string{"grp-billing", "grp-support", "grp-hardware"},
		channels:     []string{"Email", "Chat", "Phone", "Social media", "Web form"},
		tags:         []string{"vip", "refund", "bug", "how-to", "shipping", "warranty", "priority_support", "läuft-nicht"},
		subjects: []string{
			"{p} won't turn on",
			"Refund for my {p}, please",
			"Question about \"warranty\" on {p}",
			"Billing: charged twice",
			"{p} — setup help",
			"Can't log in, again",
			"Shipping delay; order #{p}",
			"Data loss after update",
		},
		greetings: []string{"Hello,", "Hi there,", "Good morning,", "Dear support team,", "Bonjour,", "Hallo zusammen,"},
		problems: []string{
			"My {p} stopped working yesterday, and I can't get it to start.",
			"I've tried the steps in the manual, but the issue persists.",
			"It worked fine until the last update; now it says \"unsupported\".",
			"I was charged twice for the {p}, see the attached invoice.",
			"The screen flickers, then goes black — every single time.",
			"Is there a way to reset it without losing my data?",
			"Ich habe das Gerät neu gestartet, aber es läuft nicht.",
			"Le produit ne s'allume plus depuis hier soir.",
			"製品が起動しません。",
			"I'd like a refund; the {p} arrived damaged 😞.",
		},
		errorsSeen:  []string{"E-1042: device not found", "Unexpected token, expected \",\"", "0x80070005 (access denied)", "Timeout after 30s"},
		closings:    []string{"Thanks", "Best regards", "Cheers", "Merci", "Kind regards"},
		replies:     []string{"Thanks for reaching out. Could you send us the serial number?", "I've escalated this to our hardware team; we'll update you within 24 hours.", "Please try holding the power button for 10 seconds, then let us know.", "We've issued a refund: it should appear on your statement in 3-5 days.", "Internal: customer is on the \"gold\" tier, prioritize."},
		signatures:  []string{"Support", "The Help Desk team", "Billing team", "Équipe support"},
		resolutions: []string{"Replaced the unit under warranty.", "Refund issued, \"duplicate charge\" reversed.", "Firmware rollback fixed it; closing.", "Customer confirmed the reset worked.", "Shipped a new charger, tracking sent by email."},
	}
}
