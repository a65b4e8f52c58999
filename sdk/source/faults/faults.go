// Package faults makes an HTTP server flaky on purpose: it answers a share
// of requests with the faults real APIs and networks produce (429s with and
// without Retry-After, 500/502/503, connection resets, truncated bodies,
// stalls), so that connectors, emulators and ferry sandbox can show that a
// read still completes exactly.
package faults

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Fault kinds Wrap injects.
const (
	Fault429           = "429 with Retry-After"
	Fault429NoHeader   = "429 without Retry-After"
	Fault500           = "500"
	Fault502           = "502"
	Fault503           = "503"
	FaultReset         = "connection reset"
	FaultTruncated     = "truncated body"
	FaultStall         = "stall"
	defaultStall       = 5 * time.Second
	defaultRetryAfter  = 1
	truncatedBodyBytes = 64
)

// Kinds lists every kind of fault, in the order Wrap picks from.
func Kinds() []string {
	return []string{Fault429, Fault429NoHeader, Fault500, Fault502, Fault503, FaultReset, FaultTruncated, FaultStall}
}

// Options configure Wrap.
type Options struct {
	// Rate is the share of requests that meet a fault, 0 to 1.
	Rate float64
	// Seed makes the faults reproducible.
	Seed uint64
	// Kinds to inject; nil means all of Kinds().
	Kinds []string
	// Stall is how long a stalled request waits before it is answered
	// normally (default 5 s).
	Stall time.Duration
	// RetryAfter is the seconds a 429 asks to wait (default 1).
	RetryAfter int
}

// Injector is an http.Handler that answers a share of requests with a
// fault, as a flaky API and network would, and passes the rest to the
// source's emulator.
type Injector struct {
	next http.Handler
	opts Options

	mu       sync.Mutex
	rng      *rand.Rand
	injected map[string]int
	served   atomic.Int64
}

// Wrap wraps a server's handler with fault injection.
func Wrap(next http.Handler, opts Options) *Injector {
	if len(opts.Kinds) == 0 {
		opts.Kinds = Kinds()
	}
	if opts.Stall == 0 {
		opts.Stall = defaultStall
	}
	if opts.RetryAfter == 0 {
		opts.RetryAfter = defaultRetryAfter
	}
	return &Injector{next: next, opts: opts, rng: rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x5eed)), injected: map[string]int{}}
}

// Injected counts the faults injected so far, by kind.
func (f *Injector) Injected() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]int, len(f.injected))
	for k, v := range f.injected {
		out[k] = v
	}
	return out
}

// Served counts the requests passed to the emulator (stalled ones included).
func (f *Injector) Served() int64 { return f.served.Load() }

func (f *Injector) pick() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.rng.Float64() >= f.opts.Rate {
		return ""
	}
	k := f.opts.Kinds[f.rng.IntN(len(f.opts.Kinds))]
	f.injected[k]++
	return k
}

func (f *Injector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch f.pick() {
	case Fault429:
		w.Header().Set("Retry-After", strconv.Itoa(f.opts.RetryAfter))
		http.Error(w, `{"error":"rate limited"}`, http.StatusTooManyRequests)
	case Fault429NoHeader:
		http.Error(w, `{"error":"rate limited"}`, http.StatusTooManyRequests)
	case Fault500:
		http.Error(w, `{"error":"internal"}`, http.StatusInternalServerError)
	case Fault502:
		http.Error(w, "<html>bad gateway</html>", http.StatusBadGateway)
	case Fault503:
		http.Error(w, `{"error":"unavailable"}`, http.StatusServiceUnavailable)
	case FaultReset:
		reset(w)
	case FaultTruncated:
		f.truncated(w, r)
	case FaultStall:
		select {
		case <-time.After(f.opts.Stall):
		case <-r.Context().Done():
			return
		}
		f.served.Add(1)
		f.next.ServeHTTP(w, r)
	default:
		f.served.Add(1)
		f.next.ServeHTTP(w, r)
	}
}

// reset closes the connection without an answer.
func reset(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		http.Error(w, "", http.StatusServiceUnavailable)
		return
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(interface{ SetLinger(int) error }); ok {
		tc.SetLinger(0) // an RST, not a polite FIN
	}
	conn.Close()
}

// truncated answers with the emulator's headers and status, including its
// Content-Length, and the first bytes of its body, then drops the
// connection: a response cut off in transit.
func (f *Injector) truncated(w http.ResponseWriter, r *http.Request) {
	rec := &recorder{header: http.Header{}, status: http.StatusOK}
	f.next.ServeHTTP(rec, r)
	body := rec.body
	if len(body) > truncatedBodyBytes {
		body = body[:truncatedBodyBytes]
	} else if len(body) > 1 {
		body = body[:len(body)/2]
	}
	for k, v := range rec.header {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(rec.body)))
	w.WriteHeader(rec.status)
	w.Write(body)
	if fl, ok := w.(http.Flusher); ok {
		fl.Flush()
	}
	reset(w)
}

type recorder struct {
	header http.Header
	status int
	body   []byte
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) WriteHeader(status int)      { r.status = status }
func (r *recorder) Write(p []byte) (int, error) { r.body = append(r.body, p...); return len(p), nil }
