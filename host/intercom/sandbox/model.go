package sandbox

import (
	"crypto/rand"
	"encoding/hex"
	"maps"
	"slices"
	"strconv"
	"time"
)

// Admin is a teammate the sandbox knows. Admins cannot be created through
// Intercom's API, so they are seeded through Options.
type Admin struct {
	ID      string
	Name    string
	Email   string
	TeamIDs []string
}

// Team is a group of admins, seeded through Options.
type Team struct {
	ID       string
	Name     string
	AdminIDs []string
}

// DefaultAdmins returns the three admins a sandbox has when Options.Admins
// is nil. The first one owns the token (GET /me).
func DefaultAdmins() []Admin {
	return []Admin{
		{ID: "7340001", Name: "Ada Admin", Email: "ada@ferry-sandbox.example", TeamIDs: []string{"5600001"}},
		{ID: "7340002", Name: "Brook Agent", Email: "brook@ferry-sandbox.example", TeamIDs: []string{"5600001"}},
		{ID: "7340003", Name: "Cyd Billing", Email: "cyd@ferry-sandbox.example", TeamIDs: []string{"5600002"}},
	}
}

// DefaultTeams returns the two teams a sandbox has when Options.Teams is nil.
func DefaultTeams() []Team {
	return []Team{
		{ID: "5600001", Name: "Support", AdminIDs: []string{"7340001", "7340002"}},
		{ID: "5600002", Name: "Billing", AdminIDs: []string{"7340003"}},
	}
}

// Contact is a user or lead as the sandbox stores it.
type Contact struct {
	ID                     string
	Role                   string
	ExternalID             string
	Email                  string
	Phone                  string
	Name                   string
	Avatar                 string
	OwnerID                string
	UnsubscribedFromEmails bool
	// CreatedAt is always the server's time of the create call; SignedUpAt
	// is what the caller sent.
	CreatedAt, UpdatedAt   int64
	SignedUpAt, LastSeenAt int64
	CustomAttributes       map[string]any
	// CompanyIDs are the Intercom ids of attached companies, in attach order.
	CompanyIDs []string
	// TagIDs are the tags applied to the contact, in the order applied.
	TagIDs []string
}

// Company is a company as the sandbox stores it.
type Company struct {
	// ID is Intercom's id; CompanyID the caller's own (the upsert key).
	ID, CompanyID                 string
	Name, Plan, Website, Industry string
	// PlanID is the id Intercom gives the named plan.
	PlanID               string
	Size                 int
	MonthlySpend         int64
	RemoteCreatedAt      int64
	CreatedAt, UpdatedAt int64
	CustomAttributes     map[string]any
	// UserCount is the number of contacts attached. A company with none is
	// not visible in Intercom (and not listed by GET /companies here).
	UserCount int
	TagIDs    []string
}

// Conversation is a conversation with all its parts, oldest first.
type Conversation struct {
	ID           string
	CreatedAt    int64
	UpdatedAt    int64
	WaitingSince int64
	// State is "open", "closed" or "snoozed".
	State            string
	SnoozedUntil     int64
	Read             bool
	Title            string
	AdminAssigneeID  string
	TeamAssigneeID   string
	CompanyID        string
	ContactIDs       []string
	Source           Source
	Parts            []Part
	CustomAttributes map[string]any
	Tags             []AppliedTag
}

// Open reports whether the conversation is not closed (snoozed counts as open,
// as in Intercom's "open" field).
func (c Conversation) Open() bool { return c.State != "closed" }

// Source is the message that started a conversation.
type Source struct {
	// ID is the id of the user_message that POST /conversations returned.
	ID          string
	DeliveredAs string
	Subject     string
	// Body is stored as Intercom renders it (plain text becomes <p>…</p>,
	// scripts and styles are cleaned out);
	// RawBody is what the caller sent.
	Body, RawBody string
	Author        Author
	Attachments   []Attachment
}

// Part is one conversation part.
type Part struct {
	ID string
	// PartType is "comment", "note", "close", "open", "snoozed", "assignment"…
	PartType string
	// Body as Intercom renders it; RawBody as sent.
	Body, RawBody        string
	CreatedAt, UpdatedAt int64
	Author               Author
	Attachments          []Attachment
	// AssignedTo is set on assignment parts ("admin" or "team" and an id).
	AssignedToType, AssignedToID string
	// SkipNotifications records what the reply asked for.
	SkipNotifications bool
}

// Author is who wrote a part or started a conversation.
type Author struct {
	Type, ID, Name, Email string
}

// Attachment is a file on a part or source.
type Attachment struct {
	Name, URL, ContentType string
	Filesize               int64
}

// Tag is a workspace tag.
type Tag struct {
	ID, Name  string
	CreatedAt int64
}

// AppliedTag is a tag on a conversation, with who applied it and when.
type AppliedTag struct {
	TagID, AdminID string
	AppliedAt      int64
}

// Snapshot is a deep copy of everything the sandbox holds, each kind in
// creation order. Changing it does not change the server.
type Snapshot struct {
	Admins        []Admin
	Teams         []Team
	Contacts      []Contact
	Companies     []Company
	Conversations []Conversation
	Tags          []Tag
	Attributes    []Attribute
	Collections   []Collection
	Articles      []Article
	TicketTypes   []TicketType
	Tickets       []Ticket
}

// Contact returns the contact with the given Intercom id.
func (s Snapshot) Contact(id string) (Contact, bool) {
	i := slices.IndexFunc(s.Contacts, func(c Contact) bool { return c.ID == id })
	if i < 0 {
		return Contact{}, false
	}
	return s.Contacts[i], true
}

// Conversation returns the conversation with the given id.
func (s Snapshot) Conversation(id string) (Conversation, bool) {
	i := slices.IndexFunc(s.Conversations, func(c Conversation) bool { return c.ID == id })
	if i < 0 {
		return Conversation{}, false
	}
	return s.Conversations[i], true
}

// store is the sandbox's data. Every access holds Server.mu.
type store struct {
	admins          []Admin
	teams           []Team
	contacts        map[string]*Contact
	contactOrder    []string
	companies       map[string]*Company // by Intercom id
	companyOrder    []string
	conversations   map[string]*Conversation
	convOrder       []string
	tags            map[string]*Tag
	tagOrder        []string
	plans           map[string]string // plan name → id
	attributes      []*Attribute      // custom attributes, in creation order
	collections     map[string]*Collection
	collectionOrder []string
	articles        map[string]*Article
	articleOrder    []string
	ticketTypes     map[string]*TicketType
	ticketTypeOrder []string
	tickets         map[string]*Ticket
	ticketOrder     []string
	// seq numbers the numeric ids (conversations, parts, messages, tags),
	// which Intercom hands out as numeric strings.
	seq int64
}

func newStore(admins []Admin, teams []Team) *store {
	return &store{
		admins:        cloneAdmins(admins),
		teams:         cloneTeams(teams),
		contacts:      map[string]*Contact{},
		companies:     map[string]*Company{},
		conversations: map[string]*Conversation{},
		tags:          map[string]*Tag{},
		plans:         map[string]string{},
		collections:   map[string]*Collection{},
		articles:      map[string]*Article{},
		ticketTypes:   map[string]*TicketType{},
		tickets:       map[string]*Ticket{},
		seq:           1000,
	}
}

// numericID returns the next numeric string id.
func (st *store) numericID() string {
	st.seq++
	return strconv.FormatInt(st.seq, 10)
}

// planID returns the id of the named plan, making one the first time.
func (st *store) planID(name string) string {
	id, ok := st.plans[name]
	if !ok {
		id = st.numericID()
		st.plans[name] = id
	}
	return id
}

// objectID returns a 24-hex id shaped like Intercom's contact and company
// ids: a 4-byte timestamp, then random bytes.
func objectID(now time.Time) string {
	var b [12]byte
	ts := uint32(now.Unix())
	b[0], b[1], b[2], b[3] = byte(ts>>24), byte(ts>>16), byte(ts>>8), byte(ts)
	_, _ = rand.Read(b[4:])
	return hex.EncodeToString(b[:])
}

func (st *store) admin(id string) (Admin, bool) {
	for _, a := range st.admins {
		if a.ID == id {
			return a, true
		}
	}
	return Admin{}, false
}

func (st *store) team(id string) (Team, bool) {
	for _, t := range st.teams {
		if t.ID == id {
			return t, true
		}
	}
	return Team{}, false
}

func (st *store) snapshot() Snapshot {
	out := Snapshot{Admins: cloneAdmins(st.admins), Teams: cloneTeams(st.teams)}
	for _, id := range st.contactOrder {
		out.Contacts = append(out.Contacts, st.contacts[id].clone())
	}
	for _, id := range st.companyOrder {
		out.Companies = append(out.Companies, st.companies[id].clone())
	}
	for _, id := range st.convOrder {
		out.Conversations = append(out.Conversations, st.conversations[id].clone())
	}
	for _, id := range st.tagOrder {
		out.Tags = append(out.Tags, *st.tags[id])
	}
	out.Attributes = st.attributesCopy()
	for _, id := range st.collectionOrder {
		out.Collections = append(out.Collections, *st.collections[id])
	}
	for _, id := range st.articleOrder {
		out.Articles = append(out.Articles, *st.articles[id])
	}
	for _, id := range st.ticketTypeOrder {
		tt := *st.ticketTypes[id]
		tt.Attributes = slices.Clone(tt.Attributes)
		out.TicketTypes = append(out.TicketTypes, tt)
	}
	for _, id := range st.ticketOrder {
		t := *st.tickets[id]
		t.Parts, t.Tags, t.ContactIDs, t.Attributes = slices.Clone(t.Parts), slices.Clone(t.Tags), slices.Clone(t.ContactIDs), cloneMap(t.Attributes)
		out.Tickets = append(out.Tickets, t)
	}
	return out
}

func cloneAdmins(in []Admin) []Admin {
	out := slices.Clone(in)
	for i := range out {
		out[i].TeamIDs = slices.Clone(out[i].TeamIDs)
	}
	return out
}

func cloneTeams(in []Team) []Team {
	out := slices.Clone(in)
	for i := range out {
		out[i].AdminIDs = slices.Clone(out[i].AdminIDs)
	}
	return out
}

func (c *Contact) clone() Contact {
	out := *c
	out.CustomAttributes = cloneMap(c.CustomAttributes)
	out.CompanyIDs = slices.Clone(c.CompanyIDs)
	out.TagIDs = slices.Clone(c.TagIDs)
	return out
}

func (c *Company) clone() Company {
	out := *c
	out.CustomAttributes = cloneMap(c.CustomAttributes)
	out.TagIDs = slices.Clone(c.TagIDs)
	return out
}

func (c *Conversation) clone() Conversation {
	out := *c
	out.ContactIDs = slices.Clone(c.ContactIDs)
	out.Source.Attachments = slices.Clone(c.Source.Attachments)
	out.Parts = slices.Clone(c.Parts)
	for i := range out.Parts {
		out.Parts[i].Attachments = slices.Clone(out.Parts[i].Attachments)
	}
	out.CustomAttributes = cloneMap(c.CustomAttributes)
	out.Tags = slices.Clone(c.Tags)
	return out
}

// cloneMap deep-copies a map decoded from JSON (nested maps and slices).
func cloneMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := maps.Clone(m)
	for k, v := range out {
		out[k] = cloneValue(v)
	}
	return out
}

func cloneValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		return cloneMap(v)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = cloneValue(e)
		}
		return out
	default:
		return v
	}
}
