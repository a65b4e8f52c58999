package transform

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/sys"
)

// ErrClosed is returned by the methods of a closed [Module].
var ErrClosed = errors.New("transform module closed")

// Module is a loaded, configured transform. Its batches run one at a time, on
// one instance; a batch that kills the instance (a trap, an exit, a timeout)
// fails alone, and the next batch gets a fresh instance.
type Module struct {
	runtime  *Runtime
	name     string
	sha      string
	config   json.RawMessage
	compiled wazero.CompiledModule
	logger   *slog.Logger

	// sem serializes batches and guards what follows; it is a channel
	// rather than a mutex so that a caller waiting for it can give up.
	sem    chan struct{}
	inst   *instance // nil after a failure, until the next batch
	closed bool
}

// Name returns the name the module was loaded with.
func (m *Module) Name() string { return m.name }

// SHA256 returns the hex SHA-256 of the module's bytes: what identifies the
// transform that touched a record.
func (m *Module) SHA256() string { return m.sha }

// Apply transforms one batch of records of stream (JSON objects with the
// stream's canonical columns) and returns one result per record, in order.
//
// A batch the module fails as a whole (a trap, an exit, a timeout, a
// malformed reply, a wrong number of results, a batch-level error) comes back
// as an Error result for each record, with the reason, and a nil error: the
// run goes on. The error is for what is not the batch's doing: a record that
// is not a JSON object, ctx done, the module closed or unable to restart.
func (m *Module) Apply(ctx context.Context, stream string, records []json.RawMessage) ([]Result, error) {
	if len(records) == 0 {
		return nil, nil
	}
	batch, err := encodeBatch(stream, records)
	if err != nil {
		return nil, fmt.Errorf("transform %s: %w", m.name, err)
	}
	if err := m.acquire(ctx); err != nil {
		return nil, fmt.Errorf("transform %s: wait for the module: %w", m.name, err)
	}
	defer m.release()
	if m.closed {
		return nil, fmt.Errorf("transform %s: %w", m.name, ErrClosed)
	}
	if m.inst == nil {
		inst, err := m.start(ctx)
		if err != nil {
			return nil, fmt.Errorf("transform %s: restart: %w", m.name, err)
		}
		m.inst = inst
	}

	logger := m.logger.With("stream", stream)
	bctx, cancel := context.WithTimeout(context.WithValue(ctx, loggerKey{}, logger), m.runtime.opts.BatchTimeout)
	defer cancel()
	began := time.Now()
	reply, callErr := m.inst.call(bctx, batch)
	m.inst.flushStderr(ctx, logger)
	if callErr != nil {
		// The instance is dead or not to be trusted: the next batch
		// gets a new one.
		m.discard(ctx)
		if ctx.Err() != nil {
			return nil, fmt.Errorf("transform %s: %w", m.name, context.Cause(ctx))
		}
		return failAll(len(records), m.failure(callErr), m.sha), nil
	}
	results, err := decodeResults(reply, len(records))
	if err != nil {
		return failAll(len(records), fmt.Sprintf("transform %s: %v", m.name, err), m.sha), nil
	}
	for i := range results {
		results[i].ModuleSHA256 = m.sha
	}
	logger.DebugContext(ctx, "transformed a batch", "records", len(records), "elapsed", time.Since(began))
	return results, nil
}

// Close closes the module; a batch in progress finishes first.
func (m *Module) Close(ctx context.Context) error {
	if err := m.acquire(ctx); err != nil {
		return fmt.Errorf("transform %s: wait for the module: %w", m.name, err)
	}
	defer m.release()
	if m.closed {
		return nil
	}
	m.closed = true
	m.discard(ctx)
	if err := m.compiled.Close(ctx); err != nil {
		return fmt.Errorf("transform %s: close: %w", m.name, err)
	}
	return nil
}

func (m *Module) acquire(ctx context.Context) error {
	select {
	case m.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

func (m *Module) release() { <-m.sem }

// discard closes the current instance, if any.
func (m *Module) discard(ctx context.Context) {
	if m.inst == nil {
		return
	}
	// A dead instance is already closed, and an error closing one says
	// nothing the caller can act on.
	_ = m.inst.mod.Close(context.WithoutCancel(ctx))
	m.inst = nil
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
	ctx, cancel := context.WithTimeout(context.WithValue(ctx, loggerKey{}, m.logger), m.runtime.opts.BatchTimeout)
	defer cancel()
	stderr := &boundedBuffer{limit: maxStderr}
	config := wazero.NewModuleConfig().
		// Anonymous, so that the same module loaded twice (two entries
		// of the pipeline with different configs) does not clash.
		WithName("").
		// _initialize is called below, where its failure can be told apart.
		WithStartFunctions().
		WithStdout(io.Discard).
		WithStderr(stderr)
	mod, err := m.runtime.wazero.InstantiateModule(ctx, m.compiled, config)
	if err != nil {
		return nil, fmt.Errorf("instantiate: %w", err)
	}
	inst := &instance{
		mod:       mod,
		mem:       mod.Memory(),
		alloc:     mod.ExportedFunction(exportAlloc),
		free:      mod.ExportedFunction(exportFree),
		configure: mod.ExportedFunction(exportConfigure),
		transform: mod.ExportedFunction(exportTransform),
		stderr:    stderr,
	}
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
	if uint32(formats)&hostFormats == 0 {
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
	stderr                            *boundedBuffer
}

// maxStderr bounds what is kept of a module's stderr per call.
const maxStderr = 16 << 10

// maxConfigError bounds the error message a module's configure returns.
const maxConfigError = 4 << 10

// configureWith passes the config to ferry_configure.
func (in *instance) configureWith(ctx context.Context, config []byte) error {
	packed, err := in.withInput(ctx, config, func(ptr uint32) (uint64, error) {
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

// call sends one batch through ferry_transform and returns the reply.
func (in *instance) call(ctx context.Context, batch []byte) ([]byte, error) {
	in.stderr.Reset()
	packed, err := in.withInput(ctx, batch, func(ptr uint32) (uint64, error) {
		res, err := in.invoke(ctx, exportTransform, in.transform, api.EncodeU32(formatJSON), api.EncodeU32(ptr), api.EncodeU32(uint32(len(batch))))
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
	ptr, size := unpack(packed)
	return in.take(ctx, ptr, size)
}

// withInput copies data into memory from ferry_alloc, runs fn with its
// address, and frees it.
func (in *instance) withInput(ctx context.Context, data []byte, fn func(ptr uint32) (uint64, error)) (uint64, error) {
	if uint64(len(data)) > uint64(^uint32(0)) {
		return 0, fmt.Errorf("input of %d bytes is over the 4 GiB a wasm32 module can address", len(data))
	}
	size := uint32(len(data))
	res, err := in.invoke(ctx, exportAlloc, in.alloc, api.EncodeU32(size))
	if err != nil {
		return 0, err
	}
	ptr := api.DecodeU32(res[0])
	if ptr == 0 && size > 0 {
		return 0, fmt.Errorf("%s(%d) returned a null pointer", exportAlloc, size)
	}
	if !in.mem.Write(ptr, data) {
		return 0, fmt.Errorf("%s(%d) returned %#x, out of the module's memory", exportAlloc, size, ptr)
	}
	out, err := fn(ptr)
	if err != nil {
		return 0, err
	}
	if _, err := in.invoke(ctx, exportFree, in.free, api.EncodeU32(ptr), api.EncodeU32(size)); err != nil {
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
	// The view is the module's memory, which ferry_free may reuse.
	out := bytes.Clone(view)
	if _, err := in.invoke(ctx, exportFree, in.free, api.EncodeU32(ptr), api.EncodeU32(size)); err != nil {
		return nil, err
	}
	return out, nil
}

// invoke calls one of the module's functions; a failure (a trap, an exit, the
// context done) comes back as a *crashError.
func (in *instance) invoke(ctx context.Context, name string, fn api.Function, params ...uint64) ([]uint64, error) {
	res, err := fn.Call(ctx, params...)
	if err != nil {
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
	text := strings.TrimSpace(in.stderr.String())
	text, _, _ = strings.Cut(text, "\n\n")
	const maxDetail = 512
	if len(text) > maxDetail {
		text = strings.ToValidUTF8(text[:maxDetail], "") + "…"
	}
	return strings.Join(strings.Fields(text), " ")
}

// crashError is a call into the module that did not return: a trap, an exit
// or the context done, with what the module wrote to stderr before.
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
	switch {
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
	if in.stderr.Len() == 0 {
		return
	}
	logger.WarnContext(ctx, "transform wrote to stderr", "stderr", in.stderr.String(), "dropped_bytes", in.stderr.dropped)
	in.stderr.Reset()
}

// boundedBuffer keeps the first limit bytes written to it and counts the rest.
// A module writes to it only while the host calls it, and calls are serialized
// by Module.sem, so it needs no lock.
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
