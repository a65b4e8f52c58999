package connector

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ferryhq/ferry/plugins/csv/csvtest"
	"github.com/ferryhq/ferry/sdk/schema"
)

// outcomes are a read's records and record errors in order, each as one
// comparable line.
func outcomes(t *testing.T, events []event) []string {
	t.Helper()
	var out []string
	for _, e := range events {
		switch e.kind {
		case "record":
			data, err := json.Marshal(e.rec)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, "record "+string(data))
		case "error":
			out = append(out, fmt.Sprintf("error %s %s %s", e.stream, e.id, e.reason))
		}
	}
	return out
}

// TestResumeFromEveryCheckpoint reads each file whole, then again from
// every checkpoint of that read: each resumed read brings exactly what
// came after its checkpoint, in the same order, malformed rows and line
// numbers included.
func TestResumeFromEveryCheckpoint(t *testing.T) {
	tests := []struct {
		format string
		single bool
	}{
		{csvtest.CSV, false}, {csvtest.JSONL, false}, {csvtest.CSV, true}, {csvtest.JSONL, true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s single=%v", tt.format, tt.single), func(t *testing.T) {
			_, w := writeExport(t, csvtest.Options{Seed: 8, Tickets: 70, Organizations: 12, SingleFile: tt.single, Malformed: 5}, tt.format)
			cfg := withConfig(t, w.Config, map[string]any{"checkpoint_every": 4})
			c := New()
			for stream := range w.Files {
				full := readStream(t, c, cfg, stream, nil)
				checkpoints := 0
				for i, e := range full.events {
					if e.kind != "checkpoint" {
						continue
					}
					checkpoints++
					want := outcomes(t, full.events[i+1:])
					rest := readStream(t, c, cfg, stream, e.cursor)
					got := outcomes(t, rest.events)
					if !slices.Equal(got, want) {
						t.Errorf("%s from checkpoint %d (%s): %d outcomes, want the %d after it", stream, checkpoints, e.cursor, len(got), len(want))
						for j := range min(len(got), len(want)) {
							if got[j] != want[j] {
								t.Errorf("first difference:\n  got  %s\n  want %s", got[j], want[j])
								break
							}
						}
					}
					if strings.Contains(rest.logs.String(), "again") {
						t.Errorf("%s: a resume of an unchanged file read it again: %s", stream, rest.logs.String())
					}
				}
				if checkpoints < 3 {
					t.Errorf("%s: %d checkpoints: the test resumes from too few", stream, checkpoints)
				}
			}
		})
	}
}

// TestChangedFile resumes from the final cursor of a read after the file
// or the config changed: an appended file reads on from the cursor; any
// other change reads the file again from its first row, and says why.
func TestChangedFile(t *testing.T) {
	for _, format := range []string{csvtest.CSV, csvtest.JSONL} {
		t.Run(format, func(t *testing.T) {
			tests := []struct {
				name string
				// change changes the export and returns the config to
				// read it with.
				change func(t *testing.T, w *csvtest.Written) json.RawMessage
				// rows the resumed read brings; -1 for every row of the
				// changed file.
				rows int
				says string
			}{
				{"unchanged", func(t *testing.T, w *csvtest.Written) json.RawMessage { return w.Config }, 0, ""},
				{"appended", func(t *testing.T, w *csvtest.Written) json.RawMessage {
					more := generateTickets(t, format, 120, 1)
					old := readAll(t, filepath.Join(w.Dir, w.Files[schema.Tickets]))
					// The new rows of a longer export of the same seed: an
					// export that grew.
					if !strings.HasPrefix(more, old) {
						t.Fatal("a longer export of the same seed does not start with the shorter one")
					}
					appendFile(t, filepath.Join(w.Dir, w.Files[schema.Tickets]), more[len(old):])
					return w.Config
				}, 40, ""},
				{"shrunk", func(t *testing.T, w *csvtest.Written) json.RawMessage {
					replaceFile(t, filepath.Join(w.Dir, w.Files[schema.Tickets]), generateTickets(t, format, 50, 1))
					return w.Config
				}, -1, "smaller"},
				{"replaced", func(t *testing.T, w *csvtest.Written) json.RawMessage {
					replaceFile(t, filepath.Join(w.Dir, w.Files[schema.Tickets]), generateTickets(t, format, 100, 2))
					return w.Config
				}, -1, "start of the file changed"},
				{"remapped", func(t *testing.T, w *csvtest.Written) json.RawMessage {
					var cfg map[string]any
					if err := json.Unmarshal(w.Config, &cfg); err != nil {
						t.Fatal(err)
					}
					cfg["files"].(map[string]any)[schema.Tickets].(map[string]any)["custom_fields"] = []string{"Channel"}
					return jsonOf(t, cfg)
				}, -1, "config changed"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					_, w := writeExport(t, csvtest.Options{Seed: 1, Tickets: 80, SingleFile: true}, format)
					c := New()
					full := readStream(t, c, w.Config, schema.Tickets, nil)
					cps := full.kinds("checkpoint")
					cursor := cps[len(cps)-1].cursor
					cfg := tt.change(t, w)
					again := readStream(t, c, cfg, schema.Tickets, cursor)
					var tickets int
					for _, e := range again.kinds("record") {
						if e.stream == schema.Tickets {
							tickets++
						}
					}
					want := tt.rows
					if want < 0 {
						want = len(readStream(t, c, cfg, schema.Tickets, nil).kinds("record")) - countComments(readStream(t, c, cfg, schema.Tickets, nil))
					}
					if tickets != want {
						t.Errorf("the resumed read brought %d tickets, want %d", tickets, want)
					}
					if errs := again.kinds("error"); len(errs) > 0 {
						t.Errorf("record errors: %v", errs[0].reason)
					}
					logs := again.logs.String()
					if tt.says == "" && logs != "" || !strings.Contains(logs, tt.says) {
						t.Errorf("logs %q, want a line that says %q", logs, tt.says)
					}
				})
			}
		})
	}
}

func countComments(r *recorder) int {
	n := 0
	for _, e := range r.kinds("record") {
		if e.stream == schema.Comments {
			n++
		}
	}
	return n
}

// generateTickets returns the tickets file of a single-file export.
func generateTickets(t *testing.T, format string, tickets int, seed uint64) string {
	t.Helper()
	_, w := writeExport(t, csvtest.Options{Seed: seed, Tickets: tickets, SingleFile: true}, format)
	return readAll(t, filepath.Join(w.Dir, w.Files[schema.Tickets]))
}

func readAll(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func appendFile(t *testing.T, path, data string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(data); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func replaceFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}
