package transform

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// testCacheDir is a compilation cache shared by the tests' runtimes: compiling
// a Go module takes seconds, loading it from the cache a fraction of that.
var testCacheDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ferry-transform-cache-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testCacheDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// The test modules are built once per test binary; the go build cache makes
// a rerun of the tests cheap too.
var (
	exampleWasm   = sync.OnceValues(func() ([]byte, error) { return goBuildWasm("../../transforms/legacy-id-subject") })
	misbehaveWasm = sync.OnceValues(func() ([]byte, error) { return goBuildWasm("./testdata/misbehave") })
)

// goBuildWasm builds a Go package as a WASI reactor, as make does for transforms/.
func goBuildWasm(pkg string) ([]byte, error) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "ferry-transform-test-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "module.wasm")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, gobin, "build", "-buildmode=c-shared", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if output, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build %s: %w\n%s", pkg, err, output)
	}
	return os.ReadFile(out)
}

func mustWasm(t testing.TB, build func() ([]byte, error)) []byte {
	t.Helper()
	wasm, err := build()
	if errors.Is(err, exec.ErrNotFound) {
		t.Skip("no go command to build test modules with")
	}
	if err != nil {
		t.Fatal(err)
	}
	return wasm
}

func newRuntime(t testing.TB, opts Options) *Runtime {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.CacheDir == "" {
		opts.CacheDir = testCacheDir
	}
	r, err := NewRuntime(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := r.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return r
}

func load(t testing.TB, r *Runtime, wasm []byte, name, config string) *Module {
	t.Helper()
	m, err := r.Load(t.Context(), wasm, name, json.RawMessage(config))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func records(rs ...string) []json.RawMessage {
	out := make([]json.RawMessage, len(rs))
	for i, r := range rs {
		out[i] = json.RawMessage(r)
	}
	return out
}

// field decodes one field of a JSON object.
func field(t testing.TB, record json.RawMessage, name string) any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(record, &m); err != nil {
		t.Fatalf("record %s: %v", record, err)
	}
	return m[name]
}

// logBuffer collects JSON log lines, safely for concurrent writers.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// lines decodes the lines logged so far.
func (b *logBuffer) lines(t testing.TB) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	dec := json.NewDecoder(bytes.NewReader(b.buf.Bytes()))
	for dec.More() {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// A minimal wasm assembler for modules that break the ABI in one precise way,
// which a Go program cannot be made to do (wrong signatures, no exports, a
// command module). There is no wat2wasm here, so it writes the binary format.

type wasmFunc struct {
	name            string // export name; "" for none
	params, results []byte // value types: 0x7f i32, 0x7e i64
	body            []byte // instructions, without locals and the final end
}

const (
	wI32 = 0x7f
	wI64 = 0x7e
)

func uleb(v uint64) []byte {
	var b []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			b = append(b, c|0x80)
			continue
		}
		return append(b, c)
	}
}

func sleb(v int64) []byte {
	var b []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v == 0 && c&0x40 == 0 || v == -1 && c&0x40 != 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

func wasmName(s string) []byte { return append(uleb(uint64(len(s))), s...) }

func section(id byte, entries ...[]byte) []byte {
	body := uleb(uint64(len(entries)))
	for _, e := range entries {
		body = append(body, e...)
	}
	return append(append([]byte{id}, uleb(uint64(len(body)))...), body...)
}

// assemble returns a module with the functions (one type each), a memory of
// one page exported as "memory" when withMemory, and the function imports
// given as module.name pairs of type () -> ().
func assemble(funcs []wasmFunc, withMemory bool, imports ...[2]string) []byte {
	out := []byte{0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00}
	types := [][]byte{{0x60, 0x00, 0x00}} // type 0: () -> (), for imports
	var funcTypes, exports, codes, imps [][]byte
	for _, imp := range imports {
		imps = append(imps, append(append(wasmName(imp[0]), wasmName(imp[1])...), 0x00, 0x00))
	}
	for i, f := range funcs {
		t := append([]byte{0x60}, uleb(uint64(len(f.params)))...)
		t = append(t, f.params...)
		t = append(t, uleb(uint64(len(f.results)))...)
		t = append(t, f.results...)
		types = append(types, t)
		funcTypes = append(funcTypes, uleb(uint64(len(types)-1)))
		if f.name != "" {
			exports = append(exports, append(append(wasmName(f.name), 0x00), uleb(uint64(len(imports)+i))...))
		}
		code := append(append([]byte{0x00}, f.body...), 0x0b)
		codes = append(codes, append(uleb(uint64(len(code))), code...))
	}
	out = append(out, section(1, types...)...)
	if len(imps) > 0 {
		out = append(out, section(2, imps...)...)
	}
	out = append(out, section(3, funcTypes...)...)
	if withMemory {
		out = append(out, section(5, []byte{0x00, 0x01})...)
		exports = append(exports, append(wasmName("memory"), 0x02, 0x00))
	}
	out = append(out, section(7, exports...)...)
	return append(out, section(10, codes...)...)
}

func i32Const(v int32) []byte { return append([]byte{0x41}, sleb(int64(v))...) }
func i64Const(v int64) []byte { return append([]byte{0x42}, sleb(v)...) }

// loopForever is loop br 0 end.
var loopForever = []byte{0x03, 0x40, 0x0c, 0x00, 0x0b}

// abiFuncs returns the ABI's exports with trivial bodies: version and formats
// as given, an allocator that hands out address 1024, a configure that
// succeeds and a transform that returns no reply.
func abiFuncs(version, formats int32) []wasmFunc {
	return []wasmFunc{
		{name: "ferry_abi_version", results: []byte{wI32}, body: i32Const(version)},
		{name: "ferry_formats", results: []byte{wI32}, body: i32Const(formats)},
		{name: "ferry_alloc", params: []byte{wI32}, results: []byte{wI32}, body: i32Const(1024)},
		{name: "ferry_free", params: []byte{wI32, wI32}},
		{name: "ferry_configure", params: []byte{wI32, wI32}, results: []byte{wI64}, body: i64Const(0)},
		{name: "ferry_transform", params: []byte{wI32, wI32, wI32}, results: []byte{wI64}, body: i64Const(0)},
	}
}

// replace returns funcs with the one named like f replaced by f, or f added.
func replace(funcs []wasmFunc, f wasmFunc) []wasmFunc {
	out := append([]wasmFunc(nil), funcs...)
	for i := range out {
		if out[i].name == f.name {
			out[i] = f
			return out
		}
	}
	return append(out, f)
}

// without returns funcs without the one named name.
func without(funcs []wasmFunc, name string) []wasmFunc {
	var out []wasmFunc
	for _, f := range funcs {
		if f.name != name {
			out = append(out, f)
		}
	}
	return out
}
