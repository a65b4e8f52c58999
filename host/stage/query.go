package stage

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/duckdb/duckdb-go/v2"
)

// DuckDBTypeKey is the field metadata key under which Query's results give
// each column's DuckDB type (JSON, VARCHAR[], TIMESTAMP, …). Arrow carries a
// JSON column as plain text; the type tells a writer of results to embed it
// as JSON rather than quote it.
const DuckDBTypeKey = "ferry.duckdb_type"

// DuckDBType returns a result column's DuckDB type, or "" when unknown.
func DuckDBType(f arrow.Field) string {
	if v, ok := f.Metadata.GetValue(DuckDBTypeKey); ok {
		return v
	}
	return ""
}

// holderWait is how long Query keeps trying when another ferry holds the
// workspace but does not answer: a ferry opens the workspace a moment before
// it serves queries, and stops serving a moment (a final checkpoint) before
// it lets go, so a query at either moment waits rather than fails.
const holderWait = 5 * time.Second

// Query runs one read-only SELECT over the workspace in dir and returns its
// result; the caller releases the reader, which also closes whatever the
// query opened. The SQL is checked by CheckReadOnlySQL first.
//
// Query reads ferry.duckdb itself, read-only, when it can. DuckDB lets no
// other process open the file while one writes it, so when a ferry is
// extracting or loading, Query asks that ferry instead, through its query
// socket (see ServeQueries), and gets the same result as an Arrow stream.
// When the process that holds the workspace serves no queries, the error (a
// *WorkspaceHeldError) names it. A query the SQL is at fault for returns a
// *QueryError, from either path.
func Query(ctx context.Context, dir, query string) (array.RecordReader, error) {
	deadline := time.Now().Add(holderWait)
	for {
		rdr, err := queryLocal(ctx, dir, query)
		var held *WorkspaceHeldError
		if !errors.As(err, &held) {
			return rdr, err
		}
		rdr, err = queryRemote(ctx, dir, query)
		if !errors.Is(err, errNoQueryServer) {
			return rdr, err
		}
		if !held.byFerry() || time.Now().After(deadline) {
			return nil, held
		}
		select {
		case <-ctx.Done():
			return nil, held
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// QuerySummary reads the four-column summary (as Summary does) through
// Query, so that it works while another ferry writes the workspace.
func QuerySummary(ctx context.Context, dir string) ([]EntityCounts, error) {
	rdr, err := Query(ctx, dir, `SELECT entity, available, migrated, failed, skipped FROM migration_summary`)
	if err != nil {
		return nil, fmt.Errorf("read the migration summary: %w", err)
	}
	defer rdr.Release()
	got := map[string]EntityCounts{}
	for rdr.Next() {
		rec := rdr.RecordBatch()
		entity, ok := rec.Column(0).(*array.String)
		if !ok {
			return nil, fmt.Errorf("read the migration summary: entity is %s, not text", rec.Column(0).DataType())
		}
		for i := range int(rec.NumRows()) {
			// Value aliases the batch's memory, which goes with the batch.
			c := EntityCounts{Entity: strings.Clone(entity.Value(i))}
			for j, dst := range []*int64{&c.Available, &c.Migrated, &c.Failed, &c.Skipped} {
				n, ok := rec.Column(j + 1).(*array.Int64)
				if !ok {
					return nil, fmt.Errorf("read the migration summary: %s is %s, not BIGINT", rec.ColumnName(j+1), rec.Column(j+1).DataType())
				}
				*dst = n.Value(i)
			}
			got[c.Entity] = c
		}
	}
	if err := rdr.Err(); err != nil {
		return nil, fmt.Errorf("read the migration summary: %w", err)
	}
	out := make([]EntityCounts, 0, len(got))
	for _, e := range SummaryEntities() {
		c := got[e]
		c.Entity = e
		out = append(out, c)
		delete(got, e)
	}
	// Entities a later ferry added: kept visible, in a stable order.
	rest := make([]string, 0, len(got))
	for e := range got {
		rest = append(rest, e)
	}
	slices.Sort(rest)
	for _, e := range rest {
		out = append(out, got[e])
	}
	return out, nil
}

// WorkspaceHeldError is a workspace another process has open for writing
// and that serves no queries, so that nothing can read it until it is done.
type WorkspaceHeldError struct {
	Dir string
	// PID and Program are the process that holds ferry.duckdb, as DuckDB
	// names it (0 and "" when it does not).
	PID     int
	Program string
}

func (e *WorkspaceHeldError) byFerry() bool {
	return strings.HasPrefix(filepath.Base(e.Program), "ferry")
}

func (e *WorkspaceHeldError) Error() string {
	who := "another process"
	if e.PID != 0 {
		who = fmt.Sprintf("process %d (%s)", e.PID, e.Program)
	}
	if e.byFerry() {
		return fmt.Sprintf("the workspace %s is open for writing by %s, which serves no queries (a ferry older than this one?): "+
			"wait for it to finish, or stop it, then run this again", e.Dir, who)
	}
	return fmt.Sprintf("the workspace %s is open for writing by %s, which is not a ferry that serves queries; "+
		"DuckDB lets no other process open %s while one writes it: close it in that program, or end the program, then run this again",
		e.Dir, who, FileName)
}

// lockHolder reads the process that holds a DuckDB file from DuckDB's error:
// `Could not set lock on file "…": Conflicting lock is held in /usr/bin/ferry (PID 4242)`.
var lockHolder = regexp.MustCompile(`Conflicting lock is held in (.*) \(PID (\d+)\)`)

// heldError turns the error of a read-only open into a *WorkspaceHeldError
// when another process holds the workspace, and returns it as it is
// otherwise.
func heldError(dir string, err error) error {
	msg := err.Error()
	if !strings.Contains(msg, "Could not set lock on file") && !strings.Contains(msg, "Conflicting lock") {
		return err
	}
	held := &WorkspaceHeldError{Dir: dir}
	if m := lockHolder.FindStringSubmatch(msg); m != nil {
		held.Program = m[1]
		held.PID, _ = strconv.Atoi(m[2])
	}
	return held
}

// queryLocal runs the query on ferry.duckdb opened read-only.
func queryLocal(ctx context.Context, dir, query string) (array.RecordReader, error) {
	db, err := OpenReadOnly(ctx, dir)
	if err != nil {
		return nil, heldError(dir, err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("query the workspace %s: %w", dir, err)
	}
	rdr, err := runQuery(ctx, conn, db, query, false)
	if err != nil {
		conn.Close()
		db.Close()
		return nil, err
	}
	rdr.closers = append(rdr.closers, conn.Close, db.Close)
	return rdr, nil
}

// runQuery checks and runs a query on conn and returns its result with the
// columns' DuckDB types in the schema. With readOnlyTx, the query runs in a
// read-only transaction that is rolled back when the reader is released
// (the served path: the writer's own DuckDB could write). catalog is where
// the tables are listed when the query names one that does not exist
// (conn's transaction is aborted by then). The caller closes conn after
// releasing the reader, or at once on an error.
func runQuery(ctx context.Context, conn *sql.Conn, catalog *sql.DB, query string, readOnlyTx bool) (*queryReader, error) {
	if err := CheckReadOnlySQL(ctx, conn, query); err != nil {
		return nil, err
	}
	// Before the transaction: DESCRIBE fails on SHOW and SUMMARIZE, and a
	// failed statement would abort the transaction the query runs in.
	types := columnTypes(ctx, conn, query)
	var rollback func() error
	if readOnlyTx {
		// A write in a READ ONLY transaction fails, whatever slipped
		// through the check; and the rollback ends it whatever happened.
		if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION READ ONLY"); err != nil {
			return nil, queryFailure(ctx, catalog, err)
		}
		rollback = func() error {
			_, err := conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
			return err
		}
	}
	var src array.RecordReader
	ar, err := arrowOf(conn)
	if err == nil {
		src, err = ar.QueryContext(ctx, query)
	}
	if err != nil {
		if rollback != nil {
			rollback()
		}
		return nil, queryFailure(ctx, catalog, err)
	}
	schema := src.Schema()
	if len(types) == schema.NumFields() {
		fields := schema.Fields()
		for i := range fields {
			md := fields[i].Metadata
			// Clone: Keys and Values are the metadata's own slices.
			fields[i].Metadata = arrow.NewMetadata(append(slices.Clone(md.Keys()), DuckDBTypeKey), append(slices.Clone(md.Values()), types[i]))
		}
		md := schema.Metadata()
		schema = arrow.NewSchema(fields, &md)
	}
	rdr := newQueryReader(src, schema)
	if rollback != nil {
		rdr.closers = append(rdr.closers, rollback)
	}
	return rdr, nil
}

// columnTypes returns the DuckDB type of each column of a query's result,
// or nil when DuckDB cannot say. DESCRIBE binds the query without running
// it; the query was checked to be one SELECT, so DESCRIBE cannot make it
// more than that.
func columnTypes(ctx context.Context, conn *sql.Conn, query string) []string {
	rows, err := conn.QueryContext(ctx, "DESCRIBE "+query)
	if err != nil {
		return nil // DESCRIBE takes no SHOW or SUMMARIZE: the types are plain then
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil || len(cols) < 2 {
		return nil
	}
	var types []string
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil
		}
		t, _ := vals[1].(string)
		types = append(types, t)
	}
	if rows.Err() != nil {
		return nil
	}
	return types
}

// queryFailure words why DuckDB did not run a query: a *QueryError when the
// SQL is at fault (with the workspace's tables and views when it names
// something that is not there), the context's error when the query was
// stopped, the error itself otherwise.
func queryFailure(ctx context.Context, catalog *sql.DB, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("query stopped: %w", context.Cause(ctx))
	}
	var de *duckdb.Error
	if !errors.As(err, &de) || !sqlAtFault(de.Type) {
		return fmt.Errorf("query the workspace: %w", err)
	}
	msg := strings.TrimSpace(de.Msg)
	if de.Type == duckdb.ErrorTypeCatalog || de.Type == duckdb.ErrorTypeBinder {
		if list := relationList(ctx, catalog); list != "" {
			msg += "\nThe workspace has " + list
		}
	}
	return &QueryError{Kind: QueryInvalid, Message: msg}
}

// sqlAtFault says whether a DuckDB error is the query's fault rather than
// the workspace's or the system's.
func sqlAtFault(t duckdb.ErrorType) bool {
	switch t {
	case duckdb.ErrorTypeCatalog, duckdb.ErrorTypeBinder, duckdb.ErrorTypeParser, duckdb.ErrorTypeSyntax,
		duckdb.ErrorTypeConversion, duckdb.ErrorTypeOutOfRange, duckdb.ErrorTypeDivideByZero, duckdb.ErrorTypeDecimal,
		duckdb.ErrorTypeInvalidInput, duckdb.ErrorTypeMismatchType, duckdb.ErrorTypeInvalidType,
		duckdb.ErrorTypeNotImplemented, duckdb.ErrorTypeExpression, duckdb.ErrorTypeParameterNotResolved,
		duckdb.ErrorTypeParameterNotAllowed, duckdb.ErrorTypePermission, duckdb.ErrorTypeMissingExtension,
		duckdb.ErrorTypeAutoLoad, duckdb.ErrorTypeSequence,
		// A write in the served query's READ ONLY transaction.
		duckdb.ErrorTypeTransaction:
		return true
	}
	return false
}

// relationList lists the workspace's own tables and views as
// "tables: a, b; views: c", or "" when it cannot.
func relationList(ctx context.Context, db *sql.DB) string {
	rows, err := db.QueryContext(ctx, `
SELECT 'tables', table_name FROM duckdb_tables() WHERE NOT internal AND NOT temporary AND database_name = current_database() AND schema_name = 'main'
UNION ALL
SELECT 'views', view_name FROM duckdb_views() WHERE NOT internal AND NOT temporary AND database_name = current_database() AND schema_name = 'main'
ORDER BY 1, 2`)
	if err != nil {
		return ""
	}
	defer rows.Close()
	names := map[string][]string{}
	for rows.Next() {
		var kind, name string
		if err := rows.Scan(&kind, &name); err != nil {
			return ""
		}
		names[kind] = append(names[kind], name)
	}
	if rows.Err() != nil {
		return ""
	}
	var parts []string
	for _, kind := range []string{"tables", "views"} {
		if len(names[kind]) > 0 {
			parts = append(parts, kind+": "+strings.Join(names[kind], ", "))
		}
	}
	return strings.Join(parts, "; ")
}

// queryReader is the result Query returns: a stream of record batches that,
// when released, releases its source and closes what the query opened (a
// connection and database, or a response body).
type queryReader struct {
	refs   atomic.Int64
	src    array.RecordReader
	schema *arrow.Schema
	cur    arrow.RecordBatch
	// end, when set, runs once when the source has no more batches, with
	// the source's error (nil at a clean end), and returns the stream's
	// error: a served query's trailer may hold one, and a cut stream says
	// why it was cut.
	end     func(error) error
	closers []func() error
	err     error
}

func newQueryReader(src array.RecordReader, schema *arrow.Schema) *queryReader {
	r := &queryReader{src: src, schema: schema}
	r.refs.Store(1)
	return r
}

func (r *queryReader) Retain()               { r.refs.Add(1) }
func (r *queryReader) Schema() *arrow.Schema { return r.schema }

// Release releases the reader; the last release closes what the query opened.
func (r *queryReader) Release() {
	if r.refs.Add(-1) != 0 {
		return
	}
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	r.src.Release()
	for _, c := range r.closers {
		c() // read-only handles: nothing is lost when closing one fails
	}
}

// Next moves to the next batch.
func (r *queryReader) Next() bool {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	if r.err != nil {
		return false
	}
	if !r.src.Next() {
		r.err = r.src.Err()
		if r.end != nil {
			r.err = r.end(r.err)
			r.end = nil
		}
		return false
	}
	rec := r.src.RecordBatch()
	if r.schema == rec.Schema() {
		rec.Retain()
		r.cur = rec
	} else {
		// Same columns, with the DuckDB types in the schema.
		r.cur = array.NewRecordBatch(r.schema, rec.Columns(), rec.NumRows())
	}
	return true
}

func (r *queryReader) RecordBatch() arrow.RecordBatch { return r.cur }

// Record is RecordBatch.
//
// Deprecated: Use RecordBatch.
func (r *queryReader) Record() arrow.RecordBatch { return r.cur }

// Err is the error that ended the stream, if any.
func (r *queryReader) Err() error { return r.err }

// QuerySocketName is the query socket's name in the workspace folder.
const QuerySocketName = ".ferry-query.sock"

// maxSocketPath is the longest unix socket path every platform ferry runs
// on takes: sun_path holds 104 bytes on macOS and the BSDs (108 on Linux),
// the terminating NUL included.
const maxSocketPath = 103

// QuerySocket returns the path of the query socket of the workspace in dir,
// which the ferry that writes the workspace serves (ServeQueries) and Query
// connects to: <dir>/.ferry-query.sock when that path is short enough for a
// unix socket, else <temp>/ferry-<uid>/<hash of the folder>.sock. Both sides
// compute it from the folder's real path, so symbolic links and relative
// paths lead to the same socket.
func QuerySocket(dir string) string {
	real := realDir(dir)
	p := filepath.Join(real, QuerySocketName)
	if len(p) <= maxSocketPath {
		return p
	}
	sum := sha256.Sum256([]byte(real))
	return filepath.Join(socketTempDir(), hex.EncodeToString(sum[:8])+".sock")
}

// socketTempDir is the private folder that holds the query sockets of
// workspaces whose paths are too long for one.
func socketTempDir() string {
	return filepath.Join(os.TempDir(), fmt.Sprintf("ferry-%d", os.Getuid()))
}

// realDir is dir as an absolute path with symbolic links resolved, or as
// absolute as it gets when it does not exist.
func realDir(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return filepath.Clean(dir)
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		return real
	}
	return abs
}

// fileOwner returns the user id that owns a file, where the system has
// such ids. (The field is in syscall.Stat_t, which only Unix systems have;
// this package keeps no per-system files, so it is read by name.)
func fileOwner(fi os.FileInfo) (int, bool) {
	v := reflect.ValueOf(fi.Sys())
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return 0, false
	}
	f := v.FieldByName("Uid")
	if !f.IsValid() || !f.CanUint() {
		return 0, false
	}
	return int(f.Uint()), true
}

// ownedByMe says whether a file belongs to this process's user (true where
// the system has no owners).
func ownedByMe(fi os.FileInfo) bool {
	uid, ok := fileOwner(fi)
	return !ok || os.Getuid() < 0 || uid == os.Getuid()
}

// errNoQueryServer: nothing answers on the workspace's query socket.
var errNoQueryServer = errors.New("no ferry serves queries for this workspace")

// Protocol of the query socket: HTTP/1.1.
const (
	// queryPath takes a POST of queryRequest and answers an Arrow IPC stream
	// (arrowStreamType) or a queryErrorBody.
	queryPath       = "/query"
	arrowStreamType = "application/vnd.apache.arrow.stream"
	// errorTrailer carries an error that ended a stream after it began.
	errorTrailer = "Ferry-Query-Error"
)

// queryRequest is the body of POST /query.
type queryRequest struct {
	SQL string `json:"sql"`
}

// queryErrorBody is the answer to a query that did not run.
type queryErrorBody struct {
	// Kind is a QueryErrorKind, or one of busy, timeout, stopping, internal.
	Kind    string `json:"kind"`
	Message string `json:"message"`
}

// Kinds of errors the query server answers besides QueryErrorKinds.
const (
	serverBusy     = "busy"
	serverTimeout  = "timeout"
	serverStopping = "stopping"
	serverInternal = "internal"
)

// queryRemote asks the ferry that serves the workspace's query socket to
// run the query. It returns errNoQueryServer when no ferry answers there.
func queryRemote(ctx context.Context, dir, query string) (array.RecordReader, error) {
	path := QuerySocket(dir)
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode()&os.ModeSocket == 0 {
		return nil, errNoQueryServer
	}
	if !ownedByMe(fi) {
		// Someone else's socket: it would get the query and could answer
		// anything. Only the user's own ferry is asked.
		return nil, fmt.Errorf("%w (%s belongs to another user)", errNoQueryServer, path)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, os.ErrNotExist) {
			return nil, errNoQueryServer // a socket left by a ferry that ended
		}
		return nil, fmt.Errorf("connect to the ferry that holds the workspace (%s): %w", path, err)
	}
	var dialed atomic.Pointer[net.Conn]
	dialed.Store(&conn)
	client := &http.Client{Transport: &http.Transport{
		// The connection was made above, so that "nothing there" is told
		// apart from a failed query; the transport gets it once.
		DialContext: func(context.Context, string, string) (net.Conn, error) {
			if c := dialed.Swap(nil); c != nil {
				return *c, nil
			}
			return nil, errors.New("the query connection is used up")
		},
		DisableKeepAlives:  true,
		DisableCompression: true,
	}}
	defer client.CloseIdleConnections()
	body, err := json.Marshal(queryRequest{SQL: query})
	if err != nil {
		conn.Close()
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://ferry"+queryPath, strings.NewReader(string(body)))
	if err != nil {
		conn.Close()
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		if c := dialed.Swap(nil); c != nil {
			(*c).Close()
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("query stopped: %w", context.Cause(ctx))
		}
		return nil, fmt.Errorf("ask the ferry that holds the workspace (%s): %w", path, err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != arrowStreamType {
		defer resp.Body.Close()
		return nil, remoteError(resp)
	}
	src, err := ipc.NewReader(resp.Body, ipc.WithAllocator(memory.DefaultAllocator))
	if err != nil {
		resp.Body.Close()
		return nil, fmt.Errorf("read the answer of the ferry that holds the workspace: %w", err)
	}
	rdr := newQueryReader(src, src.Schema())
	rdr.end = func(err error) error {
		if err == nil {
			// The trailer arrives after the stream: read to the end first.
			_, err = io.Copy(io.Discard, resp.Body)
		}
		if msg := resp.Trailer.Get(errorTrailer); msg != "" {
			var e queryErrorBody
			if json.Unmarshal([]byte(msg), &e) != nil {
				return fmt.Errorf("the ferry that holds the workspace: %s", msg)
			}
			if e.Kind == serverStopping {
				return errors.New("the ferry that held the workspace let go of it during the query: run the query again")
			}
			return e.err()
		}
		if err != nil {
			return fmt.Errorf("read the answer of the ferry that holds the workspace (did it stop?): %w", err)
		}
		return nil
	}
	rdr.closers = append(rdr.closers, resp.Body.Close)
	return rdr, nil
}

// remoteError reads the error a query server answered.
func remoteError(resp *http.Response) error {
	var e queryErrorBody
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxQueryBytes))
	if err := json.Unmarshal(b, &e); err != nil || e.Message == "" {
		return fmt.Errorf("the ferry that holds the workspace answered %s: %s", resp.Status, strings.TrimSpace(string(b)))
	}
	return e.err()
}

// err turns an error answer back into the error the server had.
func (e queryErrorBody) err() error {
	switch k := QueryErrorKind(e.Kind); k {
	case QueryRefused, QuerySyntax, QueryInvalid:
		return &QueryError{Kind: k, Message: e.Message}
	}
	if e.Kind == serverStopping {
		return errNoQueryServer // it is letting go of the workspace: read it directly
	}
	return fmt.Errorf("the ferry that holds the workspace: %s", e.Message)
}

// ColumnNames returns the names of a result's columns, a repeated name
// suffixed _1, _2, … as DuckDB does in a subquery (SELECT t.id, c.id gives
// two columns named id), for formats whose columns need distinct names.
func ColumnNames(schema *arrow.Schema) []string {
	used := make(map[string]bool, schema.NumFields())
	out := make([]string, schema.NumFields())
	for i, f := range schema.Fields() {
		name := f.Name
		for n := 1; used[name]; n++ {
			name = f.Name + "_" + strconv.Itoa(n)
		}
		used[name] = true
		out[i] = name
	}
	return out
}

// WriteParquet writes a query's result (from Query) to a new Parquet file
// at path, with DuckDB's own Parquet writer: it holds every DuckDB type
// (JSON columns as Parquet's JSON type, intervals, decimals, nested lists
// and structs), which Arrow's Parquet writer does not all. The writer is a
// DuckDB of its own, in memory, that scans the result through Arrow and
// runs only the COPY made here: people's SQL never runs where files can be
// written.
func WriteParquet(ctx context.Context, rdr array.RecordReader, path string) error {
	db, err := openDuckDB("?autoload_known_extensions=false&autoinstall_known_extensions=false&allow_community_extensions=false")
	if err != nil {
		return fmt.Errorf("write Parquet: %w", err)
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("write Parquet: %w", err)
	}
	defer conn.Close()

	// Distinct column names, which a table needs; the DuckDB types ride
	// along in the fields' metadata.
	names := ColumnNames(rdr.Schema())
	fields := rdr.Schema().Fields()
	cols := make([]string, len(fields))
	for i := range fields {
		fields[i].Name = names[i]
		cols[i] = QuoteIdent(names[i])
		if DuckDBType(fields[i]) == "JSON" {
			// Arrow carries JSON as text; Parquet has a JSON type for it.
			cols[i] = fmt.Sprintf("CAST(%s AS JSON) AS %s", cols[i], cols[i])
		}
	}
	md := rdr.Schema().Metadata()
	rdr.Retain() // the renamed view releases it
	renamed := newQueryReader(rdr, arrow.NewSchema(fields, &md))
	defer renamed.Release()

	const view = "ferry_query_result"
	var release func()
	ar, err := arrowOf(conn)
	if err == nil {
		release, err = ar.RegisterView(renamed, view)
	}
	if err != nil {
		return fmt.Errorf("write Parquet: %w", err)
	}
	defer release()
	if len(cols) == 0 {
		return errors.New("write Parquet: the result has no columns")
	}
	q := fmt.Sprintf("COPY (SELECT %s FROM %s) TO '%s' (FORMAT parquet)",
		strings.Join(cols, ", "), QuoteIdent(view), strings.ReplaceAll(path, "'", "''"))
	if _, err := conn.ExecContext(ctx, q); err != nil {
		if rerr := rdr.Err(); rerr != nil {
			return rerr // the query failed while it was being written
		}
		return fmt.Errorf("write Parquet %s: %w", path, err)
	}
	if err := rdr.Err(); err != nil {
		return err
	}
	return nil
}
