package load

import (
	"encoding/json"
	"fmt"
	"testing"
)

func TestDataAttributeName(t *testing.T) {
	for in, want := range map[string]string{
		"plan": "plan", "account_number": "account-number", "  Order  number ": "Order-number", "Preis €": "Preis-€",
		"Größe": "Größe", "a/b/c": "a-b-c", "__": "", "x!": "x",
	} {
		if got := dataAttributeName(in); got != want {
			t.Errorf("dataAttributeName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAttributeValues(t *testing.T) {
	set := attributeSet{
		"s": {name: "S", dataType: "string", labels: map[string]string{"v_api": "API"}},
		"i": {name: "I", dataType: "integer"},
		"f": {name: "F", dataType: "float"},
		"b": {name: "B", dataType: "boolean"},
		"d": {name: "D", dataType: "datetime"},
	}
	tests := []struct {
		in, want, bad string
	}{
		{`{"s":"v_api","i":"42","f":1.5,"b":true,"d":"2024-03-01"}`, "map[B:true D:1709251200 F:1.5 I:42 S:API]", "[]"},
		{`{"s":["v_api","other"],"i":7,"f":"2","b":"false","d":"2024-03-01T10:00:00Z"}`, "map[B:false D:1709287200 F:2 I:7 S:API, other]", "[]"},
		{`{"s":null,"i":"seven","f":"x","b":"maybe","d":"soon","unknown":1}`, "map[]", "[B = maybe is not a boolean D = soon is not a datetime F = x is not a float I = seven is not a integer]"},
		{`{"s":{"nested":1},"i":1.5}`, "map[S:{\"nested\":1}]", "[I = 1.5 is not a integer]"},
	}
	for _, tt := range tests {
		got, bad := set.values(json.RawMessage(tt.in))
		if fmt.Sprint(got) != tt.want && !(tt.want == "map[]" && got == nil) || fmt.Sprint(bad) != tt.bad {
			t.Errorf("values(%s) = %v, %v; want %s, %s", tt.in, got, bad, tt.want, tt.bad)
		}
	}
}
