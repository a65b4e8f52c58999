package stage

import (
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/ferryhq/ferry/sdk/schema"
)

func openTest(t *testing.T) *Workspace {
	t.Helper()
	w, err := Open(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

func batch(t *testing.T, recs ...schema.Record) arrow.RecordBatch {
	t.Helper()
	b, err := schema.NewBuilder(memory.NewGoAllocator(), recs[0].Stream())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Release()
	for _, r := range recs {
		if err := b.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	return b.NewRecordBatch()
}

func count(t *testing.T, w *Workspace, q string, args ...any) int {
	t.Helper()
	var n int
	if err := w.DB().QueryRowContext(t.Context(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func TestIngestCommitsAtCheckpointsOnly(t *testing.T) {
	ctx := t.Context()
	w := openTest(t)
	run, err := w.StartRun(ctx, "extract")
	if err != nil {
		t.Fatal(err)
	}
	in, err := w.NewIngest(ctx, run)
	if err != nil {
		t.Fatal(err)
	}
	created := time.Date(2024, 5, 1, 9, 0, 0, 0, time.UTC)
	b1 := batch(t, &schema.Ticket{ID: "1", Subject: "one", Tags: []string{"a"}, CreatedAt: created, Raw: json.RawMessage(`{"id":1}`)},
		&schema.Ticket{ID: "2", Subject: "two", CustomFields: json.RawMessage(`{"9":"x"}`)})
	defer b1.Release()
	if err := in.Batch(ctx, schema.Tickets, b1); err != nil {
		t.Fatal(err)
	}
	if err := in.Checkpoint(ctx, schema.Tickets, []byte("cursor-1")); err != nil {
		t.Fatal(err)
	}
	// A batch after the last checkpoint is lost when the read dies.
	b2 := batch(t, &schema.Ticket{ID: "3", Subject: "three"})
	defer b2.Release()
	if err := in.Batch(ctx, schema.Tickets, b2); err != nil {
		t.Fatal(err)
	}
	if err := in.RecordError(ctx, schema.Tickets, "4", "bad record"); err != nil {
		t.Fatal(err)
	}
	if err := in.Close(); err != nil {
		t.Fatal(err)
	}
	if n := count(t, w, "SELECT count(*) FROM tickets"); n != 2 {
		t.Errorf("staged %d tickets, want the 2 committed", n)
	}
	if n := count(t, w, "SELECT count(*) FROM ledger"); n != 0 {
		t.Errorf("ledger has %d rows, want none: the record error was not committed", n)
	}
	cur, err := w.Cursors(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if string(cur[schema.Tickets]) != "cursor-1" {
		t.Errorf("cursor = %q, want cursor-1", cur[schema.Tickets])
	}

	// A resumed read upserts: ticket 2 changes, ticket 3 arrives; an empty
	// cursor commits without moving the cursor.
	in, err = w.NewIngest(ctx, run)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	b3 := batch(t, &schema.Ticket{ID: "2", Subject: "two, changed"}, &schema.Ticket{ID: "3", Subject: "three"})
	defer b3.Release()
	if err := in.Batch(ctx, schema.Tickets, b3); err != nil {
		t.Fatal(err)
	}
	if err := in.RecordSkipped(ctx, schema.Tickets, "5", "deleted in the source"); err != nil {
		t.Fatal(err)
	}
	if err := in.Checkpoint(ctx, schema.Tickets, nil); err != nil {
		t.Fatal(err)
	}
	if n := count(t, w, "SELECT count(*) FROM tickets"); n != 3 {
		t.Errorf("staged %d tickets, want 3", n)
	}
	if n := count(t, w, "SELECT count(*) FROM tickets WHERE subject = 'two, changed'"); n != 1 {
		t.Error("the delta did not replace ticket 2")
	}
	if n := count(t, w, "SELECT count(*) FROM tickets WHERE list_contains(tags, 'a') AND (raw->>'id') = '1' AND created_at = TIMESTAMP '2024-05-01 09:00:00'"); n != 1 {
		t.Error("ticket 1's list, JSON and timestamp columns did not survive staging")
	}
	if cur, _ := w.Cursors(ctx); string(cur[schema.Tickets]) != "cursor-1" {
		t.Errorf("an empty cursor moved the cursor to %q", cur[schema.Tickets])
	}
	if got := in.Committed()[schema.Tickets]; got != 2 {
		t.Errorf("Committed = %d, want 2", got)
	}
}

func TestIngestRefusesForeignSchema(t *testing.T) {
	w := openTest(t)
	in, err := w.NewIngest(t.Context(), 1)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	b := batch(t, &schema.Comment{ID: "1", TicketID: "1"})
	defer b.Release()
	err = in.Batch(t.Context(), schema.Tickets, b)
	if err == nil || !strings.Contains(err.Error(), "batch of tickets") {
		t.Fatalf("err = %v, want a schema mismatch", err)
	}
}

func TestRecordsRoundTrip(t *testing.T) {
	ctx := t.Context()
	w := openTest(t)
	in, err := w.NewIngest(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	want := []schema.Record{
		&schema.Comment{ID: "10", TicketID: "1", AuthorID: "7", Public: true, BodyHTML: "<p>hi</p>", BodyText: "hi", CreatedAt: time.Date(2023, 1, 2, 3, 4, 5, 6000, time.UTC), Raw: json.RawMessage(`{"id":10}`)},
		&schema.Comment{ID: "11", TicketID: "1", AuthorID: "8", BodyText: "note", CreatedAt: time.Date(2023, 1, 2, 4, 0, 0, 0, time.UTC)},
	}
	b := batch(t, want...)
	defer b.Release()
	if err := in.Batch(ctx, schema.Comments, b); err != nil {
		t.Fatal(err)
	}
	if err := in.Checkpoint(ctx, schema.Comments, nil); err != nil {
		t.Fatal(err)
	}
	in.Close()
	var got []schema.Record
	if err := w.Records(ctx, Select{Stream: schema.Comments, Where: "ticket_id = ?", Args: []any{"1"}, Order: "created_at"}, func(r schema.Record) error {
		got = append(got, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d", len(got), len(want))
	}
	for i := range want {
		g, _ := json.Marshal(got[i])
		e, _ := json.Marshal(want[i])
		if string(g) != string(e) {
			t.Errorf("record %d:\n got %s\nwant %s", i, g, e)
		}
	}
}

func TestOutcomesAndSummary(t *testing.T) {
	ctx := t.Context()
	w := openTest(t)
	in, err := w.NewIngest(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	b := batch(t, &schema.Organization{ID: "o1"}, &schema.Organization{ID: "o2"}, &schema.Organization{ID: "o3"})
	defer b.Release()
	if err := in.Batch(ctx, schema.Organizations, b); err != nil {
		t.Fatal(err)
	}
	if err := in.RecordError(ctx, schema.Organizations, "o4", "unreadable"); err != nil {
		t.Fatal(err)
	}
	if err := in.Checkpoint(ctx, schema.Organizations, nil); err != nil {
		t.Fatal(err)
	}
	in.Close()
	for _, o := range []Outcome{
		{Entity: EntityCompanies, SourceID: "o1", Outcome: Migrated, IntercomID: "c1", Stage: "load", RunID: 1},
		{Entity: EntityCompanies, SourceID: "o2", Outcome: Failed, Reason: "400 parameter_invalid", Stage: "load", RunID: 1},
		{Entity: EntityCompanies, SourceID: "o2", Outcome: Migrated, IntercomID: "c2", Stage: "load", RunID: 2},
		{Entity: EntityCompanies, SourceID: "o3", Outcome: Skipped, Reason: "filtered", Stage: "load", RunID: 2},
	} {
		if err := w.SetOutcome(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	ids, err := w.IDMap(ctx, EntityCompanies)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 2 || ids["o1"] != "c1" || ids["o2"] != "c2" {
		t.Errorf("id map = %v", ids)
	}
	sum, err := w.Summary(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var companies EntityCounts
	for _, c := range sum {
		if c.Entity == EntityCompanies {
			companies = c
		}
	}
	want := EntityCounts{Entity: EntityCompanies, Available: 4, Migrated: 2, Failed: 1, Skipped: 1}
	if companies != want {
		t.Errorf("companies = %+v, want %+v", companies, want)
	}
	if sum[0].Entity != EntityTickets || sum[0].Available != 0 {
		t.Errorf("summary must list tickets first, even with none: %+v", sum[0])
	}
}

func TestOpenRefusesNewerAndForeignFiles(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	w, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.DB().ExecContext(ctx, `UPDATE ferry_meta SET value = '99' WHERE key = 'schema_version'`); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if _, err := Open(ctx, dir); err == nil || !strings.Contains(err.Error(), "newer ferry") {
		t.Errorf("err = %v, want a newer-ferry refusal", err)
	}

	foreign := t.TempDir()
	if err := os.WriteFile(filepath.Join(foreign, FileName), []byte("not a database, just text"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, foreign); err == nil {
		t.Error("a text file opened as a workspace")
	}
}

func TestWorkspaceFilesAreOwnerOnly(t *testing.T) {
	w := openTest(t)
	fi, err := os.Stat(w.Path())
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		t.Errorf("%s has mode %v, want owner-only", w.Path(), perm)
	}
	var n sql.NullInt64
	if err := w.DB().QueryRow(`SELECT count(*) FROM runs`).Scan(&n); err != nil {
		t.Fatal(err)
	}
}

func TestReadOnlyRefusesWritesAndFiles(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	w, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	db, err := OpenReadOnly(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	secret := filepath.Join(t.TempDir(), "secret.csv")
	os.WriteFile(secret, []byte("a\n1\n"), 0o600)
	for _, q := range []string{
		"DELETE FROM tickets",
		"CREATE TABLE x (a INT)",
		"SELECT * FROM read_csv('" + secret + "')",
		"COPY (SELECT 1) TO '" + filepath.Join(t.TempDir(), "out.csv") + "'",
		"INSTALL httpfs",
		"SET enable_external_access = true",
	} {
		if _, err := db.ExecContext(ctx, q); err == nil {
			t.Errorf("%s: succeeded on a read-only workspace", q)
		}
	}
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM tickets").Scan(&n); err != nil {
		t.Errorf("a plain query failed: %v", err)
	}
	if _, err := OpenReadOnly(ctx, t.TempDir()); err == nil || !strings.Contains(err.Error(), "no workspace") {
		t.Errorf("err = %v", err)
	}
}

func TestStagingARecordClearsItsExtractFailure(t *testing.T) {
	ctx := t.Context()
	w := openTest(t)
	in, err := w.NewIngest(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	in.RecordError(ctx, schema.Tickets, "7", "the source answered 500")
	in.RecordSkipped(ctx, schema.Tickets, "8", "deleted in the source")
	if err := in.Checkpoint(ctx, schema.Tickets, []byte("c1")); err != nil {
		t.Fatal(err)
	}
	in.Close()
	if n := count(t, w, "SELECT count(*) FROM ledger WHERE stage = 'extract'"); n != 2 {
		t.Fatalf("%d extract outcomes, want 2", n)
	}
	// A later read brings ticket 7 after all.
	in, _ = w.NewIngest(ctx, 2)
	defer in.Close()
	b := batch(t, &schema.Ticket{ID: "7"}, &schema.Ticket{ID: "9"})
	defer b.Release()
	if err := in.Batch(ctx, schema.Tickets, b); err != nil {
		t.Fatal(err)
	}
	if err := in.Checkpoint(ctx, schema.Tickets, []byte("c2")); err != nil {
		t.Fatal(err)
	}
	if n := count(t, w, "SELECT count(*) FROM ledger WHERE stage = 'extract' AND source_id = '7'"); n != 0 {
		t.Error("ticket 7 is staged but still failed in the ledger")
	}
	if n := count(t, w, "SELECT count(*) FROM ledger WHERE stage = 'extract' AND source_id = '8'"); n != 1 {
		t.Error("ticket 8's skip was cleared by another ticket's staging")
	}
}

func TestUpsertKeepsIDsUnique(t *testing.T) {
	ctx := t.Context()
	w := openTest(t)
	in, err := w.NewIngest(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	// The same id twice in one batch: the last one wins.
	b1 := batch(t, &schema.Ticket{ID: "1", Subject: "first"}, &schema.Ticket{ID: "2"}, &schema.Ticket{ID: "1", Subject: "second"})
	defer b1.Release()
	if err := in.Batch(ctx, schema.Tickets, b1); err != nil {
		t.Fatal(err)
	}
	// And again in a later batch of the same transaction.
	b2 := batch(t, &schema.Ticket{ID: "2", Subject: "two again"})
	defer b2.Release()
	if err := in.Batch(ctx, schema.Tickets, b2); err != nil {
		t.Fatal(err)
	}
	if err := in.Checkpoint(ctx, schema.Tickets, nil); err != nil {
		t.Fatal(err)
	}
	if n := count(t, w, "SELECT count(*) FROM tickets"); n != 2 {
		t.Errorf("%d rows, want 2", n)
	}
	if n := count(t, w, "SELECT count(*) FROM tickets WHERE (id = '1' AND subject = 'second') OR (id = '2' AND subject = 'two again')"); n != 2 {
		t.Error("the last record of each id did not win")
	}
}

func TestOpenUpgradesAVersion1Workspace(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	w, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	// Make it what version 1 wrote: stream tables with a key index.
	ddl, _ := streamTableDDL("tickets", schema.Tickets, "_run_id BIGINT", "_extracted_at TIMESTAMP")
	ddl = strings.TrimSuffix(ddl, "\n)") + ",\n  PRIMARY KEY (id)\n)"
	for _, q := range []string{"DROP VIEW ticket_overview", "DROP VIEW ticket_migration", "DROP VIEW comment_overview", "DROP VIEW organization_overview", "DROP VIEW user_overview", "DROP VIEW migration_summary",
		"DROP TABLE tickets", ddl, "INSERT INTO tickets (id, subject) VALUES ('7', 'kept')",
		"UPDATE ferry_meta SET value = '1' WHERE key = 'schema_version'"} {
		if _, err := w.DB().ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	w.Close()
	w, err = Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if n := count(t, w, "SELECT count(*) FROM tickets WHERE id = '7' AND subject = 'kept'"); n != 1 {
		t.Error("the upgrade lost a row")
	}
	if n := count(t, w, "SELECT count(*) FROM duckdb_constraints() WHERE table_name = 'tickets' AND constraint_type = 'PRIMARY KEY'"); n != 0 {
		t.Error("tickets still has its key index")
	}
	if n := count(t, w, "SELECT value::INT FROM ferry_meta WHERE key = 'schema_version'"); n != SchemaVersion {
		t.Errorf("schema version %d after the upgrade", n)
	}
}

func TestOpenLeavesAForeignDatabaseAlone(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	db, err := sql.Open("duckdb", filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	db.Exec("CREATE TABLE invoices (id INT)")
	db.Close()
	_, err = Open(ctx, dir)
	if err == nil || !strings.Contains(err.Error(), "not a ferry workspace: the database holds other tables (invoices)") {
		t.Errorf("err = %v", err)
	}
}

func TestTicketOverview(t *testing.T) {
	ctx := t.Context()
	w := openTest(t)
	in, err := w.NewIngest(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, recs := range [][]schema.Record{
		{&schema.Organization{ID: "o1", Name: "Initech"}},
		{&schema.Group{ID: "g1", Name: "Billing"}},
		{&schema.User{ID: "u1", Role: schema.RoleEndUser, Email: "una@initech.example", OrganizationID: "o1"},
			&schema.User{ID: "a1", Role: schema.RoleAgent, Email: "ada@acme.example"}},
		{&schema.Ticket{ID: "t1", RequesterID: "u1", AssigneeID: "a1", GroupID: "g1", Tags: []string{"vip"}}, &schema.Ticket{ID: "t2"}},
		{&schema.Comment{ID: "c1", TicketID: "t1", Public: true, CreatedAt: t0}, &schema.Comment{ID: "c2", TicketID: "t1", CreatedAt: t0.Add(time.Hour)}},
		{&schema.Attachment{ID: "f1", TicketID: "t1", CommentID: "c1"}},
	} {
		b := batch(t, recs...)
		if err := in.Batch(ctx, recs[0].Stream(), b); err != nil {
			t.Fatal(err)
		}
		b.Release()
	}
	in.Checkpoint(ctx, "all", nil)
	in.Close()
	var email, org, assignee, group string
	var comments, public, private, attachments int
	var first, last time.Time
	err = w.DB().QueryRowContext(ctx, `SELECT requester_email, organization_name, assignee_email, group_name, comment_count, public_comment_count,
		private_comment_count, attachment_count, first_comment_at, last_comment_at FROM ticket_overview WHERE id = 't1'`).
		Scan(&email, &org, &assignee, &group, &comments, &public, &private, &attachments, &first, &last)
	if err != nil {
		t.Fatal(err)
	}
	if email != "una@initech.example" || org != "Initech" || assignee != "ada@acme.example" || group != "Billing" ||
		comments != 2 || public != 1 || private != 1 || attachments != 1 || !first.Equal(t0) || !last.Equal(t0.Add(time.Hour)) {
		t.Errorf("t1 = %s %s %s %s %d %d %d %d %v %v", email, org, assignee, group, comments, public, private, attachments, first, last)
	}
	if n := count(t, w, "SELECT comment_count FROM ticket_overview WHERE id = 't2'"); n != 0 {
		t.Errorf("a ticket without comments has %d", n)
	}
	if n := count(t, w, "SELECT count(*) FROM ticket_migration WHERE outcome = 'pending'"); n != 2 {
		t.Errorf("%d pending tickets, want 2", n)
	}
}

func TestWriterCannotReachFiles(t *testing.T) {
	w := openTest(t)
	secret := filepath.Join(t.TempDir(), "secret.csv")
	os.WriteFile(secret, []byte("a\n1\n"), 0o600)
	// Every connection of the pool, not only the first.
	for i := range 4 {
		conn, err := w.DB().Conn(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		for _, q := range []string{"SELECT * FROM read_csv('" + secret + "')", "SELECT * FROM '" + secret + "'", "COPY (SELECT 1) TO '" + secret + ".out'", "INSTALL httpfs"} {
			if _, err := conn.ExecContext(t.Context(), q); err == nil {
				t.Errorf("connection %d: %s succeeded", i, q)
			}
		}
	}
}

func TestOpenACorruptWorkspace(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	w, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	path := filepath.Join(dir, FileName)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Garble the headers: the file is no longer a database.
	for i := 0; i < 12288 && i < len(data); i++ {
		data[i] ^= 0x5a
	}
	os.WriteFile(path, data, 0o600)
	_, err = Open(ctx, dir)
	if err == nil || !strings.Contains(err.Error(), "open workspace") {
		t.Errorf("a corrupt workspace opened, or the error says nothing: %v", err)
	}
	if _, err := OpenReadOnly(ctx, dir); err == nil {
		t.Error("a corrupt workspace opened read-only")
	}
}

// TestIngestTextThatIsNotUTF8: a batch whose text is not UTF-8 (from a
// plugin that built it without the SDK's builder, which would have made it
// UTF-8) is staged with each stray byte made U+FFFD, not refused whole by
// DuckDB.
func TestIngestTextThatIsNotUTF8(t *testing.T) {
	ctx := t.Context()
	w := openTest(t)
	in, err := w.NewIngest(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	sc, err := schema.Schema(schema.Users)
	if err != nil {
		t.Fatal(err)
	}
	rb := array.NewRecordBuilder(memory.NewGoAllocator(), sc)
	defer rb.Release()
	for i, f := range sc.Fields() {
		b := rb.Field(i)
		switch f.Name {
		case "id":
			b.(*array.StringBuilder).AppendValues([]string{"1", "2"}, nil)
		case "name":
			b.(*array.StringBuilder).AppendValues([]string{"Ren\xe9e M\xfcller", "Ann"}, nil)
		case "raw":
			b.(*array.StringBuilder).AppendValues([]string{"{\"name\":\"Ren\xe9e M\xfcller\"}", `{"name":"Ann"}`}, nil)
		default:
			b.AppendNulls(2)
		}
	}
	rec := rb.NewRecordBatch()
	defer rec.Release()
	if err := in.Batch(ctx, schema.Users, rec); err != nil {
		t.Fatalf("a batch with Latin-1 text: %v", err)
	}
	if err := in.Checkpoint(ctx, schema.Users, nil); err != nil {
		t.Fatal(err)
	}
	var name, rawName string
	if err := w.DB().QueryRowContext(ctx, `SELECT name, raw->>'$.name' FROM users WHERE id = '1'`).Scan(&name, &rawName); err != nil {
		t.Fatal(err)
	}
	if want := "Ren\uFFFDe M\uFFFDller"; name != want || rawName != want {
		t.Errorf("name %q, raw name %q; want %q", name, rawName, want)
	}
	if n := count(t, w, "SELECT count(*) FROM users"); n != 2 {
		t.Errorf("%d users staged, want 2", n)
	}
}
