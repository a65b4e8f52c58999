package connector

import (
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ferryhq/ferry/plugins/csv/csvtest"
	"github.com/ferryhq/ferry/sdk/schema"
)

// TestReadMatchesExport reads generated exports and compares every record,
// field by field, with the records built from the generator's data, and
// every raw column with the source row parsed independently.
func TestReadMatchesExport(t *testing.T) {
	// The key of each file's id, by format, as the generator writes them.
	idKeys := map[string]map[string]string{
		csvtest.CSV:   {schema.Organizations: "Organization ID", schema.Users: "User ID", schema.Tickets: "Ticket ID", schema.Comments: "Comment ID"},
		csvtest.JSONL: {schema.Organizations: "id", schema.Users: "id", schema.Tickets: "id", schema.Comments: "id"},
	}
	tests := []struct {
		format        string
		single, users bool
	}{
		{csvtest.CSV, false, false}, {csvtest.JSONL, false, false}, {csvtest.CSV, true, false}, {csvtest.JSONL, true, false},
		{csvtest.CSV, true, true}, {csvtest.JSONL, true, true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s single=%v users=%v", tt.format, tt.single, tt.users), func(t *testing.T) {
			e, w := writeExport(t, csvtest.Options{Seed: 11, Tickets: 150, SingleFile: tt.single, UsersFromTicket: tt.users}, tt.format)
			res := read(t, withConfig(t, w.Config, map[string]any{"checkpoint_every": 40}), nil, nil)
			for _, m := range res.Messages {
				if m.Kind == "record_error" {
					t.Errorf("record error: %s %s: %s", m.Stream, m.SourceID, m.Reason)
				}
			}
			want := wantRecords(t, e)
			for _, stream := range []string{schema.Organizations, schema.Users, schema.Tickets, schema.Comments} {
				if len(want[stream]) == 0 {
					t.Fatalf("the export has no %s: the test checks nothing", stream)
				}
				for _, d := range sameRecords(t, stream, res.Records(stream), want[stream]) {
					t.Error(d)
				}
			}

			// Raw is the source row: header → value, or the JSON object.
			for stream, file := range w.Files {
				rows := sourceRows(t, filepath.Join(w.Dir, file), idKeys[tt.format][stream])
				for _, r := range res.Records(stream) {
					if got, want := rawOf(t, r), rows[r.SourceID()]; !reflect.DeepEqual(got, want) {
						t.Errorf("%s %s: raw\n  got  %v\n  want %v", stream, r.SourceID(), got, want)
					}
				}
			}
			if tt.users {
				// A user keeps the columns it was made from, as a row that
				// names it has them (every row has a user's same details).
				rows := sourceRows(t, filepath.Join(w.Dir, w.Files[schema.Tickets]), idKeys[tt.format][schema.Tickets])
				// The file's columns: every key of every row, as a JSON
				// Lines row leaves out what it lacks (a ticket without
				// an assignee has no assignee).
				header := map[string]bool{}
				for _, row := range rows {
					for k := range row {
						header[k] = true
					}
				}
				for _, u := range res.Records(schema.Users) {
					raw := rawOf(t, u)
					if len(raw) < 2 {
						t.Errorf("user %s: raw %v holds less than its id and name", u.SourceID(), raw)
					}
					for k, v := range raw {
						top, _, _ := strings.Cut(k, ".")
						if !header[top] {
							t.Errorf("user %s: raw %s = %v is not a column of the tickets file", u.SourceID(), k, v)
						}
						if (k == "Requester" || k == "Assignee" || k == "requester.id" || k == "assignee_id") && fmt.Sprint(v) != u.SourceID() {
							t.Errorf("user %s: raw %s = %v, not its id", u.SourceID(), k, v)
						}
					}
				}
			}
			if tt.single {
				// A ticket's comment keeps the columns it was made from.
				rows := sourceRows(t, filepath.Join(w.Dir, w.Files[schema.Tickets]), idKeys[tt.format][schema.Tickets])
				for _, c := range res.Records(schema.Comments) {
					ticket := rows[c.(*schema.Comment).TicketID]
					raw := rawOf(t, c)
					if len(raw) < 2 {
						t.Errorf("comment %s: raw %v holds less than the ticket id and the body", c.SourceID(), raw)
					}
					for k, v := range raw {
						top, _, _ := strings.Cut(k, ".")
						if _, ok := ticket[top]; !ok || (top == k && !reflect.DeepEqual(ticket[k], v)) {
							t.Errorf("comment %s: raw %s = %v, the ticket row has %v", c.SourceID(), k, v, ticket[k])
						}
					}
				}
			}
		})
	}
}
