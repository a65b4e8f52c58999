package main

import (
	"strconv"
	"strings"
	"testing"

	"github.com/ferryhq/ferry/sdk/transform"
	"github.com/ferryhq/ferry/sdk/transform/transformtest"
)

func TestTagSubject(t *testing.T) {
	tests := []struct {
		name        string
		config      string
		stream      string
		record      string
		wantOutcome transform.Outcome
		wantSubject any // the subject after, or nil when it must be absent or null
		wantReason  string
	}{
		{"default prefix", "", "tickets", `{"id":"123","subject":"Printer on fire"}`, transform.OutcomeKeep, "[ZD-123] Printer on fire", ""},
		{"configured prefix", `{"prefix":"HD"}`, "tickets", `{"id":"123","subject":"Printer on fire"}`, transform.OutcomeKeep, "[HD-123] Printer on fire", ""},
		{"empty subject", `{"prefix":"ZD"}`, "tickets", `{"id":"123","subject":""}`, transform.OutcomeKeep, "[ZD-123]", ""},
		{"null subject", `{"prefix":"ZD"}`, "tickets", `{"id":"123","subject":null}`, transform.OutcomeKeep, "[ZD-123]", ""},
		{"no subject", `{"prefix":"ZD"}`, "tickets", `{"id":"123"}`, transform.OutcomeKeep, "[ZD-123]", ""},
		{"already tagged", `{"prefix":"ZD"}`, "tickets", `{"id":"123","subject":"[ZD-123] Printer on fire"}`, transform.OutcomeKeep, "[ZD-123] Printer on fire", ""},
		{"tag of another id", `{"prefix":"ZD"}`, "tickets", `{"id":"12","subject":"[ZD-123] x"}`, transform.OutcomeKeep, "[ZD-12] [ZD-123] x", ""},
		{"escapes kept", `{"prefix":"ZD"}`, "tickets", `{"id":"7","subject":"\"quoted\" & <b>"}`, transform.OutcomeKeep, `[ZD-7] "quoted" & <b>`, ""},
		{"other stream", `{"prefix":"ZD"}`, "users", `{"id":"123","name":"Ann"}`, transform.OutcomeKeep, nil, ""},
		{"ticket without id", `{"prefix":"ZD"}`, "tickets", `{"subject":"x"}`, transform.OutcomeError, nil, "ticket without an id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			results := transformtest.Run(t, tt.config, tt.stream, tt.record)
			got := results[0]
			if got.Outcome != tt.wantOutcome || got.Reason != tt.wantReason {
				t.Fatalf("got %v %q, want %v %q", got.Outcome, got.Reason, tt.wantOutcome, tt.wantReason)
			}
			if tt.wantOutcome != transform.OutcomeKeep {
				return
			}
			if subject := got.Record(0)["subject"]; subject != tt.wantSubject {
				t.Errorf("subject = %#v, want %#v", subject, tt.wantSubject)
			}
		})
	}
}

// TestUnchangedRecordsPassThrough checks that records the transform does not
// change come back byte for byte (the batch is compact JSON), not re-encoded
// with sorted keys.
func TestUnchangedRecordsPassThrough(t *testing.T) {
	records := []string{
		`{"id":"1","name":"Ann","raw":{"z":1,"a":[1,2]}}`,
		`{"id":"2","subject":"[ZD-2] done"}`,
	}
	results := transformtest.Run(t, "", "users", records[0])
	results = append(results, transformtest.Run(t, "", "tickets", records[1])...)
	for i, r := range results {
		if string(r.Records[0]) != records[i] {
			t.Errorf("record %d = %s, want %s unchanged", i, r.Records[0], records[i])
		}
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		config, want string
	}{
		{`{"prefix":""}`, "prefix must not be empty"},
		{`{"prefix":"  "}`, "prefix must not be empty"},
		{`{"prefix":"Z]D"}`, "must not contain"},
		{`{"prefx":"ZD"}`, `unknown field "prefx"`},
		{`{"prefix":5}`, "cannot unmarshal number"},
		{`{"prefix":`, "not valid JSON"},
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

func TestBatch(t *testing.T) {
	m, err := transformtest.Configure(`{"prefix":"ZD"}`)
	if err != nil {
		t.Fatal(err)
	}
	results, err := m.Apply("tickets", `{"id":"1","subject":"a"}`, `{"id":"2","subject":"b"}`, `{"subject":"c"}`)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"[ZD-1] a", "[ZD-2] b"}
	for i, w := range want {
		if got := results[i].Record(0)["subject"]; got != w {
			t.Errorf("record %d: subject %v, want %q", i, got, w)
		}
	}
	if results[2].Outcome != transform.OutcomeError {
		t.Errorf("record 2: %v, want error", results[2].Outcome)
	}
}

// TestBatchOfTickets runs many tickets in one batch, as ferry does: the
// subject is built in a buffer reused from ticket to ticket, and no
// ticket's subject may show another's bytes.
func TestBatchOfTickets(t *testing.T) {
	var records []string
	for i := range 300 {
		subject := strings.Repeat("x", i%37)
		records = append(records, `{"id":"`+strconv.Itoa(i)+`","subject":"`+subject+`"}`)
	}
	results := transformtest.Run(t, `{"prefix":"ZD"}`, "tickets", records...)
	for i, got := range results {
		want := "[ZD-" + strconv.Itoa(i) + "]"
		if s := strings.Repeat("x", i%37); s != "" {
			want += " " + s
		}
		if got.Outcome != transform.OutcomeKeep || got.Record(0)["subject"] != want {
			t.Fatalf("ticket %d: %v %v, want subject %q", i, got.Outcome, got.Record(0)["subject"], want)
		}
	}
}
