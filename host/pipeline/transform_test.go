package pipeline

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/ferryhq/ferry/host/config"
	"github.com/ferryhq/ferry/host/stage"
	"github.com/ferryhq/ferry/sdk/schema"
)

func buildWasm(t *testing.T, pkg string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), filepath.Base(pkg)+".wasm")
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", pkg, err, b)
	}
	return out
}

func TestTransformRecordsEveryOutcome(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a wasm module")
	}
	ctx := t.Context()
	wasm := buildWasm(t, "./testdata/sorter")
	ws, err := stage.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()

	// Tickets 1..20, each with one comment.
	in, err := ws.NewIngest(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	tb, _ := schema.NewBuilder(memory.NewGoAllocator(), schema.Tickets)
	cb, _ := schema.NewBuilder(memory.NewGoAllocator(), schema.Comments)
	for i := 1; i <= 20; i++ {
		id := strconv.Itoa(i)
		tb.Append(&schema.Ticket{ID: id, Subject: "s" + id, Tags: []string{"t"}})
		cb.Append(&schema.Comment{ID: "c" + id, TicketID: id})
	}
	for stream, b := range map[string]*schema.Builder{schema.Tickets: tb, schema.Comments: cb} {
		rec := b.NewRecordBatch()
		if err := in.Batch(ctx, stream, rec); err != nil {
			t.Fatal(err)
		}
		rec.Release()
	}
	if err := in.Checkpoint(ctx, schema.Tickets, nil); err != nil {
		t.Fatal(err)
	}
	in.Close()

	env := &Env{Workspace: ws, Config: &config.Config{Transforms: []config.Transform{{WASM: wasm}}}}
	if _, err := ws.Select(ctx, stage.Selection{}, 2); err != nil {
		t.Fatal(err)
	}
	res, err := Transform(ctx, env, 2)
	if err != nil {
		t.Fatal(err)
	}
	if res.Tables[schema.Tickets] != "transformed_tickets" {
		t.Errorf("tables = %v", res.Tables)
	}
	if c := res.Counts[schema.Tickets]; c["keep"] != 10 || c["drop"] != 9 || c["error"] != 1 {
		t.Errorf("counts = %v, want 10 keep, 9 drop, 1 error", c)
	}

	query := func(q string) string {
		var s string
		if err := ws.DB().QueryRowContext(ctx, q).Scan(&s); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return s
	}
	// Kept: the even tickets but 20, whose id the transform changed.
	if got := query(`SELECT string_agg(id, ',' ORDER BY id::INT) FROM transformed_tickets WHERE list_contains(tags, 'sorted')`); got != "2,4,6,8,10,12,14,16,18" {
		t.Errorf("transformed tickets = %s", got)
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
		"20": "failed: transform output: the transform changed the record's id from 20 to twenty",
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
	if n := query(`SELECT count(*)::VARCHAR FROM transformed_tickets`); n != "9" {
		t.Errorf("after a rerun transformed_tickets has %s rows, want 9", n)
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
