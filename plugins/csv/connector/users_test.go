package connector

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ferryhq/ferry/sdk/schema"
)

// TestUsersFromTicket reads small tickets files whose rows name users: a
// user comes once, at the first row that names it with columns that read;
// its id is the id column, or the email in lower case (and the row's
// references to that column alike); emails are kept as written; a user's
// bad cell is a record error naming the file and line, and the next row
// naming the user tries again.
func TestUsersFromTicket(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.DateTime, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	type wantErr struct{ stream, id, reason string }
	tests := []struct {
		name, cfg, data string
		// users are the users the read brings, in order; raw their raw
		// records by id, where the test looks.
		users []*schema.User
		raw   map[string]string
		// errs are the record errors, in order; reason is their start.
		errs []wantErr
		// check looks at the rest of the read.
		check func(t *testing.T, rec *recorder)
	}{
		{
			name: "email as id",
			cfg: `{"files": {"tickets": {"path": "t.csv", "columns": {"id": "Ticket ID", "created_at": "Created", "requester_id": "Email", "cc_ids": "CC"},
				"time_format": "2006-01-02 15:04:05", "list_separator": ";",
				"comments_from_ticket": [{"id_suffix": "q", "columns": {"body_text": "Body", "author_id": "Email"}}],
				"users_from_ticket": [{"columns": {"email": "Email", "name": "Name", "created_at": "Since"}, "custom_fields": ["Age"]}]}}}`,
			data: "Ticket ID,Created,Name,Email,Since,Age,CC,Body\n" +
				"1,2024-01-01 10:00:00,Ada,Ada@X.Example,2023-01-01 00:00:00,32,Bo@X.Example;other,Help\n" + // 2
				"2,2024-01-02 10:00:00,Ada Lovelace,ada@x.example,2023-01-01 00:00:00,33,,\n" + // 3: Ada again
				"3,2024-01-03 10:00:00,Bo,,2023-01-01 00:00:00,,,\n" + // 4: no email, no user
				"4,not a time,Cy,cy@x.example,,,,\n" + // 5: the ticket fails, its user does not
				"5,2024-01-05 10:00:00,Di,di@x.example,yesterday,,,\n" + // 6: the user fails
				"6,2024-01-06 10:00:00,Di,di@x.example,2023-02-02 00:00:00,40,,\n" + // 7: and comes here
				"7,2024-01-07 10:00:00,Ed,  not an email ,,,,\n" + // 8: kept as written
				"8,2024-01-08 10:00:00,Ada,ADA@x.example,never,,,\n", // 9: Ada, whose columns are not read again
			users: []*schema.User{
				{ID: "ada@x.example", Role: schema.RoleEndUser, Name: "Ada", Email: "Ada@X.Example", Active: true, CreatedAt: at("2023-01-01 00:00:00"), CustomFields: json.RawMessage(`{"Age":"32"}`)},
				{ID: "cy@x.example", Role: schema.RoleEndUser, Name: "Cy", Email: "cy@x.example", Active: true},
				{ID: "di@x.example", Role: schema.RoleEndUser, Name: "Di", Email: "di@x.example", Active: true, CreatedAt: at("2023-02-02 00:00:00"), CustomFields: json.RawMessage(`{"Age":"40"}`)},
				{ID: "not an email", Role: schema.RoleEndUser, Name: "Ed", Email: "not an email", Active: true},
			},
			raw: map[string]string{
				"ada@x.example": `{"Name":"Ada","Email":"Ada@X.Example","Since":"2023-01-01 00:00:00","Age":"32"}`,
				"cy@x.example":  `{"Name":"Cy","Email":"cy@x.example"}`,
			},
			errs: []wantErr{
				{schema.Tickets, "4", `t.csv:5: column "Created" (created_at): "not a time" is not a time`},
				{schema.Users, "di@x.example", `t.csv:6: column "Since" (created_at): "yesterday" is not a time`},
			},
			check: func(t *testing.T, rec *recorder) {
				// References to the email column name the user: its id.
				// Other columns are not the user's id, and stay as written.
				first := rec.kinds("record")[0].rec.(*schema.Ticket)
				if first.RequesterID != "ada@x.example" || !slices.Equal(first.CCIDs, []string{"Bo@X.Example", "other"}) {
					t.Errorf("ticket 1: requester %q, cc %q: want the requester lower-cased as the user's id is, and the cc as written", first.RequesterID, first.CCIDs)
				}
				if c := rec.kinds("record")[1].rec.(*schema.Comment); c.AuthorID != "ada@x.example" {
					t.Errorf("comment %s: author %q, want ada@x.example", c.ID, c.AuthorID)
				}
				if string(first.Raw) == "" || !strings.Contains(string(first.Raw), `"Ada@X.Example"`) {
					t.Errorf("ticket 1: raw %s: want the email as written", first.Raw)
				}
			},
		},
		{
			name: "id column, roles, two users a row",
			cfg: `{"files": {"tickets": {"path": "t.csv", "columns": {"id": "Ticket ID", "requester_id": "Requester", "assignee_id": "Agent"},
				"users_from_ticket": [
					{"columns": {"id": "Requester", "name": "Requester Name"}},
					{"columns": {"id": "Agent", "name": "Agent Name", "role": "Agent Role", "email": "Agent Email"}, "values": {"role": {"Staff": "agent"}}, "defaults": {"role": "agent"}}]}}}`,
			data: "Ticket ID,Requester,Requester Name,Agent,Agent Name,Agent Role,Agent Email\n" +
				"1,u1,Ada,a1,Max,Staff,Max@Help.Example\n" + // 2
				"2,u2,Bo,u2,Bo,,\n" + // 3: one user named twice
				"3,u3,Cy,a2,Zed,Boss,\n" + // 4: an unknown role
				"4,u1,Ada,a2,Zed,,\n", // 5: the default role
			users: []*schema.User{
				{ID: "u1", Role: schema.RoleEndUser, Name: "Ada", Active: true},
				{ID: "a1", Role: schema.RoleAgent, Name: "Max", Email: "Max@Help.Example", Active: true},
				{ID: "u2", Role: schema.RoleEndUser, Name: "Bo", Active: true},
				{ID: "u3", Role: schema.RoleEndUser, Name: "Cy", Active: true},
				{ID: "a2", Role: schema.RoleAgent, Name: "Zed", Active: true},
			},
			raw: map[string]string{"a1": `{"Agent":"a1","Agent Role":"Staff","Agent Name":"Max","Agent Email":"Max@Help.Example"}`},
			errs: []wantErr{
				{schema.Users, "a2", `t.csv:4: column "Agent Role" (role): role "Boss" is neither agent nor end_user`},
			},
			check: func(t *testing.T, rec *recorder) {
				// A row's ticket comes before its users.
				var order []string
				for _, e := range rec.kinds("record") {
					order = append(order, e.stream+" "+e.id)
				}
				if want := "tickets 1,users u1,users a1,tickets 2,users u2,tickets 3,users u3,tickets 4,users a2"; strings.Join(order, ",") != want {
					t.Errorf("records %s, want %s", strings.Join(order, ","), want)
				}
			},
		},
		{
			name: "json lines",
			cfg: `{"files": {"tickets": {"path": "t.jsonl", "columns": {"requester_id": "requester.id"},
				"users_from_ticket": [{"columns": {"id": "requester.id", "name": "requester.name", "active": "requester.active"}}]}}}`,
			data: `{"id": 1, "requester": {"id": 7, "name": "Ada", "active": false}}` + "\n" +
				`{"id": 2, "requester": {"id": {"x": 1}, "name": "Bo"}}` + "\n" +
				`{"id": 3, "requester": {"id": [8, 9]}}` + "\n" +
				`{"id": 4, "requester": null}` + "\n" +
				`{"id": 5, "requester": {"id": 8, "active": "maybe"}}` + "\n" +
				`{"id": 6, "requester": {"id": 7, "name": "Changed"}}` + "\n",
			users: []*schema.User{{ID: "7", Role: schema.RoleEndUser, Name: "Ada"}},
			raw:   map[string]string{"7": `{"requester.id":7,"requester.name":"Ada","requester.active":false}`},
			errs: []wantErr{
				// The ticket's requester_id reads the same cell.
				{schema.Tickets, "2", `t.jsonl:2: column "requester.id" (requester_id): a JSON object where a value belongs`},
				{schema.Users, "t.jsonl:2", `t.jsonl:2: column "requester.id" (id): a JSON object where a value belongs`},
				{schema.Tickets, "3", `t.jsonl:3: column "requester.id" (requester_id): a JSON array where one value belongs`},
				{schema.Users, "t.jsonl:3", `t.jsonl:3: column "requester.id" (id): a JSON array where one value belongs`},
				{schema.Users, "8", `t.jsonl:5: column "requester.active" (active): "maybe" is not a boolean`},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, err := readBytes(t, New(), tt.cfg, tt.data)
			if err != nil {
				t.Fatal(err)
			}
			var users []*schema.User
			for _, e := range rec.kinds("record") {
				if u, ok := e.rec.(*schema.User); ok {
					users = append(users, u)
				}
			}
			if len(users) != len(tt.users) {
				t.Errorf("%d users, want %d", len(users), len(tt.users))
			}
			for i := range min(len(users), len(tt.users)) {
				if g, w := canonical(t, users[i]), canonical(t, tt.users[i]); !jsonEqual(t, g, w) {
					gj, _ := json.Marshal(g)
					wj, _ := json.Marshal(w)
					t.Errorf("user %d:\n  got  %s\n  want %s", i, gj, wj)
				}
			}
			for _, u := range users {
				if want, ok := tt.raw[u.ID]; ok && string(u.Raw) != want {
					t.Errorf("user %s: raw %s, want %s: the columns it was made of", u.ID, u.Raw, want)
				}
			}
			errs := rec.kinds("error")
			var got []string
			for _, e := range errs {
				got = append(got, fmt.Sprintf("%s %s: %s", e.stream, e.id, e.reason))
			}
			if len(errs) != len(tt.errs) {
				t.Fatalf("errors:\n  %s\nwant %d", strings.Join(got, "\n  "), len(tt.errs))
			}
			for i, w := range tt.errs {
				if e := errs[i]; e.stream != w.stream || e.id != w.id || !strings.HasPrefix(e.reason, w.reason) {
					t.Errorf("error %d: %s\n  want %s %s: %s", i, got[i], w.stream, w.id, w.reason)
				}
			}
			if tt.check != nil {
				tt.check(t, rec)
			}
		})
	}
}

// TestUsersFromTicketCheck: Check names each column a users_from_ticket
// entry wants that the file does not have.
func TestUsersFromTicketCheck(t *testing.T) {
	tests := []struct {
		name, file, data string
		entry            string
		want             []string
	}{
		{"csv", "t.csv", "Ticket ID,Customer Email,Customer Name\n1,a@x.example,Ada\n",
			`{"columns": {"email": "Customer Email", "name": "customer name", "phone": "Phone"}, "custom_fields": ["Age"]}`,
			[]string{
				`users_from_ticket[0].columns.name: no column "customer name" in the header: did you mean "Customer Name"?`,
				`users_from_ticket[0].columns.phone: no column "Phone"`,
				`users_from_ticket[0].custom_fields: no column "Age"`,
			}},
		{"csv without its key column", "t.csv", "Ticket ID,Name\n1,Ada\n",
			`{"columns": {"email": "Email", "name": "Name"}}`,
			[]string{`users_from_ticket[0].columns.email: no column "Email"`}},
		{"jsonl", "t.jsonl", `{"id": 1, "customer": {"email": "a@x.example"}}` + "\n",
			`{"columns": {"email": "customer.email", "name": "customer.name"}, "custom_fields": ["age"]}`,
			[]string{
				`users_from_ticket[0].columns.name: no key "customer.name" in the first 1 records`,
				`users_from_ticket[0].custom_fields: no key "age"`,
			}},
		{"fits", "t.csv", "Ticket ID,Customer Email\n1,a@x.example\n", `{"columns": {"email": "Customer Email"}}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, tt.file, []byte(tt.data))
			cfg := fmt.Sprintf(`{"files": {"tickets": {"path": %q, "columns": {"id": "Ticket ID"}, "users_from_ticket": [%s]}}}`, path, tt.entry)
			err := New().Check(t.Context(), json.RawMessage(cfg))
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("check: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("check passed")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("check does not say %q:\n%v", w, err)
				}
			}
		})
	}
}
