package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/ferryhq/ferry/host/intercom"
	"github.com/ferryhq/ferry/plugins/zendesk/zendesktest"
)

// TestUndoEndToEnd migrates a small help desk (with its knowledge base)
// into a sandbox that already has a contact of one end user's email, then:
// ferry undo answered "n" on a terminal deletes nothing; without a terminal
// and without --yes it refuses; with --yes it deletes every object ferry
// created and leaves the contact it adopted, and undo_log says so object by
// object; the report then shows nothing migrated; and a migrate again
// recreates everything exactly.
func TestUndoEndToEnd(t *testing.T) {
	w := newWorld(t, zendesktest.GenerateOptions{Seed: 23, Tickets: 10, EndUsers: 8, Organizations: 3, Articles: 6})
	w.withHelpCenter()
	hd := w.hd
	var endUsers []zendesktest.User
	for _, u := range hd.Users {
		if !u.IsAgent() {
			endUsers = append(endUsers, u)
		}
	}

	// The customer's Intercom has one of the end users already (imported
	// from their own user database, with the same id): ferry adopts it.
	var adopted zendesktest.User
	for _, u := range endUsers {
		if u.Email != nil {
			adopted = u
			break
		}
	}
	ic, err := intercom.New(intercom.Options{BaseURL: w.icURL, Token: e2eIntercomToken})
	if err != nil {
		t.Fatal(err)
	}
	existing, err := ic.CreateContact(t.Context(), intercom.ContactRequest{Role: intercom.RoleUser, Email: *adopted.Email,
		ExternalID: id(adopted.ID), Name: adopted.Name, SignedUpAt: adopted.CreatedAt.Unix()})
	if err != nil {
		t.Fatal(err)
	}

	w.mustFerry("migrate", "-w", w.ws)
	firstReport := w.report()
	w.checkExact(t, endUsers)
	hc := hd.HelpCenter
	nCollections := len(hc.Categories) + len(hc.Sections)
	if snap := w.ic.Snapshot(); len(snap.Collections) != nCollections || len(snap.Articles) != len(hc.Articles) || len(hc.Articles) == 0 {
		t.Fatalf("the migration made %d collections and %d articles, want %d and %d", len(snap.Collections), len(snap.Articles), nCollections, len(hc.Articles))
	}
	mapped := map[string]map[string]string{}
	for _, e := range []string{"tickets", "contacts", "companies", "collections", "articles"} {
		mapped[e] = w.idMap(e)
	}
	if mapped["contacts"][id(adopted.ID)] != existing.ID {
		t.Fatalf("user %d is mapped to %s, want the contact Intercom had, %s", adopted.ID, mapped["contacts"][id(adopted.ID)], existing.ID)
	}
	toDelete := len(hd.Tickets) + len(endUsers) - 1 + len(hd.Organizations) + nCollections + len(hc.Articles)

	// Asked on a terminal, answered no: nothing happens.
	before := w.ic.Snapshot()
	if out, errOut, code, ok := undoFerryTTY(t, w, "n\n", "undo", "-w", w.ws); ok {
		if code != 0 || !strings.Contains(out, fmt.Sprintf("Delete %d objects from Intercom? [y/N]", toDelete)) ||
			!strings.Contains(out, "Nothing deleted.") || !strings.Contains(out, `"Ferry Sandbox"`) {
			t.Fatalf("undo answered n: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
		}
		for _, want := range []string{"ENTITY", "DELETE", "KEEP (ADOPTED)", "contacts"} {
			if !strings.Contains(out, want) {
				t.Errorf("the plan lacks %q:\n%s", want, out)
			}
		}
	}
	// Without a terminal, and without --yes: refused, nothing asked.
	out, errOut, code := w.ferry("undo", "-w", w.ws)
	if code != exitUsage || !strings.Contains(errOut, "pass --yes") || strings.Contains(out, "[y/N]") {
		t.Errorf("undo without a terminal nor --yes: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	after := w.ic.Snapshot()
	if len(after.Contacts) != len(before.Contacts) || len(after.Conversations) != len(before.Conversations) || len(after.Companies) != len(before.Companies) ||
		len(after.Articles) != len(before.Articles) || len(after.Collections) != len(before.Collections) {
		t.Fatal("an undo that was not confirmed changed the sandbox")
	}
	if n := w.mustFerry("query", "-w", w.ws, "--format", "csv", "SELECT count(*) AS n FROM undo_log"); !strings.Contains(n, "\n0") {
		t.Errorf("undo_log after unconfirmed undos:\n%s", n)
	}

	// --yes: everything ferry created goes; the adopted contact stays.
	out = w.mustFerry("undo", "-w", w.ws, "--yes")
	for _, want := range []string{"DELETED", "GONE", "KEPT", "FAILED", "not deleted: tags", "undo_log"} {
		if !strings.Contains(out, want) {
			t.Errorf("undo --yes output lacks %q:\n%s", want, out)
		}
	}
	snap := w.ic.Snapshot()
	if len(snap.Contacts) != 1 || snap.Contacts[0].ID != existing.ID || len(snap.Contacts[0].CompanyIDs) != 0 {
		t.Errorf("contacts after undo: %+v; want only the one Intercom had, without the companies ferry made", snap.Contacts)
	}
	if n := len(snap.Companies) + len(snap.Conversations) + len(snap.Tickets) + len(snap.Collections) + len(snap.Articles); n != 0 {
		t.Errorf("after undo the sandbox still holds %d companies, %d conversations, %d tickets, %d collections, %d articles",
			len(snap.Companies), len(snap.Conversations), len(snap.Tickets), len(snap.Collections), len(snap.Articles))
	}

	// undo_log: one row per object of the id map, with its Intercom id.
	type logRow struct{ Entity, SourceID, IntercomID, Outcome, Reason string }
	var rows []logRow
	res := w.mustFerry("query", "-w", w.ws, "--format", "json", "SELECT entity, source_id, intercom_id, outcome, coalesce(reason, '') AS reason FROM undo_log")
	dec := json.NewDecoder(strings.NewReader(res))
	for dec.More() {
		var r map[string]string
		if err := dec.Decode(&r); err != nil {
			t.Fatal(err)
		}
		rows = append(rows, logRow{r["entity"], r["source_id"], r["intercom_id"], r["outcome"], r["reason"]})
	}
	got := map[string]string{}
	for _, r := range rows {
		if mapped[r.Entity][r.SourceID] != r.IntercomID {
			t.Errorf("undo_log %+v: the id map had %q", r, mapped[r.Entity][r.SourceID])
		}
		got[r.Entity+" "+r.SourceID] = r.Outcome + " " + r.Reason
	}
	want := map[string]string{}
	for e, m := range mapped {
		for src := range m {
			want[e+" "+src] = "deleted "
		}
	}
	want["contacts "+id(adopted.ID)] = "kept ferry did not create it (adopted existing contact)"
	if fmt.Sprint(got) != fmt.Sprint(want) || len(rows) != len(want) {
		t.Errorf("undo_log:\n%s\nwant\n%s", undoLines(got), undoLines(want))
	}
	if r := w.mustFerry("query", "-w", w.ws, "--format", "csv", "SELECT command, status FROM runs WHERE command = 'undo'"); strings.Count(r, "undo,succeeded") != 1 {
		t.Errorf("runs:\n%s\nwant one succeeded undo", r)
	}

	// Nothing is migrated any more.
	for entity, c := range w.report() {
		if c.Migrated != 0 {
			t.Errorf("report after undo: %s %+v", entity, c)
		}
	}

	// A migrate creates everything again, exactly, and reuses the contact.
	w.mustFerry("migrate", "-w", w.ws)
	w.checkExact(t, endUsers)
	snap = w.ic.Snapshot()
	if len(snap.Collections) != nCollections || len(snap.Articles) != len(hc.Articles) {
		t.Errorf("the second migration made %d collections and %d articles, want %d and %d", len(snap.Collections), len(snap.Articles), nCollections, len(hc.Articles))
	}
	if c := w.idMap("contacts"); c[id(adopted.ID)] != existing.ID {
		t.Errorf("user %d is mapped to %s after the second migration, want %s", adopted.ID, c[id(adopted.ID)], existing.ID)
	}
	// The report as after the first migration.
	if got := w.report(); fmt.Sprint(got) != fmt.Sprint(firstReport) {
		t.Errorf("report after the second migration:\n%+v\nwant, as after the first:\n%+v", got, firstReport)
	}
}

// undoFerryTTY runs the ferry binary with a pseudo-terminal as stdin, on
// which answer is typed: ferry asks before deleting only on a terminal.
// ok is false when the system gives no pseudo-terminal.
func undoFerryTTY(t *testing.T, w *world, answer string, args ...string) (stdout, stderr string, code int, ok bool) {
	t.Helper()
	ptm, pts, err := openPTY()
	if err != nil {
		t.Logf("no pseudo-terminal to answer on (%v): the question is not tested", err)
		return "", "", 0, false
	}
	defer ptm.Close()
	cmd := exec.Command(w.bin.ferry, args...)
	cmd.Env = w.env
	var out, errOut bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = pts, &out, &errOut
	if err := cmd.Start(); err != nil {
		pts.Close()
		t.Fatal(err)
	}
	pts.Close() // the child has its own
	if _, err := ptm.WriteString(answer); err != nil {
		t.Fatal(err)
	}
	code = exitCode(t, args, cmd.Wait())
	return out.String(), errOut.String(), code, true
}

func undoLines(m map[string]string) string {
	var lines []string
	for k, v := range m {
		lines = append(lines, k+": "+v)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// TestUndoHelpAndNothingToDelete: undo --help teaches what it deletes and
// what it cannot; an undo of a workspace that created nothing says so,
// asks nothing and sends nothing.
func TestUndoHelpAndNothingToDelete(t *testing.T) {
	out, _, code := ferryRun(t, "undo", "--help")
	for _, want := range []string{"--yes", "--workspace", "cannot be reversed", "adopted", "tags", "custom", "ticket types", "undo_log", "ferry query"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("undo --help (exit %d) lacks %q", code, want)
		}
	}
	ws := t.TempDir()
	cfg := "source: {plugin: zendesk}\ntarget: {intercom: {base_url: \"http://127.0.0.1:1\", token: \"t\"}}\n"
	if err := os.WriteFile(filepath.Join(ws, "ferry.yaml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	out, stderr, code := ferryRun(t, "undo", "-w", ws)
	if code != 0 || !strings.Contains(out, "Nothing to delete") {
		t.Errorf("undo of an empty workspace: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
	if _, stderr, code := ferryRun(t, "undo", "-w", ws, "extra"); code != exitUsage || !strings.Contains(stderr, "no arguments") {
		t.Errorf("undo with an argument: exit %d, %s", code, stderr)
	}
}
