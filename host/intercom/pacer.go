package intercom

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// pacer decides when the next call may leave. Intercom grants a budget per
// fixed window (10 s) and reports it on every authenticated response as
// X-RateLimit-Limit / -Remaining / -Reset. The pacer combines two things:
//
//   - a token bucket at Limit per window (capped by the caller's ceiling),
//     so calls are spread over the window instead of bursting at its start;
//   - a count of what is left in the current window (the server's Remaining,
//     less what we sent since), so that a budget shared with other apps of
//     the workspace still stops us before the server does.
//
// Until the first response tells the budget, one call goes alone (a probe):
// fifty goroutines starting together must not all learn the limit from a 429.
type pacer struct {
	window  time.Duration
	ceiling int
	limiter *rate.Limiter

	mu        sync.Mutex
	known     bool // a response has told us the budget
	limit     int
	remaining int       // our estimate of the calls left in the window ending at reset
	reset     time.Time // end of the window the estimate is about
	probing   bool
	probeDone chan struct{} // closed when the first response (of any kind) has arrived
	probed    bool
}

func newPacer(window time.Duration, ceiling int) *pacer {
	p := &pacer{window: window, ceiling: ceiling, probeDone: make(chan struct{})}
	if ceiling > 0 {
		p.limiter = rate.NewLimiter(perWindow(ceiling, window), burstFor(ceiling))
	} else {
		p.limiter = rate.NewLimiter(rate.Inf, 1)
	}
	return p
}

func perWindow(n int, window time.Duration) rate.Limit {
	return rate.Limit(float64(n) / window.Seconds())
}

// burstFor allows a tenth of the window's budget at once: enough for a few
// concurrent workers, small enough that calls stay spread over the window.
func burstFor(n int) int { return max(1, n/10) }

// wait blocks until a call may be sent and returns how long it waited.
func (p *pacer) wait(ctx context.Context) (time.Duration, error) {
	start := time.Now()
	for {
		if err := p.limiter.Wait(ctx); err != nil {
			return time.Since(start), err
		}
		d, gate := p.take(time.Now())
		switch {
		case gate != nil:
			select {
			case <-gate:
			case <-ctx.Done():
				return time.Since(start), ctx.Err()
			}
		case d > 0:
			if err := sleep(ctx, d); err != nil {
				return time.Since(start), err
			}
		default:
			return time.Since(start), nil
		}
	}
}

// take claims one call from the window's budget. It returns (0, nil) when the
// call may go, a gate to wait on while the probe is out, or how long to wait
// for the window to refill.
func (p *pacer) take(now time.Time) (time.Duration, <-chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.known {
		switch {
		case p.probed:
			// The server sends no rate-limit headers: only the ceiling applies.
			return 0, nil
		case p.probing:
			return 0, p.probeDone
		default:
			p.probing = true
			return 0, nil
		}
	}
	if !now.Before(p.reset) {
		// The window we know about is over. Assume the next one is whole and
		// aligned; the first response from it corrects the estimate.
		n := now.Sub(p.reset)/p.window + 1
		p.reset = p.reset.Add(n * p.window)
		p.remaining = p.limit
	}
	if p.remaining > 0 {
		p.remaining--
		return 0, nil
	}
	// Wake a little after the refill, spread, so waiters do not arrive as one burst.
	return p.reset.Sub(now) + jitter(min(p.window/20, 500*time.Millisecond)), nil
}

// observe learns the budget from a response's headers. It is called after
// every attempt, headers or not (h may be nil after a network error).
func (p *pacer) observe(h http.Header, status int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.probed {
		p.probed = true
		p.probing = false
		close(p.probeDone)
	}
	limit, remaining, reset, ok := rateHeaders(h)
	if !ok {
		return
	}
	if status == http.StatusTooManyRequests {
		remaining = 0
	}
	switch {
	case !p.known || reset.After(p.reset):
		// A window we had not heard from yet: the server's count is the truth.
		p.reset, p.remaining = reset, remaining
	case reset.Equal(p.reset):
		// Same window. Our estimate already counts calls still in flight,
		// the server's counts other clients of the budget: keep the lower.
		p.remaining = min(p.remaining, remaining)
	}
	// An older reset is a slow response from a past window: nothing to learn.
	if !p.known || limit != p.limit {
		p.limit = limit
		eff := limit
		if p.ceiling > 0 && p.ceiling < eff {
			eff = p.ceiling
		}
		p.limiter.SetLimit(perWindow(eff, p.window))
		p.limiter.SetBurst(burstFor(eff))
	}
	p.known = true
}

// rateHeaders parses X-RateLimit-Limit, -Remaining and -Reset (unix seconds).
func rateHeaders(h http.Header) (limit, remaining int, reset time.Time, ok bool) {
	if h == nil {
		return 0, 0, time.Time{}, false
	}
	l, err1 := strconv.Atoi(h.Get("X-RateLimit-Limit"))
	r, err2 := strconv.Atoi(h.Get("X-RateLimit-Remaining"))
	t, err3 := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || l <= 0 || r < 0 || t <= 0 {
		return 0, 0, time.Time{}, false
	}
	return l, r, time.Unix(t, 0), true
}

// jitter returns a random duration in [0, d).
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return rand.N(d)
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// budget returns the calls per window the server last said it allows (and
// the ceiling, if lower); 0 before any response with the headers.
func (p *pacer) budget() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	if p.known {
		n = p.limit
	}
	if p.ceiling > 0 && (n == 0 || p.ceiling < n) {
		n = p.ceiling
	}
	return n
}
