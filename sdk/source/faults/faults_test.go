package faults

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestFaults(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"tickets":[`+strings.Repeat(`{"id":1},`, 50)+`{"id":2}]}`)
	})
	tests := []struct {
		kind    string
		status  int
		wantErr bool // a transport or body-read error
		check   func(t *testing.T, resp *http.Response)
	}{
		{kind: Fault429, status: 429, check: func(t *testing.T, r *http.Response) {
			if r.Header.Get("Retry-After") != "1" {
				t.Errorf("Retry-After = %q", r.Header.Get("Retry-After"))
			}
		}},
		{kind: Fault429NoHeader, status: 429},
		{kind: Fault500, status: 500},
		{kind: Fault502, status: 502},
		{kind: Fault503, status: 503},
		{kind: FaultReset, wantErr: true},
		{kind: FaultTruncated, status: 200, wantErr: true},
		{kind: FaultStall, status: 200},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			f := Wrap(ok, Options{Rate: 1, Kinds: []string{tt.kind}, Stall: 50 * time.Millisecond})
			srv := httptest.NewServer(f)
			defer srv.Close()
			start := time.Now()
			resp, err := http.Get(srv.URL)
			var body []byte
			if err == nil {
				body, err = io.ReadAll(resp.Body)
				resp.Body.Close()
			}
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want an error: %v", err, tt.wantErr)
			}
			if resp != nil && tt.status != 0 && resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if tt.check != nil {
				tt.check(t, resp)
			}
			if tt.kind == FaultStall && (time.Since(start) < 50*time.Millisecond || !strings.Contains(string(body), `"id":2`)) {
				t.Errorf("a stall must delay, then answer whole")
			}
			if f.Injected()[tt.kind] != 1 {
				t.Errorf("injected = %v", f.Injected())
			}
		})
	}
	// A rate of 0.1 faults about a tenth of the requests.
	f := Wrap(ok, Options{Rate: 0.1, Seed: 1, Kinds: []string{Fault500}})
	srv := httptest.NewServer(f)
	defer srv.Close()
	for range 500 {
		resp, err := http.Get(srv.URL)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	if n := f.Injected()[Fault500]; n < 30 || n > 75 {
		t.Errorf("%d faults in 500 requests at rate 0.1", n)
	}
}
