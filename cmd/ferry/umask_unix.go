//go:build unix

package main

import "syscall"

// startUmask is the file mode creation mask the process started with, for
// what ferry writes as the user's own files (a scaffolded transform);
// -1 until ownerOnlyFiles sets the owner-only mask.
var startUmask = -1

// ownerOnlyFiles makes every file and folder the process creates from now
// on readable and writable by its owner only, whatever mode it is created
// with. ferry creates its files owner-only itself, but not all the
// workspace's files are ferry's to create: DuckDB makes its write-ahead log
// anew after each checkpoint, and its temporary files when a query
// spills, with the mode the mask allows.
func ownerOnlyFiles() { startUmask = syscall.Umask(0o077) }

// userFiles restores the mask the process started with, for a command
// whose files are the user's to share (a scaffolded transform's sources).
func userFiles() {
	if startUmask >= 0 {
		syscall.Umask(startUmask)
	}
}
