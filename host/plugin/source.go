package plugin

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	sourcev1 "github.com/ferryhq/ferry/sdk/proto/source/v1"
	"github.com/ferryhq/ferry/sdk/source"
)

// Options configure a plugin launch.
type Options struct {
	// SHA256, when set, pins the plugin binary: a binary whose SHA-256 (hex)
	// differs is refused before it runs.
	SHA256 string
	// Logger receives the plugin's logs; nil discards them.
	Logger *slog.Logger
	// StartTimeout bounds the plugin's start-up handshake (default 30 s).
	StartTimeout time.Duration
	// IdleTimeout is how long a read may go without any message before the
	// plugin is called hung (default DefaultIdleTimeout). The SDK sends a
	// heartbeat every source.HeartbeatInterval, so only a frozen or dead
	// plugin stays silent this long.
	IdleTimeout time.Duration
	// StallTimeout is how long a read may go without a record, a checkpoint
	// or a progress change, heartbeats aside, before the plugin is called
	// stuck (default DefaultStallTimeout): long enough to wait out any rate
	// limit a source imposes.
	StallTimeout time.Duration
}

// Default timeouts of a read.
const (
	DefaultIdleTimeout  = 8 * source.HeartbeatInterval
	DefaultStallTimeout = 15 * time.Minute
)

// Source is a running source plugin.
type Source struct {
	name   string
	path   string
	opts   Options
	client *goplugin.Client // nil for a connector linked in-process (Local)
	rpc    sourcev1.SourceClient
	logger *slog.Logger

	mu sync.Mutex
	// abort, while a read runs, stops it with a cause; pending is a cause
	// that came between reads (stdout written after a read ended).
	abort     context.CancelCauseFunc
	pending   error
	stopAfter error
}

// passEnv are the only host environment variables a plugin sees: what a
// network client may need. Everything else, the Intercom token above all,
// stays in the host.
var passEnv = []string{"PATH", "HOME", "TMPDIR", "TZ", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy", "SSL_CERT_FILE", "SSL_CERT_DIR"}

// Start launches the plugin executable at path as the source name.
func Start(ctx context.Context, name, path string, opts Options) (*Source, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 30 * time.Second
	}
	if opts.IdleTimeout == 0 {
		opts.IdleTimeout = DefaultIdleTimeout
	}
	if opts.StallTimeout == 0 {
		opts.StallTimeout = DefaultStallTimeout
	}
	s := &Source{name: name, path: path, opts: opts, logger: logger}
	var secure *goplugin.SecureConfig
	if opts.SHA256 != "" {
		sum, err := hex.DecodeString(strings.TrimPrefix(strings.ToLower(opts.SHA256), "sha256:"))
		if err != nil || len(sum) != sha256.Size {
			return nil, fmt.Errorf("plugin %s: sha256 %q is not a hex SHA-256", name, opts.SHA256)
		}
		secure = &goplugin.SecureConfig{Checksum: sum, Hash: sha256.New()}
	}
	cmd := exec.Command(path)
	for _, k := range passEnv {
		if v, ok := os.LookupEnv(k); ok {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	client := goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig:  source.Handshake(),
		VersionedPlugins: source.PluginSets(nil),
		Cmd:              cmd,
		SkipHostEnv:      true,
		SecureConfig:     secure,
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		AutoMTLS:         true,
		StartTimeout:     opts.StartTimeout,
		Logger:           newHCLog(logger, name),
		// stdout belongs to the go-plugin handshake; a plugin that prints
		// there has a bug that could corrupt the protocol of another host.
		// go-plugin relays it here instead: stop the read and say so.
		SyncStdout: writerFunc(func(p []byte) (int, error) {
			s.stop(&StdoutError{Output: strings.TrimSpace(string(p))})
			return len(p), nil
		}),
		SyncStderr: io.Discard,
		GRPCDialOptions: []grpc.DialOption{
			grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(source.MaxMessageBytes), grpc.MaxCallSendMsgSize(source.MaxMessageBytes)),
		},
	})
	started := make(chan error, 1)
	var raw any
	go func() {
		cp, err := client.Client()
		if err == nil {
			raw, err = cp.Dispense(source.PluginName)
		}
		started <- err
	}()
	select {
	case err := <-started:
		if err != nil {
			client.Kill()
			if errors.Is(err, goplugin.ErrChecksumsDoNotMatch) {
				return nil, fmt.Errorf("plugin %s at %s: its SHA-256 does not match the sha256 pinned in the config; refusing to run it", name, path)
			}
			return nil, fmt.Errorf("start plugin %s (%s): %w", name, path, err)
		}
	case <-ctx.Done():
		client.Kill()
		return nil, fmt.Errorf("start plugin %s: %w", name, ctx.Err())
	}
	rpc, ok := raw.(sourcev1.SourceClient)
	if !ok {
		client.Kill()
		return nil, fmt.Errorf("plugin %s: dispensed %T, not a source", name, raw)
	}
	s.client, s.rpc = client, rpc
	return s, nil
}

// StdoutError is a plugin writing to stdout, which the plugin protocol owns.
type StdoutError struct{ Output string }

func (e *StdoutError) Error() string {
	out := e.Output
	if len(out) > 200 {
		out = out[:200] + "…"
	}
	return fmt.Sprintf("the plugin wrote to stdout, which belongs to the plugin protocol (plugins log to stderr): %q", out)
}

// HungError is a read that stopped answering.
type HungError struct {
	// Silent says nothing came at all, not even the SDK's heartbeat: the
	// process is frozen or dead. Otherwise it sent heartbeats but no data.
	Silent bool
	For    time.Duration
}

func (e *HungError) Error() string {
	if e.Silent {
		return fmt.Sprintf("the plugin stopped answering: nothing for %s, not even a heartbeat; it was stopped", e.For)
	}
	return fmt.Sprintf("the plugin made no progress for %s (no record, checkpoint or progress); it was stopped", e.For)
}

// stop aborts the read under way, if any, with cause; with none under way,
// the next read fails with it.
func (s *Source) stop(cause error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.abort == nil {
		s.pending = cause
		return
	}
	// go-plugin relays stdout on a stream of its own, often ahead of the
	// read's messages in flight: let the read take the next one, so the
	// error can name the stream and the checkpoint, and stop it at once
	// only if none comes.
	s.stopAfter = cause
	abort := s.abort
	time.AfterFunc(stdoutGrace, func() { abort(cause) })
}

// stdoutGrace is how long a read goes on after its plugin wrote to stdout,
// waiting for a message that says where it was.
const stdoutGrace = 2 * time.Second

// stopRequested returns the cause a read is to stop with, once a message
// came after it.
func (s *Source) stopRequested() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopAfter
}

// forceKill ends the plugin process at once.
func (s *Source) forceKill() {
	if s.client == nil {
		return
	}
	if rc := s.client.ReattachConfig(); rc != nil && rc.Pid > 0 {
		if p, err := os.FindProcess(rc.Pid); err == nil {
			p.Kill()
		}
	}
	s.client.Kill()
}

// Name is the source's name.
func (s *Source) Name() string { return s.name }

// Path is the plugin executable.
func (s *Source) Path() string { return s.path }

// Close stops the plugin process.
func (s *Source) Close() {
	if s.client != nil {
		s.client.Kill()
	}
}

// Spec is what a plugin says of itself.
type Spec struct {
	Name         string
	Version      string
	ConfigSchema string
}

// Spec asks the plugin for its name, version and config schema.
func (s *Source) Spec(ctx context.Context) (Spec, error) {
	r, err := s.rpc.Spec(ctx, &sourcev1.SpecRequest{})
	if err != nil {
		return Spec{}, s.wrap("spec", err)
	}
	return Spec{Name: r.GetName(), Version: r.GetVersion(), ConfigSchema: r.GetConfigSchemaJson()}, nil
}

// Check asks the plugin whether config is valid and the source reachable.
func (s *Source) Check(ctx context.Context, config json.RawMessage) error {
	r, err := s.rpc.Check(ctx, &sourcev1.CheckRequest{ConfigJson: config})
	if err != nil {
		return s.wrap("check", err)
	}
	if !r.GetOk() {
		return fmt.Errorf("plugin %s: check failed: %s", s.name, r.GetMessage())
	}
	return nil
}

// Stream describes a stream the plugin reads.
type Stream struct {
	Name        string
	Schema      *arrow.Schema
	CursorField string
	Emits       []string
}

// Discover lists the streams the plugin reads with config.
func (s *Source) Discover(ctx context.Context, config json.RawMessage) ([]Stream, error) {
	r, err := s.rpc.Discover(ctx, &sourcev1.DiscoverRequest{ConfigJson: config})
	if err != nil {
		return nil, s.wrap("discover", err)
	}
	var out []Stream
	for _, st := range r.GetStreams() {
		rdr, err := ipc.NewReader(bytes.NewReader(st.GetArrowSchema()))
		if err != nil {
			return nil, fmt.Errorf("plugin %s: stream %s: bad Arrow schema: %w", s.name, st.GetName(), err)
		}
		out = append(out, Stream{Name: st.GetName(), Schema: rdr.Schema(), CursorField: st.GetCursorField(), Emits: st.GetEmits()})
		rdr.Release()
	}
	return out, nil
}

// Handler receives what a read brings; stage.Ingest implements it.
type Handler interface {
	Batch(ctx context.Context, stream string, rec arrow.RecordBatch) error
	Checkpoint(ctx context.Context, stream string, cursor []byte) error
	RecordError(ctx context.Context, stream, sourceID, reason string) error
	RecordSkipped(ctx context.Context, stream, sourceID, reason string) error
}

// MarkHandler is a Handler that also hears the marks of streams that read
// the source in order of change: every record the source changed before
// through has been sent by stream, and committed with the checkpoint just
// handled (see the protocol's Checkpoint.complete_through).
type MarkHandler interface {
	Handler
	CompleteThrough(ctx context.Context, stream string, through time.Time)
}

// ReadOptions select what a read brings.
type ReadOptions struct {
	// Streams to read; empty reads all.
	Streams []string
	// Cursors are the streams' last committed cursors.
	Cursors map[string][]byte
	// Progress, when set, receives the plugin's progress reports.
	Progress func(stream string, done, total int64)
}

// ReadError is a read that stopped: it names the plugin, the stream being
// read and the last checkpoint committed for it, so a person knows where a
// rerun resumes.
type ReadError struct {
	Plugin         string
	Stream         string
	LastCheckpoint []byte // nil: nothing of this stream committed in this read
	Err            error
}

func (e *ReadError) Error() string {
	where := "before its first checkpoint"
	if e.LastCheckpoint != nil {
		where = fmt.Sprintf("after checkpoint %q", e.LastCheckpoint)
	}
	stream := e.Stream
	if stream == "" {
		stream = "(none yet)"
	}
	return fmt.Sprintf("plugin %s, stream %s, %s: %v (a rerun resumes from the last committed checkpoint)", e.Plugin, stream, where, e.Err)
}

func (e *ReadError) Unwrap() error { return e.Err }

// Read reads the selected streams into h. Batches reach h as they arrive;
// h commits them at each checkpoint.
func (s *Source) Read(ctx context.Context, config json.RawMessage, opts ReadOptions, h Handler) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	s.mu.Lock()
	s.abort = cancel
	if s.pending != nil {
		cancel(s.pending)
		s.pending = nil
	}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.abort, s.stopAfter = nil, nil
		s.mu.Unlock()
	}()
	wd := newWatchdog(s.opts.IdleTimeout, s.opts.StallTimeout)
	go wd.run(ctx, func(err error) {
		cancel(err)
		// A hung plugin will not stop on its own, and a frozen one would
		// not even answer go-plugin's polite shutdown.
		s.forceKill()
	})

	stream, err := s.rpc.Read(ctx, &sourcev1.ReadRequest{ConfigJson: config, Streams: opts.Streams, Cursors: opts.Cursors})
	current := ""
	checkpoints := map[string][]byte{}
	fail := func(err error) error {
		if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
			err = cause // why we stopped the read matters more than how the stream ended
		}
		return &ReadError{Plugin: s.name, Stream: current, LastCheckpoint: checkpoints[current], Err: err}
	}
	if err != nil {
		return fail(s.rpcErr(err))
	}
	for {
		m, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fail(s.rpcErr(err))
		}
		wd.heard(m)
		if cause := context.Cause(ctx); cause != nil {
			return fail(cause)
		}
		if cause := s.stopRequested(); cause != nil {
			return fail(cause)
		}
		switch msg := m.GetMessage().(type) {
		case *sourcev1.ReadMessage_Batch:
			b := msg.Batch
			if err := s.batch(ctx, b, h); err != nil {
				return fail(err)
			}
		case *sourcev1.ReadMessage_Checkpoint:
			cp := msg.Checkpoint
			current = cp.GetStream()
			if err := h.Checkpoint(ctx, cp.GetStream(), cp.GetCursor()); err != nil {
				return fail(err)
			}
			if len(cp.GetCursor()) > 0 {
				checkpoints[cp.GetStream()] = cp.GetCursor()
			}
			if mh, ok := h.(MarkHandler); ok && cp.GetCompleteThrough() != nil {
				mh.CompleteThrough(ctx, cp.GetStream(), cp.GetCompleteThrough().AsTime())
			}
		case *sourcev1.ReadMessage_RecordError:
			re := msg.RecordError
			if err := h.RecordError(ctx, re.GetStream(), re.GetSourceId(), re.GetReason()); err != nil {
				return fail(err)
			}
		case *sourcev1.ReadMessage_RecordSkipped:
			rs := msg.RecordSkipped
			if err := h.RecordSkipped(ctx, rs.GetStream(), rs.GetSourceId(), rs.GetReason()); err != nil {
				return fail(err)
			}
		case *sourcev1.ReadMessage_Log:
			l := msg.Log
			current = l.GetStream()
			s.logger.Log(ctx, logLevel(l.GetLevel()), l.GetMessage(), "plugin", s.name, "stream", l.GetStream())
		case *sourcev1.ReadMessage_Progress:
			p := msg.Progress
			current = p.GetStream()
			if opts.Progress != nil {
				opts.Progress(p.GetStream(), p.GetDone(), p.GetTotal())
			}
		}
	}
}

func (s *Source) batch(ctx context.Context, b *sourcev1.Batch, h Handler) error {
	rdr, err := ipc.NewReader(bytes.NewReader(b.GetArrowIpc()))
	if err != nil {
		return fmt.Errorf("decode %s batch: %w", b.GetStream(), err)
	}
	defer rdr.Release()
	for rdr.Next() {
		if err := h.Batch(ctx, b.GetStream(), rdr.RecordBatch()); err != nil {
			return err
		}
	}
	if err := rdr.Err(); err != nil {
		return fmt.Errorf("decode %s batch: %w", b.GetStream(), err)
	}
	return nil
}

func logLevel(l sourcev1.Log_Level) slog.Level {
	switch l {
	case sourcev1.Log_LEVEL_DEBUG:
		return slog.LevelDebug
	case sourcev1.Log_LEVEL_WARN:
		return slog.LevelWarn
	case sourcev1.Log_LEVEL_ERROR:
		return slog.LevelError
	}
	return slog.LevelInfo
}

// rpcErr turns a gRPC failure into an error a person can read: the plugin's
// own message when it sent one, or what happened to the process.
func (s *Source) rpcErr(err error) error {
	if s.client != nil && (status.Code(err) == codes.Unavailable || status.Code(err) == codes.Internal) {
		// A broken connection is most often a dead process; give it a
		// moment to be reaped so the error can say so.
		for range 20 {
			if s.client.Exited() {
				return fmt.Errorf("the plugin process exited unexpectedly (%s)", status.Convert(err).Message())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	if st, ok := status.FromError(err); ok {
		return errors.New(st.Message())
	}
	return err
}

func (s *Source) wrap(op string, err error) error {
	return fmt.Errorf("plugin %s: %s: %w", s.name, op, s.rpcErr(err))
}
