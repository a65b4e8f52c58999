package transform

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// Defaults of [Options].
const (
	DefaultMemoryLimitPages = 4096 // 256 MiB
	DefaultBatchTimeout     = 10 * time.Second
	DefaultOutputLimit      = 1 << 20 // 1 MiB
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
	// PoolSize is how many instances of each module may run batches at
	// once, each batch on its own; 0 means runtime.GOMAXPROCS(0), so that
	// concurrent callers keep every core busy. Instances start as they are
	// needed, each with its own memory of up to MemoryLimitPages.
	PoolSize int
	// OutputLimit bounds what a module may write to stdout, and to stderr,
	// in one call, in bytes; past it the call stops and its batch fails.
	// 0 means DefaultOutputLimit.
	OutputLimit int
	// CloseOnContextDone stops modules that run past their time with
	// wazero's own mechanism (WithCloseOnContextDone), which checks the
	// context at every loop of a module by calling out to Go, instead of
	// ferry's fuel (see interrupt.go), a count kept in the module itself
	// that calls out to Go only every so many loops. Both stop any
	// module; wazero's makes Go transforms several times slower. Modules
	// ferry cannot instrument use it regardless.
	CloseOnContextDone bool

	// unstoppable runs modules with neither mechanism, for the benchmark
	// that measures what they cost. Nothing then stops a module that never
	// returns: never in production.
	unstoppable bool
}

// Runtime compiles and runs transform modules. It is safe for concurrent use.
type Runtime struct {
	opts  Options
	cache wazero.CompilationCache // nil without Options.CacheDir
	// fast runs modules without wazero's checks: instrumented ones
	// (unless Options.CloseOnContextDone, when it has the checks).
	fast wazero.Runtime
	// checked runs, with wazero's checks, the modules ferry cannot
	// instrument; it starts with the first of them.
	mu      sync.Mutex
	checked wazero.Runtime
	// mems backs the instances' memories (see memories).
	mems *memories
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
	if opts.PoolSize <= 0 {
		opts.PoolSize = runtime.GOMAXPROCS(0)
	}
	if opts.OutputLimit <= 0 {
		opts.OutputLimit = DefaultOutputLimit
	}
	r := &Runtime{opts: opts, mems: newMemories()}
	// wazero's cache keys machine code by the module's bytes, not by
	// whether it has the deadline checks: the same bytes must never be
	// compiled both ways into one cache. Instrumented modules are compiled
	// without (their bytes are not the file's), the others with; only the
	// benchmark's unstoppable runtime compiles without either, and it
	// keeps no cache.
	if opts.CacheDir != "" && !opts.unstoppable {
		cache, err := wazero.NewCompilationCacheWithDir(opts.CacheDir)
		if err != nil {
			return nil, fmt.Errorf("open compilation cache %s: %w", opts.CacheDir, err)
		}
		r.cache = cache
	}
	fast, err := r.newWazero(ctx, opts.CloseOnContextDone)
	if err != nil {
		return nil, errors.Join(err, r.Close(ctx))
	}
	r.fast = fast
	return r, nil
}

// newWazero returns a wazero runtime with the host modules, with wazero's
// deadline checks or without.
func (r *Runtime) newWazero(ctx context.Context, checks bool) (wazero.Runtime, error) {
	config := wazero.NewRuntimeConfigCompiler().
		WithCloseOnContextDone(checks).
		WithMemoryLimitPages(r.opts.MemoryLimitPages)
	if r.cache != nil {
		config = config.WithCompilationCache(r.cache)
	}
	w := wazero.NewRuntimeWithConfig(ctx, config)
	if err := instantiateWASI(ctx, w); err != nil {
		return nil, errors.Join(err, w.Close(ctx))
	}
	// Both runtimes have the yield, though only instrumented modules may
	// import it (checkModule): one host module, whichever runtime.
	_, err := w.NewHostModuleBuilder(hostModule).
		NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(r.hostLog), []api.ValueType{i32, i32, i32}, nil).
		WithParameterNames("level", "ptr", "len").
		Export(hostLogFunc).
		NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(hostYield), nil, nil).
		Export(hostYieldFunc).
		Instantiate(ctx)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("instantiate the %s host module: %w", hostModule, err), w.Close(ctx))
	}
	return w, nil
}

// checkedRuntime returns the runtime with wazero's deadline checks.
func (r *Runtime) checkedRuntime(ctx context.Context) (wazero.Runtime, error) {
	if r.opts.CloseOnContextDone {
		return r.fast, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.checked == nil {
		w, err := r.newWazero(ctx, true)
		if err != nil {
			return nil, err
		}
		r.checked = w
	}
	return r.checked, nil
}

// Close closes every module loaded by the runtime, then the runtime.
func (r *Runtime) Close(ctx context.Context) error {
	var errs []error
	r.mu.Lock()
	checked := r.checked
	r.mu.Unlock()
	for _, w := range []wazero.Runtime{r.fast, checked} {
		if w == nil {
			continue
		}
		if err := w.Close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("close wasm runtime: %w", err))
		}
	}
	// After the runtimes: their modules' memories are all freed now.
	r.mems.close()
	if r.cache != nil {
		if err := r.cache.Close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("close compilation cache: %w", err))
		}
	}
	return errors.Join(errs...)
}

// compile compiles a module for running: instrumented with the fuel and
// the yields, or as it is with wazero's deadline checks when it cannot be
// instrumented (or Options.CloseOnContextDone says so). instrumented says
// which.
func (r *Runtime) compile(ctx context.Context, wasm []byte, logger *slog.Logger) (w wazero.Runtime, compiled wazero.CompiledModule, instrumented bool, err error) {
	if r.opts.unstoppable || r.opts.CloseOnContextDone {
		compiled, err = r.fast.CompileModule(ctx, wasm)
		return r.fast, compiled, false, err
	}
	if inst, ierr := instrument(wasm); ierr == nil {
		compiled, err = r.fast.CompileModule(ctx, inst)
		return r.fast, compiled, true, err
	} else {
		logger.DebugContext(ctx, "the module runs with wazero's deadline checks", "why", ierr)
	}
	w, err = r.checkedRuntime(ctx)
	if err != nil {
		return nil, nil, false, err
	}
	compiled, err = w.CompileModule(ctx, wasm)
	return w, compiled, false, err
}

// hostYield is the ferry.__ferry_yield import of instrumented modules,
// which they call when their fuel runs out (interrupt.go). It runs on the
// goroutine of the call, in Go, where the call's time is checked: a panic
// stops the module at once, wazero making it the call's error.
func hostYield(ctx context.Context, mod api.Module, _ []uint64) {
	if ctx.Err() != nil {
		panic(context.Cause(ctx))
	}
	fuel, ok := mod.ExportedGlobal(fuelExport).(api.MutableGlobal)
	if !ok {
		// Only a module that ferry did not instrument would lack it, and
		// checkModule refuses those that import the yield.
		panic(fmt.Errorf("%s.%s called by a module without a mutable global %s", hostModule, hostYieldFunc, fuelExport))
	}
	fuel.Set(api.EncodeI32(fuelPerYield))
}

// maxLogLine bounds one log line from a module.
const maxLogLine = 8 << 10

// hostLog is the ferry.log import: log(level i32, ptr i32, len i32).
func (r *Runtime) hostLog(ctx context.Context, mod api.Module, stack []uint64) {
	level := slog.Level(int32(api.DecodeI32(stack[0])))
	ptr, size := api.DecodeU32(stack[1]), api.DecodeU32(stack[2])
	logger := r.opts.Logger
	if st := stateOf(ctx); st != nil {
		logger = st.logger
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
