package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferryhq/ferry/host/intercom"
	"github.com/ferryhq/ferry/plugins/zendesk/zendesktest"
)

// TestVerify migrates a help desk and verifies it: every record checked and
// equal to the source, in the audit tables. Then someone changes Intercom
// through its API (a contact's email, a conversation reopened, another's
// title, a stray reply in a third) and verify finds and names each change,
// and exits 1.
func TestVerify(t *testing.T) {
	w := newWorld(t, zendesktest.GenerateOptions{Seed: 19, Tickets: 15, EndUsers: 10, Organizations: 3, Articles: 6})
	w.withHelpCenter()
	w.mustFerry("migrate", "-w", w.ws)

	out := w.mustFerry("verify", "-w", w.ws, "--checksums")
	if !strings.Contains(out, "Intercom holds what the source says") {
		t.Errorf("verify of an exact migration:\n%s", out)
	}
	rep := w.report()
	sum := w.mustFerry("query", "-w", w.ws, "--format", "csv",
		"SELECT entity, migrated, verified, mismatched, unchecked FROM audit_summary ORDER BY entity")
	for _, entity := range []string{"tickets", "contacts", "companies", "articles", "collections"} {
		n := rep[entity].Migrated
		if n == 0 {
			t.Errorf("nothing of %s migrated: the check proves nothing", entity)
			continue
		}
		if want := entity + "," + itoa(n) + "," + itoa(n) + ",0,0"; !strings.Contains(sum, want) {
			t.Errorf("audit_summary lacks %q:\n%s", want, sum)
		}
	}
	facts := w.mustFerry("query", "-w", w.ws, "--format", "csv",
		"SELECT count(*) FILTER (WHERE ok), count(*) FILTER (WHERE NOT ok), count(DISTINCT fact) FROM audit_checks WHERE entity = 'tickets'")
	if !strings.Contains(facts, ",0,14") {
		t.Errorf("the tickets' checks: want 14 facts, none failing:\n%s", facts)
	}

	// Changes made in Intercom after the migration.
	ctx := context.Background()
	ic, err := intercom.New(intercom.Options{BaseURL: w.icURL, Token: e2eIntercomToken})
	if err != nil {
		t.Fatal(err)
	}
	convs, contacts := w.idMap("tickets"), w.idMap("contacts")
	var changedContact string
	for src, id := range contacts {
		if _, err := ic.UpdateContact(ctx, id, intercom.ContactRequest{Email: "someone.else@example.org"}); err != nil {
			t.Fatal(err)
		}
		changedContact = src
		break
	}
	var reopened, retitled, replied string
	admin := w.admins[0].ID
	for _, tk := range w.hd.Tickets {
		src := id(tk.ID)
		switch {
		case reopened == "" && (tk.Status == "solved" || tk.Status == "closed"):
			reopened = src
			if err := ic.ManageConversation(ctx, convs[src], intercom.ManageRequest{MessageType: intercom.ManageOpen, AdminID: admin}); err != nil {
				t.Fatal(err)
			}
		case retitled == "":
			retitled = src
			if err := ic.UpdateConversation(ctx, convs[src], intercom.UpdateConversationRequest{Title: "Something else"}); err != nil {
				t.Fatal(err)
			}
		case replied == "":
			replied = src
			if _, err := ic.ReplyConversation(ctx, convs[src], intercom.ReplyRequest{Type: "admin", AdminID: admin, MessageType: intercom.MessageNote, Body: "<p>a stray note</p>"}); err != nil {
				t.Fatal(err)
			}
		}
	}

	stdout, stderr, code := w.ferry("verify", "-w", w.ws)
	if code != 1 {
		t.Errorf("verify with mismatches exited %d, want 1\n%s\n%s", code, stdout, stderr)
	}
	mm := w.mustFerry("query", "-w", w.ws, "--format", "csv",
		"SELECT entity, source_id, fact, reason FROM audit_mismatches ORDER BY entity, source_id, fact")
	for _, want := range []string{
		"contacts," + changedContact + ",email,",
		"tickets," + reopened + ",state,",
		"tickets," + retitled + ",title,",
		"tickets," + replied + ",parts,",
	} {
		if !strings.Contains(mm, want) {
			t.Errorf("audit_mismatches lacks %q:\n%s", want, mm)
		}
	}
	if n := strings.Count(strings.TrimSpace(mm), "\n"); n != 4 {
		t.Errorf("%d mismatches, want the 4 made:\n%s", n, mm)
	}
	for _, want := range []string{"someone.else@example.org", "Something else", "doubled?"} {
		if !strings.Contains(mm+stdout, want) {
			t.Errorf("the mismatches do not say %q:\n%s", want, mm)
		}
	}
	if !strings.Contains(stdout, "MISMATCHED") || !strings.Contains(stdout, "tickets "+reopened+", state") {
		t.Errorf("verify does not print the mismatches:\n%s", stdout)
	}
	// The report's JSON carries what verify found (records), and its page
	// the mismatches.
	var js struct {
		Verify *struct{ Checked, Mismatches int } `json:"verify"`
	}
	out = w.mustFerry("report", "-w", w.ws, "--json")
	if err := json.Unmarshal([]byte(out), &js); err != nil || js.Verify == nil || js.Verify.Mismatches != 4 || js.Verify.Checked < 30 {
		t.Errorf("report --json verify = %+v (%v), want 4 mismatches of all records checked:\n%s", js.Verify, err, out)
	}
	page, err := os.ReadFile(filepath.Join(w.ws, "reports", "report.html"))
	if err != nil || !strings.Contains(string(page), "someone.else@example.org") {
		t.Errorf("report.html does not show the contact's mismatch (%v)", err)
	}
	cmp := w.mustFerry("query", "-w", w.ws, "--format", "csv",
		"SELECT ticket_id, all_ok, parts_ok, state_ok, title_ok FROM ticket_comparison WHERE NOT all_ok ORDER BY ticket_id")
	for _, want := range []string{reopened + ",false,true,false,true", retitled + ",false,true,true,false", replied + ",false,false,true,true"} {
		if !strings.Contains(cmp, want) {
			t.Errorf("ticket_comparison lacks %q:\n%s", want, cmp)
		}
	}
}

func itoa(n int) string { return id(int64(n)) }
