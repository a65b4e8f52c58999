package intercom

import (
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferryhq/ferry/host/intercom/sandbox"
)

// TestPacingKeepsRateLimitsRare runs many workers against a sandbox with a
// small budget and checks the client spreads its calls instead of running
// into 429s.
func TestPacingKeepsRateLimitsRare(t *testing.T) {
	if testing.Short() {
		t.Skip("takes a few seconds")
	}
	const (
		limit   = 30
		window  = time.Second
		workers = 12
		calls   = 120
	)
	e := newEnv(t, envConfig{
		sandbox: sandbox.Options{RateLimit: limit, Window: window},
		client:  Options{Window: window},
	})
	var (
		wg   sync.WaitGroup
		next atomic.Int64
	)
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for next.Add(1) <= calls {
				if _, err := e.c.ListTags(t.Context()); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)

	st := e.c.Stats()
	served := e.sb.Stats()
	t.Logf("%d calls in %v: %d 429s, %d retries, pacing wait %v (summed over workers)",
		st.Calls, elapsed, st.RateLimited, st.Retries, st.PacingWait)
	// The budget allows limit calls per window; a few 429s can come from a
	// call that leaves in one window and lands in the next.
	if st.RateLimited > 3 {
		t.Errorf("%d 429s for %d calls: pacing is not working", st.RateLimited, calls)
	}
	if served.ByStatus[http.StatusTooManyRequests] != st.RateLimited {
		t.Errorf("the sandbox sent %d 429s, the client counted %d", served.ByStatus[429], st.RateLimited)
	}
	// 120 calls at 30 per second cannot take much less than 3 windows.
	if min := time.Duration(calls/limit-1) * window; elapsed < min {
		t.Errorf("took %v, want at least %v: the client outran the budget", elapsed, min)
	}
}

// TestCeilingCapsCalls checks the optional ceiling paces a server that sends
// no rate-limit headers.
func TestCeilingCapsCalls(t *testing.T) {
	e := newEnv(t, envConfig{client: Options{Ceiling: 10, Window: 500 * time.Millisecond}})
	start := time.Now()
	for range 11 {
		if _, err := e.c.ListTags(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	// 10 per 500 ms with a burst of 1: the 11th call leaves ~500 ms after the first.
	if d := time.Since(start); d < 400*time.Millisecond {
		t.Errorf("11 calls took %v under a ceiling of 10 per 500ms", d)
	}
}

// TestProbeBeforeBudgetIsKnown checks that concurrent first calls wait for
// the first response instead of all going out blind.
func TestProbeBeforeBudgetIsKnown(t *testing.T) {
	const latency = 100 * time.Millisecond
	var (
		mu       sync.Mutex
		arrivals []time.Time
	)
	e := newEnv(t, envConfig{
		sandbox: sandbox.Options{RateLimit: 1000, Latency: latency},
		wrap: func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				arrivals = append(arrivals, time.Now())
				mu.Unlock()
				next.ServeHTTP(w, r)
			})
		},
	})
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 10 {
		wg.Go(func() {
			<-start
			if _, err := e.c.ListTags(t.Context()); err != nil {
				t.Error(err)
			}
		})
	}
	close(start)
	wg.Wait()
	// The first answer cannot leave the sandbox before its latency has
	// passed, so any other call arriving earlier went out blind.
	early := 0
	for _, at := range arrivals[1:] {
		if at.Sub(arrivals[0]) < latency*8/10 {
			early++
		}
	}
	if len(arrivals) != 10 || early != 0 {
		t.Errorf("%d calls, %d of them sent before the first answer; want 10 and 0", len(arrivals), early)
	}
}

func TestPacerObserve(t *testing.T) {
	now := time.Now()
	reset := now.Add(5 * time.Second).Truncate(time.Second)
	hdr := func(limit, remaining int, reset time.Time) http.Header {
		return http.Header{
			"X-Ratelimit-Limit":     {strconv.Itoa(limit)},
			"X-Ratelimit-Remaining": {strconv.Itoa(remaining)},
			"X-Ratelimit-Reset":     {strconv.FormatInt(reset.Unix(), 10)},
		}
	}
	tests := []struct {
		name          string
		steps         func(p *pacer)
		wantRemaining int
		wantReset     time.Time
	}{
		{"first response sets the budget", func(p *pacer) { p.observe(hdr(100, 42, reset), 200) }, 42, reset},
		{"same window keeps the lower count", func(p *pacer) {
			p.observe(hdr(100, 42, reset), 200)
			p.observe(hdr(100, 50, reset), 200)
		}, 42, reset},
		{"a later window replaces it", func(p *pacer) {
			p.observe(hdr(100, 2, reset), 200)
			p.observe(hdr(100, 99, reset.Add(10*time.Second)), 200)
		}, 99, reset.Add(10 * time.Second)},
		{"a stale window is ignored", func(p *pacer) {
			p.observe(hdr(100, 5, reset), 200)
			p.observe(hdr(100, 90, reset.Add(-10*time.Second)), 200)
		}, 5, reset},
		{"a 429 empties the window", func(p *pacer) { p.observe(hdr(100, 3, reset), 429) }, 0, reset},
		{"missing headers change nothing", func(p *pacer) {
			p.observe(hdr(100, 7, reset), 200)
			p.observe(nil, 0)
			p.observe(http.Header{"X-Ratelimit-Limit": {"x"}}, 200)
		}, 7, reset},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPacer(10*time.Second, 0)
			tt.steps(p)
			if p.remaining != tt.wantRemaining || !p.reset.Equal(tt.wantReset) {
				t.Errorf("remaining %d reset %v, want %d %v", p.remaining, p.reset, tt.wantRemaining, tt.wantReset)
			}
		})
	}
}

func TestPacerTake(t *testing.T) {
	p := newPacer(10*time.Second, 0)
	now := time.Now()
	reset := now.Add(3 * time.Second)
	p.observe(http.Header{
		"X-Ratelimit-Limit":     {"2"},
		"X-Ratelimit-Remaining": {"1"},
		"X-Ratelimit-Reset":     {strconv.FormatInt(reset.Unix(), 10)},
	}, 200)
	if d, gate := p.take(now); d != 0 || gate != nil {
		t.Fatalf("first take waited %v", d)
	}
	d, _ := p.take(now)
	if d <= 0 || d > 4*time.Second {
		t.Fatalf("empty window: wait %v, want until the reset", d)
	}
	// After the reset the next window is assumed whole.
	later := time.Unix(reset.Unix(), 0).Add(time.Millisecond)
	for i := range 2 {
		if d, _ := p.take(later); d != 0 {
			t.Fatalf("take %d in the new window waited %v", i, d)
		}
	}
	if d, _ := p.take(later); d <= 0 {
		t.Fatalf("third take in a window of 2 did not wait")
	}
}
