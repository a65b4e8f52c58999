package transform

import (
	"errors"
	"fmt"
)

// How ferry stops a module that runs past its time.
//
// wazero's own mechanism, WithCloseOnContextDone, compiles every wasm loop
// header into an exit to Go that checks the context: about 40 ns each. Go's
// wasm code re-enters its function's loop on every jump between basic
// blocks, so a Go transform pays that on nearly every branch, which made the
// benchmark chain 3 to 4 times slower.
//
// Nor can another goroutine stop the module, by setting a flag that the
// module checks: ferry did so, and it deadlocked the process. A goroutine
// running wazero's machine code cannot be preempted (the code is not Go's
// and has no safe point), so a garbage collection that starts while a
// module loops waits forever to stop the world, and in the stopped world
// the goroutine that was to set the flag never runs.
//
// So the module comes back to Go every so often, and its time is checked
// there, on the goroutine that runs it. ferry adds to each module, before
// compiling it, an import, ferry.__ferry_yield (hostYield), and a mutable
// i32 global, the module's fuel (exported as fuelExport), and at the head of
// every loop
//
//	global.get $fuel
//	i32.const 1
//	i32.sub
//	global.set $fuel
//	global.get $fuel
//	i32.eqz
//	if
//	  call $yield
//	  br 1 ;; to the loop's head again
//	end
//
// and the same without the br before every tail call. That costs a load, a
// subtraction, a store and a branch: wazero keeps a global's value from a
// set to the next get. Once every fuelPerYield loops the module calls
// __ferry_yield, a call out of the machine code into Go, where the scheduler
// can preempt the goroutine and a collection can stop it; there the host
// stops the call if its context has ended, and refills the fuel if not. Every unbounded computation in wasm goes through a loop head (or a
// tail call): recursion without either ends on wazero's stack limit. A
// module cannot refill its fuel to run on unchecked: the instrumenter
// refuses one whose code names a global index past its own (which its
// original form would not validate anyway).
//
// The import takes the function index after the module's other imports, so
// every function index from there on moves up one, wherever a module names
// a function: calls, ref.func, exports, the start function, element
// segments, the names in the name section. Other custom sections go: DWARF
// and the like describe code that has moved, and nothing reads the rest.
//
// A module the instrumenter cannot read (an opcode it does not know) is run
// with wazero's WithCloseOnContextDone instead, as is every module when
// Options.CloseOnContextDone asks for it.

const (
	// fuelExport is the name under which an instrumented module exports
	// its fuel global.
	fuelExport = "__ferry_fuel"
	// hostYieldFunc is the function of hostModule that an instrumented
	// module imports, and calls when its fuel runs out.
	hostYieldFunc = "__ferry_yield"
	// fuelPerYield is how many loops a module runs between two yields.
	// A tight loop comes round every 2 or 3 ns, so it yields every 40 µs
	// or so, which is as long as a garbage collection waits to stop it;
	// a yield, a call out to Go and back, takes about 75 ns: 0.2% of the
	// time of the tightest loop, and less of any other.
	fuelPerYield = 1 << 14
)

// errUninstrumentable is what instrument returns for a module it cannot
// read; the module then runs with wazero's checks.
var errUninstrumentable = errors.New("cannot instrument the module")

// wasm section ids.
const (
	secCustom  = 0
	secType    = 1
	secImport  = 2
	secGlobal  = 6
	secExport  = 7
	secStart   = 8
	secElement = 9
	secCode    = 10
	secTag     = 13
)

// wasm opcodes that instrument writes or rewrites.
const (
	opLoop               = 0x03
	opIf                 = 0x04
	opEnd                = 0x0b
	opBr                 = 0x0c
	opCall               = 0x10
	opReturnCall         = 0x12
	opReturnCallIndirect = 0x13
	opGlobalGet          = 0x23
	opGlobalSet          = 0x24
	opI32Const           = 0x41
	opI32Eqz             = 0x45
	opI32Sub             = 0x6b
	opRefFunc            = 0xd2
	blockEmpty           = 0x40
)

// instrument returns the module with its fuel, the yield import and the
// fuel checks.
func instrument(wasm []byte) ([]byte, error) {
	if len(wasm) < 8 || string(wasm[:4]) != "\x00asm" || string(wasm[4:8]) != "\x01\x00\x00\x00" {
		return nil, fmt.Errorf("%w: not a wasm module (version 1)", errUninstrumentable)
	}
	type section struct {
		id   byte
		body []byte
	}
	var sections []section
	r := &reader{b: wasm, i: 8}
	for r.i < len(r.b) {
		id := r.byte()
		size := r.u32()
		body := r.bytes(int(size))
		if r.err != nil {
			return nil, fmt.Errorf("%w: section %d: %v", errUninstrumentable, id, r.err)
		}
		sections = append(sections, section{id, body})
	}

	// Where the additions go. The yield import comes after the other
	// imports: its function index is the number of imported functions.
	// The fuel comes after the other globals, imported and defined, and
	// its type is the first [] -> [] of the module, or one more at the end.
	var w rewriter
	var yieldType uint32
	typeFound := false
	for _, s := range sections {
		var err error
		switch s.id {
		case secType:
			yieldType, typeFound, err = voidType(s.body)
		case secImport:
			var funcs, globals uint32
			funcs, globals, err = importCounts(s.body)
			w.yield += funcs
			w.globals += globals
		case secGlobal:
			gr := &reader{b: s.body}
			w.globals += gr.u32()
			err = gr.err
		}
		if err != nil {
			return nil, fmt.Errorf("%w: section %d: %v", errUninstrumentable, s.id, err)
		}
	}
	w.loopCheck = fuelCheck(w.globals, w.yield, true)
	w.check = fuelCheck(w.globals, w.yield, false)

	// The entries added to a section, or making up one the module lacks.
	imp := append(appendName(appendName(nil, hostModule), hostYieldFunc), 0x00) // a function
	exp := append(appendName(nil, fuelExport), 0x03)                            // a global
	added := map[byte][]byte{
		secImport: appendU32(imp, yieldType),
		secGlobal: append(appendS32([]byte{0x7f, 0x01, opI32Const}, fuelPerYield), opEnd), // mut i32 = fuelPerYield
		secExport: appendU32(exp, w.globals),
	}
	if !typeFound {
		added[secType] = []byte{0x60, 0x00, 0x00} // [] -> []
	}

	var out []byte
	out = append(out, wasm[:8]...)
	put := func(id byte, body []byte) {
		out = append(out, id)
		out = appendU32(out, uint32(len(body)))
		out = append(out, body...)
	}
	// addMissing creates the sections the module lacks that go before
	// the section next.
	addMissing := func(next byte) {
		for _, id := range []byte{secType, secImport, secGlobal, secExport} {
			if entry, ok := added[id]; ok && order(id) < order(next) {
				put(id, append(appendU32(nil, 1), entry...))
				delete(added, id)
			}
		}
	}
	for _, s := range sections {
		if s.id != secCustom {
			addMissing(s.id)
		}
		entry, adds := added[s.id]
		delete(added, s.id)
		var body []byte
		var err error
		switch s.id {
		case secCustom:
			if body = w.custom(s.body); body == nil {
				continue
			}
		case secType, secImport:
			body = s.body
			if adds {
				body, err = appendToVector(s.body, entry)
			}
		case secGlobal:
			body, err = w.globalSection(s.body, entry)
		case secExport:
			body, err = w.exports(s.body, entry)
		case secStart:
			sr := &reader{b: s.body}
			body, err = appendU32(nil, w.funcIndex(sr.u32())), sr.err
		case secElement:
			body, err = w.elements(s.body)
		case secCode:
			body, err = w.code(s.body)
		default:
			body = s.body
		}
		if err != nil {
			return nil, fmt.Errorf("%w: section %d: %v", errUninstrumentable, s.id, err)
		}
		put(s.id, body)
	}
	addMissing(255)
	return out, nil
}

// fuelCheck returns the instructions that take one unit of fuel, and call
// the yield when the fuel is out. atLoop, they go at the head of a loop
// without parameters, and branch back to it after the yield rather than go
// on into the loop's body: with the call's path joining the body, wazero's
// register allocation made the benchmark chain about 12% slower than
// uninstrumented code; with the branch, about 5%.
func fuelCheck(fuel, yield uint32, atLoop bool) []byte {
	var c []byte
	c = appendU32(append(c, opGlobalGet), fuel)
	c = append(c, opI32Const, 0x01, opI32Sub)
	c = appendU32(append(c, opGlobalSet), fuel)
	c = appendU32(append(c, opGlobalGet), fuel)
	c = append(c, opI32Eqz, opIf, blockEmpty)
	c = appendU32(append(c, opCall), yield)
	if atLoop {
		c = append(c, opBr, 0x01) // the if is label 0, the loop 1
	}
	return append(c, opEnd)
}

// order is a section's place in a module's section order; custom sections
// go anywhere.
func order(id byte) int {
	switch id {
	case 1, 2, 3, 4, 5: // type, import, function, table, memory
		return int(id)
	case secTag:
		return 6
	case secGlobal, secExport, 8, 9: // global, export, start, element
		return int(id) + 1
	case 12: // data count
		return 11
	case secCode:
		return 12
	case 11: // data
		return 13
	}
	return 100
}

// voidType returns the index of the first type [] -> [] of a type section;
// when there is none, the number of types (the index of one more) and false.
func voidType(body []byte) (uint32, bool, error) {
	r := &reader{b: body}
	n := r.u32()
	for i := range n {
		if form := r.byte(); form != 0x60 {
			// Recursive and sub types, of the GC proposal.
			return 0, false, fmt.Errorf("type %d has form %#x", i, form)
		}
		params := r.u32()
		for range params {
			r.valType()
		}
		results := r.u32()
		for range results {
			r.valType()
		}
		if r.err != nil {
			return 0, false, fmt.Errorf("type %d: %v", i, r.err)
		}
		if params == 0 && results == 0 {
			return i, true, nil
		}
	}
	return n, false, r.err
}

// importCounts counts the functions and the globals an import section
// imports. It refuses a module that imports the yield itself: the fuel
// checks' calls would go to its own import.
func importCounts(body []byte) (funcs, globals uint32, err error) {
	r := &reader{b: body}
	n := r.u32()
	for range n {
		module, name := r.name(), r.name()
		switch kind := r.byte(); kind {
		case 0x00: // function: type index
			r.u32()
			if module == hostModule && name == hostYieldFunc {
				return 0, 0, fmt.Errorf("it imports %s.%s itself", module, name)
			}
			funcs++
		case 0x01: // table: reference type, limits
			r.valType()
			r.limits()
		case 0x02: // memory: limits
			r.limits()
		case 0x03: // global: value type, mutability
			r.valType()
			r.byte()
			globals++
		case 0x04: // tag: attribute, type index
			r.byte()
			r.u32()
		default:
			return 0, 0, fmt.Errorf("import of kind %d", kind)
		}
		if r.err != nil {
			return 0, 0, r.err
		}
	}
	return funcs, globals, r.err
}

// appendToVector returns a section that is a vector with one more entry.
func appendToVector(body, entry []byte) ([]byte, error) {
	r := &reader{b: body}
	n := r.u32()
	if r.err != nil {
		return nil, r.err
	}
	out := appendU32(nil, n+1)
	out = append(out, body[r.i:]...)
	return append(out, entry...), nil
}

// rewriter rewrites a module's sections for the fuel and the yield.
type rewriter struct {
	// yield is the function index of the yield import: every function
	// index from it on moves up one.
	yield uint32
	// globals is the number of the module's own globals, imported and
	// defined: the fuel's index.
	globals uint32
	// loopCheck is the fuel check at the head of a loop without
	// parameters; check the one elsewhere (fuelCheck).
	loopCheck, check []byte
}

// funcIndex returns where the function at index i of the module moves.
func (w *rewriter) funcIndex(i uint32) uint32 {
	if i >= w.yield {
		return i + 1
	}
	return i
}

// custom returns a custom section as it goes in the instrumented module:
// the name section with its function indices moved, no other (nil). A name
// section it cannot read goes too: the names are for stack traces only,
// where wrong ones would mislead.
func (w *rewriter) custom(body []byte) []byte {
	r := &reader{b: body}
	if r.name() != "name" || r.err != nil {
		return nil
	}
	out := appendName(nil, "name")
	for r.i < len(r.b) {
		id := r.byte()
		sub := r.bytes(int(r.u32()))
		if r.err != nil {
			return nil
		}
		switch id {
		case 1: // function names
			var err error
			if sub, err = w.nameMap(sub, false); err != nil {
				return nil
			}
		case 2, 3: // local names, label names: by function
			var err error
			if sub, err = w.nameMap(sub, true); err != nil {
				return nil
			}
		case 0, 4, 5, 6, 7, 8, 9, 10, 11:
			// The module's name, and names of types, tables, memories,
			// globals, element and data segments, fields and tags, none
			// of which move.
		default:
			continue
		}
		out = append(out, id)
		out = appendU32(out, uint32(len(sub)))
		out = append(out, sub...)
	}
	return out
}

// nameMap moves the function indices of a name map (function index, name)
// or, indirect, of an indirect name map (function index, name map).
func (w *rewriter) nameMap(body []byte, indirect bool) ([]byte, error) {
	r := &reader{b: body}
	n := r.u32()
	out := appendU32(nil, n)
	for range n {
		out = appendU32(out, w.funcIndex(r.u32()))
		start := r.i
		if indirect {
			for range r.u32() {
				r.u32()
				r.name()
				if r.err != nil {
					break
				}
			}
		} else {
			r.name()
		}
		if r.err != nil {
			return nil, r.err
		}
		out = append(out, r.b[start:r.i]...)
	}
	if r.err == nil && r.i != len(r.b) {
		return nil, errors.New("bytes after the last name")
	}
	return out, r.err
}

// globalSection returns a global section with the function indices of its
// initializers moved, and one more global.
func (w *rewriter) globalSection(body, entry []byte) ([]byte, error) {
	r := &reader{b: body}
	n := r.u32()
	out := appendU32(nil, n+1)
	for i := range n {
		start := r.i
		r.valType()
		r.byte() // mutability
		if r.err != nil {
			return nil, fmt.Errorf("global %d: %v", i, r.err)
		}
		out = append(out, r.b[start:r.i]...)
		var err error
		if out, err = w.constExpr(out, r); err != nil {
			return nil, fmt.Errorf("global %d: %v", i, err)
		}
	}
	if r.err == nil && r.i != len(r.b) {
		return nil, errors.New("bytes after the last global")
	}
	return append(out, entry...), r.err
}

// exports returns an export section with its function indices moved, and
// one more export. It refuses a module that exports the fuel's name itself.
func (w *rewriter) exports(body, entry []byte) ([]byte, error) {
	r := &reader{b: body}
	n := r.u32()
	out := appendU32(nil, n+1)
	for range n {
		name := r.name()
		kind := r.byte()
		index := r.u32()
		if r.err != nil {
			return nil, r.err
		}
		if name == fuelExport {
			return nil, fmt.Errorf("it exports %s itself", fuelExport)
		}
		if kind == 0x00 { // a function
			index = w.funcIndex(index)
		}
		out = appendName(out, name)
		out = appendU32(append(out, kind), index)
	}
	if r.err == nil && r.i != len(r.b) {
		return nil, errors.New("bytes after the last export")
	}
	return append(out, entry...), r.err
}

// elements returns an element section with its function indices moved, in
// all eight forms of segment: bit 0 of the flags is passive or declarative,
// bit 1 an explicit table (active) or declarative (passive), bit 2
// expressions rather than function indices.
func (w *rewriter) elements(body []byte) ([]byte, error) {
	r := &reader{b: body}
	n := r.u32()
	out := appendU32(nil, n)
	for i := range n {
		flags := r.u32()
		if r.err != nil {
			return nil, fmt.Errorf("segment %d: %v", i, r.err)
		}
		if flags > 7 {
			return nil, fmt.Errorf("segment %d has flags %#x", i, flags)
		}
		out = appendU32(out, flags)
		var err error
		if flags&1 == 0 { // active: [table], offset
			if flags&2 != 0 {
				out = appendU32(out, r.u32())
			}
			if out, err = w.constExpr(out, r); err != nil {
				return nil, fmt.Errorf("segment %d offset: %v", i, err)
			}
		}
		if flags&3 != 0 { // element kind, or reference type with expressions
			start := r.i
			if flags&4 != 0 {
				r.valType()
			} else {
				r.byte()
			}
			out = append(out, r.b[start:r.i]...)
		}
		count := r.u32()
		out = appendU32(out, count)
		for range count {
			if flags&4 != 0 {
				out, err = w.constExpr(out, r)
			} else {
				out = appendU32(out, w.funcIndex(r.u32()))
				err = r.err
			}
			if err != nil {
				return nil, fmt.Errorf("segment %d: %v", i, err)
			}
		}
		if r.err != nil {
			return nil, fmt.Errorf("segment %d: %v", i, r.err)
		}
	}
	if r.i != len(r.b) {
		return nil, errors.New("bytes after the last segment")
	}
	return out, nil
}

// constExpr copies a constant expression, up to its end, with its function
// indices moved.
func (w *rewriter) constExpr(out []byte, r *reader) ([]byte, error) {
	for {
		var op byte
		var err error
		if out, op, err = w.instruction(out, r); err != nil {
			return nil, err
		}
		if op == opEnd {
			return out, nil
		}
	}
}

// code returns a code section with the fuel check in every function, after
// each loop instruction and before each tail call, and its function
// indices moved.
func (w *rewriter) code(body []byte) ([]byte, error) {
	r := &reader{b: body}
	n := r.u32()
	out := appendU32(nil, n)
	for f := range n {
		size := r.u32()
		fn := r.bytes(int(size))
		if r.err != nil {
			return nil, fmt.Errorf("function %d: %v", f, r.err)
		}
		code, err := w.function(fn)
		if err != nil {
			return nil, fmt.Errorf("function %d: %v", f, err)
		}
		out = appendU32(out, uint32(len(code)))
		out = append(out, code...)
	}
	if r.i != len(r.b) {
		return nil, errors.New("bytes after the last function")
	}
	return out, nil
}

// function rewrites one function body: its locals, then its instructions,
// which it decodes one by one to find the loops and the calls.
func (w *rewriter) function(fn []byte) ([]byte, error) {
	r := &reader{b: fn}
	groups := r.u32()
	for range groups {
		r.u32()
		r.valType()
	}
	if r.err != nil {
		return nil, fmt.Errorf("locals: %v", r.err)
	}
	out := make([]byte, 0, len(fn)+len(fn)/4+16)
	out = append(out, fn[:r.i]...)
	for r.i < len(r.b) {
		if op := r.b[r.i]; op == opReturnCall || op == opReturnCallIndirect {
			out = append(out, w.check...)
		}
		start := r.i
		var op byte
		var err error
		if out, op, err = w.instruction(out, r); err != nil {
			return nil, err
		}
		if op == opLoop {
			// A block type of a byte from 0x40 to 0x7f is empty or a
			// value type (a result); any other is a type index, whose
			// parameters the branch back to the loop would need.
			if bt := r.b[start+1]; bt >= 0x40 && bt < 0x80 {
				out = append(out, w.loopCheck...)
			} else {
				out = append(out, w.check...)
			}
		}
	}
	return out, nil
}

// instruction copies the instruction at r to out, with its function index
// moved, and returns its opcode.
func (w *rewriter) instruction(out []byte, r *reader) ([]byte, byte, error) {
	start := r.i
	op := r.byte()
	if op == opCall || op == opReturnCall || op == opRefFunc {
		index := r.u32()
		if r.err != nil {
			return nil, 0, fmt.Errorf("at byte %d: %v", start, r.err)
		}
		return appendU32(append(out, op), w.funcIndex(index)), op, nil
	}
	if err := r.skipImmediates(op, w.globals); err != nil {
		return nil, 0, fmt.Errorf("at byte %d: %v", start, err)
	}
	if r.err != nil {
		return nil, 0, fmt.Errorf("at byte %d: %v", start, r.err)
	}
	return append(out, r.b[start:r.i]...), op, nil
}

// skipImmediates reads the immediates of the instruction op. It refuses a
// global index at or past globals, which would reach the fuel.
func (r *reader) skipImmediates(op byte, globals uint32) error {
	switch {
	case op == 0x02 || op == 0x03 || op == 0x04 || op == 0x06: // block, loop, if, try: block type
		r.s64()
	case op == 0x0c || op == 0x0d || op == 0x09 || op == 0x18: // br, br_if, rethrow, delegate
		r.u32()
	case op == 0x0e: // br_table
		for range r.u32() + 1 {
			r.u32()
			if r.err != nil {
				break
			}
		}
	case op == 0x10 || op == 0x12 || op == 0x07 || op == 0x08 || op == 0xd2: // call, return_call, catch, throw, ref.func
		r.u32()
	case op == 0x11 || op == 0x13: // call_indirect, return_call_indirect
		r.u32()
		r.u32()
	case op == 0x1c: // select t*
		for range r.u32() {
			r.s64()
			if r.err != nil {
				break
			}
		}
	case op >= 0x20 && op <= 0x22: // local.get, local.set, local.tee
		r.u32()
	case op == 0x23 || op == 0x24: // global.get, global.set
		if idx := r.u32(); r.err == nil && idx >= globals {
			return fmt.Errorf("global index %d, and the module has %d globals", idx, globals)
		}
	case op == 0x25 || op == 0x26: // table.get, table.set
		r.u32()
	case op >= 0x28 && op <= 0x3e: // loads and stores
		r.memarg()
	case op == 0x3f || op == 0x40: // memory.size, memory.grow
		r.u32()
	case op == 0x41: // i32.const
		r.s64()
	case op == 0x42: // i64.const
		r.s64()
	case op == 0x43: // f32.const
		r.bytes(4)
	case op == 0x44: // f64.const
		r.bytes(8)
	case op == 0xd0: // ref.null
		r.s64()
	case op == 0x1f: // try_table: block type, catch clauses
		r.s64()
		for range r.u32() {
			kind := r.byte()
			if kind == 0 || kind == 1 {
				r.u32()
			}
			r.u32()
			if r.err != nil {
				break
			}
		}
	case op == 0xfc:
		return r.skipFC()
	case op == 0xfd:
		return r.skipSIMD()
	case op == 0xfe:
		return r.skipAtomic()
	case op == 0x00 || op == 0x01 || op == 0x05 || op == 0x0b || op == 0x0f || op == 0x19 || op == 0x0a ||
		op == 0x1a || op == 0x1b || op == 0xd1 || (op >= 0x45 && op <= 0xc4):
		// No immediates.
	default:
		return fmt.Errorf("unknown opcode %#x", op)
	}
	return nil
}

// skipFC reads a 0xfc-prefixed instruction: saturating truncations, bulk
// memory and table operations.
func (r *reader) skipFC() error {
	switch sub := r.u32(); {
	case sub <= 7:
	case sub == 8: // memory.init: data, memory
		r.u32()
		r.u32()
	case sub == 9 || sub == 11 || sub == 13 || sub == 15 || sub == 16 || sub == 17: // data.drop, memory.fill, elem.drop, table.grow/size/fill
		r.u32()
	case sub == 10 || sub == 12 || sub == 14: // memory.copy, table.init, table.copy
		r.u32()
		r.u32()
	default:
		return fmt.Errorf("unknown opcode 0xfc %d", sub)
	}
	return nil
}

// skipSIMD reads a 0xfd-prefixed (vector) instruction.
func (r *reader) skipSIMD() error {
	switch sub := r.u32(); {
	case sub <= 11 || sub == 92 || sub == 93: // loads and stores
		r.memarg()
	case sub == 12 || sub == 13: // v128.const, i8x16.shuffle
		r.bytes(16)
	case sub >= 21 && sub <= 34: // lane extract and replace
		r.byte()
	case sub >= 84 && sub <= 91: // lane loads and stores
		r.memarg()
		r.byte()
	case sub <= 0x113:
		// The rest take no immediates (relaxed SIMD included).
	default:
		return fmt.Errorf("unknown opcode 0xfd %d", sub)
	}
	return nil
}

// skipAtomic reads a 0xfe-prefixed (threads) instruction.
func (r *reader) skipAtomic() error {
	switch sub := r.u32(); {
	case sub == 0x03: // atomic.fence
		r.byte()
	case sub <= 0x02 || (sub >= 0x10 && sub <= 0x4e):
		r.memarg()
	default:
		return fmt.Errorf("unknown opcode 0xfe %d", sub)
	}
	return nil
}

// reader reads a wasm binary; the first error sticks, and every read after
// it returns zero values, so that callers check once.
type reader struct {
	b   []byte
	i   int
	err error
}

func (r *reader) fail(msg string) {
	if r.err == nil {
		r.err = errors.New(msg)
	}
	r.i = len(r.b)
}

func (r *reader) byte() byte {
	if r.i >= len(r.b) {
		r.fail("unexpected end")
		return 0
	}
	c := r.b[r.i]
	r.i++
	return c
}

func (r *reader) bytes(n int) []byte {
	if n < 0 || n > len(r.b)-r.i {
		r.fail("unexpected end")
		return nil
	}
	b := r.b[r.i : r.i+n]
	r.i += n
	return b
}

// u32 reads an unsigned LEB128 of at most 32 bits.
func (r *reader) u32() uint32 {
	var v uint32
	for shift := 0; shift < 35; shift += 7 {
		c := r.byte()
		if r.err != nil {
			return 0
		}
		v |= uint32(c&0x7f) << shift
		if c&0x80 == 0 {
			return v
		}
	}
	r.fail("LEB128 too long")
	return 0
}

// u64 reads an unsigned LEB128 of at most 64 bits.
func (r *reader) u64() {
	for range 10 {
		if r.byte()&0x80 == 0 || r.err != nil {
			return
		}
	}
	r.fail("LEB128 too long")
}

// s64 reads a signed LEB128 of at most 64 bits (block types are s33).
func (r *reader) s64() {
	r.u64()
}

// valType reads a value type: one byte, or two and a heap type for the
// reference types of the function references proposal.
func (r *reader) valType() {
	if t := r.byte(); t == 0x63 || t == 0x64 {
		r.s64()
	}
}

func (r *reader) name() string {
	return string(r.bytes(int(r.u32())))
}

func (r *reader) limits() {
	flags := r.byte()
	r.u64()
	if flags&0x01 != 0 {
		r.u64()
	}
}

// memarg reads a memory argument: alignment (with a memory index when bit 6
// is set, for multiple memories) and offset.
func (r *reader) memarg() {
	align := r.u32()
	if align&0x40 != 0 {
		r.u32()
	}
	r.u64()
}

func appendU32(b []byte, v uint32) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v == 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

// appendS32 appends v as a signed LEB128, as i32.const takes it.
func appendS32(b []byte, v int32) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v == 0 && c&0x40 == 0 || v == -1 && c&0x40 != 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

func appendName(b []byte, s string) []byte {
	b = appendU32(b, uint32(len(s)))
	return append(b, s...)
}
