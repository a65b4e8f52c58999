package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ferryhq/ferry/host/intercom/sandbox"
	"github.com/ferryhq/ferry/host/stage"
	"github.com/ferryhq/ferry/plugins/zendesk/zendesktest"
)

// The query command's tests: its formats and errors in process, and, with
// the real binaries, queries and reports answered while a load holds the
// workspace.

// formatWorkspace makes a workspace with the table fmt: three rows with a
// column of each kind the formats render.
func formatWorkspace(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	ws, err := stage.Open(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	_, err = ws.DB().ExecContext(t.Context(), `CREATE TABLE fmt AS SELECT * FROM (VALUES
  (1, 'plain', '{"a": [1, 2], "b": "<p>x</p>"}'::JSON, ['x', 'y'], TIMESTAMP '2024-05-01 09:00:00.5', 1.25::DECIMAL(10,2), true, NULL::VARCHAR,
   DATE '2024-05-01', INTERVAL '1 day 2 hours', {'k': 'v', 'n': 2}, MAP {'m': 1}, 'ab\x00'::BLOB, 2.5::DOUBLE),
  (2, 'tab' || chr(9) || 'here' || chr(10) || 'newline, "quoted"', NULL, [], NULL, NULL, false, 'z',
   NULL, NULL, NULL, NULL, NULL, NULL),
  (3, 'é ünïcödé', '[1, "two", null]'::JSON, NULL, TIMESTAMP '1999-12-31 23:59:59', -0.5, NULL, '',
   DATE '1999-12-31', INTERVAL '14 months 3 days 00:00:01.25', {'k': NULL, 'n': NULL}, MAP {}, ''::BLOB, 'NaN'::DOUBLE)
) t(id, s, j, tags, ts, d, b, n, dt, iv, st, m, bl, f)`)
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestQueryFormats(t *testing.T) {
	dir := formatWorkspace(t)
	const all = "SELECT * FROM fmt ORDER BY id"

	t.Run("csv", func(t *testing.T) {
		out, stderr, code := ferryRun(t, "query", "-w", dir, "--format", "csv", all)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if err != nil {
			t.Fatalf("not CSV: %v\n%s", err, out)
		}
		want := [][]string{
			{"id", "s", "j", "tags", "ts", "d", "b", "n", "dt", "iv", "st", "m", "bl", "f"},
			{"1", "plain", `{"a":[1,2],"b":"<p>x</p>"}`, `["x","y"]`, "2024-05-01T09:00:00.5Z", "1.25", "true", "",
				"2024-05-01", "1 day 02:00:00", `{"k":"v","n":2}`, `{"m":1}`, `ab\x00`, "2.5"},
			{"2", "tab\there\nnewline, \"quoted\"", "", "[]", "", "", "false", "z", "", "", "", "", "", ""},
			{"3", "é ünïcödé", `[1,"two",null]`, "", "1999-12-31T23:59:59Z", "-0.50", "", "",
				"1999-12-31", "1 year 2 months 3 days 00:00:01.25", `{"k":null,"n":null}`, "{}", "", "NaN"},
		}
		for i := range max(len(recs), len(want)) {
			if i >= len(recs) || i >= len(want) || !slices.Equal(recs[i], want[i]) {
				t.Errorf("row %d:\n got %q\nwant %q", i, at(recs, i), at(want, i))
			}
		}
	})

	t.Run("json", func(t *testing.T) {
		out, stderr, code := ferryRun(t, "query", "-w", dir, "--format", "json", all)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(lines) != 3 {
			t.Fatalf("%d lines, want 3:\n%s", len(lines), out)
		}
		// Keys in the columns' order, JSON embedded, HTML unescaped.
		if want := `{"id":1,"s":"plain","j":{"a":[1,2],"b":"<p>x</p>"},"tags":["x","y"],"ts":"2024-05-01T09:00:00.5Z","d":1.25,"b":true,"n":null,` +
			`"dt":"2024-05-01","iv":"1 day 02:00:00","st":{"k":"v","n":2},"m":{"m":1},"bl":"ab\\x00","f":2.5}`; lines[0] != want {
			t.Errorf("line 1:\n got %s\nwant %s", lines[0], want)
		}
		for i, l := range lines {
			var obj map[string]any
			if err := json.Unmarshal([]byte(l), &obj); err != nil {
				t.Errorf("line %d is not JSON: %v\n%s", i+1, err, l)
			}
		}
		var row2 map[string]any
		json.Unmarshal([]byte(lines[1]), &row2)
		if row2["j"] != nil || row2["s"] != "tab\there\nnewline, \"quoted\"" || !slices.Equal(row2["tags"].([]any), []any{}) {
			t.Errorf("line 2: %s", lines[1])
		}
		if !strings.Contains(lines[2], `"j":[1,"two",null]`) || !strings.Contains(lines[2], `"f":"NaN"`) {
			t.Errorf("line 3: %s", lines[2])
		}

		out, _, _ = ferryRun(t, "query", "-w", dir, "--format", "json", "SELECT 1 AS a, 2 AS a, 3 AS a_1")
		if want := `{"a":1,"a_1":2,"a_1_1":3}` + "\n"; out != want {
			t.Errorf("repeated names: %s", out)
		}
	})

	t.Run("table", func(t *testing.T) {
		out, stderr, code := ferryRun(t, "query", "-w", dir, "SELECT id, s, n, tags FROM fmt ORDER BY id")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(lines) != 5 || !regexp.MustCompile(`^ID +S +N +TAGS$`).MatchString(lines[0]) ||
			!regexp.MustCompile(`^2 +tab here newline, "quoted" +z +\[\]$`).MatchString(lines[2]) ||
			!regexp.MustCompile(`^1 +plain +\["x","y"\]$`).MatchString(lines[1]) || lines[4] != "(3 rows)" {
			t.Errorf("table:\n%s", out)
		}
		out, _, _ = ferryRun(t, "query", "-w", dir, "--max-rows", "2", all)
		if !strings.Contains(out, "(2 of 3 rows shown; 1 left out") || strings.Contains(out, "é ünïcödé") {
			t.Errorf("--max-rows 2:\n%s", out)
		}
		out, _, _ = ferryRun(t, "query", "-w", dir, "SELECT repeat('é', 200) AS long")
		if cell := strings.Split(out, "\n")[1]; !strings.HasSuffix(cell, "…") || len([]rune(cell)) != maxCellRunes {
			t.Errorf("a long cell: %q", cell)
		}
	})

	t.Run("parquet", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "fmt.parquet")
		if _, stderr, code := ferryRun(t, "query", "-w", dir, "--format", "parquet", "--out", p, all); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		checkMode(t, p)
		// Read it back (DuckDB reads Parquet; the workspace is attached to
		// compare with) and compare every value.
		db, err := sql.Open("duckdb", "")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Exec(fmt.Sprintf("ATTACH '%s' AS ws (READ_ONLY)", filepath.Join(dir, stage.FileName))); err != nil {
			t.Fatal(err)
		}
		var n, diff int
		err = db.QueryRow(fmt.Sprintf(`SELECT (SELECT count(*) FROM read_parquet('%[1]s')),
  (SELECT count(*) FROM (SELECT * FROM read_parquet('%[1]s') EXCEPT SELECT * FROM ws.fmt)) +
  (SELECT count(*) FROM (SELECT * FROM ws.fmt EXCEPT SELECT * FROM read_parquet('%[1]s')))`, p)).Scan(&n, &diff)
		if err != nil {
			t.Fatal(err)
		}
		if n != 3 || diff != 0 {
			t.Errorf("the Parquet file has %d rows, %d differ from the workspace's", n, diff)
		}
		var types []string
		rows, err := db.Query(fmt.Sprintf(`SELECT name || ' ' || coalesce(logical_type, converted_type, type) FROM parquet_schema('%s') WHERE name IN ('j', 'ts', 'iv')`, p))
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var s string
			rows.Scan(&s)
			types = append(types, s)
		}
		rows.Close()
		if len(types) != 3 || !strings.HasPrefix(types[0], "j Json") || !strings.Contains(types[1], "Timestamp") || !strings.Contains(types[2], "INTERVAL") {
			t.Errorf("Parquet types: %q", types)
		}
	})

	t.Run("out", func(t *testing.T) {
		outDir := t.TempDir()
		for _, format := range []string{"table", "csv", "json"} {
			p := filepath.Join(outDir, "result."+format)
			if err := os.WriteFile(p, []byte("an older result"), 0o644); err != nil {
				t.Fatal(err)
			}
			stdout, stderr, code := ferryRun(t, "query", "-w", dir, "--format", format, "--out", p, all)
			if code != 0 || stdout != "" {
				t.Fatalf("%s: exit %d, stdout %q: %s", format, code, stdout, stderr)
			}
			checkMode(t, p)
			if b, _ := os.ReadFile(p); !bytes.Contains(b, []byte("plain")) {
				t.Errorf("%s: the file holds %q", format, b)
			}
			// A query that fails leaves the file as it was.
			if _, _, code := ferryRun(t, "query", "-w", dir, "--format", format, "--out", p, "SELECT nope FROM fmt"); code != exitUsage {
				t.Errorf("%s: a failing query: exit %d", format, code)
			}
			if b, _ := os.ReadFile(p); !bytes.Contains(b, []byte("plain")) {
				t.Errorf("%s: a failing query changed the file: %q", format, b)
			}
		}
		p := filepath.Join(outDir, "never.csv")
		ferryRun(t, "query", "-w", dir, "--format", "csv", "--out", p, "SELECT * FROM nope")
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("a failing query made %s: %v", p, err)
		}
		entries, _ := os.ReadDir(outDir)
		if len(entries) != 3 {
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			t.Errorf("the folder holds %v: temporary files left?", names)
		}
	})

	t.Run("errors", func(t *testing.T) {
		tests := []struct {
			name string
			args []string
			code int
			want []string // in stderr
		}{
			{"delete", []string{"DELETE FROM fmt"}, exitUsage, []string{`"DELETE FROM fmt" is not a single SELECT`}},
			{"two statements", []string{"SELECT 1; SELECT 2"}, exitUsage, []string{`"SELECT 1; SELECT 2" holds 2 statements`}},
			{"a file", []string{"SELECT * FROM read_csv('/etc/passwd')"}, exitUsage, []string{"read_csv() is not allowed"}},
			{"syntax", []string{"SELECT * FRM fmt"}, exitUsage, []string{"syntax error", "^"}},
			{"unknown table", []string{"SELECT * FROM tikets"}, exitUsage, []string{"tikets does not exist", "tables: ", "tickets", "; views: ", "migration_summary"}},
			{"unknown column", []string{"SELECT nope FROM fmt"}, exitUsage, []string{`"nope" not found`, "tables: "}},
			{"parquet to stdout", []string{"--format", "parquet", "SELECT 1"}, exitUsage, []string{"--format parquet needs --out"}},
			{"negative max rows", []string{"--max-rows", "-1", "SELECT 1"}, exitUsage, []string{"--max-rows -1"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, stderr, code := ferryRun(t, append([]string{"query", "-w", dir}, tt.args...)...)
				if code != tt.code {
					t.Errorf("exit %d, want %d: %s", code, tt.code, stderr)
				}
				for _, w := range tt.want {
					if !strings.Contains(stderr, w) {
						t.Errorf("stderr lacks %q:\n%s", w, stderr)
					}
				}
			})
		}
	})
}

func at(rows [][]string, i int) []string {
	if i < len(rows) {
		return rows[i]
	}
	return nil
}

func checkMode(t *testing.T, p string) {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("%s: mode %v, %v; want 0600", p, fi.Mode(), err)
	}
}

// TestQueryDuringLoadEndToEnd runs a `ferry load` made slow by a distant
// Intercom, and while it holds the workspace, `ferry query` and `ferry
// report` answer (through the load's query socket) and a DELETE is refused;
// then the same once it is done.
func TestQueryDuringLoadEndToEnd(t *testing.T) {
	w := newWorld(t, zendesktest.GenerateOptions{Seed: 13, Tickets: 40})
	// A distant Intercom: every call takes 40ms, so the load takes seconds.
	w.ic = sandbox.New(sandbox.Options{Token: e2eIntercomToken, Admins: w.admins, Teams: w.teams, Latency: 40 * time.Millisecond})
	slow := httptest.NewServer(w.ic)
	t.Cleanup(slow.Close)
	cfgPath := filepath.Join(w.ws, "ferry.yaml")
	cfg, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`intercom: \{ base_url: "[^"]*"`)
	if !re.Match(cfg) {
		t.Fatalf("no Intercom base_url in the world's config:\n%s", cfg)
	}
	cfg = re.ReplaceAll(cfg, []byte(fmt.Sprintf(`intercom: { base_url: %q`, slow.URL)))
	if err := os.WriteFile(cfgPath, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	tickets := len(w.hd.Tickets)

	w.mustFerry("extract", "-w", w.ws)

	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	load := exec.CommandContext(ctx, w.bin.ferry, "load", "-w", w.ws)
	load.Env = w.env
	var loadOut, loadErr bytes.Buffer
	load.Stdout, load.Stderr = &loadOut, &loadErr
	if err := load.Start(); err != nil {
		t.Fatal(err)
	}
	loaded := make(chan error, 1)
	go func() { loaded <- load.Wait() }()
	running := func() bool {
		select {
		case err := <-loaded:
			loaded <- err
			return false
		default:
			return true
		}
	}

	// The load serves queries once it holds the workspace.
	sock := stage.QuerySocket(w.ws)
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		if fi, err := os.Lstat(sock); err == nil && fi.Mode()&os.ModeSocket != 0 {
			break
		}
		if !running() {
			t.Fatalf("the load ended before it served queries on %s (does ferry load call ServeQueries?)\nstdout:\n%s\nstderr:\n%s", sock, &loadOut, &loadErr)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the load serves no queries on %s after a minute (does ferry load call ServeQueries?)", sock)
		}
	}

	check := func(during bool) (migrated int) {
		t.Helper()
		noLock := func(what string, outs ...string) {
			t.Helper()
			for _, o := range outs {
				if strings.Contains(strings.ToLower(o), "locked") || strings.Contains(o, "Conflicting lock") {
					t.Errorf("%s speaks of locks:\n%s", what, o)
				}
			}
		}
		out, errOut, code := w.ferry("query", "-w", w.ws, "--format", "json", "SELECT count(*) AS n FROM tickets")
		noLock("ferry query", out, errOut)
		var got struct{ N int }
		if code != 0 || json.Unmarshal([]byte(out), &got) != nil || got.N != tickets {
			t.Errorf("ferry query (during the load: %v): exit %d, %q, %s; want %d tickets", during, code, out, errOut, tickets)
		}
		out, errOut, code = w.ferry("query", "-w", w.ws, "SELECT outcome, count(*) FROM ledger GROUP BY ALL ORDER BY ALL")
		noLock("ferry query", out, errOut)
		if code != 0 || !strings.HasPrefix(out, "OUTCOME") {
			t.Errorf("ferry query, table (during the load: %v): exit %d, %q, %s", during, code, out, errOut)
		}
		out, errOut, code = w.ferry("report", "-w", w.ws, "--json")
		noLock("ferry report", out, errOut)
		var rep struct {
			Entities map[string]entityCounts `json:"entities"`
		}
		if code != 0 || json.Unmarshal([]byte(out), &rep) != nil {
			t.Fatalf("ferry report --json (during the load: %v): exit %d, %q, %s", during, code, out, errOut)
		}
		tk := rep.Entities["tickets"]
		if tk.Available != tickets || tk.Migrated > tickets || tk.Failed != 0 {
			t.Errorf("report (during the load: %v): tickets %+v, want %d available", during, tk, tickets)
		}
		out, errOut, code = w.ferry("query", "-w", w.ws, "DELETE FROM tickets")
		noLock("ferry query DELETE", out, errOut)
		if code != exitUsage || !strings.Contains(errOut, `"DELETE FROM tickets" is not a single SELECT`) {
			t.Errorf("DELETE (during the load: %v): exit %d, %s", during, code, errOut)
		}
		return tk.Migrated
	}

	rounds, first := 0, -1
	for running() && rounds < 3 {
		m := check(true)
		if first < 0 {
			first = m
		}
		if running() {
			rounds++ // answered while the load held the workspace
		}
	}
	if rounds == 0 {
		t.Fatal("the load ended before a round of queries was done: make it slower (the sandbox's latency)")
	}
	if err := <-loaded; err != nil {
		t.Fatalf("ferry load: %v\nstdout:\n%s\nstderr:\n%s", err, &loadOut, &loadErr)
	}
	if _, err := os.Lstat(sock); !os.IsNotExist(err) {
		t.Errorf("the query socket outlived the load: %v", err)
	}
	if final := check(false); final != tickets || first > final {
		t.Errorf("tickets migrated: %d during the load, %d after; want %d at the end", first, final, tickets)
	}
	t.Logf("%d rounds of queries answered during the load", rounds)
}
