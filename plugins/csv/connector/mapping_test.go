package connector

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ferryhq/ferry/sdk/schema"
)

func TestParse(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	p := parser{layouts: []string{"2006-01-02 15:04", "02/01/2006", layoutUnixMS}, loc: paris, sep: ";"}
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v.UTC()
	}
	tests := []struct {
		name   string
		kind   kind
		in     string
		values map[string]string
		want   value
		err    string
	}{
		{"rfc3339 with an offset", kindTime, "2024-03-01T10:00:00+02:00", nil, value{time: at("2024-03-01T08:00:00Z")}, ""},
		{"rfc3339 fractions", kindTime, " 2024-03-01T10:00:00.123456Z ", nil, value{time: at("2024-03-01T10:00:00.123456Z")}, ""},
		{"a layout in the zone, summer", kindTime, "2024-07-01 12:30", nil, value{time: at("2024-07-01T10:30:00Z")}, ""},
		{"a layout in the zone, winter", kindTime, "2024-01-15 12:30", nil, value{time: at("2024-01-15T11:30:00Z")}, ""},
		{"the second layout", kindTime, "31/12/2023", nil, value{time: at("2023-12-30T23:00:00Z")}, ""},
		{"unix milliseconds", kindTime, "1700000000123", nil, value{time: at("2023-11-14T22:13:20.123Z")}, ""},
		{"not a time", kindTime, "yesterday", nil, value{}, `"yesterday" is not a time: want RFC 3339 (2006-01-02T15:04:05Z07:00) or 2006-01-02 15:04 or 02/01/2006 or unix_ms`},
		{"a time out of range", kindTime, "99999999999999999", nil, value{}, "out of range"},
		{"a rewritten time", kindTime, "never", map[string]string{"never": "2000-01-01T00:00:00Z"}, value{time: at("2000-01-01T00:00:00Z")}, ""},
		{"true", kindBool, "TRUE", nil, value{bool: true}, ""},
		{"yes", kindBool, " Yes ", nil, value{bool: true}, ""},
		{"1", kindBool, "1", nil, value{bool: true}, ""},
		{"no", kindBool, "no", nil, value{}, ""},
		{"0", kindBool, "0", nil, value{}, ""},
		{"a rewritten boolean", kindBool, "Private", map[string]string{"Private": "false", "Public": "true"}, value{}, ""},
		{"not a boolean", kindBool, "maybe", nil, value{}, `"maybe" is not a boolean`},
		{"a list", kindList, " vip ; ;billing;", nil, value{list: []string{"vip", "billing"}}, ""},
		{"a rewritten list", kindList, "VIP;Billing", map[string]string{"VIP": "vip", "Billing": ""}, value{list: []string{"vip"}}, ""},
		{"text is trimmed", kindText, "  Printer on fire \t", nil, value{text: "Printer on fire"}, ""},
		{"a rewritten text", kindText, "Pending Customer Response", map[string]string{"Pending Customer Response": "pending"}, value{text: "pending"}, ""},
		{"a body is kept as written", kindBody, "  Hello,\n\n  world  \n", nil, value{text: "  Hello,\n\n  world  \n"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := p.parse(tt.kind, "col", tt.in, tt.values)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !got.time.Equal(tt.want.time) || got.text != tt.want.text || got.bool != tt.want.bool || !slices.Equal(got.list, tt.want.list) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestRoleOf(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{"agent", schema.RoleAgent, ""},
		{"Admin", schema.RoleAgent, ""},
		{"end-user", schema.RoleEndUser, ""},
		{"End User", schema.RoleEndUser, ""},
		{"customer", schema.RoleEndUser, ""},
		{"light agent", "", `role "light agent" is neither agent nor end_user: map it with values`},
	}
	for _, tt := range tests {
		got, err := roleOf(tt.in)
		if got != tt.want || (err == nil) != (tt.err == "") || err != nil && !strings.Contains(err.Error(), tt.err) {
			t.Errorf("roleOf(%q) = %q, %v; want %q, %q", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestJSONCells(t *testing.T) {
	line := []byte(`{"s": "text", "esc": "a\"b\u00e9\n", "n": 42, "f": 1.5e3, "b": false, "nil": null,
		"list": ["a", 2, null, true], "bad list": [["x"]], "obj": {"id": 7, "deep": {"x": "y"}}, "a.b": "dotted", "a": {"b": "nested"}}`)
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(line, &obj); err != nil {
		t.Fatal(err)
	}
	row := &jsonRow{obj: obj, line: line}
	src := &jsonlSource{}
	tests := []struct {
		key  string
		want cell
		err  string
	}{
		{"s", cell{present: true, text: "text"}, ""},
		{"esc", cell{present: true, text: "a\"bé\n"}, ""},
		{"n", cell{present: true, text: "42"}, ""},
		{"f", cell{present: true, text: "1.5e3"}, ""},
		{"b", cell{present: true, text: "false"}, ""},
		{"nil", cell{}, ""},
		{"absent", cell{}, ""},
		{"list", cell{present: true, isList: true, list: []string{"a", "2", "true"}}, ""},
		{"bad list", cell{}, "arrays or objects"},
		{"obj", cell{}, "a JSON object where a value belongs"},
		{"obj.id", cell{present: true, text: "7"}, ""},
		{"obj.deep.x", cell{present: true, text: "y"}, ""},
		{"obj.nope", cell{}, ""},
		{"s.x", cell{}, ""},
		// A key with a dot in it wins over a path.
		{"a.b", cell{present: true, text: "dotted"}, ""},
	}
	for _, tt := range tests {
		ref, _ := src.ref(tt.key)
		got, err := row.cell(ref)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: err %v, want %q", tt.key, err, tt.err)
			}
			continue
		}
		if err != nil || got.present != tt.want.present || got.text != tt.want.text || got.isList != tt.want.isList || !slices.Equal(got.list, tt.want.list) {
			t.Errorf("%s: %+v, %v; want %+v", tt.key, got, err, tt.want)
		}
	}
	ref, _ := src.ref("obj")
	if b, ok := row.appendJSON(nil, ref); !ok || string(b) != `{"id": 7, "deep": {"x": "y"}}` {
		t.Errorf("a custom field keeps its JSON value: %s, %v", b, ok)
	}
}

func TestAppendJSONString(t *testing.T) {
	for _, s := range []string{"", "plain", `quo"te`, `back\slash`, "new\nline\r\ttab", "\x00\x01\x1f\x7f", "é 日本 😀", "\u2028\u2029", "<html>&amp;"} {
		out := appendJSONString([]byte("x"), s)
		if out[0] != 'x' {
			t.Fatalf("it must append: %q", out)
		}
		var back string
		if err := json.Unmarshal(out[1:], &back); err != nil || back != s {
			t.Errorf("%q → %s → %q, %v", s, out[1:], back, err)
		}
	}
}

func TestSlug(t *testing.T) {
	for in, want := range map[string]string{"Ticket Description": "ticket-description", "  Résolution (final) ": "r-solution-final", "body_text": "body-text", "日本": ""} {
		if got := slug(in); got != want {
			t.Errorf("slug(%q) = %q, want %q", in, got, want)
		}
	}
}
