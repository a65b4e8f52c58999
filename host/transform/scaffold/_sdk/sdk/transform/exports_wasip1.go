//go:build wasip1

package transform

import (
	"encoding/json"
	"log/slog"
	"unsafe"
)

// module is the state of this wasm instance behind its exports: the buffers
// lent to the host, and the configured transform. Exports are free functions,
// so it cannot live anywhere else; the host calls them one at a time.
var module struct {
	// lent holds every buffer the host may read or write, by address, so
	// that the garbage collector keeps it (Go's collector does not move
	// memory) until the host gives it back with ferry_free.
	lent     map[uint32][]byte
	instance *Instance
	// spare is the last input buffer the host gave back, for the next
	// ferry_alloc: a buffer per batch would be garbage per batch, and in a
	// module the collector runs on the thread that transforms.
	spare []byte
	// inputs are the buffers out from ferry_alloc, by address.
	inputs map[uint32]bool
}

//go:wasmimport ferry log
func hostLog(level int32, ptr unsafe.Pointer, size uint32)

func logToHost(level slog.Level, msg string) {
	hostLog(int32(level), unsafe.Pointer(unsafe.StringData(msg)), uint32(len(msg)))
}

//go:wasmexport ferry_abi_version
func ferryABIVersion() int32 { return ABIVersion }

//go:wasmexport ferry_formats
func ferryFormats() int32 { return formats }

//go:wasmexport ferry_alloc
func ferryAlloc(size uint32) uint32 {
	if size == 0 {
		return 0
	}
	var b []byte
	if uint32(cap(module.spare)) >= size {
		// The host writes every byte it asked for: no need to clear.
		b, module.spare = module.spare[:size], nil
	} else {
		b = make([]byte, size)
	}
	ptr := lend(b)
	if module.inputs == nil {
		module.inputs = make(map[uint32]bool)
	}
	module.inputs[ptr] = true
	return ptr
}

//go:wasmexport ferry_free
func ferryFree(ptr, size uint32) {
	if module.inputs[ptr] {
		delete(module.inputs, ptr)
		if b := module.lent[ptr]; cap(b) > cap(module.spare) {
			module.spare = b[:0]
		}
	}
	delete(module.lent, ptr)
}

//go:wasmexport ferry_configure
func ferryConfigure(ptr, size uint32) uint64 {
	in, ok := borrowed(ptr, size)
	if !ok {
		return reply([]byte("ferry_configure: the config is not in memory from ferry_alloc"))
	}
	// The host frees its buffer after the call; the config outlives it.
	config := json.RawMessage(append([]byte(nil), in...))
	inst, err := NewInstance(config, logToHost)
	if err != nil {
		return reply([]byte(err.Error()))
	}
	module.instance = inst
	return 0
}

//go:wasmexport ferry_transform
func ferryTransform(format, ptr, size uint32) uint64 {
	in, ok := borrowed(ptr, size)
	switch {
	case module.instance == nil:
		return reply(errorReply("ferry_transform before ferry_configure"))
	case !ok:
		return reply(errorReply("ferry_transform: the batch is not in memory from ferry_alloc"))
	}
	return reply(module.instance.Transform(format, in))
}

//go:wasmexport ferry_columns
func ferryColumns(ptr, size uint32) uint64 {
	in, ok := borrowed(ptr, size)
	switch {
	case module.instance == nil:
		return reply(errorReply("ferry_columns before ferry_configure"))
	case !ok:
		return reply(errorReply("ferry_columns: the stream is not in memory from ferry_alloc"))
	}
	return reply(module.instance.Columns(string(in)))
}

// lend records b as lent to the host and returns its address.
func lend(b []byte) uint32 {
	if module.lent == nil {
		module.lent = make(map[uint32][]byte)
	}
	ptr := uint32(uintptr(unsafe.Pointer(unsafe.SliceData(b))))
	module.lent[ptr] = b
	return ptr
}

// borrowed returns the first size bytes of a buffer from ferry_alloc; going
// through the lent map rather than converting the address to a pointer means
// a wrong address from the host is an error, not a stray read.
func borrowed(ptr, size uint32) ([]byte, bool) {
	if size == 0 {
		return nil, true
	}
	b, ok := module.lent[ptr]
	if !ok || uint32(len(b)) < size {
		return nil, false
	}
	return b[:size], true
}

// reply lends out to the host and packs its address and length as the ABI's
// i64 (ptr<<32 | len); the host frees it once read.
func reply(out []byte) uint64 {
	if len(out) == 0 {
		return 0
	}
	return uint64(lend(out))<<32 | uint64(len(out))
}
