// Package dropemptysubjectas tests the AssemblyScript transform beside it:
// the committed build/drop-empty-subject-as.wasm, loaded through ferry's own
// host/transform, and, when npm is on PATH, a fresh build of its source,
// which must be the same module. The package has no Go code of its own.
package dropemptysubjectas

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferryhq/ferry/host/transform"
)

// committed is the module ferry users reference in ferry.yaml.
const committed = "build/drop-empty-subject-as.wasm"

func TestCommittedModule(t *testing.T) {
	wasm, err := os.ReadFile(committed)
	if err != nil {
		t.Fatalf("%v: build it with ./build.sh", err)
	}
	checkModule(t, wasm)
}

// TestRebuild builds the module from source with the pinned compiler and
// checks that it is the committed one, byte for byte, and behaves as it does.
func TestRebuild(t *testing.T) {
	if testing.Short() {
		t.Skip("rebuilding with npm is slow")
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Skip("npm is not on PATH: the committed module is tested alone")
	}
	dir := t.TempDir()
	for _, f := range []string{"package.json", "package-lock.json", "asconfig.json", "assembly/index.ts"} {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	// Installing needs the npm registry (or npm's cache); without it the
	// committed module is all there is to test, which the other tests do.
	if out, err := npmCommand(ctx, npm, dir, "ci", "--no-audit", "--no-fund").CombinedOutput(); err != nil {
		t.Skipf("npm ci could not install the pinned compiler (no registry?): %v\n%s", err, out)
	}
	out := filepath.Join(dir, "rebuilt.wasm")
	if output, err := npmCommand(ctx, npm, dir, "run", "--silent", "build", "--", "--outFile", out).CombinedOutput(); err != nil {
		t.Fatalf("asc: %v\n%s", err, output)
	}
	rebuilt, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	checkModule(t, rebuilt)
	want, err := os.ReadFile(committed)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(rebuilt, want) {
		t.Errorf("%s is not what its source builds to (%d bytes, a fresh build has %d): run ./build.sh and commit the module", committed, len(want), len(rebuilt))
	}
}

func npmCommand(ctx context.Context, npm, dir string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, npm, args...)
	cmd.Dir = dir
	return cmd
}

// checkModule runs the module through ferry's runtime and checks every
// behaviour the source promises.
func checkModule(t *testing.T, wasm []byte) {
	t.Helper()
	var logs bytes.Buffer
	// A small memory cap, so that a module that leaked its batches would
	// run out of memory within TestManyBatches' batches.
	rt, err := transform.NewRuntime(t.Context(), transform.Options{
		MemoryLimitPages: 64,
		Logger:           slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo})),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(context.Background())

	t.Run("records", func(t *testing.T) {
		m, err := rt.Load(t.Context(), wasm, "drop-empty-subject-as", nil)
		if err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			stream  string
			record  string
			outcome transform.Outcome
			reason  string
		}{
			{"tickets", `{"id":"1","subject":"Printer on fire"}`, transform.Keep, ""},
			{"tickets", `{"id":"2","subject":""}`, transform.Drop, "the ticket has no subject"},
			{"tickets", `{"id":"3"}`, transform.Drop, "the ticket has no subject"},
			{"tickets", `{"id":"4","subject":null}`, transform.Drop, "the ticket has no subject"},
			{"tickets", `{"id":"5","subject":" \t\n\r "}`, transform.Drop, "the ticket has no subject"},
			{"tickets", `{"id":"6","subject":"\"\"","raw":{"subject":""}}`, transform.Keep, ""},
			{"tickets", `{"id":"7","raw":{"subject":"nested, not the ticket's"},"tags":["a"]}`, transform.Drop, "the ticket has no subject"},
			{"tickets", `{"raw":{"a":[1,{"b":"]}"}]},"id":"8","subject":"é \u00e9"}`, transform.Keep, ""},
			{"tickets", `{"id":"9","subject":5}`, transform.Drop, "the ticket has no subject"},
		}
		for _, stream := range []string{"tickets", "comments"} {
			var records []json.RawMessage
			for _, tt := range tests {
				records = append(records, json.RawMessage(tt.record))
			}
			results, err := m.Apply(t.Context(), stream, records)
			if err != nil {
				t.Fatal(err)
			}
			for i, tt := range tests {
				got := results[i]
				outcome, reason := tt.outcome, tt.reason
				if stream != "tickets" {
					outcome, reason = transform.Keep, ""
				}
				if got.Outcome != outcome || got.Reason != reason {
					t.Errorf("%s %s: got %v %q, want %v %q", stream, tt.record, got.Outcome, got.Reason, outcome, reason)
					continue
				}
				if outcome == transform.Keep && string(got.Records[0]) != tt.record {
					t.Errorf("%s: kept as %s, want it byte for byte", tt.record, got.Records[0])
				}
			}
		}
		if !strings.Contains(logs.String(), `"msg":"dropped 6 of 9 tickets without a subject","transform":"drop-empty-subject-as","stream":"tickets"`) {
			t.Errorf("no count logged for the tickets batch; the log:\n%s", logs.String())
		}
		if strings.Contains(logs.String(), `"stream":"comments"`) {
			t.Errorf("a count logged for the comments batch, which dropped nothing; the log:\n%s", logs.String())
		}
	})

	t.Run("config", func(t *testing.T) {
		tests := []struct {
			config string
			reason string // the drop reason it gives, or
			err    string // the error it is refused with
		}{
			{`null`, "the ticket has no subject", ""},
			{`{}`, "the ticket has no subject", ""},
			{` { "reason" : "no \"subject\" \u2014 spam?" } `, `no "subject" — spam?`, ""},
			{`{"reason":""}`, "", "config: reason must be a string that is not empty"},
			{`{"reason":"  "}`, "", "config: reason must be a string that is not empty"},
			{`{"reason":5}`, "", "config: reason must be a string that is not empty"},
			{`{"reason":"x","streams":["tickets"]}`, "", `config: unknown config member "streams": this transform takes only "reason"`},
			{`["reason"]`, "", `config: the config must be an object such as {"reason": "no subject"}`},
		}
		for _, tt := range tests {
			m, err := rt.Load(t.Context(), wasm, "drop-empty-subject-as", json.RawMessage(tt.config))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Errorf("config %s: error %v, want %q", tt.config, err, tt.err)
				}
				continue
			}
			if err != nil {
				t.Errorf("config %s: %v", tt.config, err)
				continue
			}
			results, err := m.Apply(t.Context(), "tickets", []json.RawMessage{json.RawMessage(`{"id":"1"}`)})
			if err != nil {
				t.Fatal(err)
			}
			if results[0].Outcome != transform.Drop || results[0].Reason != tt.reason {
				t.Errorf("config %s: got %v %q, want drop %q", tt.config, results[0].Outcome, results[0].Reason, tt.reason)
			}
			m.Close(t.Context())
		}
	})

	t.Run("many batches", func(t *testing.T) {
		m, err := rt.Load(t.Context(), wasm, "drop-empty-subject-as", nil)
		if err != nil {
			t.Fatal(err)
		}
		// 200 batches of about 180 KB: 36 MB in all, through a 4 MiB memory.
		records := make([]json.RawMessage, 1000)
		for i := range records {
			subject := strings.Repeat("x", 150)
			if i%10 == 0 {
				subject = ""
			}
			records[i] = json.RawMessage(`{"id":"` + string(rune('a'+i%26)) + `","subject":"` + subject + `"}`)
		}
		for b := range 200 {
			results, err := m.Apply(t.Context(), "tickets", records)
			if err != nil {
				t.Fatal(err)
			}
			var dropped int
			for _, r := range results {
				if r.Outcome == transform.Error {
					t.Fatalf("batch %d: %s", b, r.Reason)
				}
				if r.Outcome == transform.Drop {
					dropped++
				}
			}
			if dropped != 100 {
				t.Fatalf("batch %d: %d dropped, want 100", b, dropped)
			}
		}
	})
}
