package transform

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// Defaults of [Options].
const (
	DefaultMemoryLimitPages = 4096 // 256 MiB
	DefaultBatchTimeout     = 10 * time.Second
)

// maxMemoryPages is the most a wasm32 memory can have: 4 GiB.
const maxMemoryPages = 65536

// Options configure a [Runtime].
type Options struct {
	// CacheDir keeps the machine code of compiled modules across runs, so
	// that a rerun loads a module without compiling it again; "" keeps none.
	CacheDir string
	// MemoryLimitPages caps each module instance's memory, in 64 KiB wasm
	// pages; 0 means DefaultMemoryLimitPages.
	MemoryLimitPages uint32
	// BatchTimeout limits the time a module has for one batch, and for
	// starting up; 0 means DefaultBatchTimeout.
	BatchTimeout time.Duration
	// Logger receives modules' log lines and what they write to stderr,
	// with the module's name; nil means slog.Default().
	Logger *slog.Logger
}

// Runtime compiles and runs transform modules. It is safe for concurrent use.
type Runtime struct {
	wazero wazero.Runtime
	cache  wazero.CompilationCache // nil without Options.CacheDir
	opts   Options
}

// NewRuntime returns a runtime with the ABI's host functions in place.
func NewRuntime(ctx context.Context, opts Options) (*Runtime, error) {
	if opts.MemoryLimitPages == 0 {
		opts.MemoryLimitPages = DefaultMemoryLimitPages
	}
	if opts.MemoryLimitPages > maxMemoryPages {
		return nil, fmt.Errorf("memory limit of %d pages is over the wasm32 maximum of %d", opts.MemoryLimitPages, maxMemoryPages)
	}
	if opts.BatchTimeout <= 0 {
		opts.BatchTimeout = DefaultBatchTimeout
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	r := &Runtime{opts: opts}
	config := wazero.NewRuntimeConfigCompiler().
		// Without this, a module that never returns would hold its
		// goroutine forever, deadline or not.
		WithCloseOnContextDone(true).
		WithMemoryLimitPages(opts.MemoryLimitPages)
	if opts.CacheDir != "" {
		cache, err := wazero.NewCompilationCacheWithDir(opts.CacheDir)
		if err != nil {
			return nil, fmt.Errorf("open compilation cache %s: %w", opts.CacheDir, err)
		}
		r.cache = cache
		config = config.WithCompilationCache(cache)
	}
	r.wazero = wazero.NewRuntimeWithConfig(ctx, config)
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, r.wazero); err != nil {
		return nil, errors.Join(fmt.Errorf("instantiate WASI: %w", err), r.Close(ctx))
	}
	_, err := r.wazero.NewHostModuleBuilder(hostModule).
		NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(r.hostLog), []api.ValueType{i32, i32, i32}, nil).
		WithParameterNames("level", "ptr", "len").
		Export(hostLogFunc).
		Instantiate(ctx)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("instantiate the %s host module: %w", hostModule, err), r.Close(ctx))
	}
	return r, nil
}

// Close closes every module loaded by the runtime, then the runtime.
func (r *Runtime) Close(ctx context.Context) error {
	var errs []error
	if err := r.wazero.Close(ctx); err != nil {
		errs = append(errs, fmt.Errorf("close wasm runtime: %w", err))
	}
	if r.cache != nil {
		if err := r.cache.Close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("close compilation cache: %w", err))
		}
	}
	return errors.Join(errs...)
}

// Load compiles a module (once: later instances reuse the machine code),
// checks that it speaks the ABI, instantiates it and configures it with
// config (a JSON value; empty for none). name identifies it in logs, reasons
// and errors, typically the file name without .wasm; "" names it by its
// hash. Every error names the module, a config error included.
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
	compiled, err := r.wazero.CompileModule(ctx, wasm)
	if err != nil {
		return nil, fmt.Errorf("transform %s: compile: %w", name, err)
	}
	if err := checkModule(compiled); err != nil {
		return nil, errors.Join(fmt.Errorf("transform %s: %w", name, err), compiled.Close(ctx))
	}
	m := &Module{
		runtime:  r,
		name:     name,
		sha:      sha,
		config:   append(json.RawMessage(nil), config...),
		compiled: compiled,
		logger:   r.opts.Logger.With("transform", name),
		sem:      make(chan struct{}, 1),
	}
	inst, err := m.start(ctx)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("transform %s: %w", name, err), compiled.Close(ctx))
	}
	m.inst = inst
	return m, nil
}

// loggerKey carries the logger of the module being called to hostLog, which
// wazero calls with the caller's context: instances are anonymous, so the
// context is what says whose line it is.
type loggerKey struct{}

// maxLogLine bounds one log line from a module.
const maxLogLine = 8 << 10

// hostLog is the ferry.log import: log(level i32, ptr i32, len i32).
func (r *Runtime) hostLog(ctx context.Context, mod api.Module, stack []uint64) {
	level := slog.Level(int32(api.DecodeI32(stack[0])))
	ptr, size := api.DecodeU32(stack[1]), api.DecodeU32(stack[2])
	logger, ok := ctx.Value(loggerKey{}).(*slog.Logger)
	if !ok {
		logger = r.opts.Logger
	}
	if !logger.Enabled(ctx, level) {
		return
	}
	truncated := size > maxLogLine
	if truncated {
		size = maxLogLine
	}
	msg, ok := mod.Memory().Read(ptr, size)
	if !ok {
		logger.WarnContext(ctx, "transform logged a line out of its memory", "ptr", ptr, "len", size)
		return
	}
	// A cut line may end inside a character; so may a careless module's.
	line := strings.ToValidUTF8(string(msg), "\uFFFD")
	if truncated {
		line += "…"
	}
	logger.Log(ctx, level, line)
}
