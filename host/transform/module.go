package transform

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/sys"

	"github.com/ferryhq/ferry/sdk/schema"
)

// ErrClosed is returned by the methods of a closed [Module].
var ErrClosed = errors.New("transform module closed")

// Module is a loaded, configured transform. It runs batches on a pool of
// instances (Options.PoolSize), one batch per instance at a time, so that
// concurrent callers run on different cores; a batch that kills its instance
// (a trap, an exit, a timeout, a sandbox violation) fails alone, and the
// next batch gets a fresh instance.
type Module struct {
	runtime  *Runtime
	wazero   wazero.Runtime // the one that compiled it
	name     string
	sha      string
	config   json.RawMessage
	compiled wazero.CompiledModule
	// instrumented: the module carries ferry's fuel and yields
	// (interrupt.go); else wazero's deadline checks stop it.
	instrumented bool
	logger       *slog.Logger
	formats      uint32
	// access is what the module declared of each canonical stream.
	access map[string]Access

	// native, set only by tests, runs batches in this process instead of
	// on an instance: the benchmark's measure of what wasm costs. Its reply
	// is its caller's to keep.
	native func(format uint32, batch []byte) []byte

	// slots holds a token per instance running a batch: its capacity is
	// the pool's size. A channel, so that a caller waiting can give up.
	slots  chan struct{}
	mu     sync.Mutex // guards idle and closed
	idle   []*instance
	closed bool
}

// Access is what a module reads and writes of a stream, as it declared it
// (docs/transform-abi.md, ferry_columns).
type Access struct {
	// Skip: the module does not handle the stream; its records pass by.
	Skip bool
	// Whole: the module reads whole records, in the JSON format.
	Whole bool
	// Read lists the columns sent to the module in the columnar format:
	// "id" first, then the others it reads or writes, in the stream's
	// schema order.
	Read []string
	// Write lists the columns the module may change, in schema order.
	Write []string
}

// Load compiles a module (once: later instances reuse the machine code),
// checks that it speaks the ABI, instantiates it, configures it with config
// (a JSON value; empty for none) and reads its column declarations. name
// identifies it in logs, reasons and errors, typically the file name
// without .wasm; "" names it by its hash. Every error names the module, a
// config error included.
func (r *Runtime) Load(ctx context.Context, wasm []byte, name string, config json.RawMessage) (*Module, error) {
	sum := sha256.Sum256(wasm)
	sha := hex.EncodeToString(sum[:])
	if name == "" {
		name = sha[:12]
	}
	if len(config) == 0 {
		config = json.RawMessage("null")
	} else if !json.Valid(config) {
		return nil, fmt.Errorf("transform %s: config is not valid JSON", name)
	}
	logger := r.opts.Logger.With("transform", name)
	w, compiled, instrumented, err := r.compile(ctx, wasm, logger)
	if err != nil {
		return nil, fmt.Errorf("transform %s: compile: %w", name, err)
	}
	if err := checkModule(compiled, instrumented); err != nil {
		return nil, errors.Join(fmt.Errorf("transform %s: %w", name, err), compiled.Close(ctx))
	}
	m := &Module{
		runtime:      r,
		wazero:       w,
		name:         name,
		sha:          sha,
		config:       append(json.RawMessage(nil), config...),
		compiled:     compiled,
		instrumented: instrumented,
		logger:       logger,
		slots:        make(chan struct{}, r.opts.PoolSize),
	}
	inst, err := m.start(ctx)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("transform %s: %w", name, err), compiled.Close(ctx))
	}
	m.formats = inst.formats
	// The declarations are the module's code too: under the time limit.
	dctx, cancel := context.WithTimeout(ctx, r.opts.BatchTimeout)
	m.access, err = inst.declarations(dctx, m.logger, inst.formats)
	cancel()
	if err != nil {
		return nil, errors.Join(fmt.Errorf("transform %s: %w", name, err), inst.mod.Close(ctx), compiled.Close(ctx))
	}
	m.idle = append(m.idle, inst)
	return m, nil
}

// Name returns the name the module was loaded with.
func (m *Module) Name() string { return m.name }

// SHA256 returns the hex SHA-256 of the module's bytes: what identifies the
// transform that touched a record.
func (m *Module) SHA256() string { return m.sha }

// Access returns what the module declared of stream. A stream that is not
// canonical is read whole, in the JSON format. The slices are the module's:
// do not change them.
func (m *Module) Access(stream string) Access {
	if a, ok := m.access[stream]; ok {
		return a
	}
	return Access{Whole: true}
}

// Apply transforms one batch of records of stream (JSON objects with the
// stream's canonical columns) and returns one result per record, in order.
// A module that declared columns of the stream gets them in the columnar
// format, and what it changes is written back into the records; one that
// does not handle the stream keeps every record unchanged without being
// called.
//
// A batch the module fails as a whole (a trap, an exit, a timeout, a
// sandbox violation, a malformed reply, a wrong number of results, a
// batch-level error) comes back as an Error result for each record, with the
// reason, and a nil error: the run goes on. The error is for what is not the
// batch's doing: a record that is not a JSON object (or, for a module that
// declared columns, not a canonical record), ctx done, the module closed or
// unable to start an instance.
func (m *Module) Apply(ctx context.Context, stream string, records []json.RawMessage) ([]Result, error) {
	if len(records) == 0 {
		return nil, nil
	}
	switch acc := m.Access(stream); {
	case acc.Skip:
		results := make([]Result, len(records))
		for i, r := range records {
			results[i] = Result{Outcome: Keep, Records: []json.RawMessage{r}, ModuleSHA256: m.sha}
		}
		return results, nil
	case !acc.Whole:
		return m.applyTranscoded(ctx, stream, acc, records)
	}
	batch, err := encodeBatch(stream, records)
	if err != nil {
		return nil, fmt.Errorf("transform %s: %w", m.name, err)
	}
	reply, err := m.run(ctx, stream, formatJSON, len(batch), func(dst []byte) { copy(dst, batch) })
	var failed *batchFailure
	if errors.As(err, &failed) {
		return failAll(len(records), failed.reason, m.sha), nil
	}
	if err != nil {
		return nil, err
	}
	results, err := decodeResults(reply, len(records), m.sha)
	if err != nil {
		return failAll(len(records), fmt.Sprintf("transform %s: %v", m.name, err), m.sha), nil
	}
	for i := range results {
		results[i].ModuleSHA256 = m.sha
	}
	return results, nil
}

// batchFailure is a batch that failed as a whole: every record of it fails
// with the reason, and the run goes on.
type batchFailure struct{ reason string }

func (e *batchFailure) Error() string { return e.reason }

// run sends one batch of size bytes, which fill writes straight into the
// module's memory, to an instance of the pool, and returns the reply, copied
// out. A failure of the batch is a *batchFailure; other errors (ctx done,
// the module closed or unable to start) are the caller's, and name the
// module.
func (m *Module) run(ctx context.Context, stream string, format uint32, size int, fill func([]byte)) ([]byte, error) {
	if m.native != nil {
		batch := make([]byte, size)
		fill(batch)
		return m.native(format, batch), nil
	}
	inst, err := m.acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("transform %s: %w", m.name, err)
	}
	logger := m.logger.With("stream", stream)
	bctx, cancel := context.WithTimeout(ctx, m.runtime.opts.BatchTimeout)
	defer cancel()
	began := time.Now()
	reply, callErr := inst.transformBatch(inst.begin(bctx, logger, true), format, size, fill)
	inst.flushStderr(ctx, logger)
	if callErr != nil {
		// The instance is dead or not to be trusted: it goes, and the
		// next batch gets a new one.
		m.release(ctx, inst, false)
		if ctx.Err() != nil {
			return nil, fmt.Errorf("transform %s: %w", m.name, context.Cause(ctx))
		}
		return nil, &batchFailure{reason: m.failure(callErr)}
	}
	m.release(ctx, inst, true)
	logger.DebugContext(ctx, "transformed a batch", "bytes", size, "elapsed", time.Since(began))
	return reply, nil
}

// acquire takes an instance of the pool for one batch: an idle one, or a
// new one when none is idle and the pool is not full.
func (m *Module) acquire(ctx context.Context) (*instance, error) {
	select {
	case m.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for an instance: %w", context.Cause(ctx))
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		<-m.slots
		return nil, ErrClosed
	}
	if n := len(m.idle); n > 0 {
		inst := m.idle[n-1]
		m.idle = m.idle[:n-1]
		m.mu.Unlock()
		return inst, nil
	}
	m.mu.Unlock()
	inst, err := m.start(ctx)
	if err != nil {
		<-m.slots
		return nil, fmt.Errorf("start an instance: %w", err)
	}
	return inst, nil
}

// release gives an instance back to the pool, or closes it when it is not
// to be used again.
func (m *Module) release(ctx context.Context, inst *instance, reuse bool) {
	if reuse {
		m.mu.Lock()
		if !m.closed {
			m.idle = append(m.idle, inst)
			inst = nil
		}
		m.mu.Unlock()
	}
	if inst != nil {
		// A dead instance is already closed, and an error closing one
		// says nothing the caller can act on.
		_ = inst.mod.Close(context.WithoutCancel(ctx))
	}
	<-m.slots
}

// Close closes the module; batches in progress finish first.
func (m *Module) Close(ctx context.Context) error {
	taken := 0
	defer func() {
		for range taken {
			<-m.slots
		}
	}()
	for range cap(m.slots) {
		select {
		case m.slots <- struct{}{}:
			taken++
		case <-ctx.Done():
			return fmt.Errorf("transform %s: wait for its batches: %w", m.name, context.Cause(ctx))
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true
	for _, inst := range m.idle {
		_ = inst.mod.Close(context.WithoutCancel(ctx))
	}
	m.idle = nil
	if err := m.compiled.Close(ctx); err != nil {
		return fmt.Errorf("transform %s: close: %w", m.name, err)
	}
	return nil
}

// failure turns the error of a failed call into the reason its records fail with.
func (m *Module) failure(err error) string {
	var crash *crashError
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("transform %s: timed out: the batch took over %s", m.name, m.runtime.opts.BatchTimeout)
	case errors.As(err, &crash):
		return fmt.Sprintf("transform %s: %s", m.name, crash.describe())
	default:
		return fmt.Sprintf("transform %s: %v", m.name, err)
	}
}

// start instantiates the module and brings it to where it takes batches:
// _initialize, the ABI version, the formats, the config. It runs under the
// batch time limit, as all of it is the module's code.
func (m *Module) start(ctx context.Context) (_ *instance, err error) {
	ctx, cancel := context.WithTimeout(ctx, m.runtime.opts.BatchTimeout)
	defer cancel()
	config := wazero.NewModuleConfig().
		// Anonymous, so that the same module loaded twice (two entries
		// of the pipeline with different configs) does not clash.
		WithName("").
		// _initialize is called below, where its failure can be told apart.
		WithStartFunctions()
	inst := &instance{state: callState{stderr: &boundedBuffer{limit: maxStderr}, limit: m.runtime.opts.OutputLimit}}
	ctx = inst.begin(ctx, m.logger, false)
	mod, err := m.wazero.InstantiateModule(experimental.WithMemoryAllocator(ctx, m.runtime.mems.allocator()), m.compiled, config)
	if err != nil {
		return nil, fmt.Errorf("instantiate: %w", err)
	}
	inst.mod = mod
	if m.instrumented {
		// hostYield could not refill the fuel: better said now than at
		// the first yield of a batch.
		if _, ok := mod.ExportedGlobal(fuelExport).(api.MutableGlobal); !ok {
			_ = mod.Close(context.WithoutCancel(ctx))
			return nil, fmt.Errorf("instantiate: the instrumented module has no mutable global %s", fuelExport)
		}
	}
	inst.mem = mod.Memory()
	inst.alloc = mod.ExportedFunction(exportAlloc)
	inst.free = mod.ExportedFunction(exportFree)
	inst.configure = mod.ExportedFunction(exportConfigure)
	inst.transform = mod.ExportedFunction(exportTransform)
	defer func() {
		inst.flushStderr(ctx, m.logger)
		if err != nil {
			_ = mod.Close(context.WithoutCancel(ctx))
		}
	}()
	if init := mod.ExportedFunction(exportInitialize); init != nil {
		if _, err := inst.invoke(ctx, exportInitialize, init); err != nil {
			return nil, err
		}
	}
	version, err := inst.callI32(ctx, exportVersion)
	if err != nil {
		return nil, err
	}
	if version != abiVersion {
		return nil, fmt.Errorf("the module speaks transform ABI version %d; this ferry speaks version %d", version, abiVersion)
	}
	formats, err := inst.callI32(ctx, exportFormats)
	if err != nil {
		return nil, err
	}
	inst.formats = uint32(formats)
	if inst.formats&hostFormats == 0 {
		return nil, fmt.Errorf("the module reads no batch format ferry writes (its formats: %#x; ferry's: %#x)", formats, hostFormats)
	}
	if err := inst.configureWith(ctx, m.config); err != nil {
		return nil, err
	}
	return inst, nil
}

// instance is one instantiation of a module.
type instance struct {
	mod                               api.Module
	mem                               api.Memory
	alloc, free, configure, transform api.Function
	formats                           uint32
	// state is what the host functions see of the call in progress;
	// calls to an instance are never concurrent.
	state callState
}

// maxStderr bounds what is kept of a module's stderr per call.
const maxStderr = 16 << 10

// maxConfigError bounds the error message a module's configure returns.
const maxConfigError = 4 << 10

// begin starts a call: it resets what the host functions count, and returns
// the context that carries them.
func (in *instance) begin(ctx context.Context, logger *slog.Logger, batch bool) context.Context {
	in.state.logger, in.state.batch, in.state.stdout = logger, batch, 0
	in.state.stderr.Reset()
	return context.WithValue(ctx, callKey{}, &in.state)
}

// configureWith passes the config to ferry_configure.
func (in *instance) configureWith(ctx context.Context, config []byte) error {
	packed, err := in.withInput(ctx, len(config), func(dst []byte) { copy(dst, config) }, func(ptr uint32) (uint64, error) {
		res, err := in.invoke(ctx, exportConfigure, in.configure, api.EncodeU32(ptr), api.EncodeU32(uint32(len(config))))
		if err != nil {
			return 0, err
		}
		return res[0], nil
	})
	if err != nil {
		return err
	}
	if packed == 0 {
		return nil
	}
	ptr, size := unpack(packed)
	msg, err := in.take(ctx, ptr, min(size, maxConfigError))
	if err != nil {
		return fmt.Errorf("%s: read its error: %w", exportConfigure, err)
	}
	return fmt.Errorf("config: %s", strings.ToValidUTF8(string(msg), "\uFFFD"))
}

// transformBatch sends one batch through ferry_transform and returns the reply.
func (in *instance) transformBatch(ctx context.Context, format uint32, size int, fill func([]byte)) ([]byte, error) {
	packed, err := in.withInput(ctx, size, fill, func(ptr uint32) (uint64, error) {
		res, err := in.invoke(ctx, exportTransform, in.transform, api.EncodeU32(format), api.EncodeU32(ptr), api.EncodeU32(uint32(size)))
		if err != nil {
			return 0, err
		}
		return res[0], nil
	})
	if err != nil {
		return nil, err
	}
	if packed == 0 {
		return nil, fmt.Errorf("%s returned no reply", exportTransform)
	}
	ptr, n := unpack(packed)
	return in.take(ctx, ptr, n)
}

// withInput has ferry_alloc give memory for size bytes, which fill writes
// there, runs fn with its address, and frees it.
func (in *instance) withInput(ctx context.Context, size int, fill func([]byte), fn func(ptr uint32) (uint64, error)) (uint64, error) {
	if uint64(size) > uint64(^uint32(0)) {
		return 0, fmt.Errorf("input of %d bytes is over the 4 GiB a wasm32 module can address", size)
	}
	n := uint32(size)
	res, err := in.invoke(ctx, exportAlloc, in.alloc, api.EncodeU32(n))
	if err != nil {
		return 0, err
	}
	ptr := api.DecodeU32(res[0])
	if ptr == 0 && n > 0 {
		return 0, fmt.Errorf("%s(%d) returned a null pointer", exportAlloc, n)
	}
	// The view is the module's memory itself: the batch is written once,
	// where the module reads it. It stays valid until the module runs again.
	view, ok := in.mem.Read(ptr, n)
	if !ok {
		return 0, fmt.Errorf("%s(%d) returned %#x, out of the module's memory", exportAlloc, n, ptr)
	}
	fill(view)
	out, err := fn(ptr)
	if err != nil {
		return 0, err
	}
	if _, err := in.invoke(ctx, exportFree, in.free, api.EncodeU32(ptr), api.EncodeU32(n)); err != nil {
		return 0, err
	}
	return out, nil
}

// take copies a reply out of the module's memory and frees it there.
func (in *instance) take(ctx context.Context, ptr, size uint32) ([]byte, error) {
	view, ok := in.mem.Read(ptr, size)
	if !ok {
		return nil, fmt.Errorf("reply at %#x (%d bytes) is out of the module's memory (%d bytes)", ptr, size, in.mem.Size())
	}
	// The view is the module's memory, which ferry_free may reuse; the
	// copy is 8-byte aligned, as the columnar format's sections need.
	out := bytes.Clone(view)
	if _, err := in.invoke(ctx, exportFree, in.free, api.EncodeU32(ptr), api.EncodeU32(size)); err != nil {
		return nil, err
	}
	return out, nil
}

// invoke calls one of the module's functions; a failure (a trap, an exit, a
// sandbox violation, the context done) comes back as a *crashError.
func (in *instance) invoke(ctx context.Context, name string, fn api.Function, params ...uint64) ([]uint64, error) {
	if ctx.Err() != nil {
		// A call out of time does not begin: an instrumented module
		// would run on until its fuel ran out.
		return nil, &crashError{fn: name, err: context.Cause(ctx), stderr: in.stderrHead()}
	}
	res, err := fn.Call(ctx, params...)
	if err != nil {
		if ctx.Err() != nil {
			// The module was stopped for its time (hostYield, or wazero's
			// checks), whatever error that made: the time is the reason.
			err = context.Cause(ctx)
		}
		return nil, &crashError{fn: name, err: err, stderr: in.stderrHead()}
	}
	return res, nil
}

func (in *instance) callI32(ctx context.Context, name string) (int32, error) {
	res, err := in.invoke(ctx, name, in.mod.ExportedFunction(name))
	if err != nil {
		return 0, err
	}
	return api.DecodeI32(res[0]), nil
}

// stderrHead returns the first paragraph of what the module wrote to stderr
// during the call, on one line: for a Go module that panicked it is the panic
// message ("panic: ..." or "fatal error: out of memory"), before the
// goroutine dump.
func (in *instance) stderrHead() string {
	text := strings.TrimSpace(in.state.stderr.String())
	text, _, _ = strings.Cut(text, "\n\n")
	const maxDetail = 512
	if len(text) > maxDetail {
		text = strings.ToValidUTF8(text[:maxDetail], "") + "…"
	}
	return strings.Join(strings.Fields(text), " ")
}

// crashError is a call into the module that did not return: a trap, an exit,
// a sandbox violation or the context done, with what the module wrote to
// stderr before.
type crashError struct {
	fn     string
	err    error
	stderr string
}

func (e *crashError) Error() string { return e.describe() }

func (e *crashError) Unwrap() error { return e.err }

// describe says what happened, in a record's failure reason.
func (e *crashError) describe() string {
	var b strings.Builder
	var exit *sys.ExitError
	var sandbox *sandboxError
	switch {
	case errors.As(e.err, &sandbox):
		// What it tried says it all; its stderr is beside the point.
		return sandbox.what
	case errors.Is(e.err, context.DeadlineExceeded):
		fmt.Fprintf(&b, "timed out in %s", e.fn)
	case errors.Is(e.err, context.Canceled):
		fmt.Fprintf(&b, "canceled in %s", e.fn)
	case errors.As(e.err, &exit):
		fmt.Fprintf(&b, "exited with code %d in %s", exit.ExitCode(), e.fn)
	default:
		// wazero's trap errors carry a wasm stack trace after the first
		// line; the first line says what happened.
		first, _, _ := strings.Cut(e.err.Error(), "\n")
		fmt.Fprintf(&b, "crashed in %s: %s", e.fn, first)
	}
	if e.stderr != "" {
		b.WriteString(": ")
		b.WriteString(e.stderr)
	}
	return b.String()
}

// flushStderr logs what the module wrote to stderr during the last call.
func (in *instance) flushStderr(ctx context.Context, logger *slog.Logger) {
	if in.state.stderr.Len() == 0 {
		return
	}
	logger.WarnContext(ctx, "transform wrote to stderr", "stderr", in.state.stderr.String(), "dropped_bytes", in.state.stderr.dropped)
	in.state.stderr.Reset()
}

// boundedBuffer keeps the first limit bytes written to it and counts the
// rest. A module writes to it only while the host calls it, and calls to an
// instance are never concurrent, so it needs no lock.
type boundedBuffer struct {
	buf     bytes.Buffer
	limit   int
	dropped int
}

// Write implements io.Writer; it never fails, so a chatty module is not
// broken by its stderr being full.
func (b *boundedBuffer) Write(p []byte) (int, error) {
	room := max(b.limit-b.buf.Len(), 0)
	if len(p) <= room {
		return b.buf.Write(p)
	}
	b.buf.Write(p[:room])
	b.dropped += len(p) - room
	return len(p), nil
}

func (b *boundedBuffer) String() string { return b.buf.String() }
func (b *boundedBuffer) Len() int       { return b.buf.Len() }

// Reset empties the buffer.
func (b *boundedBuffer) Reset() {
	b.buf.Reset()
	b.dropped = 0
}

// declarations asks the module, through ferry_columns, what it reads and
// writes of each canonical stream, and checks the answers against the
// streams' schemas and the formats the module reads. A module without
// ferry_columns reads whole records of every stream.
func (in *instance) declarations(ctx context.Context, logger *slog.Logger, formats uint32) (map[string]Access, error) {
	fn := in.mod.ExportedFunction(exportColumns)
	out := map[string]Access{}
	for _, stream := range schema.StreamNames() {
		acc := Access{Whole: true}
		if fn != nil {
			answer, err := in.columnsOf(in.begin(ctx, logger, false), fn, stream)
			if err != nil {
				return nil, err
			}
			if acc, err = parseAccess(stream, answer); err != nil {
				return nil, fmt.Errorf("%s(%q): %w", exportColumns, stream, err)
			}
		}
		switch {
		case acc.Whole && formats&formatJSON == 0:
			return nil, fmt.Errorf("the module reads whole records of %s but not the JSON format (formats %#x): declare its columns, or read JSON", stream, formats)
		case !acc.Whole && !acc.Skip && formats&formatColumnar == 0:
			return nil, fmt.Errorf("the module declares columns of %s but does not read the columnar format (formats %#x)", stream, formats)
		}
		out[stream] = acc
	}
	return out, nil
}

// columnsOf calls ferry_columns for one stream; nil is "not handled".
func (in *instance) columnsOf(ctx context.Context, fn api.Function, stream string) ([]byte, error) {
	packed, err := in.withInput(ctx, len(stream), func(dst []byte) { copy(dst, stream) }, func(ptr uint32) (uint64, error) {
		res, err := in.invoke(ctx, exportColumns, fn, api.EncodeU32(ptr), api.EncodeU32(uint32(len(stream))))
		if err != nil {
			return 0, err
		}
		return res[0], nil
	})
	if err != nil || packed == 0 {
		return nil, err
	}
	ptr, size := unpack(packed)
	const maxAnswer = 64 << 10
	if size > maxAnswer {
		return nil, fmt.Errorf("%s(%q) answered %d bytes, over the %d a declaration needs", exportColumns, stream, size, maxAnswer)
	}
	return in.take(ctx, ptr, size)
}
