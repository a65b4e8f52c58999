package connector

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/ferryhq/ferry/plugins/csv/csvtest"
	"github.com/ferryhq/ferry/sdk/schema"
)

// TestMalformedRows injects every kind of malformed row into every file:
// each becomes one record error naming its file and line, with the row's
// id when it has one, and every good row still arrives intact.
func TestMalformedRows(t *testing.T) {
	says := map[string]string{
		csvtest.BadBareQuote:   "a quote (\") in an unquoted field",
		csvtest.BadStrayQuote:  "stray quote",
		csvtest.BadFieldCount:  "fields, the header has",
		csvtest.BadTime:        "is not a time",
		csvtest.BadBoolean:     "is not a boolean",
		csvtest.BadUTF8:        "not valid UTF-8",
		csvtest.BadMissingID:   "no id",
		csvtest.BadNotObject:   "a JSON array, not a JSON object",
		csvtest.BadInvalidJSON: "not a valid JSON object",
		csvtest.BadNested:      "a JSON object where a value belongs",
		csvtest.BadUserTime:    "(created_at): \"not a time\" is not a time",
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
			e, w := writeExport(t, csvtest.Options{Seed: 5, Tickets: 90, SingleFile: tt.single, UsersFromTicket: tt.users, Malformed: 12}, tt.format)
			res := read(t, withConfig(t, w.Config, map[string]any{"checkpoint_every": 10}), nil, nil)

			kinds := map[string]bool{}
			errs := map[string]string{} // stream/id → reason
			for _, m := range res.Messages {
				if m.Kind == "record_error" {
					key := m.Stream + "/" + m.SourceID
					if _, dup := errs[key]; dup {
						t.Errorf("two record errors for %s", key)
					}
					errs[key] = m.Reason
				}
			}
			for _, bad := range w.Malformed {
				kinds[bad.Kind] = true
				key := bad.Stream + "/" + bad.ID
				reason, ok := errs[key]
				if !ok {
					t.Errorf("%s at %s:%d: no record error with id %s", bad.Kind, bad.File, bad.Line, bad.ID)
					continue
				}
				delete(errs, key)
				if prefix := bad.File + ":" + strconv.Itoa(bad.Line) + ": "; !strings.HasPrefix(reason, prefix) {
					t.Errorf("%s: reason %q does not start with %q", bad.Kind, reason, prefix)
				}
				if !strings.Contains(reason, says[bad.Kind]) {
					t.Errorf("%s at %s:%d: reason %q does not say %q", bad.Kind, bad.File, bad.Line, reason, says[bad.Kind])
				}
			}
			for key, reason := range errs {
				t.Errorf("an unexpected record error %s: %s", key, reason)
			}
			if len(kinds) < 6 || tt.users && !kinds[csvtest.BadUserTime] {
				t.Errorf("only %d kinds of malformed rows were injected: %v", len(kinds), kinds)
			}
			want := wantRecords(t, e)
			for _, stream := range []string{schema.Organizations, schema.Users, schema.Tickets, schema.Comments} {
				for _, d := range sameRecords(t, stream, res.Records(stream), want[stream]) {
					t.Error(d)
				}
			}
		})
	}
}
