package zendesktest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// testEnd is the End of the help desks tests generate: well in the past,
// so that the exports' one-minute horizon never hides anything.
func testEnd() time.Time { return time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC) }

// emulator serves a generated help desk on loopback.
type emulator struct {
	hd  *HelpDesk
	srv *Server
	ts  *httptest.Server
}

func newEmulator(t *testing.T, gen GenerateOptions, opts ServerOptions) *emulator {
	t.Helper()
	if gen.End.IsZero() {
		gen.End = testEnd()
	}
	hd := Generate(gen)
	srv := NewServer(hd, opts)
	return &emulator{hd: hd, srv: srv, ts: httptestServer(t, srv)}
}

func httptestServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts
}

// get requests path with the server's credentials and decodes the JSON
// answer into a generic value.
func (e *emulator) get(t *testing.T, path string) (int, map[string]any, http.Header) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, e.ts.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	email, token := e.srv.Credentials()
	req.SetBasicAuth(email+"/token", token)
	return do(t, req)
}

func do(t *testing.T, req *http.Request) (int, map[string]any, http.Header) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("GET %s answered %d with a body that is not a JSON object: %v\n%s", req.URL, resp.StatusCode, err, body)
	}
	return resp.StatusCode, v, resp.Header
}

// objects returns v[key] as a list of JSON objects.
func objects(t *testing.T, v map[string]any, key string) []map[string]any {
	t.Helper()
	list, ok := v[key].([]any)
	if !ok {
		t.Fatalf("response has no %q array: %v", key, keysOf(v))
	}
	out := make([]map[string]any, len(list))
	for i, x := range list {
		o, ok := x.(map[string]any)
		if !ok {
			t.Fatalf("%s[%d] is %T, not an object", key, i, x)
		}
		out[i] = o
	}
	return out
}

func keysOf(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}
