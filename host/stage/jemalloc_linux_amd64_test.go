//go:build cgo

package stage

import "testing"

// TestOpenReturnsFreedPages: once a workspace is open, DuckDB's allocator
// gives freed pages back at once, in its first arena and in arenas made
// later (jemalloc's default is 1,000 ms, checked first).
func TestOpenReturnsFreedPages(t *testing.T) {
	for _, kind := range []string{"dirty", "muzzy"} {
		if got := allocatorDecayMS(-1, kind); got == -2 {
			t.Fatalf("DuckDB's allocator does not say its %s decay time", kind)
		}
	}
	w, err := Open(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for _, arena := range []int{-1, 0} {
		for _, kind := range []string{"dirty", "muzzy"} {
			if got := allocatorDecayMS(arena, kind); got != 0 {
				t.Errorf("arena %d: %s decay %d ms, want 0", arena, kind, got)
			}
		}
	}
}
