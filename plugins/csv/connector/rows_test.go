package connector

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ferryhq/ferry/sdk/schema"
)

// readBytes reads data as the tickets file of cfg, directly into a
// recorder.
func readBytes(t *testing.T, c *Connector, cfg string, data string) (*recorder, error) {
	t.Helper()
	rec := &recorder{}
	st := streamOf(t, c, json.RawMessage(cfg), schema.Tickets)
	err := st.readFrom(t.Context(), strings.NewReader(data), int64(len(data)), nil, rec)
	return rec, err
}

// TestCSVLines reads a CSV with the usual traps: a byte-order mark,
// CRLF line ends, blank lines, a field over two lines, a repeated header
// name and no line end at the end. Made-up ids, messages and cursors all
// give the right lines.
func TestCSVLines(t *testing.T) {
	data := "\uFEFFSubject,Notes,Notes\r\n" + // 1
		"one,a,b\r\n" + // 2
		"\r\n" + // 3
		"\"two\r\nlines\",c,d\n" + // 4-5
		"\n" + // 6
		"three,e,\"f\"\"g\"" // 7
	cfg := `{"checkpoint_every": 1, "files": {"tickets": {"path": "t.csv", "columns": {"subject": "Subject"}, "custom_fields": ["Notes"]}}}`
	rec, err := readBytes(t, New(), cfg, data)
	if err != nil {
		t.Fatal(err)
	}
	var ids, subjects, lines []string
	for _, e := range rec.events {
		switch e.kind {
		case "record":
			tk := e.rec.(*schema.Ticket)
			ids, subjects = append(ids, tk.ID), append(subjects, tk.Subject)
		case "checkpoint":
			var c fileCursor
			if err := json.Unmarshal(e.cursor, &c); err != nil {
				t.Fatal(err)
			}
			lines = append(lines, string(rune('0'+c.Line)))
		}
	}
	if want := []string{"t.csv:2", "t.csv:4", "t.csv:7"}; !slices.Equal(ids, want) {
		t.Errorf("ids %q, want %q", ids, want)
	}
	if want := []string{"one", "two\nlines", "three"}; !slices.Equal(subjects, want) {
		t.Errorf("subjects %q, want %q", subjects, want)
	}
	// Newlines before each checkpoint: after line 2, after line 5, and at
	// the end (line 7 has no line end).
	if want := []string{"2", "5", "6"}; !slices.Equal(lines, want) {
		t.Errorf("checkpoints after %q newlines, want %q", lines, want)
	}
	last := rec.kinds("record")[2].rec.(*schema.Ticket)
	if string(last.Raw) != `{"Subject":"three","Notes":"e","Notes (2)":"f\"g"}` {
		t.Errorf("raw %s: a repeated header name gets a number, the mark is not in the first", last.Raw)
	}
	if string(last.CustomFields) != `{"Notes":"e"}` {
		t.Errorf("custom fields %s: a repeated name is its first column", last.CustomFields)
	}
}

// TestCommentsFromTicket turns a ticket row's description and resolution
// into comments: an empty body makes none, and a bad value in a comment's
// column fails that comment, not the ticket.
func TestCommentsFromTicket(t *testing.T) {
	data := "Ticket ID,Created,Email,Description,Resolution,Resolved At\n" +
		"1,2024-01-01 10:00:00,a@x.example,Help me,Fixed,2024-01-02 11:00:00\n" +
		"2,2024-01-03 10:00:00,b@x.example,\"  Broken,\n  badly \",,\n" +
		"3,2024-01-04 10:00:00,c@x.example,,Done,later\n"
	cfg := `{"files": {"tickets": {"path": "t.csv", "columns": {"id": "Ticket ID", "created_at": "Created", "requester_id": "Email"},
		"time_format": "2006-01-02 15:04:05", "comments_from_ticket": [
			{"id_suffix": "q", "columns": {"body_text": "Description", "author_id": "Email"}},
			{"columns": {"body_text": "Resolution", "created_at": "Resolved At"}, "defaults": {"public": "no", "author_id": "agent@x.example"}}]}}}`
	rec, err := readBytes(t, New(), cfg, data)
	if err != nil {
		t.Fatal(err)
	}
	at := func(s string) time.Time { v, _ := time.Parse(time.DateTime, s); return v }
	want := []schema.Record{
		&schema.Ticket{ID: "1", RequesterID: "a@x.example", CreatedAt: at("2024-01-01 10:00:00")},
		&schema.Comment{ID: "1-q", TicketID: "1", AuthorID: "a@x.example", Public: true, BodyText: "Help me", CreatedAt: at("2024-01-01 10:00:00")},
		&schema.Comment{ID: "1-resolution", TicketID: "1", AuthorID: "agent@x.example", BodyText: "Fixed", CreatedAt: at("2024-01-02 11:00:00")},
		&schema.Ticket{ID: "2", RequesterID: "b@x.example", CreatedAt: at("2024-01-03 10:00:00")},
		&schema.Comment{ID: "2-q", TicketID: "2", AuthorID: "b@x.example", Public: true, BodyText: "  Broken,\n  badly ", CreatedAt: at("2024-01-03 10:00:00")},
		&schema.Ticket{ID: "3", RequesterID: "c@x.example", CreatedAt: at("2024-01-04 10:00:00")},
	}
	var got []schema.Record
	for _, e := range rec.kinds("record") {
		got = append(got, e.rec)
	}
	if len(got) != len(want) {
		t.Fatalf("%d records, want %d", len(got), len(want))
	}
	for i := range want {
		if g, w := canonical(t, got[i]), canonical(t, want[i]); !jsonEqual(t, g, w) {
			t.Errorf("record %d:\n  got  %v\n  want %v", i, g, w)
		}
	}
	if raw := string(rec.kinds("record")[1].rec.(*schema.Comment).Raw); raw != `{"Ticket ID":"1","Email":"a@x.example","Description":"Help me"}` {
		t.Errorf("a ticket's comment's raw is %s: want the columns it was made of", raw)
	}
	errs := rec.kinds("error")
	if len(errs) != 1 || errs[0].stream != schema.Comments || errs[0].id != "3-resolution" ||
		!strings.HasPrefix(errs[0].reason, `t.csv:5: column "Resolved At" (created_at): "later" is not a time`) {
		t.Errorf("errors %+v, want one for comment 3-resolution", errs)
	}
}

func jsonEqual(t *testing.T, a, b any) bool {
	t.Helper()
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// TestRowTooLong: a CSV row past the bound stops the read, since an
// unclosed quote leaves no row boundary to trust; a JSON line past it is
// one record error, and the next line reads.
func TestRowTooLong(t *testing.T) {
	c := &Connector{maxRow: 1 << 10}
	long := strings.Repeat("x", 100<<10) // past the bound and the read buffer
	_, err := readBytes(t, c, `{"files": {"tickets": {"path": "t.csv", "columns": {"id": ""}}}}`,
		"subject\nfine\n\"never closed\n"+long+"\nmore\n")
	if err == nil || !strings.Contains(err.Error(), "t.csv:3: a row is longer than 1 KiB") {
		t.Errorf("err %v, want the read to stop at t.csv:3", err)
	}

	rec, err := readBytes(t, c, `{"files": {"tickets": {"path": "t.jsonl", "columns": {"id": ""}}}}`,
		`{"subject": "fine"}`+"\n"+`{"subject": "`+long+`"}`+"\n"+`{"subject": "after"}`+"\n")
	if err != nil {
		t.Fatal(err)
	}
	errs, recs := rec.kinds("error"), rec.kinds("record")
	if len(errs) != 1 || errs[0].reason != "t.jsonl:2: the line is longer than 1 KiB" || len(recs) != 2 || recs[1].id != "t.jsonl:3" {
		t.Errorf("errors %+v, records %d: want line 2 refused and line 3 read", errs, len(recs))
	}
}

// TestCanceledRead: a read whose context ends stops with the context's
// error, not a final checkpoint that would claim the rest of the file.
func TestCanceledRead(t *testing.T) {
	var data strings.Builder
	data.WriteString("subject\n")
	for range 5000 {
		data.WriteString("a subject\n")
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	rec := &recorder{}
	st := streamOf(t, New(), json.RawMessage(`{"files": {"tickets": "t.csv"}}`), schema.Tickets)
	err := st.readFrom(ctx, strings.NewReader(data.String()), int64(data.Len()), nil, rec)
	if err == nil {
		t.Fatal("a canceled read returned nil")
	}
	if cps := rec.kinds("checkpoint"); len(cps) > 0 {
		t.Errorf("a canceled read checkpointed %s", cps[len(cps)-1].cursor)
	}
}
