package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// job is a child process to run to its end.
type job struct {
	name string   // for messages
	args []string // args[0] is the program
	env  []string // added to the harness's environment
	dir  string
	// log receives the child's stdout and stderr.
	log string
	// sample, when set, reads the memory of the child and its descendants
	// from /proc every sampleEvery while it runs.
	sample bool
}

// sampleEvery is how often a sampled job's process tree is read.
const sampleEvery = 20 * time.Millisecond

// finished is what a job took.
type finished struct {
	wall time.Duration
	// cpu is the child's user and system time, with that of the children
	// it waited for (wait4's rusage).
	cpu time.Duration
	// maxRSS is wait4's ru_maxrss in bytes: the largest peak of the child
	// and of each child it waited for (not their sum).
	maxRSS int64
	// peaks is each sampled process's peak resident memory (VmHWM) in
	// bytes, by command name and pid; peaksSum is their sum, an upper
	// bound of the tree's simultaneous peak, and treeRSS the largest sum
	// of the tree's resident memory seen at one sample, a lower bound.
	peaks    map[string]int64
	peaksSum int64
	treeRSS  int64
	exitCode int
}

// treePeak is the best estimate of the process tree's simultaneous peak
// resident memory: the largest of the sum seen at one sample and each
// process's own peak (which no sample can miss), in bytes. The tree's true
// peak lies between it and peaksSum.
func (f finished) treePeak() int64 {
	peak := max(f.treeRSS, f.maxRSS)
	for _, p := range f.peaks {
		peak = max(peak, p)
	}
	return peak
}

// exitError is a job that exited with a status other than 0.
type exitError struct {
	name string
	code int
	tail string // the end of its log
}

func (e *exitError) Error() string {
	return fmt.Sprintf("%s exited with status %d:\n%s", e.name, e.code, e.tail)
}

// run runs j to its end. A job that exits non-zero returns what it took
// and an *exitError.
func (j job) run(ctx context.Context) (finished, error) {
	var f finished
	out, err := os.Create(j.log)
	if err != nil {
		return f, fmt.Errorf("%s: %w", j.name, err)
	}
	defer out.Close()
	cmd := exec.CommandContext(ctx, j.args[0], j.args[1:]...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = j.dir, out, out
	cmd.Env = append(os.Environ(), j.env...)
	cmd.WaitDelay = 10 * time.Second
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return f, fmt.Errorf("%s: %w", j.name, err)
	}
	var (
		wg sync.WaitGroup
		sm sampler
	)
	stop := make(chan struct{})
	if j.sample {
		wg.Go(func() { sm.watch(cmd.Process.Pid, stop) })
	}
	err = cmd.Wait()
	f.wall = time.Since(start)
	close(stop)
	wg.Wait()
	f.peaks, f.peaksSum, f.treeRSS = sm.result()
	if cmd.ProcessState != nil {
		f.cpu, f.maxRSS = usage(cmd.ProcessState)
		f.exitCode = cmd.ProcessState.ExitCode()
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) && ctx.Err() == nil {
		return f, &exitError{name: j.name, code: f.exitCode, tail: tail(j.log, 30)}
	}
	if err != nil {
		return f, fmt.Errorf("%s: %w", j.name, err)
	}
	return f, nil
}

// tail returns the last n lines of a file, with carriage-return progress
// lines reduced to their last state.
func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	var lines []string
	for line := range strings.SplitSeq(string(data), "\n") {
		if i := strings.LastIndexByte(strings.TrimRight(line, "\r"), '\r'); i >= 0 {
			line = line[i+1:]
		}
		lines = append(lines, line)
	}
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// sampler reads a process tree's memory from /proc.
type sampler struct {
	mu      sync.Mutex
	peaks   map[int]int64 // VmHWM by pid
	names   map[int]string
	treeRSS int64
}

// watch samples root's tree until stop closes.
func (s *sampler) watch(root int, stop <-chan struct{}) {
	t := time.NewTicker(sampleEvery)
	defer t.Stop()
	for {
		s.sample(root)
		select {
		case <-stop:
			return
		case <-t.C:
		}
	}
}

func (s *sampler) sample(root int) {
	var rss int64
	for _, pid := range descendants(root) {
		hwm, cur, name, ok := memoryOf(pid)
		if !ok {
			continue
		}
		rss += cur
		s.mu.Lock()
		if s.peaks == nil {
			s.peaks, s.names = map[int]int64{}, map[int]string{}
		}
		s.peaks[pid] = max(s.peaks[pid], hwm)
		s.names[pid] = name
		s.mu.Unlock()
	}
	s.mu.Lock()
	s.treeRSS = max(s.treeRSS, rss)
	s.mu.Unlock()
}

func (s *sampler) result() (peaks map[string]int64, sum, treeRSS int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	peaks = map[string]int64{}
	for pid, p := range s.peaks {
		peaks[fmt.Sprintf("%s[%d]", s.names[pid], pid)] = p
		sum += p
	}
	return peaks, sum, s.treeRSS
}

// descendants returns root and every process below it, from /proc's
// parent links; nothing where there is no /proc.
func descendants(root int) []int {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	children := map[int][]int{}
	for _, path := range stats {
		data, err := os.ReadFile(path)
		if err != nil {
			continue // gone meanwhile
		}
		pid, ppid, ok := parseStat(data)
		if ok {
			children[ppid] = append(children[ppid], pid)
		}
	}
	out := []int{root}
	for i := 0; i < len(out); i++ {
		out = append(out, children[out[i]]...)
	}
	return out
}

// parseStat reads the pid and parent pid of a /proc/PID/stat line:
// "pid (comm) state ppid ...", where comm may hold spaces and parentheses.
func parseStat(data []byte) (pid, ppid int, ok bool) {
	open, end := bytes.IndexByte(data, '('), bytes.LastIndexByte(data, ')')
	if open < 1 || end < open {
		return 0, 0, false
	}
	pid, err := strconv.Atoi(string(bytes.TrimSpace(data[:open])))
	if err != nil {
		return 0, 0, false
	}
	fields := strings.Fields(string(data[end+1:]))
	if len(fields) < 2 {
		return 0, 0, false
	}
	ppid, err = strconv.Atoi(fields[1])
	return pid, ppid, err == nil
}

// memoryOf reads a process's peak and current resident memory, in bytes,
// and its name from /proc/PID/status.
func memoryOf(pid int) (hwm, rss int64, name string, ok bool) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, "", false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, val, found := strings.Cut(sc.Text(), ":")
		if !found {
			continue
		}
		switch key {
		case "Name": // at most 15 bytes: the command line's is better
			name = strings.TrimSpace(val)
		case "VmHWM", "VmRSS":
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(val), " kB"), 10, 64)
			if err != nil {
				continue
			}
			if key == "VmHWM" {
				hwm = kb << 10
			} else {
				rss = kb << 10
			}
		}
	}
	if cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil {
		if argv0, _, _ := bytes.Cut(cmdline, []byte{0}); len(argv0) > 0 {
			name = filepath.Base(string(argv0))
		}
	}
	// A zombie has no memory lines: nothing to count.
	return hwm, rss, name, hwm > 0
}
