package sandbox

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"time"
)

// Faults the sandbox injects, in Intercom's shapes: what a loader meets on
// a bad day, so that a test can show that a load still ends exact.
const (
	// Fault429 is a 429 rate_limit_exceeded with the X-RateLimit-* headers
	// (Remaining 0, Reset at the end of the window), the first of a burst.
	Fault429 = "429 burst with rate-limit headers"
	// Fault429NoHeaders is a 429 without any header to say how long to wait.
	Fault429NoHeaders = "429 without headers"
	Fault500          = "500"
	Fault502          = "502"
	Fault503          = "503"
	// FaultReset drops the connection before the request is acted on.
	FaultReset = "connection reset"
	// FaultLostAnswer acts on the request, then drops the connection
	// without an answer: the create happened and the client cannot know.
	FaultLostAnswer = "answer lost after the request was acted on"
)

// FaultKinds lists every kind of fault, in the order the sandbox picks from.
func FaultKinds() []string {
	return []string{Fault429, Fault429NoHeaders, Fault500, Fault502, Fault503, FaultReset, FaultLostAnswer}
}

// FaultOptions configure fault injection.
type FaultOptions struct {
	// Rate is the share of authenticated requests that meet a fault, 0 to 1.
	Rate float64
	// Seed makes the faults reproducible.
	Seed uint64
	// Kinds to inject; nil means all of FaultKinds().
	Kinds []string
	// Burst is how many requests in a row a Fault429 refuses (default 3),
	// as a busy workspace's window does.
	Burst int
}

// faulter picks the faults.
type faulter struct {
	opts     FaultOptions
	mu       sync.Mutex
	rng      *rand.Rand
	burst    int // 429s still to give in the current burst
	injected map[string]int
}

func newFaulter(opts FaultOptions) *faulter {
	if len(opts.Kinds) == 0 {
		opts.Kinds = FaultKinds()
	}
	if opts.Burst <= 0 {
		opts.Burst = 3
	}
	return &faulter{opts: opts, rng: rand.New(rand.NewPCG(opts.Seed, opts.Seed^0xfa17)), injected: map[string]int{}}
}

func (f *faulter) pick() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.burst > 0 {
		f.burst--
		f.injected[Fault429]++
		return Fault429
	}
	if f.rng.Float64() >= f.opts.Rate {
		return ""
	}
	k := f.opts.Kinds[f.rng.IntN(len(f.opts.Kinds))]
	if k == Fault429 {
		f.burst = f.opts.Burst - 1
	}
	f.injected[k]++
	return k
}

// FaultsInjected counts the faults injected so far, by kind.
func (s *Server) FaultsInjected() map[string]int {
	out := map[string]int{}
	if s.faults == nil {
		return out
	}
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	for k, v := range s.faults.injected {
		out[k] = v
	}
	return out
}

// injectFault answers r with a fault when one is picked, and reports
// whether it did. serve acts on the request (for a lost answer).
func (s *Server) injectFault(w http.ResponseWriter, r *http.Request, serve func(http.ResponseWriter, *http.Request)) bool {
	if s.faults == nil {
		return false
	}
	switch s.faults.pick() {
	case "":
		return false
	case Fault429:
		h := w.Header()
		limit := max(s.rateLimit, 1)
		h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
		h.Set("X-RateLimit-Remaining", "0")
		end := s.now().Truncate(s.window).Add(s.window)
		h.Set("X-RateLimit-Reset", strconv.FormatInt(end.Unix()+1, 10))
		writeError(w, &apiError{status: http.StatusTooManyRequests, code: "rate_limit_exceeded",
			message: fmt.Sprintf("Exceeded rate limit of %d in %s", limit, windowName(s.window))})
	case Fault429NoHeaders:
		writeError(w, &apiError{status: http.StatusTooManyRequests, code: "too_many_requests", message: "Too many requests"})
	case Fault500:
		writeError(w, &apiError{status: http.StatusInternalServerError, code: "server_error", message: "Server Error"})
	case Fault502:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		fmt.Fprint(w, "<html><body><h1>502 Bad Gateway</h1></body></html>")
	case Fault503:
		writeError(w, &apiError{status: http.StatusServiceUnavailable, code: "service_unavailable", message: "Service Unavailable"})
	case FaultReset:
		dropConnection(w)
	case FaultLostAnswer:
		serve(httptest.NewRecorder(), r)
		dropConnection(w)
	}
	return true
}

// dropConnection closes the connection without an answer, with an RST.
func dropConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		http.Error(w, "", http.StatusServiceUnavailable)
		return
	}
	if tc, ok := conn.(interface{ SetLinger(int) error }); ok {
		tc.SetLinger(0)
	}
	conn.Close()
}

// sleepFor waits d unless the request ends first; false if it ended.
func sleepFor(r *http.Request, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}
