package columnar

import (
	"bytes"
	"encoding/json"
	"testing"
	"unicode/utf8"
)

// marshalNoHTML is what AppendJSONString must match: encoding/json without
// HTML escaping.
func marshalNoHTML(t testing.TB, s string) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		t.Fatal(err)
	}
	return string(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}

func TestAppendJSONString(t *testing.T) {
	tests := []string{
		"", "plain", `"quoted"`, `back\slash`, "tab\tnew\nline\r", "\b\f", "\x00\x01\x1f\x7f",
		"<b>&amp;</b>", "naïve café 日本語 🔥", "\u2028\u2029", "bad \xff utf8", "\xed\xa0\x80",
	}
	for _, s := range tests {
		got := string(AppendJSONString(nil, s))
		if want := marshalNoHTML(t, s); got != want {
			t.Errorf("AppendJSONString(%q) = %s, want %s", s, got, want)
		}
	}
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "a\"b", "\x00", "\f", "\u2028", "\xff", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := AppendJSONString(nil, s)
		if want := marshalNoHTML(t, s); string(got) != want {
			t.Fatalf("AppendJSONString(%q) = %s, want %s", s, got, want)
		}
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("%s does not decode: %v", got, err)
		}
		if utf8.ValidString(s) && back != s {
			t.Fatalf("round trip of %q gave %q", s, back)
		}
	})
}
