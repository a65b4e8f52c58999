package connector

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestParseConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  string
		// want are substrings of the error, all of them; none: it parses.
		want []string
		// check looks at the parsed tickets (or only) file.
		check func(t *testing.T, s *settings)
	}{
		{name: "bare path", cfg: `{"files": {"tickets": "export/t.csv"}}`, check: func(t *testing.T, s *settings) {
			if s.format != formatCSV || s.comma != ',' || s.every != defaultCheckpointEvery || s.sep != "," || s.display != "export/t.csv" {
				t.Errorf("settings %+v", s)
			}
			if !filepath.IsAbs(s.path) || !strings.HasSuffix(s.path, filepath.Join("export", "t.csv")) {
				t.Errorf("path %q: want it resolved against the current directory", s.path)
			}
		}},
		{name: "base_dir", cfg: `{"base_dir": "/data/exports", "files": {"tickets": {"path": "t.csv"}}}`, check: func(t *testing.T, s *settings) {
			if s.path != filepath.Join("/data/exports", "t.csv") {
				t.Errorf("path %q", s.path)
			}
		}},
		{name: "tsv", cfg: `{"files": {"tickets": "t.TSV"}}`, check: func(t *testing.T, s *settings) {
			if s.format != formatCSV || s.comma != '\t' {
				t.Errorf("format %s, delimiter %q", s.format, s.comma)
			}
		}},
		{name: "ndjson", cfg: `{"files": {"comments": "c.ndjson"}}`, check: func(t *testing.T, s *settings) {
			if s.format != formatJSONL {
				t.Errorf("format %s", s.format)
			}
		}},
		{name: "format over extension", cfg: `{"files": {"tickets": {"path": "t.txt", "format": "jsonl"}}}`, check: func(t *testing.T, s *settings) {
			if s.format != formatJSONL {
				t.Errorf("format %s", s.format)
			}
		}},
		{name: "delimiters", cfg: `{"files": {"tickets": {"path": "t.csv", "delimiter": "tab"}, "users": {"path": "u.csv", "delimiter": ";"}}}`, check: func(t *testing.T, s *settings) {
			if s.comma != '\t' {
				t.Errorf("delimiter %q", s.comma)
			}
		}},
		{name: "layouts", cfg: `{"files": {"tickets": {"path": "t.csv", "time_format": ["02/01/2006", "unix_ms"], "time_zone": "Europe/Paris"}}}`, check: func(t *testing.T, s *settings) {
			if len(s.layouts) != 2 || s.loc.String() != "Europe/Paris" {
				t.Errorf("layouts %q, zone %s", s.layouts, s.loc)
			}
		}},
		{name: "comment suffix from the column", cfg: `{"files": {"tickets": {"path": "t.csv", "comments_from_ticket": [{"columns": {"body_text": "Ticket Description"}}]}}}`, check: func(t *testing.T, s *settings) {
			if len(s.comments) != 1 || s.comments[0].suffix != "ticket-description" {
				t.Errorf("comments %+v", s.comments)
			}
		}},
		{name: "not JSON", cfg: `{"files": `, want: []string{"csv config"}},
		{name: "no files", cfg: `{}`, want: []string{"files is empty"}},
		{name: "unknown top-level key", cfg: `{"file": {}}`, want: []string{`unknown field "file"`}},
		{name: "unknown file key", cfg: `{"files": {"tickets": {"path": "t.csv", "colums": {}}}}`, want: []string{"files.tickets", `unknown field "colums"`}},
		{name: "every problem at once", cfg: `{"checkpoint_every": -1, "files": {
			"groups": "g.csv",
			"tickets": {"path": "t.xlsx", "columns": {"subjekt": "Subject"}, "defaults": {"id": "1"}},
			"users": {"path": "u.csv", "delimiter": ";;", "time_format": "YYYY-MM-DD", "time_zone": "Mars/Olympus", "defaults": {"active": "maybe"}, "comments_from_ticket": [{"columns": {"body_text": "x"}}]},
			"comments": {"path": "c.jsonl", "delimiter": ",", "lazy_quotes": true, "columns": {"ticket_id": ""}},
			"organizations": {"path": "o.csv", "custom_fields": ["Tier", "Tier", ""], "values": {"tier": {}}}}}`,
			want: []string{
				"checkpoint_every -1",
				"files.groups: not a stream this source reads",
				`files.tickets (t.xlsx): cannot tell the format from the extension ".xlsx"`,
				`columns: "subjekt" is not a column of tickets`,
				"defaults: id cannot have a default",
				`files.users (u.csv): delimiter ";;"`,
				`time_format "YYYY-MM-DD" is not a Go layout`,
				`time_zone "Mars/Olympus"`,
				`defaults.active: "maybe" is not a boolean`,
				"comments_from_ticket is for the tickets file only",
				"files.comments (c.jsonl): delimiter is for CSV files",
				"lazy_quotes is for CSV files",
				"columns.ticket_id cannot be",
				`custom_fields lists "Tier" twice`,
				"custom_fields has an empty column name",
				`values: "tier" is not a column of organizations`,
			}},
		{name: "ticket comments", cfg: `{"files": {"tickets": {"path": "t.csv", "comments_from_ticket": [
			{"columns": {"author_id": "Email"}},
			{"id_suffix": "a", "columns": {"body_text": "A", "subject": "S"}, "defaults": {"public": "perhaps"}},
			{"id_suffix": "a", "columns": {"body_html": "B"}}]}}}`,
			want: []string{
				"comments_from_ticket[0]: map body_text or body_html",
				`comments_from_ticket[1]: columns: "subject" is not a column a ticket's comment takes`,
				`comments_from_ticket[1]: defaults.public: "perhaps" is not a boolean`,
				`comments_from_ticket[2]: id_suffix "a" is taken`,
			}},
	}
	tests = append(tests, []struct {
		name  string
		cfg   string
		want  []string
		check func(t *testing.T, s *settings)
	}{
		{name: "ticket users", cfg: `{"files": {"tickets": {"path": "t.csv", "users_from_ticket": [
			{"columns": {"email": "Customer Email", "name": "Customer Name"}, "custom_fields": ["Customer Age"]},
			{"columns": {"id": "Agent"}, "defaults": {"role": "agent", "email": "help@x.example"}, "values": {"role": {"Staff": "agent"}}}]}}}`,
			check: func(t *testing.T, s *settings) {
				if len(s.users) != 2 || s.users[0].Columns["email"] != "Customer Email" || s.users[1].Defaults["role"] != "agent" {
					t.Errorf("users %+v", s.users)
				}
			}},
		{name: "ticket users, every problem", cfg: `{"files": {
			"users": {"path": "u.csv", "users_from_ticket": [{"columns": {"id": "X"}}]},
			"tickets": {"path": "t.csv", "users_from_ticket": [
				{"columns": {"name": "Name", "subject": "S", "id": ""}, "values": {"status": {}}, "defaults": {"id": "1", "active": "maybe", "tier": "x"}, "custom_fields": ["Age", "Age", ""]},
				{"columns": {"email": "Email"}, "defaults": {"email": "x@y.example", "role": "boss"}},
				{"columns": {"id": "Agent"}, "defaults": {"role": "Staff"}, "values": {"role": {"Staff": "agent"}}},
				{"columns": {"id": "Agent"}, "defaults": {"created_at": "soon"}}]}}}`,
			want: []string{
				"files.users (u.csv): users_from_ticket is for the tickets file only",
				"users_from_ticket[0]: map id, or email, to the column that names the user",
				`users_from_ticket[0]: columns: "subject" is not a column of users`,
				`users_from_ticket[0]: values: "status" is not a column of users`,
				"users_from_ticket[0]: defaults: id cannot have a default",
				`users_from_ticket[0]: defaults.active: "maybe" is not a boolean`,
				`users_from_ticket[0]: defaults: "tier" is not a column of users`,
				`users_from_ticket[0]: custom_fields lists "Age" twice`,
				"users_from_ticket[0]: custom_fields has an empty column name",
				"users_from_ticket[1]: defaults: email is the user's id here (no id column), so it cannot have a default",
				`users_from_ticket[1]: defaults.role: role "boss" is neither agent nor end_user`,
				`users_from_ticket[3]: defaults.created_at: "soon" is not a time`,
			}},
	}...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files, err := parseConfig(json.RawMessage(tt.cfg))
			if len(tt.want) > 0 {
				if err == nil {
					t.Fatalf("parsed; want an error saying %q", tt.want)
				}
				for _, w := range tt.want {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error does not say %q:\n%v", w, err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.check != nil {
				tt.check(t, files[len(files)-1])
			}
		})
	}
}

func TestStreamsOrderAndEmits(t *testing.T) {
	streams, err := New().Streams(json.RawMessage(`{"files": {"comments": "c.csv", "tickets": {"path": "t.csv", "comments_from_ticket": [{"columns": {"body_text": "D"}}]}, "organizations": "o.csv", "users": "u.jsonl"}}`))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, st := range streams {
		info := st.Info()
		got = append(got, fmt.Sprintf("%s%v", info.Name, info.Emits))
		if info.CursorField == "" {
			t.Errorf("%s has no cursor field: resumes and deltas need one", info.Name)
		}
	}
	if want := "users[] organizations[] tickets[comments] comments[]"; strings.Join(got, " ") != want {
		t.Errorf("streams %q, want %q", strings.Join(got, " "), want)
	}

	// A single-file export's tickets bring their comments and users.
	streams, err = New().Streams(json.RawMessage(`{"files": {"tickets": {"path": "t.csv", "comments_from_ticket": [{"columns": {"body_text": "D"}}],
		"users_from_ticket": [{"columns": {"email": "E"}}]}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if info := streams[0].Info(); len(streams) != 1 || !slices.Equal(info.Emits, []string{"comments", "users"}) {
		t.Errorf("tickets emit %v, want comments and users", info.Emits)
	}
}

// TestCheckReportsEveryProblem checks a config whose files are wrong in
// every way at once: Check names each file and each problem.
func TestCheckReportsEveryProblem(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("tickets.csv", "Ticket ID,Ticket Subject, Status \n1,Hello,open\n")
	write("users.jsonl", `{"id": 1, "name": "Ada"}`+"\n"+`{"id": 2, "name": "Bo", "org": {"id": 7}}`+"\n")
	write("organizations.jsonl", "id,name\n1,Acme\n")
	write("empty.csv", "")
	if err := os.Mkdir(filepath.Join(dir, "folder.csv"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`{"base_dir": %q, "files": {
		"tickets": {"path": "tickets.csv", "columns": {"id": "Ticket ID", "subject": "ticket subject", "status": "Status", "priority": "Urgency"},
			"custom_fields": ["Product"], "comments_from_ticket": [{"columns": {"body_text": "Description"}}]},
		"users": {"path": "users.jsonl", "columns": {"email": "mail", "organization_id": "org.id"}, "custom_fields": ["plan"]},
		"organizations": "organizations.jsonl",
		"comments": "missing.csv"}}`, dir)
	err := New().Check(t.Context(), json.RawMessage(cfg))
	if err == nil {
		t.Fatal("check passed")
	}
	for _, want := range []string{
		`files.tickets (tickets.csv): columns.subject: no column "ticket subject" in the header: did you mean "Ticket Subject"?`,
		`columns.priority: no column "Urgency" in the header ("Ticket ID", "Ticket Subject", "Status")`,
		`files.tickets (tickets.csv): custom_fields: no column "Product"`,
		`comments_from_ticket[0].columns.body_text: no column "Description"`,
		`files.users (users.jsonl): columns.email: no key "mail" in the first 2 records`,
		`custom_fields: no key "plan"`,
		`files.organizations (organizations.jsonl): line 1: the line is not JSON, not a JSON object: is this a JSON Lines file?`,
		`files.comments (missing.csv): cannot open the file`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("check does not say %q:\n%v", want, err)
		}
	}
	// The padded " Status " header matched "Status", and org.id was found
	// in the second record: neither is a problem.
	for _, not := range []string{`"Status"`, "org.id"} {
		if strings.Contains(err.Error(), "no column "+not) || strings.Contains(err.Error(), "no key \""+not) {
			t.Errorf("check complains about %s:\n%v", not, err)
		}
	}

	for _, tt := range []struct{ file, want string }{
		{"empty.csv", "the file is empty"},
		{"folder.csv", "is not a regular file"},
	} {
		err := New().Check(t.Context(), json.RawMessage(fmt.Sprintf(`{"base_dir": %q, "files": {"tickets": %q}}`, dir, tt.file)))
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), tt.file) {
			t.Errorf("check of %s: %v; want it to say %q and name the file", tt.file, err, tt.want)
		}
	}
}

// TestSpecSchemaMatchesConfig keeps the JSON Schema Spec gives and the
// Config types in step: every key of one is a key of the other.
func TestSpecSchemaMatchesConfig(t *testing.T) {
	var sc map[string]any
	if err := json.Unmarshal([]byte(New().Spec().ConfigSchema), &sc); err != nil {
		t.Fatal(err)
	}
	props := func(v any) []string {
		var keys []string
		for k := range v.(map[string]any)["properties"].(map[string]any) {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		return keys
	}
	tags := func(v any) []string {
		var keys []string
		rt := reflect.TypeOf(v)
		for i := range rt.NumField() {
			name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
			keys = append(keys, name)
		}
		slices.Sort(keys)
		return keys
	}
	file := sc["$defs"].(map[string]any)["file"].(map[string]any)["oneOf"].([]any)[1]
	comment := file.(map[string]any)["properties"].(map[string]any)["comments_from_ticket"].(map[string]any)["items"]
	user := file.(map[string]any)["properties"].(map[string]any)["users_from_ticket"].(map[string]any)["items"]
	for _, tt := range []struct {
		name         string
		schema, tags []string
	}{
		{"Config", props(sc), tags(Config{})},
		{"File", props(file), tags(File{})},
		{"TicketComment", props(comment), tags(TicketComment{})},
		{"TicketUser", props(user), tags(TicketUser{})},
	} {
		if !slices.Equal(tt.schema, tt.tags) {
			t.Errorf("%s: the schema has %q, the type %q", tt.name, tt.schema, tt.tags)
		}
	}
	if got := props(sc["properties"].(map[string]any)["files"]); !slices.Equal(got, slices.Sorted(slices.Values(supportedStreams()))) {
		t.Errorf("files: the schema has %q, the source reads %q", got, supportedStreams())
	}
}

// TestConfigRoundTrip: a Config written by Go reads back as it was meant.
func TestConfigRoundTrip(t *testing.T) {
	cfg := Config{BaseDir: "/exports", CheckpointEvery: 500, Files: map[string]File{
		"tickets": {Path: "t.csv", Delimiter: ";", LazyQuotes: true, Columns: map[string]string{"id": "No."},
			Values: map[string]map[string]string{"status": {"Done": "solved"}}, Defaults: map[string]string{"priority": "normal"},
			TimeFormat: Layouts{"2006-01-02"}, TimeZone: "UTC", ListSeparator: "|", CustomFields: []string{"Product"},
			CommentsFromTicket: []TicketComment{{IDSuffix: "first", Columns: map[string]string{"body_html": "Body"}, Defaults: map[string]string{"public": "false"}}},
			UsersFromTicket: []TicketUser{{Columns: map[string]string{"email": "Email"}, Values: map[string]map[string]string{"role": {"Staff": "agent"}},
				Defaults: map[string]string{"role": "end_user"}, CustomFields: []string{"Age"}}}},
		"users": {Path: "u.jsonl"},
	}}
	data, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	files, err := parseConfig(data)
	if err != nil {
		t.Fatal(err)
	}
	tk := files[1]
	if tk.stream != "tickets" || tk.comma != ';' || tk.every != 500 || tk.sep != "|" || len(tk.comments) != 1 || tk.comments[0].suffix != "first" || len(tk.users) != 1 ||
		!reflect.DeepEqual(tk.file, cfg.Files["tickets"]) || files[0].format != formatJSONL {
		t.Errorf("settings %+v", tk)
	}
}
