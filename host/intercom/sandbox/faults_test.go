package sandbox

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// Every kind of fault comes in Intercom's shape, and a lost answer is one
// the sandbox acted on.
func TestFaults(t *testing.T) {
	for _, kind := range FaultKinds() {
		t.Run(kind, func(t *testing.T) {
			s := New(Options{Token: "tok", RateLimit: 100, Faults: FaultOptions{Rate: 1, Kinds: []string{kind}, Burst: 2}})
			srv := httptest.NewServer(s)
			defer srv.Close()
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/tags", strings.NewReader(`{"name":"x"}`))
			req.Header.Set("Authorization", "Bearer tok")
			req.Header.Set("Content-Type", "application/json")
			resp, err := srv.Client().Do(req)
			switch kind {
			case FaultReset, FaultLostAnswer:
				if err == nil {
					resp.Body.Close()
					t.Fatalf("got %d, want the connection dropped", resp.StatusCode)
				}
				if tags := len(s.Snapshot().Tags); (kind == FaultLostAnswer) != (tags == 1) {
					t.Errorf("%d tags after %s", tags, kind)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			want := map[string]int{Fault429: 429, Fault429NoHeaders: 429, Fault500: 500, Fault502: 502, Fault503: 503}[kind]
			if resp.StatusCode != want {
				t.Fatalf("status %d, want %d", resp.StatusCode, want)
			}
			if has := resp.Header.Get("X-RateLimit-Reset") != ""; has != (kind == Fault429) {
				t.Errorf("X-RateLimit-Reset present: %v", has)
			}
			if kind != Fault502 && !strings.Contains(resp.Header.Get("Content-Type"), "json") {
				t.Errorf("content type %q, want Intercom's error list", resp.Header.Get("Content-Type"))
			}
			if len(s.Snapshot().Tags) != 0 {
				t.Error("a refused request was acted on")
			}
		})
	}
	// A 429 comes in bursts.
	s := New(Options{Token: "tok", Faults: FaultOptions{Rate: 0.0001, Kinds: []string{Fault429}, Burst: 4}})
	s.faults.burst = 3
	srv := httptest.NewServer(s)
	defer srv.Close()
	var codes []int
	for range 4 {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/tags", nil)
		req.Header.Set("Authorization", "Bearer tok")
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		codes = append(codes, resp.StatusCode)
	}
	if fmt.Sprint(codes[:3]) != "[429 429 429]" {
		t.Errorf("statuses %v, want a burst of three 429s", codes)
	}
	if s.FaultsInjected()[Fault429] != 3 {
		t.Errorf("injected %v", s.FaultsInjected())
	}
}
