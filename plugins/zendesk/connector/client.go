package connector

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// maxBody bounds a response body: a page of 1,000 tickets is a few
// megabytes, so anything near this is not a page.
const maxBody = 256 << 20

// retryPolicy says how hard a client tries before giving up.
type retryPolicy struct {
	// attempts bounds the tries of a request that fails with a 5xx or a
	// network error.
	attempts int
	// throttled bounds the 429s one request may meet: being rate limited
	// is Zendesk's normal flow control, so it gets more room.
	throttled int
	// backoff is the first wait after a failure; it doubles each time, up
	// to maxBackoff, with jitter.
	backoff, maxBackoff time.Duration
	// maxWait is the longest Retry-After the client honours; a longer one
	// fails the request rather than stalling a run for hours.
	maxWait time.Duration
}

// readPolicy is for reads: patient, since a run that gives up must be
// resumed by hand.
func readPolicy() retryPolicy {
	return retryPolicy{attempts: 6, throttled: 30, backoff: time.Second, maxBackoff: time.Minute, maxWait: 10 * time.Minute}
}

// checkPolicy is for Check: a person is waiting for the answer.
func checkPolicy() retryPolicy {
	return retryPolicy{attempts: 2, throttled: 3, backoff: 500 * time.Millisecond, maxBackoff: 2 * time.Second, maxWait: 30 * time.Second}
}

// client calls one Zendesk account's API.
type client struct {
	base  *url.URL
	http  *http.Client
	retry retryPolicy
	log   *slog.Logger
	// gate holds every request back after a 429 told one of them to wait:
	// the limit is the account's, so the other requests would only
	// collect 429s of their own. Copies of a client share it.
	gate *gate
	// pace keeps requests within the rate limits before Zendesk has to
	// refuse any. Copies of a client share it.
	pace *pacer
}

type gate struct {
	mu    sync.Mutex
	until time.Time
}

// withLogger returns a copy of c that logs to log.
func (c *client) withLogger(log *slog.Logger) *client {
	cp := *c
	cp.log = log
	return &cp
}

// rateWindow is the span Zendesk's rate limits count over.
const rateWindow = time.Minute

// newClient returns a client of cfg's account. transport carries the
// requests (nil: a default with timeouts); window is the span the
// account's rate limits count over (0: a minute).
func newClient(cfg Config, transport http.RoundTripper, retry retryPolicy, log *slog.Logger, window time.Duration) (*client, error) {
	base, err := baseURL(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	if transport == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.ResponseHeaderTimeout = 90 * time.Second
		transport = t
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// An API token goes as Basic credentials of "{email}/token", an OAuth
	// access token as a Bearer token.
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(cfg.Email+"/token:"+cfg.Token))
	if cfg.OAuthToken != "" {
		auth = "Bearer " + cfg.OAuthToken
	}
	if window <= 0 {
		window = rateWindow
	}
	return &client{
		base:  base,
		http:  &http.Client{Transport: &authTransport{next: transport, base: base, authorization: auth}},
		retry: retry,
		log:   log,
		gate:  &gate{},
		pace:  newPacer(window, cmp.Or(cfg.IncrementalPerMinute, defaultIncrementalPerMinute)),
	}, nil
}

// authTransport adds the credentials to requests for the account's own
// scheme and host, and to no other: not to a redirect elsewhere, not to a
// link a response points to on another host.
type authTransport struct {
	next          http.RoundTripper
	base          *url.URL
	authorization string
}

// RoundTrip sends req, with the credentials when it goes to the account.
func (t *authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != t.base.Scheme || !strings.EqualFold(req.URL.Host, t.base.Host) {
		return t.next.RoundTrip(req)
	}
	// A RoundTripper must not change the request it is given.
	r := req.Clone(req.Context())
	r.Header.Set("Authorization", t.authorization)
	return t.next.RoundTrip(r)
}

// apiError is an answer other than 2xx, after retries.
type apiError struct {
	method, path string
	status       int
	// code and description are Zendesk's error and description fields.
	code, description string
}

// Error says which request failed and how Zendesk answered.
func (e *apiError) Error() string {
	msg := fmt.Sprintf("%s %s: Zendesk answered %d %s", e.method, e.path, e.status, http.StatusText(e.status))
	switch {
	case e.code != "" && e.description != "":
		msg += fmt.Sprintf(" (%s: %s)", e.code, e.description)
	case e.code != "" || e.description != "":
		msg += fmt.Sprintf(" (%s%s)", e.code, e.description)
	}
	return msg
}

// newAPIError reads Zendesk's error body, in whichever of its shapes:
// {"error": "...", "description": "..."}, {"error": {"title", "message"}},
// or not JSON at all.
func newAPIError(method, path string, status int, body []byte) *apiError {
	e := &apiError{method: method, path: path, status: status}
	var v struct {
		Error       json.RawMessage `json:"error"`
		Description string          `json:"description"`
	}
	if json.Unmarshal(body, &v) == nil {
		e.description = v.Description
		var code string
		var obj struct{ Title, Message string }
		switch {
		case json.Unmarshal(v.Error, &code) == nil:
			e.code = code
		case json.Unmarshal(v.Error, &obj) == nil:
			e.code, e.description = obj.Title, obj.Message
		}
	}
	return e
}

// statusOf is the HTTP status of an apiError in err's chain, or 0.
func statusOf(err error) int {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.status
	}
	return 0
}

// get fetches path?query from the account and returns the body of a 2xx
// answer. It waits out 429s as Retry-After says and retries 5xx and
// network errors with backoff; any other answer is an *apiError.
func (c *client) get(ctx context.Context, path string, query url.Values) ([]byte, error) {
	u := *c.base
	u.Path = path
	u.RawQuery = query.Encode()
	var failures, throttles int
	for {
		if err := c.waitPause(ctx); err != nil {
			return nil, err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return nil, fmt.Errorf("GET %s: %w", path, err)
		}
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", "ferry-source-zendesk/"+Version)
		done, err := c.pace.wait(ctx, path)
		if err != nil {
			return nil, err
		}
		resp, err := c.http.Do(req)
		if err != nil {
			done(nil, 0)
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			failures++
			if failures >= c.retry.attempts {
				return nil, fmt.Errorf("GET %s: %w", path, err)
			}
			wait := c.backoff(failures)
			c.log.Warn("zendesk request failed; retrying", "path", path, "error", err, "attempt", failures, "wait", wait)
			if err := sleep(ctx, wait); err != nil {
				return nil, err
			}
			continue
		}
		body, readErr := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
		resp.Body.Close()
		done(resp.Header, resp.StatusCode)
		switch {
		case resp.StatusCode >= 200 && resp.StatusCode < 300:
			if readErr != nil {
				// A body cut short is a network failure like any other.
				failures++
				if failures >= c.retry.attempts {
					return nil, fmt.Errorf("GET %s: read the answer: %w", path, readErr)
				}
				if err := sleep(ctx, c.backoff(failures)); err != nil {
					return nil, err
				}
				continue
			}
			if len(body) > maxBody {
				return nil, fmt.Errorf("GET %s: the answer is larger than %d MiB", path, maxBody>>20)
			}
			return body, nil

		case resp.StatusCode == http.StatusTooManyRequests:
			throttles++
			wait, ok := retryAfter(resp.Header, time.Now())
			if !ok {
				wait = c.backoff(throttles)
			}
			if throttles > c.retry.throttled {
				return nil, fmt.Errorf("GET %s: still rate limited after %d waits: %w", path, throttles-1, newAPIError("GET", path, resp.StatusCode, body))
			}
			if wait > c.retry.maxWait {
				return nil, fmt.Errorf("GET %s: Zendesk asks to wait %v, longer than %v: %w", path, wait, c.retry.maxWait, newAPIError("GET", path, resp.StatusCode, body))
			}
			// A little jitter keeps the workers from coming back all at
			// the same instant.
			wait += time.Duration(rand.Int64N(int64(min(time.Second, wait/10)) + 1))
			c.pause(wait)
			c.log.Info("zendesk rate limit reached; waiting", "path", path, "wait", wait)

		case resp.StatusCode >= 500:
			failures++
			if failures >= c.retry.attempts {
				return nil, newAPIError("GET", path, resp.StatusCode, body)
			}
			wait := c.backoff(failures)
			if ra, ok := retryAfter(resp.Header, time.Now()); ok && ra <= c.retry.maxWait {
				wait = max(wait, ra)
			}
			c.log.Warn("zendesk answered with a server error; retrying", "path", path, "status", resp.StatusCode, "attempt", failures, "wait", wait)
			if err := sleep(ctx, wait); err != nil {
				return nil, err
			}

		default:
			return nil, newAPIError("GET", path, resp.StatusCode, body)
		}
	}
}

// backoff is the wait before retry n (from 1): doubling from the policy's
// first wait, capped, with half of it random so that retries spread out.
func (c *client) backoff(n int) time.Duration {
	d := c.retry.backoff << min(n-1, 16)
	if d <= 0 || d > c.retry.maxBackoff {
		d = c.retry.maxBackoff
	}
	half := d / 2
	return half + time.Duration(rand.Int64N(int64(half)+1))
}

func (c *client) pause(d time.Duration) {
	c.gate.mu.Lock()
	defer c.gate.mu.Unlock()
	if until := time.Now().Add(d); until.After(c.gate.until) {
		c.gate.until = until
	}
}

func (c *client) waitPause(ctx context.Context) error {
	c.gate.mu.Lock()
	d := time.Until(c.gate.until)
	c.gate.mu.Unlock()
	if d <= 0 {
		return nil
	}
	return sleep(ctx, d)
}

// retryAfter reads a Retry-After header: seconds, or an HTTP date.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		return time.Duration(min(secs, int64(24*time.Hour/time.Second))) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(0, t.Sub(now)), true
	}
	return 0, false
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
