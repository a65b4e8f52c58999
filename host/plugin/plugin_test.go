package plugin_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/ferryhq/ferry/host/plugin"
)

// buildCounter builds the test plugin once per test binary.
var buildCounter = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "ferry-plugin-test")
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, "ferry-source-counter")
	cmd := exec.Command("go", "build", "-o", out, "./testdata/ferry-source-counter")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", errors.New(string(b))
	}
	return dir, nil
})

func counterPath(t *testing.T) string {
	t.Helper()
	dir, err := buildCounter()
	if err != nil {
		t.Fatalf("build test plugin: %v", err)
	}
	return filepath.Join(dir, "ferry-source-counter")
}

// recorder is a Handler that commits like the workspace does: batches count
// only once a checkpoint follows them.
type recorder struct {
	pending, committed int64
	cursors            map[string][]byte
	errors             []string
}

func (r *recorder) Batch(_ context.Context, _ string, rec arrow.RecordBatch) error {
	r.pending += rec.NumRows()
	return nil
}

func (r *recorder) Checkpoint(_ context.Context, stream string, cursor []byte) error {
	r.committed += r.pending
	r.pending = 0
	if r.cursors == nil {
		r.cursors = map[string][]byte{}
	}
	if len(cursor) > 0 {
		r.cursors[stream] = cursor
	}
	return nil
}

func (r *recorder) RecordError(_ context.Context, stream, id, reason string) error {
	r.errors = append(r.errors, stream+"/"+id+": "+reason)
	return nil
}

func (r *recorder) RecordSkipped(context.Context, string, string, string) error { return nil }

func start(t *testing.T, opts plugin.Options) *plugin.Source {
	t.Helper()
	src, err := plugin.Start(t.Context(), "counter", counterPath(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(src.Close)
	return src
}

func TestSpecCheckDiscover(t *testing.T) {
	src := start(t, plugin.Options{})
	spec, err := src.Spec(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if spec.Name != "counter" || spec.Version != "0.0.1" {
		t.Errorf("spec = %+v", spec)
	}
	if err := src.Check(t.Context(), []byte(`{"tickets":-1}`)); err == nil || !strings.Contains(err.Error(), "tickets must be 0 or more") {
		t.Errorf("check err = %v", err)
	}
	streams, err := src.Discover(t.Context(), []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(streams) != 1 || streams[0].Name != "tickets" || streams[0].Schema.Field(0).Name != "id" {
		t.Errorf("streams = %+v", streams)
	}
}

func TestReadCheckpointsAndRecordErrors(t *testing.T) {
	src := start(t, plugin.Options{})
	var r recorder
	var progress int64
	err := src.Read(t.Context(), []byte(`{"tickets":25000,"every":1000,"bad_record":7}`), plugin.ReadOptions{
		Progress: func(_ string, done, _ int64) { progress = done },
	}, &r)
	if err != nil {
		t.Fatal(err)
	}
	if r.committed != 24999 || r.pending != 0 {
		t.Errorf("committed %d, pending %d; want 24999 and 0", r.committed, r.pending)
	}
	if string(r.cursors["tickets"]) != "25000" {
		t.Errorf("cursor = %q", r.cursors["tickets"])
	}
	if len(r.errors) != 1 || !strings.Contains(r.errors[0], "tickets/7: ticket is unreadable") {
		t.Errorf("record errors = %v", r.errors)
	}
	if progress != 25000 {
		t.Errorf("progress = %d", progress)
	}
}

func TestResumeFromCursor(t *testing.T) {
	src := start(t, plugin.Options{})
	var r recorder
	err := src.Read(t.Context(), []byte(`{"tickets":100,"every":10}`), plugin.ReadOptions{Cursors: map[string][]byte{"tickets": []byte("40")}}, &r)
	if err != nil {
		t.Fatal(err)
	}
	if r.committed != 60 {
		t.Errorf("resumed read committed %d tickets, want the 60 after the cursor", r.committed)
	}
}

func TestFailuresNameThePluginStreamAndCheckpoint(t *testing.T) {
	tests := []struct {
		name   string
		config string
		want   []string
	}{
		{"source error", `{"tickets":100,"every":10,"fail_after":35}`, []string{"plugin counter", "stream tickets", `after checkpoint "30"`, "answered 500 at ticket 35"}},
		{"crash", `{"tickets":100000,"every":1000,"crash_after":50500}`, []string{"plugin counter", "stream tickets", "after checkpoint", "exited unexpectedly"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := start(t, plugin.Options{})
			var r recorder
			err := src.Read(t.Context(), []byte(tt.config), plugin.ReadOptions{}, &r)
			var re *plugin.ReadError
			if !errors.As(err, &re) {
				t.Fatalf("err = %v, want a ReadError", err)
			}
			// The checkpoint named is the last one the handler committed:
			// what a crashed plugin sent but the host never got is not.
			if got := string(re.LastCheckpoint); got != string(r.cursors["tickets"]) {
				t.Errorf("error names checkpoint %q, the handler committed %q", got, r.cursors["tickets"])
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestHungAndMisbehavingPlugins(t *testing.T) {
	tests := []struct {
		name   string
		config string
		opts   plugin.Options
		want   string
	}{
		{"stuck: heartbeats, no data", `{"tickets":100,"every":10,"hang_after":35}`,
			plugin.Options{StallTimeout: 500 * time.Millisecond}, "made no progress for 500ms"},
		{"frozen: nothing at all", `{"tickets":100000,"every":1000,"freeze_after":50500}`,
			plugin.Options{IdleTimeout: 500 * time.Millisecond}, "stopped answering: nothing for 500ms"},
		{"writes to stdout", `{"tickets":1000000,"every":1000,"stdout_after":50500}`,
			plugin.Options{}, `wrote to stdout, which belongs to the plugin protocol (plugins log to stderr): "debug: ticket 50500"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := start(t, tt.opts)
			var r recorder
			done := make(chan error, 1)
			go func() { done <- src.Read(t.Context(), []byte(tt.config), plugin.ReadOptions{}, &r) }()
			var err error
			select {
			case err = <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("the read did not stop")
			}
			var re *plugin.ReadError
			if !errors.As(err, &re) {
				t.Fatalf("err = %v, want a ReadError", err)
			}
			for _, w := range []string{"plugin counter", "stream tickets", "after checkpoint", tt.want} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if string(re.LastCheckpoint) != string(r.cursors["tickets"]) {
				t.Errorf("error names checkpoint %q, the handler committed %q", re.LastCheckpoint, r.cursors["tickets"])
			}
		})
	}
}

func TestChecksumPin(t *testing.T) {
	path := counterPath(t)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	src, err := plugin.Start(t.Context(), "counter", path, plugin.Options{SHA256: hex.EncodeToString(sum[:])})
	if err != nil {
		t.Fatalf("the right checksum was refused: %v", err)
	}
	src.Close()
	_, err = plugin.Start(t.Context(), "counter", path, plugin.Options{SHA256: strings.Repeat("ab", 32)})
	if err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Errorf("err = %v, want a checksum refusal", err)
	}
	_, err = plugin.Start(t.Context(), "counter", path, plugin.Options{SHA256: "xyz"})
	if err == nil || !strings.Contains(err.Error(), "not a hex SHA-256") {
		t.Errorf("err = %v, want a bad-pin error", err)
	}
}

func TestLocateAndList(t *testing.T) {
	dir := filepath.Dir(counterPath(t))
	empty := t.TempDir()
	p, err := plugin.Locate("counter", []string{empty, dir})
	if err != nil || p != counterPath(t) {
		t.Errorf("Locate = %q, %v", p, err)
	}
	if _, err := plugin.Locate("nope", []string{empty}); err == nil || !strings.Contains(err.Error(), "ferry-source-nope") {
		t.Errorf("err = %v", err)
	}
	if _, err := plugin.Locate("../x", nil); err == nil {
		t.Error("a path as plugin name was accepted")
	}
	found, err := plugin.List([]string{empty, dir, "/does/not/exist"})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 1 || found[0].Name != "counter" {
		t.Errorf("List = %+v", found)
	}
}
