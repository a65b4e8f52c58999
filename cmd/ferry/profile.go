package main

import (
	"fmt"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
)

// profileCPU starts a CPU profile into path when path is set (from
// FERRY_CPUPROFILE; `go tool pprof -top FILE` reads it: the profile names
// its functions, which the stripped bin/ferry cannot), and returns what
// stops it. A %p in path becomes the process id, so that the ferry
// commands of one script each keep their own profile. It is how `make
// bench`'s figures are explained: the load's CPU per Intercom call.
func profileCPU(path string) (stop func()) {
	if path == "" {
		return func() {}
	}
	f, err := os.Create(strings.ReplaceAll(path, "%p", strconv.Itoa(os.Getpid())))
	if err != nil {
		fmt.Fprintf(os.Stderr, "ferry: FERRY_CPUPROFILE: %v\n", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintf(os.Stderr, "ferry: FERRY_CPUPROFILE: %v\n", err)
		f.Close()
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}
