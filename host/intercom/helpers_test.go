package intercom

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferryhq/ferry/host/intercom/sandbox"
)

const testToken = "tok-ferry-test-0123456789"

// specValidator checks one request against Intercom's OpenAPI description.
// spec_check_test.go implements it.
type specValidator interface {
	validate(r *http.Request, body []byte) error
}

// specFile is openapi.yaml relative to this package: the repository's
// parent directory holds shared/.
var specFile = filepath.Join("..", "..", "..", "shared", "intercom", "openapi.yaml")

// loadSpec loads the description once per test binary: it is 1.3 MB.
var loadSpec = sync.OnceValues(func() (specValidator, error) {
	if _, err := os.Stat(specFile); err != nil {
		return nil, err
	}
	return loadSpecValidator(specFile)
})

// specChecked counts the requests validated during the run.
var specChecked atomic.Int64

// specTransport validates every request against the spec before sending it.
type specTransport struct {
	t    testing.TB
	v    specValidator
	next http.RoundTripper
}

func (s *specTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		b, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
	}
	if err := s.v.validate(r, body); err != nil {
		s.t.Errorf("request does not match the OpenAPI description: %v", err)
	}
	specChecked.Add(1)
	out := r.Clone(r.Context())
	if body != nil {
		out.Body = io.NopCloser(bytes.NewReader(body))
	}
	return s.next.RoundTrip(out)
}

// env is a sandbox on loopback and a client pointed at it.
type env struct {
	sb  *sandbox.Server
	srv *httptest.Server
	c   *Client
}

type envConfig struct {
	sandbox sandbox.Options
	client  Options
	// wrap puts a handler (e.g. a fault injector) in front of the sandbox.
	wrap func(http.Handler) http.Handler
	// noSpec turns off the OpenAPI check, for tests that send invalid
	// requests on purpose.
	noSpec bool
}

// fixedNow is the sandbox clock of tests that compare timestamps.
var fixedNow = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

func newEnv(t testing.TB, cfg envConfig) *env {
	t.Helper()
	if cfg.sandbox.Token == "" {
		cfg.sandbox.Token = testToken
	}
	sb := sandbox.New(cfg.sandbox)
	var h http.Handler = sb
	if cfg.wrap != nil {
		h = cfg.wrap(sb)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	copts := cfg.client
	copts.BaseURL = srv.URL
	if copts.Token == "" {
		copts.Token = testToken
	}
	var rt http.RoundTripper = srv.Client().Transport
	if !cfg.noSpec {
		if v, err := loadSpec(); err == nil {
			rt = &specTransport{t: t, v: v, next: rt}
		} else if !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("load the OpenAPI description: %v", err)
		}
	}
	if copts.HTTPClient == nil {
		copts.HTTPClient = &http.Client{Transport: rt, Timeout: 30 * time.Second}
	}
	if copts.Logger == nil {
		copts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	c, err := New(copts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	// Retries in tests wait milliseconds, not seconds.
	c.backoffBase, c.backoffMax = 5*time.Millisecond, 50*time.Millisecond
	return &env{sb: sb, srv: srv, c: c}
}
