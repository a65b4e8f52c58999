package connector

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ferryhq/ferry/plugins/freshdesk/freshdesktest"
)

func TestCheck(t *testing.T) {
	f := startFreshdesk(t, freshdesktest.GenerateOptions{Tickets: 10}, freshdesktest.ServerOptions{})
	answering := func(status int, body string) string {
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(status)
			w.Write([]byte(body))
		}))
		t.Cleanup(ts.Close)
		return ts.URL
	}
	// A port nothing listens on.
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + lis.Addr().String()
	lis.Close()

	restricted := startFreshdesk(t, freshdesktest.GenerateOptions{Tickets: 10}, freshdesktest.ServerOptions{})
	restricted.srv.Mutate(func(hd *freshdesktest.HelpDesk) { hd.Agents[0].TicketScope = 2 })

	tests := []struct {
		name    string
		config  json.RawMessage
		wantErr string
	}{
		{"the emulator's key", f.config(t, 0), ""},
		{"a wrong key", configFor(t, f.ts.URL, "not-the-key", 0), "did not accept the API key (401)"},
		{"nobody there", configFor(t, closed, "k", 0), "cannot reach Freshdesk at " + closed},
		{"not Freshdesk", configFor(t, answering(http.StatusNotFound, ""), "k", 0), "has no Freshdesk API (404)"},
		{"an answer of another shape", configFor(t, answering(http.StatusOK, `{"user": {"id": 1}}`), "k", 0), "did not answer like Freshdesk"},
		{"forbidden", configFor(t, answering(http.StatusForbidden, `{"code": "access_denied", "message": "No"}`), "k", 0), "refused access (403)"},
		{"an agent who sees some tickets", restricted.config(t, 0), "sees only some tickets"},
		{"http to a real host", configFor(t, "http://acme.freshdesk.com", "k", 0), "must use https"},
		{"a path", configFor(t, "https://acme.freshdesk.com/api/v2", "k", 0), "without a path"},
		{"credentials in the URL", configFor(t, "https://key:X@acme.freshdesk.com", "k", 0), "must not hold credentials"},
		{"not absolute", configFor(t, "acme.freshdesk.com", "k", 0), "not an absolute URL"},
		{"no key", configFor(t, "https://acme.freshdesk.com", "", 0), "api_key is required"},
		{"a page too big", configFor(t, "https://acme.freshdesk.com", "k", 500), "page_size 500 is out of range"},
		{"an unknown field", json.RawMessage(`{"base_url": "https://acme.freshdesk.com", "api_key": "k", "domain": "acme"}`), `unknown field "domain"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := testConnector().Check(t.Context(), tt.config)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Check: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("Check = %v, want an error saying %q", err, tt.wantErr)
			}
			if err != nil && (strings.Contains(err.Error(), "not-the-key") || strings.Contains(err.Error(), "key:X")) {
				t.Errorf("the error shows the key: %v", err)
			}
		})
	}
}
