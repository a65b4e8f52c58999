package connector

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// pacer keeps a client's requests within the account's rate limits, so
// that a read waits a little where it would otherwise collect 429s and
// wait longer. Two limits apply to Zendesk's API:
//
//   - the account's budget per minute, shared by every app of the account
//     and told on every response (X-Rate-Limit and X-Rate-Limit-Remaining,
//     ratelimit-* with the seconds to the reset). The pacer spends what
//     the server says remains, counting its own requests in flight, and
//     once it is spent waits for the reset; it does not slow down before:
//     Zendesk counts per window, so an early burst costs nothing;
//   - the incremental exports' own limit, 10 requests a minute (30 with
//     High Volume), which responses do not report. A sliding window keeps
//     any window's span holding at most that many, and lets the first ones
//     go at once.
//
// Until the first response tells the budget, one request goes alone, so
// that workers starting together do not all learn the limit from a 429.
type pacer struct {
	// window is the span of Zendesk's rate-limit windows: a minute, unless
	// a test shortens it to match an emulator's.
	window      time.Duration
	incremental *slidingWindow

	mu        sync.Mutex
	known     bool // a response has told the budget
	limit     int
	remaining int       // the budget's requests left until reset, less ours in flight
	reset     time.Time // when the budget is whole again
	probing   bool
	probed    bool
	probeDone chan struct{} // closed once the first response, of any kind, has come
}

func newPacer(window time.Duration, incrementalPerMinute int) *pacer {
	return &pacer{window: window, incremental: newSlidingWindow(incrementalPerMinute, window), probeDone: make(chan struct{})}
}

// isIncremental reports whether path is an incremental export, which the
// exports' own limit applies to.
func isIncremental(path string) bool { return strings.HasPrefix(path, "/api/v2/incremental/") }

// wait blocks until a request to path may be sent. The caller calls done
// with the response's header and status (nil and 0 after a network
// error) once it has the answer.
func (p *pacer) wait(ctx context.Context, path string) (done func(h http.Header, status int), err error) {
	release := func() {}
	if isIncremental(path) {
		if release, err = p.incremental.acquire(ctx); err != nil {
			return nil, err
		}
	}
	for {
		d, gate := p.take(time.Now())
		switch {
		case gate != nil:
			select {
			case <-gate:
			case <-ctx.Done():
				release()
				return nil, ctx.Err()
			}
		case d > 0:
			if err := sleep(ctx, d); err != nil {
				release()
				return nil, err
			}
		default:
			return func(h http.Header, status int) {
				p.observe(h, status, time.Now())
				release()
			}, nil
		}
	}
}

// take claims a request from the budget. It returns (0, nil) when the
// request may go, a gate to wait on while the first request is out, or
// how long to wait for the budget to refill.
func (p *pacer) take(now time.Time) (time.Duration, <-chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.known {
		switch {
		case p.probed:
			return 0, nil // the server reports no budget: nothing to pace on
		case p.probing:
			return 0, p.probeDone
		default:
			p.probing = true
			return 0, nil
		}
	}
	if !now.Before(p.reset) {
		// The window is over: the budget is whole, as far as we know,
		// until a response from the new window says otherwise.
		p.remaining, p.reset = p.limit, now.Add(p.window)
	}
	if p.remaining > 0 {
		p.remaining--
		return 0, nil
	}
	// Wake a little after the reset, spread, so that waiters do not come
	// back as one burst.
	return p.reset.Sub(now) + jitter(min(p.window/20, 500*time.Millisecond)), nil
}

// observe learns the budget from a response's headers.
func (p *pacer) observe(h http.Header, status int, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.probed {
		p.probed, p.probing = true, false
		close(p.probeDone)
	}
	limit, remaining, resetIn, ok := budgetHeaders(h)
	if !ok {
		return
	}
	if resetIn < 0 {
		resetIn = p.window // Zendesk counts per minute
	}
	if status == http.StatusTooManyRequests {
		remaining = 0
	}
	reset := now.Add(resetIn)
	// The reset is told in whole seconds: estimates of one window differ
	// by less than a second.
	if !p.known || reset.After(p.reset.Add(time.Second)) {
		p.reset, p.remaining = reset, remaining
	} else {
		// The same window: our count already holds requests still in
		// flight, the server's holds other apps' requests. Keep the lower,
		// and the later reset.
		p.remaining = min(p.remaining, remaining)
		if reset.After(p.reset) {
			p.reset = reset
		}
	}
	p.limit, p.known = limit, true
}

// budgetHeaders reads the account's budget from a response: the limit and
// what remains (X-Rate-Limit*, or the ratelimit-* and rate-limit-* forms)
// and the time to its reset, or -1 when the response does not say.
func budgetHeaders(h http.Header) (limit, remaining int, resetIn time.Duration, ok bool) {
	if h == nil {
		return 0, 0, 0, false
	}
	first := func(names ...string) (int, bool) {
		for _, n := range names {
			if v, err := strconv.Atoi(strings.TrimSpace(h.Get(n))); err == nil && v >= 0 {
				return v, true
			}
		}
		return 0, false
	}
	limit, ok1 := first("X-Rate-Limit", "Ratelimit-Limit", "Rate-Limit")
	remaining, ok2 := first("X-Rate-Limit-Remaining", "Ratelimit-Remaining", "Rate-Limit-Remaining")
	if !ok1 || !ok2 || limit <= 0 {
		return 0, 0, 0, false
	}
	resetIn = -1
	if secs, ok := first("Ratelimit-Reset", "Rate-Limit-Reset"); ok {
		resetIn = time.Duration(secs) * time.Second
	}
	return limit, min(remaining, limit), resetIn, true
}

// slidingWindow lets at most n requests be under way or finished within
// any span: the limit holds whatever window the server counts in, fixed or
// sliding. A request's time is when its answer came, which is after the
// server counted it, so the next one cannot reach the server inside a
// window that already holds n.
type slidingWindow struct {
	n    int
	span time.Duration

	mu       sync.Mutex
	finished []time.Time // answers of the last requests, oldest first
	inFlight int
	freed    chan struct{} // closed, and replaced, when a request finishes
}

func newSlidingWindow(n int, span time.Duration) *slidingWindow {
	return &slidingWindow{n: max(n, 1), span: span, freed: make(chan struct{})}
}

// acquire waits for a place and returns the function that gives it back
// once the request has its answer.
func (w *slidingWindow) acquire(ctx context.Context) (func(), error) {
	for {
		w.mu.Lock()
		now := time.Now()
		i := 0
		for i < len(w.finished) && !w.finished[i].After(now.Add(-w.span)) {
			i++
		}
		w.finished = w.finished[i:]
		if len(w.finished)+w.inFlight < w.n {
			w.inFlight++
			w.mu.Unlock()
			var once sync.Once
			return func() { once.Do(w.release) }, nil
		}
		var timer *time.Timer
		var expire <-chan time.Time
		if len(w.finished) > 0 {
			// The oldest answer leaves the window then; until then only a
			// request in flight finishing can change anything.
			timer = time.NewTimer(w.finished[0].Add(w.span).Sub(now))
			expire = timer.C
		}
		freed := w.freed
		w.mu.Unlock()
		select {
		case <-ctx.Done():
		case <-expire:
		case <-freed:
		}
		if timer != nil {
			timer.Stop()
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
}

func (w *slidingWindow) release() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.inFlight--
	w.finished = append(w.finished, time.Now())
	close(w.freed)
	w.freed = make(chan struct{})
}

// jitter returns a random duration in [0, d).
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return rand.N(d)
}
