package connector

import (
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ferryhq/ferry/plugins/freshdesk/freshdesktest"
	"github.com/ferryhq/ferry/sdk/source"
	"github.com/ferryhq/ferry/sdk/source/sourcetest"
)

// testEnd bounds the generated help desks' timestamps: in the past, so the
// lag window hides nothing.
func testEnd() time.Time { return time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC) }

// fastPolicy retries as readPolicy does, without the waiting.
func fastPolicy() retryPolicy {
	return retryPolicy{attempts: 6, throttled: 20, backoff: time.Millisecond, maxBackoff: 10 * time.Millisecond, maxWait: 5 * time.Second, timeout: 10 * time.Second}
}

func testConnector() *Connector {
	c := New()
	c.retry, c.check = fastPolicy(), fastPolicy()
	return c
}

// freshdesk is a generated help desk served on loopback.
type freshdesk struct {
	hd  *freshdesktest.HelpDesk
	srv *freshdesktest.Server
	ts  *httptest.Server
}

func startFreshdesk(t *testing.T, gen freshdesktest.GenerateOptions, opts freshdesktest.ServerOptions) *freshdesk {
	t.Helper()
	if gen.End.IsZero() {
		gen.End = testEnd()
	}
	hd := freshdesktest.Generate(gen)
	srv := freshdesktest.NewServer(hd, opts)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &freshdesk{hd: hd, srv: srv, ts: ts}
}

// config is a connector config for the emulator's API key.
func (f *freshdesk) config(t *testing.T, pageSize int) json.RawMessage {
	t.Helper()
	return configFor(t, f.ts.URL, f.srv.APIKey(), pageSize)
}

func configFor(t *testing.T, baseURL, apiKey string, pageSize int) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(Config{BaseURL: baseURL, APIKey: apiKey, PageSize: pageSize})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// read reads streams (none: all) from cursors through the plugin protocol,
// as the host would, and fails the test if the read fails.
func read(t *testing.T, c *Connector, cfg json.RawMessage, streams []string, cursors map[string][]byte) *sourcetest.Result {
	t.Helper()
	res := sourcetest.Read(t, sourcetest.Client(t, c, source.DefaultLimits()), cfg, streams, cursors)
	if res.Err != nil {
		t.Fatalf("read: %v", res.Err)
	}
	return res
}

// lastCursor is the last non-empty cursor checkpointed for stream.
func lastCursor(res *sourcetest.Result, stream string) []byte {
	var c []byte
	for _, cp := range res.Checkpoints(stream) {
		if len(cp) > 0 {
			c = cp
		}
	}
	return c
}
