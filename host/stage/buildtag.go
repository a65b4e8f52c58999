//go:build !duckdb_arrow

package stage

// The workspace stages Arrow batches through duckdb-go's Arrow interface,
// which is only built with the build tag duckdb_arrow. Build with make, or
// set GOFLAGS=-tags=duckdb_arrow; without it the build stops here, on this
// name:
var _ = build_ferry_with_GOFLAGS_tags_duckdb_arrow
