package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferryhq/ferry/host/intercom/openapicheck"
	"github.com/ferryhq/ferry/host/intercom/sandbox"
	"github.com/ferryhq/ferry/plugins/zendesk/zendesktest"
)

// binaries are the real programs the end-to-end tests run: bin/ from
// `make build` when FERRY_BIN_DIR says so, else built here once.
type binaries struct {
	ferry     string // the ferry executable
	pluginDir string // holds ferry-source-zendesk
	wasm      string // the legacy-id-subject transform
}

var buildBinaries = sync.OnceValues(func() (binaries, error) {
	root, err := filepath.Abs("../..")
	if err != nil {
		return binaries{}, err
	}
	wasm := filepath.Join(root, "transforms/legacy-id-subject/legacy-id-subject.wasm")
	if dir := os.Getenv("FERRY_BIN_DIR"); dir != "" {
		b := binaries{ferry: filepath.Join(dir, "ferry"), pluginDir: dir, wasm: wasm}
		for _, p := range []string{b.ferry, filepath.Join(dir, "ferry-source-zendesk"), filepath.Join(dir, "ferry-source-freshdesk"), filepath.Join(dir, "ferry-source-csv"), wasm} {
			if _, err := os.Stat(p); err != nil {
				return binaries{}, fmt.Errorf("FERRY_BIN_DIR=%s: %w (run make build)", dir, err)
			}
		}
		return b, nil
	}
	dir, err := os.MkdirTemp("", "ferry-e2e-bin")
	if err != nil {
		return binaries{}, err
	}
	b := binaries{ferry: filepath.Join(dir, "ferry"), pluginDir: dir, wasm: filepath.Join(dir, "legacy-id-subject.wasm")}
	builds := [][]string{
		{"go", "build", "-buildmode=c-shared", "-o", b.wasm, "./transforms/legacy-id-subject"},
		{"go", "build", "-tags", "duckdb_arrow", "-o", b.ferry, "./cmd/ferry"},
	}
	mains, _ := filepath.Glob(filepath.Join(root, "plugins", "*", "main.go"))
	for _, m := range mains {
		name := filepath.Base(filepath.Dir(m))
		builds = append(builds, []string{"go", "build", "-o", filepath.Join(dir, "ferry-source-"+name), "./plugins/" + name})
	}
	for i, args := range builds {
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Dir = root
		cmd.Env = os.Environ()
		if i == 0 {
			cmd.Env = append(cmd.Env, "GOOS=wasip1", "GOARCH=wasm")
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			return binaries{}, fmt.Errorf("%s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	return b, nil
})

func needBinaries(t *testing.T) binaries {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end: builds and runs the real binaries")
	}
	b, err := buildBinaries()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// world is a source help desk served by the Zendesk emulator and an
// Intercom sandbox, both real HTTP servers on loopback, and a workspace
// configured to migrate one into the other.
type world struct {
	t       *testing.T
	bin     binaries
	hd      *zendesktest.HelpDesk
	zendesk *httptest.Server
	zd      *zendesktest.Server
	ic      *sandbox.Server
	icURL   string // the sandbox's base URL
	admins  []sandbox.Admin
	teams   []sandbox.Team
	ws      string
	env     []string
}

const (
	e2eIntercomToken = "e2e-intercom-token-5f1c"
	e2eZendeskToken  = "e2e-zendesk-token-9a7d"
	e2eZendeskEmail  = "migrator@acme.example"
)

// newWorld makes a help desk, its Zendesk emulator, an Intercom sandbox
// (its options changed by each of sbOpts) and a workspace configured for
// them.
func newWorld(t *testing.T, opts zendesktest.GenerateOptions, sbOpts ...func(*sandbox.Options)) *world {
	t.Helper()
	return newWorldOf(t, zendesktest.Generate(opts), sbOpts...)
}

// newWorldOf is newWorld with the help desk given.
func newWorldOf(t *testing.T, hd *zendesktest.HelpDesk, sbOpts ...func(*sandbox.Options)) *world {
	t.Helper()
	return newWorldWrapped(t, hd, nil, nil, sbOpts...)
}

// newWorldWrapped is newWorldOf with the Zendesk emulator's and the Intercom
// sandbox's handlers wrapped (when the wrappers are not nil): to watch or
// change what they are sent.
func newWorldWrapped(t *testing.T, hd *zendesktest.HelpDesk, wrapZendesk, wrapIntercom func(http.Handler) http.Handler, sbOpts ...func(*sandbox.Options)) *world {
	t.Helper()
	w := &world{t: t, bin: needBinaries(t), hd: hd}
	w.zd = zendesktest.NewServer(w.hd, zendesktest.ServerOptions{Email: e2eZendeskEmail, Token: e2eZendeskToken})
	var zh http.Handler = w.zd
	if wrapZendesk != nil {
		zh = wrapZendesk(zh)
	}
	w.zendesk = httptest.NewServer(zh)
	t.Cleanup(w.zendesk.Close)
	w.admins, w.teams = sandboxTeammates(w.hd)
	so := sandbox.Options{Token: e2eIntercomToken, Admins: w.admins, Teams: w.teams}
	for _, f := range sbOpts {
		f(&so)
	}
	w.ic = sandbox.New(so)
	var ich http.Handler = w.ic
	// Every request ferry sends is checked against Intercom's OpenAPI
	// description, when CI names it.
	checker, err := openapicheck.FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if checker != nil {
		ich = checker.Handler(ich, func(err error) { t.Errorf("a request does not match Intercom's OpenAPI description: %v", err) })
		before := checker.Checked()
		t.Cleanup(func() { t.Logf("%d requests checked with %s", checker.Checked()-before, openapicheck.Name) })
	}
	if wrapIntercom != nil {
		ich = wrapIntercom(ich)
	}
	intercom := httptest.NewServer(ich)
	t.Cleanup(intercom.Close)
	w.icURL = intercom.URL

	w.ws = t.TempDir()
	cfg := fmt.Sprintf(`source:
  plugin: zendesk
  config: { base_url: %q, email: %q, token: "${ZENDESK_TOKEN}" }
transforms:
  - wasm: %q
    config: { prefix: "ZD" }
target:
  intercom: { base_url: %q, token: "${INTERCOM_TOKEN}" }
options:
  tag_migrated: migrated
`, w.zendesk.URL, e2eZendeskEmail, w.bin.wasm, intercom.URL)
	if err := os.WriteFile(filepath.Join(w.ws, "ferry.yaml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	w.env = append(os.Environ(), "INTERCOM_TOKEN="+e2eIntercomToken, "ZENDESK_TOKEN="+e2eZendeskToken, "FERRY_PLUGIN_DIR="+w.bin.pluginDir)
	return w
}

// withHelpCenter makes the world's migration take the knowledge base too.
func (w *world) withHelpCenter() {
	w.t.Helper()
	cfgPath := filepath.Join(w.ws, "ferry.yaml")
	cfg, err := os.ReadFile(cfgPath)
	if err != nil {
		w.t.Fatal(err)
	}
	on := []byte(strings.Replace(string(cfg), `token: "${ZENDESK_TOKEN}" }`, `token: "${ZENDESK_TOKEN}", help_center: true }`, 1))
	if string(on) == string(cfg) {
		w.t.Fatal("ferry.yaml: no source config to turn the help center on in")
	}
	if err := os.WriteFile(cfgPath, on, 0o600); err != nil {
		w.t.Fatal(err)
	}
}

// ferry runs the ferry binary on the world's workspace.
func (w *world) ferry(args ...string) (stdout, stderr string, code int) {
	w.t.Helper()
	cmd := exec.Command(w.bin.ferry, args...)
	cmd.Env = w.env
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	code = exitCode(w.t, args, cmd.Run())
	return out.String(), errOut.String(), code
}

// exitCode is the exit code of a ferry run that ended with err; a run
// that did not start or was not waited for fails the test.
func exitCode(t *testing.T, args []string, err error) int {
	t.Helper()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	}
	t.Fatalf("run ferry %v: %v", args, err)
	return 0
}

func (w *world) mustFerry(args ...string) string {
	w.t.Helper()
	out, errOut, code := w.ferry(args...)
	if code != 0 {
		w.t.Fatalf("ferry %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// idMap reads the workspace's id map through ferry query.
func (w *world) idMap(entity string) map[string]string {
	w.t.Helper()
	out := w.mustFerry("query", "-w", w.ws, "--format", "json", "SELECT source_id, intercom_id FROM id_map WHERE entity = '"+entity+"'")
	m := map[string]string{}
	dec := json.NewDecoder(strings.NewReader(out))
	for dec.More() {
		var row struct{ SourceID, IntercomID string }
		var raw map[string]string
		if err := dec.Decode(&raw); err != nil {
			w.t.Fatal(err)
		}
		row.SourceID, row.IntercomID = raw["source_id"], raw["intercom_id"]
		m[row.SourceID] = row.IntercomID
	}
	return m
}

type entityCounts struct{ Available, Migrated, Failed, Skipped int }

func (w *world) report() map[string]entityCounts {
	w.t.Helper()
	var rep struct {
		Entities map[string]entityCounts `json:"entities"`
	}
	if err := json.Unmarshal([]byte(w.mustFerry("report", "-w", w.ws, "--json")), &rep); err != nil {
		w.t.Fatal(err)
	}
	return rep.Entities
}

// TestMigrateEndToEnd migrates the demo's help desk with the real binaries
// and checks that the sandbox holds exactly the source: every contact,
// company and conversation, and for every ticket its comments as parts with
// their bodies, authors, order and timestamps; then that a second migrate
// creates nothing.
func TestMigrateEndToEnd(t *testing.T) {
	w := newWorld(t, zendesktest.GenerateOptions{Seed: 7})
	hd := w.hd

	if out := w.mustFerry("plugins", "--plugin-dir", w.bin.pluginDir); !strings.Contains(out, "zendesk") || !strings.Contains(out, filepath.Join(w.bin.pluginDir, "ferry-source-zendesk")) {
		t.Errorf("ferry plugins does not list the zendesk plugin:\n%s", out)
	}

	out := w.mustFerry("migrate", "-w", w.ws)
	for _, want := range []string{"ENTITY", "tickets", "workspace:"} {
		if !strings.Contains(out, want) {
			t.Errorf("migrate output lacks %q:\n%s", want, out)
		}
	}

	// The summary: everything available, everything migrated.
	var endUsers []zendesktest.User
	for _, u := range hd.Users {
		if !u.IsAgent() {
			endUsers = append(endUsers, u)
		}
	}
	want := map[string]int{
		"tickets": len(hd.Tickets), "comments": hd.CommentCount(), "attachments": hd.AttachmentCount(),
		"contacts": len(endUsers), "companies": len(hd.Organizations),
	}
	rep := w.report()
	for entity, n := range want {
		if got := rep[entity]; got != (entityCounts{Available: n, Migrated: n}) {
			t.Errorf("report %s = %+v, want %d available and migrated", entity, got, n)
		}
	}

	snap := w.checkExact(t, endUsers)

	// A second migrate creates nothing and changes nothing.
	before := w.ic.Stats()
	w.mustFerry("migrate", "-w", w.ws)
	after := w.ic.Stats()
	for ep, st := range after.Endpoints {
		if strings.HasPrefix(ep, "GET ") {
			continue
		}
		if n := st.Requests - before.Endpoints[ep].Requests; n != 0 {
			t.Errorf("the second migrate sent %d × %s", n, ep)
		}
	}
	snap2 := w.ic.Snapshot()
	if len(snap2.Contacts) != len(snap.Contacts) || len(snap2.Companies) != len(snap.Companies) || len(snap2.Conversations) != len(snap.Conversations) {
		t.Errorf("the second migrate changed the counts")
	}
	for i := range snap.Conversations {
		if len(snap2.Conversations[i].Parts) != len(snap.Conversations[i].Parts) {
			t.Errorf("conversation %s: %d parts, then %d", snap.Conversations[i].ID, len(snap.Conversations[i].Parts), len(snap2.Conversations[i].Parts))
		}
	}
	if got := w.report(); got["tickets"].Migrated != len(hd.Tickets) || got["comments"].Failed != 0 {
		t.Errorf("report after the second migrate: %+v", got)
	}
}

// checkExact checks that the sandbox holds exactly the source: every
// contact and company, linked, and every ticket's conversation with each
// comment once, in order (checkConversation). It returns what it checked.
func (w *world) checkExact(t *testing.T, endUsers []zendesktest.User) sandbox.Snapshot {
	t.Helper()
	hd := w.hd
	snap := w.ic.Snapshot()
	if len(snap.Contacts) != len(endUsers) || len(snap.Companies) != len(hd.Organizations) || len(snap.Conversations) != len(hd.Tickets) {
		t.Fatalf("sandbox holds %d contacts, %d companies, %d conversations; want %d, %d, %d",
			len(snap.Contacts), len(snap.Companies), len(snap.Conversations), len(endUsers), len(hd.Organizations), len(hd.Tickets))
	}

	// Companies and contacts, linked.
	companyOf := map[string]string{} // organization id → Intercom company id
	for _, c := range snap.Companies {
		companyOf[c.CompanyID] = c.ID
	}
	for _, o := range hd.Organizations {
		if companyOf[id(o.ID)] == "" {
			t.Errorf("organization %d %q has no company", o.ID, o.Name)
		}
	}
	contactOf := map[string]sandbox.Contact{} // user id → contact
	for _, c := range snap.Contacts {
		contactOf[c.ExternalID] = c
	}
	for _, u := range endUsers {
		c, ok := contactOf[id(u.ID)]
		if !ok {
			t.Errorf("end user %d has no contact", u.ID)
			continue
		}
		if c.Role != "user" || c.Name != u.Name || c.Email != deref(u.Email) || c.SignedUpAt != u.CreatedAt.Unix() {
			t.Errorf("contact of user %d = %+v, want role user, name %q, email %q, signed up %d", u.ID, c, u.Name, deref(u.Email), u.CreatedAt.Unix())
		}
		var wantCompanies []string
		if u.OrganizationID != nil {
			wantCompanies = []string{companyOf[id(*u.OrganizationID)]}
		}
		if !slices.Equal(c.CompanyIDs, wantCompanies) {
			t.Errorf("contact of user %d is linked to %v, want %v", u.ID, c.CompanyIDs, wantCompanies)
		}
	}

	// Conversations: one per ticket, every comment a part, in order.
	adminByEmail := map[string]string{}
	for _, a := range w.admins {
		adminByEmail[a.Email] = a.ID
	}
	defaultAdmin := w.admins[0].ID // the token's owner
	adminOf := func(userID int64) string {
		u := hd.User(userID)
		if a, ok := adminByEmail[deref(u.Email)]; ok {
			return a
		}
		return defaultAdmin
	}
	teamOf := map[string]string{}
	for _, g := range hd.Groups {
		for _, tm := range w.teams {
			if tm.Name == g.Name {
				teamOf[id(g.ID)] = tm.ID
			}
		}
	}
	tagNames := map[string]string{}
	for _, tg := range snap.Tags {
		tagNames[tg.ID] = tg.Name
	}
	convs := w.idMap("tickets")
	for _, tk := range hd.Tickets {
		conv, ok := snap.Conversation(convs[id(tk.ID)])
		if !ok {
			t.Errorf("ticket %d: no conversation (id map says %q)", tk.ID, convs[id(tk.ID)])
			continue
		}
		checkConversation(t, w, tk, conv, tagNames, contactOf, adminOf, teamOf)
	}

	return snap
}

// expectedPart is what one part of a conversation must be.
type expectedPart struct {
	partType, authorType, authorID, body string
	createdAt                            int64
	attachments                          []string
}

func checkConversation(t *testing.T, w *world, tk zendesktest.Ticket, conv sandbox.Conversation, tagNames map[string]string,
	contactOf map[string]sandbox.Contact, adminOf func(int64) string, teamOf map[string]string) {
	t.Helper()
	requester := contactOf[id(tk.RequesterID)].ID
	urls := func(c zendesktest.Comment) []string {
		var out []string
		for _, a := range c.Attachments {
			u := a.ContentURL
			if strings.HasPrefix(u, "/") {
				u = w.zendesk.URL + u
			}
			out = append(out, u)
		}
		return out
	}
	comments := tk.Comments
	first := comments[0]
	var openingRest []expectedPart
	wantTitle := fmt.Sprintf("[ZD-%d] %s", tk.ID, tk.Subject)
	if first.AuthorID == tk.RequesterID && first.Public {
		text := first.PlainBody
		if text == "" {
			text = first.Body
		}
		if conv.Source.RawBody != text || conv.Source.Author.ID != requester || conv.CreatedAt != first.CreatedAt.Unix() {
			t.Errorf("ticket %d: conversation source = %q by %s at %d; want the first comment %q by contact %s at %d",
				tk.ID, conv.Source.RawBody, conv.Source.Author.ID, conv.CreatedAt, text, requester, first.CreatedAt.Unix())
		}
		if got, want := attachmentURLs(conv.Source.Attachments), urls(first); !slices.Equal(got, firstN(want, 5)) {
			t.Errorf("ticket %d: source attachments %v, want %v", tk.ID, got, want)
		}
		comments = comments[1:]
		// Attachments beyond the first message's five follow as parts of
		// the requester.
		for rest := urls(first)[min(5, len(urls(first))):]; len(rest) > 0; rest = rest[min(5, len(rest)):] {
			openingRest = append(openingRest, expectedPart{partType: "comment", authorType: "user", authorID: requester,
				body: "<p>(attachments, continued)</p>", createdAt: first.CreatedAt.Unix(), attachments: firstN(rest, 5)})
		}
	} else if conv.Source.RawBody != wantTitle || conv.Source.Author.ID != requester || conv.CreatedAt != tk.CreatedAt.Unix() {
		t.Errorf("ticket %d (opened by an agent): source = %q by %s at %d; want the subject by the requester at %d",
			tk.ID, conv.Source.RawBody, conv.Source.Author.ID, conv.CreatedAt, tk.CreatedAt.Unix())
	}

	want := openingRest
	for _, c := range comments {
		p := expectedPart{body: c.HTMLBody, createdAt: c.CreatedAt.Unix()}
		author := w.hd.User(c.AuthorID)
		switch {
		case author.IsAgent():
			p.partType, p.authorType, p.authorID = "note", "admin", adminOf(c.AuthorID)
			if c.Public {
				p.partType = "comment"
			}
		case c.Public:
			p.partType, p.authorType, p.authorID = "comment", "user", contactOf[id(c.AuthorID)].ID
		default:
			t.Fatalf("ticket %d: comment %d is an end user's private comment; the check does not cover it", tk.ID, c.ID)
		}
		all := urls(c)
		p.attachments = firstN(all, 5)
		want = append(want, p)
		for rest := all[min(5, len(all)):]; len(rest) > 0; rest = rest[min(5, len(rest)):] {
			more := p
			more.body, more.attachments = "<p>(attachments, continued)</p>", firstN(rest, 5)
			want = append(want, more)
		}
	}
	var got []expectedPart
	for _, p := range conv.Parts {
		partType := p.PartType
		if partType == "open" && p.Author.Type == "user" && p.RawBody != "" {
			partType = "comment" // a customer's reply that reopened the conversation
		}
		if partType != "comment" && partType != "note" {
			continue // assignment, close: not comments
		}
		got = append(got, expectedPart{partType: partType, authorType: p.Author.Type, authorID: p.Author.ID, body: p.RawBody, createdAt: p.CreatedAt, attachments: attachmentURLs(p.Attachments)})
		if !p.SkipNotifications {
			t.Errorf("ticket %d: part %s was not imported quietly", tk.ID, p.ID)
		}
	}
	if len(got) != len(want) {
		t.Errorf("ticket %d: %d comment parts, want %d", tk.ID, len(got), len(want))
		return
	}
	for i := range want {
		g, e := got[i], want[i]
		if g.partType != e.partType || g.authorType != e.authorType || g.authorID != e.authorID || g.body != e.body || g.createdAt != e.createdAt || !slices.Equal(g.attachments, e.attachments) {
			t.Errorf("ticket %d part %d:\n got %+v\nwant %+v", tk.ID, i, g, e)
		}
	}

	// Title (through the WASM transform), tags, assignment and state.
	if conv.Title != wantTitle {
		t.Errorf("ticket %d: title %q, want %q", tk.ID, conv.Title, wantTitle)
	}
	var tags []string
	for _, tg := range conv.Tags {
		tags = append(tags, tagNames[tg.TagID])
	}
	wantTags := append(append([]string{}, tk.Tags...), "migrated")
	sort.Strings(tags)
	sort.Strings(wantTags)
	if !slices.Equal(tags, wantTags) {
		t.Errorf("ticket %d: tags %v, want %v", tk.ID, tags, wantTags)
	}
	if tk.AssigneeID != nil && conv.AdminAssigneeID != adminOf(*tk.AssigneeID) {
		t.Errorf("ticket %d: assigned to admin %q, want %q", tk.ID, conv.AdminAssigneeID, adminOf(*tk.AssigneeID))
	}
	if tk.GroupID != nil && conv.TeamAssigneeID != teamOf[id(*tk.GroupID)] {
		t.Errorf("ticket %d: team %q, want %q", tk.ID, conv.TeamAssigneeID, teamOf[id(*tk.GroupID)])
	}
	wantState := map[string]string{"solved": "closed", "closed": "closed", "pending": "snoozed", "hold": "snoozed"}[tk.Status]
	if wantState == "" {
		wantState = "open"
	}
	if conv.State != wantState {
		t.Errorf("ticket %d (%s): state %s, want %s", tk.ID, tk.Status, conv.State, wantState)
	}
	// Custom fields, as attributes of their types: drop-downs by label,
	// dates as unix seconds.
	wantAttrs := map[string]any{}
	for _, cf := range tk.CustomFields {
		if cf.Value == nil {
			continue
		}
		i := slices.IndexFunc(w.hd.TicketFields, func(f zendesktest.TicketField) bool { return f.ID == cf.ID })
		if i < 0 {
			continue
		}
		f := w.hd.TicketFields[i]
		v := cf.Value
		switch f.Type {
		case "tagger":
			for _, o := range f.CustomFieldOptions {
				if o.Value == v {
					v = o.Name
				}
			}
		case "date":
			d, _ := time.Parse("2006-01-02", v.(string))
			v = d.Unix()
		case "integer":
			// Zendesk sends integer fields' values as strings.
			n, err := strconv.ParseInt(fmt.Sprint(v), 10, 64)
			if err != nil {
				continue // left out: not a number
			}
			v = n
		}
		wantAttrs[f.Title] = v
	}
	if fmt.Sprint(conv.CustomAttributes) != fmt.Sprint(wantAttrs) {
		t.Errorf("ticket %d: attributes %v, want %v", tk.ID, conv.CustomAttributes, wantAttrs)
	}
	// The requester and every CC'd end user take part, once each.
	wantContacts := []string{requester}
	for _, cc := range append(slices.Clone(tk.EmailCCIDs), tk.CollaboratorIDs...) {
		if c, ok := contactOf[id(cc)]; ok && !w.hd.User(cc).IsAgent() && !slices.Contains(wantContacts, c.ID) {
			wantContacts = append(wantContacts, c.ID)
		}
	}
	participants := slices.Clone(conv.ContactIDs)
	slices.Sort(participants)
	slices.Sort(wantContacts)
	if !slices.Equal(participants, wantContacts) {
		t.Errorf("ticket %d: participants %v, want %v", tk.ID, participants, wantContacts)
	}
}

func attachmentURLs(atts []sandbox.Attachment) []string {
	var out []string
	for _, a := range atts {
		out = append(out, a.URL)
	}
	return out
}

func firstN(s []string, n int) []string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func id(n int64) string { return strconv.FormatInt(n, 10) }

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// TestMigrateUnderPressure migrates a help desk into a sandbox with a low
// rate limit, and into one that answers a tenth of the calls with faults
// (429 bursts with and without headers, 500/502/503, resets, answers lost
// after the sandbox acted): both end with every record migrated, nothing
// failed, and the sandbox exactly the source.
func TestMigrateUnderPressure(t *testing.T) {
	tests := []struct {
		name string
		sb   func(*sandbox.Options)
	}{
		{"low rate limit", func(o *sandbox.Options) { o.RateLimit = 300 }},
		{"faults", func(o *sandbox.Options) {
			o.RateLimit, o.Window = 500, time.Second
			o.Faults = sandbox.FaultOptions{Rate: 0.1, Seed: 5}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, zendesktest.GenerateOptions{Seed: 11, Tickets: 20, EndUsers: 15, Organizations: 4, Articles: 12}, tt.sb)
			w.withHelpCenter()
			w.mustFerry("migrate", "-w", w.ws)
			rep := w.checkMigratedExactly(t)
			hc := w.hd.HelpCenter
			snap := w.ic.Snapshot()
			if got := rep["collections"]; got.Migrated != len(hc.Categories)+len(hc.Sections) || got.Failed != 0 || len(snap.Collections) != got.Migrated {
				t.Errorf("collections: report %+v, sandbox %d; want the %d categories and sections", got, len(snap.Collections), len(hc.Categories)+len(hc.Sections))
			}
			if got := rep["articles"]; got.Migrated != len(hc.Articles) || got.Failed != 0 || len(snap.Articles) != got.Migrated {
				t.Errorf("articles: report %+v, sandbox %d; want %d", got, len(snap.Articles), len(hc.Articles))
			}
			st := w.ic.Stats()
			t.Logf("%d calls, %d answered 429, faults injected %v", st.Requests, st.ByStatus[http.StatusTooManyRequests], w.ic.FaultsInjected())
			if tt.name == "faults" {
				f := w.ic.FaultsInjected()
				if f[sandbox.FaultLostAnswer] == 0 || f[sandbox.Fault429] == 0 || f[sandbox.FaultReset] == 0 {
					t.Errorf("faults injected %v: want lost answers, 429 bursts and resets among them", f)
				}
			}
		})
	}
}

// TestMigrateAsTickets migrates into Intercom tickets of a configured type:
// one ticket per source ticket, each comment a part (the requester's first
// one, without attachments, the description), nothing failed.
func TestMigrateAsTickets(t *testing.T) {
	w := newWorld(t, zendesktest.GenerateOptions{Seed: 13, Tickets: 15, EndUsers: 12, Organizations: 3})
	cfgPath := filepath.Join(w.ws, "ferry.yaml")
	cfg, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg = []byte(strings.Replace(string(cfg), `token: "${INTERCOM_TOKEN}" }`, `token: "${INTERCOM_TOKEN}", ticket_type: "Support request" }`, 1))
	if err := os.WriteFile(cfgPath, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	w.mustFerry("migrate", "-w", w.ws)
	rep := w.report()
	for entity, n := range map[string]int{"tickets": len(w.hd.Tickets), "comments": w.hd.CommentCount()} {
		if got := rep[entity]; got != (entityCounts{Available: n, Migrated: n}) {
			t.Errorf("report %s = %+v, want %d migrated", entity, got, n)
		}
	}
	snap := w.ic.Snapshot()
	if len(snap.Tickets) != len(w.hd.Tickets) || len(snap.Conversations) != 0 {
		t.Fatalf("%d tickets and %d conversations, want %d tickets", len(snap.Tickets), len(snap.Conversations), len(w.hd.Tickets))
	}
	ids := w.idMap("tickets")
	byID := map[string]sandbox.Ticket{}
	for _, tk := range snap.Tickets {
		byID[tk.ID] = tk
	}
	for _, tk := range w.hd.Tickets {
		want := 0
		for i, c := range tk.Comments {
			if i == 0 && c.AuthorID == tk.RequesterID && c.Public && len(c.Attachments) == 0 {
				continue // the description
			}
			want += max(1, (len(c.Attachments)+4)/5)
		}
		got := byID[ids[id(tk.ID)]]
		n := 0
		for _, p := range got.Parts {
			if p.PartType == "comment" || p.PartType == "note" {
				n++
			}
		}
		if n != want || got.Attributes["_default_title_"] != fmt.Sprintf("[ZD-%d] %s", tk.ID, tk.Subject) {
			t.Errorf("ticket %d: %d parts (want %d), title %v", tk.ID, n, want, got.Attributes["_default_title_"])
		}
	}
}
