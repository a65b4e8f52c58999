package connector

import (
	"context"
	"encoding/json"
	"errors"
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
		format        string
		single, users bool
	}{
		{csvtest.CSV, false, false}, {csvtest.JSONL, false, false}, {csvtest.CSV, true, false}, {csvtest.JSONL, true, false},
		// Users come at the first row that names them: a resumed read
		// brings those first named after its checkpoint, and no other.
		{csvtest.CSV, true, true}, {csvtest.JSONL, true, true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s single=%v users=%v", tt.format, tt.single, tt.users), func(t *testing.T) {
			_, w := writeExport(t, csvtest.Options{Seed: 8, Tickets: 70, Organizations: 12, SingleFile: tt.single, UsersFromTicket: tt.users, Malformed: 7}, tt.format)
			cfg := withConfig(t, w.Config, map[string]any{"checkpoint_every": 4})
			c := New()
			for stream := range w.Files {
				full := readStream(t, c, cfg, stream, nil)
				checkpoints, learned, usersAfter := 0, 0, 0
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
					if strings.Contains(rest.logs.String(), "learned the users") {
						learned++
					}
					for _, o := range want {
						if strings.HasPrefix(o, `record {"id":`) && strings.Contains(o, `"role":`) {
							usersAfter++
						}
					}
				}
				if checkpoints < 3 {
					t.Errorf("%s: %d checkpoints: the test resumes from too few", stream, checkpoints)
				}
				// Every resume but the one from the end learns the users
				// before its checkpoint, and some bring users.
				if tt.users && stream == schema.Tickets && (learned != checkpoints-1 || usersAfter == 0) {
					t.Errorf("%s: %d of %d resumes learned the users before them, %d users came after checkpoints", stream, learned, checkpoints, usersAfter)
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

// usersOf lists the ids of a read's users, in order.
func usersOf(r *recorder) []string {
	var out []string
	for _, e := range r.kinds("record") {
		if e.stream == schema.Users {
			out = append(out, e.id)
		}
	}
	return out
}

// TestResumeLearnsUsers resumes reads of tickets files with
// users_from_ticket after the file changed, or from cursors that do not
// fit it: the resumed read learns the users the rows before its cursor
// brought, so that it brings only users first named after it, and reads
// the file again when those rows are not the ones the cursor was written
// after.
func TestResumeLearnsUsers(t *testing.T) {
	opts := csvtest.Options{Seed: 3, Tickets: 400, EndUsers: 300, UsersFromTicket: true}
	tests := []struct {
		name   string
		format string
		// change changes the export, or the cursor, and returns the
		// cursor to resume from; full is the read of the file as written.
		change func(t *testing.T, w *csvtest.Written, full *recorder) []byte
		// want checks the resumed read; full is the read of the file as
		// it is now, from its first row.
		want func(t *testing.T, full, resumed *recorder, logs string)
	}{
		{"from the end", csvtest.CSV,
			func(t *testing.T, w *csvtest.Written, full *recorder) []byte {
				cps := full.kinds("checkpoint")
				return cps[len(cps)-1].cursor
			},
			func(t *testing.T, full, resumed *recorder, logs string) {
				// Nothing to read, nothing to learn: the cursor goes on
				// counting the users before it.
				cps, before := resumed.kinds("checkpoint"), full.kinds("checkpoint")
				if len(resumed.kinds("record")) > 0 || logs != "" || len(cps) != 1 || string(cps[0].cursor) != string(before[len(before)-1].cursor) {
					t.Errorf("%d records, logs %q, checkpoints %d: want nothing, and the cursor it was given", len(resumed.kinds("record")), logs, len(cps))
				}
			}},
		{"appended", csvtest.JSONL,
			func(t *testing.T, w *csvtest.Written, full *recorder) []byte {
				path := filepath.Join(w.Dir, w.Files[schema.Tickets])
				old := readAll(t, path)
				more := opts
				more.Tickets = 600
				_, longer := writeExport(t, more, csvtest.JSONL)
				all := readAll(t, filepath.Join(longer.Dir, longer.Files[schema.Tickets]))
				if !strings.HasPrefix(all, old) {
					t.Fatal("a longer export of the same seed does not start with the shorter one")
				}
				appendFile(t, path, all[len(old):])
				cps := full.kinds("checkpoint")
				return cps[len(cps)-1].cursor
			},
			func(t *testing.T, full, resumed *recorder, logs string) {
				// The users of the longer file that the shorter one did not
				// name, in the order they come.
				var want []string
				seen := map[string]bool{}
				tickets := 0
				for _, e := range full.kinds("record") {
					if e.stream == schema.Tickets {
						tickets++
					}
					if e.stream == schema.Users {
						if tickets > 400 && !seen[e.id] {
							want = append(want, e.id)
						}
						seen[e.id] = true
					}
				}
				if got := usersOf(resumed); len(want) == 0 || !slices.Equal(got, want) {
					t.Errorf("users %q, want %q: those first named in the appended rows", got, want)
				}
				if !strings.Contains(logs, "learned the users") || strings.Contains(logs, "again") {
					t.Errorf("logs %q: want the users learned, and the file not read again", logs)
				}
			}},
		{"edited before the cursor", csvtest.JSONL,
			func(t *testing.T, w *csvtest.Written, full *recorder) []byte {
				// A requester changed in a row past the part of the file
				// its fingerprint covers, before a checkpoint: same size,
				// same start, another set of users.
				path := filepath.Join(w.Dir, w.Files[schema.Tickets])
				data := readAll(t, path)
				cursor := full.kinds("checkpoint")[len(full.kinds("checkpoint"))-3].cursor
				var c fileCursor
				if err := json.Unmarshal(cursor, &c); err != nil {
					t.Fatal(err)
				}
				// A requester the rows before the cursor name more than
				// once: the edit adds a user and takes none away.
				const key = `"requester":{"id":`
				at := -1
				for i := headBytes; i < int(c.Offset); i++ {
					j := strings.Index(data[i:c.Offset], key)
					if j < 0 {
						break
					}
					i += j + len(key)
					if strings.Count(data[:c.Offset], key+data[i:i+6]) > 1 {
						at = i
						break
					}
				}
				if c.Offset <= headBytes || at < 0 {
					t.Fatalf("no row to edit between byte %d and the checkpoint at %d", headBytes, c.Offset)
				}
				replaceFile(t, path, data[:at]+"299999"+data[at+6:])
				return cursor
			},
			func(t *testing.T, full, resumed *recorder, logs string) {
				if got, want := outcomes(t, resumed.events), outcomes(t, full.events); !slices.Equal(got, want) {
					t.Errorf("%d outcomes, want the %d of a read from the first row", len(got), len(want))
				}
				if !strings.Contains(logs, "the file was edited: reading it again from its first row") {
					t.Errorf("logs %q: want the edit named", logs)
				}
			}},
		{"a cursor inside a row", csvtest.CSV,
			func(t *testing.T, w *csvtest.Written, full *recorder) []byte {
				cursor := full.kinds("checkpoint")[3].cursor
				var c fileCursor
				if err := json.Unmarshal(cursor, &c); err != nil {
					t.Fatal(err)
				}
				c.Offset += 5
				return jsonOf(t, c)
			},
			func(t *testing.T, full, resumed *recorder, logs string) {
				if got, want := outcomes(t, resumed.events), outcomes(t, full.events); !slices.Equal(got, want) {
					t.Errorf("%d outcomes, want the %d of a read from the first row", len(got), len(want))
				}
				if !strings.Contains(logs, "reading it again from its first row") {
					t.Errorf("logs %q: want the read started again", logs)
				}
			}},
		{"a cursor that counts other users", csvtest.CSV,
			func(t *testing.T, w *csvtest.Written, full *recorder) []byte {
				cursor := full.kinds("checkpoint")[3].cursor
				var c fileCursor
				if err := json.Unmarshal(cursor, &c); err != nil {
					t.Fatal(err)
				}
				c.Users++
				return jsonOf(t, c)
			},
			func(t *testing.T, full, resumed *recorder, logs string) {
				if got := len(usersOf(resumed)); got != len(usersOf(full)) || !strings.Contains(logs, "again") {
					t.Errorf("%d users, logs %q: want the file read again, with its %d users", got, logs, len(usersOf(full)))
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, w := writeExport(t, opts, tt.format)
			cfg := withConfig(t, w.Config, map[string]any{"checkpoint_every": 50})
			c := New()
			cursor := tt.change(t, w, readStream(t, c, cfg, schema.Tickets, nil))
			resumed := readStream(t, c, cfg, schema.Tickets, cursor)
			tt.want(t, readStream(t, c, cfg, schema.Tickets, nil), resumed, resumed.logs.String())
		})
	}

	t.Run("canceled while learning", func(t *testing.T) {
		_, w := writeExport(t, opts, csvtest.CSV)
		cfg := withConfig(t, w.Config, map[string]any{"checkpoint_every": 50})
		st := streamOf(t, New(), cfg, schema.Tickets)
		cps := readStream(t, New(), cfg, schema.Tickets, nil).kinds("checkpoint")
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		rec := &recorder{}
		err := st.read(ctx, cps[len(cps)-2].cursor, rec)
		if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "learn the users") || len(rec.events) > 0 {
			t.Errorf("err %v, %d events: want the read stopped, having sent nothing", err, len(rec.events))
		}
	})
}
