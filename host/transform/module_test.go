package transform

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestLoadExample(t *testing.T) {
	wasm := mustWasm(t, exampleWasm)
	r := newRuntime(t, Options{})
	m := load(t, r, wasm, "legacy-id-subject", `{"prefix":"ZD"}`)
	sum := sha256.Sum256(wasm)
	if got, want := m.SHA256(), hex.EncodeToString(sum[:]); got != want {
		t.Errorf("SHA256() = %s, want %s", got, want)
	}
	if m.Name() != "legacy-id-subject" {
		t.Errorf("Name() = %q", m.Name())
	}
	unnamed := load(t, r, wasm, "", "")
	if unnamed.Name() != m.SHA256()[:12] {
		t.Errorf("an unnamed module is named %q, want its hash's first 12 digits", unnamed.Name())
	}
}

func TestApplyExample(t *testing.T) {
	wasm := mustWasm(t, exampleWasm)
	r := newRuntime(t, Options{})
	tests := []struct {
		name, config, stream string
		records              []string
		want                 []any // the subjects after
	}{
		{"default prefix", "", "tickets", []string{`{"id":"123","subject":"Printer on fire"}`}, []any{"[ZD-123] Printer on fire"}},
		{"config passed in", `{"prefix":"HD"}`, "tickets",
			[]string{`{"id":"123","subject":"Printer on fire"}`, `{"id":"7","subject":""}`, `{"id":"8","subject":"[HD-8] done"}`},
			[]any{"[HD-123] Printer on fire", "[HD-7]", "[HD-8] done"}},
		{"other streams kept", "", "users", []string{`{"id":"1","name":"Ann"}`}, []any{nil}},
		{"unicode and escapes", "", "tickets", []string{`{"id":"9","subject":"Imprimante \"en feu\" 🔥 <&>"}`},
			[]any{`[ZD-9] Imprimante "en feu" 🔥 <&>`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := load(t, r, wasm, "legacy-id-subject", tt.config)
			results, err := m.Apply(t.Context(), tt.stream, records(tt.records...))
			if err != nil {
				t.Fatal(err)
			}
			if len(results) != len(tt.records) {
				t.Fatalf("%d results for %d records", len(results), len(tt.records))
			}
			for i, res := range results {
				if res.Outcome != Keep || len(res.Records) != 1 || res.ModuleSHA256 != m.SHA256() {
					t.Fatalf("result %d = %+v, want a keep by %s", i, res, m.SHA256())
				}
				if got := field(t, res.Records[0], "subject"); got != tt.want[i] {
					t.Errorf("result %d: subject %#v, want %#v", i, got, tt.want[i])
				}
			}
		})
	}
}

// TestLoadDeclarationsTimeLimit checks that ferry_columns, the module's
// code too, runs under the time limit: a module that never answers is
// refused at load, not waited for.
func TestLoadDeclarationsTimeLimit(t *testing.T) {
	r := newRuntime(t, Options{BatchTimeout: 300 * time.Millisecond})
	began := time.Now()
	_, err := r.Load(t.Context(), mustWasm(t, misbehaveWasm), "misbehave", json.RawMessage(`{"loop_columns":true}`))
	if err == nil || !strings.Contains(err.Error(), "timed out in ferry_columns") {
		t.Fatalf("Load = %v, want it timed out in ferry_columns", err)
	}
	if d := time.Since(began); d > 10*time.Second {
		t.Errorf("Load took %s", d)
	}
}

func TestLoadConfigError(t *testing.T) {
	r := newRuntime(t, Options{})
	tests := []struct {
		name   string
		wasm   func() ([]byte, error)
		config string
		want   []string
	}{
		{"sdk setup error", exampleWasm, `{"prefix":""}`, []string{"transform legacy-id-subject:", "config:", "prefix must not be empty"}},
		{"sdk unknown field", exampleWasm, `{"prefx":"ZD"}`, []string{"transform legacy-id-subject:", `unknown field "prefx"`}},
		{"module's own error", misbehaveWasm, `{"fail":"no way"}`, []string{"transform legacy-id-subject:", "config: no way"}},
		{"invalid JSON", exampleWasm, `{"prefix":`, []string{"transform legacy-id-subject:", "not valid JSON"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := r.Load(t.Context(), mustWasm(t, tt.wasm), "legacy-id-subject", json.RawMessage(tt.config))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestLoadRejects(t *testing.T) {
	abi := abiFuncs(1, 1)
	tests := []struct {
		name string
		wasm []byte
		want string
	}{
		{"not wasm", []byte("\x7fELF nonsense"), "compile:"},
		{"no exports", assemble(nil, true), "it does not export ferry_abi_version"},
		{"no memory", assemble(abi, false), "it does not export its memory"},
		{"missing export", assemble(without(abi, "ferry_transform"), true), "it does not export ferry_transform"},
		{"wrong signature", assemble(replace(abi, wasmFunc{name: "ferry_alloc", results: []byte{wI32}, body: i32Const(0)}), true),
			"ferry_alloc has type () -> (i32), want (i32) -> (i32)"},
		{"command module", assemble(append(abi, wasmFunc{name: "_start"}), true), "WASI command"},
		{"unknown import", assemble(abi, true, [2]string{"env", "now"}), "it imports env.now, which ferry does not provide"},
		{"another ferry import", assemble(abi, true, [2]string{"ferry", "time"}), "it imports ferry.time"},
		// The yield is for the modules ferry instruments, not the customer's.
		{"imports the yield", assemble(abi, true, [2]string{"ferry", "__ferry_yield"}), "it imports ferry.__ferry_yield, which ferry does not provide"},
		{"ABI version 2", assemble(replace(abi, wasmFunc{name: "ferry_abi_version", results: []byte{wI32}, body: i32Const(2)}), true),
			"speaks transform ABI version 2; this ferry speaks version 1"},
		{"no known format", assemble(replace(abi, wasmFunc{name: "ferry_formats", results: []byte{wI32}, body: i32Const(4)}), true),
			"reads no batch format ferry writes"},
		{"columnar only, no declarations", assemble(replace(abi, wasmFunc{name: "ferry_formats", results: []byte{wI32}, body: i32Const(2)}), true),
			"reads whole records of users but not the JSON format"},
		{"ferry_columns of the wrong type", assemble(append(abi, wasmFunc{name: "ferry_columns", results: []byte{wI32}, body: i32Const(0)}), true),
			"ferry_columns has type () -> (i32), want (i32, i32) -> (i64)"},
		{"initialize never returns", assemble(append(abi, wasmFunc{name: "_initialize", body: loopForever}), true),
			"timed out in _initialize"},
		{"initialize traps", assemble(append(abi, wasmFunc{name: "_initialize", body: []byte{0x00}}), true),
			"crashed in _initialize: wasm error: unreachable"},
	}
	r := newRuntime(t, Options{BatchTimeout: 200 * time.Millisecond})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := r.Load(t.Context(), tt.wasm, "broken", nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "transform broken: ") {
				t.Fatalf("Load: %v, want an error naming the module and containing %q", err, tt.want)
			}
		})
	}
}

func TestOutcomes(t *testing.T) {
	r := newRuntime(t, Options{})
	m := load(t, r, mustWasm(t, misbehaveWasm), "misbehave", "")
	results, err := m.Apply(t.Context(), "tickets", records(
		`{"id":"1"}`, `{"id":"2","do":"drop"}`, `{"id":"3","do":"split"}`, `{"id":"4","do":"error"}`))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		outcome Outcome
		ids     []string
		reason  string
	}{
		{Keep, []string{"1"}, ""},
		{Drop, nil, "dropped 2"},
		{Split, []string{"3-a", "3-b"}, ""},
		{Error, nil, "failed 4"},
	}
	for i, w := range want {
		got := results[i]
		if got.Outcome != w.outcome || got.Reason != w.reason || len(got.Records) != len(w.ids) || got.ModuleSHA256 != m.SHA256() {
			t.Errorf("result %d = %+v, want %v %q with %d records", i, got, w.outcome, w.reason, len(w.ids))
			continue
		}
		for j, id := range w.ids {
			if got := field(t, got.Records[j], "id"); got != id {
				t.Errorf("result %d record %d: id %v, want %s", i, j, got, id)
			}
		}
	}
}

func TestConfigPassedIn(t *testing.T) {
	r := newRuntime(t, Options{})
	m := load(t, r, mustWasm(t, misbehaveWasm), "misbehave", `{"answer": 42}`)
	results, err := m.Apply(t.Context(), "config", records(`{"id":"1"}`))
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := field(t, results[0].Records[0], "config").(map[string]any)
	if cfg["answer"] != 42.0 {
		t.Errorf("the module saw config %v, want {\"answer\": 42}", cfg)
	}
}

// TestBatchFailures runs batches that break the module in each way the
// sandbox must survive: every record of the batch fails with a reason that
// says what happened, and the next batch works.
func TestBatchFailures(t *testing.T) {
	tests := []struct {
		stream string
		opts   Options
		want   string
	}{
		{"loop", Options{BatchTimeout: 300 * time.Millisecond}, "transform misbehave: timed out: the batch took over 300ms"},
		// A Go module in reactor mode panics into an unreachable trap, having
		// printed the panic to stderr.
		{"panic", Options{}, "transform misbehave: crashed in ferry_transform: wasm error: unreachable: panic: boom"},
		// 1024 pages (64 MiB) keep the test fast; the default is 4096.
		{"oom", Options{MemoryLimitPages: 1024}, "out of memory"},
		{"garbage", Options{}, "transform misbehave: malformed reply: invalid character"},
		{"nothing", Options{}, "transform misbehave: ferry_transform returned no reply"},
		{"oob", Options{}, "transform misbehave: reply at 0xfff00000 (64 bytes) is out of the module's memory"},
		{"batcherror", Options{}, "transform misbehave: cannot read this batch"},
		{"count", Options{}, "transform misbehave: the module returned 2 results for 3 records"},
		// The sandbox: each attempt stops the batch, with what was tried.
		{"file", Options{}, "tried to open a file: /etc/passwd (transforms have no filesystem)"},
		{"writefile", Options{}, "tried to open a file: /tmp/ferry-pwned (transforms have no filesystem)"},
		// Go resolves names from files: the first it opens stops it.
		{"resolve", Options{}, "tried to open a file: /etc/"},
		{"socket", Options{}, "tried to use the network (sock_accept on a socket; transforms have no network)"},
		{"env", Options{}, "tried to read the environment (environ_sizes_get; transforms have none)"},
		{"args", Options{}, "tried to read its arguments (args_sizes_get; transforms have none)"},
		{"stdout", Options{OutputLimit: 64 << 10}, "wrote more than 65536 bytes to stdout"},
		{"stderrflood", Options{OutputLimit: 64 << 10}, "wrote more than 65536 bytes to stderr"},
	}
	for _, tt := range tests {
		t.Run(tt.stream, func(t *testing.T) {
			r := newRuntime(t, tt.opts)
			m := load(t, r, mustWasm(t, misbehaveWasm), "misbehave", "")
			results, err := m.Apply(t.Context(), tt.stream, records(`{"id":"1"}`, `{"id":"2"}`, `{"id":"3"}`))
			if err != nil {
				t.Fatalf("Apply: %v (a failed batch is failed records, not an error)", err)
			}
			if len(results) != 3 {
				t.Fatalf("%d results for 3 records", len(results))
			}
			t.Logf("reason: %s", results[0].Reason)
			for i, res := range results {
				if res.Outcome != Error || !strings.Contains(res.Reason, tt.want) || res.ModuleSHA256 != m.SHA256() {
					t.Errorf("result %d = %v %q, want an error containing %q", i, res.Outcome, res.Reason, tt.want)
				}
			}
			results, err = m.Apply(t.Context(), "tickets", records(`{"id":"4"}`))
			if err != nil || len(results) != 1 || results[0].Outcome != Keep {
				t.Fatalf("the batch after: %+v, %v; want a keep", results, err)
			}
		})
	}
}

// TestTimeLimitDuringGC runs a batch that loops forever while garbage
// collections run. A collection stops the world, which waits for every
// goroutine, the one looping in the module included: the module must come
// back to Go for it (and for its time limit) of itself, or the process
// hangs, until go test kills it.
func TestTimeLimitDuringGC(t *testing.T) {
	tests := []struct {
		name string
		opts Options
	}{
		// A second: the batch after the loop starts a new instance,
		// which on a loaded machine takes a good part of 300ms.
		{"fuel", Options{BatchTimeout: time.Second}},
		{"wazero's checks", Options{BatchTimeout: time.Second, CloseOnContextDone: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRuntime(t, tt.opts)
			m := load(t, r, mustWasm(t, misbehaveWasm), "misbehave", "")
			ctx, cancel := context.WithCancel(t.Context())
			var collections atomic.Int64
			var wg sync.WaitGroup
			wg.Go(func() {
				for ctx.Err() == nil {
					time.Sleep(20 * time.Millisecond)
					runtime.GC()
					collections.Add(1)
				}
			})
			began := time.Now()
			results, err := m.Apply(t.Context(), "loop", records(`{"id":"1"}`))
			elapsed := time.Since(began)
			during := collections.Load()
			cancel()
			wg.Wait()
			if err != nil {
				t.Fatalf("Apply: %v (a batch out of time is failed records, not an error)", err)
			}
			if want := "transform misbehave: timed out: the batch took over 1s"; results[0].Outcome != Error || results[0].Reason != want {
				t.Errorf("result %v %q, want an error %q", results[0].Outcome, results[0].Reason, want)
			}
			if elapsed > 5*time.Second {
				t.Errorf("the batch stopped %s after it began, with a limit of 1s", elapsed)
			}
			if during == 0 {
				t.Error("no garbage collection finished while the module looped")
			}
			results, err = m.Apply(t.Context(), "tickets", records(`{"id":"2"}`))
			if err != nil || results[0].Outcome != Keep {
				t.Fatalf("the batch after: %+v, %v; want a keep", results, err)
			}
		})
	}
}

func TestApplyCallerCancels(t *testing.T) {
	r := newRuntime(t, Options{BatchTimeout: time.Minute})
	m := load(t, r, mustWasm(t, misbehaveWasm), "misbehave", "")
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	began := time.Now()
	_, err := m.Apply(ctx, "loop", records(`{"id":"1"}`))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Apply with the caller's deadline passed: %v, want context.DeadlineExceeded", err)
	}
	if elapsed := time.Since(began); elapsed > 10*time.Second {
		t.Errorf("Apply returned %s after the caller's deadline", elapsed)
	}
	results, err := m.Apply(t.Context(), "tickets", records(`{"id":"2"}`))
	if err != nil || results[0].Outcome != Keep {
		t.Fatalf("the batch after: %+v, %v", results, err)
	}
}

func TestApplyRejectsBadRecords(t *testing.T) {
	r := newRuntime(t, Options{})
	m := load(t, r, mustWasm(t, misbehaveWasm), "misbehave", "")
	for _, rec := range []string{`[]`, `"x"`, `{`, ``} {
		if _, err := m.Apply(t.Context(), "tickets", records(`{"id":"1"}`, rec)); err == nil {
			t.Errorf("Apply with record %q: no error", rec)
		}
	}
	if res, err := m.Apply(t.Context(), "tickets", nil); err != nil || len(res) != 0 {
		t.Errorf("Apply of no records: %v, %v", res, err)
	}
}

func TestLogImport(t *testing.T) {
	var buf logBuffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	r := newRuntime(t, Options{Logger: logger})
	m := load(t, r, mustWasm(t, misbehaveWasm), "misbehave", "")
	for _, stream := range []string{"log", "stderr"} {
		if _, err := m.Apply(t.Context(), stream, records(`{"id":"1"}`)); err != nil {
			t.Fatal(err)
		}
	}
	type line struct{ level, msg, stream string }
	var got []line
	for _, l := range buf.lines(t) {
		if l["transform"] != "misbehave" {
			t.Errorf("line %v does not name the module", l)
		}
		stream, _ := l["stream"].(string)
		got = append(got, line{l["level"].(string), l["msg"].(string), stream})
	}
	want := []line{
		{"INFO", "configured", ""},
		{"INFO", "an info line", "log"},
		{"WARN", "a warning", "log"},
		{"ERROR", "an error", "log"},
		{"WARN", "transform wrote to stderr", "stderr"},
	}
	if len(got) != len(want) {
		t.Fatalf("logged %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d = %v, want %v", i, got[i], want[i])
		}
	}
	if stderr := buf.lines(t)[4]["stderr"]; stderr != "something odd\n" {
		t.Errorf("stderr logged as %q", stderr)
	}
}

func TestCompilationCache(t *testing.T) {
	wasm := mustWasm(t, exampleWasm)
	dir := t.TempDir()
	loadOnce := func() time.Duration {
		r, err := NewRuntime(t.Context(), Options{CacheDir: dir, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close(context.Background())
		began := time.Now()
		load(t, r, wasm, "legacy-id-subject", "")
		return time.Since(began)
	}
	cold := loadOnce()
	var files int
	err := filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files++
		}
		return err
	})
	if err != nil || files == 0 {
		t.Fatalf("cache dir has %d files after a load (%v)", files, err)
	}
	warm := loadOnce()
	t.Logf("load with a cold cache: %s, warm: %s", cold, warm)
	if warm > cold {
		t.Logf("the warm load was not faster; timing is noisy, the cache dir is populated")
	}
}

func TestConcurrentApply(t *testing.T) {
	r := newRuntime(t, Options{})
	m := load(t, r, mustWasm(t, exampleWasm), "legacy-id-subject", "")
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			id := string(rune('a' + g))
			for range 5 {
				res, err := m.Apply(t.Context(), "tickets", records(`{"id":"`+id+`","subject":"s"}`))
				if err != nil {
					t.Error(err)
					return
				}
				if got := field(t, res[0].Records[0], "subject"); got != "[ZD-"+id+"] s" {
					t.Errorf("subject %v", got)
				}
			}
		})
	}
	wg.Wait()
}

func TestClose(t *testing.T) {
	r := newRuntime(t, Options{})
	m := load(t, r, mustWasm(t, exampleWasm), "legacy-id-subject", "")
	if err := m.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(t.Context()); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := m.Apply(t.Context(), "tickets", records(`{"id":"1"}`)); !errors.Is(err, ErrClosed) {
		t.Errorf("Apply after Close: %v, want ErrClosed", err)
	}
}

// TestCloseOneOfTwo checks that modules loaded from the same bytes, which
// share compiled code, do not take it from each other when one is closed.
func TestCloseOneOfTwo(t *testing.T) {
	r := newRuntime(t, Options{})
	wasm := mustWasm(t, misbehaveWasm)
	a, b := load(t, r, wasm, "a", ""), load(t, r, wasm, "b", "")
	if err := a.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	// The panic discards b's instance, so the next batch instantiates anew.
	for _, stream := range []string{"panic", "tickets"} {
		if _, err := b.Apply(t.Context(), stream, records(`{"id":"1"}`)); err != nil {
			t.Fatal(err)
		}
	}
	res, err := b.Apply(t.Context(), "tickets", records(`{"id":"1"}`))
	if err != nil || res[0].Outcome != Keep {
		t.Fatalf("b after a was closed: %+v, %v", res, err)
	}
}

func TestNewRuntimeOptions(t *testing.T) {
	if _, err := NewRuntime(t.Context(), Options{MemoryLimitPages: 65537}); err == nil {
		t.Error("a memory limit over 4 GiB: no error")
	}
	if _, err := NewRuntime(t.Context(), Options{CacheDir: "/dev/null/cache"}); err == nil {
		t.Error("an unusable cache dir: no error")
	}
}

// BenchmarkExample measures the example transform on batches of 1000 tickets.
func BenchmarkExample(b *testing.B) {
	r := newRuntime(b, Options{})
	m := load(b, r, mustWasm(b, exampleWasm), "legacy-id-subject", "")
	batch := make([]json.RawMessage, 1000)
	for i := range batch {
		batch[i] = json.RawMessage(`{"id":"` + string(rune('0'+i%10)) + `","subject":"Printer on fire","status":"open",` +
			`"tags":["printer","fire"],"created_at":"2024-03-01T10:20:30Z","custom_fields":{"360":"x"},"raw":{"id":1,"via":{"channel":"email"}}}`)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := m.Apply(b.Context(), "tickets", batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(batch))/b.Elapsed().Seconds(), "records/s")
}

// TestSandboxHidesTheHost: a module sees nothing of the host process it
// runs in, though it asks in the ways that do not stop a batch: the
// environment and arguments it starts with are empty (the host's hold a
// secret here), a TCP connection to a listener of the host reaches nothing,
// stdin is empty and the clock is not the host's.
func TestSandboxHidesTheHost(t *testing.T) {
	const secret = "ferry-sandbox-test-secret-6b1d"
	t.Setenv("FERRY_SANDBOX_TEST_SECRET", secret)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		b, _ := io.ReadAll(io.LimitReader(c, 64))
		c.Close()
		accepted <- string(b)
	}()

	r := newRuntime(t, Options{})
	m := load(t, r, mustWasm(t, misbehaveWasm), "misbehave", "")
	apply := func(stream, record string) map[string]any {
		t.Helper()
		results, err := m.Apply(t.Context(), stream, records(record))
		if err != nil || len(results) != 1 {
			t.Fatalf("%s: %v, %v", stream, results, err)
		}
		res := results[0]
		if res.Outcome != Keep {
			t.Fatalf("%s: %v %q, want a keep", stream, res.Outcome, res.Reason)
		}
		var out map[string]any
		if err := json.Unmarshal(res.Records[0], &out); err != nil {
			t.Fatal(err)
		}
		return out
	}

	got := apply("initenv", `{"id":"1"}`)
	if got["env"] != "" || got["args"] != "" {
		t.Errorf("the module started with environment %q and arguments %q, want none", got["env"], got["args"])
	}
	got = apply("dial", fmt.Sprintf(`{"id":"2","addr":%q}`, ln.Addr().String()))
	t.Logf("the module's dial: %v", got["dial"])
	if d, _ := got["dial"].(string); strings.HasPrefix(d, "connected") {
		t.Errorf("the module connected to %s: %s", ln.Addr(), d)
	}
	select {
	case b := <-accepted:
		t.Errorf("the host's listener accepted a connection from the module: %q", b)
	case <-time.After(200 * time.Millisecond):
	}
	got = apply("stdin", `{"id":"3"}`)
	if got["stdin"] != "" {
		t.Errorf("the module read %q from stdin", got["stdin"])
	}
	got = apply("clock", `{"id":"4"}`)
	t.Logf("the module's clock: %v", got["now"])
	if now, _ := got["now"].(float64); math.Abs(now-float64(time.Now().Unix())) < 24*3600 {
		t.Errorf("the module's clock reads %v, the host's time", got["now"])
	}
	// And the environment stays out when asked during a batch (a
	// violation, TestBatchFailures), even in a failure's reason.
	results, err := m.Apply(t.Context(), "env", records(`{"id":"5"}`))
	if err != nil || len(results) != 1 || results[0].Outcome != Error || strings.Contains(results[0].Reason, secret) {
		t.Errorf("reading the environment in a batch: %+v, %v", results, err)
	}
}
