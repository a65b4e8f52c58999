//go:build !unix

package main

import (
	"os"
	"time"
)

// usage returns a finished process's user and system time; the peak
// resident memory is not known here.
func usage(ps *os.ProcessState) (cpu time.Duration, maxRSS int64) {
	return ps.UserTime() + ps.SystemTime(), 0
}
