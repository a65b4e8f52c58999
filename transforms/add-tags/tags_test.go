package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/ferryhq/ferry/sdk/transform"
	"github.com/ferryhq/ferry/sdk/transform/transformtest"
)

func TestAddTags(t *testing.T) {
	const cfg = `{"tags": ["migrated", "from-zendesk"]}`
	tests := []struct {
		name    string
		config  string
		stream  string
		record  string
		want    []string // the tags after; nil when the record must come back unchanged
		outcome transform.Outcome
		reason  string
	}{
		{"adds after the record's own", cfg, "tickets", `{"id":"1","tags":["printer"]}`,
			[]string{"printer", "migrated", "from-zendesk"}, transform.OutcomeKeep, ""},
		{"no tags column", cfg, "tickets", `{"id":"1"}`,
			[]string{"migrated", "from-zendesk"}, transform.OutcomeKeep, ""},
		{"null tags", cfg, "tickets", `{"id":"1","tags":null}`,
			[]string{"migrated", "from-zendesk"}, transform.OutcomeKeep, ""},
		{"empty tags", cfg, "tickets", `{"id":"1","tags":[]}`,
			[]string{"migrated", "from-zendesk"}, transform.OutcomeKeep, ""},
		{"one already there", cfg, "tickets", `{"id":"1","tags":["migrated","vip"]}`,
			[]string{"migrated", "vip", "from-zendesk"}, transform.OutcomeKeep, ""},
		{"all already there: unchanged", cfg, "tickets", `{"id":"1","tags":["from-zendesk","migrated"]}`,
			nil, transform.OutcomeKeep, ""},
		{"listed twice in the config", `{"tags":["a","a"," a "]}`, "tickets", `{"id":"1"}`,
			[]string{"a"}, transform.OutcomeKeep, ""},
		{"other stream: unchanged", cfg, "users", `{"id":"1","name":"Ann"}`,
			nil, transform.OutcomeKeep, ""},
		{"tags not a list", cfg, "tickets", `{"id":"1","tags":"printer"}`,
			nil, transform.OutcomeError, "cannot add tags: column tags: json: cannot unmarshal string into Go value of type []string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := transformtest.Run(t, tt.config, tt.stream, tt.record)[0]
			if got.Outcome != tt.outcome || got.Reason != tt.reason {
				t.Fatalf("got %v %q, want %v %q", got.Outcome, got.Reason, tt.outcome, tt.reason)
			}
			if tt.outcome != transform.OutcomeKeep {
				return
			}
			if tt.want == nil {
				if string(got.Records[0]) != tt.record {
					t.Errorf("record = %s, want it unchanged: %s", got.Records[0], tt.record)
				}
				return
			}
			if tags := strs(got.Record(0)["tags"]); !slices.Equal(tags, tt.want) {
				t.Errorf("tags = %q, want %q", tags, tt.want)
			}
		})
	}
}

// TestIdempotent runs the transform over its own output: the second pass
// must change nothing, as a rerun of a migration must not.
func TestIdempotent(t *testing.T) {
	const cfg = `{"tags": ["migrated", "from-zendesk"]}`
	first := transformtest.Run(t, cfg, "tickets", `{"id":"1","subject":"s","tags":["x","migrated"]}`)[0]
	second := transformtest.Run(t, cfg, "tickets", string(first.Records[0]))[0]
	if string(second.Records[0]) != string(first.Records[0]) {
		t.Errorf("second pass changed the record:\n%s\nto\n%s", first.Records[0], second.Records[0])
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		config, want string
	}{
		{``, "tags is missing or empty"},
		{`{}`, "tags is missing or empty"},
		{`{"tags":[]}`, "tags is missing or empty"},
		{`{"tags":["a",""]}`, "tags[1] is empty"},
		{`{"tags":["a"],"streams":[]}`, "streams is empty"},
		{`{"tags":["a"],"streams":["users"]}`, `streams: "users" has no tags column`},
		{`{"tags":"a"}`, "cannot unmarshal string"},
		{`{"tag":["a"]}`, `unknown field "tag"`},
	}
	for _, tt := range tests {
		t.Run(tt.config, func(t *testing.T) {
			_, err := transformtest.Configure(tt.config)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Configure(%s) = %v, want an error containing %q", tt.config, err, tt.want)
			}
		})
	}
}

// strs converts a decoded JSON array of strings.
func strs(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, e := range list {
		s, _ := e.(string)
		out = append(out, s)
	}
	return out
}
