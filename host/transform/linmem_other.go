//go:build !linux

package transform

import "github.com/tetratelabs/wazero/experimental"

// memories leaves the modules' memories to wazero off Linux (see
// linmem_linux.go).
type memories struct{}

func newMemories() *memories { return &memories{} }

// allocator is nil: wazero's own.
func (*memories) allocator() experimental.MemoryAllocator { return nil }

func (*memories) close() {}
