package freshdesktest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// testEnd is the End of the help desks tests generate.
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
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &emulator{hd: hd, srv: srv, ts: ts}
}

// answer is a decoded response.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// list decodes the answer as a JSON array of objects.
func (a answer) list(t *testing.T) []map[string]any {
	t.Helper()
	var v []map[string]any
	if err := json.Unmarshal(a.body, &v); err != nil {
		t.Fatalf("answer %d is not a list of objects: %v\n%s", a.status, err, a.body)
	}
	return v
}

// object decodes the answer as a JSON object.
func (a answer) object(t *testing.T) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(a.body, &v); err != nil {
		t.Fatalf("answer %d is not an object: %v\n%s", a.status, err, a.body)
	}
	return v
}

// get requests path with the server's API key.
func (e *emulator) get(t *testing.T, path string) answer {
	t.Helper()
	return e.getAs(t, path, e.srv.APIKey())
}

// getAs requests path with key as the Basic user ("" sends none).
func (e *emulator) getAs(t *testing.T, path, key string) answer {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, e.ts.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.SetBasicAuth(key, "X")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: body}
}

func ids(objs []map[string]any) []int64 {
	out := make([]int64, len(objs))
	for i, o := range objs {
		out[i] = int64(o["id"].(float64))
	}
	return out
}
