package stage

import (
	"strings"
	"testing"
)

func TestValidateFilter(t *testing.T) {
	w := openTest(t)
	tests := []struct {
		filter string
		want   string // "" accepts; else the refusal says this
	}{
		{"", ""},
		{"created_at >= DATE '2023-01-01' AND NOT list_contains(tags, 'spam')", ""},
		{"status = 'closed' -- a comment at the end", ""},
		{"requester_email LIKE '%@acme.example' OR organization_name = 'Initech'", ""},
		{"comment_count > 2 AND id IN (SELECT ticket_id FROM comments WHERE NOT public)", ""},
		{"EXISTS (SELECT 1 FROM attachments a WHERE a.ticket_id = ticket_overview.id AND a.size > 1000000)", ""},
		{"json_extract_string(raw, '$.via.channel') = 'email'", ""},
		{"NOT requester_suspended AND requester_active", ""},
		{"status = ", "syntax error"},
		{"true); DELETE FROM tickets; --", "syntax error"},
		{"true); DELETE FROM tickets; SELECT (1", "statement of its own"},
		{"true); SELECT 1; SELECT (1", "3 statements"},
		{"true) LIMIT (1", "reaches outside the condition"},
		{"true) UNION SELECT id FROM tickets WHERE (true", "reaches outside the condition"},
		{"true) OR (false", ""},
		{"id IN (SELECT * FROM read_csv('/etc/passwd'))", "table function read_csv"},
		{"id IN (SELECT column0 FROM '/etc/passwd')", `reads "/etc/passwd"`},
		{"id IN (SELECT id FROM information_schema.tables)", "not a table or view of the workspace"},
		{"no_such_column = 1", `Referenced column "no_such_column" not found`},
		{"id IN (SELECT id FROM no_such_table)", `"no_such_table", which is not a table or view`},
		{"'not a condition'", "a value of type VARCHAR, not a condition"},
		{"comment_count + 1", "a value of type BIGINT, not a condition"},
	}
	for _, tt := range tests {
		t.Run(tt.filter, func(t *testing.T) {
			err := ValidateFilter(t.Context(), w.DB(), tt.filter)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("err = %v, want it to say %q", err, tt.want)
			case tt.want != "" && !strings.Contains(err.Error(), "filter "):
				t.Errorf("err = %v does not quote the filter", err)
			}
		})
	}
}

func FuzzValidateFilter(f *testing.F) {
	for _, s := range []string{"status = 'open'", "true); DROP TABLE tickets; --", "id IN (SELECT * FROM read_csv('x'))", "'", "((((", "--", "/*", "$$x$$"} {
		f.Add(s)
	}
	w, err := Open(f.Context(), f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	defer w.Close()
	f.Fuzz(func(t *testing.T, filter string) {
		err := ValidateFilter(t.Context(), w.DB(), filter)
		if err != nil {
			return
		}
		// Whatever it accepts runs as a condition and changes nothing.
		var n int
		if err := w.DB().QueryRowContext(t.Context(), "SELECT count(*) FROM ("+filterQuery(filter)+")").Scan(&n); err != nil && strings.TrimSpace(filter) != "" {
			t.Errorf("accepted %q but it does not run: %v", filter, err)
		}
		for _, table := range []string{"tickets", "ledger", "ferry_meta"} {
			if err := w.DB().QueryRowContext(t.Context(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
				t.Fatalf("after %q: %s is gone: %v", filter, table, err)
			}
		}
	})
}
