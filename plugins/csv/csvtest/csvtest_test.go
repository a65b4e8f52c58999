package csvtest

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestGenerateIsDeterministic(t *testing.T) {
	for _, format := range []string{CSV, JSONL} {
		opts := Options{Seed: 9, Tickets: 40, Malformed: 3}
		a, err := Generate(opts).Write(t.TempDir(), format)
		if err != nil {
			t.Fatal(err)
		}
		b, err := Generate(opts).Write(t.TempDir(), format)
		if err != nil {
			t.Fatal(err)
		}
		for stream, name := range a.Files {
			x, _ := os.ReadFile(filepath.Join(a.Dir, name))
			y, _ := os.ReadFile(filepath.Join(b.Dir, name))
			if len(x) == 0 || !bytes.Equal(x, y) {
				t.Errorf("%s %s: two writes of the same options differ (or are empty)", format, stream)
			}
		}
		if !reflect.DeepEqual(a.Malformed, b.Malformed) {
			t.Errorf("%s: malformed rows moved between writes", format)
		}
	}
	if reflect.DeepEqual(Generate(Options{Seed: 1}).Tickets, Generate(Options{Seed: 2}).Tickets) {
		t.Error("two seeds made the same tickets")
	}
}

func TestExportShape(t *testing.T) {
	e := Generate(Options{Seed: 3, Tickets: 200})
	users := map[string]*User{}
	for _, u := range e.Users {
		users[u.ID] = u
	}
	orgs := map[string]bool{}
	for _, o := range e.Organizations {
		orgs[o.ID] = true
	}
	comments := map[string]int{}
	for _, c := range e.Comments {
		comments[c.TicketID]++
		if users[c.AuthorID] == nil {
			t.Errorf("comment %s: author %s is not a user", c.ID, c.AuthorID)
		}
		if c.CreatedAt.After(e.opts.End) {
			t.Errorf("comment %s is after End", c.ID)
		}
	}
	var multiline, quoted, solved int
	for _, tk := range e.Tickets {
		if u := users[tk.RequesterID]; u == nil || u.Agent {
			t.Errorf("ticket %s: requester %s is not a customer", tk.ID, tk.RequesterID)
		}
		if tk.OrganizationID != "" && !orgs[tk.OrganizationID] {
			t.Errorf("ticket %s: organization %s does not exist", tk.ID, tk.OrganizationID)
		}
		if comments[tk.ID] == 0 {
			t.Errorf("ticket %s has no comments", tk.ID)
		}
		if tk.UpdatedAt.Before(tk.CreatedAt) {
			t.Errorf("ticket %s updated before it was created", tk.ID)
		}
		if strings.Contains(tk.Description, "\n") {
			multiline++
		}
		if strings.Contains(tk.Subject+tk.Description, `"`) {
			quoted++
		}
		if tk.Resolution != "" {
			solved++
		}
	}
	if multiline == 0 || quoted == 0 || solved == 0 {
		t.Errorf("%d multi-line, %d quoted, %d solved tickets: the export does not exercise a reader", multiline, quoted, solved)
	}
}

// TestWriteTicketsMatchesGenerate: the streamed writer writes the tickets
// Generate makes, byte for byte.
func TestWriteTicketsMatchesGenerate(t *testing.T) {
	for _, format := range []string{CSV, JSONL} {
		opts := Options{Seed: 4, Tickets: 75, SingleFile: true}
		a, err := Generate(opts).Write(t.TempDir(), format)
		if err != nil {
			t.Fatal(err)
		}
		b, err := WriteTickets(t.TempDir(), format, 75, Options{Seed: 4})
		if err != nil {
			t.Fatal(err)
		}
		x, _ := os.ReadFile(filepath.Join(a.Dir, a.Files["tickets"]))
		y, _ := os.ReadFile(filepath.Join(b.Dir, b.Files["tickets"]))
		if !bytes.Equal(x, y) {
			t.Errorf("%s: WriteTickets and Generate(...).Write wrote different tickets", format)
		}
		if len(b.Files) != 1 {
			t.Errorf("%s: WriteTickets wrote %v", format, b.Files)
		}
	}
}

// TestMalformedRowsAreWhereTheySay reads each file line by line: every
// malformed row is on its line, and the others parse.
func TestMalformedRowsAreWhereTheySay(t *testing.T) {
	for _, format := range []string{CSV, JSONL} {
		w, err := Generate(Options{Seed: 6, Tickets: 50, Malformed: 7}).Write(t.TempDir(), format)
		if err != nil {
			t.Fatal(err)
		}
		if len(w.Malformed) != 7*len(w.Files) {
			t.Errorf("%s: %d malformed rows in %d files, want 7 each", format, len(w.Malformed), len(w.Files))
		}
		for _, bad := range w.Malformed {
			data, err := os.ReadFile(filepath.Join(w.Dir, bad.File))
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(string(data), "\n")
			line := lines[bad.Line-1]
			ok := true
			switch bad.Kind {
			case BadBareQuote, BadStrayQuote, BadFieldCount, BadUTF8:
				_, err := csv.NewReader(strings.NewReader(line)).Read()
				ok = err != nil || bad.Kind == BadFieldCount || bad.Kind == BadUTF8
			case BadNotObject, BadInvalidJSON:
				var m map[string]any
				ok = json.Unmarshal([]byte(line), &m) != nil
			case BadTime:
				ok = strings.Contains(line, "not a time")
			case BadBoolean:
				ok = strings.Contains(line, "maybe")
			}
			if !ok {
				t.Errorf("%s:%d (%s): %q is not malformed so", bad.File, bad.Line, bad.Kind, line)
			}
		}
	}
}

func TestConfigReadsAsJSON(t *testing.T) {
	w, err := Generate(Options{Seed: 1, Tickets: 5}).Write(t.TempDir(), JSONL)
	if err != nil {
		t.Fatal(err)
	}
	disk, err := os.ReadFile(filepath.Join(w.Dir, "config.json"))
	if err != nil || !bytes.Equal(disk, w.Config) {
		t.Fatalf("config.json differs from Written.Config: %v", err)
	}
	var cfg struct {
		BaseDir string                     `json:"base_dir"`
		Files   map[string]json.RawMessage `json:"files"`
	}
	if err := json.Unmarshal(w.Config, &cfg); err != nil || cfg.BaseDir != w.Dir || len(cfg.Files) != 4 {
		t.Errorf("config %s: %v", w.Config, err)
	}
	// Every key of the JSON Lines comments is canonical: the entry is a
	// bare path.
	if string(cfg.Files["comments"]) != `"comments.jsonl"` {
		t.Errorf("comments entry %s", cfg.Files["comments"])
	}
	if _, err := Generate(Options{}).Write(t.TempDir(), "xlsx"); err == nil {
		t.Error("an unknown format was written")
	}
	// JSON Lines files are one object a line.
	f, _ := os.Open(filepath.Join(w.Dir, w.Files["users"]))
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Errorf("users.jsonl: %q: %v", sc.Text(), err)
		}
	}
}

// TestUsersFromTicket: a UsersFromTicket export is one tickets file whose
// rows carry their users, the same details in every row naming one; the
// streamed writer writes it as Generate does; a BadUserTime row is a bad
// row of tickets and one of users.
func TestUsersFromTicket(t *testing.T) {
	for _, format := range []string{CSV, JSONL} {
		opts := Options{Seed: 4, Tickets: 75, UsersFromTicket: true, Malformed: 7}
		e := Generate(opts)
		w, err := e.Write(t.TempDir(), format)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := w.Files["users"]; ok || w.Files["comments"] != "" {
			t.Errorf("%s: wrote %v: want no users or comments file", format, w.Files)
		}
		if !strings.Contains(string(w.Config), "users_from_ticket") {
			t.Errorf("%s: the config has no users_from_ticket", format)
		}
		users := e.TicketUsers()
		seen := map[string]bool{}
		for _, u := range users {
			if seen[u.ID] {
				t.Errorf("%s: user %s listed twice", format, u.ID)
			}
			seen[u.ID] = true
		}
		if len(users) == 0 || users[0].ID != e.Tickets[0].RequesterID {
			t.Errorf("%s: %d users: want the first ticket's requester first", format, len(users))
		}
		data, err := os.ReadFile(filepath.Join(w.Dir, w.Files["tickets"]))
		if err != nil {
			t.Fatal(err)
		}
		if u := users[0]; !strings.Contains(string(data), u.Name) || !strings.Contains(string(data), u.Email) {
			t.Errorf("%s: the tickets file does not carry %s's name and email", format, u.ID)
		}
		var userRows, ticketRows int
		for _, bad := range w.Malformed {
			if bad.File == w.Files["tickets"] {
				ticketRows++
			}
			if bad.Kind == BadUserTime {
				userRows++
				if bad.Stream != "users" || !strings.HasPrefix(bad.ID, "bad-user-") {
					t.Errorf("%s: %+v", format, bad)
				}
			}
		}
		if userRows != 1 || ticketRows != 8 {
			t.Errorf("%s: %d bad rows in the tickets file, %d of users: want 7 rows, one with a user's too", format, ticketRows, userRows)
		}

		streamed, err := WriteTickets(t.TempDir(), format, 75, Options{Seed: 4, UsersFromTicket: true})
		if err != nil {
			t.Fatal(err)
		}
		clean, err := Generate(Options{Seed: 4, Tickets: 75, UsersFromTicket: true}).Write(t.TempDir(), format)
		if err != nil {
			t.Fatal(err)
		}
		x, _ := os.ReadFile(filepath.Join(clean.Dir, clean.Files["tickets"]))
		y, _ := os.ReadFile(filepath.Join(streamed.Dir, streamed.Files["tickets"]))
		if !bytes.Equal(x, y) {
			t.Errorf("%s: WriteTickets and Generate(...).Write wrote different tickets", format)
		}
	}
	if Generate(Options{Seed: 4, Tickets: 5, SingleFile: true}).TicketUsers() != nil {
		t.Error("TicketUsers of an export without users_from_ticket")
	}
}
