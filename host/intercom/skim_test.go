package intercom

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// answer builds a reply's answer the shape Intercom gives: the whole
// conversation with n parts, whose bodies hold JSON-like text and escapes.
func answer(n int) string {
	var parts []string
	for i := range n {
		parts = append(parts, fmt.Sprintf(`{"type":"conversation_part","id":"%d","part_type":"comment",`+
			`"body":"<p>Part %d: \"quoted\", a \\ backslash, \u00e9t\u00e9, {\"id\":\"not this\"} and [brackets]</p>",`+
			`"created_at":1700000000,"author":{"type":"admin","id":"991","name":"Ann"},"attachments":[],"redacted":false,"metadata":{"n":-1.5e3}}`, 1000+i, i))
	}
	return `{"type":"conversation","id":"77","created_at":1700000000,"title":null,` +
		`"source":{"type":"conversation","id":"5","body":"<p>first</p>","author":{"id":"8"}},` +
		`"custom_attributes":{"Größe":"L","id":"no"},"tags":{"type":"tag.list","tags":[]},` +
		`"conversation_parts":{"type":"conversation_part.list","conversation_parts":[` + strings.Join(parts, ",") +
		`],"total_count":` + fmt.Sprint(n) + `}}` + "\n"
}

func TestLastPartID(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		want   string
		wantOK bool
	}{
		{"one part", answer(1), "1000", true},
		{"many parts", answer(12), "1011", true},
		{"numeric id", `{"conversation_parts":{"conversation_parts":[{"id":1},{"id":22}]}}`, "22", true},
		{"null id", `{"conversation_parts":{"conversation_parts":[{"id":"1"},{"id":null}]}}`, "", true},
		{"element without id", `{"conversation_parts":{"conversation_parts":[{"id":"1"},{}]}}`, "", true},
		{"repeated key, last wins", `{"conversation_parts":{"conversation_parts":[{"id":"1"}]},"conversation_parts":{"conversation_parts":[{"id":"2"}]}}`, "2", true},
		{"repeated list, null last", `{"conversation_parts":{"conversation_parts":[{"id":"1"}],"conversation_parts":null}}`, "", false},
		{"repeated id, last wins", `{"conversation_parts":{"conversation_parts":[{"id":"1","id":"3"}]}}`, "3", true},
		{"nested ids ignored", `{"conversation_parts":{"conversation_parts":[{"author":{"id":"9"},"id":"4","x":[{"id":"8"}]}]}}`, "4", true},
		// Not settled: encoding/json decides.
		{"no parts", `{"conversation_parts":{"conversation_parts":[]}}`, "", false},
		{"no list", `{"type":"conversation","id":"77"}`, "", false},
		{"cut off", answer(3)[:200], "", false},
		{"trailing garbage", `{"conversation_parts":{"conversation_parts":[{"id":"1"}]}} x`, "", false},
		{"key in another case", `{"Conversation_Parts":{"conversation_parts":[{"id":"1"}]}}`, "", false},
		{"escaped key", `{"conversation_parts":{"conversation_parts":[{"\u0069d":"1"}]}}`, "", false},
		{"escaped id", `{"conversation_parts":{"conversation_parts":[{"id":"1\u0032"}]}}`, "", false},
		{"bad number", `{"conversation_parts":{"conversation_parts":[{"id":01}]}}`, "", false},
		{"bad literal", `{"conversation_parts":{"conversation_parts":[{"id":"1","x":tru}]}}`, "", false},
		{"control character", "{\"conversation_parts\":{\"conversation_parts\":[{\"id\":\"1\",\"x\":\"a\tb\"}]}}", "", false},
		{"id of another kind", `{"conversation_parts":{"conversation_parts":[{"id":true}]}}`, "", false},
		{"list of another kind", `{"conversation_parts":{"conversation_parts":{"id":"1"}}}`, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := lastPartID([]byte(tt.body))
			if ok != tt.wantOK || got != tt.want {
				t.Errorf("lastPartID = %q, %v; want %q, %v", got, ok, tt.want, tt.wantOK)
			}
			checkAgainstDecode(t, []byte(tt.body))
		})
	}
}

// checkAgainstDecode fails when lastPartID settles an answer otherwise
// than encoding/json decoding into partIDs.
func checkAgainstDecode(t *testing.T, body []byte) {
	t.Helper()
	id, ok := lastPartID(body)
	if !ok {
		return
	}
	var p partIDs
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("lastPartID settled %q as %q, but encoding/json fails: %v", body, id, err)
	}
	parts := p.ConversationParts.ConversationParts
	if len(parts) == 0 {
		t.Fatalf("lastPartID settled %q as %q, but encoding/json finds no parts", body, id)
	}
	if want := string(parts[len(parts)-1].ID); id != want {
		t.Fatalf("lastPartID settled %q as %q, encoding/json as %q", body, id, want)
	}
}

func FuzzLastPartID(f *testing.F) {
	for _, s := range []string{
		answer(1), answer(3),
		`{"conversation_parts":{"conversation_parts":[{"id":1},{"id":"2"}]}}`,
		`{"conversation_parts":null}`,
		`{"conversation_parts":{"conversation_parts":[{"id":"1"}],"conversation_parts":null}}`,
		`{"conversation_parts":{"conversation_parts":[null,{"id":-0.5e+2}]}}`,
		`{"a":[1,2,{"b":"\ud83d\ude00"}],"conversation_parts":{"conversation_parts":[{"id":"x"}]}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		checkAgainstDecode(t, body)
	})
}

// BenchmarkReplyAnswer compares reading the newest part's id from a
// 12-part answer with lastPartID and with encoding/json.
func BenchmarkReplyAnswer(b *testing.B) {
	body := []byte(answer(12))
	b.Run("skim", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			if _, ok := lastPartID(body); !ok {
				b.Fatal("not settled")
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			var p partIDs
			if err := json.Unmarshal(body, &p); err != nil {
				b.Fatal(err)
			}
		}
	})
}
