package stage

import (
	"runtime"
	"strconv"
	"testing"
)

func TestIDSet(t *testing.T) {
	var s idSet
	for _, tt := range []struct {
		id   string
		want bool
	}{
		{"1", false}, {"2", false}, {"1", true}, {"", false}, {"", true}, {"10", false}, {"2", true},
	} {
		if got := s.add(tt.id); got != tt.want {
			t.Errorf("add(%q) = %v, want %v", tt.id, got, tt.want)
		}
	}
	if s.len() != 4 {
		t.Errorf("len() = %d, want 4", s.len())
	}
}

// TestIDSetMillion adds a million ids of the shape sources use, each
// twice, and checks that every first add is new, every second one known,
// and the set's size: under 7 bytes an id, where a map of hashes took 20.
func TestIDSetMillion(t *testing.T) {
	const n = 1_000_000
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s := new(idSet)
	for i := range n {
		if s.add(strconv.Itoa(100000 + i)) {
			t.Fatalf("id %d: known before it was added", 100000+i)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if perID := float64(after.HeapAlloc-before.HeapAlloc) / n; perID > 7 {
		t.Errorf("%.1f bytes an id, want under 7", perID)
	} else {
		t.Logf("%.1f bytes an id", perID)
	}
	for i := range n {
		if !s.add(strconv.Itoa(100000 + i)) {
			t.Fatalf("id %d: added twice, reported new", 100000+i)
		}
	}
	if s.len() != n {
		t.Errorf("len() = %d, want %d", s.len(), n)
	}
	runtime.KeepAlive(s)
}
