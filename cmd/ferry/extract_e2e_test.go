package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ferryhq/ferry/host/stage"
	csvconnector "github.com/ferryhq/ferry/plugins/csv/connector"
	"github.com/ferryhq/ferry/plugins/csv/csvtest"
	fdconnector "github.com/ferryhq/ferry/plugins/freshdesk/connector"
	"github.com/ferryhq/ferry/plugins/freshdesk/freshdesktest"
	zdconnector "github.com/ferryhq/ferry/plugins/zendesk/connector"
	"github.com/ferryhq/ferry/plugins/zendesk/zendesktest"
	"github.com/ferryhq/ferry/sdk/schema"
	"github.com/ferryhq/ferry/sdk/source"
	"github.com/ferryhq/ferry/sdk/source/faults"
	"github.com/ferryhq/ferry/sdk/source/sourcetest"
)

// sourceUnderTest is a source plugin with its emulator, for the extract
// tests every plugin must pass.
type sourceUnderTest struct {
	plugin    string
	connector source.Connector
	// serve starts the emulator behind wrap and returns the plugin config;
	// big asks for a source whose extract takes seconds, for the kills.
	serve func(t *testing.T, wrap func(http.Handler) http.Handler, big bool) map[string]any
	// files: the source is files, not an API: no network faults apply.
	files bool
}

func sources() []sourceUnderTest {
	return []sourceUnderTest{
		{
			plugin: "zendesk", connector: zdconnector.New(),
			serve: func(t *testing.T, wrap func(http.Handler) http.Handler, _ bool) map[string]any {
				hd := zendesktest.Generate(zendesktest.GenerateOptions{Seed: 11, Tickets: 60, End: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)})
				srv := zendesktest.NewServer(hd, zendesktest.ServerOptions{})
				ts := httptest.NewServer(wrap(srv))
				t.Cleanup(ts.Close)
				email, token := srv.Credentials()
				// The emulator has no incremental-export limit; the plugin keeps
				// Zendesk's default of 10 a minute unless told.
				return map[string]any{"base_url": ts.URL, "email": email, "token": token, "page_size": 5, "incremental_per_minute": 1000}
			},
		},
		{
			plugin: "freshdesk", connector: fdconnector.New(),
			serve: func(t *testing.T, wrap func(http.Handler) http.Handler, _ bool) map[string]any {
				hd := freshdesktest.Generate(freshdesktest.GenerateOptions{Seed: 11, Tickets: 60, End: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)})
				srv := freshdesktest.NewServer(hd, freshdesktest.ServerOptions{})
				ts := httptest.NewServer(wrap(srv))
				t.Cleanup(ts.Close)
				return map[string]any{"base_url": ts.URL, "api_key": srv.APIKey(), "page_size": 20}
			},
		},
		{
			plugin: "csv", connector: csvconnector.New(), files: true,
			serve: func(t *testing.T, _ func(http.Handler) http.Handler, big bool) map[string]any {
				dir := t.TempDir()
				var w *csvtest.Written
				var err error
				if big {
					w, err = csvtest.WriteTickets(dir, csvtest.CSV, 40_000, csvtest.Options{Seed: 11})
				} else {
					w, err = csvtest.Generate(csvtest.Options{Seed: 11, Tickets: 60, Malformed: 2}).Write(dir, csvtest.CSV)
				}
				if err != nil {
					t.Fatal(err)
				}
				var cfg map[string]any
				if err := json.Unmarshal(w.Config, &cfg); err != nil {
					t.Fatal(err)
				}
				return cfg
			},
		},
	}
}

func noWrap(h http.Handler) http.Handler { return h }

// extractWorkspace writes a workspace whose ferry.yaml reads the source.
func extractWorkspace(t *testing.T, plugin string, cfg map[string]any) string {
	t.Helper()
	ws := t.TempDir()
	doc := map[string]any{
		"source": map[string]any{"plugin": plugin, "config": cfg},
		"target": map[string]any{"intercom": map[string]any{"token": "unused-by-extract"}},
	}
	data, err := json.Marshal(doc) // JSON is YAML
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ws, "ferry.yaml"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	return ws
}

// expected is what the connector brings, read in-process through the
// protocol: each connector's own tests check it field by field against its
// generated help desk.
func expected(t *testing.T, s sourceUnderTest, cfg map[string]any) *sourcetest.Result {
	t.Helper()
	raw, _ := json.Marshal(cfg)
	res := sourcetest.Read(t, sourcetest.Client(t, s.connector, source.DefaultLimits()), raw, nil, nil)
	if res.Err != nil {
		t.Fatalf("in-process read: %v", res.Err)
	}
	return res
}

// compareStaged checks that the workspace holds exactly the records of
// want, field by field, and the same record errors and skips.
func compareStaged(t *testing.T, ws string, want *sourcetest.Result) {
	t.Helper()
	w, err := stage.Open(context.Background(), ws)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for _, stream := range schema.StreamNames() {
		exp := map[string]string{}
		for _, r := range want.Records(stream) {
			b, _ := json.Marshal(r)
			exp[r.SourceID()] = string(b)
		}
		got := map[string]string{}
		err := w.Records(context.Background(), stage.Select{Stream: stream}, func(r schema.Record) error {
			b, _ := json.Marshal(r)
			got[r.SourceID()] = string(b)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(exp) {
			t.Errorf("%s: %d staged, the source has %d", stream, len(got), len(exp))
		}
		bad := 0
		for id, e := range exp {
			if g, ok := got[id]; !ok {
				t.Errorf("%s %s: missing", stream, id)
				bad++
			} else if g != e {
				t.Errorf("%s %s:\nstaged %s\nsource %s", stream, id, g, e)
				bad++
			}
			if bad > 3 {
				t.Fatalf("%s: giving up after %d differences", stream, bad)
			}
		}
	}
	// Record errors and skips are staged in the ledger.
	var wantOutcomes, gotOutcomes []string
	for _, m := range want.Messages {
		if m.Kind == "record_error" || m.Kind == "record_skipped" {
			wantOutcomes = append(wantOutcomes, fmt.Sprintf("%s %s %s", stage.EntityOfStream(m.Stream), m.SourceID, m.Reason))
		}
	}
	rows, err := w.DB().Query(`SELECT entity, source_id, reason FROM ledger WHERE stage = 'extract'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var e, id, reason string
		rows.Scan(&e, &id, &reason)
		gotOutcomes = append(gotOutcomes, fmt.Sprintf("%s %s %s", e, id, reason))
	}
	slices.Sort(wantOutcomes)
	slices.Sort(gotOutcomes)
	if !slices.Equal(wantOutcomes, gotOutcomes) {
		t.Errorf("extract outcomes:\nstaged %q\nsource %q", gotOutcomes, wantOutcomes)
	}
}

func runExtract(t *testing.T, bin binaries, ws string) (string, int) {
	t.Helper()
	cmd := exec.Command(bin.ferry, "extract", "-w", ws, "--plugin-dir", bin.pluginDir)
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), code
}

// TestExtractStagesExactlyTheSource: for every plugin, `ferry extract`
// through the plugin subprocess stages exactly what the source has, field
// by field; a second extract brings no ticket, comment or attachment again
// (small streams without a cursor are read whole each time) and leaves the
// workspace equal to the source.
func TestExtractStagesExactlyTheSource(t *testing.T) {
	bin := needBinaries(t)
	for _, s := range sources() {
		t.Run(s.plugin, func(t *testing.T) {
			cfg := s.serve(t, noWrap, false)
			ws := extractWorkspace(t, s.plugin, cfg)
			if out, code := runExtract(t, bin, ws); code != 0 {
				t.Fatalf("extract: exit %d\n%s", code, out)
			}
			want := expected(t, s, cfg)
			compareStaged(t, ws, want)
			out, code := runExtract(t, bin, ws)
			if code != 0 {
				t.Fatalf("a second extract: exit %d\n%s", code, out)
			}
			for _, stream := range []string{schema.Tickets, schema.Comments, schema.Attachments} {
				if strings.Contains(out[strings.Index(out, "extract: done"):], " "+stream) {
					t.Errorf("a second extract brought %s again:\n%s", stream, out)
				}
			}
			compareStaged(t, ws, want)
		})
	}
}

// TestExtractWithSourceFaults: at 10% injected faults (429s with and
// without Retry-After, 5xx, resets, truncated bodies, stalls) every plugin's
// extract still completes with exactly the source's records.
func TestExtractWithSourceFaults(t *testing.T) {
	bin := needBinaries(t)
	for _, s := range sources() {
		if s.files {
			continue
		}
		t.Run(s.plugin, func(t *testing.T) {
			var f *faults.Injector
			cfg := s.serve(t, func(h http.Handler) http.Handler {
				f = faults.Wrap(h, faults.Options{Rate: 0.1, Seed: 5, Stall: 300 * time.Millisecond})
				return f
			}, false)
			ws := extractWorkspace(t, s.plugin, cfg)
			if out, code := runExtract(t, bin, ws); code != 0 {
				t.Fatalf("extract: exit %d\n%s", code, out)
			}
			injected := f.Injected()
			total := 0
			for _, n := range injected {
				total += n
			}
			if total < 5 {
				t.Fatalf("only %d faults injected: the test proves little", total)
			}
			t.Logf("%d faults injected: %v", total, injected)
			// The expected read goes to the same server, faults and all:
			// the in-process connector must be just as exact.
			compareStaged(t, ws, expected(t, s, cfg))
		})
	}
}

// TestExtractKilledAndRerun: `ferry extract` killed (SIGKILL) at random
// moments and run again until it completes stages exactly the source: no
// gap, no duplicate.
func TestExtractKilledAndRerun(t *testing.T) {
	bin := needBinaries(t)
	for _, s := range sources() {
		t.Run(s.plugin, func(t *testing.T) {
			// Slow the source down so that an extract takes a few seconds
			// and the kills land all through it.
			cfg := s.serve(t, func(h http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					time.Sleep(25 * time.Millisecond)
					h.ServeHTTP(w, r)
				})
			}, true)
			ws := extractWorkspace(t, s.plugin, cfg)
			rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
			kills := 0
			for attempt := 0; ; attempt++ {
				if attempt == 40 {
					t.Fatalf("no extract completed in %d attempts", attempt)
				}
				cmd := exec.Command(bin.ferry, "extract", "-w", ws, "--plugin-dir", bin.pluginDir)
				cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // kill the plugin with it
				var out strings.Builder
				cmd.Stdout, cmd.Stderr = &out, &out
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				done := make(chan error, 1)
				go func() { done <- cmd.Wait() }()
				// Kill early in the first attempts, later ones get longer.
				after := time.Duration(100+rng.IntN(300*(attempt+1))) * time.Millisecond
				select {
				case err := <-done:
					if err != nil {
						t.Fatalf("extract failed without a kill: %v\n%s", err, out.String())
					}
					t.Logf("completed after %d kills", kills)
					if kills < 3 {
						t.Fatalf("only %d kills landed before the extract completed", kills)
					}
					compareStaged(t, ws, expected(t, s, cfg))
					return
				case <-time.After(after):
					syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
					<-done
					kills++
				}
			}
		})
	}
}

// TestExtractRefusesAPluginWithTheWrongChecksum: a sha256 pin in ferry.yaml
// that the binary does not match stops the extract before the plugin runs.
func TestExtractRefusesAPluginWithTheWrongChecksum(t *testing.T) {
	bin := needBinaries(t)
	ws := t.TempDir()
	doc := `{"source": {"plugin": "freshdesk", "sha256": "` + strings.Repeat("0", 64) + `", "config": {"base_url": "http://127.0.0.1:1", "api_key": "k"}},
	         "target": {"intercom": {"token": "t"}}}`
	if err := os.WriteFile(filepath.Join(ws, "ferry.yaml"), []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	out, code := runExtract(t, bin, ws)
	if code != exitFailed || !strings.Contains(out, "its SHA-256 does not match the sha256 pinned in the config; refusing to run it") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

// TestExtractOnAFullDisk: when the disk fills up while staging (here a file
// size limit, which fails writes the same way), the extract stops with a
// clear error, nothing is committed half-way, the workspace still opens, and
// a rerun with room completes exactly.
func TestExtractOnAFullDisk(t *testing.T) {
	bin := needBinaries(t)
	prlimit, err := exec.LookPath("prlimit")
	if err != nil {
		t.Fatalf("prlimit (util-linux) is needed to limit the file size: %v", err)
	}
	var s sourceUnderTest
	for _, x := range sources() {
		if x.plugin == "csv" {
			s = x
		}
	}
	cfg := s.serve(t, noWrap, true)
	ws := extractWorkspace(t, s.plugin, cfg)
	// Create the workspace with room, so the limit hits the staging.
	if _, code := runFerryIn(t, bin, nil, "query", "-w", ws, "SELECT 1"); code == 0 {
		t.Fatal("a query found a workspace before any extract")
	}
	w, err := stage.Open(context.Background(), ws)
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	out, code := runFerryIn(t, bin, []string{prlimit, "--fsize=6000000"}, "extract", "-w", ws, "--plugin-dir", bin.pluginDir)
	if code != exitFailed || !strings.Contains(out, "the disk is full (or a file size limit was reached)") || !strings.Contains(out, "plugin csv, stream tickets") {
		t.Fatalf("extract on a full disk: exit %d\n%s", code, out)
	}
	// Nothing half-way: the staged rows are exactly those of the committed
	// checkpoints (none here, or whole ones).
	w, err = stage.Open(context.Background(), ws)
	if err != nil {
		t.Fatalf("the workspace does not open after a full disk: %v", err)
	}
	var rows, cursors int
	w.DB().QueryRow("SELECT count(*) FROM tickets").Scan(&rows)
	w.DB().QueryRow("SELECT count(*) FROM checkpoints").Scan(&cursors)
	w.Close()
	if cursors == 0 && rows != 0 {
		t.Errorf("%d tickets staged without a committed checkpoint", rows)
	}
	if out, code := runExtract(t, bin, ws); code != 0 {
		t.Fatalf("the rerun with room: exit %d\n%s", code, out)
	}
	compareStaged(t, ws, expected(t, s, cfg))
}

// runFerryIn runs ferry behind a wrapper command (prlimit, say).
func runFerryIn(t *testing.T, bin binaries, wrapper []string, args ...string) (string, int) {
	t.Helper()
	argv := append(append(append([]string{}, wrapper...), bin.ferry), args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), code
}
