package zendesktest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func hostileDesk(seed uint64) (*HelpDesk, Hostile) {
	hd := Generate(GenerateOptions{Seed: seed, Tickets: 10, EndUsers: 8, Organizations: 2, End: testEnd()})
	return hd, AddHostile(hd, HostileOptions{Seed: seed, LongComments: 30, BigBody: 10_000, ForeignFiles: "http://files.example"})
}

func TestAddHostile(t *testing.T) {
	hd, bad := hostileDesk(3)
	a, _ := json.Marshal(hd)
	hd2, _ := hostileDesk(3)
	if b, _ := json.Marshal(hd2); !bytes.Equal(a, b) {
		t.Error("the same seed added different bad data")
	}

	kinds := []string{BadInvalidEmail, BadDuplicateEmail, BadInvalidPhone, BadInvalidUTF8, BadBigBody, BadHTML,
		BadAgentRequester, BadUnknownAuthor, BadUnknownTicket, BadLongTicket, BadManyAttachments, BadMissingFile,
		BadEpoch, BadFuture, BadEmptySubject, BadRTLEmoji, BadForeignFile}
	for _, k := range kinds {
		if len(bad.Of(k)) == 0 {
			t.Errorf("no record of kind %q", k)
		}
	}
	if got := len(bad.Count()); got != len(kinds) {
		t.Errorf("%d kinds, want %d", got, len(kinds))
	}

	// Each record is where its kind says, and is what its kind says.
	for _, r := range bad.Records {
		switch r.Stream {
		case "users":
			if hd.User(r.ID) == nil {
				t.Errorf("%s: user %d is not in the help desk", r.Kind, r.ID)
			}
		case "tickets":
			if hd.Ticket(r.ID) == nil {
				t.Errorf("%s: ticket %d is not in the help desk", r.Kind, r.ID)
			}
		case "comments", "attachments":
			tk := hd.Ticket(r.TicketID)
			if r.Kind == BadUnknownTicket {
				if tk != nil || len(hd.Unlisted) != 1 || hd.Unlisted[0].ID != r.TicketID {
					t.Errorf("%s: ticket %d is listed", r.Kind, r.TicketID)
				}
				continue
			}
			if tk == nil {
				t.Errorf("%s: ticket %d of %s %d is not in the help desk", r.Kind, r.TicketID, r.Stream, r.ID)
			}
		}
	}
	if tk := hd.Ticket(bad.Of(BadLongTicket)[0].ID); len(tk.Comments) != 30 {
		t.Errorf("the long ticket has %d comments", len(tk.Comments))
	}
	for _, r := range bad.Of(BadAgentRequester) {
		if !hd.User(hd.Ticket(r.ID).RequesterID).IsAgent() {
			t.Errorf("ticket %d: its requester is no agent", r.ID)
		}
	}
	many := bad.Of(BadManyAttachments)
	if len(many) != 13 { // the comment and its 12 files
		t.Errorf("%d records of many attachments", len(many))
	}
	for _, r := range bad.Of(BadUnknownAuthor) {
		for _, c := range hd.Ticket(r.TicketID).Comments {
			if c.ID == r.ID && hd.User(c.AuthorID) != nil {
				t.Errorf("comment %d: its author %d exists", c.ID, c.AuthorID)
			}
		}
	}
	// Ids are unique across the help desk.
	seen := map[int64]string{}
	check := func(kind string, id int64) {
		if prev, ok := seen[id]; ok {
			t.Errorf("id %d of a %s is also a %s's", id, kind, prev)
		}
		seen[id] = kind
	}
	for _, u := range hd.Users {
		check("user", u.ID)
	}
	for _, tk := range append(slices.Clone(hd.Tickets), hd.Unlisted...) {
		for _, c := range tk.Comments {
			check("comment", c.ID)
			for _, f := range c.Attachments {
				check("attachment", f.ID)
			}
		}
	}
}

// TestServeHostile: the emulator serves text that is not UTF-8 as the
// bytes it stands for, the comments of unlisted tickets in the ticket events
// export only, and 404 for missing files.
func TestServeHostile(t *testing.T) {
	hd, bad := hostileDesk(5)
	srv := NewServer(hd, ServerOptions{})
	ts := httptestServer(t, srv)
	email, token := srv.Credentials()
	raw := func(path string) (int, []byte) {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, ts.URL+path, nil)
		req.SetBasicAuth(email+"/token", token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}

	_, users := raw("/api/v2/incremental/users/cursor.json?start_time=0&page[size]=1000")
	if utf8.Valid(users) || !bytes.Contains(users, []byte("Ren\xe9e M\xfcller")) {
		t.Errorf("the users export does not hold the Latin-1 name as its bytes")
	}
	var page struct {
		Users []struct {
			Name string `json:"name"`
		} `json:"users"`
	}
	if err := json.Unmarshal(users, &page); err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(page.Users, func(u struct {
		Name string `json:"name"`
	}) bool {
		return u.Name == DecodedText(latin1("Renée Müller"))
	}) {
		t.Errorf("no user named %q once decoded", DecodedText(latin1("Renée Müller")))
	}

	_, tickets := raw("/api/v2/incremental/tickets/cursor.json?start_time=0&per_page=1000")
	unlisted := hd.Unlisted[0].ID
	if bytes.Contains(tickets, []byte(`"id":`+itoa(unlisted)+`,`)) {
		t.Error("the tickets export lists the unlisted ticket")
	}
	_, events := raw("/api/v2/incremental/ticket_events.json?start_time=0&include=comment_events")
	for _, r := range bad.Of(BadUnknownTicket) {
		if !bytes.Contains(events, []byte(`"id":`+itoa(r.ID)+`,`)) {
			t.Errorf("the ticket events export lacks comment %d of the unlisted ticket", r.ID)
		}
	}
	if code, _ := raw("/api/v2/tickets/" + itoa(unlisted) + "/comments.json"); code != http.StatusNotFound {
		t.Errorf("the unlisted ticket's comments answered %d, want 404", code)
	}

	for _, r := range bad.Of(BadMissingFile) {
		for _, c := range hd.Ticket(r.TicketID).Comments {
			for _, a := range c.Attachments {
				if a.ID != r.ID {
					continue
				}
				if code, _ := raw(a.ContentURL); code != http.StatusNotFound {
					t.Errorf("missing file %s answered %d", a.ContentURL, code)
				}
			}
		}
	}
	// Its neighbours are there.
	many := hd.Ticket(bad.Of(BadManyAttachments)[0].TicketID)
	for _, a := range many.Comments[1].Attachments {
		if code, _ := raw(a.ContentURL); code != http.StatusOK {
			t.Errorf("file %s answered %d", a.ContentURL, code)
		}
	}
	if !strings.HasPrefix(many.Comments[4].Attachments[0].ContentURL, "http://files.example/files/") {
		t.Errorf("the foreign file is at %s", many.Comments[4].Attachments[0].ContentURL)
	}
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
