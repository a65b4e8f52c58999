package intercom

import (
	"maps"
	"sync"
	"time"
)

// Stats counts what a Client has done since it was made.
type Stats struct {
	// Calls is every HTTP request sent, retries included.
	Calls int64
	// Retries is the number of calls that repeated an earlier failed attempt.
	Retries int64
	// RateLimited is the number of 429 responses received.
	RateLimited int64
	// Failed is the number of calls that ended in an error after their
	// retries: API errors, network errors and cancellations alike. Calls the
	// client refused to send (ErrInvalidRequest) are not counted.
	Failed int64
	// PacingWait is the total time calls spent waiting for the rate budget,
	// summed over goroutines (so it can exceed wall-clock time).
	PacingWait time.Duration
	// ByEndpoint breaks the counts down by "METHOD /path/{template}",
	// e.g. "POST /contacts/{contact_id}/companies".
	ByEndpoint map[string]EndpointStats
}

// EndpointStats is the part of [Stats] about one endpoint.
type EndpointStats struct {
	Calls       int64
	Retries     int64
	RateLimited int64
	Failed      int64
}

// statsRecorder is the mutable side of Stats, owned by one Client.
type statsRecorder struct {
	mu sync.Mutex
	s  Stats
}

func (r *statsRecorder) record(endpoint string, f func(*Stats, *EndpointStats)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.s.ByEndpoint == nil {
		r.s.ByEndpoint = make(map[string]EndpointStats)
	}
	e := r.s.ByEndpoint[endpoint]
	f(&r.s, &e)
	r.s.ByEndpoint[endpoint] = e
}

func (r *statsRecorder) call(endpoint string, retry bool) {
	r.record(endpoint, func(s *Stats, e *EndpointStats) {
		s.Calls++
		e.Calls++
		if retry {
			s.Retries++
			e.Retries++
		}
	})
}

func (r *statsRecorder) rateLimited(endpoint string) {
	r.record(endpoint, func(s *Stats, e *EndpointStats) {
		s.RateLimited++
		e.RateLimited++
	})
}

func (r *statsRecorder) failed(endpoint string) {
	r.record(endpoint, func(s *Stats, e *EndpointStats) {
		s.Failed++
		e.Failed++
	})
}

func (r *statsRecorder) waited(d time.Duration) {
	if d <= 0 {
		return
	}
	r.mu.Lock()
	r.s.PacingWait += d
	r.mu.Unlock()
}

func (r *statsRecorder) snapshot() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.s
	out.ByEndpoint = maps.Clone(r.s.ByEndpoint)
	if out.ByEndpoint == nil {
		out.ByEndpoint = map[string]EndpointStats{}
	}
	return out
}
