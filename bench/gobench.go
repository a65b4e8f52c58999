package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// benchOutput is what `go test -bench` printed: by benchmark (its name
// without the -GOMAXPROCS suffix, e.g. "BenchmarkExtract/plugin"), each
// metric's value by unit ("ns/op", "rows/s", ...).
type benchOutput map[string]map[string]float64

// procsSuffix is the -GOMAXPROCS suffix go test adds to benchmark names.
var procsSuffix = regexp.MustCompile(`-\d+$`)

// parseBenchOutput reads the result lines of `go test -bench` output:
//
//	BenchmarkExtract/plugin-2   1   2458732029 ns/op   43336 rows/s
//
// and ignores every other line.
func parseBenchOutput(r io.Reader) (benchOutput, error) {
	out := benchOutput{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		// A name, the iterations, then value-unit pairs.
		if len(fields) < 4 || len(fields)%2 != 0 || !strings.HasPrefix(fields[0], "Benchmark") {
			continue
		}
		if _, err := strconv.Atoi(fields[1]); err != nil {
			continue
		}
		name := procsSuffix.ReplaceAllString(fields[0], "")
		vals := map[string]float64{}
		for i := 2; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				vals = nil
				break
			}
			vals[fields[i+1]] = v
		}
		if vals != nil {
			out[name] = vals
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read benchmark output: %w", err)
	}
	return out, nil
}

// value returns a benchmark's metric of the given unit.
func (b benchOutput) value(bench, unit string) (float64, error) {
	v, ok := b[bench][unit]
	if !ok {
		return 0, fmt.Errorf("the benchmark output has no %s for %s", unit, bench)
	}
	return v, nil
}

// goBench runs the benchmarks of pkg that pattern matches, once each
// (-benchtime 1x: each iteration is a whole measured run), with env added,
// and returns what they reported. The output goes to log.
func (h *harness) goBench(ctx context.Context, name, pkg, pattern string, env []string) (benchOutput, error) {
	log := filepath.Join(h.scratch, name+".log")
	j := job{
		name: "go test -bench " + pattern + " " + pkg,
		args: []string{h.goTool, "test", "-run", "^$", "-bench", pattern, "-benchtime", "1x", "-count", "1", "-timeout", "60m", pkg},
		env:  append(env, "TMPDIR="+h.scratch),
		dir:  h.root,
		log:  log,
	}
	if _, err := j.run(ctx); err != nil {
		return nil, err
	}
	f, err := os.Open(log)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseBenchOutput(f)
}
