package transform

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
)

// The function indices of indicesModule: the import first, then the
// functions in the order of indicesFuncs.
const (
	fnSeven = iota
	fnOne
	fnTwo
	fnCallOne
	fnIndirect
	fnStart
	fnStarted
	fnViaGlobal
	fnViaRefFunc
	fnCount
	fnCountParams
	fnCallSeven
	fnBase
	fnEven
	fnOdd
	fnTailIndirect
	fnSpin
	fnPassive
	fnSegments
)

// The types of indicesModule.
const (
	tI32    = 0 // [] -> [i32]
	tI32I32 = 1 // [i32] -> [i32]
	tVoid   = 2 // [] -> []
)

// indicesFuncs are the functions of indicesModule, exported under their
// names but for the start function.
var indicesFuncs = []struct {
	name   string
	typ    byte
	locals []byte // local declarations, with their count
	body   []byte // without the final end
}{
	{"one", tI32, nil, i32Const(1)},
	{"two", tI32, nil, i32Const(2)},
	{"call_one", tI32, nil, []byte{opCall, fnOne}},
	// table[n]()
	{"indirect", tI32I32, nil, []byte{0x20, 0x00, 0x11, tI32, 0x00}},
	{"", tVoid, nil, cat(i32Const(1), []byte{opGlobalSet, 1})},
	{"started", tI32, nil, []byte{opGlobalGet, 1}},
	// table[5] = the funcref global; table[5]()
	{"via_global", tI32, nil, cat(i32Const(5), []byte{opGlobalGet, 2, 0x26, 0x00}, i32Const(5), []byte{0x11, tI32, 0x00})},
	// table[6] = ref.func one; table[6]()
	{"via_ref_func", tI32, nil, cat(i32Const(6), []byte{opRefFunc, fnOne, 0x26, 0x00}, i32Const(6), []byte{0x11, tI32, 0x00})},
	// for n > 0 { n--; c++ }; c
	{"count", tI32I32, []byte{0x01, 0x01, wI32}, cat(
		[]byte{0x02, blockEmpty, opLoop, blockEmpty, 0x20, 0x00, opI32Eqz, 0x0d, 0x01},
		[]byte{0x20, 0x00}, i32Const(1), []byte{opI32Sub, 0x21, 0x00},
		[]byte{0x20, 0x01}, i32Const(1), []byte{0x6a, 0x21, 0x01},
		[]byte{opBr, 0x00, opEnd, opEnd, 0x20, 0x01})},
	// The same with n a parameter of the loop: a loop of type [i32] -> [i32].
	{"count_params", tI32I32, []byte{0x01, 0x01, wI32}, cat(
		[]byte{0x20, 0x00, opLoop, tI32I32},
		[]byte{0x20, 0x01}, i32Const(1), []byte{0x6a, 0x21, 0x01},
		i32Const(1), []byte{opI32Sub, 0x22, 0x00, 0x20, 0x00, 0x0d, 0x00, opEnd, 0x1a, 0x20, 0x01})},
	{"call_seven", tI32, nil, []byte{opCall, fnSeven}},
	{"base", tI32, nil, []byte{opGlobalGet, 0}},
	// even(n) = n == 0 || odd(n-1), and odd(n) = n != 0 && even(n-1), in
	// tail calls.
	{"even", tI32I32, nil, cat([]byte{0x20, 0x00, opI32Eqz, opIf, wI32}, i32Const(1),
		[]byte{0x05, 0x20, 0x00}, i32Const(1), []byte{opI32Sub, opReturnCall, fnOdd, opEnd})},
	{"odd", tI32I32, nil, cat([]byte{0x20, 0x00, opI32Eqz, opIf, wI32}, i32Const(0),
		[]byte{0x05, 0x20, 0x00}, i32Const(1), []byte{opI32Sub, opReturnCall, fnEven, opEnd})},
	// return table[1]()
	{"tail_indirect", tI32, nil, cat(i32Const(1), []byte{opReturnCallIndirect, tI32, 0x00})},
	{"spin", tVoid, nil, loopForever},
	// table[20:22] = elem 1 and 5, passive; table[20]() + table[21]()
	{"passive", tI32, nil, cat(
		i32Const(20), i32Const(0), i32Const(1), []byte{0xfc, 12, 1, 0},
		i32Const(21), i32Const(0), i32Const(1), []byte{0xfc, 12, 5, 0},
		i32Const(20), []byte{0x11, tI32, 0x00}, i32Const(21), []byte{0x11, tI32, 0x00, 0x6a})},
	// table[10]()*100 + table[30]()*10 + table[40](), set by active segments
	{"segments", tI32, nil, cat(
		i32Const(10), []byte{0x11, tI32, 0x00}, i32Const(100), []byte{0x6c},
		i32Const(30), []byte{0x11, tI32, 0x00}, i32Const(10), []byte{0x6c, 0x6a},
		i32Const(40), []byte{0x11, tI32, 0x00, 0x6a})},
}

func cat(parts ...[]byte) []byte { return slices.Concat(parts...) }

// expr is a constant expression: the instructions and end.
func expr(instrs ...byte) []byte { return append(instrs, opEnd) }

// customSection returns a custom section named name.
func customSection(name string, content []byte) []byte {
	body := append(wasmName(name), content...)
	return cat([]byte{secCustom}, uleb(uint64(len(body))), body)
}

// indicesModule is a module that names functions in every way wasm has: an
// imported function and global, calls, call_indirect through a table that
// the eight forms of element segment fill, ref.func in code and in a global,
// a start function, exports, tail calls and the name section.
func indicesModule() []byte {
	out := []byte("\x00asm\x01\x00\x00\x00")
	out = append(out, section(secType, []byte{0x60, 0x00, 0x01, wI32}, []byte{0x60, 0x01, wI32, 0x01, wI32}, []byte{0x60, 0x00, 0x00})...)
	out = append(out, section(secImport,
		cat(wasmName("env"), wasmName("seven"), []byte{0x00, tI32}),
		cat(wasmName("env"), wasmName("base"), []byte{0x03, wI32, 0x00}))...)
	var types, exports, codes [][]byte
	for i, f := range indicesFuncs {
		types = append(types, []byte{f.typ})
		if f.name != "" {
			exports = append(exports, cat(wasmName(f.name), []byte{0x00}, uleb(uint64(1+i))))
		}
		locals := f.locals
		if locals == nil {
			locals = []byte{0x00}
		}
		code := cat(locals, f.body, []byte{opEnd})
		codes = append(codes, cat(uleb(uint64(len(code))), code))
	}
	out = append(out, section(3, types...)...)
	out = append(out, section(4, []byte{0x70, 0x00, 64})...) // funcref table, 64 entries
	out = append(out, section(secGlobal,
		cat([]byte{wI32, 0x01}, expr(i32Const(0)...)),       // 1: started
		cat([]byte{0x70, 0x00}, expr(opRefFunc, fnTwo)))...) // 2: funcref two
	out = append(out, section(secExport, exports...)...)
	out = append(out, secStart, 0x01, fnStart) // not a vector
	refFunc := func(f byte) []byte { return expr(opRefFunc, f) }
	out = append(out, section(secElement,
		cat([]byte{0}, expr(i32Const(0)...), []byte{2, fnOne, fnTwo}),
		cat([]byte{1, 0x00}, []byte{1, fnStarted}),
		cat([]byte{2, 0}, expr(i32Const(30)...), []byte{0x00, 1, fnSeven}),
		cat([]byte{3, 0x00}, []byte{1, fnOne}),
		cat([]byte{4}, expr(i32Const(10)...), []byte{2}, refFunc(fnCallOne), expr(0xd0, 0x70)),
		cat([]byte{5, 0x70}, []byte{1}, refFunc(fnBase)),
		cat([]byte{6, 0}, expr(i32Const(40)...), []byte{0x70, 1}, refFunc(fnTwo)),
		cat([]byte{7, 0x70}, []byte{1}, refFunc(fnTwo)))...)
	out = append(out, section(secCode, codes...)...)

	var fnNames [][]byte
	fnNames = append(fnNames, cat(uleb(fnSeven), wasmName("env.seven")))
	for i, f := range indicesFuncs {
		fnNames = append(fnNames, cat(uleb(uint64(1+i)), wasmName("fn_"+f.name)))
	}
	subsection := func(id byte, body []byte) []byte { return cat([]byte{id}, uleb(uint64(len(body))), body) }
	names := cat(
		subsection(0, wasmName("indices")),
		subsection(1, cat(uleb(uint64(len(fnNames))), cat(fnNames...))),
		subsection(2, cat([]byte{1}, uleb(fnCount), []byte{2, 0}, wasmName("n"), []byte{1}, wasmName("c"))),
		subsection(7, cat([]byte{1, 1}, wasmName("started"))),
		subsection(0x42, []byte("some future subsection")))
	out = append(out, customSection("name", names)...)
	return append(out, customSection("producers", []byte("\x00"))...)
}

// envModule provides the imports of indicesModule: env.seven, which returns
// 7, and env.base, 100.
func envModule() []byte {
	out := []byte("\x00asm\x01\x00\x00\x00")
	out = append(out, section(secType, []byte{0x60, 0x00, 0x01, wI32})...)
	out = append(out, section(3, []byte{0})...)
	out = append(out, section(secGlobal, cat([]byte{wI32, 0x00}, expr(i32Const(100)...)))...)
	out = append(out, section(secExport, cat(wasmName("seven"), []byte{0x00, 0}), cat(wasmName("base"), []byte{0x03, 0}))...)
	code := cat([]byte{0x00}, i32Const(7), []byte{opEnd})
	return append(out, section(secCode, cat(uleb(uint64(len(code))), code))...)
}

// yieldRuntime returns a wazero runtime, with tail calls, whose ferry
// module has the yield, counting the calls in *yields.
func yieldRuntime(t *testing.T, yields *int) wazero.Runtime {
	t.Helper()
	config := wazero.NewRuntimeConfigCompiler().WithCoreFeatures(api.CoreFeaturesV2 | experimental.CoreFeaturesTailCall)
	w := wazero.NewRuntimeWithConfig(t.Context(), config)
	t.Cleanup(func() { w.Close(context.Background()) })
	_, err := w.NewHostModuleBuilder(hostModule).
		NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, mod api.Module, stack []uint64) {
			*yields++
			hostYield(ctx, mod, stack)
		}), nil, nil).
		Export(hostYieldFunc).
		Instantiate(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.InstantiateWithConfig(t.Context(), envModule(), wazero.NewModuleConfig().WithName("env")); err != nil {
		t.Fatal(err)
	}
	return w
}

// TestInstrumentIndices runs the functions of indicesModule, as it is and
// instrumented: each must do the same, through every way the module names
// a function, and the loops must yield.
func TestInstrumentIndices(t *testing.T) {
	var yields int
	w := yieldRuntime(t, &yields)
	original := indicesModule()
	instrumented, err := instrument(original)
	if err != nil {
		t.Fatal(err)
	}
	const n = 3*fuelPerYield + 5
	tests := []struct {
		fn     string
		arg    uint64 // for functions of one parameter
		want   uint64
		yields int // at least, instrumented
	}{
		{"one", 0, 1, 0},
		{"call_one", 0, 1, 0},
		{"indirect", 0, 1, 0},
		{"indirect", 1, 2, 0},
		{"indirect", 10, 1, 0},
		{"indirect", 30, 7, 0},
		{"indirect", 40, 2, 0},
		{"started", 0, 1, 0},
		{"via_global", 0, 2, 0},
		{"via_ref_func", 0, 1, 0},
		{"count", 5, 5, 0},
		{"count", n, n, 3},
		{"count_params", 5, 5, 0},
		{"count_params", n, n, 3},
		{"call_seven", 0, 7, 0},
		{"base", 0, 100, 0},
		{"even", 10, 1, 0},
		{"odd", 10, 0, 0},
		{"even", n, 0, 3},
		{"tail_indirect", 0, 2, 0},
		{"passive", 0, 101, 0},
		{"segments", 0, 172, 0},
	}
	for _, variant := range []struct {
		name string
		wasm []byte
	}{{"original", original}, {"instrumented", instrumented}} {
		t.Run(variant.name, func(t *testing.T) {
			mod, err := w.InstantiateWithConfig(t.Context(), variant.wasm, wazero.NewModuleConfig().WithName(""))
			if err != nil {
				t.Fatal(err)
			}
			defer mod.Close(t.Context())
			for _, tt := range tests {
				fn := mod.ExportedFunction(tt.fn)
				var params []uint64
				if len(fn.Definition().ParamTypes()) == 1 {
					params = []uint64{tt.arg}
				}
				before := yields
				// Should the instrumenter get a function wrong, spin
				// could run instead: the deadline stops it, instrumented.
				ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
				res, err := fn.Call(ctx, params...)
				cancel()
				if err != nil || len(res) != 1 || res[0] != tt.want {
					t.Errorf("%s(%v) = %v, %v; want %d", tt.fn, params, res, err, tt.want)
				}
				// The fuel left by the calls before may run out once more.
				got, want := yields-before, tt.yields
				switch {
				case variant.name == "original" && got != 0:
					t.Errorf("%s(%v) yielded %d times uninstrumented", tt.fn, params, got)
				case variant.name == "instrumented" && (got < want || got > want+1):
					t.Errorf("%s(%v) yielded %d times, want %d (or one more)", tt.fn, params, got, want)
				}
			}
		})
	}
}

// TestInstrumentSections checks what instrument writes of the module
// around the code: the import, the global and their export, the names.
func TestInstrumentSections(t *testing.T) {
	var yields int
	w := yieldRuntime(t, &yields)
	instrumented, err := instrument(indicesModule())
	if err != nil {
		t.Fatal(err)
	}
	compiled, err := w.CompileModule(t.Context(), instrumented)
	if err != nil {
		t.Fatal(err)
	}
	var imports []string
	for _, imp := range compiled.ImportedFunctions() {
		module, name, _ := imp.Import()
		imports = append(imports, fmt.Sprintf("%d %s.%s %s", imp.Index(), module, name, imp.Name()))
	}
	// The yield comes last of the imports, and has no name.
	if want := []string{"0 env.seven env.seven", "1 ferry.__ferry_yield "}; !slices.Equal(imports, want) {
		t.Errorf("imports %q, want %q", imports, want)
	}
	// Names follow their functions.
	for i, f := range indicesFuncs {
		if f.name == "" {
			continue
		}
		def := compiled.ExportedFunctions()[f.name]
		if def.Index() != uint32(i+2) || def.Name() != "fn_"+f.name {
			t.Errorf("export %s is function %d named %q, want %d named %q", f.name, def.Index(), def.Name(), i+2, "fn_"+f.name)
		}
	}
	if got := compiled.ExportedFunctions()["count"].ParamNames(); !slices.Equal(got, []string{"n"}) {
		t.Errorf("count's parameters are named %q, want n", got)
	}
	if got := compiled.Name(); got != "indices" {
		t.Errorf("module name %q, want indices", got)
	}
	// Only the name section is left of the custom sections.
	if got := customSectionNames(t, instrumented); !slices.Equal(got, []string{"name"}) {
		t.Errorf("custom sections %q, want only the name section", got)
	}

	mod, err := w.InstantiateWithConfig(t.Context(), instrumented, wazero.NewModuleConfig().WithName(""))
	if err != nil {
		t.Fatal(err)
	}
	defer mod.Close(t.Context())
	fuel, ok := mod.ExportedGlobal(fuelExport).(api.MutableGlobal)
	if !ok {
		t.Fatalf("no mutable global %s", fuelExport)
	}
	if got := fuel.Get(); got != fuelPerYield {
		t.Errorf("fuel starts at %d, want %d", got, fuelPerYield)
	}
	if _, err := mod.ExportedFunction("count").Call(t.Context(), 10); err != nil {
		t.Fatal(err)
	}
	// 11 loop heads: the 10 turns and the last test.
	if got := fuel.Get(); got != fuelPerYield-11 {
		t.Errorf("fuel after 10 loops: %d, want %d", got, fuelPerYield-11)
	}
}

// customSectionNames returns the names of a module's custom sections.
func customSectionNames(t *testing.T, wasm []byte) []string {
	t.Helper()
	var names []string
	r := &reader{b: wasm, i: 8}
	for r.i < len(r.b) {
		id := r.byte()
		body := r.bytes(int(r.u32()))
		if id == secCustom {
			names = append(names, (&reader{b: body}).name())
		}
	}
	if r.err != nil {
		t.Fatal(r.err)
	}
	return names
}

// TestInstrumentAddsSections instruments modules that lack the sections
// the additions go in, or a [] -> [] type.
func TestInstrumentAddsSections(t *testing.T) {
	noVoidType := []byte("\x00asm\x01\x00\x00\x00")
	noVoidType = append(noVoidType, section(secType, []byte{0x60, 0x00, 0x01, wI32})...)
	noVoidType = append(noVoidType, section(3, []byte{0})...)
	noVoidType = append(noVoidType, section(secExport, cat(wasmName("three"), []byte{0x00, 0}))...)
	// loop (result i32) i32.const 3 end
	code := cat([]byte{0x00, opLoop, wI32}, i32Const(3), []byte{opEnd, opEnd})
	noVoidType = append(noVoidType, section(secCode, cat(uleb(uint64(len(code))), code))...)

	tests := []struct {
		name string
		wasm []byte
	}{
		{"empty module", []byte("\x00asm\x01\x00\x00\x00")},
		{"no [] -> [] type, no import, no global", noVoidType},
	}
	var yields int
	w := yieldRuntime(t, &yields)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			instrumented, err := instrument(tt.wasm)
			if err != nil {
				t.Fatal(err)
			}
			compiled, err := w.CompileModule(t.Context(), instrumented)
			if err != nil {
				t.Fatal(err)
			}
			imports := compiled.ImportedFunctions()
			if len(imports) != 1 || len(imports[0].ParamTypes()) != 0 || len(imports[0].ResultTypes()) != 0 {
				t.Fatalf("imports %v, want the yield, of type [] -> []", imports)
			}
			if module, name, _ := imports[0].Import(); module != hostModule || name != hostYieldFunc {
				t.Errorf("imports %s.%s, want %s.%s", module, name, hostModule, hostYieldFunc)
			}
			mod, err := w.InstantiateModule(t.Context(), compiled, wazero.NewModuleConfig().WithName(""))
			if err != nil {
				t.Fatal(err)
			}
			defer mod.Close(t.Context())
			if _, ok := mod.ExportedGlobal(fuelExport).(api.MutableGlobal); !ok {
				t.Errorf("no mutable global %s", fuelExport)
			}
			if fn := mod.ExportedFunction("three"); fn != nil {
				if res, err := fn.Call(t.Context()); err != nil || res[0] != 3 {
					t.Errorf("three() = %v, %v", res, err)
				}
			}
		})
	}
}

// TestInstrumentRefuses checks the modules instrument leaves to wazero's
// checks.
func TestInstrumentRefuses(t *testing.T) {
	abi := abiFuncs(1, 1)
	tests := []struct {
		name string
		wasm []byte
		want string
	}{
		{"not wasm", []byte("\x7fELF nonsense"), "not a wasm module"},
		{"cut short", []byte("\x00asm\x01\x00\x00\x00\x01\x10\x01"), "unexpected end"},
		{"exports the fuel", assemble(append(abi, wasmFunc{name: fuelExport}), true), "it exports __ferry_fuel itself"},
		{"imports the yield", assemble(abi, true, [2]string{hostModule, hostYieldFunc}), "it imports ferry.__ferry_yield itself"},
		{"sets a global past its own", assemble(append(abi, wasmFunc{name: "f", body: cat(i32Const(0), []byte{opGlobalSet, 0})}), true),
			"global index 0, and the module has 0 globals"},
		{"unknown opcode", assemble(append(abi, wasmFunc{name: "f", body: []byte{0x14, 0x00}}), true), "unknown opcode 0x14"},
		{"bad element flags", append(assemble(abi, true), section(secElement, []byte{8})...), "segment 0 has flags 0x8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := instrument(tt.wasm)
			if !errors.Is(err, errUninstrumentable) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("instrument: %v, want errUninstrumentable saying %q", err, tt.want)
			}
		})
	}
}

// TestInstrumentGoModules instruments the Go test modules: their imports
// and exports must be as before, plus the yield, and their exports keep
// their functions' names, which wazero's stack traces show.
func TestInstrumentGoModules(t *testing.T) {
	tests := []struct {
		name  string
		build func() ([]byte, error)
	}{
		{"legacy-id-subject", exampleWasm},
		{"misbehave", misbehaveWasm},
	}
	// The interpreter validates modules as the compiler does, in a
	// fraction of the time.
	w := wazero.NewRuntimeWithConfig(t.Context(), wazero.NewRuntimeConfigInterpreter())
	t.Cleanup(func() { w.Close(context.Background()) })
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wasm := mustWasm(t, tt.build)
			instrumented, err := instrument(wasm)
			if err != nil {
				t.Fatal(err)
			}
			before, err := w.CompileModule(t.Context(), wasm)
			if err != nil {
				t.Fatal(err)
			}
			after, err := w.CompileModule(t.Context(), instrumented)
			if err != nil {
				t.Fatal(err)
			}
			importsBefore, importsAfter := before.ImportedFunctions(), after.ImportedFunctions()
			if len(importsAfter) != len(importsBefore)+1 {
				t.Fatalf("%d imports instrumented, %d before", len(importsAfter), len(importsBefore))
			}
			if module, name, _ := importsAfter[len(importsBefore)].Import(); module != hostModule || name != hostYieldFunc {
				t.Errorf("last import %s.%s, want %s.%s", module, name, hostModule, hostYieldFunc)
			}
			for i, imp := range importsBefore {
				if imp.Name() != importsAfter[i].Name() {
					t.Errorf("import %d named %q, was %q", i, importsAfter[i].Name(), imp.Name())
				}
			}
			exports := before.ExportedFunctions()
			if len(exports) != len(after.ExportedFunctions()) {
				t.Errorf("%d exported functions instrumented, %d before", len(after.ExportedFunctions()), len(exports))
			}
			for name, def := range exports {
				got := after.ExportedFunctions()[name]
				switch {
				case got == nil:
					t.Errorf("%s is not exported any more", name)
				case got.Index() != def.Index()+1 || got.Name() != def.Name() || def.Name() == "" ||
					!slices.Equal(got.ParamTypes(), def.ParamTypes()) || !slices.Equal(got.ResultTypes(), def.ResultTypes()):
					t.Errorf("%s is function %d %q %s, was %d %q %s", name,
						got.Index(), got.Name(), signature{got.ParamTypes(), got.ResultTypes()},
						def.Index(), def.Name(), signature{def.ParamTypes(), def.ResultTypes()})
				}
			}
		})
	}
}

// TestInstrumentedSpinStops runs a module that loops forever, instrumented,
// with a deadline: the yield stops it, with the deadline as the error.
func TestInstrumentedSpinStops(t *testing.T) {
	var yields int
	w := yieldRuntime(t, &yields)
	instrumented, err := instrument(indicesModule())
	if err != nil {
		t.Fatal(err)
	}
	mod, err := w.InstantiateWithConfig(t.Context(), instrumented, wazero.NewModuleConfig().WithName(""))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	began := time.Now()
	_, err = mod.ExportedFunction("spin").Call(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("spin: %v, want the deadline", err)
	}
	if elapsed := time.Since(began); elapsed > 5*time.Second {
		t.Errorf("spin stopped %s after it began, with a deadline of 100ms", elapsed)
	}
	if yields == 0 {
		t.Error("spin never yielded")
	}
}
