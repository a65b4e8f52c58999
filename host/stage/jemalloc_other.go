//go:build !(linux && amd64 && cgo)

package stage

// returnFreedPages does nothing here: DuckDB uses its own jemalloc on
// Linux only, and ferry reaches it on amd64, where it is tested.
func returnFreedPages() error { return nil }
