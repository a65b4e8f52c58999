package main

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/ferryhq/ferry/sdk/transform"
	"github.com/ferryhq/ferry/sdk/transform/transformtest"
)

// Card numbers that pass the Luhn check (test numbers of the card schemes),
// and one that does not.
const (
	visa     = "4111111111111111"
	amex     = "3782 822463 10005"
	mc       = "5500-0000-0000-0004"
	notLuhn  = "4111 1111 1111 1112"
	orderNum = "2024031500017" // 13 digits, not a card
)

func TestRedactText(t *testing.T) {
	rd := mustRedactor(t)
	tests := []struct {
		name      string
		in, want  string
		cards, id int
	}{
		{"plain card", "card " + visa + " thanks", "card [redacted] thanks", 1, 0},
		{"grouped by spaces", "amex: " + amex + ".", "amex: [redacted].", 1, 0},
		{"grouped by dashes", mc, "[redacted]", 1, 0},
		{"grouped by non-breaking spaces", "4111\u00a01111\u00a01111\u00a01111", "[redacted]", 1, 0},
		{"grouped by &nbsp;", "<p>4111&nbsp;1111&nbsp;1111&nbsp;1111</p>", "<p>[redacted]</p>", 1, 0},
		{"fails Luhn: kept", "card " + notLuhn, "card " + notLuhn, 0, 0},
		{"order number kept", "order #" + orderNum + " shipped", "order #" + orderNum + " shipped", 0, 0},
		{"too short", "411111111111", "411111111111", 0, 0},
		{"too long", visa + "1111", visa + "1111", 0, 0},
		{"two cards, one space apart", visa + " 6011 0009 9013 9424", "[redacted] [redacted]", 2, 0},
		{"card after a number", "ref 12 " + visa, "ref 12 [redacted]", 1, 0},
		{"card among numbers", "1 2 4111 1111 1111 1111 5", "1 2 [redacted] 5", 1, 0},
		{"two cards in a sentence", "first " + visa + ", then " + mc, "first [redacted], then [redacted]", 2, 0},
		{"ssn", "ssn 123-45-6789.", "ssn [redacted].", 0, 1},
		{"ssn with spaces", "ssn 123 45 6789", "ssn [redacted]", 0, 1},
		{"not an ssn: area 000", "000-12-3456", "000-12-3456", 0, 0},
		{"not an ssn: area 666", "666-12-3456", "666-12-3456", 0, 0},
		{"not an ssn: area 9xx", "912-34-5678", "912-34-5678", 0, 0},
		{"not an ssn: group 00", "123-00-4567", "123-00-4567", 0, 0},
		{"not an ssn: serial 0000", "123-45-0000", "123-45-0000", 0, 0},
		{"not an ssn: inside a longer number", "1123-45-67890", "1123-45-67890", 0, 0},
		{"phone number kept", "call +1 415-555-0100", "call +1 415-555-0100", 0, 0},
		{"both", "ssn 123-45-6789 card " + visa, "ssn [redacted] card [redacted]", 1, 1},
		{"nothing", "Printer on fire", "Printer on fire", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n counts
			if got := rd.text(tt.in, "[redacted]", &n); got != tt.want {
				t.Errorf("text(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if n != (counts{tt.cards, tt.id}) {
				t.Errorf("counted %d cards and %d national ids, want %d and %d", n.cards, n.nationalIDs, tt.cards, tt.id)
			}
		})
	}
}

// TestLongDigitRun checks that a long run of digit groups is handled in
// time proportional to its length, and leaves the digits that are no card.
func TestLongDigitRun(t *testing.T) {
	rd := mustRedactor(t)
	run := strings.Repeat("1 ", 200000) + "1"
	var n counts
	if got := rd.text(run, "[redacted]", &n); got != run || n.cards != 0 {
		t.Errorf("a run of ones changed: %d cards", n.cards)
	}
}

func TestRedactRecords(t *testing.T) {
	tests := []struct {
		name    string
		config  string
		stream  string
		record  string
		want    map[string]string // columns after; nil when the record must come back unchanged
		logged  string
		outcome transform.Outcome
	}{
		{"comment bodies", "", "comments",
			`{"id":"7","ticket_id":"1","body_text":"my card is ` + visa + `","body_html":"<p>ssn 123-45-6789</p>","public":true}`,
			map[string]string{"body_text": "my card is [redacted]", "body_html": "<p>ssn [redacted]</p>"},
			"redacted stream=comments id=7 cards=1 national_ids=1", transform.OutcomeKeep},
		{"ticket subject", "", "tickets",
			`{"id":"1","subject":"refund to ` + mc + `"}`,
			map[string]string{"subject": "refund to [redacted]"},
			"redacted stream=tickets id=1 cards=1 national_ids=0", transform.OutcomeKeep},
		{"nothing found: unchanged", "", "comments",
			`{"id":"7","ticket_id":"1","body_text":"order ` + orderNum + `"}`, nil, "", transform.OutcomeKeep},
		{"other stream: unchanged", "", "users",
			`{"id":"1","name":"` + visa + `"}`, nil, "", transform.OutcomeKeep},
		{"the mask is escaped in HTML", `{"mask":"<card & id>"}`, "comments",
			`{"id":"7","ticket_id":"1","body_text":"` + visa + `","body_html":"` + visa + `"}`,
			map[string]string{"body_text": "<card & id>", "body_html": "&lt;card &amp; id&gt;"},
			"redacted stream=comments id=7 cards=2 national_ids=0", transform.OutcomeKeep},
		{"cards off", `{"cards":false}`, "tickets",
			`{"id":"1","subject":"` + visa + ` 123-45-6789"}`,
			map[string]string{"subject": visa + " [redacted]"},
			"redacted stream=tickets id=1 cards=0 national_ids=1", transform.OutcomeKeep},
		{"configured national id, no SSN", `{"national_ids":["\\b[A-Z]{2}\\d{6}[A-D]\\b"]}`, "tickets",
			`{"id":"1","subject":"NI AB123456C, ssn 123-45-6789"}`,
			map[string]string{"subject": "NI [redacted], ssn 123-45-6789"},
			"redacted stream=tickets id=1 cards=0 national_ids=1", transform.OutcomeKeep},
		{"configured columns", `{"columns":{"kb_articles":["body_html"]}}`, "kb_articles",
			`{"id":"1","title":"` + visa + `","body_html":"` + visa + `"}`,
			map[string]string{"title": visa, "body_html": "[redacted]"},
			"redacted stream=kb_articles id=1 cards=1 national_ids=0", transform.OutcomeKeep},
		{"configured columns replace the default ones", `{"columns":{"kb_articles":["body_html"]}}`, "tickets",
			`{"id":"1","subject":"` + visa + `"}`, nil, "", transform.OutcomeKeep},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := transformtest.Configure(tt.config)
			if err != nil {
				t.Fatal(err)
			}
			results, err := m.Apply(tt.stream, tt.record)
			if err != nil {
				t.Fatal(err)
			}
			got := results[0]
			if got.Outcome != tt.outcome {
				t.Fatalf("outcome %v %q, want %v", got.Outcome, got.Reason, tt.outcome)
			}
			if tt.want == nil && string(got.Records[0]) != tt.record {
				t.Errorf("record = %s, want it unchanged", got.Records[0])
			}
			for col, want := range tt.want {
				if v := got.Record(0)[col]; v != want {
					t.Errorf("%s = %q, want %q", col, v, want)
				}
			}
			var logged string
			if logs := m.Logs(); len(logs) > 0 {
				logged = logs[0].Message
				if len(logs) > 1 || logs[0].Level != slog.LevelInfo {
					t.Errorf("logs = %v, want one info line", logs)
				}
			}
			if logged != tt.logged {
				t.Errorf("logged %q, want %q", logged, tt.logged)
			}
			if strings.Contains(logged, "4111") || strings.Contains(logged, "6789") {
				t.Errorf("the log shows what was redacted: %q", logged)
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		config, want string
	}{
		{`{"mask":""}`, "mask is empty"},
		{`{"national_ids":["(ab"]}`, "national_ids[0]: error parsing regexp"},
		{`{"national_ids":["\\d{3}","x*"]}`, `national_ids[1]: "x*" matches the empty string`},
		{`{"cards":false,"national_ids":[]}`, "nothing to redact"},
		{`{"columns":{}}`, "columns is empty"},
		{`{"columns":{"tickets":["id"]}}`, `columns.tickets: "id" cannot be redacted`},
		{`{"mask":"x","card":true}`, `unknown field "card"`},
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

func TestLuhn(t *testing.T) {
	for s, want := range map[string]bool{
		"4111111111111111": true, "4012888888881881": true, "378282246310005": true,
		"4111111111111112": false, "1234567890123": false, "1234567890128": true,
	} {
		digits := make([]byte, len(s))
		for i := range s {
			digits[i] = s[i] - '0'
		}
		if got := luhn(digits); got != want {
			t.Errorf("luhn(%s) = %v, want %v", s, got, want)
		}
	}
}

// mustRedactor builds the redactor of the default config.
func mustRedactor(t *testing.T) redactor {
	t.Helper()
	rd, err := defaultConfig().redactor()
	if err != nil {
		t.Fatal(err)
	}
	return rd
}
