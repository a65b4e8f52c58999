package transform

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// The ABI this host speaks; docs/transform-abi.md is the specification.
const (
	abiVersion = 1

	// formatJSON is JSON v1 batches: bit 0 of ferry_formats, and the format
	// argument of ferry_transform.
	formatJSON = 1 << 0
	// formatColumnar is the columnar format (sdk/transform/columnar): bit 1.
	formatColumnar = 1 << 1
	// hostFormats is every format this host can send. Which one a stream's
	// batches take is the module's declaration's to say (ferry_columns).
	hostFormats = formatJSON | formatColumnar

	hostModule  = "ferry"
	hostLogFunc = "log"
	wasiModule  = "wasi_snapshot_preview1"

	exportMemory     = "memory"
	exportInitialize = "_initialize"
	exportStart      = "_start"
	exportVersion    = "ferry_abi_version"
	exportFormats    = "ferry_formats"
	exportAlloc      = "ferry_alloc"
	exportFree       = "ferry_free"
	exportConfigure  = "ferry_configure"
	exportTransform  = "ferry_transform"
	exportColumns    = "ferry_columns"
)

const (
	i32 = api.ValueTypeI32
	i64 = api.ValueTypeI64
)

// signature is a wasm function type.
type signature struct {
	params, results []api.ValueType
}

func (s signature) String() string {
	names := func(ts []api.ValueType) string {
		var b strings.Builder
		for i, t := range ts {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(api.ValueTypeName(t))
		}
		return b.String()
	}
	return fmt.Sprintf("(%s) -> (%s)", names(s.params), names(s.results))
}

// requiredExports lists the functions every version 1 module exports.
func requiredExports() map[string]signature {
	return map[string]signature{
		exportVersion:   {nil, []api.ValueType{i32}},
		exportFormats:   {nil, []api.ValueType{i32}},
		exportAlloc:     {[]api.ValueType{i32}, []api.ValueType{i32}},
		exportFree:      {[]api.ValueType{i32, i32}, nil},
		exportConfigure: {[]api.ValueType{i32, i32}, []api.ValueType{i64}},
		exportTransform: {[]api.ValueType{i32, i32, i32}, []api.ValueType{i64}},
	}
}

// checkModule checks what can be checked before running a module: that it is
// a reactor, exports the ABI's functions with their signatures and its
// memory, and imports nothing this host does not provide. Catching these here
// gives a customer an error that says what to fix, where instantiation would
// fail with wazero's wording or, for a command module, not fail at all.
// instrumented says the module is ferry's instrumented form of the
// customer's, whose import of the yield is ferry's doing (interrupt.go);
// a module of the customer's own may not import it.
func checkModule(c wazero.CompiledModule, instrumented bool) error {
	exports := c.ExportedFunctions()
	if _, ok := exports[exportInitialize]; !ok {
		if _, ok := exports[exportStart]; ok {
			return fmt.Errorf("the module is a WASI command (it exports %s, not %s): build it as a reactor, e.g. with go build -buildmode=c-shared", exportStart, exportInitialize)
		}
	}
	var problems []string
	required := requiredExports()
	for _, name := range slices.Sorted(maps.Keys(required)) {
		want := required[name]
		def, ok := exports[name]
		if !ok {
			problems = append(problems, "it does not export "+name)
			continue
		}
		got := signature{def.ParamTypes(), def.ResultTypes()}
		if !slices.Equal(got.params, want.params) || !slices.Equal(got.results, want.results) {
			problems = append(problems, fmt.Sprintf("%s has type %s, want %s", name, got, want))
		}
	}
	if def, ok := exports[exportColumns]; ok {
		want := signature{[]api.ValueType{i32, i32}, []api.ValueType{i64}}
		got := signature{def.ParamTypes(), def.ResultTypes()}
		if !slices.Equal(got.params, want.params) || !slices.Equal(got.results, want.results) {
			problems = append(problems, fmt.Sprintf("%s has type %s, want %s", exportColumns, got, want))
		}
	}
	if _, ok := c.ExportedMemories()[exportMemory]; !ok {
		problems = append(problems, "it does not export its memory as "+exportMemory)
	}
	for _, imp := range c.ImportedFunctions() {
		module, name, _ := imp.Import()
		allowed := module == wasiModule ||
			module == hostModule && (name == hostLogFunc || instrumented && name == hostYieldFunc)
		if allowed {
			continue
		}
		problems = append(problems, fmt.Sprintf("it imports %s.%s, which ferry does not provide (a transform may import %s and %s.%s)", module, name, wasiModule, hostModule, hostLogFunc))
	}
	if len(c.ImportedMemories()) > 0 {
		problems = append(problems, "it imports a memory; a transform defines and exports its own")
	}
	if len(problems) > 0 {
		return fmt.Errorf("not a ferry transform (ABI version %d): %s", abiVersion, strings.Join(problems, "; "))
	}
	return nil
}

// unpack splits the ABI's packed i64 into a pointer and a length.
func unpack(v uint64) (ptr, size uint32) { return uint32(v >> 32), uint32(v) }
