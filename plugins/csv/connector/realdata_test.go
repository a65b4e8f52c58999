package connector

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ferryhq/ferry/sdk/schema"
)

// realExport is a real help desk's single-file CSV export (8,469 tickets;
// see SOURCES.md beside it), kept outside the project.
const realExport = "../../../../shared/data/support-tickets-csv/customer_support_tickets.csv"

// TestRealExport reads the real export with a mapping written here, and
// checks every ticket, comment and user against the file parsed
// independently; then it resumes from every checkpoint.
func TestRealExport(t *testing.T) {
	path, err := filepath.Abs(realExport)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		t.Skipf("no real export at %s (shared/data is not beside the project): skipped", path)
	}
	statuses := map[string]string{"Open": "open", "Pending Customer Response": "pending", "Closed": "closed"}
	priorities := map[string]string{"Low": "low", "Medium": "normal", "High": "high", "Critical": "urgent"}
	custom := []string{"Product Purchased", "Ticket Channel", "Customer Age", "Customer Gender", "First Response Time", "Customer Satisfaction Rating"}
	// The export has no users file: each row names its customer.
	cfg := jsonOf(t, Config{CheckpointEvery: 1000, Files: map[string]File{"tickets": {
		Path: path,
		Columns: map[string]string{
			"id": "Ticket ID", "subject": "Ticket Subject", "status": "Ticket Status", "priority": "Ticket Priority",
			"type": "Ticket Type", "requester_id": "Customer Email", "created_at": "Date of Purchase",
		},
		Values:       map[string]map[string]string{"status": statuses, "priority": priorities},
		TimeFormat:   Layouts{"2006-01-02", "2006-01-02 15:04:05"},
		CustomFields: custom,
		CommentsFromTicket: []TicketComment{
			{IDSuffix: "description", Columns: map[string]string{"body_text": "Ticket Description", "author_id": "Customer Email"}},
			{IDSuffix: "resolution", Columns: map[string]string{"body_text": "Resolution", "created_at": "Time to Resolution"}},
		},
		UsersFromTicket: []TicketUser{
			{Columns: map[string]string{"email": "Customer Email", "name": "Customer Name"}, CustomFields: []string{"Customer Age", "Customer Gender"}},
		},
	}}})
	if err := New().Check(t.Context(), cfg); err != nil {
		t.Fatalf("check: %v", err)
	}
	res := read(t, cfg, nil, nil)
	for _, m := range res.Outcomes("record_error", schema.Tickets) {
		t.Errorf("record error %s: %s", m.SourceID, m.Reason)
	}
	for _, m := range res.Outcomes("record_error", schema.Comments) {
		t.Errorf("record error %s: %s", m.SourceID, m.Reason)
	}
	for _, m := range res.Outcomes("record_error", schema.Users) {
		t.Errorf("record error %s: %s", m.SourceID, m.Reason)
	}

	// The file, parsed on its own.
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	day := func(s string) time.Time {
		v, err := time.Parse("2006-01-02", s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	var tickets, comments, users []schema.Record
	seen := map[string]bool{}
	for _, row := range rows[1:] {
		get := func(name string) string { return row[col[name]] }
		// A customer is a user at the first row with its email, named as
		// that row names it; its id is the email in lower case, and so is
		// every reference to it.
		email := get("Customer Email")
		id := strings.ToLower(email)
		if !seen[id] {
			seen[id] = true
			users = append(users, &schema.User{ID: id, Role: schema.RoleEndUser, Name: get("Customer Name"), Email: email, Active: true,
				CustomFields: jsonOf(t, map[string]string{"Customer Age": get("Customer Age"), "Customer Gender": get("Customer Gender")})})
		}
		cf := map[string]string{}
		for _, c := range custom {
			if v := get(c); v != "" {
				cf[c] = v
			}
		}
		tk := &schema.Ticket{
			ID: get("Ticket ID"), Subject: get("Ticket Subject"), Status: statuses[get("Ticket Status")], Priority: priorities[get("Ticket Priority")],
			Type: get("Ticket Type"), RequesterID: id, CreatedAt: day(get("Date of Purchase")), CustomFields: jsonOf(t, cf),
		}
		tickets = append(tickets, tk)
		if body := get("Ticket Description"); body != "" {
			comments = append(comments, &schema.Comment{ID: tk.ID + "-description", TicketID: tk.ID, AuthorID: tk.RequesterID, Public: true, BodyText: body, CreatedAt: tk.CreatedAt})
		}
		if body := get("Resolution"); body != "" {
			at := tk.CreatedAt
			if v := get("Time to Resolution"); v != "" {
				if at, err = time.Parse("2006-01-02 15:04:05", v); err != nil {
					t.Fatal(err)
				}
			}
			comments = append(comments, &schema.Comment{ID: tk.ID + "-resolution", TicketID: tk.ID, Public: true, BodyText: body, CreatedAt: at})
		}
	}
	if len(tickets) != 8469 {
		t.Errorf("the file has %d tickets, SOURCES.md says 8,469", len(tickets))
	}
	if got := len(res.Records(schema.Tickets)); got != len(tickets) {
		t.Errorf("read %d tickets, want %d", got, len(tickets))
	}
	for _, d := range sameRecords(t, schema.Tickets, res.Records(schema.Tickets), tickets) {
		t.Error(d)
	}
	for _, d := range sameRecords(t, schema.Comments, res.Records(schema.Comments), comments) {
		t.Error(d)
	}
	// As many users as distinct customer emails (8,320), in the order the
	// file first names them.
	if got := len(res.Records(schema.Users)); got != len(users) || len(users) != 8320 {
		t.Errorf("read %d users, the file has %d distinct customer emails (8,320 when this test was written)", got, len(users))
	}
	for _, d := range sameRecords(t, schema.Users, res.Records(schema.Users), users) {
		t.Error(d)
	}
	for i, u := range res.Records(schema.Users) {
		if i < len(users) && u.SourceID() != users[i].SourceID() {
			t.Errorf("user %d is %s, want %s: users come in the order the file first names them", i, u.SourceID(), users[i].SourceID())
			break
		}
	}
	// Raw is the whole row: all 17 columns.
	for _, r := range res.Records(schema.Tickets)[:10] {
		if raw := rawOf(t, r); len(raw) != len(rows[0]) {
			t.Errorf("ticket %s: raw has %d columns, the file %d", r.SourceID(), len(raw), len(rows[0]))
		}
	}
	var cps int
	for _, cp := range res.Checkpoints(schema.Tickets) {
		if len(cp) > 0 {
			var c fileCursor
			if err := json.Unmarshal(cp, &c); err != nil {
				t.Fatal(err)
			}
			cps++
		}
	}
	if cps < 5 {
		t.Errorf("%d checkpoints with a cursor: the resumes below test too few", cps)
	}
	t.Logf("%d tickets, %d comments, %d users, %d checkpoints", len(res.Records(schema.Tickets)), len(res.Records(schema.Comments)), len(res.Records(schema.Users)), cps)

	// A resume from every checkpoint brings exactly what came after it:
	// users first named after it, and none named before.
	c := New()
	full := readStream(t, c, cfg, schema.Tickets, nil)
	n := 0
	for i, e := range full.events {
		if e.kind != "checkpoint" {
			continue
		}
		n++
		rest := readStream(t, c, cfg, schema.Tickets, e.cursor)
		// Compared as values rather than as outcomes' JSON, which would
		// take seconds for these resumes of up to 28,000 records.
		isCheckpoint := func(e event) bool { return e.kind == "checkpoint" }
		got := slices.DeleteFunc(slices.Clone(rest.events), isCheckpoint)
		want := slices.DeleteFunc(slices.Clone(full.events[i+1:]), isCheckpoint)
		if !slices.EqualFunc(got, want, func(a, b event) bool { return reflect.DeepEqual(a, b) }) {
			t.Errorf("from checkpoint %d: %d outcomes, want the %d after it", n, len(got), len(want))
		}
		if logs := rest.logs.String(); strings.Contains(logs, "again") {
			t.Errorf("from checkpoint %d: %s", n, logs)
		} else if n == cps-1 {
			t.Logf("the last resume before the end: %s", strings.TrimSpace(logs))
		}
	}
}
