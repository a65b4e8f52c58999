package intercom

import (
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

type faultKind string

const (
	fault429Headers faultKind = "429 with rate-limit headers"
	fault429Bare    faultKind = "429 without headers"
	fault503        faultKind = "503"
	fault502HTML    faultKind = "502 with an HTML body"
	fault500        faultKind = "500 error list"
	faultReset      faultKind = "connection reset"
	faultRetryAfter faultKind = "503 with Retry-After"
)

// faults wraps a handler so that its first n requests fail with kind; it
// counts every request in seen.
func faults(kind faultKind, n int64, seen *atomic.Int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if seen.Add(1) > n {
				next.ServeHTTP(w, r)
				return
			}
			switch kind {
			case fault429Headers:
				h := w.Header()
				h.Set("X-RateLimit-Limit", "100")
				h.Set("X-RateLimit-Remaining", "0")
				h.Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(time.Second).Unix(), 10))
				h.Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusTooManyRequests)
				w.Write([]byte(`{"type":"error.list","errors":[{"code":"rate_limit_exceeded","message":"Exceeded rate limit of 100 in 10_seconds"}]}`))
			case fault429Bare:
				w.WriteHeader(http.StatusTooManyRequests)
			case fault503:
				w.WriteHeader(http.StatusServiceUnavailable)
			case faultRetryAfter:
				w.Header().Set("Retry-After", "0")
				w.WriteHeader(http.StatusServiceUnavailable)
			case fault502HTML:
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(http.StatusBadGateway)
				w.Write([]byte("<html><body><h1>502 Bad Gateway</h1></body></html>"))
			case fault500:
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusInternalServerError)
				w.Write([]byte(`{"type":"error.list","request_id":"r-500","errors":[{"code":"server_error","message":"Server Error"}]}`))
			case faultReset:
				conn, _, err := http.NewResponseController(w).Hijack()
				if err != nil {
					panic(err)
				}
				if tc, ok := conn.(*net.TCPConn); ok {
					tc.SetLinger(0) // close with RST, not FIN
				}
				conn.Close()
			}
		})
	}
}

func TestRetriesEventuallySucceed(t *testing.T) {
	tests := []struct {
		kind        faultKind
		n           int64
		rateLimited int64
	}{
		{fault429Headers, 1, 1},
		{fault429Bare, 3, 3},
		{fault503, 3, 0},
		{faultRetryAfter, 2, 0},
		{fault502HTML, 2, 0},
		{fault500, 2, 0},
		{faultReset, 3, 0},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			var seen atomic.Int64
			e := newEnv(t, envConfig{wrap: faults(tt.kind, tt.n, &seen)})
			// POST: Go's transport never replays it on its own, so every
			// attempt is the client's.
			tag, err := e.c.CreateTag(t.Context(), "retried")
			if err != nil {
				t.Fatalf("CreateTag: %v", err)
			}
			if tag.Name != "retried" {
				t.Errorf("tag = %+v", tag)
			}
			if got := seen.Load(); got != tt.n+1 {
				t.Errorf("server saw %d requests, want %d", got, tt.n+1)
			}
			st := e.c.Stats()
			if st.Retries != tt.n || st.Calls != tt.n+1 || st.RateLimited != tt.rateLimited || st.Failed != 0 {
				t.Errorf("stats = %+v, want %d retries, %d 429s", st, tt.n, tt.rateLimited)
			}
			if ep := st.ByEndpoint["POST /tags"]; ep.Retries != tt.n {
				t.Errorf("endpoint stats = %+v", ep)
			}
			if len(e.sb.Snapshot().Tags) != 1 {
				t.Errorf("the tag was not created exactly once")
			}
		})
	}
}

func TestRetriesGiveUp(t *testing.T) {
	var seen atomic.Int64
	e := newEnv(t, envConfig{client: Options{MaxRetries: 2}, wrap: faults(fault500, 1000, &seen)})
	_, err := e.c.ListTags(t.Context())
	var ie *Error
	if !errors.As(err, &ie) || ie.StatusCode != 500 || ie.Code() != "server_error" || ie.RequestID != "r-500" {
		t.Fatalf("err = %v, want the 500 *Error", err)
	}
	if !strings.Contains(err.Error(), "after 3 attempts") {
		t.Errorf("err = %q does not say how many attempts", err)
	}
	if seen.Load() != 3 {
		t.Errorf("server saw %d requests, want 3", seen.Load())
	}
}

func TestNoRetries(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		kind faultKind
	}{
		{"retries off", Options{MaxRetries: -1}, fault503},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var seen atomic.Int64
			e := newEnv(t, envConfig{client: tt.opts, wrap: faults(tt.kind, 1000, &seen)})
			if _, err := e.c.ListTags(t.Context()); StatusCode(err) != 503 {
				t.Fatalf("err = %v", err)
			}
			if seen.Load() != 1 {
				t.Errorf("server saw %d requests, want 1", seen.Load())
			}
		})
	}
}

func TestBackoffIsBoundedFullJitter(t *testing.T) {
	c := &Client{backoffBase: 100 * time.Millisecond, backoffMax: time.Second}
	for attempt := range 40 {
		ceil := min(time.Second, 100*time.Millisecond<<min(attempt, 30))
		for range 50 {
			if d := c.backoff(attempt); d < 0 || d >= ceil {
				t.Fatalf("backoff(%d) = %v, want in [0, %v)", attempt, d, ceil)
			}
		}
	}
}

// A create that makes something anew each time (a conversation, a part) is
// repeated only when Intercom surely refused it; when its answer is lost the
// caller gets ErrOutcomeUnknown, to read back before sending again.
func TestCreatesAreNotRepeatedBlindly(t *testing.T) {
	tests := []struct {
		kind    faultKind
		unknown bool // ErrOutcomeUnknown after one request; else retried
	}{
		{fault429Headers, false},
		{fault429Bare, false},
		{fault500, true},
		{fault502HTML, true},
		{fault503, true},
		{faultReset, true},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			var seen atomic.Int64
			e := newEnv(t, envConfig{wrap: faults(tt.kind, 1, &seen)})
			contact, err := e.c.CreateContact(t.Context(), ContactRequest{Role: RoleUser, Email: "una@example.com"})
			if err != nil {
				t.Fatal(err)
			}
			seen.Store(0)
			_, err = e.c.CreateConversation(t.Context(), CreateConversationRequest{From: ConversationFrom{Type: RoleUser, ID: contact.ID}, Body: "hello"})
			if tt.unknown {
				if !errors.Is(err, ErrOutcomeUnknown) {
					t.Fatalf("err = %v, want ErrOutcomeUnknown", err)
				}
				if seen.Load() != 1 {
					t.Errorf("server saw %d requests, want 1", seen.Load())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if seen.Load() != 2 || len(e.sb.Snapshot().Conversations) != 1 {
				t.Errorf("server saw %d requests and has %d conversations, want 2 and 1", seen.Load(), len(e.sb.Snapshot().Conversations))
			}
		})
	}
	// A 4xx is a refusal: the plain *Error, nothing unknown about it.
	e := newEnv(t, envConfig{noSpec: true})
	_, err := e.c.CreateConversation(t.Context(), CreateConversationRequest{From: ConversationFrom{Type: RoleUser, ID: strings.Repeat("0", 24)}, Body: "hello"})
	if StatusCode(err) != http.StatusNotFound || errors.Is(err, ErrOutcomeUnknown) {
		t.Errorf("err = %v, want a 404 that is not ErrOutcomeUnknown", err)
	}
}
