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
)

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
	base, _ := url.Parse("https://acme.zendesk.com")
	tr := &authTransport{next: next, base: base, authorization: "Basic c2VjcmV0"}
	tests := []struct {
		url  string
		auth bool
	}{
		{"https://acme.zendesk.com/api/v2/tickets.json", true},
		{"https://ACME.zendesk.com/api/v2/users/me.json", true},
		{"http://acme.zendesk.com/api/v2/tickets.json", false}, // clear text
		{"https://acme.zendesk.com:8443/api/v2/tickets.json", false},
		{"https://evil.acme.zendesk.com/api/v2/tickets.json", false},
		{"https://acme.zendesk.com.evil.example/api/v2/tickets.json", false},
		{"https://cdn.example/attachments/token/x/?name=a.png", false},
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

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// scripted answers requests with the given statuses in turn, then 200.
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
		w.Write([]byte(`{"ok": true}`))
	}))
	t.Cleanup(ts.Close)
	c, err := newClient(Config{BaseURL: ts.URL, Email: "a@acme.example", Token: "t"}, nil, fastPolicy(), nil, testWindow)
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
		w.Write([]byte(`{"error": "Oops", "description": "scripted"}`))
	}
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
		{"server errors outlast the retries", []func(http.ResponseWriter){status(500), status(500), status(500), status(500), status(500)}, 4, "500"},
		{"a client error is final", []func(http.ResponseWriter){status(404)}, 1, "404 Not Found (Oops: scripted)"},
		{"a wait too long is refused", []func(http.ResponseWriter){status(429, "Retry-After", "3600")}, 1, "asks to wait 1h0m0s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, n := scripted(t, tt.answers...)
			body, err := c.get(t.Context(), "/api/v2/x.json", nil)
			if tt.wantErr == "" && (err != nil || string(body) != `{"ok": true}`) {
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
	_, err := c.get(ctx, "/api/v2/x.json", nil)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Errorf("get = %v after %v, want the context's deadline, promptly", err, time.Since(start))
	}
}

func TestAPIErrorShapes(t *testing.T) {
	tests := []struct{ body, want string }{
		{`{"error": "RecordNotFound", "description": "Not found"}`, "(RecordNotFound: Not found)"},
		{`{"error": "Couldn't authenticate you"}`, "(Couldn't authenticate you)"},
		{`{"error": {"title": "Forbidden", "message": "You do not have access"}}`, "(Forbidden: You do not have access)"},
		{`<html>Bad gateway</html>`, "answered 502 Bad Gateway"},
	}
	for _, tt := range tests {
		err := newAPIError("GET", "/api/v2/x.json", http.StatusBadGateway, []byte(tt.body))
		if !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "GET /api/v2/x.json: ") {
			t.Errorf("%s: %q, want it to say %q", tt.body, err, tt.want)
		}
	}
}
