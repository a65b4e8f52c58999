package stage

import (
	"database/sql"
)

// openDuckDB opens a DuckDB database, first making DuckDB's allocator (its
// own copy of jemalloc, on Linux) give the pages it frees back to the
// system at once.
//
// By default jemalloc keeps freed pages for a second, for its next
// allocations. DuckDB frees much at each checkpoint and after each large
// insert, so what it kept counted on top of its memory limit. In the
// bench's memory run (1M tickets, a 128 MiB workspace), two runs of each,
// alternating, with the same settings given through the environment
// (DUCKDB_JE_MALLOC_CONF=dirty_decay_ms:0,muzzy_decay_ms:0): the extract
// peaked at 449 and 463 MB against 487 to 506, the select and transform at
// 401 and 389 against 454 and 470. It costs time: BenchmarkStage was 3-6%
// slower, the pipeline's BenchmarkTransform 15-35% (two runs of each). The environment cannot be set from here: jemalloc reads it
// when the program loads, before main. So the settings go through
// jemalloc's mallctl, for the arenas there are and those made later.
func openDuckDB(dsn string) (*sql.DB, error) {
	// Memory, not correctness: a jemalloc that refuses leaves DuckDB as
	// it was.
	_ = returnFreedPages()
	return sql.Open("duckdb", dsn)
}
