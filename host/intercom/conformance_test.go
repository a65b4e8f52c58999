package intercom

import (
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ferryhq/ferry/host/intercom/sandbox"
)

// TestOpenAPIConformance runs every typed method with each request checked
// against Intercom's OpenAPI description. (Every other test's client is
// checked the same way through newEnv; this one makes sure the checker is
// loaded and really rejects what it should.)
func TestOpenAPIConformance(t *testing.T) {
	v, err := loadSpec()
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("no OpenAPI description at %s: conformance not checked", specFile)
	}
	if err != nil {
		t.Fatalf("load %s with %s: %v", specFile, specCheckerName, err)
	}
	t.Logf("checking requests with %s", specCheckerName)

	before := specChecked.Load()
	e := newEnv(t, envConfig{sandbox: sandbox.Options{Now: func() time.Time { return fixedNow }}})
	exerciseAll(t, e)
	if n := specChecked.Load() - before; n < 40 {
		t.Errorf("only %d requests were checked", n)
	}

	// The checker must reject requests that break the description.
	bad := []struct {
		name, method, path, body string
		header                   map[string]string
	}{
		{"unknown path", "GET", "/contactz", "", nil},
		{"method the path lacks", "DELETE", "/tags", "", nil},
		{"conversation id must be an integer", "GET", "/conversations/abc", "", nil},
		{"version not in the enum", "GET", "/me", "", map[string]string{"Intercom-Version": "9.9"}},
		{"contact with no identifier", "POST", "/contacts", `{"name":"x"}`, nil},
		{"reply matching no variant", "POST", "/conversations/1/reply", `{"type":"bot","message_type":"comment","body":"x"}`, nil},
		{"too many attachment urls", "POST", "/conversations", `{"from":{"type":"user","id":"6762f0dd1bb69f9f2193bb83"},"body":"x","attachment_urls":["a","b","c","d","e","f","g","h","i","j","k"]}`, nil},
		{"tag a conversation without admin", "POST", "/conversations/1/tags", `{"id":"5"}`, nil},
		{"wrong type", "POST", "/companies", `{"company_id":"c","size":"big"}`, nil},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			var body *strings.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			} else {
				body = strings.NewReader("")
			}
			r := httptest.NewRequest(tt.method, "http://127.0.0.1"+tt.path, body)
			r.Header.Set("Intercom-Version", "2.16")
			if tt.body != "" {
				r.Header.Set("Content-Type", "application/json")
			}
			for k, v := range tt.header {
				r.Header.Set(k, v)
			}
			if err := v.validate(r, []byte(tt.body)); err == nil {
				t.Errorf("%s %s %s was accepted", tt.method, tt.path, tt.body)
			} else {
				t.Logf("rejected: %v", err)
			}
		})
	}
	good := httptest.NewRequest(http.MethodPost, "http://127.0.0.1/contacts", strings.NewReader(`{"email":"a@b.example"}`))
	good.Header.Set("Content-Type", "application/json")
	if err := v.validate(good, []byte(`{"email":"a@b.example"}`)); err != nil {
		t.Errorf("a valid create contact was rejected: %v", err)
	}
}
