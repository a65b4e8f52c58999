package sourcetest

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"

	sourcev1 "github.com/ferryhq/ferry/sdk/proto/source/v1"
	"github.com/ferryhq/ferry/sdk/schema"
	"github.com/ferryhq/ferry/sdk/source"
)

// fake is a connector of 50 tickets, each with a comment, a checkpoint
// every 10 tickets, and one fault at a time on request.
type fake struct{ fault string }

func (f fake) Spec() source.Spec {
	return source.Spec{Name: "fake", Version: "1.0.0", ConfigSchema: `{"type":"object"}`}
}
func (f fake) Check(context.Context, json.RawMessage) error { return nil }
func (f fake) Streams(json.RawMessage) ([]source.Stream, error) {
	return []source.Stream{tickets(f)}, nil
}

type tickets fake

func (tickets) Info() source.StreamInfo {
	return source.StreamInfo{Name: schema.Tickets, CursorField: "id", Emits: []string{schema.Comments}}
}

func (f tickets) Read(ctx context.Context, cursor []byte, out *source.Emitter) error {
	start := 0
	if cursor != nil && f.fault != "ignores cursor" {
		start, _ = strconv.Atoi(string(cursor))
	}
	for i := start + 1; i <= 50; i++ {
		id := strconv.Itoa(i)
		raw := json.RawMessage(fmt.Sprintf(`{"id":%d}`, i))
		if f.fault == "no raw" {
			raw = nil
		}
		out.Emit(ctx, &schema.Ticket{ID: id, Raw: raw})
		if f.fault == "undeclared stream" && i == 7 {
			out.Emit(ctx, &schema.User{ID: "u", Role: schema.RoleEndUser, Raw: raw})
		}
		if !(f.fault == "duplicates" && i == 12) {
			out.Emit(ctx, &schema.Comment{ID: "c" + id, TicketID: id, Raw: raw})
		} else {
			out.Emit(ctx, &schema.Comment{ID: "c11", TicketID: id, Raw: raw})
		}
		if i%10 == 0 {
			cp := id
			if f.fault == "early checkpoint" {
				cp = strconv.Itoa(i + 5) // claims records it has not sent
			}
			out.Checkpoint(ctx, []byte(cp))
		}
	}
	return nil
}

func problemsOf(t *testing.T, f fake) []string {
	client := Client(t, f, source.DefaultLimits())
	res := Read(t, client, nil, nil, nil)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	streams := []*sourcev1.Stream{{Name: schema.Tickets, CursorField: "id", Emits: []string{schema.Comments}}}
	emits := map[string][]string{schema.Tickets: {schema.Tickets, schema.Comments}}
	return append(readProblems(res, streams, emits, Options{}), resumeProblems(t, client, nil, res, streams, emits)...)
}

func TestKitPassesAGoodConnector(t *testing.T) {
	Run(t, fake{}, nil, Options{})
	if p := problemsOf(t, fake{}); len(p) > 0 {
		t.Errorf("problems with a good connector: %q", p)
	}
}

func TestKitFindsFaults(t *testing.T) {
	tests := []struct{ fault, want string }{
		{"no raw", "want the source's record as a JSON object"},
		{"duplicates", "comments c11 came twice in one read"},
		{"undeclared stream", "a batch of stream users while reading \"tickets\""},
		{"ignores cursor", "came before checkpoint"},
		{"early checkpoint", "the whole read had 50"},
	}
	for _, tt := range tests {
		t.Run(tt.fault, func(t *testing.T) {
			p := problemsOf(t, fake{fault: tt.fault})
			if !strings.Contains(strings.Join(p, "\n"), tt.want) {
				t.Errorf("problems %q do not say %q", p, tt.want)
			}
		})
	}
}
