package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferryhq/ferry/host/intercom/sandbox"
	"github.com/ferryhq/ferry/host/stage"
	"github.com/ferryhq/ferry/plugins/zendesk/zendesktest"
)

// request is what a server was sent: method, URL, headers and body.
type request struct {
	method, url string
	header      http.Header
	body        []byte
}

func (r request) String() string { return r.method + " " + r.url }

// recorder keeps every request a handler is sent.
type recorder struct {
	mu   sync.Mutex
	reqs []request
}

func (rec *recorder) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, request{r.Method, r.URL.String(), r.Header.Clone(), body})
		rec.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

func (rec *recorder) requests() []request {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]request(nil), rec.reqs...)
}

// holds reports which of secrets a request carries anywhere: its URL, a
// header's name or value, its body.
func (r request) holds(secrets []string) []string {
	var b bytes.Buffer
	b.WriteString(r.url + "\n")
	for k, vs := range r.header {
		b.WriteString(k + ": " + strings.Join(vs, ", ") + "\n")
	}
	b.Write(r.body)
	var found []string
	for _, s := range secrets {
		if bytes.Contains(b.Bytes(), []byte(s)) {
			found = append(found, s)
		}
	}
	return found
}

// TestSecretsStayOut runs a whole migration (extract, a dry run, migrate
// with verify, verify --checksums, report, query) at debug log level with
// distinctive tokens, then looks for the tokens (as they are, and as the
// Authorization headers carry them) in every output and log of ferry and
// its plugin, in the reports, and in every file of the workspace (the
// DuckDB file's bytes and the transform cache included): none is there.
// It checks what each server was sent: the Zendesk credentials go to the
// Zendesk host only (a file on another host, and an API request Zendesk
// redirects to another host, go there without them), the Intercom token to
// Intercom only. And every file and folder ferry made in the workspace is
// its owner's only (0600 and 0700 or stricter).
func TestSecretsStayOut(t *testing.T) {
	// Another host: it serves files, and answers the API request that
	// Zendesk redirects to it.
	var foreign recorder
	const redirected = "/api/v2/deleted_tickets.json"
	other := httptest.NewServer(foreign.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == redirected {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"deleted_tickets": [], "meta": {"has_more": false, "after_cursor": null, "before_cursor": null}}`)
			return
		}
		w.Header().Set("Content-Type", "application/pdf")
		fmt.Fprint(w, "%PDF-1.4 a copy of the invoice")
	})))
	t.Cleanup(other.Close)

	hd := zendesktest.Generate(zendesktest.GenerateOptions{Seed: 23, Tickets: 10, EndUsers: 8, Organizations: 2})
	bad := zendesktest.AddHostile(hd, zendesktest.HostileOptions{Seed: 23, LongComments: 4, BigBody: 4 << 10, ForeignFiles: other.URL})
	var zendesk, intercom recorder
	w := newWorldWrapped(t, hd, func(h http.Handler) http.Handler {
		return zendesk.wrap(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			if r.URL.Path == redirected {
				http.Redirect(rw, r, other.URL+r.URL.RequestURI(), http.StatusFound)
				return
			}
			h.ServeHTTP(rw, r)
		}))
	}, intercom.wrap)
	w.env = append(w.env, "FERRY_LOG_LEVEL=debug")

	// The workspace is a folder ferry makes: init writes its config, which
	// then points at the world's servers.
	cfg, err := os.ReadFile(filepath.Join(w.ws, "ferry.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	w.ws = filepath.Join(t.TempDir(), "acme")
	w.mustFerry("init", "--source", "zendesk", "-w", w.ws)
	if err := os.WriteFile(filepath.Join(w.ws, "ferry.yaml"), cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	reportsOut := filepath.Join(t.TempDir(), "audit")

	var outputs []string
	run := func(args ...string) string {
		t.Helper()
		out, errOut, code := w.ferry(args...)
		if code != 0 {
			t.Fatalf("ferry %s: exit %d\n%s\n%s", strings.Join(args, " "), code, out, errOut)
		}
		outputs = append(outputs, "ferry "+strings.Join(args, " ")+"\n"+out+errOut)
		return out + errOut
	}
	run("extract", "-w", w.ws)
	run("load", "-w", w.ws, "--dry-run")
	if log := run("migrate", "-w", w.ws); !strings.Contains(log, "level=DEBUG") {
		t.Errorf("migrate at log level debug logged nothing at debug:\n%s", log)
	}
	run("verify", "-w", w.ws, "--checksums")
	run("report", "-w", w.ws)
	run("report", "-w", w.ws, "--json", "--out", reportsOut)
	run("query", "-w", w.ws, "SELECT * FROM ledger")
	run("query", "-w", w.ws, "--format", "csv", "SELECT * FROM runs")

	// The tokens, and the headers that carry them.
	secrets := []string{
		e2eZendeskToken, e2eIntercomToken,
		base64.StdEncoding.EncodeToString([]byte(e2eZendeskEmail + "/token:" + e2eZendeskToken)),
		base64.RawStdEncoding.EncodeToString([]byte(e2eZendeskToken)),
		base64.RawStdEncoding.EncodeToString([]byte(e2eIntercomToken)),
	}
	for _, o := range outputs {
		for _, s := range secrets {
			if strings.Contains(o, s) {
				t.Errorf("a secret (%.6s…) is in the output of %s", s, strings.SplitN(o, "\n", 2)[0])
			}
		}
	}
	files := 0
	for _, dir := range []string{w.ws, reportsOut} {
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || d.Type()&fs.ModeSocket != 0 {
				return err
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			files++
			for _, s := range secrets {
				if bytes.Contains(data, []byte(s)) {
					t.Errorf("a secret (%.6s…) is in %s", s, p)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []string{"ferry.duckdb", "dry-run.jsonl", "reports/report.html", "cache/wasm"} {
		if _, err := os.Stat(filepath.Join(w.ws, want)); err != nil {
			t.Errorf("the workspace lacks %s, which the search was to cover: %v", want, err)
		}
	}
	t.Logf("searched %d outputs and %d files for %d secrets", len(outputs), files, len(secrets))

	// Who was sent what: each host its own credentials in Authorization
	// (none for files), and no secret anywhere else.
	zdAuth := "Basic " + base64.StdEncoding.EncodeToString([]byte(e2eZendeskEmail+"/token:"+e2eZendeskToken))
	authed := 0
	for _, r := range zendesk.requests() {
		switch auth := r.header.Get("Authorization"); {
		case auth == zdAuth:
			authed++
		case auth != "" || !strings.HasPrefix(r.url, "/attachments/"):
			t.Errorf("the Zendesk host was sent %s with Authorization %q", r, auth)
		}
		r.header.Del("Authorization")
		if got := r.holds(secrets); len(got) > 0 {
			t.Errorf("the Zendesk host was sent %v in %s", got, r)
		}
	}
	if authed == 0 {
		t.Error("the Zendesk host was sent no request with its credentials: did anything read it?")
	}
	for _, r := range intercom.requests() {
		if r.header.Get("Authorization") != "Bearer "+e2eIntercomToken {
			t.Errorf("Intercom was sent %s without its token", r)
		}
		r.header.Del("Authorization")
		if got := r.holds(secrets); len(got) > 0 {
			t.Errorf("Intercom was sent %v in %s", got, r)
		}
	}
	var fileGets, api int
	for _, r := range foreign.requests() {
		if got := r.holds(secrets); len(got) > 0 {
			t.Errorf("the other host was sent %v in %s", got, r)
		}
		for _, h := range []string{"Authorization", "Cookie", "Proxy-Authorization"} {
			if v := r.header.Get(h); v != "" {
				t.Errorf("the other host was sent %s: %s in %s", h, v, r)
			}
		}
		if strings.HasPrefix(r.url, "/files/") {
			fileGets++
		} else if strings.HasPrefix(r.url, redirected) {
			api++
		}
	}
	if fileGets == 0 || api == 0 {
		t.Errorf("the other host got %d requests for its file and %d redirected API requests, want some of each: %v", fileGets, api, foreign.requests())
	}
	if len(bad.Of(zendesktest.BadForeignFile)) != 1 {
		t.Fatal("the help desk has no file on the other host")
	}

	// Every file and folder in the workspace is its owner's only.
	checkOwnerOnly(t, w.ws, true)
	checkOwnerOnly(t, reportsOut, true)
}

// checkOwnerOnly checks that every file and folder under dir (and dir
// itself, with root) is readable and writable by its owner only: files
// 0600 or stricter, folders 0700. It returns the paths it checked,
// relative to dir.
func checkOwnerOnly(t *testing.T, dir string, root bool) []string {
	t.Helper()
	var seen []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // gone while walking (a temporary file)
			}
			return err
		}
		if p == dir && !root {
			return nil
		}
		fi, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		} else if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		seen = append(seen, rel)
		if perm := fi.Mode().Perm(); perm&0o077 != 0 {
			t.Errorf("%s: mode %v, want no access for group and others", p, fi.Mode())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) < 2 {
		t.Errorf("%s holds nothing to check", dir)
	}
	return seen
}

// TestPluginChecksumPinned: a source plugin pinned by sha256 in ferry.yaml
// runs while its binary is the one pinned (the pin in upper or lower case),
// and is refused, before it runs, once the binary changes.
func TestPluginChecksumPinned(t *testing.T) {
	w := newWorld(t, zendesktest.GenerateOptions{Seed: 29, Tickets: 5, EndUsers: 5, Organizations: 2})
	dir := t.TempDir()
	plugin := filepath.Join(dir, "ferry-source-zendesk")
	data, err := os.ReadFile(filepath.Join(w.bin.pluginDir, "ferry-source-zendesk"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(plugin, data, 0o700); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	cfgPath := filepath.Join(w.ws, "ferry.yaml")
	cfg, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	pin := func(sum string) {
		t.Helper()
		pinned := strings.Replace(string(cfg), "  plugin: zendesk\n", "  plugin: zendesk\n  sha256: "+sum+"\n", 1)
		if pinned == string(cfg) {
			t.Fatal("no source plugin to pin in the config")
		}
		if err := os.WriteFile(cfgPath, []byte(pinned), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	pin(strings.ToUpper(hex.EncodeToString(sum[:])))
	if out, errOut, code := w.ferry("extract", "-w", w.ws, "--plugin-dir", dir); code != 0 {
		t.Fatalf("the pinned plugin was refused: exit %d\n%s\n%s", code, out, errOut)
	}

	// The binary changes (a byte appended still runs): refused, and
	// Zendesk hears nothing of it.
	pin(hex.EncodeToString(sum[:]))
	if err := os.WriteFile(plugin, append(data, 0), 0o700); err != nil {
		t.Fatal(err)
	}
	w.zd.ResetStats()
	out, errOut, code := w.ferry("extract", "-w", w.ws, "--plugin-dir", dir)
	if code != exitFailed || !strings.Contains(errOut, "its SHA-256 does not match the sha256 pinned in the config; refusing to run it") || !strings.Contains(errOut, plugin) {
		t.Errorf("a changed plugin: exit %d, want %d and a refusal naming %s\n%s\n%s", code, exitFailed, plugin, out, errOut)
	}
	if n := w.zd.Stats().Total(); n != 0 {
		t.Errorf("the refused plugin sent Zendesk %d requests", n)
	}
}

// queryAttacks are statements ferry query must refuse: they would write the
// workspace or other files, read files, load extensions, attach other
// databases, change settings or run SQL the check does not see.
var queryAttacks = []string{
	"INSERT INTO tickets (id) VALUES ('x')",
	"UPDATE tickets SET subject = 'x'",
	"DELETE FROM ledger",
	"DROP TABLE tickets",
	"CREATE TABLE pwned AS SELECT 1",
	"CREATE VIEW pwned AS SELECT 1",
	"ALTER TABLE tickets ADD COLUMN x INT",
	"COPY tickets TO '%[1]s/copy.csv'",
	"COPY (SELECT * FROM tickets) TO '%[1]s/copy.parquet' (FORMAT parquet)",
	"EXPORT DATABASE '%[1]s/export'",
	"SELECT * FROM read_csv('/etc/passwd')",
	"SELECT * FROM read_csv_auto('/etc/passwd')",
	"SELECT * FROM read_text('/etc/passwd')",
	"SELECT * FROM read_blob('/etc/passwd')",
	"SELECT * FROM read_json_auto('/etc/passwd')",
	"SELECT * FROM read_parquet('%[1]s/x.parquet')",
	"SELECT * FROM glob('/etc/*')",
	"SELECT * FROM '/etc/passwd'",
	"SELECT * FROM 'passwd.csv'",
	"FROM '/etc/passwd'",
	"SELECT * FROM 'https://example.com/x.csv'",
	"SELECT (SELECT count(*) FROM read_csv('/etc/passwd'))",
	"WITH f AS (SELECT * FROM read_text('/etc/passwd')) SELECT * FROM f",
	"SELECT * FROM tickets WHERE id IN (SELECT content FROM read_text('/etc/passwd'))",
	"SELECT * FROM query('DELETE FROM ledger')",
	"SELECT * FROM query_table('tickets')",
	"SELECT * FROM sqlite_scan('%[1]s/x.db', 't')",
	"SELECT * FROM duckdb_secrets()",
	"SELECT * FROM duckdb_extensions()",
	"INSTALL httpfs",
	"LOAD httpfs",
	"LOAD '%[1]s/evil.duckdb_extension'",
	"FORCE INSTALL httpfs",
	"ATTACH '%[1]s/other.duckdb' AS other",
	"ATTACH ':memory:' AS m",
	"DETACH ferry",
	"USE memory",
	"PRAGMA database_list",
	"PRAGMA enable_external_access",
	"SET enable_external_access = true",
	"SET GLOBAL threads = 1",
	"RESET enable_external_access",
	"CALL pragma_version()",
	"CHECKPOINT",
	"VACUUM",
	"BEGIN TRANSACTION",
	"SELECT nextval('x')",
	"SELECT 1; DELETE FROM ledger",
	"CREATE SECRET s (TYPE s3, KEY_ID 'k', SECRET 's')",
	"CREATE MACRO m() AS 1",
	"SELECT * FROM json_execute_serialized_sql('{}')",
}

// TestQueryCannotEscape runs statements that would write the workspace or
// other files, read files, load extensions, attach databases or change
// settings through ferry query, against the workspace file and against a
// load that holds the workspace (which answers queries itself): each is
// refused with exit 2 and a reason, nothing is written anywhere, no file's
// content comes out, and the workspace holds what it held.
func TestQueryCannotEscape(t *testing.T) {
	w := newWorld(t, zendesktest.GenerateOptions{Seed: 31, Tickets: 30, EndUsers: 10, Organizations: 2})
	w.mustFerry("extract", "-w", w.ws)
	scratch := t.TempDir()

	// What the attacks would change, and a load does not: the staged
	// tickets, tables and views of their names.
	const state = "SELECT (SELECT count(*) FROM tickets), (SELECT count(*) FROM duckdb_tables() WHERE table_name IN ('pwned', 'x')), (SELECT count(*) FROM duckdb_views() WHERE view_name = 'pwned'), (SELECT count(*) FROM duckdb_columns() WHERE table_name = 'tickets')"
	attack := func(t *testing.T, mode string) {
		t.Helper()
		counts := w.mustFerry("query", "-w", w.ws, "--format", "csv", state)
		ledger := w.mustFerry("query", "-w", w.ws, "--format", "csv", "SELECT count(*) FROM ledger")
		for _, a := range queryAttacks {
			q := fmt.Sprintf(a, scratch)
			out, errOut, code := w.ferry("query", "-w", w.ws, q)
			if code != exitUsage || !strings.Contains(errOut, "ferry: ") {
				t.Errorf("%s: %s: exit %d, want %d and a reason\nstdout: %s\nstderr: %s", mode, q, code, exitUsage, out, errOut)
			}
			if strings.Contains(out+errOut, "root:x:0:0") || strings.Contains(out+errOut, "/bin/") {
				t.Errorf("%s: %s: a file's content came out:\n%s%s", mode, q, out, errOut)
			}
		}
		if entries, _ := os.ReadDir(scratch); len(entries) != 0 {
			t.Errorf("%s: the queries wrote %v", mode, entries)
		}
		if after := w.mustFerry("query", "-w", w.ws, "--format", "csv", state); after != counts {
			t.Errorf("%s: the workspace changed: %s then %s", mode, counts, after)
		}
		if after := w.mustFerry("query", "-w", w.ws, "--format", "csv", "SELECT count(*) FROM ledger"); len(after) < len(ledger) || after < ledger && len(after) == len(ledger) {
			t.Errorf("%s: the ledger shrank: %s then %s", mode, ledger, after)
		}
	}

	t.Run("file", func(t *testing.T) {
		sum := func() string {
			data, err := os.ReadFile(filepath.Join(w.ws, stage.FileName))
			if err != nil {
				t.Fatal(err)
			}
			s := sha256.Sum256(data)
			return hex.EncodeToString(s[:])
		}
		before := sum()
		attack(t, "file")
		if sum() != before {
			t.Error("the workspace file's bytes changed")
		}
	})

	t.Run("served by a load", func(t *testing.T) {
		// A distant Intercom keeps the load holding the workspace.
		slow := sandbox.New(sandbox.Options{Token: e2eIntercomToken, Admins: w.admins, Teams: w.teams, Latency: 60 * time.Millisecond})
		ts := httptest.NewServer(slow)
		t.Cleanup(ts.Close)
		cfgPath := filepath.Join(w.ws, "ferry.yaml")
		cfg, err := os.ReadFile(cfgPath)
		if err != nil {
			t.Fatal(err)
		}
		cfg = regexp.MustCompile(`intercom: \{ base_url: "[^"]*"`).ReplaceAll(cfg, []byte(fmt.Sprintf(`intercom: { base_url: %q`, ts.URL)))
		if err := os.WriteFile(cfgPath, cfg, 0o600); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		load := exec.CommandContext(ctx, w.bin.ferry, "load", "-w", w.ws)
		load.Env = w.env
		var loadOut bytes.Buffer
		load.Stdout, load.Stderr = &loadOut, &loadOut
		if err := load.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { load.Wait(); close(done) }()
		t.Cleanup(func() { cancel(); <-done })
		sock := stage.QuerySocket(w.ws)
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
			if fi, err := os.Lstat(sock); err == nil && fi.Mode()&os.ModeSocket != 0 {
				break
			}
			select {
			case <-done:
				t.Fatalf("the load ended before it served queries\n%s", &loadOut)
			default:
			}
			if time.Now().After(deadline) {
				t.Fatal("the load serves no queries after a minute")
			}
		}
		attack(t, "served")
		// The files of a workspace in use (DuckDB's write-ahead log among
		// them) are its owner's only too.
		if seen := checkOwnerOnly(t, w.ws, false); !slices.Contains(seen, stage.FileName+".wal") {
			t.Errorf("no write-ahead log while the load runs, to check: %v", seen)
		}
		select {
		case <-done:
			t.Error("the load ended while the queries ran: they went to the file, not to the load")
		default:
		}
	})
}
