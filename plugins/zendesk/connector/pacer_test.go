package connector

import (
	"context"
	"net/http"
	"testing"
	"time"
)

func TestBudgetHeaders(t *testing.T) {
	h := func(kv ...string) http.Header {
		out := http.Header{}
		for i := 0; i+1 < len(kv); i += 2 {
			out.Set(kv[i], kv[i+1])
		}
		return out
	}
	tests := []struct {
		name             string
		h                http.Header
		limit, remaining int
		resetIn          time.Duration
		ok               bool
	}{
		{"Zendesk's recorded headers", h("X-Rate-Limit", "700", "X-Rate-Limit-Remaining", "671", "Rate-Limit-Reset", "53"), 700, 671, 53 * time.Second, true},
		{"ratelimit-* alone", h("Ratelimit-Limit", "400", "Ratelimit-Remaining", "0", "Ratelimit-Reset", "7"), 400, 0, 7 * time.Second, true},
		{"no reset", h("X-Rate-Limit", "700", "X-Rate-Limit-Remaining", "5"), 700, 5, -1, true},
		{"remaining over the limit", h("X-Rate-Limit", "10", "X-Rate-Limit-Remaining", "99"), 10, 10, -1, true},
		{"no limit", h("X-Rate-Limit-Remaining", "5"), 0, 0, 0, false},
		{"garbage", h("X-Rate-Limit", "lots", "X-Rate-Limit-Remaining", "5"), 0, 0, 0, false},
		{"a zero limit", h("X-Rate-Limit", "0", "X-Rate-Limit-Remaining", "0"), 0, 0, 0, false},
		{"none", nil, 0, 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			limit, remaining, resetIn, ok := budgetHeaders(tt.h)
			if limit != tt.limit || remaining != tt.remaining || resetIn != tt.resetIn || ok != tt.ok {
				t.Errorf("budgetHeaders = %d, %d, %v, %v; want %d, %d, %v, %v", limit, remaining, resetIn, ok, tt.limit, tt.remaining, tt.resetIn, tt.ok)
			}
		})
	}
}

func TestPacerSpendsTheBudgetThenWaitsForTheReset(t *testing.T) {
	p := newPacer(time.Minute, 10)
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	// The first request goes alone; the others wait for its answer.
	if d, gate := p.take(now); d != 0 || gate != nil {
		t.Fatalf("the first request waits: %v %v", d, gate)
	}
	if _, gate := p.take(now); gate == nil {
		t.Fatal("a second request went before the first answered")
	}
	p.observe(http.Header{"X-Rate-Limit": {"700"}, "X-Rate-Limit-Remaining": {"2"}, "Ratelimit-Reset": {"30"}}, http.StatusOK, now)
	for i := range 2 {
		if d, gate := p.take(now); d != 0 || gate != nil {
			t.Fatalf("request %d of the 2 remaining waits %v", i, d)
		}
	}
	if d, _ := p.take(now); d < 30*time.Second || d > 31*time.Second {
		t.Errorf("with the budget spent the next request waits %v, want the 30 s to the reset", d)
	}
	// Another app spent the budget: the server's count wins.
	p.observe(http.Header{"X-Rate-Limit": {"700"}, "X-Rate-Limit-Remaining": {"0"}, "Ratelimit-Reset": {"29"}}, http.StatusOK, now.Add(time.Second))
	// After the reset, the budget is whole.
	if d, gate := p.take(now.Add(31 * time.Second)); d != 0 || gate != nil {
		t.Errorf("after the reset the request waits %v", d)
	}

	// A server that tells no budget is not paced.
	q := newPacer(time.Minute, 10)
	q.take(now)
	q.observe(nil, 0, now)
	for range 100 {
		if d, gate := q.take(now); d != 0 || gate != nil {
			t.Fatal("a server without rate-limit headers was paced")
		}
	}
}

func TestSlidingWindow(t *testing.T) {
	const span = 200 * time.Millisecond
	w := newSlidingWindow(2, span)
	ctx := t.Context()
	start := time.Now()
	r1, err := w.acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r2, _ := w.acquire(ctx)
	if time.Since(start) > span/2 {
		t.Fatal("the first two requests waited")
	}
	r1()
	r1() // a second release is harmless
	r2()
	// The third waits until the first answer is a span old.
	r3, err := w.acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < span {
		t.Errorf("the third request went after %v, inside the window of the first two", waited)
	}
	r3()

	// A request waiting for the window gives up when its context ends.
	w2 := newSlidingWindow(1, time.Hour)
	rel, _ := w2.acquire(ctx)
	rel()
	ctx2, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := w2.acquire(ctx2); err == nil {
		t.Error("acquire waited out an hour instead of its context")
	}
}
