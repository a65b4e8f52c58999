package stage

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// queryTableRows is how many rows fillQueryTable writes: more than one
// DuckDB vector (2048), so that results come in several batches.
const queryTableRows = 5000

// fillQueryTable writes the table qt into a workspace, with a column of
// each kind `ferry query` formats, and one ledger outcome.
func fillQueryTable(ctx context.Context, w *Workspace) error {
	_, err := w.DB().ExecContext(ctx, fmt.Sprintf(`CREATE OR REPLACE TABLE qt AS
SELECT range AS n, 'row ' || range AS s, ('{"k": ' || range || '}')::JSON AS j, [range::VARCHAR, 'x'] AS tags,
  TIMESTAMP '2024-05-01 09:00:00' + to_hours(range) AS ts, CASE WHEN range %% 3 = 0 THEN NULL ELSE range * 1.5 END AS f
FROM range(%d)`, queryTableRows))
	if err != nil {
		return err
	}
	return w.SetOutcome(ctx, Outcome{Entity: EntityTickets, SourceID: "t1", Outcome: Migrated, IntercomID: "c1", Stage: "load", RunID: 1})
}

// Environment of the writer process of the cross-process tests.
const (
	writerDirEnv   = "FERRY_STAGE_TEST_WRITER_DIR"
	writerServeEnv = "FERRY_STAGE_TEST_WRITER_SERVE"
)

// TestQueryHelperWriter is not a test: it is the other ferry of the
// cross-process tests, started by startWriter in a process of its own. It
// opens the workspace for writing, fills it, serves queries (unless told
// not to), says "ready" on stdout and holds the workspace until its stdin
// closes or it is killed.
func TestQueryHelperWriter(t *testing.T) {
	dir := os.Getenv(writerDirEnv)
	if dir == "" {
		t.Skip("the writer process of the cross-process query tests; it runs only when they start it")
	}
	ctx := context.Background()
	w, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := fillQueryTable(ctx, w); err != nil {
		t.Fatal(err)
	}
	if os.Getenv(writerServeEnv) == "true" {
		stop, err := w.ServeQueries(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer func() {
			if err := stop(); err != nil {
				t.Error(err)
			}
		}()
	}
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin)
}

// writerProc is a writer process started by startWriter.
type writerProc struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr *bytes.Buffer
	done   chan error
}

// startWriter starts this test binary as the writer of the workspace in
// dir (see TestQueryHelperWriter) and waits until it holds it.
func startWriter(t *testing.T, dir string, serve bool) *writerProc {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestQueryHelperWriter$", "-test.count=1")
	cmd.Env = append(os.Environ(), writerDirEnv+"="+dir, writerServeEnv+"="+strconv.FormatBool(serve))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	w := &writerProc{cmd: cmd, stdin: stdin, stderr: &bytes.Buffer{}, done: make(chan error, 1)}
	cmd.Stderr = w.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready, exited := make(chan struct{}), make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		signalled := false
		for sc.Scan() {
			if sc.Text() == "ready" && !signalled {
				close(ready)
				signalled = true
			}
		}
		w.done <- cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		select { // a process that died before it was ready never will be
		case <-ready:
		case <-exited:
		}
	})
	select {
	case <-ready:
	case err := <-w.done:
		t.Fatalf("the writer process ended before it was ready: %v\n%s", err, w.stderr)
	case <-time.After(60 * time.Second):
		t.Fatalf("the writer process is not ready after a minute\n%s", w.stderr)
	}
	return w
}

// stop ends the writer as a ferry ends: it lets go of the workspace.
func (w *writerProc) stop(t *testing.T) {
	t.Helper()
	w.stdin.Close()
	if err := <-w.done; err != nil {
		t.Fatalf("the writer process: %v\n%s", err, w.stderr)
	}
}

// kill ends the writer as a crash does.
func (w *writerProc) kill(t *testing.T) {
	t.Helper()
	if err := w.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-w.done
}

// result is a query result as text, for comparisons.
type result struct {
	fields []arrow.Field
	rows   [][]string
}

func collect(t *testing.T, rdr array.RecordReader) result {
	t.Helper()
	defer rdr.Release()
	res := result{fields: rdr.Schema().Fields()}
	for rdr.Next() {
		rec := rdr.RecordBatch()
		for i := range int(rec.NumRows()) {
			row := make([]string, rec.NumCols())
			for j := range row {
				row[j] = strings.Clone(rec.Column(j).ValueStr(i)) // it aliases the batch
			}
			res.rows = append(res.rows, row)
		}
	}
	if err := rdr.Err(); err != nil {
		t.Fatalf("read the result: %v", err)
	}
	return res
}

// checkQueryTable checks a result of SELECT * FROM qt ORDER BY n.
func checkQueryTable(t *testing.T, res result) {
	t.Helper()
	if len(res.rows) != queryTableRows {
		t.Fatalf("%d rows, want %d", len(res.rows), queryTableRows)
	}
	wantTypes := []string{"BIGINT", "VARCHAR", "JSON", "VARCHAR[]", "TIMESTAMP", "DECIMAL(21,1)"}
	var gotTypes []string
	for _, f := range res.fields {
		gotTypes = append(gotTypes, DuckDBType(f))
	}
	if !slices.Equal(gotTypes, wantTypes) {
		t.Errorf("column types %v, want %v", gotTypes, wantTypes)
	}
	want := []string{"7", "row 7", `{"k": 7}`, `["7","x"]`, "2024-05-01T16:00:00", "10.5"}
	if got := res.rows[7]; !slices.Equal(got, want) {
		t.Errorf("row 7 = %q, want %q", got, want)
	}
	if got := res.rows[6][5]; got != array.NullValueStr {
		t.Errorf("row 6's f = %q, want NULL", got)
	}
}

func TestQueryReadsTheFile(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	w, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := fillQueryTable(ctx, w); err != nil {
		t.Fatal(err)
	}
	w.Close()

	rdr, err := Query(ctx, dir, "SELECT * FROM qt ORDER BY n")
	if err != nil {
		t.Fatal(err)
	}
	checkQueryTable(t, collect(t, rdr))

	sum, err := QuerySummary(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if sum[0] != (EntityCounts{Entity: EntityTickets, Available: 1, Migrated: 1}) || len(sum) != len(SummaryEntities()) {
		t.Errorf("summary %+v", sum)
	}

	// Refused with the same words as the check gives.
	for _, q := range []string{"DELETE FROM qt", "SELECT 1; SELECT 2", "FROM read_csv('/etc/passwd')", "FROM 'qt.csv'", "SELEC 1"} {
		_, err := Query(ctx, dir, q)
		want := CheckReadOnlySQL(ctx, parserDB(t), q)
		if err == nil || want == nil || err.Error() != want.Error() {
			t.Errorf("Query(%q) = %v\nwant %v", q, err, want)
		}
	}
	_, err = Query(ctx, dir, "SELECT nope FROM qt")
	if qe, ok := asQueryError(err); !ok || qe.Kind != QueryInvalid || !strings.Contains(qe.Message, `"nope" not found`) {
		t.Errorf("an unknown column: %v", err)
	}
	_, err = Query(ctx, dir, "SELECT * FROM nope")
	qe, ok := asQueryError(err)
	if !ok || qe.Kind != QueryInvalid {
		t.Fatalf("an unknown table: %v", err)
	}
	for _, want := range []string{"Table with name nope does not exist", "tables: ", "qt", "tickets", "; views: ", "migration_summary"} {
		if !strings.Contains(qe.Message, want) {
			t.Errorf("the unknown table's message lacks %q:\n%s", want, qe.Message)
		}
	}

	if _, err := Query(ctx, t.TempDir(), "SELECT 1"); err == nil || !strings.Contains(err.Error(), "no workspace") {
		t.Errorf("a folder without a workspace: %v", err)
	}
}

// TestQueryWhileAnotherProcessWrites runs queries while another process
// holds the workspace for writing (no one can open the file then): they are
// answered through its query socket, refused statements are refused there
// too, and once it is gone (ended, or killed and its socket left behind)
// queries read the file.
func TestQueryWhileAnotherProcessWrites(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	wr := startWriter(t, dir, true)

	if _, err := OpenReadOnly(ctx, dir); err == nil {
		t.Fatal("the workspace opens while another process writes it: the test proves nothing")
	}
	rdr, err := Query(ctx, dir, "SELECT * FROM qt ORDER BY n")
	if err != nil {
		t.Fatal(err)
	}
	served := collect(t, rdr)
	checkQueryTable(t, served)

	sum, err := QuerySummary(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if sum[0] != (EntityCounts{Entity: EntityTickets, Available: 1, Migrated: 1}) {
		t.Errorf("summary through the socket: %+v", sum)
	}
	for _, q := range []string{"DELETE FROM qt", "DROP TABLE qt", "SELECT 1; DELETE FROM qt", "FROM read_text('/etc/hostname')", "FROM 'x.csv'", "SELECT nextval('run_ids')", "SELEC 1"} {
		_, err := Query(ctx, dir, q)
		want := CheckReadOnlySQL(ctx, parserDB(t), q)
		if err == nil || want == nil || err.Error() != want.Error() {
			t.Errorf("served Query(%q) = %v\nwant %v", q, err, want)
		}
	}
	_, err = Query(ctx, dir, "SELECT * FROM nope")
	if qe, ok := asQueryError(err); !ok || qe.Kind != QueryInvalid || !strings.Contains(qe.Message, "tables: ") || !strings.Contains(qe.Message, "qt") {
		t.Errorf("an unknown table, served: %v", err)
	}

	// The writer ends: it removes its socket, and the file is readable.
	wr.stop(t)
	if _, err := os.Lstat(QuerySocket(dir)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the socket outlived the writer: %v", err)
	}
	rdr, err = Query(ctx, dir, "SELECT * FROM qt ORDER BY n")
	if err != nil {
		t.Fatal(err)
	}
	local := collect(t, rdr)
	if !slices.EqualFunc(local.rows, served.rows, slices.Equal[[]string]) || !slices.EqualFunc(local.fields, served.fields, func(a, b arrow.Field) bool { return a.Equal(b) }) {
		t.Error("the file and the writer answer the same query differently")
	}

	// A writer that crashes leaves its socket; the lock goes with the
	// process, so queries read the file.
	wr = startWriter(t, dir, true)
	wr.kill(t)
	stale, err := os.Lstat(QuerySocket(dir))
	if err != nil || stale.Mode()&os.ModeSocket == 0 {
		t.Fatalf("no socket left by the killed writer (%v): the test proves nothing", err)
	}
	rdr, err = Query(ctx, dir, "SELECT count(*) FROM qt")
	if err != nil {
		t.Fatalf("after the writer was killed: %v", err)
	}
	if got := collect(t, rdr).rows; len(got) != 1 || got[0][0] != strconv.Itoa(queryTableRows) {
		t.Errorf("after the writer was killed: %v", got)
	}
	// And the next writer replaces the stale socket.
	w, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	stop, err := w.ServeQueries(ctx)
	if err != nil {
		t.Fatalf("serve queries where a stale socket lies: %v", err)
	}
	defer stop()
	if fi, err := os.Lstat(QuerySocket(dir)); err != nil || os.SameFile(fi, stale) {
		t.Errorf("the stale socket is still there (%v)", err)
	}
	rdr, err = queryRemote(ctx, dir, "SELECT count(*) FROM qt")
	if err != nil {
		t.Fatal(err)
	}
	if got := collect(t, rdr).rows; len(got) != 1 || got[0][0] != strconv.Itoa(queryTableRows) {
		t.Errorf("served by the new writer: %v", got)
	}
}

// TestQueryHeldByAProcessThatServesNoQueries: the error names the process
// and says what to do.
func TestQueryHeldByAProcessThatServesNoQueries(t *testing.T) {
	dir := t.TempDir()
	wr := startWriter(t, dir, false)
	_, err := Query(t.Context(), dir, "SELECT 1")
	var held *WorkspaceHeldError
	if !errors.As(err, &held) {
		t.Fatalf("got %v (%T), want a WorkspaceHeldError", err, err)
	}
	if held.PID != wr.cmd.Process.Pid {
		t.Errorf("PID %d, want the writer's %d", held.PID, wr.cmd.Process.Pid)
	}
	for _, want := range []string{fmt.Sprintf("process %d", wr.cmd.Process.Pid), "open for writing", "then run this again"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error lacks %q: %v", want, err)
		}
	}
	if strings.Contains(strings.ToLower(err.Error()), "locked") {
		t.Errorf("the error talks of locks: %v", err)
	}
}

func TestQuerySocketPath(t *testing.T) {
	base := t.TempDir()
	real, err := filepath.EvalSymlinks(base)
	if err != nil {
		t.Fatal(err)
	}
	short := filepath.Join(real, "acme")
	long := filepath.Join(real, strings.Repeat("d", maxSocketPath))
	long2 := filepath.Join(real, strings.Repeat("e", maxSocketPath))
	link := filepath.Join(real, "link")
	for _, d := range []string{short, long, long2} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(short, link); err != nil {
		t.Fatal(err)
	}
	t.Chdir(real)
	tests := []struct {
		name, dir, want string
	}{
		{"in the workspace", short, filepath.Join(short, QuerySocketName)},
		{"relative", "acme", filepath.Join(short, QuerySocketName)},
		{"through a link", link, filepath.Join(short, QuerySocketName)},
		{"missing folder", filepath.Join(real, "new"), filepath.Join(real, "new", QuerySocketName)},
	}
	for _, tt := range tests {
		if got := QuerySocket(tt.dir); got != tt.want {
			t.Errorf("%s: QuerySocket(%s) = %s, want %s", tt.name, tt.dir, got, tt.want)
		}
	}
	p, p2 := QuerySocket(long), QuerySocket(long2)
	if filepath.Dir(p) != socketTempDir() || len(p) > maxSocketPath {
		t.Errorf("a long workspace path: socket %s (%d bytes), want one under %s", p, len(p), socketTempDir())
	}
	if p == p2 || QuerySocket(long) != p {
		t.Errorf("long paths: %s and %s: want distinct and stable", p, p2)
	}
}

func TestServeQueriesSocket(t *testing.T) {
	ctx := t.Context()
	base, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{filepath.Join(base, "ws"), filepath.Join(base, strings.Repeat("w", maxSocketPath))} {
		t.Run(fmt.Sprintf("%d-byte path", len(dir)), func(t *testing.T) {
			w, err := Open(ctx, dir)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			if _, err := w.DB().ExecContext(ctx, "CREATE TABLE t AS SELECT 42 AS answer"); err != nil {
				t.Fatal(err)
			}
			stop, err := w.ServeQueries(ctx)
			if err != nil {
				t.Fatal(err)
			}
			path := QuerySocket(dir)
			fi, err := os.Lstat(path)
			if err != nil || fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o600 {
				t.Errorf("socket %s: %v, %v; want a socket of mode 0600", path, fi.Mode(), err)
			}
			if parent := filepath.Dir(path); parent != dir {
				pfi, err := os.Lstat(parent)
				if err != nil || pfi.Mode().Perm() != 0o700 {
					t.Errorf("the socket's folder %s: %v, %v; want mode 0700", parent, pfi.Mode(), err)
				}
			}
			entries, _ := os.ReadDir(filepath.Dir(path))
			for _, e := range entries {
				if strings.HasPrefix(e.Name(), ".fq") {
					t.Errorf("the socket's making left %s", e.Name())
				}
			}
			rdr, err := queryRemote(ctx, dir, "SELECT answer FROM t")
			if err != nil {
				t.Fatal(err)
			}
			if got := collect(t, rdr).rows; len(got) != 1 || got[0][0] != "42" {
				t.Errorf("served %v", got)
			}
			if _, err := w.ServeQueries(ctx); err == nil || !strings.Contains(err.Error(), "answers there already") {
				t.Errorf("serving twice: %v", err)
			}
			if err := stop(); err != nil {
				t.Error(err)
			}
			if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the socket outlived stop: %v", err)
			}
			if _, err := queryRemote(ctx, dir, "SELECT 1"); !errors.Is(err, errNoQueryServer) {
				t.Errorf("after stop: %v", err)
			}
			if err := stop(); err != nil {
				t.Errorf("a second stop: %v", err)
			}
		})
	}

	t.Run("ends with its context", func(t *testing.T) {
		dir := t.TempDir()
		w, err := Open(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		sctx, cancel := context.WithCancel(ctx)
		stop, err := w.ServeQueries(sctx)
		if err != nil {
			t.Fatal(err)
		}
		defer stop()
		cancel()
		deadline := time.Now().Add(5 * time.Second)
		for {
			if _, err := os.Lstat(QuerySocket(dir)); errors.Is(err, os.ErrNotExist) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the socket is still there 5s after the context ended")
			}
			time.Sleep(20 * time.Millisecond)
		}
	})

	t.Run("a file in the way", func(t *testing.T) {
		dir := t.TempDir()
		w, err := Open(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		if err := os.WriteFile(QuerySocket(dir), []byte("mine"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := w.ServeQueries(ctx); err == nil || !strings.Contains(err.Error(), "not a socket") {
			t.Errorf("got %v, want a refusal to replace a file", err)
		}
		if b, _ := os.ReadFile(QuerySocket(dir)); string(b) != "mine" {
			t.Error("the file was replaced")
		}
	})
}

func TestQueryServerLimits(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	w, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()

	t.Run("timeout", func(t *testing.T) {
		stop, err := w.ServeQueriesWith(ctx, QueryServerOptions{Timeout: 300 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		defer stop()
		start := time.Now()
		_, err = queryRemote(ctx, dir, "SELECT sum(a.range * b.range) FROM range(1000000) a, range(1000000) b")
		if err == nil || !strings.Contains(err.Error(), "ran longer than 300ms") {
			t.Errorf("got %v, want the time limit", err)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("the query was stopped after %v", d)
		}
	})

	post := func(qs *queryServer, query string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, queryPath, strings.NewReader(fmt.Sprintf(`{"sql": %q}`, query)))
		qs.ServeHTTP(rec, req)
		return rec
	}
	qs := newQueryServer(w, QueryServerOptions{Timeout: 200 * time.Millisecond, MaxConcurrent: 1})
	t.Run("busy", func(t *testing.T) {
		qs.slots <- struct{}{} // a query runs
		rec := post(qs, "SELECT 1")
		<-qs.slots
		if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), `"kind":"busy"`) {
			t.Errorf("with every slot taken: %d %s", rec.Code, rec.Body)
		}
		rec = post(qs, "SELECT 1 AS one")
		if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != arrowStreamType {
			t.Fatalf("with a slot free: %d %s", rec.Code, rec.Body)
		}
		rdr, err := ipc.NewReader(rec.Body, ipc.WithAllocator(memory.DefaultAllocator))
		if err != nil {
			t.Fatal(err)
		}
		if got := collect(t, rdr).rows; len(got) != 1 || got[0][0] != "1" {
			t.Errorf("SELECT 1 AS one: %v", got)
		}
	})
	t.Run("refused", func(t *testing.T) {
		rec := post(qs, "DELETE FROM tickets")
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `"kind":"refused"`) {
			t.Errorf("DELETE: %d %s", rec.Code, rec.Body)
		}
	})
	t.Run("drained", func(t *testing.T) {
		qs := newQueryServer(w, QueryServerOptions{})
		qs.drain()
		if rec := post(qs, "SELECT 1"); rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), `"kind":"stopping"`) {
			t.Errorf("a stopped server: %d %s", rec.Code, rec.Body)
		}
	})
	t.Run("method and path", func(t *testing.T) {
		rec := httptest.NewRecorder()
		qs.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, queryPath, nil))
		if rec.Code != http.StatusMethodNotAllowed {
			t.Errorf("GET: %d", rec.Code)
		}
		rec = httptest.NewRecorder()
		qs.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/exec", strings.NewReader(`{}`)))
		if rec.Code != http.StatusNotFound {
			t.Errorf("POST /exec: %d", rec.Code)
		}
	})
}

// TestQueryRemoteAnswers: how the client reads what a query server
// answers, from a stand-in server on the socket.
func TestQueryRemoteAnswers(t *testing.T) {
	oneBatch := func(rw http.ResponseWriter) {
		b := array.NewInt64Builder(memory.DefaultAllocator)
		defer b.Release()
		b.AppendValues([]int64{1, 2, 3}, nil)
		col := b.NewArray()
		defer col.Release()
		schema := arrow.NewSchema([]arrow.Field{{Name: "n", Type: arrow.PrimitiveTypes.Int64}}, nil)
		rec := array.NewRecordBatch(schema, []arrow.Array{col}, 3)
		defer rec.Release()
		wr := ipc.NewWriter(rw, ipc.WithSchema(schema))
		wr.Write(rec)
		wr.Close()
	}
	tests := []struct {
		name    string
		handler http.HandlerFunc
		rows    int
		err     string // in the error, from Query or from the reader
		kind    QueryErrorKind
		absent  bool // errNoQueryServer
	}{
		{name: "rows", rows: 3, handler: func(rw http.ResponseWriter, r *http.Request) {
			rw.Header().Set("Content-Type", arrowStreamType)
			rw.Header().Set("Trailer", errorTrailer)
			oneBatch(rw)
		}},
		{name: "an error after the rows", rows: 3, err: "too slow", handler: func(rw http.ResponseWriter, r *http.Request) {
			rw.Header().Set("Content-Type", arrowStreamType)
			rw.Header().Set("Trailer", errorTrailer)
			oneBatch(rw)
			rw.Header().Set(errorTrailer, `{"kind":"timeout","message":"too slow"}`)
		}},
		{name: "stopping after the rows", rows: 3, err: "run the query again", handler: func(rw http.ResponseWriter, r *http.Request) {
			rw.Header().Set("Content-Type", arrowStreamType)
			rw.Header().Set("Trailer", errorTrailer)
			oneBatch(rw)
			rw.Header().Set(errorTrailer, `{"kind":"stopping","message":"bye"}`)
		}},
		{name: "a cut stream", err: "did it stop?", handler: func(rw http.ResponseWriter, r *http.Request) {
			rw.Header().Set("Content-Type", arrowStreamType)
			var buf bytes.Buffer
			oneBatch(&httpBuffer{&buf})
			rw.Write(buf.Bytes()[:buf.Len()-20])
		}},
		{name: "a query error", kind: QueryInvalid, err: "Table with name nope", handler: func(rw http.ResponseWriter, r *http.Request) {
			writeQueryError(rw, http.StatusBadRequest, string(QueryInvalid), "Catalog Error: Table with name nope does not exist!")
		}},
		{name: "stopping", absent: true, handler: func(rw http.ResponseWriter, r *http.Request) {
			writeQueryError(rw, http.StatusServiceUnavailable, serverStopping, "bye")
		}},
		{name: "not a query server", err: "answered 404", handler: func(rw http.ResponseWriter, r *http.Request) {
			http.NotFound(rw, r)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			ln, err := net.Listen("unix", QuerySocket(dir))
			if err != nil {
				t.Fatal(err)
			}
			srv := &http.Server{Handler: tt.handler}
			go srv.Serve(ln)
			defer srv.Close()

			rdr, err := queryRemote(t.Context(), dir, "SELECT n")
			rows := 0
			if err == nil {
				for rdr.Next() {
					rows += int(rdr.RecordBatch().NumRows())
				}
				err = rdr.Err()
				rdr.Release()
			}
			switch {
			case tt.absent:
				if !errors.Is(err, errNoQueryServer) {
					t.Errorf("got %v, want errNoQueryServer", err)
				}
			case tt.err == "":
				if err != nil {
					t.Error(err)
				}
			case err == nil || !strings.Contains(err.Error(), tt.err):
				t.Errorf("got %v, want %q", err, tt.err)
			}
			if qe, ok := asQueryError(err); tt.kind != "" && (!ok || qe.Kind != tt.kind) {
				t.Errorf("got %v, want a QueryError of kind %s", err, tt.kind)
			}
			if rows != tt.rows {
				t.Errorf("%d rows, want %d", rows, tt.rows)
			}
		})
	}

	t.Run("no server", func(t *testing.T) {
		dir := t.TempDir()
		if _, err := queryRemote(t.Context(), dir, "SELECT 1"); !errors.Is(err, errNoQueryServer) {
			t.Errorf("no socket: %v", err)
		}
		ln, err := net.Listen("unix", QuerySocket(dir))
		if err != nil {
			t.Fatal(err)
		}
		ln.(*net.UnixListener).SetUnlinkOnClose(false)
		ln.Close() // a socket nobody answers on
		if _, err := queryRemote(t.Context(), dir, "SELECT 1"); !errors.Is(err, errNoQueryServer) {
			t.Errorf("a stale socket: %v", err)
		}
	})
}

// httpBuffer lets oneBatch write into a buffer.
type httpBuffer struct{ *bytes.Buffer }

func (httpBuffer) Header() http.Header { return http.Header{} }
func (httpBuffer) WriteHeader(int)     {}

func TestOpenWaitsForTheWorkspace(t *testing.T) {
	dir := t.TempDir()
	w := startWriter(t, dir, false)
	_, err := OpenWith(t.Context(), dir, OpenOptions{LockWait: time.Second})
	if err == nil || !strings.Contains(err.Error(), "is in use by") || !strings.Contains(err.Error(), fmt.Sprintf("PID %d", w.cmd.Process.Pid)) {
		t.Fatalf("err = %v, want it to name the writer", err)
	}
	// A holder that lets go while Open waits.
	go func() {
		time.Sleep(500 * time.Millisecond)
		w.stop(t)
	}()
	ws, err := OpenWith(t.Context(), dir, OpenOptions{LockWait: 30 * time.Second})
	if err != nil {
		t.Fatalf("Open did not wait for the holder to let go: %v", err)
	}
	ws.Close()
}
