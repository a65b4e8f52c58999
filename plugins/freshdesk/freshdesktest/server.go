package freshdesktest

import (
	"crypto/subtle"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The endpoints a Server answers, as Stats names them.
const (
	EndpointMe               = "GET /api/v2/agents/me"
	EndpointAgents           = "GET /api/v2/agents"
	EndpointContacts         = "GET /api/v2/contacts"
	EndpointCompanies        = "GET /api/v2/companies"
	EndpointGroups           = "GET /api/v2/groups"
	EndpointTicketFields     = "GET /api/v2/ticket_fields"
	EndpointTickets          = "GET /api/v2/tickets"
	EndpointTicket           = "GET /api/v2/tickets/{id}"
	EndpointConversations    = "GET /api/v2/tickets/{id}/conversations"
	EndpointCategories       = "GET /api/v2/solutions/categories"
	EndpointFolders          = "GET /api/v2/solutions/categories/{id}/folders"
	EndpointArticles         = "GET /api/v2/solutions/folders/{id}/articles"
	EndpointHelpdeskSettings = "GET /api/v2/settings/helpdesk"
	EndpointAttachment       = "GET /data/helpdesk/attachments/production/{id}/original/{name}"
	// EndpointUnknown counts requests for anything else; they get a 404.
	EndpointUnknown = "unknown"
)

// DefaultAPIKey is the API key a Server accepts when ServerOptions.APIKey
// is empty.
const DefaultAPIKey = "freshdesktest-api-key"

// Freshdesk's paging limits.
const (
	// DefaultPerPage is the page size when a request gives none.
	DefaultPerPage = 30
	// MaxPerPage is the largest per_page Freshdesk accepts.
	MaxPerPage = 100
	// MaxTicketPages is the last page of tickets Freshdesk serves: a
	// later page is refused, and readers restart from the last updated_at.
	MaxTicketPages = 300
	// DefaultTicketWindow is how far back the ticket list goes without
	// updated_since: tickets created in the last 30 days only.
	DefaultTicketWindow = 30 * 24 * time.Hour
)

// ServerOptions configure a Server.
type ServerOptions struct {
	// APIKey is the key the Server accepts, sent as Freshdesk API keys
	// are: HTTP Basic with the key as user and any password ("X").
	// Default DefaultAPIKey.
	APIKey string
	// BaseURL is the scheme and host the Server writes into Link headers;
	// by default, those of each request. Setting it to another host
	// mimics an account answering under a custom domain.
	BaseURL string
	// AttachmentBaseURL is the scheme and host of attachment URLs stored
	// relative (Freshdesk's point to its file storage, another host); by
	// default, BaseURL's.
	AttachmentBaseURL string
	// RequestsPerMinute caps the API credits spent per window, as
	// Freshdesk's plans do (200 to 700 a minute, more on current plans); an
	// include costs two credits more. 0 means unlimited, and no rate-limit
	// headers are sent.
	RequestsPerMinute int
	// RateLimitWindow is the span the cap counts over: a minute, unless a
	// test shortens it.
	RateLimitWindow time.Duration
	// Now is the Server's clock (default time.Now): the ticket list's
	// 30-day default window and the rate-limit windows follow it.
	Now func() time.Time
}

// Fault makes a Server answer some requests with an error instead of their
// data, to test how a client copes.
type Fault struct {
	// Path is the request path to fail, exactly
	// ("/api/v2/tickets/7/conversations"); empty fails every API request.
	Path string
	// Status is the HTTP status to answer with: 404, 500, 503, ...
	Status int
	// Times is how many matching requests fail; 0 means all of them.
	Times int
}

// Stats counts the requests a Server answered.
type Stats struct {
	// Requests counts requests by endpoint (the Endpoint constants),
	// whatever the answer.
	Requests map[string]int
	// Statuses counts answers by HTTP status.
	Statuses map[int]int
	// MaxTicketPage is the highest page of the ticket list asked for.
	MaxTicketPage int
}

// Total is the number of requests answered.
func (st Stats) Total() int {
	n := 0
	for _, v := range st.Requests {
		n += v
	}
	return n
}

// Server answers Freshdesk API v2 requests from a HelpDesk. It is safe for
// concurrent use.
type Server struct {
	opts ServerOptions
	mux  *http.ServeMux

	mu          sync.RWMutex // guards hd and the indexes below
	hd          *HelpDesk
	tickets     map[int64]*Ticket
	categories  map[int64]*SolutionCategory
	folders     map[int64]*SolutionFolder
	attachments map[int64]*Attachment
	requesters  map[int64]apiRequester

	statsMu  sync.Mutex // guards what follows
	requests map[string]int
	statuses map[int]int
	maxPage  int
	window   window
	faults   []*Fault
}

// NewServer returns a Server of hd. The Server reads hd as it is at each
// request; change it only through Server.Mutate.
func NewServer(hd *HelpDesk, opts ServerOptions) *Server {
	if opts.APIKey == "" {
		opts.APIKey = DefaultAPIKey
	}
	if opts.RateLimitWindow <= 0 {
		opts.RateLimitWindow = time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	opts.BaseURL = strings.TrimSuffix(opts.BaseURL, "/")
	opts.AttachmentBaseURL = strings.TrimSuffix(opts.AttachmentBaseURL, "/")
	s := &Server{
		opts:     opts,
		mux:      http.NewServeMux(),
		hd:       hd,
		requests: map[string]int{},
		statuses: map[int]int{},
		window:   window{limit: opts.RequestsPerMinute},
	}
	s.index()

	s.handle(EndpointMe, nil, s.serveMe)
	s.handle(EndpointAgents, params("page", "per_page", "email", "mobile", "phone", "state"), s.serveAgents)
	s.handle(EndpointContacts, params("page", "per_page", "email", "mobile", "phone", "company_id", "state", "_updated_since"), s.serveContacts)
	s.handle(EndpointCompanies, params("page", "per_page"), s.serveCompanies)
	s.handle(EndpointGroups, params("page", "per_page"), s.serveGroups)
	s.handle(EndpointTicketFields, params("type"), s.serveTicketFields)
	s.handle(EndpointTickets, params("page", "per_page", "filter", "requester_id", "email", "company_id",
		"updated_since", "order_by", "order_type", "include"), s.serveTickets)
	s.handle(EndpointTicket, params("include"), s.serveTicket)
	s.handle(EndpointConversations, params("page", "per_page"), s.serveConversations)
	s.handle(EndpointCategories, nil, s.serveCategories)
	s.handle(EndpointFolders, nil, s.serveFolders)
	s.handle(EndpointArticles, params("page", "per_page"), s.serveArticles)
	s.handle(EndpointHelpdeskSettings, nil, s.serveHelpdeskSettings)
	s.mux.HandleFunc(EndpointAttachment, s.serveAttachment)
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.count(EndpointUnknown, http.StatusNotFound)
		w.WriteHeader(http.StatusNotFound)
	})
	return s
}

// ServeHTTP answers one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// APIKey is the API key the Server accepts.
func (s *Server) APIKey() string { return s.opts.APIKey }

// Mutate changes the help desk under the Server's lock: fn may edit, add
// or remove records, and the Server serves the result from the next
// request on. To have updated_since report a change, move the record's
// updated_at forward (Ticket.AddConversation does for a new reply).
func (s *Server) Mutate(fn func(hd *HelpDesk)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fn(s.hd)
	s.index()
}

// InjectFault makes the Server fail the requests f matches, ahead of any
// fault injected before.
func (s *Server) InjectFault(f Fault) {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	s.faults = append([]*Fault{&f}, s.faults...)
}

// Stats returns a copy of the Server's request counts.
func (s *Server) Stats() Stats {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	return Stats{Requests: maps.Clone(s.requests), Statuses: maps.Clone(s.statuses), MaxTicketPage: s.maxPage}
}

// ResetStats zeroes the request counts.
func (s *Server) ResetStats() {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	clear(s.requests)
	clear(s.statuses)
	s.maxPage = 0
}

// index rebuilds the lookups; the caller holds mu for writing.
func (s *Server) index() {
	hd := s.hd
	s.tickets = make(map[int64]*Ticket, len(hd.Tickets))
	s.categories = map[int64]*SolutionCategory{}
	s.folders = map[int64]*SolutionFolder{}
	s.attachments = map[int64]*Attachment{}
	s.requesters = map[int64]apiRequester{}
	addFiles := func(as []Attachment) {
		for i := range as {
			s.attachments[as[i].ID] = &as[i]
		}
	}
	for i := range hd.Tickets {
		t := &hd.Tickets[i]
		s.tickets[t.ID] = t
		addFiles(t.Attachments)
		for j := range t.Conversations {
			addFiles(t.Conversations[j].Attachments)
		}
	}
	for i := range hd.SolutionCategories {
		c := &hd.SolutionCategories[i]
		s.categories[c.ID] = c
		for j := range c.Folders {
			f := &c.Folders[j]
			s.folders[f.ID] = f
			for k := range f.Articles {
				addFiles(f.Articles[k].Attachments)
			}
		}
	}
	for i := range hd.Contacts {
		c := &hd.Contacts[i]
		s.requesters[c.ID] = apiRequester{ID: c.ID, Name: c.Name, Email: c.Email, Mobile: c.Mobile, Phone: c.Phone}
	}
	for i := range hd.Agents {
		a := &hd.Agents[i]
		s.requesters[a.ID] = apiRequester{ID: a.ID, Name: a.Contact.Name, Email: &a.Contact.Email, Mobile: a.Contact.Mobile, Phone: a.Contact.Phone}
	}
}

// query is a request's parameters, checked as Freshdesk checks them.
type query struct {
	allowed map[string]bool
}

func params(names ...string) *query {
	q := &query{allowed: map[string]bool{}}
	for _, n := range names {
		q.allowed[n] = true
	}
	return q
}

// handlerFunc answers an authenticated, admitted request; base is the
// scheme and host to write into links.
type handlerFunc func(w http.ResponseWriter, r *http.Request, base string)

// statusRecorder remembers the status a handler answered with.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

// WriteHeader records the status and sends it.
func (w *statusRecorder) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

// Write sends body bytes; a body without a status is a 200.
func (w *statusRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (s *Server) handle(pattern string, q *query, h handlerFunc) {
	s.mux.HandleFunc(pattern, func(rw http.ResponseWriter, r *http.Request) {
		w := &statusRecorder{ResponseWriter: rw}
		defer func() { s.count(pattern, cmpOr(w.status, http.StatusOK)) }()
		if !s.authenticate(r) {
			writeJSON(w, http.StatusUnauthorized, map[string]string{
				"code": "invalid_credentials", "message": "You have to be logged in to perform this action.",
			})
			return
		}
		if !s.admit(w, credits(r)) {
			return
		}
		if f := s.fault(r.URL.Path); f != 0 {
			writeFault(w, f)
			return
		}
		// Freshdesk refuses parameters it does not know rather than
		// ignoring them.
		for name := range r.URL.Query() {
			if q == nil || !q.allowed[name] {
				validationFailed(w, name, "Unexpected/invalid field in request", "invalid_field")
				return
			}
		}
		h(w, r, s.baseURL(r))
	})
}

func cmpOr(v, fallback int) int {
	if v == 0 {
		return fallback
	}
	return v
}

func (s *Server) count(endpoint string, status int) {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	s.requests[endpoint]++
	s.statuses[status]++
}

// authenticate checks a request's API key: the Basic user, with any
// password.
func (s *Server) authenticate(r *http.Request) bool {
	user, _, ok := r.BasicAuth()
	// Compare in constant time: an emulator has no secret worth timing,
	// but it is also where people copy code from.
	return ok && subtle.ConstantTimeCompare([]byte(user), []byte(s.opts.APIKey)) == 1
}

func (s *Server) baseURL(r *http.Request) string {
	if s.opts.BaseURL != "" {
		return s.opts.BaseURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (s *Server) attachmentBase(base string) string {
	if s.opts.AttachmentBaseURL != "" {
		return s.opts.AttachmentBaseURL
	}
	return base
}

// credits is what a request costs: one, and two more for each include.
func credits(r *http.Request) int {
	n := 1
	if inc := r.URL.Query().Get("include"); inc != "" {
		n += 2 * len(strings.Split(inc, ","))
	}
	return n
}

// window counts credits in fixed windows, the way Freshdesk's per-minute
// limits behave from a client's point of view.
type window struct {
	limit int // 0: unlimited
	start time.Time
	used  int
}

// admit spends a request's credits, and answers 429 with Retry-After when
// the window has not enough left. Every answer carries the X-RateLimit-*
// headers Freshdesk sends.
func (s *Server) admit(w http.ResponseWriter, cost int) bool {
	if s.window.limit == 0 {
		return true
	}
	now := s.opts.Now()
	span := s.opts.RateLimitWindow
	s.statsMu.Lock()
	if s.window.start.IsZero() || now.Sub(s.window.start) >= span {
		s.window.start, s.window.used = now, 0
	}
	over := s.window.used+cost > s.window.limit
	if !over {
		s.window.used += cost
	}
	limit, remaining := s.window.limit, max(s.window.limit-s.window.used, 0)
	reset := s.window.start.Add(span).Sub(now)
	s.statsMu.Unlock()

	h := w.Header()
	h.Set("X-RateLimit-Total", strconv.Itoa(limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	if over {
		h.Set("X-RateLimit-Used-CurrentRequest", "0")
		h.Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(reset.Seconds())))))
		writeJSON(w, http.StatusTooManyRequests, map[string]string{
			"code": "too_many_requests", "message": "You have exceeded the limit of requests per minute",
		})
		return false
	}
	h.Set("X-RateLimit-Used-CurrentRequest", strconv.Itoa(cost))
	return true
}

// fault returns the status of the first fault matching path, or 0.
func (s *Server) fault(path string) int {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	for i, f := range s.faults {
		if f.Path != "" && f.Path != path {
			continue
		}
		if f.Times > 0 {
			f.Times--
			if f.Times == 0 {
				s.faults = slices.Delete(s.faults, i, i+1)
			}
		}
		return f.Status
	}
	return 0
}

func writeFault(w http.ResponseWriter, status int) {
	switch status {
	case http.StatusNotFound:
		w.WriteHeader(status)
	case http.StatusForbidden:
		writeJSON(w, status, map[string]string{"code": "access_denied", "message": "You are not authorized to perform this action."})
	default:
		writeJSON(w, status, map[string]string{"code": "internal_error", "message": fmt.Sprintf("Injected fault: %d %s", status, http.StatusText(status))})
	}
}

// The API's shapes: the stored records plus what depends on the host and
// on the request. Where an outer field has the JSON name of an embedded
// one, it hides it (encoding/json prefers the shallower field), and a nil
// pointer with omitempty leaves the key out: that is how a list leaves out
// a ticket's description and a category its folders.

type apiAttachment struct {
	*Attachment
	AttachmentURL string `json:"attachment_url"` // hides Attachment.AttachmentURL
}

type apiConversation struct {
	*Conversation
	Attachments []apiAttachment `json:"attachments"`
}

type apiRequester struct {
	ID     int64   `json:"id"`
	Name   string  `json:"name"`
	Email  *string `json:"email"`
	Mobile Phone   `json:"mobile"`
	Phone  Phone   `json:"phone"`
}

type apiTicket struct {
	*Ticket
	Description     *string            `json:"description,omitempty"`
	DescriptionText *string            `json:"description_text,omitempty"`
	Attachments     *[]apiAttachment   `json:"attachments,omitempty"`
	Stats           *TicketStats       `json:"stats,omitempty"`
	Requester       *apiRequester      `json:"requester,omitempty"`
	Conversations   *[]apiConversation `json:"conversations,omitempty"`
}

type apiContact struct {
	*Contact
	Blocked *struct{} `json:"blocked,omitempty"` // hides Contact.Blocked
}

type apiCategory struct {
	*SolutionCategory
	Folders *struct{} `json:"folders,omitempty"`
}

type apiFolder struct {
	*SolutionFolder
	Articles *struct{} `json:"articles,omitempty"`
}

type apiArticle struct {
	*SolutionArticle
	Attachments []apiAttachment `json:"attachments"`
}

func (s *Server) apiAttachments(base string, as []Attachment) []apiAttachment {
	out := make([]apiAttachment, len(as))
	for i := range as {
		u := as[i].AttachmentURL
		if strings.HasPrefix(u, "/") {
			u = s.attachmentBase(base) + u
		}
		out[i] = apiAttachment{Attachment: &as[i], AttachmentURL: u}
	}
	return out
}

func (s *Server) apiConversation(base string, c *Conversation) apiConversation {
	return apiConversation{Conversation: c, Attachments: s.apiAttachments(base, c.Attachments)}
}

// includes reads the include parameter against what the endpoint offers.
func includes(w http.ResponseWriter, r *http.Request, offered ...string) (map[string]bool, bool) {
	out := map[string]bool{}
	v := r.URL.Query().Get("include")
	if v == "" {
		return out, true
	}
	for _, inc := range strings.Split(v, ",") {
		if !slices.Contains(offered, inc) {
			validationFailed(w, "include", "It should be one of these values: '"+strings.Join(offered, ",")+"'", "invalid_value")
			return nil, false
		}
		out[inc] = true
	}
	return out, true
}

// apiTicket shapes t: a list's ticket (view false) has no description or
// attachments unless asked for; a viewed ticket has both.
func (s *Server) apiTicket(base string, t *Ticket, view bool, inc map[string]bool) apiTicket {
	at := apiTicket{Ticket: t}
	if view || inc["description"] {
		at.Description, at.DescriptionText = &t.Description, &t.DescriptionText
	}
	if view {
		as := s.apiAttachments(base, t.Attachments)
		at.Attachments = &as
	}
	if inc["stats"] {
		at.Stats = &t.Stats
	}
	if inc["requester"] {
		req, ok := s.requesters[t.RequesterID]
		if !ok {
			req = apiRequester{ID: t.RequesterID}
		}
		at.Requester = &req
	}
	if inc["conversations"] {
		// Viewing a ticket with its conversations gives the ten oldest
		// only; the conversations endpoint has them all.
		convs := make([]apiConversation, 0, min(10, len(t.Conversations)))
		for i := range t.Conversations[:min(10, len(t.Conversations))] {
			convs = append(convs, s.apiConversation(base, &t.Conversations[i]))
		}
		at.Conversations = &convs
	}
	return at
}

func (s *Server) serveMe(w http.ResponseWriter, _ *http.Request, _ string) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if len(s.hd.Agents) == 0 {
		// An empty help desk still has someone holding the key.
		created := time.Unix(0, 0).UTC()
		writeJSON(w, http.StatusOK, Agent{ID: 1, TicketScope: 1, GroupIDs: []int64{}, RoleIDs: []int64{}, SkillIDs: []int64{},
			Type: "support_agent", CreatedAt: created, UpdatedAt: created,
			Contact: AgentContact{Active: true, Email: "admin@" + s.hd.Domain, Name: "Admin", Language: "en", TimeZone: "UTC", CreatedAt: created, UpdatedAt: created}})
		return
	}
	writeJSON(w, http.StatusOK, &s.hd.Agents[0])
}

func (s *Server) serveAgents(w http.ResponseWriter, r *http.Request, base string) {
	q := r.URL.Query()
	s.mu.RLock()
	defer s.mu.RUnlock()
	var items []any
	for i := range s.hd.Agents {
		a := &s.hd.Agents[i]
		switch {
		case q.Get("email") != "" && !strings.EqualFold(q.Get("email"), a.Contact.Email),
			q.Get("state") == "fulltime" && a.Occasional,
			q.Get("state") == "occasional" && !a.Occasional:
			continue
		}
		items = append(items, a)
	}
	servePage(w, r, base, items)
}

func (s *Server) serveContacts(w http.ResponseWriter, r *http.Request, base string) {
	q := r.URL.Query()
	var since time.Time
	if v := q.Get("_updated_since"); v != "" {
		t, ok := parseTime(v)
		if !ok {
			validationFailed(w, "_updated_since", "It should be in the 'valid date time' format", "invalid_date")
			return
		}
		since = t
	}
	state := q.Get("state")
	if state != "" && !slices.Contains([]string{"blocked", "deleted", "unverified", "verified"}, state) {
		validationFailed(w, "state", "It should be one of these values: 'blocked,deleted,unverified,verified'", "invalid_value")
		return
	}
	var companyID int64
	if v := q.Get("company_id"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			validationFailed(w, "company_id", "It should be a/an Positive Integer", "datatype_mismatch")
			return
		}
		companyID = n
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var list []*Contact
	for i := range s.hd.Contacts {
		c := &s.hd.Contacts[i]
		var in bool
		switch state {
		case "deleted":
			in = c.Deleted
		case "blocked":
			in = c.Blocked && !c.Deleted
		case "unverified":
			in = !c.Deleted && !c.Blocked && !c.Active
		case "verified":
			in = !c.Deleted && !c.Blocked && c.Active
		default:
			in = !c.Deleted && !c.Blocked
		}
		switch {
		case !in, c.UpdatedAt.Before(since),
			q.Get("email") != "" && !strings.EqualFold(q.Get("email"), deref(c.Email)),
			companyID != 0 && deref(c.CompanyID) != companyID:
			continue
		}
		list = append(list, c)
	}
	// Contacts come in name order, not in update order: a reader cannot
	// resume a listing half-way from an update time.
	slices.SortFunc(list, func(a, b *Contact) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return int(a.ID - b.ID)
	})
	items := make([]any, len(list))
	for i, c := range list {
		items[i] = apiContact{Contact: c}
	}
	servePage(w, r, base, items)
}

func (s *Server) serveCompanies(w http.ResponseWriter, r *http.Request, base string) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	items := make([]any, len(s.hd.Companies))
	for i := range s.hd.Companies {
		items[i] = &s.hd.Companies[i]
	}
	servePage(w, r, base, items)
}

func (s *Server) serveGroups(w http.ResponseWriter, r *http.Request, base string) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	items := make([]any, len(s.hd.Groups))
	for i := range s.hd.Groups {
		items[i] = &s.hd.Groups[i]
	}
	servePage(w, r, base, items)
}

func (s *Server) serveTicketFields(w http.ResponseWriter, r *http.Request, _ string) {
	typ := r.URL.Query().Get("type")
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := []*TicketField{}
	for i := range s.hd.TicketFields {
		if f := &s.hd.TicketFields[i]; typ == "" || f.Type == typ {
			out = append(out, f)
		}
	}
	// The ticket fields come whole, without paging.
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) serveTickets(w http.ResponseWriter, r *http.Request, base string) {
	q := r.URL.Query()
	inc, ok := includes(w, r, "description", "requester", "stats")
	if !ok {
		return
	}
	filter := q.Get("filter")
	if filter != "" && !slices.Contains([]string{"new_and_my_open", "watching", "spam", "deleted"}, filter) {
		validationFailed(w, "filter", "It should be one of these values: 'new_and_my_open,watching,spam,deleted'", "invalid_value")
		return
	}
	orderBy := q.Get("order_by")
	if orderBy == "" {
		orderBy = "created_at"
	} else if !slices.Contains([]string{"created_at", "due_by", "updated_at", "status"}, orderBy) {
		validationFailed(w, "order_by", "It should be one of these values: 'created_at,due_by,updated_at,status'", "invalid_value")
		return
	}
	desc := true
	switch q.Get("order_type") {
	case "", "desc":
	case "asc":
		desc = false
	default:
		validationFailed(w, "order_type", "It should be one of these values: 'asc,desc'", "invalid_value")
		return
	}
	var since time.Time
	if v := q.Get("updated_since"); v != "" {
		t, ok := parseTime(v)
		if !ok {
			validationFailed(w, "updated_since", "It should be in the 'valid date time' format", "invalid_date")
			return
		}
		since = t
	}
	var requesterID, companyID int64
	for name, dst := range map[string]*int64{"requester_id": &requesterID, "company_id": &companyID} {
		if v := q.Get(name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 1 {
				validationFailed(w, name, "It should be a/an Positive Integer", "datatype_mismatch")
				return
			}
			*dst = n
		}
	}
	page, perPage, ok := pageParams(w, r)
	if !ok {
		return
	}
	s.statsMu.Lock()
	s.maxPage = max(s.maxPage, page)
	s.statsMu.Unlock()
	if page > MaxTicketPages {
		validationFailed(w, "page", "You cannot access tickets beyond the 300th page. Please provide a smaller page number.", "invalid_value")
		return
	}

	now := s.opts.Now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	var list []*Ticket
	for i := range s.hd.Tickets {
		t := &s.hd.Tickets[i]
		var in bool
		switch filter {
		case "spam":
			in = t.Spam && !t.Deleted
		case "deleted":
			in = t.Deleted
		case "new_and_my_open":
			in = t.Live() && t.Status == StatusOpen
		case "watching":
			in = false
		default:
			in = t.Live()
		}
		switch {
		case !in,
			q.Get("updated_since") != "" && t.UpdatedAt.Before(since),
			// Without updated_since, Freshdesk lists the last 30 days only.
			q.Get("updated_since") == "" && t.CreatedAt.Before(now.Add(-DefaultTicketWindow)),
			requesterID != 0 && t.RequesterID != requesterID,
			companyID != 0 && deref(t.CompanyID) != companyID,
			q.Get("email") != "" && !strings.EqualFold(q.Get("email"), deref(s.requesters[t.RequesterID].Email)):
			continue
		}
		list = append(list, t)
	}
	key := func(t *Ticket) int64 {
		switch orderBy {
		case "updated_at":
			return t.UpdatedAt.Unix()
		case "due_by":
			return t.DueBy.Unix()
		case "status":
			return int64(t.Status)
		}
		return t.CreatedAt.Unix()
	}
	slices.SortFunc(list, func(a, b *Ticket) int {
		c := compareInt(key(a), key(b))
		if c == 0 {
			c = compareInt(a.ID, b.ID)
		}
		if desc {
			return -c
		}
		return c
	})
	from := min((page-1)*perPage, len(list))
	to := min(from+perPage, len(list))
	out := make([]apiTicket, 0, to-from)
	for _, t := range list[from:to] {
		out = append(out, s.apiTicket(base, t, false, inc))
	}
	if to < len(list) {
		// Freshdesk links the next page even past the 300th, which it
		// then refuses.
		setNextLink(w, r, base, page+1)
	}
	writeJSON(w, http.StatusOK, out)
}

func compareInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (s *Server) ticket(w http.ResponseWriter, r *http.Request) *Ticket {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	t := s.tickets[id]
	if err != nil || t == nil {
		w.WriteHeader(http.StatusNotFound)
		return nil
	}
	return t
}

func (s *Server) serveTicket(w http.ResponseWriter, r *http.Request, base string) {
	inc, ok := includes(w, r, "conversations", "requester", "company", "stats")
	if !ok {
		return
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	t := s.ticket(w, r)
	if t == nil {
		return
	}
	writeJSON(w, http.StatusOK, s.apiTicket(base, t, true, inc))
}

func (s *Server) serveConversations(w http.ResponseWriter, r *http.Request, base string) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t := s.ticket(w, r)
	if t == nil {
		return
	}
	items := make([]any, len(t.Conversations))
	for i := range t.Conversations {
		items[i] = s.apiConversation(base, &t.Conversations[i])
	}
	servePage(w, r, base, items)
}

func (s *Server) serveCategories(w http.ResponseWriter, _ *http.Request, _ string) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]apiCategory, len(s.hd.SolutionCategories))
	for i := range s.hd.SolutionCategories {
		out[i] = apiCategory{SolutionCategory: &s.hd.SolutionCategories[i]}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) serveFolders(w http.ResponseWriter, r *http.Request, _ string) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	s.mu.RLock()
	defer s.mu.RUnlock()
	c := s.categories[id]
	if err != nil || c == nil {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	out := make([]apiFolder, len(c.Folders))
	for i := range c.Folders {
		out[i] = apiFolder{SolutionFolder: &c.Folders[i]}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) serveArticles(w http.ResponseWriter, r *http.Request, base string) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	s.mu.RLock()
	defer s.mu.RUnlock()
	f := s.folders[id]
	if err != nil || f == nil {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	items := make([]any, len(f.Articles))
	for i := range f.Articles {
		a := &f.Articles[i]
		items[i] = apiArticle{SolutionArticle: a, Attachments: s.apiAttachments(base, a.Attachments)}
	}
	servePage(w, r, base, items)
}

func (s *Server) serveHelpdeskSettings(w http.ResponseWriter, _ *http.Request, _ string) {
	s.mu.RLock()
	lang := cmpOrString(s.hd.PrimaryLanguage, "en")
	s.mu.RUnlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"primary_language": lang, "supported_languages": []string{}, "portal_languages": []string{},
		"help_widget_languages": []string{},
	})
}

func cmpOrString(v, fallback string) string {
	if v == "" {
		return fallback
	}
	return v
}

// serveAttachment sends an attachment's bytes, without credentials, as
// Freshdesk's pre-signed storage URLs do: made up, but of the size and
// type its metadata says.
func (s *Server) serveAttachment(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	s.mu.RLock()
	a := s.attachments[id]
	var name, contentType string
	var size int64
	if a != nil {
		name, contentType, size = a.Name, a.ContentType, a.Size
	}
	s.mu.RUnlock()
	if a == nil || name != r.PathValue("name") {
		s.count(EndpointAttachment, http.StatusNotFound)
		w.WriteHeader(http.StatusNotFound)
		return
	}
	s.count(EndpointAttachment, http.StatusOK)
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name))
	w.WriteHeader(http.StatusOK)
	io.CopyN(w, &repeatReader{pattern: []byte(name + "\n")}, size)
}

// repeatReader repeats a file's name forever: content that is cheap to
// make at any size and differs from file to file.
type repeatReader struct {
	pattern []byte
	off     int
}

// Read fills p with the pattern, never ending.
func (r *repeatReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], r.pattern[r.off:])
		n += c
		r.off = (r.off + c) % len(r.pattern)
	}
	return n, nil
}
