package load

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestUnix: Intercom keeps no time at or before the epoch (0 is none to
// it, and earlier ones it refuses): such a source time goes as 1; no time
// goes as none.
func TestUnix(t *testing.T) {
	for in, want := range map[time.Time]int64{
		{}:                       0,
		time.Unix(0, 0):          1,
		time.Unix(-86400*365, 0): 1,
		time.Unix(1, 0):          1,
		time.Unix(1700000000, 0): 1700000000,
		time.Date(2099, 12, 31, 0, 0, 0, 0, time.UTC): time.Date(2099, 12, 31, 0, 0, 0, 0, time.UTC).Unix(),
	} {
		if got := unix(in); got != want {
			t.Errorf("unix(%v) = %d, want %d", in, got, want)
		}
	}
}

func TestCheckEmail(t *testing.T) {
	for _, ok := range []string{"", "ann@acme.example", "Ann.Lee+vip@sub.acme.example", " ann@acme.example "} {
		if err := checkEmail(ok); err != nil {
			t.Errorf("checkEmail(%q) = %v, want nil", ok, err)
		}
	}
	for _, bad := range []string{"jane.doe@@mail.example", "no-at-sign.example", "two words@mail.example", "Ann <ann@acme.example>", "ann@"} {
		err := checkEmail(bad)
		if err == nil || !strings.Contains(err.Error(), "is not a valid email address, which Intercom refuses") {
			t.Errorf("checkEmail(%q) = %v, want a refusal", bad, err)
		}
	}
}

// TestFileGone: a file is gone when its host answers 404 or 410, after
// redirects; anything else (there, refused, an error) is not known to be
// gone. The check carries no credentials and asks for one byte.
func TestFileGone(t *testing.T) {
	var mu sync.Mutex
	var sent []string // Authorization and Range of each request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		sent = append(sent, r.Header.Get("Authorization")+"|"+r.Header.Get("Range")+"|"+r.Header.Get("Cookie"))
		mu.Unlock()
		switch r.URL.Path {
		case "/there":
			w.Write([]byte("x"))
		case "/gone":
			w.WriteHeader(http.StatusGone)
		case "/private":
			w.WriteHeader(http.StatusForbidden)
		case "/moved":
			http.Redirect(w, r, "/nowhere", http.StatusFound)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	f := &fileChecker{client: &http.Client{Timeout: 10 * time.Second}, log: slog.New(slog.DiscardHandler)}
	for path, want := range map[string]string{
		"/there":              "",
		"/private":            "",
		"/missing?sig=s3cr3t": "GET " + srv.URL + "/missing answered 404 Not Found",
		"/gone":               "GET " + srv.URL + "/gone answered 410 Gone",
		"/moved":              "GET " + srv.URL + "/moved answered 404 Not Found",
	} {
		if got := f.gone(t.Context(), srv.URL+path); got != want {
			t.Errorf("gone(%s) = %q, want %q", path, got, want)
		}
	}
	for _, u := range []string{"http://127.0.0.1:1/x", "ftp://files.example/x", "not a url", ""} {
		if got := f.gone(t.Context(), u); got != "" {
			t.Errorf("gone(%q) = %q, want not known to be gone", u, got)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for _, s := range sent {
		if s != "|bytes=0-0|" {
			t.Errorf("a check sent Authorization|Range|Cookie = %q", s)
		}
	}
}
