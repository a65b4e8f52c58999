package transform

import (
	"sync"
	"syscall"

	"github.com/tetratelabs/wazero/experimental"
)

// memories backs the modules' linear memories with memory mapped outside
// Go's heap. wazero's own are Go slices, grown by copying: a module's
// memory then counts twice toward the heap the garbage collector lets grow
// (GOGC=100), and each growth leaves the old copy to it. With a pool of
// instances per module that was most of a load's Go heap (66-75 MB live,
// 130-150 MB reached, while transforming 1M tickets).
//
// A mapping reserves the module's maximum (address space only, until
// touched) so that it grows in place. A freed one gives its pages back
// (MADV_DONTNEED, which makes them read as zeros) and waits for the next
// instance: wazero frees a memory only when its module is closed, never
// while its code runs (a deadline stops the code, and the instance is
// closed after), so a mapping is never in two instances' hands. Mappings
// are unmapped when the runtime closes; one still held then is left alone.
type memories struct {
	mu   sync.Mutex
	idle []*reservation
}

// reservation is one reserved range, the module's maximum.
type reservation struct {
	m   *memories
	buf []byte
}

func newMemories() *memories { return &memories{} }

// allocator returns the allocator to instantiate modules with.
func (ms *memories) allocator() experimental.MemoryAllocator {
	return experimental.MemoryAllocatorFunc(ms.allocate)
}

func (ms *memories) allocate(_, max uint64) experimental.LinearMemory {
	ms.mu.Lock()
	for i, mp := range ms.idle {
		if uint64(len(mp.buf)) >= max {
			ms.idle = append(ms.idle[:i], ms.idle[i+1:]...)
			ms.mu.Unlock()
			return mp
		}
	}
	ms.mu.Unlock()
	buf, err := syscall.Mmap(-1, 0, int(max), syscall.PROT_READ|syscall.PROT_WRITE,
		syscall.MAP_PRIVATE|syscall.MAP_ANONYMOUS|syscall.MAP_NORESERVE)
	if err != nil {
		// Out of address space: a Go slice, as wazero's own.
		return &goMemory{max: max}
	}
	return &reservation{m: ms, buf: buf}
}

// Reallocate returns the first size bytes, or nil past the reservation.
func (mp *reservation) Reallocate(size uint64) []byte {
	if size > uint64(len(mp.buf)) {
		return nil
	}
	return mp.buf[:size:size]
}

// Free gives the pages back and keeps the range for the next instance.
func (mp *reservation) Free() {
	if err := syscall.Madvise(mp.buf, syscall.MADV_DONTNEED); err != nil {
		// The pages may still hold this module's data: never hand them
		// to another. (Left mapped: see memories.)
		return
	}
	mp.m.mu.Lock()
	mp.m.idle = append(mp.m.idle, mp)
	mp.m.mu.Unlock()
}

// close unmaps the idle ranges.
func (ms *memories) close() {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	for _, mp := range ms.idle {
		_ = syscall.Munmap(mp.buf)
	}
	ms.idle = nil
}

// goMemory is a linear memory in Go's heap, grown by copying.
type goMemory struct {
	buf []byte
	max uint64
}

func (g *goMemory) Reallocate(size uint64) []byte {
	switch {
	case size > g.max:
		return nil
	case size > uint64(cap(g.buf)):
		g.buf = append(g.buf[:cap(g.buf)], make([]byte, size-uint64(cap(g.buf)))...)
	}
	g.buf = g.buf[:size]
	return g.buf
}

func (g *goMemory) Free() { g.buf = nil }
