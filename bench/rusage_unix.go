//go:build unix

package main

import (
	"os"
	"runtime"
	"syscall"
	"time"
)

// usage returns a finished process's user and system time and its
// ru_maxrss in bytes, from wait4: the process's own, with those of the
// children it waited for (times summed, maxrss the largest).
func usage(ps *os.ProcessState) (cpu time.Duration, maxRSS int64) {
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok {
		return ps.UserTime() + ps.SystemTime(), 0
	}
	maxRSS = int64(ru.Maxrss)
	if runtime.GOOS != "darwin" {
		maxRSS <<= 10 // Linux and the BSDs count kilobytes; macOS bytes
	}
	return ps.UserTime() + ps.SystemTime(), maxRSS
}
