package pipeline

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ferryhq/ferry/host/config"
	"github.com/ferryhq/ferry/host/stage"
	"github.com/ferryhq/ferry/host/stage/stagetest"
	"github.com/ferryhq/ferry/sdk/schema"
)

func buildWasm(t testing.TB, pkg string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), filepath.Base(pkg)+".wasm")
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", pkg, err, b)
	}
	return out
}

// stageTicketsWithComments stages tickets 1..n (subject s<i>, status open,
// requester u<i>, tag t), each with one comment c<i>, in a new workspace.
func stageTicketsWithComments(t *testing.T, n int) *stage.Workspace {
	t.Helper()
	var recs []schema.Record
	for i := 1; i <= n; i++ {
		id := strconv.Itoa(i)
		recs = append(recs,
			&schema.Ticket{ID: id, Subject: "s" + id, Status: "open", RequesterID: "u" + id, Tags: []string{"t"}},
			&schema.Comment{ID: "c" + id, TicketID: id, BodyText: "hello", Public: true})
	}
	return stagetest.StageAll(t, recs)
}

// queryString runs a query of one string value over the workspace.
func queryString(t *testing.T, ws *stage.Workspace, q string) string {
	t.Helper()
	var s string
	if err := ws.DB().QueryRowContext(t.Context(), q).Scan(&s); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return s
}

func TestTransformRecordsEveryOutcome(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a wasm module")
	}
	ctx := t.Context()
	wasm := buildWasm(t, "./testdata/sorter")
	// Tickets 1..20, each with one comment.
	ws := stageTicketsWithComments(t, 20)
	env := &Env{Workspace: ws, Config: &config.Config{Transforms: []config.Transform{{WASM: wasm}}}}
	if _, err := ws.Select(ctx, stage.Selection{}, 2); err != nil {
		t.Fatal(err)
	}
	res, err := Transform(ctx, env, 2)
	if err != nil {
		t.Fatal(err)
	}
	if res.Tables[schema.Tickets] != "load_tickets" {
		t.Errorf("tables = %v", res.Tables)
	}
	if c := res.Counts[schema.Tickets]; c["changed"] != 9 || c["drop"] != 9 || c["error"] != 2 {
		t.Errorf("counts = %v, want 9 changed, 9 drop, 2 error", c)
	}

	query := func(q string) string { return queryString(t, ws, q) }
	// Kept: the even tickets but 20, whose id the transform changed.
	if got := query(`SELECT string_agg(id, ',' ORDER BY id::INT) FROM load_tickets WHERE list_contains(tags, 'sorted')`); got != "2,4,6,8,10,12,14,16,18" {
		t.Errorf("transformed tickets = %s", got)
	}
	// The overlay holds what the transform did, and the load view what
	// loads: the kept tickets, not the dropped or failed ones.
	if got := query(`SELECT string_agg(DISTINCT _kind, ',' ORDER BY _kind) FROM transformed_tickets`); got != "changed,dropped,failed" {
		t.Errorf("overlay kinds = %s", got)
	}
	if got := query(`SELECT count(*)::VARCHAR FROM load_tickets`); got != "9" {
		t.Errorf("load_tickets has %s tickets, want the 9 kept", got)
	}
	sha := query(`SELECT _transforms[1] FROM transformed_tickets LIMIT 1`)
	if len(sha) != 64 {
		t.Errorf("_transforms holds %q, want the module's SHA-256", sha)
	}
	outcome := func(entity, id string) string {
		return query(`SELECT outcome || ': ' || reason FROM ledger WHERE entity = '` + entity + `' AND source_id = '` + id + `'`)
	}
	for id, want := range map[string]string{
		"3":  "skipped: dropped by a transform: odd ticket",
		"13": "failed: transform failed: thirteen is unlucky",
		"20": "failed: transform failed: transform sorter: changed the record's id from 20 to twenty; a transform that makes new records splits",
	} {
		if got := outcome("tickets", id); got != want {
			t.Errorf("ticket %s: %q, want %q", id, got, want)
		}
	}
	// Their comments follow them.
	if err := ws.CascadeTicketOutcomes(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if got := outcome("comments", "c3"); !strings.HasPrefix(got, "skipped: ticket 3 skipped: dropped by a transform") {
		t.Errorf("comment of a dropped ticket: %q", got)
	}
	if got := outcome("comments", "c13"); !strings.HasPrefix(got, "failed: ticket 13 failed") {
		t.Errorf("comment of a failed ticket: %q", got)
	}

	// A rerun replaces the table instead of adding to it.
	if _, err := Transform(ctx, env, 3); err != nil {
		t.Fatal(err)
	}
	if n := query(`SELECT count(*)::VARCHAR FROM transformed_tickets`); n != "20" {
		t.Errorf("after a rerun transformed_tickets has %s rows, want 20", n)
	}
}

// TestTransformSplitsAndEmits checks that the pieces of a split are whole
// records (the piece's columns over its ticket's) and load with the
// selection, and that an emitted note joins its ticket's comments.
func TestTransformSplitsAndEmits(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a wasm module")
	}
	ctx := t.Context()
	wasm := buildWasm(t, "./testdata/splitter")
	ws := stageTicketsWithComments(t, 5)
	if _, err := ws.Select(ctx, stage.Selection{}, 2); err != nil {
		t.Fatal(err)
	}
	env := &Env{Workspace: ws, Config: &config.Config{Transforms: []config.Transform{{WASM: wasm}}}}
	res, err := Transform(ctx, env, 2)
	if err != nil {
		t.Fatal(err)
	}
	if c := res.Counts[schema.Tickets]; c["split"] != 1 || c["added"] != 1 {
		t.Errorf("ticket counts = %v, want 1 split and its new piece added", c)
	}
	query := func(q string) string { return queryString(t, ws, q) }
	for q, want := range map[string]string{
		`SELECT string_agg(id || ':' || subject, ',' ORDER BY id) FROM load_tickets`: "1:s1,2:part 1,2-b:part 2,4:s4,5:s5",
		// A ticket kept with another id fails.
		`SELECT outcome || ': ' || reason FROM ledger WHERE source_id = '3'`: `failed: transform failed: transform splitter: changed the record's id from 3 to "three"; a transform that makes new records splits`,
		// The new piece keeps its ticket's other columns.
		`SELECT status || ' ' || requester_id || ' ' || tags[1] FROM load_tickets WHERE id = '2-b'`: "open u2 t",
		`SELECT count(*)::VARCHAR FROM load_selection WHERE ticket_id = '2-b'`:                      "1",
		`SELECT string_agg(id, ',' ORDER BY id) FROM load_comments WHERE ticket_id = '4'`:           "c4,note-4",
		`SELECT body_text FROM load_comments WHERE id = 'note-4'`:                                   "a note",
	} {
		if got := query(q); got != want {
			t.Errorf("%s = %q, want %q", q, got, want)
		}
	}
}

func TestTransformConfigErrors(t *testing.T) {
	ctx := t.Context()
	ws, err := stage.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	bad := filepath.Join(t.TempDir(), "bad.wasm")
	os.WriteFile(bad, []byte("not wasm"), 0o600)
	tests := []struct {
		name string
		tr   config.Transform
		want string
	}{
		{"missing file", config.Transform{WASM: "nope.wasm"}, "transforms[0]: read nope.wasm"},
		{"not wasm", config.Transform{WASM: bad}, "transforms[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := &Env{Workspace: ws, Config: &config.Config{Transforms: []config.Transform{tt.tr}}}
			if _, err := Transform(ctx, env, 1); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}
