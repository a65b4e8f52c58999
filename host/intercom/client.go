package intercom

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// APIVersion is the Intercom-Version header value every call sends.
const APIVersion = "2.16"

// DefaultMaxRetries is how many times a call is repeated when Options.MaxRetries is 0.
const DefaultMaxRetries = 8

// DefaultWindow is the length of Intercom's rate-limit window.
const DefaultWindow = 10 * time.Second

// ErrInvalidRequest marks a call the client refused to send because its
// arguments could not make a valid request (an empty id, a reply naming two
// contacts). Test with errors.Is.
var ErrInvalidRequest = errors.New("intercom: invalid request")

// Options configure a [Client].
type Options struct {
	// BaseURL is the API root, e.g. "http://127.0.0.1:1234" for a sandbox.
	// It wins over Region.
	BaseURL string
	// Region picks Intercom's regional host: "us" (the default), "eu" or "au".
	Region string
	// Token is the bearer token (a private-app access token or an OAuth
	// token). It is sent on every call and never logged.
	Token string
	// HTTPClient sends the requests; nil means a client with a 2-minute
	// overall timeout per attempt and a keep-alive pool sized for concurrency.
	HTTPClient *http.Client
	// MaxRetries is how many times a failed call is repeated: 0 means
	// DefaultMaxRetries, a negative value turns retries off.
	MaxRetries int
	// Ceiling caps the calls per rate-limit window below what the server
	// allows, e.g. to leave room for other integrations of the workspace.
	// 0 means only the server's X-RateLimit-* headers apply.
	Ceiling int
	// Window is the length of the server's rate-limit window; 0 means
	// DefaultWindow (Intercom's 10 s). Only a server with other windows,
	// such as a test sandbox, needs it.
	Window time.Duration
	// Logger receives retries (Warn) and every call (Debug); nil discards.
	Logger *slog.Logger
}

// Client calls Intercom's REST API. It is safe for concurrent use by many
// goroutines, which share its rate budget and its counters.
type Client struct {
	base       string // scheme://host[/prefix], no trailing slash
	token      string
	hc         *http.Client
	maxRetries int
	window     time.Duration
	// backoffBase and backoffMax bound the full-jitter backoff; tests shorten them.
	backoffBase, backoffMax time.Duration
	logger                  *slog.Logger
	pacer                   *pacer
	stats                   statsRecorder
}

// New returns a Client for the given options. It fails when the token is
// missing, the region is unknown or the base URL is not an http(s) URL.
func New(opts Options) (*Client, error) {
	if strings.TrimSpace(opts.Token) == "" {
		return nil, errors.New("intercom: no token: Options.Token is empty")
	}
	base := opts.BaseURL
	if base == "" {
		var err error
		if base, err = regionURL(opts.Region); err != nil {
			return nil, err
		}
	}
	u, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("intercom: base URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("intercom: base URL %q: want http(s)://host[:port]", u.Redacted())
	}
	u.RawQuery, u.Fragment = "", ""
	c := &Client{
		base:        strings.TrimRight(u.String(), "/"),
		token:       opts.Token,
		hc:          opts.HTTPClient,
		maxRetries:  opts.MaxRetries,
		window:      opts.Window,
		backoffBase: 500 * time.Millisecond,
		backoffMax:  30 * time.Second,
		logger:      opts.Logger,
	}
	switch {
	case c.maxRetries == 0:
		c.maxRetries = DefaultMaxRetries
	case c.maxRetries < 0:
		c.maxRetries = 0
	}
	if c.window <= 0 {
		c.window = DefaultWindow
	}
	if c.hc == nil {
		c.hc = defaultHTTPClient()
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	c.pacer = newPacer(c.window, max(0, opts.Ceiling))
	return c, nil
}

// regionURL maps a region name to Intercom's regional API host.
func regionURL(region string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(region)) {
	case "", "us":
		return "https://api.intercom.io", nil
	case "eu":
		return "https://api.eu.intercom.io", nil
	case "au":
		return "https://api.au.intercom.io", nil
	default:
		return "", fmt.Errorf("intercom: unknown region %q (want us, eu or au)", region)
	}
}

func defaultHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	// The default keeps 2 idle connections per host; a loader runs many
	// workers against one host and would otherwise reconnect constantly.
	t.MaxIdleConnsPerHost = 64
	t.ResponseHeaderTimeout = 90 * time.Second
	return &http.Client{Transport: t, Timeout: 2 * time.Minute}
}

// BaseURL returns the API root the client calls.
func (c *Client) BaseURL() string { return c.base }

// RateLimit returns the calls per window (Window, 10 s at Intercom) the
// client may make: the server's X-RateLimit-Limit as last seen, or the
// ceiling if lower; 0 when neither is known yet.
func (c *Client) RateLimit() (calls int, window time.Duration) { return c.pacer.budget(), c.window }

// Stats returns a copy of the client's counters.
func (c *Client) Stats() Stats { return c.stats.snapshot() }

// request describes one API call. template is the spec's path with
// {placeholders}, filled from params in order; it also names the endpoint in
// Stats and logs, so ids never end up in metric keys.
type request struct {
	method   string
	template string
	params   []string
	query    url.Values
	body     any
	// create marks a call that makes something anew each time it is
	// applied (a conversation, a part): it is repeated only when it surely
	// was not applied; otherwise do returns ErrOutcomeUnknown.
	create bool
}

// ErrOutcomeUnknown marks a create whose answer was lost (a reset
// connection, a 5xx, a body cut off): Intercom may or may not have made the
// object. The caller must find out (read it back) before sending it again;
// a blind retry could make it twice. Test with errors.Is.
var ErrOutcomeUnknown = errors.New("intercom: the create may or may not have been applied (its answer was lost)")

// do sends r, retrying and pacing as needed, and decodes a 2xx body into out
// (when out is not nil). A non-2xx answer comes back as *Error.
func (c *Client) do(ctx context.Context, r request, out any) error {
	endpoint := r.method + " " + r.template
	path, err := expandPath(r.template, r.params)
	if err != nil {
		return err
	}
	var body []byte
	if r.body != nil {
		if body, err = json.Marshal(r.body); err != nil {
			return fmt.Errorf("%s %s: encode body: %w", r.method, path, err)
		}
	}
	target := c.base + path
	if len(r.query) > 0 {
		target += "?" + r.query.Encode()
	}
	for attempt := 0; ; attempt++ {
		waited, err := c.pacer.wait(ctx)
		c.stats.waited(waited)
		if err != nil {
			c.stats.failed(endpoint)
			return fmt.Errorf("%s %s: wait for rate budget: %w", r.method, path, err)
		}
		c.stats.call(endpoint, attempt > 0)
		retry, wait, err := c.attempt(ctx, attempt, r.method, target, path, endpoint, body, out)
		if err == nil {
			return nil
		}
		if r.create && maybeApplied(err) {
			c.stats.failed(endpoint)
			return fmt.Errorf("%w: %w", ErrOutcomeUnknown, err)
		}
		if !retry || attempt >= c.maxRetries || ctx.Err() != nil {
			c.stats.failed(endpoint)
			if attempt > 0 {
				return fmt.Errorf("%w (after %d attempts)", err, attempt+1)
			}
			return err
		}
		c.logger.LogAttrs(ctx, slog.LevelWarn, "intercom call failed, retrying",
			slog.String("endpoint", endpoint), slog.Int("attempt", attempt+1),
			slog.Duration("wait", wait), slog.String("error", err.Error()))
		if serr := sleep(ctx, wait); serr != nil {
			c.stats.failed(endpoint)
			return fmt.Errorf("%s %s: %w while waiting to retry (last error: %v)", r.method, path, serr, err)
		}
	}
}

// attempt sends one request. It reports whether a failure is worth retrying
// and how long to wait first.
func (c *Client) attempt(ctx context.Context, n int, method, target, path, endpoint string, body []byte, out any) (retry bool, wait time.Duration, err error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		c.pacer.observe(nil, 0)
		return false, 0, fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Intercom-Version", APIVersion)
	req.Header.Set("User-Agent", "ferry-intercom/1")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	start := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		c.pacer.observe(nil, 0)
		if ctx.Err() != nil {
			return false, 0, fmt.Errorf("%s %s: %w", method, path, ctx.Err())
		}
		return retryableNetError(err), c.backoff(n), fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	c.pacer.observe(resp.Header, resp.StatusCode)
	c.logger.LogAttrs(ctx, slog.LevelDebug, "intercom call",
		slog.String("endpoint", endpoint), slog.Int("status", resp.StatusCode),
		slog.Duration("took", time.Since(start)))

	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if out == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			return false, 0, nil
		}
		var err error
		if rd, ok := out.(rawDecoder); ok {
			var raw []byte
			if raw, err = io.ReadAll(resp.Body); err == nil {
				err = rd.decodeRaw(raw)
			}
		} else if err = json.NewDecoder(resp.Body).Decode(out); err == nil {
			// Read to the end (the newline after the value), or the
			// transport closes the connection rather than reuse it.
			_, _ = io.Copy(io.Discard, resp.Body)
		}
		if err != nil {
			// A body cut off in transit is worth reading again, but only
			// for a GET: a POST that answered 2xx has already happened.
			if errors.Is(err, io.ErrUnexpectedEOF) && method == http.MethodGet && ctx.Err() == nil {
				return true, c.backoff(n), fmt.Errorf("%s %s: read response: %w", method, path, err)
			}
			return false, 0, fmt.Errorf("%s %s: decode response: %w", method, path, err)
		}
		return false, 0, nil
	}

	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	apiErr := parseError(resp.StatusCode, resp.Header, raw)
	apiErr.Method, apiErr.Path = method, path
	switch resp.StatusCode {
	case http.StatusTooManyRequests:
		c.stats.rateLimited(endpoint)
		return true, c.rateLimitWait(resp.Header, n), apiErr
	case http.StatusRequestTimeout, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		if d, ok := retryAfter(resp.Header); ok {
			return true, min(d, maxRateLimitWait), apiErr
		}
		return true, c.backoff(n), apiErr
	}
	return false, 0, apiErr
}

// maybeApplied reports whether a failed call may have been applied by
// Intercom: anything but a refusal with a 4xx status (429 included: it is
// refused before anything happens) or a connection that never opened.
func maybeApplied(err error) bool {
	var ae *Error
	if errors.As(err, &ae) {
		return ae.StatusCode >= 500
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return false
	}
	return !errors.Is(err, ErrInvalidRequest) && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

// backoff returns a full-jitter exponential delay for the given attempt:
// uniform in [0, min(max, base·2^attempt)).
func (c *Client) backoff(attempt int) time.Duration {
	ceil := c.backoffMax
	if attempt < 30 {
		ceil = min(c.backoffMax, c.backoffBase<<attempt)
	}
	if ceil <= 0 {
		return 0
	}
	return rand.N(ceil)
}

// rawDecoder is an answer that decodes itself from the whole body, faster
// than encoding/json would.
type rawDecoder interface {
	decodeRaw(body []byte) error
}

// maxRateLimitWait bounds the wait a 429 (or a Retry-After) can impose;
// Intercom's windows are 10 s, so a reset further away is a clock problem,
// not a budget.
const maxRateLimitWait = 2 * time.Minute

// rateLimitWait is how long to wait after a 429: until X-RateLimit-Reset
// (or Retry-After), plus a little jitter so waiters do not return together.
func (c *Client) rateLimitWait(h http.Header, n int) time.Duration {
	spread := jitter(min(c.window/10, time.Second))
	if d, ok := retryAfter(h); ok {
		return min(d, maxRateLimitWait) + spread
	}
	if _, _, reset, ok := rateHeaders(h); ok {
		if d := time.Until(reset); d > 0 {
			return min(d, maxRateLimitWait) + spread
		}
		// The reset is already past (clock skew or a window that just
		// turned): a short pause is enough.
		return spread
	}
	return c.backoff(n) + spread
}

// retryAfter parses a Retry-After header given in seconds.
func retryAfter(h http.Header) (time.Duration, bool) {
	v := h.Get("Retry-After")
	if v == "" {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 0 {
		return 0, false
	}
	return time.Duration(n) * time.Second, true
}

// retryableNetError reports whether a transport error may succeed on a new
// attempt. Connection refused or reset, timeouts and early closes may; a
// certificate that does not verify, a redirect loop or a bad scheme will not.
func retryableNetError(err error) bool {
	if errors.Is(err, context.Canceled) {
		return false
	}
	var (
		certErr     *tls.CertificateVerificationError
		hostErr     x509.HostnameError
		authErr     x509.UnknownAuthorityError
		invalidCert x509.CertificateInvalidError
	)
	if errors.As(err, &certErr) || errors.As(err, &hostErr) || errors.As(err, &authErr) || errors.As(err, &invalidCert) {
		return false
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		msg := ue.Err.Error()
		if strings.Contains(msg, "unsupported protocol scheme") || strings.Contains(msg, "stopped after") {
			return false
		}
	}
	return true
}

// expandPath fills the {placeholders} of template with params, escaped.
func expandPath(template string, params []string) (string, error) {
	var b strings.Builder
	rest, i := template, 0
	for {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			b.WriteString(rest)
			break
		}
		end := strings.IndexByte(rest[open:], '}')
		if end < 0 {
			return "", fmt.Errorf("%w: bad path template %q", ErrInvalidRequest, template)
		}
		name := rest[open+1 : open+end]
		if i >= len(params) {
			return "", fmt.Errorf("%w: %s: no value for {%s}", ErrInvalidRequest, template, name)
		}
		if strings.TrimSpace(params[i]) == "" {
			return "", fmt.Errorf("%w: %s: empty %s", ErrInvalidRequest, template, name)
		}
		b.WriteString(rest[:open])
		b.WriteString(url.PathEscape(params[i]))
		rest = rest[open+end+1:]
		i++
	}
	if i != len(params) {
		return "", fmt.Errorf("%w: %s: %d values for %d placeholders", ErrInvalidRequest, template, len(params), i)
	}
	return b.String(), nil
}
