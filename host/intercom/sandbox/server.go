package sandbox

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// APIVersion is the only Intercom-Version the sandbox serves.
const APIVersion = "2.16"

// DefaultWindow is Intercom's rate-limit window.
const DefaultWindow = 10 * time.Second

// maxBody bounds request bodies; Intercom does not document its limit, and
// a sandbox on loopback must not buffer a runaway client's gigabytes.
const maxBody = 32 << 20

// Options configure a [Server].
type Options struct {
	// Token is the bearer token every request must carry; any other gets
	// 401 "Access Token Invalid". An empty Token rejects every request.
	Token string
	// Admins are the workspace's admins; nil means DefaultAdmins(). The
	// first one owns the token.
	Admins []Admin
	// Teams are the workspace's teams; nil means DefaultTeams().
	Teams []Team
	// RateLimit is the number of calls allowed per Window; 0 means no limit.
	// Authenticated responses carry X-RateLimit-Limit/-Remaining/-Reset
	// whenever it is set, and calls over it get 429 rate_limit_exceeded.
	RateLimit int
	// Window is the rate-limit window; 0 means DefaultWindow (Intercom's
	// 10 s). Tests shorten it so that pacing can be exercised quickly.
	Window time.Duration
	// Latency is added to every response, to make a loopback server feel
	// like a remote one.
	Latency time.Duration
	// Faults, when their Rate is above 0, answers that share of the
	// authenticated requests with faults (see FaultKinds).
	Faults FaultOptions
	// DeleteRestricted are kinds of object (KindConversation, KindTicket,
	// KindContact, KindCompany, KindCollection, KindArticle) whose DELETE
	// answers 403 api_plan_restricted, as Intercom does for a workspace
	// whose plan does not include it: what `ferry undo` cannot delete.
	DeleteRestricted []string
	// Now is the clock for timestamps and rate-limit windows; nil means time.Now.
	Now func() time.Time
	// Logger receives one Debug line per request; nil discards. Tokens are
	// never logged.
	Logger *slog.Logger
}

// Server is an in-memory, Intercom-compatible API server. It implements
// http.Handler; serve it with net/http or httptest. It is safe for concurrent use.
type Server struct {
	token     string
	rateLimit int
	window    time.Duration
	latency   time.Duration
	now       func() time.Time
	logger    *slog.Logger
	mux       *http.ServeMux
	created   time.Time // when the "workspace" was made, for GET /me

	rlMu    sync.Mutex
	rlStart time.Time // start of the current rate-limit window
	rlCount int

	statsMu sync.Mutex
	stats   Stats

	faults *faulter // nil without faults

	deleteRestricted []string // kinds whose DELETE answers 403

	mu sync.RWMutex // guards st
	st *store
}

// Stats counts the requests a Server received.
type Stats struct {
	// Requests is every request received.
	Requests int64
	// ByStatus counts responses by HTTP status.
	ByStatus map[int]int64
	// Endpoints breaks the counts down by route pattern, e.g.
	// "POST /contacts/{contact_id}/companies"; requests that match no route
	// are under "unmatched".
	Endpoints map[string]EndpointStats
	// First and Last are when the first and the latest request arrived, by
	// the server's clock (Options.Now); zero before any. Calls per second
	// over a run are Requests ÷ (Last − First).
	First, Last time.Time
	// AdmittedBySecond counts the requests not answered 429 by the unix
	// second they arrived in: where a client left the budget unused.
	AdmittedBySecond map[int64]int64
}

// EndpointStats is the part of [Stats] about one route.
type EndpointStats struct {
	Requests int64
	ByStatus map[int]int64
}

// New returns a Server with the given options and no data but the seeded
// admins and teams.
func New(opts Options) *Server {
	s := &Server{
		token:     opts.Token,
		rateLimit: max(0, opts.RateLimit),
		window:    opts.Window,
		latency:   opts.Latency,
		now:       opts.Now,
		logger:    opts.Logger,
		mux:       http.NewServeMux(),

		deleteRestricted: slices.Clone(opts.DeleteRestricted),
	}
	if s.window <= 0 {
		s.window = DefaultWindow
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	admins, teams := opts.Admins, opts.Teams
	if admins == nil {
		admins = DefaultAdmins()
	}
	if teams == nil {
		teams = DefaultTeams()
	}
	if s.token == "" {
		s.logger.Warn("intercom sandbox has no token: every request will get 401")
	}
	if opts.Faults.Rate > 0 {
		s.faults = newFaulter(opts.Faults)
	}
	s.created = s.now()
	s.st = newStore(admins, teams)
	s.routes()
	return s
}

func (s *Server) routes() {
	handle := func(pattern string, h apiHandler) { s.mux.Handle(pattern, s.api(h)) }
	handle("GET /me", s.getMe)
	handle("GET /admins", s.listAdmins)
	handle("GET /teams", s.listTeams)

	handle("POST /contacts", s.createContact)
	handle("GET /contacts", s.listContacts)
	handle("POST /contacts/search", s.searchContacts)
	handle("GET /contacts/{contact_id}", s.getContact)
	handle("PUT /contacts/{contact_id}", s.updateContact)
	handle("POST /contacts/{contact_id}/companies", s.attachContactToCompany)
	handle("GET /contacts/{contact_id}/companies", s.listContactCompanies)
	handle("POST /contacts/{contact_id}/tags", s.tagContact)
	handle("DELETE /contacts/{contact_id}", s.deleteContact)

	handle("POST /companies", s.upsertCompany)
	handle("GET /companies", s.listCompanies)
	handle("DELETE /companies/{company_id}", s.deleteCompany)

	handle("POST /conversations", s.createConversation)
	handle("GET /conversations", s.listConversations)
	handle("POST /conversations/search", s.searchConversations)
	handle("POST /conversations/{conversation_id}/customers", s.addParticipant)
	handle("GET /conversations/{conversation_id}", s.getConversation)
	handle("PUT /conversations/{conversation_id}", s.updateConversation)
	handle("POST /conversations/{conversation_id}/reply", s.replyConversation)
	handle("POST /conversations/{conversation_id}/parts", s.manageConversation)
	handle("POST /conversations/{conversation_id}/tags", s.tagConversation)
	handle("DELETE /conversations/{conversation_id}", s.deleteConversation)

	handle("GET /data_attributes", s.listDataAttributes)
	handle("POST /data_attributes", s.createDataAttribute)
	handle("GET /conversations/attributes", s.listConversationAttributes)
	handle("POST /conversations/attributes", s.createConversationAttribute)
	handle("POST /help_center/collections", s.createCollection)
	handle("GET /help_center/collections", s.listCollections)
	handle("DELETE /help_center/collections/{collection_id}", s.deleteCollection)
	handle("POST /articles", s.createArticle)
	handle("GET /articles", s.listArticles)
	handle("DELETE /articles/{article_id}", s.deleteArticle)
	handle("GET /ticket_types", s.listTicketTypes)
	handle("POST /ticket_types", s.createTicketType)
	handle("POST /ticket_types/{ticket_type_id}/attributes", s.createTicketTypeAttribute)
	handle("POST /tickets", s.createTicket)
	handle("POST /tickets/search", s.searchTickets)
	handle("GET /tickets/{ticket_id}", s.getTicket)
	handle("PUT /tickets/{ticket_id}", s.updateTicket)
	handle("POST /tickets/{ticket_id}/reply", s.replyTicket)
	handle("POST /tickets/{ticket_id}/tags", s.tagTicket)
	handle("DELETE /tickets/{ticket_id}", s.deleteTicket)
	handle("POST /tags", s.createTag)
	handle("GET /tags", s.listTags)

	// Intercom answers a wrong method or an unknown path with 404 not_found
	// in its usual error shape, not with 405 or a text page.
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, errNotFound("Resource Not Found"))
	})
}

// ServeHTTP answers one API request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	arrived := s.now()
	_, pattern := s.mux.Handler(r)
	endpoint := pattern
	if pattern == "" || pattern == "/" {
		endpoint = "unmatched"
	}
	rec := &statusWriter{ResponseWriter: w}
	defer func() {
		s.count(endpoint, rec.code(), arrived)
		s.logger.LogAttrs(r.Context(), slog.LevelDebug, "intercom sandbox request",
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.String("endpoint", endpoint), slog.Int("status", rec.code()),
			slog.Duration("took", time.Since(start)))
	}()

	if s.latency > 0 && !sleepFor(r, s.latency) {
		return
	}
	if !s.authorized(r) {
		writeError(rec, &apiError{status: http.StatusUnauthorized, code: "unauthorized", message: "Access Token Invalid"})
		return
	}
	if s.injectFault(rec, r, s.serveAuthorized) {
		return
	}
	s.serveAuthorized(rec, r)
}

// serveAuthorized answers an authenticated request: rate limit, version,
// Accept, then the route.
func (s *Server) serveAuthorized(rec http.ResponseWriter, r *http.Request) {
	if s.rateLimit > 0 {
		limit, remaining, reset, ok := s.takeRate()
		h := rec.Header()
		h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
		h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
		h.Set("X-RateLimit-Reset", strconv.FormatInt(reset, 10))
		if !ok {
			writeError(rec, &apiError{status: http.StatusTooManyRequests, code: "rate_limit_exceeded",
				message: fmt.Sprintf("Exceeded rate limit of %d in %s", limit, windowName(s.window))})
			return
		}
	}
	if v := r.Header.Get("Intercom-Version"); v != "" && v != APIVersion {
		writeError(rec, &apiError{status: http.StatusBadRequest, code: "intercom_version_invalid",
			message: fmt.Sprintf("Requested API version %q is not available; this server serves %s", v, APIVersion)})
		return
	}
	if !acceptsJSON(r.Header.Get("Accept")) {
		writeError(rec, &apiError{status: http.StatusNotAcceptable, code: "unsupported",
			message: "The Accept header should include application/json"})
		return
	}
	s.mux.ServeHTTP(rec, r)
}

// authorized compares the bearer token in constant time.
func (s *Server) authorized(r *http.Request) bool {
	if s.token == "" {
		return false
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(s.token)) == 1
}

// takeRate counts one call in the current fixed window and reports the
// headers' values and whether the call is within the limit.
func (s *Server) takeRate() (limit, remaining int, reset int64, ok bool) {
	now := s.now()
	s.rlMu.Lock()
	defer s.rlMu.Unlock()
	start := now.Truncate(s.window)
	if !start.Equal(s.rlStart) {
		s.rlStart, s.rlCount = start, 0
	}
	s.rlCount++
	end := start.Add(s.window)
	// X-RateLimit-Reset is whole unix seconds: round the window's end up so
	// that a client waiting until then never arrives early.
	reset = end.Unix()
	if end.Nanosecond() != 0 {
		reset++
	}
	return s.rateLimit, max(0, s.rateLimit-s.rlCount), reset, s.rlCount <= s.rateLimit
}

// windowName renders a window the way Intercom's 429 message does ("10_seconds").
func windowName(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "_seconds"
}

// acceptsJSON reports whether an Accept header admits a JSON answer. No
// header at all is fine: only an explicit refusal gets 406.
func acceptsJSON(accept string) bool {
	if strings.TrimSpace(accept) == "" {
		return true
	}
	for part := range strings.SplitSeq(accept, ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case "application/json", "application/*", "*/*":
			return true
		}
	}
	return false
}

// count counts a request that arrived at the given time, once answered.
func (s *Server) count(endpoint string, status int, arrived time.Time) {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	if s.stats.First.IsZero() || arrived.Before(s.stats.First) {
		s.stats.First = arrived
	}
	if arrived.After(s.stats.Last) {
		s.stats.Last = arrived
	}
	if s.stats.ByStatus == nil {
		s.stats.ByStatus = map[int]int64{}
		s.stats.Endpoints = map[string]EndpointStats{}
		s.stats.AdmittedBySecond = map[int64]int64{}
	}
	if status != http.StatusTooManyRequests {
		s.stats.AdmittedBySecond[arrived.Unix()]++
	}
	s.stats.Requests++
	s.stats.ByStatus[status]++
	e := s.stats.Endpoints[endpoint]
	e.Requests++
	if e.ByStatus == nil {
		e.ByStatus = map[int]int64{}
	}
	e.ByStatus[status]++
	s.stats.Endpoints[endpoint] = e
}

// Stats returns a copy of the request counters.
func (s *Server) Stats() Stats {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	out := Stats{Requests: s.stats.Requests, ByStatus: maps.Clone(s.stats.ByStatus), Endpoints: map[string]EndpointStats{},
		First: s.stats.First, Last: s.stats.Last, AdmittedBySecond: maps.Clone(s.stats.AdmittedBySecond)}
	if out.ByStatus == nil {
		out.ByStatus = map[int]int64{}
	}
	for k, v := range s.stats.Endpoints {
		out.Endpoints[k] = EndpointStats{Requests: v.Requests, ByStatus: maps.Clone(v.ByStatus)}
	}
	return out
}

// Snapshot returns a deep copy of everything the server holds.
func (s *Server) Snapshot() Snapshot {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.st.snapshot()
}

// statusWriter remembers the status written through it.
type statusWriter struct {
	http.ResponseWriter
	status int
}

// WriteHeader records the first status written.
func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write records an implicit 200 when no status was written first.
func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// code is the status sent, or 499 (client gone) when nothing was.
func (w *statusWriter) code() int {
	if w.status == 0 {
		return 499
	}
	return w.status
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// apiHandler serves one route: it returns the body of a 200, or an error.
type apiHandler func(r *http.Request) (any, *apiError)

func (s *Server) api(h apiHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		out, aerr := h(r)
		if aerr != nil {
			writeError(w, aerr)
			return
		}
		writeJSON(w, http.StatusOK, out)
	})
}

// apiError is an Intercom error answer.
type apiError struct {
	status        int
	code, message string
	field         string
}

func errNotFound(msg string) *apiError {
	return &apiError{status: http.StatusNotFound, code: "not_found", message: msg}
}

func errInvalid(msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "parameter_invalid", message: msg}
}

func errMissing(msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "parameter_not_found", message: msg}
}

func writeError(w http.ResponseWriter, e *apiError) {
	item := map[string]any{"code": e.code, "message": e.message}
	if e.field != "" {
		item["field"] = e.field
	}
	rid := requestID()
	w.Header().Set("X-Request-Id", rid)
	writeJSON(w, e.status, map[string]any{
		"type":       "error.list",
		"request_id": rid,
		"errors":     []any{item},
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Only a programming error (an unencodable value) gets here.
		http.Error(w, `{"type":"error.list","errors":[{"code":"server_error","message":"encode response"}]}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// requestID returns a random UUID (version 4), the shape of Intercom's request_id.
func requestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// decodeBody reads a JSON object body into v. Bad JSON is 400
// parameter_invalid, as Intercom answers it.
func decodeBody(r *http.Request, v any) *apiError {
	raw, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return &apiError{status: http.StatusRequestEntityTooLarge, code: "parameter_invalid", message: "Request body too large"}
		}
		return errInvalid("Could not read the request body")
	}
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return errInvalid("Request body must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return &apiError{status: http.StatusBadRequest, code: "parameter_invalid",
				message: fmt.Sprintf("%s has the wrong type (got %s)", te.Field, te.Value), field: te.Field}
		}
		return errInvalid("There was a problem in the JSON you submitted: " + err.Error())
	}
	return nil
}

// rawFields decodes a JSON object body into its top-level fields, for
// handlers that must tell a missing field from an empty one.
func rawFields(r *http.Request) (map[string]json.RawMessage, *apiError) {
	var m map[string]json.RawMessage
	if err := decodeBody(r, &m); err != nil {
		return nil, err
	}
	return m, nil
}
