package phone

import (
	"errors"
	"strings"
	"testing"
)

func TestE164(t *testing.T) {
	tests := []struct {
		raw, country, want string
		err                string // part of the error; "" for none
	}{
		{"+1 (415) 555-0132", "", "+14155550132", ""},
		{"+44 20 7946 0958", "1", "+442079460958", ""},
		{"0044 20 7946 0958", "", "+442079460958", ""},
		{"(415) 555-0132", "1", "+14155550132", ""},
		{"1-415-555-0132", "1", "+14155550132", ""},
		{"020 7946 0958", "44", "+442079460958", ""},
		{"06 12 34 56 78", "33", "+33612345678", ""},
		{"02 1234 5678", "39", "+390212345678", ""},
		{"+1 415.555.0132 ext. 42", "", "+14155550132", ""},
		{"+1 415 555 0132 x7", "", "+14155550132", ""},
		{"+49\u00a030\u00a0901820", "", "+4930901820", ""},
		{"415-555-0132", "", "", "no country calling code"},
		{"call me maybe", "1", "", "not a phone number"},
		{"+1 555", "", "", "8 to 15"},
		{"+1234567890123456", "", "", "8 to 15"},
		{"+0 20 7946 0958", "", "", "does not start with 0"},
		{"  ", "1", "", "empty"},
		{"+٤٤ 20", "", "", "not a phone number"},
		// Calling codes no country has.
		{"+999 1234 5678", "", "", "no country has the calling code"},
		{"+28 1234 5678", "", "", "no country has the calling code"},
		{"555 0132 1234", "999", "", "no country has it"},
		{"+211 912 345 678", "", "+211912345678", ""},
		{"+7 495 123 45 67", "", "+74951234567", ""},
		{"+852 2123 4567", "", "+85221234567", ""},
	}
	for _, tt := range tests {
		got, err := E164(tt.raw, tt.country)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("E164(%q, %q) = %q, %v; want an error with %q", tt.raw, tt.country, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("E164(%q, %q) = %q, %v; want %q", tt.raw, tt.country, got, err, tt.want)
		}
	}
	if _, err := E164("555 0132 1234", ""); !errors.Is(err, ErrNoCountry) {
		t.Errorf("a national number without a country: %v, want ErrNoCountry", err)
	}
}

// FuzzE164: whatever a help desk holds, the answer is E.164 or an error,
// never a panic.
func FuzzE164(f *testing.F) {
	for _, s := range []string{"+1 (415) 555-0132", "0044 20", "x12", "+", "00", "ext.", "06 12 34 56 78", "\u00a0+1"} {
		f.Add(s, "1")
		f.Add(s, "")
	}
	f.Fuzz(func(t *testing.T, raw, country string) {
		got, err := E164(raw, country)
		if err != nil {
			return
		}
		if len(got) < 9 || len(got) > 16 || got[0] != '+' || got[1] == '0' {
			t.Fatalf("E164(%q, %q) = %q: not E.164", raw, country, got)
		}
		for _, r := range got[1:] {
			if r < '0' || r > '9' {
				t.Fatalf("E164(%q, %q) = %q: not E.164", raw, country, got)
			}
		}
	})
}
