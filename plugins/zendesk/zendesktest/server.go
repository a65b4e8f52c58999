package zendesktest

import (
	"crypto/subtle"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The endpoints a Server answers, as Stats names them.
const (
	EndpointMe            = "GET /api/v2/users/me.json"
	EndpointUsersExport   = "GET /api/v2/incremental/users/cursor.json"
	EndpointTicketsExport = "GET /api/v2/incremental/tickets/cursor.json"
	EndpointUsersCount    = "GET /api/v2/users/count.json"
	EndpointTicketsCount  = "GET /api/v2/tickets/count.json"
	EndpointComments      = "GET /api/v2/tickets/{id}/comments.json"
	EndpointOrganizations = "GET /api/v2/organizations.json"
	EndpointGroups        = "GET /api/v2/groups.json"
	EndpointTicketFields  = "GET /api/v2/ticket_fields.json"
	EndpointAttachment    = "GET /attachments/token/{token}/"
	// EndpointTicketEvents is the incremental ticket events export.
	EndpointTicketEvents   = "GET /api/v2/incremental/ticket_events.json"
	EndpointTicketAudits   = "GET /api/v2/tickets/{id}/audits.json"
	EndpointAudits         = "GET /api/v2/ticket_audits.json"
	EndpointDeletedTickets = "GET /api/v2/deleted_tickets.json"
	// The Help Center's endpoints.
	EndpointCategories          = "GET /api/v2/help_center/categories.json"
	EndpointSections            = "GET /api/v2/help_center/sections.json"
	EndpointArticles            = "GET /api/v2/help_center/articles.json"
	EndpointArticleTranslations = "GET /api/v2/help_center/articles/{id}/translations.json"
	EndpointArticleAttachments  = "GET /api/v2/help_center/articles/{id}/attachments.json"
	EndpointArticleAttachment   = "GET /hc/article_attachments/{id}/{name}"
	// EndpointUnknown counts requests for anything else; they get
	// Zendesk's 404.
	EndpointUnknown = "unknown"
)

// DefaultToken is the API token a Server accepts when ServerOptions.Token
// is empty.
const DefaultToken = "zendesktest-token"

// DefaultOAuthToken is the OAuth access token a Server accepts when
// ServerOptions.OAuthToken is empty.
const DefaultOAuthToken = "zendesktest-oauth-token"

// ServerOptions configure a Server.
type ServerOptions struct {
	// Email and Token are the credentials the Server accepts, sent as
	// Zendesk API tokens are: HTTP Basic with user "{Email}/token" and
	// password Token. Email defaults to the help desk's owner
	// (HelpDesk.OwnerEmail), Token to DefaultToken.
	Email string
	Token string
	// OAuthToken is the OAuth access token the Server accepts, sent as
	// "Authorization: Bearer {OAuthToken}"; it acts as Email. It defaults
	// to DefaultOAuthToken.
	OAuthToken string
	// BaseURL is the scheme and host the Server writes into url fields,
	// next-page links and attachments' content_url; by default, those of
	// each request. Setting it to another host mimics an account answering
	// under an alias, as Zendesk's own recorded responses do.
	BaseURL string
	// RequestsPerMinute caps the API requests answered per window, as
	// Zendesk's plan limits do (700 on Enterprise); 0 means unlimited, and
	// no rate-limit headers are sent.
	RequestsPerMinute int
	// IncrementalPerMinute is the incremental exports' own, lower cap: 10
	// on most plans, 30 with the High Volume API add-on; 0 means
	// unlimited.
	IncrementalPerMinute int
	// RateLimitWindow is the span the caps count over: a minute, unless a
	// test shortens it.
	RateLimitWindow time.Duration
	// Now is the Server's clock (default time.Now): incremental exports
	// leave out the last minute's changes, and rate-limit windows roll
	// over, by it.
	Now func() time.Time
}

// Fault makes a Server answer some requests with an error instead of their
// data, to test how a client copes.
type Fault struct {
	// Path is the request path to fail, exactly
	// ("/api/v2/tickets/7/comments.json"); empty fails every API request.
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
	// Admitted counts the requests the rate limit counted: every API
	// request not answered 429 (attachment downloads are not API
	// requests). AdmittedIncremental counts those of them that were
	// incremental exports, which their own limit counted too. They grow
	// whether or not a limit is set: a request's cost to a limited account.
	Admitted, AdmittedIncremental int
	// First and Last are when the first and the latest request arrived, by
	// the Server's clock; zero before any.
	First, Last time.Time
}

// Total is the number of requests answered.
func (st Stats) Total() int {
	n := 0
	for _, v := range st.Requests {
		n += v
	}
	return n
}

// Server answers Zendesk API requests from a HelpDesk. It is safe for
// concurrent use.
type Server struct {
	opts ServerOptions
	mux  *http.ServeMux

	mu          sync.RWMutex // guards hd and the indexes below
	hd          *HelpDesk
	tickets     []*Ticket // by generated_timestamp, then id: the export's order
	users       []*User   // by updated_at, then id
	ticketByID  map[int64]*Ticket
	attachments map[string]*Attachment // by content_url token
	// events are every ticket's audits, by time, then id: the ticket
	// events export's order.
	events    []ticketEvent
	auditsOf  map[int64][]Audit // by ticket id, oldest first
	commentOf map[int64]*Comment
	articleOf map[int64]*Article
	// articleFiles are the articles' attachments, by id.
	articleFiles map[int64]*ArticleAttachment

	statsMu     sync.Mutex // guards what follows
	requests    map[string]int
	statuses    map[int]int
	admitted    int // requests within the limits, since ResetStats
	admittedInc int // of them, incremental exports
	first, last time.Time
	general     window
	incremental window
	faults      []*Fault
}

// NewServer returns a Server of hd. The Server reads hd as it is at each
// request; change it only through Server.Mutate.
func NewServer(hd *HelpDesk, opts ServerOptions) *Server {
	if opts.Email == "" {
		opts.Email = hd.OwnerEmail
	}
	if opts.Token == "" {
		opts.Token = DefaultToken
	}
	if opts.OAuthToken == "" {
		opts.OAuthToken = DefaultOAuthToken
	}
	if opts.RateLimitWindow <= 0 {
		opts.RateLimitWindow = time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	opts.BaseURL = strings.TrimSuffix(opts.BaseURL, "/")
	s := &Server{
		opts:        opts,
		mux:         http.NewServeMux(),
		hd:          hd,
		requests:    map[string]int{},
		statuses:    map[int]int{},
		general:     window{limit: opts.RequestsPerMinute},
		incremental: window{limit: opts.IncrementalPerMinute},
	}
	s.index()

	s.handle(EndpointMe, anonymousOK, s.serveMe)
	s.handle(EndpointUsersExport, incrementalAPI, s.serveUsersExport)
	s.handle(EndpointTicketsExport, incrementalAPI, s.serveTicketsExport)
	s.handle(EndpointUsersCount, api, s.serveUsersCount)
	s.handle(EndpointTicketsCount, api, s.serveTicketsCount)
	s.handle(EndpointComments, api, s.serveComments)
	s.handle(EndpointOrganizations, api, s.serveOrganizations)
	s.handle(EndpointGroups, api, s.serveGroups)
	s.handle(EndpointTicketFields, api, s.serveTicketFields)
	s.handle(EndpointAttachment, public, s.serveAttachment)
	s.handle(EndpointTicketEvents, incrementalAPI, s.serveTicketEvents)
	s.handle(EndpointTicketAudits, api, s.serveTicketAudits)
	s.handle(EndpointAudits, api, s.serveAudits)
	s.handle(EndpointDeletedTickets, api, s.serveDeletedTickets)
	s.handle(EndpointCategories, api, s.serveCategories)
	s.handle(EndpointSections, api, s.serveSections)
	s.handle(EndpointArticles, api, s.serveArticles)
	s.handle(EndpointArticleTranslations, api, s.serveArticleTranslations)
	s.handle(EndpointArticleAttachments, api, s.serveArticleAttachments)
	s.handle(EndpointArticleAttachment, public, s.serveArticleAttachment)
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.count(EndpointUnknown)
		writeError(w, http.StatusNotFound, "InvalidEndpoint", "Not found")
	})
	return s
}

// ServeHTTP answers one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Credentials are the email and API token the Server accepts.
func (s *Server) Credentials() (email, token string) { return s.opts.Email, s.opts.Token }

// OAuthToken is the OAuth access token the Server accepts.
func (s *Server) OAuthToken() string { return s.opts.OAuthToken }

// Mutate changes the help desk under the Server's lock: fn may edit, add
// or remove records, and the Server serves the result from the next
// request on. To have the incremental exports report a change, move the
// record's updated_at (and a ticket's generated_timestamp) forward.
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
	return Stats{Requests: maps.Clone(s.requests), Statuses: maps.Clone(s.statuses),
		Admitted: s.admitted, AdmittedIncremental: s.admittedInc, First: s.first, Last: s.last}
}

// ResetStats zeroes the request counts.
func (s *Server) ResetStats() {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	clear(s.requests)
	clear(s.statuses)
	s.admitted, s.admittedInc = 0, 0
	s.first, s.last = time.Time{}, time.Time{}
}

// index rebuilds the lookups; the caller holds mu for writing.
func (s *Server) index() {
	s.tickets = s.tickets[:0]
	s.ticketByID = make(map[int64]*Ticket, len(s.hd.Tickets))
	s.attachments = map[string]*Attachment{}
	missing := map[string]bool{}
	for _, u := range s.hd.MissingFiles {
		missing[u] = true
	}
	for i := range s.hd.Tickets {
		t := &s.hd.Tickets[i]
		s.tickets = append(s.tickets, t)
		s.ticketByID[t.ID] = t
		for j := range t.Comments {
			for k := range t.Comments[j].Attachments {
				a := &t.Comments[j].Attachments[k]
				if tok, ok := attachmentToken(a.ContentURL); ok && !missing[a.ContentURL] {
					s.attachments[tok] = a
				}
			}
		}
	}
	slices.SortFunc(s.tickets, func(a, b *Ticket) int { return compare(ticketPosition(a), ticketPosition(b)) })
	s.users = s.users[:0]
	for i := range s.hd.Users {
		s.users = append(s.users, &s.hd.Users[i])
	}
	slices.SortFunc(s.users, func(a, b *User) int { return compare(userPosition(a), userPosition(b)) })
	s.indexEvents()
	s.indexHelpCenter()
}

func compare(a, b position) int {
	switch {
	case a.less(b):
		return -1
	case b.less(a):
		return 1
	}
	return 0
}

func ticketPosition(t *Ticket) position { return position{t.GeneratedTimestamp, t.ID} }
func userPosition(u *User) position     { return position{u.UpdatedAt.Unix(), u.ID} }

// attachmentToken returns the token of a content URL on the help desk's
// own host.
func attachmentToken(contentURL string) (string, bool) {
	rest, ok := strings.CutPrefix(contentURL, "/attachments/token/")
	if !ok {
		return "", false
	}
	tok, _, ok := strings.Cut(rest, "/")
	return tok, ok
}

// access says what a request needs before its handler runs.
type access int

const (
	// api endpoints need credentials and count against the rate limit.
	api access = iota
	// incrementalAPI endpoints also count against the exports' own limit.
	incrementalAPI
	// anonymousOK endpoints answer a request without credentials as the
	// anonymous user, and check credentials that are sent.
	anonymousOK
	// public endpoints need nothing: attachment downloads, whose URLs
	// carry their own token.
	public
)

// handlerFunc answers a request; base is the scheme and host to write into
// URLs.
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

func (s *Server) handle(pattern string, acc access, h handlerFunc) {
	s.mux.HandleFunc(pattern, func(rw http.ResponseWriter, r *http.Request) {
		w := &statusRecorder{ResponseWriter: rw}
		defer func() {
			s.statsMu.Lock()
			s.statuses[cmpOr(w.status, http.StatusOK)]++
			s.statsMu.Unlock()
		}()
		s.count(pattern)
		if acc != public {
			authed, sent := s.authenticate(r)
			if !authed && (sent || acc != anonymousOK) {
				if bearer(r) != "" {
					writeObject(w, http.StatusUnauthorized, field{"error", "invalid_token"},
						field{"error_description", "The access token provided is expired, revoked, malformed, or invalid for other reasons."})
					return
				}
				writeObject(w, http.StatusUnauthorized, field{"error", "Couldn't authenticate you"})
				return
			}
			if !s.admit(w, acc == incrementalAPI) {
				return
			}
			if f := s.fault(r.URL.Path); f != 0 {
				writeFault(w, f)
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

func (s *Server) count(endpoint string) {
	now := s.opts.Now()
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	s.requests[endpoint]++
	if s.first.IsZero() || now.Before(s.first) {
		s.first = now
	}
	if now.After(s.last) {
		s.last = now
	}
}

// authenticate checks a request's credentials, an API token or an OAuth
// access token; sent reports whether it carried any.
func (s *Server) authenticate(r *http.Request) (ok, sent bool) {
	// Compare in constant time: an emulator has no secret worth timing,
	// but it is also where people copy code from.
	if tok := bearer(r); tok != "" {
		return subtle.ConstantTimeCompare([]byte(tok), []byte(s.opts.OAuthToken)) == 1, true
	}
	user, pass, sent := r.BasicAuth()
	if !sent {
		return false, r.Header.Get("Authorization") != ""
	}
	userOK := subtle.ConstantTimeCompare([]byte(user), []byte(s.opts.Email+"/token"))
	passOK := subtle.ConstantTimeCompare([]byte(pass), []byte(s.opts.Token))
	return userOK&passOK == 1, true
}

// bearer returns a request's OAuth access token, or "".
func bearer(r *http.Request) string {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
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

// window counts requests in fixed windows, the way Zendesk's per-minute
// limits behave from a client's point of view.
type window struct {
	limit int // 0: unlimited
	start time.Time
	used  int
}

func (w *window) roll(now time.Time, span time.Duration) {
	if w.start.IsZero() || now.Sub(w.start) >= span {
		w.start, w.used = now, 0
	}
}

func (w *window) full() bool { return w.limit > 0 && w.used >= w.limit }

func (w *window) resetIn(now time.Time, span time.Duration) time.Duration {
	return w.start.Add(span).Sub(now)
}

// admit counts a request against the rate limits, and answers 429 with
// Retry-After when it is over one of them.
func (s *Server) admit(w http.ResponseWriter, incremental bool) bool {
	now := s.opts.Now()
	span := s.opts.RateLimitWindow
	s.statsMu.Lock()
	s.general.roll(now, span)
	s.incremental.roll(now, span)
	var wait time.Duration
	if s.general.full() {
		wait = s.general.resetIn(now, span)
	}
	if incremental && s.incremental.full() {
		wait = max(wait, s.incremental.resetIn(now, span))
	}
	over := wait > 0
	if !over {
		s.general.used++
		s.admitted++
		if incremental {
			s.incremental.used++
			s.admittedInc++
		}
	}
	limit, remaining := s.general.limit, s.general.limit-s.general.used
	reset := s.general.resetIn(now, span)
	s.statsMu.Unlock()

	if limit > 0 {
		// The account-wide headers Zendesk sends: the ones its recorded
		// responses carry, and the ratelimit-* ones its documentation
		// lists for list endpoints.
		h := w.Header()
		left, resetIn := strconv.Itoa(max(remaining, 0)), strconv.Itoa(seconds(reset))
		h.Set("X-Rate-Limit", strconv.Itoa(limit))
		h.Set("X-Rate-Limit-Remaining", left)
		h.Set("Rate-Limit", strconv.Itoa(limit))
		h.Set("Rate-Limit-Remaining", left)
		h.Set("Rate-Limit-Reset", resetIn)
		h.Set("Ratelimit-Limit", strconv.Itoa(limit))
		h.Set("Ratelimit-Remaining", left)
		h.Set("Ratelimit-Reset", resetIn)
	}
	if over {
		w.Header().Set("Retry-After", strconv.Itoa(seconds(wait)))
		writeError(w, http.StatusTooManyRequests, "APIRateLimitExceeded", "Number of allowed API requests per minute exceeded")
		return false
	}
	return true
}

// seconds rounds d up to whole seconds, at least one: Retry-After and the
// reset header count in seconds, and 0 would invite an immediate retry.
func seconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
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
		writeError(w, status, "RecordNotFound", "Not found")
	case http.StatusForbidden:
		writeError(w, status, "Forbidden", "You do not have access to this page. Please contact the account owner of this help desk for further help.")
	default:
		writeError(w, status, http.StatusText(status), fmt.Sprintf("Injected fault: %d %s", status, http.StatusText(status)))
	}
}

// The API's shapes: the stored records plus what depends on the host.
// Where an outer field has the JSON name of an embedded one, it hides it
// (encoding/json prefers the shallower field): that is how a ticket
// leaves out its conversation and a comment gets absolute attachment URLs.

type apiUser struct {
	URL string `json:"url"`
	*User
}

type apiTicket struct {
	URL string `json:"url"`
	*Ticket
	Comments *struct{} `json:"comments,omitempty"` // hides Ticket.Comments
	Audits   *struct{} `json:"audits,omitempty"`   // hides Ticket.Audits
}

type apiComment struct {
	*Comment
	Attachments []apiAttachment `json:"attachments"` // hides Comment.Attachments
}

type apiAttachment struct {
	URL string `json:"url"`
	*Attachment
	ContentURL       string          `json:"content_url"` // hides Attachment.ContentURL
	MappedContentURL string          `json:"mapped_content_url"`
	Thumbnails       []apiAttachment `json:"thumbnails"` // hides Attachment.Thumbnails
}

type apiOrganization struct {
	URL string `json:"url"`
	*Organization
}

type apiGroup struct {
	URL string `json:"url"`
	*Group
}

type apiTicketField struct {
	URL string `json:"url"`
	*TicketField
}

func toAPIAttachment(base string, a *Attachment) apiAttachment {
	u := a.ContentURL
	if strings.HasPrefix(u, "/") {
		u = base + u
	}
	out := apiAttachment{
		URL: fmt.Sprintf("%s/api/v2/attachments/%d.json", base, a.ID), Attachment: a,
		ContentURL: u, MappedContentURL: u, Thumbnails: []apiAttachment{},
	}
	for i := range a.Thumbnails {
		out.Thumbnails = append(out.Thumbnails, toAPIAttachment(base, &a.Thumbnails[i]))
	}
	return out
}

func toAPIUser(base string, u *User) apiUser {
	return apiUser{URL: fmt.Sprintf("%s/api/v2/users/%d.json", base, u.ID), User: u}
}

func (s *Server) serveMe(w http.ResponseWriter, r *http.Request, base string) {
	if r.Header.Get("Authorization") == "" {
		// Zendesk answers an unauthenticated me.json with the anonymous
		// user rather than an error.
		writeObject(w, http.StatusOK, field{"user", map[string]any{
			"id": nil, "url": nil, "name": "Anonymous user", "email": "invalid@example.com", "role": "end-user",
			"created_at": nil, "updated_at": nil, "time_zone": "UTC", "locale": "en-US", "active": true,
		}})
		return
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, u := range s.users {
		if u.Email != nil && strings.EqualFold(*u.Email, s.opts.Email) {
			writeObject(w, http.StatusOK, field{"user", toAPIUser(base, u)})
			return
		}
	}
	// Credentials configured for someone the help desk doesn't list: answer
	// as an admin of that name, so that any account can drive the emulator.
	created := time.Unix(0, 0).UTC()
	writeObject(w, http.StatusOK, field{"user", toAPIUser(base, &User{
		ID: 1, Name: s.opts.Email, Email: &s.opts.Email, Role: RoleAdmin, Active: true, Verified: true,
		CreatedAt: created, UpdatedAt: created, Locale: "en-US", LocaleID: 1, TimeZone: "UTC", IANATimeZone: "Etc/UTC",
		Tags: []string{}, UserFields: map[string]any{},
	})})
}

// exportQuery is an incremental export request, read and checked.
type exportQuery struct {
	after   position
	perPage int
}

// parseExport reads an incremental export's parameters, answering 400 as
// Zendesk does when they are wrong.
func (s *Server) parseExport(w http.ResponseWriter, r *http.Request) (exportQuery, bool) {
	q := r.URL.Query()
	eq := exportQuery{}
	var ok bool
	if eq.perPage, ok = parsePerPage(w, q.Get("per_page")); !ok {
		return eq, false
	}
	switch {
	case q.Get("cursor") != "":
		p, err := decodeExportCursor(q.Get("cursor"))
		if err != nil {
			writeError(w, http.StatusBadRequest, "InvalidCursor", "Invalid cursor")
			return eq, false
		}
		eq.after = p
	case q.Get("start_time") != "":
		n, ok := s.parseStartTime(w, q.Get("start_time"))
		if !ok {
			return eq, false
		}
		// Positions compare (time, id) and ids start at 1, so (n, 0) is
		// just before everything changed at n or later.
		eq.after = position{ts: n}
	default:
		writeError(w, http.StatusBadRequest, "InvalidValue", "start_time or cursor is required")
		return eq, false
	}
	return eq, true
}

// parseStartTime reads an incremental export's start_time, answering 400
// as Zendesk does when it is wrong.
func (s *Server) parseStartTime(w http.ResponseWriter, v string) (int64, bool) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		writeError(w, http.StatusBadRequest, "InvalidValue", "start_time must be a Unix epoch time")
		return 0, false
	}
	if n > s.opts.Now().Add(-time.Minute).Unix() {
		writeError(w, http.StatusBadRequest, "InvalidValue", "Too recent start_time. Use a start_time older than one minute")
		return 0, false
	}
	return n, true
}

// parsePerPage reads an export's per_page (default and most 1000).
func parsePerPage(w http.ResponseWriter, v string) (int, bool) {
	if v == "" {
		return 1000, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		writeError(w, http.StatusBadRequest, "InvalidValue", "per_page must be a positive integer")
		return 0, false
	}
	return min(n, 1000), true
}

// exportPage pages through records (in position order) as an incremental
// cursor export does: after the query's position, leaving out the last
// minute's changes, which a later export brings.
func exportPage[T any](s *Server, eq exportQuery, records []T, pos func(T) position) (page []T, last position, endOfStream bool) {
	horizon := s.opts.Now().Add(-time.Minute).Unix()
	i, _ := slices.BinarySearchFunc(records, eq.after, func(rec T, p position) int {
		if !p.less(pos(rec)) {
			return -1
		}
		return 1
	})
	last = eq.after
	for ; i < len(records) && len(page) < eq.perPage; i++ {
		p := pos(records[i])
		if p.ts > horizon {
			break
		}
		page = append(page, records[i])
		last = p
	}
	endOfStream = i >= len(records) || pos(records[i]).ts > horizon
	return page, last, endOfStream
}

func writeExport(w http.ResponseWriter, r *http.Request, base, key string, records any, last position, eos bool) {
	cursor := encodeExportCursor(last)
	q := url.Values{"cursor": {cursor}}
	if v := r.URL.Query().Get("per_page"); v != "" {
		q.Set("per_page", v)
	}
	writeObject(w, http.StatusOK,
		field{key, records},
		field{"after_url", pageURL(base, r, q)},
		field{"before_url", nil},
		field{"after_cursor", cursor},
		field{"before_cursor", nil},
		field{"end_of_stream", eos},
	)
}

func (s *Server) serveTicketsExport(w http.ResponseWriter, r *http.Request, base string) {
	eq, ok := s.parseExport(w, r)
	if !ok {
		return
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	page, last, eos := exportPage(s, eq, s.tickets, ticketPosition)
	out := make([]apiTicket, len(page))
	for i, t := range page {
		out[i] = apiTicket{URL: fmt.Sprintf("%s/api/v2/tickets/%d.json", base, t.ID), Ticket: t}
	}
	writeExport(w, r, base, "tickets", out, last, eos)
}

func (s *Server) serveUsersExport(w http.ResponseWriter, r *http.Request, base string) {
	eq, ok := s.parseExport(w, r)
	if !ok {
		return
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	page, last, eos := exportPage(s, eq, s.users, userPosition)
	out := make([]apiUser, len(page))
	for i, u := range page {
		out[i] = toAPIUser(base, u)
	}
	writeExport(w, r, base, "users", out, last, eos)
}

func (s *Server) writeCount(w http.ResponseWriter, n int) {
	writeObject(w, http.StatusOK, field{"count", map[string]any{
		"value": n, "refreshed_at": s.opts.Now().UTC().Truncate(time.Second),
	}})
}

func (s *Server) serveTicketsCount(w http.ResponseWriter, _ *http.Request, _ string) {
	s.mu.RLock()
	n := 0
	for _, t := range s.tickets {
		if t.Status != StatusDeleted {
			n++
		}
	}
	s.mu.RUnlock()
	s.writeCount(w, n)
}

func (s *Server) serveUsersCount(w http.ResponseWriter, _ *http.Request, _ string) {
	s.mu.RLock()
	n := 0
	for _, u := range s.users {
		if u.Active {
			n++
		}
	}
	s.mu.RUnlock()
	s.writeCount(w, n)
}

func (s *Server) serveComments(w http.ResponseWriter, r *http.Request, base string) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	s.mu.RLock()
	defer s.mu.RUnlock()
	t := s.ticketByID[id]
	if err != nil || t == nil || t.Status == StatusDeleted {
		writeError(w, http.StatusNotFound, "RecordNotFound", "Not found")
		return
	}
	items := make([]item, len(t.Comments))
	for i := range t.Comments {
		c := &t.Comments[i]
		ac := apiComment{Comment: c, Attachments: make([]apiAttachment, len(c.Attachments))}
		for j := range c.Attachments {
			ac.Attachments[j] = toAPIAttachment(base, &c.Attachments[j])
		}
		items[i] = item{pos: position{c.CreatedAt.Unix(), c.ID}, v: ac}
	}
	slices.SortStableFunc(items, func(a, b item) int { return compare(a.pos, b.pos) })
	servePage(w, r, base, "comments", items)
}

func (s *Server) serveOrganizations(w http.ResponseWriter, r *http.Request, base string) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	items := make([]item, len(s.hd.Organizations))
	for i := range s.hd.Organizations {
		o := &s.hd.Organizations[i]
		items[i] = item{pos: position{id: o.ID}, v: apiOrganization{URL: fmt.Sprintf("%s/api/v2/organizations/%d.json", base, o.ID), Organization: o}}
	}
	slices.SortFunc(items, func(a, b item) int { return compare(a.pos, b.pos) })
	servePage(w, r, base, "organizations", items)
}

func (s *Server) serveGroups(w http.ResponseWriter, r *http.Request, base string) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var items []item
	for i := range s.hd.Groups {
		g := &s.hd.Groups[i]
		if g.Deleted {
			continue // listed only with ?exclude_deleted=false, which nothing here asks for
		}
		items = append(items, item{pos: position{id: g.ID}, v: apiGroup{URL: fmt.Sprintf("%s/api/v2/groups/%d.json", base, g.ID), Group: g}})
	}
	slices.SortFunc(items, func(a, b item) int { return compare(a.pos, b.pos) })
	servePage(w, r, base, "groups", items)
}

func (s *Server) serveTicketFields(w http.ResponseWriter, r *http.Request, base string) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	items := make([]item, len(s.hd.TicketFields))
	for i := range s.hd.TicketFields {
		f := &s.hd.TicketFields[i]
		// Zendesk lists ticket fields in their form's order.
		items[i] = item{pos: position{ts: int64(f.Position), id: f.ID}, v: apiTicketField{URL: fmt.Sprintf("%s/api/v2/ticket_fields/%d.json", base, f.ID), TicketField: f}}
	}
	slices.SortFunc(items, func(a, b item) int { return compare(a.pos, b.pos) })
	servePage(w, r, base, "ticket_fields", items)
}

// serveAttachment sends an attachment's bytes: made up, but of the size and
// type its metadata says.
func (s *Server) serveAttachment(w http.ResponseWriter, r *http.Request, _ string) {
	s.mu.RLock()
	a := s.attachments[r.PathValue("token")]
	var name, contentType string
	var size int64
	if a != nil {
		name, contentType, size = a.FileName, a.ContentType, a.Size
	}
	s.mu.RUnlock()
	if a == nil {
		writeError(w, http.StatusNotFound, "RecordNotFound", "Not found")
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name))
	w.WriteHeader(http.StatusOK)
	io.CopyN(w, patternReader(name), size)
}

// patternReader repeats a file's name forever: content that is cheap to
// make at any size and differs from file to file.
func patternReader(name string) io.Reader {
	return &repeatReader{pattern: []byte(name + "\n")}
}

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
