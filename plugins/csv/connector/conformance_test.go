package connector

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/ferryhq/ferry/plugins/csv/csvtest"
	"github.com/ferryhq/ferry/sdk/source/sourcetest"
)

func TestConformance(t *testing.T) {
	tests := []struct {
		name   string
		format string
		opts   csvtest.Options
	}{
		{"csv", csvtest.CSV, csvtest.Options{Seed: 1, Tickets: 80}},
		{"jsonl", csvtest.JSONL, csvtest.Options{Seed: 2, Tickets: 80}},
		// One tickets file whose rows bring their comments.
		{"csv single file", csvtest.CSV, csvtest.Options{Seed: 3, Tickets: 80, SingleFile: true}},
		{"jsonl single file", csvtest.JSONL, csvtest.Options{Seed: 4, Tickets: 80, SingleFile: true}},
		// One tickets file whose rows also bring their requesters and
		// assignees, with no users file: a user comes at the first row
		// that names it, and a resume learns the users before it.
		{"csv users from ticket", csvtest.CSV, csvtest.Options{Seed: 5, Tickets: 80, EndUsers: 150, UsersFromTicket: true}},
		{"jsonl users from ticket", csvtest.JSONL, csvtest.Options{Seed: 6, Tickets: 80, EndUsers: 150, UsersFromTicket: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, w := writeExport(t, tt.opts, tt.format)
			// A small interval, so that every stream checkpoints several
			// times and the kit resumes from the middle of each.
			cfg := withConfig(t, w.Config, map[string]any{"checkpoint_every": 7})
			sourcetest.Run(t, New(), cfg, sourcetest.Options{
				BadConfigs: []json.RawMessage{
					json.RawMessage(`{}`),
					json.RawMessage(`{"files": {"tickets": "no-such-file.csv"}}`),
					json.RawMessage(fmt.Sprintf(`{"base_dir": %q, "files": {"tickets": {"path": %q, "columns": {"subject": "No Such Column"}}}}`, w.Dir, w.Files["tickets"])),
					json.RawMessage(`{"files": {"tickets": {"path": "t.csv", "format": "xlsx"}}}`),
				},
			})
		})
	}
}
