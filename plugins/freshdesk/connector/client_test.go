package connector

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestRetryAfter(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		header string
		want   time.Duration
		ok     bool
	}{
		{"", 0, false},
		{"7", 7 * time.Second, true},
		{" 0 ", 0, true},
		{"-3", 0, false},
		{"soon", 0, false},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0, true},
		{"999999999999", 24 * time.Hour, true},
	}
	for _, tt := range tests {
		h := http.Header{}
		if tt.header != "" {
			h.Set("Retry-After", tt.header)
		}
		got, ok := retryAfter(h, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Retry-After %q = %v, %v; want %v, %v", tt.header, got, ok, tt.want, tt.ok)
		}
	}
}

func TestBackoffGrowsWithinBounds(t *testing.T) {
	c := &client{retry: readPolicy()}
	for n := 1; n <= 40; n++ {
		d := c.backoff(n)
		ceiling := min(c.retry.maxBackoff, c.retry.backoff<<min(n-1, 16))
		if d < ceiling/2 || d > ceiling {
			t.Errorf("backoff(%d) = %v, want within [%v, %v]", n, d, ceiling/2, ceiling)
		}
	}
}

func TestAuthTransportSendsCredentialsHomeOnly(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]string{}
	next := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		mu.Lock()
		seen[r.URL.String()] = r.Header.Get("Authorization")
		mu.Unlock()
		return &http.Response{StatusCode: http.StatusNoContent, Body: http.NoBody, Request: r}, nil
	})
	base, _ := url.Parse("https://acme.freshdesk.com")
	tr := &authTransport{next: next, base: base, authorization: "Basic a2V5Olg="}
	tests := []struct {
		url  string
		auth bool
	}{
		{"https://acme.freshdesk.com/api/v2/tickets", true},
		{"https://ACME.freshdesk.com/api/v2/agents/me", true},
		{"http://acme.freshdesk.com/api/v2/tickets", false}, // clear text
		{"https://acme.freshdesk.com:8443/api/v2/tickets", false},
		{"https://evil.acme.freshdesk.com/api/v2/tickets", false},
		{"https://acme.freshdesk.com.evil.example/api/v2/tickets", false},
		{"https://s3.amazonaws.example/data/helpdesk/attachments/production/1/original/a.png", false},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(http.MethodGet, tt.url, nil)
		if _, err := tr.RoundTrip(req); err != nil {
			t.Fatal(err)
		}
		if req.Header.Get("Authorization") != "" {
			t.Errorf("%s: the caller's request was changed", tt.url)
		}
		if got := seen[tt.url] != ""; got != tt.auth {
			t.Errorf("%s: credentials sent %v, want %v", tt.url, got, tt.auth)
		}
	}
}

// scripted answers requests with the given answers in turn, then 200.
func scripted(t *testing.T, answers ...func(w http.ResponseWriter)) (*client, *int) {
	t.Helper()
	var mu sync.Mutex
	n := 0
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		i := n
		n++
		mu.Unlock()
		if i < len(answers) {
			answers[i](w)
			return
		}
		w.Write([]byte(`[{"id": 1}]`))
	}))
	t.Cleanup(ts.Close)
	c, err := newClient(Config{BaseURL: ts.URL, APIKey: "k"}, nil, fastPolicy(), 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c, &n
}

func status(code int, header ...string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.WriteHeader(code)
		w.Write([]byte(`{"code": "oops", "message": "scripted"}`))
	}
}

// truncated promises a longer body than it sends.
func truncated(w http.ResponseWriter) {
	w.Header().Set("Content-Length", "100")
	w.WriteHeader(http.StatusOK)
	w.Write([]byte(`[{"id":`))
}

func TestGetRetries(t *testing.T) {
	tests := []struct {
		name     string
		answers  []func(http.ResponseWriter)
		requests int
		wantErr  string
	}{
		{"first time", nil, 1, ""},
		{"rate limited, then served", []func(http.ResponseWriter){status(429, "Retry-After", "0"), status(429)}, 3, ""},
		{"server errors, then served", []func(http.ResponseWriter){status(503), status(500, "Retry-After", "0"), status(502)}, 4, ""},
		{"a body cut short, then served", []func(http.ResponseWriter){truncated, truncated}, 3, ""},
		{"server errors outlast the retries", []func(http.ResponseWriter){status(500), status(500), status(500), status(500), status(500), status(500), status(500)}, 6, "500"},
		{"a client error is final", []func(http.ResponseWriter){status(404)}, 1, "404 Not Found (scripted)"},
		{"a wait too long is refused", []func(http.ResponseWriter){status(429, "Retry-After", "3600")}, 1, "asks to wait 1h0m0s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, n := scripted(t, tt.answers...)
			body, _, err := c.get(t.Context(), "/api/v2/x", nil)
			if tt.wantErr == "" && (err != nil || string(body) != `[{"id": 1}]`) {
				t.Fatalf("get = %q, %v", body, err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("error = %v, want one saying %q", err, tt.wantErr)
			}
			if *n != tt.requests {
				t.Errorf("%d requests, want %d", *n, tt.requests)
			}
		})
	}
}

func TestGetStopsWhenCancelled(t *testing.T) {
	c, _ := scripted(t, status(429, "Retry-After", "3"))
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, err := c.get(ctx, "/api/v2/x", nil)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Errorf("get = %v after %v, want the context's deadline, promptly", err, time.Since(start))
	}
}

func TestAPIErrorShapes(t *testing.T) {
	tests := []struct{ body, want string }{
		{`{"code": "invalid_credentials", "message": "You have to be logged in to perform this action."}`, "(You have to be logged in to perform this action.)"},
		{`{"description": "Validation failed", "errors": [{"field": "page", "message": "You cannot access tickets beyond the 300th page.", "code": "invalid_value"}]}`,
			"(Validation failed; page: You cannot access tickets beyond the 300th page.)"},
		{`{"code": "access_denied"}`, "(access_denied)"},
		{``, "answered 502 Bad Gateway"},
		{`<html>Bad gateway</html>`, "answered 502 Bad Gateway"},
	}
	for _, tt := range tests {
		err := newAPIError("GET", "/api/v2/x", http.StatusBadGateway, []byte(tt.body))
		if !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "GET /api/v2/x: ") {
			t.Errorf("%s: %q, want it to say %q", tt.body, err, tt.want)
		}
	}
}

func TestPacerLearnsTheBudget(t *testing.T) {
	p := newPacer(time.Second)
	h := http.Header{}
	h.Set("X-RateLimit-Total", "100")
	h.Set("X-RateLimit-Remaining", "60")
	p.observe(h)
	if got := p.limiter.Limit(); got != 100 {
		t.Errorf("limit %v a second, want 100", got)
	}
	if got := p.limiter.Burst(); got != 10 {
		t.Errorf("burst %d, want 10", got)
	}
	h.Set("X-RateLimit-Remaining", "0")
	p.observe(h)
	if wait := time.Until(p.until); wait <= 0 || wait > 100*time.Millisecond {
		t.Errorf("a spent budget holds requests back %v, want a tenth of the window", wait)
	}
	p = newPacer(time.Minute)
	p.observe(http.Header{}) // no headers: nothing learned, nothing held
	if p.limiter.Limit() != rate.Inf || !p.until.IsZero() {
		t.Error("a pacer without headers paces")
	}
}
