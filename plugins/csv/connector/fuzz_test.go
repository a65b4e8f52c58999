package connector

import (
	"bytes"
	"encoding/json"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The fuzz tests feed arbitrary bytes to a stream as its file. Whatever
// the bytes, the read never panics, and either fails as a whole with a
// message that names the file (no header, a row over the size bound), or
// accounts for every line: each row ends as a record or a record error
// that names its line, the lines between rows are blank, and each
// checkpoint's position is exact, so that a resumed read goes on with the
// same outcomes.

// fuzzMaxRow bounds a row in the fuzz tests, so that the bound is reached.
const fuzzMaxRow = 2 << 10

func FuzzCSVRows(f *testing.F) {
	seeds := []string{
		"",
		"subject,status\n",
		"subject,status,tags,created_at\nPrinter,open,a;b,2024-01-02 03:04:05\nScanner,closed,,2024-02-03T04:05:06Z\n",
		"subject,created_at\r\n\"multi\r\nline, with \"\"quotes\"\"\",2024-01-02 03:04:05\r\n",
		"\uFEFFsubject,updated_at\n\n\nlate,2024-01-01 00:00:00\n\n",
		"subject,status\nbare \"quote\" here,open\n\"stray\" quote,open\nok,open",
		"subject,status\n\"never closed,open\nmore,rows\n",
		"subject,status\none field\na,b,c\n",
		"subject,created_at\ncaf\xe9,2024-01-01 00:00:00\nx,not a time\n",
		"subject\n\"" + strings.Repeat("long ", 600) + "\"\nafter\n",
		"a,,b\n,,\n\r\n\r",
		"0", // a header without a line end, and no rows
		"\"head\ner\",tags\nx,\"a;\nb\"\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s), false)
	}
	f.Add([]byte("subject,status\nbare \"quote\" here,open\n"), true)
	f.Fuzz(func(t *testing.T, data []byte, lazy bool) {
		cfg := jsonOf(t, map[string]any{"checkpoint_every": 1, "files": map[string]any{"tickets": map[string]any{
			"path": "fuzz.csv", "lazy_quotes": lazy, "columns": map[string]string{"id": ""},
			"time_format": "2006-01-02 15:04:05", "list_separator": ";", "custom_fields": []string{},
		}}})
		fuzzStream(t, cfg, data, func(line []byte) bool {
			// csv.Reader skips lines that are empty but for their line end.
			return len(line) == 0 || string(line) == "\r"
		})
	})
}

func FuzzJSONL(f *testing.F) {
	seeds := []string{
		"",
		`{"subject": "Printer", "status": "open", "tags": ["a", "b"], "created_at": "2024-01-02T03:04:05Z"}` + "\n",
		"\uFEFF{\"subject\": \"x\"}\r\n\n  \n{\"subject\": 1, \"tags\": \"a,b\"}",
		`["not", "an", "object"]` + "\n" + `"text"` + "\n42\nnull\n",
		`{"subject": {"nested": true}}` + "\n" + `{"tags": [[1]]}` + "\n" + `{"created_at": "yesterday"}` + "\n",
		`{"subject": "trunc` + "\n" + `{"subject": "caf` + "\xe9\"}\n",
		`{"subject": "` + strings.Repeat("long ", 600) + `"}` + "\n{}\n",
		`{"requester": {"id": 5}, "requester_id": null, "cc_ids": [1, "2", null]}`,
		// Users named again, with a bad time first, then a good one.
		`{"requester": {"id": 5, "since": "soon"}}` + "\n" + `{"requester": {"id": 5, "since": "2024-01-01T00:00:00Z"}}` + "\n" +
			`{"requester": {"id": [5]}}` + "\n" + `{"requester": {"id": 6}}` + "\n" + `{"requester": {"id": 5, "email": "X@Y"}}` + "\n",
		// A line over the bound that the file ends without a line end.
		`{"subject": "` + strings.Repeat("x", 3*fuzzMaxRow),
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// Rows name users too, so that a resume from the middle learns
		// the users before it.
		cfg := jsonOf(t, map[string]any{"checkpoint_every": 1, "files": map[string]any{"tickets": map[string]any{
			"path": "fuzz.jsonl", "columns": map[string]string{"id": ""}, "custom_fields": []string{"tags", "requester.id"},
			"users_from_ticket": []any{map[string]any{"columns": map[string]string{"id": "requester.id", "email": "requester.email", "created_at": "requester.since"}}},
		}}})
		fuzzStream(t, cfg, data, func(line []byte) bool {
			return len(bytes.TrimSpace(bytes.TrimPrefix(line, []byte("\uFEFF")))) == 0
		})
	})
}

// rowLine reads the line a row's outcome names: its made-up id or its
// record error's reason start with file:line.
var rowLine = regexp.MustCompile(`^fuzz\.(?:csv|jsonl):(\d+)(?::|$)`)

// fuzzStream reads data as the stream of cfg and checks every line is
// accounted for; blank says which lines may lie between rows.
func fuzzStream(t *testing.T, cfg json.RawMessage, data []byte, blank func([]byte) bool) {
	c := &Connector{maxRow: fuzzMaxRow}
	st := streamOf(t, c, cfg, "tickets")
	full := &recorder{}
	if err := st.readFrom(t.Context(), bytes.NewReader(data), int64(len(data)), nil, full); err != nil {
		if !strings.HasPrefix(err.Error(), st.s.display) {
			t.Fatalf("a failed read must name the file: %v", err)
		}
		return
	}
	src, err := st.open(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("the read succeeded but the file does not open: %v", err)
	}
	lines := bytes.Split(data, []byte("\n"))
	lineStart := make([]int64, len(lines))
	for i := 1; i < len(lines); i++ {
		lineStart[i] = lineStart[i-1] + int64(len(lines[i-1])) + 1
	}
	prev := src.start()
	var outs []event
	var cursors [][]byte
	for _, e := range full.events {
		if e.kind != "checkpoint" {
			outs = append(outs, e)
			continue
		}
		cursors = append(cursors, e.cursor)
		var cur fileCursor
		if err := json.Unmarshal(e.cursor, &cur); err != nil {
			t.Fatal(err)
		}
		if cur.Offset < prev.offset || cur.Offset > int64(len(data)) {
			t.Fatalf("checkpoint at byte %d after one at %d, in %d bytes", cur.Offset, prev.offset, len(data))
		}
		if want := int64(bytes.Count(data[:cur.Offset], []byte("\n"))); cur.Line != want {
			t.Fatalf("checkpoint at byte %d says %d lines before it; there are %d", cur.Offset, cur.Line, want)
		}
		first := prev.line + 1 // the first line after the previous checkpoint
		if len(outs) > 0 {
			id := outs[0].id
			if outs[0].kind == "error" {
				id = outs[0].reason
			}
			m := rowLine.FindStringSubmatch(id)
			if m == nil || outs[0].stream != "tickets" {
				t.Fatalf("the row's first outcome %+v does not name its line", outs[0])
			}
			start, _ := strconv.ParseInt(m[1], 10, 64)
			if start < first || start > cur.Line+1 {
				t.Fatalf("a row on line %d between checkpoints after lines %d and %d", start, prev.line, cur.Line)
			}
			for n := first; n < start; n++ {
				if !blank(lines[n-1]) {
					t.Fatalf("line %d (%q), before the row on line %d, is not blank and became nothing", n, lines[n-1], start)
				}
			}
			for _, o := range outs[1:] {
				if o.stream == "tickets" {
					t.Fatalf("two rows between two checkpoints of one row each: %+v", o)
				}
			}
		} else {
			// No row: whatever lines start in what the checkpoint passed
			// are blank.
			for n := first; n <= int64(len(lines)) && lineStart[n-1] < cur.Offset; n++ {
				if lineStart[n-1] >= prev.offset && !blank(lines[n-1]) {
					t.Fatalf("line %d (%q) is not blank and became nothing", n, lines[n-1])
				}
			}
		}
		prev, outs = position{offset: cur.Offset, line: cur.Line}, nil
	}
	if len(outs) > 0 {
		t.Fatalf("%d outcomes after the last checkpoint", len(outs))
	}
	if prev.offset != int64(len(data)) {
		t.Fatalf("the last checkpoint is at byte %d of %d", prev.offset, len(data))
	}

	// Resuming from a checkpoint in the middle brings the same outcomes.
	if len(cursors) < 2 {
		return
	}
	mid := cursors[len(cursors)/2-1]
	var after []event
	for i, e := range full.events {
		if e.kind == "checkpoint" && bytes.Equal(e.cursor, mid) {
			after = full.events[i+1:]
			break
		}
	}
	rest := &recorder{}
	if err := st.readFrom(t.Context(), bytes.NewReader(data), int64(len(data)), mid, rest); err != nil {
		t.Fatalf("resume from %s: %v", mid, err)
	}
	if got, want := outcomes(t, rest.events), outcomes(t, after); !slices.Equal(got, want) {
		t.Fatalf("resumed from %s:\n got  %q\n want %q", mid, got, want)
	}
}
