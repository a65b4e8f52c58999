package transform

import (
	"runtime"
	"testing"
	"unsafe"
)

// TestMemories: a memory grows in place up to its maximum and no further;
// a freed one comes back to the next instance zeroed; none of it is in
// Go's heap.
func TestMemories(t *testing.T) {
	const page = 64 << 10
	ms := newMemories()
	defer ms.close()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)

	mem := ms.allocator().Allocate(page, 512*page)
	buf := mem.Reallocate(page)
	if len(buf) != page {
		t.Fatalf("Reallocate(one page) gave %d bytes", len(buf))
	}
	buf[0] = 1
	grown := mem.Reallocate(256 * page)
	if len(grown) != 256*page || unsafe.SliceData(grown) != unsafe.SliceData(buf) || grown[0] != 1 {
		t.Fatalf("grown to %d bytes, moved %v, kept %d", len(grown), unsafe.SliceData(grown) != unsafe.SliceData(buf), grown[0])
	}
	for i := range grown {
		grown[i] = 0xAB // touch every page
	}
	if mem.Reallocate(513*page) != nil {
		t.Error("Reallocate past the maximum must fail")
	}
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if d := int64(after.HeapAlloc) - int64(before.HeapAlloc); d > 4<<20 {
		t.Errorf("Go's heap grew by %d bytes for a 16 MiB memory", d)
	}

	mem.Free()
	again := ms.allocator().Allocate(page, 512*page)
	buf2 := again.Reallocate(256 * page)
	if unsafe.SliceData(buf2) != unsafe.SliceData(grown) {
		t.Error("a freed memory was not reused")
	}
	for i, b := range buf2 {
		if b != 0 {
			t.Fatalf("a reused memory holds %#x at %d: it must read as zeros", b, i)
		}
	}
	// A larger maximum than any freed memory gets a range of its own.
	again.Free()
	big := ms.allocator().Allocate(page, 1024*page)
	if b := big.Reallocate(1024 * page); len(b) != 1024*page || unsafe.SliceData(b) == unsafe.SliceData(grown) {
		t.Error("a larger memory must get its own range")
	}
	big.Free()
}

// TestGoMemory: the fallback when no range can be mapped grows by copying,
// keeps what it held, and stops at its maximum.
func TestGoMemory(t *testing.T) {
	g := &goMemory{max: 4 << 16}
	b := g.Reallocate(1 << 16)
	b[0] = 7
	b = g.Reallocate(3 << 16)
	if len(b) != 3<<16 || b[0] != 7 {
		t.Fatalf("grown to %d bytes holding %d; want %d holding 7", len(b), b[0], 3<<16)
	}
	if g.Reallocate(5<<16) != nil {
		t.Error("Reallocate past the maximum must fail")
	}
}
