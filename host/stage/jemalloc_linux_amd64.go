//go:build cgo

package stage

/*
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>

// DuckDB's copy of jemalloc, linked into ferry with DuckDB.
extern int duckdb_je_mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen);

static int ferry_set_ms(const char *name, ssize_t ms) {
	return duckdb_je_mallctl(name, NULL, NULL, &ms, sizeof(ms));
}

static ssize_t ferry_get_ms(const char *name) {
	ssize_t ms = 0;
	size_t len = sizeof(ms);
	if (duckdb_je_mallctl(name, &ms, &len, NULL, 0) != 0) {
		return -2;
	}
	return ms;
}

// ferry_return_freed_pages sets every arena's decay times, and the
// default of arenas made later, to ms: -1 on the first error.
static int ferry_return_freed_pages(ssize_t ms) {
	unsigned narenas = 0;
	size_t len = sizeof(narenas);
	if (duckdb_je_mallctl("arenas.narenas", &narenas, &len, NULL, 0) != 0) {
		return -1;
	}
	if (ferry_set_ms("arenas.dirty_decay_ms", ms) != 0 || ferry_set_ms("arenas.muzzy_decay_ms", ms) != 0) {
		return -1;
	}
	char name[64];
	for (unsigned i = 0; i < narenas; i++) {
		// An arena not made yet (EFAULT) takes the default set above.
		snprintf(name, sizeof(name), "arena.%u.dirty_decay_ms", i);
		ferry_set_ms(name, ms);
		snprintf(name, sizeof(name), "arena.%u.muzzy_decay_ms", i);
		ferry_set_ms(name, ms);
	}
	return 0;
}
*/
import "C"

import (
	"errors"
	"fmt"
	"unsafe"
)

// returnFreedPages makes DuckDB's allocator give the pages it frees back
// to the system at once (see openDuckDB).
func returnFreedPages() error {
	if C.ferry_return_freed_pages(0) != 0 {
		return errors.New("set the decay times of DuckDB's allocator")
	}
	return nil
}

// allocatorDecayMS returns the decay time, dirty or muzzy, that DuckDB's
// allocator gives arena i (i < 0: arenas made later), or -2 when it cannot
// say.
func allocatorDecayMS(i int, kind string) int {
	name := fmt.Sprintf("arenas.%s_decay_ms", kind)
	if i >= 0 {
		name = fmt.Sprintf("arena.%d.%s_decay_ms", i, kind)
	}
	cs := C.CString(name)
	defer C.free(unsafe.Pointer(cs))
	return int(C.ferry_get_ms(cs))
}
