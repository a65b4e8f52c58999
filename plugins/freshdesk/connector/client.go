package connector

import (
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

	"golang.org/x/time/rate"
)

// maxBody bounds a response body: a page of 100 tickets or conversations
// is a few megabytes at most, so anything near this is not a page.
const maxBody = 64 << 20

// retryPolicy says how hard a client tries before giving up.
type retryPolicy struct {
	// attempts bounds the tries of a request that fails with a 5xx, a
	// network error or a body cut short.
	attempts int
	// throttled bounds the 429s one request may meet: being rate limited
	// is Freshdesk's normal flow control, so it gets more room.
	throttled int
	// backoff is the first wait after a failure; it doubles each time, up
	// to maxBackoff, with jitter.
	backoff, maxBackoff time.Duration
	// maxWait is the longest Retry-After the client honours; a longer one
	// fails the request rather than stalling a run for hours.
	maxWait time.Duration
	// timeout bounds one attempt, body included, so that a stalled
	// connection is retried rather than waited on forever.
	timeout time.Duration
}

// readPolicy is for reads: patient, since a run that gives up must be
// resumed by hand.
func readPolicy() retryPolicy {
	return retryPolicy{attempts: 6, throttled: 30, backoff: time.Second, maxBackoff: time.Minute, maxWait: 10 * time.Minute, timeout: 2 * time.Minute}
}

// checkPolicy is for Check: a person is waiting for the answer.
func checkPolicy() retryPolicy {
	return retryPolicy{attempts: 2, throttled: 3, backoff: 500 * time.Millisecond, maxBackoff: 2 * time.Second, maxWait: 30 * time.Second, timeout: 30 * time.Second}
}

// client calls one Freshdesk account's API. Copies made by withLogger
// share the pacing: the rate limit is the account's.
type client struct {
	base  *url.URL
	http  *http.Client
	retry retryPolicy
	log   *slog.Logger
	pace  *pacer
}

// withLogger returns a copy of c that logs to log.
func (c *client) withLogger(log *slog.Logger) *client {
	cp := *c
	cp.log = log
	return &cp
}

// newClient returns a client of cfg's account. transport carries the
// requests (nil: a default with timeouts); window is the span Freshdesk's
// rate limit counts over.
func newClient(cfg Config, transport http.RoundTripper, retry retryPolicy, window time.Duration, log *slog.Logger) (*client, error) {
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
	// Freshdesk takes the API key as the Basic user, with any password.
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(cfg.APIKey+":X"))
	return &client{
		base:  base,
		http:  &http.Client{Transport: &authTransport{next: transport, base: base, authorization: auth}},
		retry: retry,
		log:   log,
		pace:  newPacer(window),
	}, nil
}

// authTransport adds the credentials to requests for the account's own
// scheme and host, and to no other: not to a redirect elsewhere, not to an
// attachment's storage URL.
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

// pacer spreads requests over Freshdesk's rate-limit window. Freshdesk
// tells the budget (X-RateLimit-Total) and what is left of it
// (X-RateLimit-Remaining) on every answer, but not when the window
// resets: so the pacer paces at the budget's own rate once it knows it,
// holds every request back when the budget is spent, and after a 429 waits
// as long as Retry-After says. A 429 still happens when other apps share
// the budget; the client then waits it out.
type pacer struct {
	window  time.Duration
	limiter *rate.Limiter

	mu    sync.Mutex
	total int
	until time.Time // no request leaves before this
}

func newPacer(window time.Duration) *pacer {
	if window <= 0 {
		window = time.Minute
	}
	return &pacer{window: window, limiter: rate.NewLimiter(rate.Inf, 1)}
}

// wait blocks until a request may leave.
func (p *pacer) wait(ctx context.Context) error {
	p.mu.Lock()
	d := time.Until(p.until)
	p.mu.Unlock()
	if d > 0 {
		if err := sleep(ctx, d); err != nil {
			return err
		}
	}
	return p.limiter.Wait(ctx)
}

// pause holds every request back for d.
func (p *pacer) pause(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if until := time.Now().Add(d); until.After(p.until) {
		p.until = until
	}
}

// observe learns the budget from an answer's headers.
func (p *pacer) observe(h http.Header) {
	total, err1 := strconv.Atoi(h.Get("X-RateLimit-Total"))
	remaining, err2 := strconv.Atoi(h.Get("X-RateLimit-Remaining"))
	if err1 != nil || err2 != nil || total <= 0 {
		return
	}
	p.mu.Lock()
	changed := total != p.total
	p.total = total
	p.mu.Unlock()
	if changed {
		// A tenth of the budget at once is enough for a few workers and
		// keeps the rest spread over the window.
		p.limiter.SetLimit(rate.Limit(float64(total) / p.window.Seconds()))
		p.limiter.SetBurst(max(1, total/10))
	}
	if remaining <= 0 {
		// Spent: a request now would only collect a 429. Wait a slice of
		// the window; the next answer says whether it has refilled.
		p.pause(p.window / 10)
	}
}

// apiError is an answer other than 2xx, after retries.
type apiError struct {
	method, path string
	status       int
	// message is Freshdesk's own explanation, when it gave one.
	message string
}

// Error says which request failed and how Freshdesk answered.
func (e *apiError) Error() string {
	msg := fmt.Sprintf("%s %s: Freshdesk answered %d %s", e.method, e.path, e.status, http.StatusText(e.status))
	if e.message != "" {
		msg += " (" + e.message + ")"
	}
	return msg
}

// newAPIError reads Freshdesk's error body, in whichever of its shapes:
// {"code", "message"}, {"description", "errors": [{"field", "message",
// "code"}]}, or none at all (a 404 has an empty body).
func newAPIError(method, path string, status int, body []byte) *apiError {
	e := &apiError{method: method, path: path, status: status}
	var v struct {
		Code        string `json:"code"`
		Message     string `json:"message"`
		Description string `json:"description"`
		Errors      []struct {
			Field   string `json:"field"`
			Message string `json:"message"`
			Code    string `json:"code"`
		} `json:"errors"`
	}
	if json.Unmarshal(body, &v) != nil {
		return e
	}
	var parts []string
	for _, p := range []string{v.Description, v.Message} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	for _, fe := range v.Errors {
		parts = append(parts, strings.TrimPrefix(fe.Field+": "+fe.Message, ": "))
	}
	if len(parts) == 0 {
		parts = append(parts, v.Code)
	}
	e.message = strings.Join(parts, "; ")
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

// get fetches path?query from the account and returns the body and
// headers of a 2xx answer. It waits out 429s as Retry-After says and
// retries 5xx answers, network errors and bodies cut short with backoff;
// any other answer is an *apiError.
func (c *client) get(ctx context.Context, path string, query url.Values) ([]byte, http.Header, error) {
	u := *c.base
	u.Path = path
	u.RawQuery = query.Encode()
	var failures, throttles int
	// fail counts a transient failure and waits before the next try, or
	// gives up with err once the attempts are spent.
	fail := func(err error, wait time.Duration) error {
		failures++
		if failures >= c.retry.attempts {
			return err
		}
		wait = max(wait, c.backoff(failures))
		c.log.Warn("freshdesk request failed; retrying", "path", path, "error", err, "attempt", failures, "wait", wait)
		return sleep(ctx, wait)
	}
	for {
		if err := c.pace.wait(ctx); err != nil {
			return nil, nil, err
		}
		status, header, body, err := c.attempt(ctx, u.String())
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return nil, nil, ctx.Err()
			}
			if err := fail(fmt.Errorf("GET %s: %w", path, err), 0); err != nil {
				return nil, nil, err
			}

		case status >= 200 && status < 300:
			return body, header, nil

		case status == http.StatusTooManyRequests:
			throttles++
			apiErr := newAPIError("GET", path, status, body)
			if throttles > c.retry.throttled {
				return nil, nil, fmt.Errorf("GET %s: still rate limited after %d waits: %w", path, throttles-1, apiErr)
			}
			wait, ok := retryAfter(header, time.Now())
			if !ok {
				wait = c.backoff(throttles)
			}
			if wait > c.retry.maxWait {
				return nil, nil, fmt.Errorf("GET %s: Freshdesk asks to wait %v, longer than %v: %w", path, wait, c.retry.maxWait, apiErr)
			}
			// A little jitter keeps the workers from coming back all at
			// the same instant.
			wait += time.Duration(rand.Int64N(int64(min(time.Second, wait/10)) + 1))
			c.pace.pause(wait)
			c.log.Info("freshdesk rate limit reached; waiting", "path", path, "wait", wait)

		case status >= 500:
			var wait time.Duration
			if ra, ok := retryAfter(header, time.Now()); ok && ra <= c.retry.maxWait {
				wait = ra
			}
			if err := fail(newAPIError("GET", path, status, body), wait); err != nil {
				return nil, nil, err
			}

		default:
			return nil, nil, newAPIError("GET", path, status, body)
		}
	}
}

// attempt sends one request and reads the whole answer within the
// policy's timeout. A body cut short is an error, like a failed
// connection.
func (c *client) attempt(ctx context.Context, u string) (status int, header http.Header, body []byte, err error) {
	ctx, cancel := context.WithTimeout(ctx, c.retry.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "ferry-source-freshdesk/"+Version)
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	c.pace.observe(resp.Header)
	body, err = io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return 0, nil, nil, fmt.Errorf("read the answer: %w", err)
	}
	if len(body) > maxBody {
		return 0, nil, nil, fmt.Errorf("the answer is larger than %d MiB", maxBody>>20)
	}
	return resp.StatusCode, resp.Header, body, nil
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
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
