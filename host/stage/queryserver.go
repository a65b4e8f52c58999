package stage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Defaults of QueryServerOptions.
const (
	DefaultQueryTimeout         = 2 * time.Minute
	DefaultMaxConcurrentQueries = 2
)

// QueryServerOptions tune the query server of a ferry that writes the
// workspace. Served queries run on the writer's own DuckDB, beside its
// extract or load, so they are bounded in time and number.
type QueryServerOptions struct {
	// Timeout bounds each query, from its arrival (waiting for a turn
	// included) to the end of its result; 0 means DefaultQueryTimeout.
	// DuckDB has no statement timeout of its own: the query's context
	// interrupts it.
	Timeout time.Duration
	// MaxConcurrent is how many queries run at once (DuckDB gives each one
	// all of its threads); more wait for a turn. 0 means
	// DefaultMaxConcurrentQueries.
	MaxConcurrent int
	// Logger gets a line per query (never its SQL, which may quote
	// customers' data); nil discards.
	Logger *slog.Logger
}

func (o QueryServerOptions) withDefaults() QueryServerOptions {
	if o.Timeout <= 0 {
		o.Timeout = DefaultQueryTimeout
	}
	if o.MaxConcurrent <= 0 {
		o.MaxConcurrent = DefaultMaxConcurrentQueries
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// errServerStopping is the cause of the queries a stopping server ends.
var errServerStopping = errors.New("the query server is stopping")

// ServeQueries serves read-only queries over the workspace on its query
// socket (QuerySocket) with the default options; see ServeQueriesWith.
func (w *Workspace) ServeQueries(ctx context.Context) (stop func() error, err error) {
	return w.ServeQueriesWith(ctx, QueryServerOptions{})
}

// ServeQueriesWith serves read-only queries over the workspace on its query
// socket until stop is called or ctx is done. A ferry that holds the
// workspace open for writing runs it, so that `ferry query` and `ferry
// report` (Query) work meanwhile: DuckDB lets no other process open the
// file then.
//
// The socket is its owner's only (mode 0600, made in a private folder and
// moved into place, so there is no moment when others could connect); a
// socket left by a ferry that crashed is replaced. Each query is checked by
// CheckReadOnlySQL, runs in a read-only transaction that is always rolled
// back, within opts.Timeout and at most opts.MaxConcurrent at a time, and
// is answered as an Arrow IPC stream.
//
// Call stop before closing the workspace: it ends the queries under way,
// waits for them, and removes the socket.
func (w *Workspace) ServeQueriesWith(ctx context.Context, opts QueryServerOptions) (stop func() error, err error) {
	qs := newQueryServer(w, opts)
	opts = qs.opts
	path := QuerySocket(w.dir)
	ln, sock, err := listenPrivate(path)
	if err != nil {
		return nil, fmt.Errorf("serve queries on %s: %w", path, err)
	}
	base, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	srv := &http.Server{
		Handler:           qs,
		BaseContext:       func(net.Listener) context.Context { return base },
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second, // the request: a query's text
		ErrorLog:          slog.NewLogLogger(opts.Logger.Handler(), slog.LevelDebug),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	var once sync.Once
	var stopErr error
	stop = func() error {
		once.Do(func() {
			// The workspace is about to close: queries under way end now
			// (DuckDB is interrupted), and new ones find no socket.
			cancel(errServerStopping)
			sctx, done := context.WithTimeout(context.Background(), 10*time.Second)
			defer done()
			if err := srv.Shutdown(sctx); err != nil {
				// A client that does not read its answer: cut it off.
				srv.Close()
			}
			// Close does not wait for the handlers; the workspace must
			// not close under them.
			qs.drain()
			if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) && stopErr == nil {
				stopErr = fmt.Errorf("serve queries: %w", err)
			}
			// Remove the socket unless something else took its place.
			if fi, err := os.Lstat(path); err == nil && os.SameFile(fi, sock) {
				if err := os.Remove(path); err != nil && stopErr == nil {
					stopErr = fmt.Errorf("remove the query socket: %w", err)
				}
			}
		})
		return stopErr
	}
	go func() {
		select {
		case <-ctx.Done():
			stop()
		case <-base.Done(): // stopped
		}
	}()
	return stop, nil
}

// listenPrivate listens on a unix socket at path that only this user can
// connect to, and returns the socket file's identity (to remove it later
// only if it is still this one).
//
// The socket is made in a fresh 0700 folder beside path, restricted to
// 0600, then renamed to path: a socket made at path directly would be open
// to others (per the umask) until chmod, and the umask is process-wide, not
// something to change while other goroutines create files. A socket at path
// that nothing answers on is one a crashed ferry left: the rename replaces
// it.
func listenPrivate(path string) (net.Listener, os.FileInfo, error) {
	parent := filepath.Dir(path)
	if parent == socketTempDir() {
		if err := privateDir(parent); err != nil {
			return nil, nil, err
		}
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, nil, fmt.Errorf("%s exists and is not a socket: move it away", path)
		}
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			return nil, nil, errors.New("a query server answers there already (is this workspace served twice?)")
		}
	}
	tmp, err := os.MkdirTemp(parent, ".fq")
	if err != nil {
		return nil, nil, err
	}
	defer os.RemoveAll(tmp)
	// QuerySocket leaves room for this longer name: ".fq" + at most 10
	// digits + "/s" is no longer than the socket's own name.
	tmpSock := filepath.Join(tmp, "s")
	ln, err := net.Listen("unix", tmpSock)
	if err != nil {
		return nil, nil, err
	}
	// The listener must not unlink tmpSock's name on close: the name moves.
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	fail := func(err error) (net.Listener, os.FileInfo, error) {
		ln.Close()
		return nil, nil, err
	}
	if err := os.Chmod(tmpSock, 0o600); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmpSock, path); err != nil {
		return fail(err)
	}
	fi, err := os.Lstat(path)
	if err != nil {
		return fail(err)
	}
	return ln, fi, nil
}

// privateDir makes dir, a folder in the shared temporary folder, and
// checks that it is this user's and no one else's: anyone can create a
// folder there first, and a folder others can enter would let them reach
// the socket.
func privateDir(dir string) error {
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return err
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() || !ownedByMe(fi) || fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("%s is not a private folder of this user (mode %v): remove it", dir, fi.Mode())
	}
	return nil
}

// queryServer answers POST /query.
type queryServer struct {
	w     *Workspace
	opts  QueryServerOptions
	slots chan struct{} // one per query running

	// The requests being answered, for stop to wait on: once drained, the
	// server takes no more.
	mu      sync.Mutex
	active  int
	drained bool
	idle    *sync.Cond
}

func newQueryServer(w *Workspace, opts QueryServerOptions) *queryServer {
	opts = opts.withDefaults()
	s := &queryServer{w: w, opts: opts, slots: make(chan struct{}, opts.MaxConcurrent)}
	s.idle = sync.NewCond(&s.mu)
	return s
}

// enter counts a request in, unless the server is drained.
func (s *queryServer) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.drained {
		return false
	}
	s.active++
	return true
}

func (s *queryServer) leave() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.active--; s.active == 0 {
		s.idle.Broadcast()
	}
}

// drain takes no more requests and waits for those under way.
func (s *queryServer) drain() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.drained = true
	for s.active > 0 {
		s.idle.Wait()
	}
}

func (s *queryServer) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	if !s.enter() {
		writeQueryError(rw, http.StatusServiceUnavailable, serverStopping, "the ferry that holds the workspace is letting go of it")
		return
	}
	defer s.leave()
	if r.URL.Path != queryPath {
		writeQueryError(rw, http.StatusNotFound, serverInternal, "no such endpoint: "+r.URL.Path)
		return
	}
	if r.Method != http.MethodPost {
		rw.Header().Set("Allow", http.MethodPost)
		writeQueryError(rw, http.StatusMethodNotAllowed, serverInternal, "POST a query")
		return
	}
	var req queryRequest
	if err := json.NewDecoder(http.MaxBytesReader(rw, r.Body, 2*maxQueryBytes)).Decode(&req); err != nil {
		writeQueryError(rw, http.StatusBadRequest, serverInternal, "read the request: "+err.Error())
		return
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(r.Context(), s.opts.Timeout)
	defer cancel()
	select {
	case s.slots <- struct{}{}:
		defer func() { <-s.slots }()
	case <-ctx.Done():
		s.fail(rw, ctx, fmt.Errorf("wait for a turn: %w", ctx.Err()), start, true)
		return
	}
	// A client that stops reading must not hold a connection of the
	// writer's DuckDB past the query's time (plus a moment to say so).
	if deadline, ok := ctx.Deadline(); ok {
		http.NewResponseController(rw).SetWriteDeadline(deadline.Add(5 * time.Second))
	}
	// The query sees what the running ferry has recorded so far.
	if err := s.w.sync(ctx); err != nil {
		s.fail(rw, ctx, err, start, false)
		return
	}
	conn, err := s.w.db.Conn(ctx)
	if err != nil {
		s.fail(rw, ctx, err, start, false)
		return
	}
	defer conn.Close()
	rdr, err := runQuery(ctx, conn, s.w.db, req.SQL, true)
	if err != nil {
		s.fail(rw, ctx, err, start, false)
		return
	}
	defer rdr.Release()

	rw.Header().Set("Content-Type", arrowStreamType)
	rw.Header().Set("Trailer", errorTrailer)
	rw.WriteHeader(http.StatusOK)
	wr := ipc.NewWriter(rw, ipc.WithSchema(rdr.Schema()), ipc.WithAllocator(memory.DefaultAllocator))
	var rows int64
	for rdr.Next() {
		rec := rdr.RecordBatch()
		if err := wr.Write(rec); err != nil {
			// The client is gone or too slow: nobody reads a trailer.
			s.opts.Logger.Debug("query answer cut", "error", err)
			return
		}
		rows += rec.NumRows()
	}
	streamErr := rdr.Err()
	if err := wr.Close(); err != nil {
		s.opts.Logger.Debug("query answer cut", "error", err)
		return
	}
	if streamErr != nil {
		kind, _, msg := s.classify(ctx, streamErr, false)
		b, _ := json.Marshal(queryErrorBody{Kind: kind, Message: msg})
		rw.Header().Set(errorTrailer, string(b))
		s.opts.Logger.Info("query failed while answering", "kind", kind, "rows", rows, "took", time.Since(start))
		return
	}
	s.opts.Logger.Debug("query answered", "rows", rows, "took", time.Since(start))
}

// fail answers a query that did not run.
func (s *queryServer) fail(rw http.ResponseWriter, ctx context.Context, err error, start time.Time, waiting bool) {
	kind, status, msg := s.classify(ctx, err, waiting)
	if kind == serverInternal {
		s.opts.Logger.Warn("query failed", "error", err, "took", time.Since(start))
	} else {
		s.opts.Logger.Debug("query refused", "kind", kind, "took", time.Since(start))
	}
	writeQueryError(rw, status, kind, msg)
}

// classify words an error for the client, with its kind and HTTP status.
func (s *queryServer) classify(ctx context.Context, err error, waiting bool) (kind string, status int, msg string) {
	if qe, ok := asQueryError(err); ok {
		return string(qe.Kind), http.StatusBadRequest, qe.Message
	}
	switch {
	case errors.Is(context.Cause(ctx), errServerStopping):
		return serverStopping, http.StatusServiceUnavailable, "the ferry that holds the workspace is letting go of it"
	case errors.Is(ctx.Err(), context.DeadlineExceeded) && waiting:
		return serverBusy, http.StatusServiceUnavailable, fmt.Sprintf(
			"%d queries kept the ferry that holds the workspace busy for %v (its limit for a query): try again when they are done",
			s.opts.MaxConcurrent, s.opts.Timeout)
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return serverTimeout, http.StatusGatewayTimeout, fmt.Sprintf(
			"the query ran longer than %v, the limit while another ferry writes the workspace: narrow it (a WHERE, a LIMIT), or run it when that ferry is done",
			s.opts.Timeout)
	}
	return serverInternal, http.StatusInternalServerError, err.Error()
}

// writeQueryError answers an error as JSON.
func writeQueryError(rw http.ResponseWriter, status int, kind, msg string) {
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(status)
	b, _ := json.Marshal(queryErrorBody{Kind: kind, Message: msg})
	io.WriteString(rw, string(b)+"\n")
}
