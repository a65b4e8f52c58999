package main

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ferryhq/ferry/host/intercom/sandbox"
	"github.com/ferryhq/ferry/plugins/zendesk/zendesktest"
	"github.com/ferryhq/ferry/sdk/source/faults"
)

// TestMigrateSurvivesKills kills ferry migrate with SIGKILL again and
// again (while it extracts, while it loads what the extract completed,
// while it selects and transforms, while it loads the rest) and runs it
// again each time, until a run completes. The sandbox then holds the
// source exactly, every record once, nothing failed, and ferry verify
// agrees. make test kills a few times; the long suite (FERRY_LONG=1) at
// least 30 times.
func TestMigrateSurvivesKills(t *testing.T) {
	kills, latency := 4, 5*time.Millisecond
	gen := zendesktest.GenerateOptions{Seed: 31, Tickets: 30, EndUsers: 16, Organizations: 4, MaxComments: 6}
	if os.Getenv("FERRY_LONG") != "" {
		kills, latency, gen.Tickets, gen.EndUsers, gen.MaxComments = 32, 40*time.Millisecond, 300, 80, 10
	}
	w := newWorld(t, gen, func(o *sandbox.Options) { o.Latency = latency })
	w.slowComments(100*time.Millisecond, 10)
	w.env = append(w.env, "FERRY_LOG_LEVEL=info")
	mark := w.markProcesses()

	// Each kill waits for a moment of the migration (or a later one: a
	// resumed run may be past it), then a random while more.
	moments := []string{"source plugin started", "load pass while extracting", "extract: done", "transform tickets:"}
	rng := rand.New(rand.NewPCG(31, uint64(kills)))
	phases := map[string]int{}
	killed, runs := 0, 0
	for killed < kills {
		runs++
		cmd, stderr, done := w.start("migrate", "-w", w.ws, "--no-verify")
		after := moments[killed%len(moments):]
		// A run that exits 0 ends with a nil error: finished, not ended,
		// says whether it did.
		var ended error
		finished, reached := false, false
		for !reached && !finished {
			select {
			case ended = <-done:
				finished = true
			case <-time.After(10 * time.Millisecond):
				reached = slices.ContainsFunc(after, func(m string) bool { return strings.Contains(stderr.String(), m) })
			}
		}
		if reached && !finished {
			select {
			case ended = <-done:
				finished = true
			case <-time.After(time.Duration(rng.IntN(250)) * time.Millisecond):
			}
		}
		if !finished {
			err := cmd.Process.Signal(syscall.SIGKILL)
			if err != nil && !errors.Is(err, os.ErrProcessDone) {
				t.Fatal(err)
			}
			// Done already: it ended between the wait and the kill.
			ended, finished = <-done, err != nil
		}
		if finished {
			// The run ended before its kill: the migration is complete.
			if code := exitCode(t, nil, ended); code != 0 {
				t.Fatalf("run %d: exit %d\n%s", runs, code, stderr.String())
			}
			break
		}
		killed++
		phases[phaseOf(stderr.String())]++
		if pids := pluginsLeft(t, mark, w.bin.ferry); len(pids) > 0 {
			t.Fatalf("kill %d: the plugins of the killed ferry still run: %v", killed, pids)
		}
	}
	t.Logf("%d kills in %d runs, by what was running: %v", killed, runs, phases)
	if min := min(kills, 3); killed < min || len(phases) < 3 {
		t.Errorf("%d kills in %v: want at least %d, in three kinds of moment at least", killed, phases, min)
	}
	// A last run resumes and completes.
	out, stderr, code := w.ferry("migrate", "-w", w.ws)
	if code != 0 {
		t.Fatalf("the migrate after %d kills: exit %d\n%s\n%s", killed, code, out, stderr)
	}

	w.checkMigratedExactly(t)
	if _, errOut, code := w.ferry("verify", "-w", w.ws); code != 0 {
		t.Errorf("ferry verify after the kills: exit %d\n%s", code, errOut)
	}
}

// phaseOf says what a killed migrate was doing, from what it had printed
// (progress and info logs): extracting, extracting while a load pass ran,
// selecting and transforming for the last pass, or loading it.
func phaseOf(stderr string) string {
	switch {
	case !strings.Contains(stderr, "extract: done") && strings.Contains(stderr, "load pass while extracting"):
		return "extract+load"
	case !strings.Contains(stderr, "extract: done"):
		return "extract"
	case !strings.Contains(stderr, "transform tickets:"):
		return "select+transform"
	}
	return "load"
}

// TestMigrateStopsCleanly interrupts ferry migrate (SIGINT, then SIGTERM
// in a second run) while it loads: it stops within seconds with a
// non-zero exit, says where it stopped and how to resume, leaves no plugin
// running, and a rerun completes the migration exactly.
func TestMigrateStopsCleanly(t *testing.T) {
	w := newWorld(t, zendesktest.GenerateOptions{Seed: 37, Tickets: 24, EndUsers: 12, Organizations: 3}, func(o *sandbox.Options) { o.Latency = 20 * time.Millisecond })
	w.slowComments(150*time.Millisecond, 10)
	w.env = append(w.env, "FERRY_LOG_LEVEL=info")
	mark := w.markProcesses()
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		cmd, stderr, done := w.start("migrate", "-w", w.ws)
		// Wait until it loads, then interrupt it.
		deadline := time.Now().Add(30 * time.Second)
		for !strings.Contains(stderr.String(), "load pass while extracting") {
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatalf("no load pass within 30 s:\n%s", stderr.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
		sent := time.Now()
		if err := cmd.Process.Signal(sig); err != nil {
			t.Fatal(err)
		}
		var err error
		select {
		case err = <-done:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("%v: still running 15 s later:\n%s", sig, stderr.String())
		}
		code := exitCode(t, nil, err)
		took := time.Since(sent)
		msg := stderr.String()
		t.Logf("%v: exit %d after %s:\n%s", sig, code, took.Round(time.Millisecond), msg[max(0, len(msg)-1500):])
		if code == 0 {
			t.Errorf("%v: exit 0, want a failure exit for an interrupted migration", sig)
		}
		for _, want := range []string{"ferry: stopped", "run the same command again to resume"} {
			if !strings.Contains(msg, want) {
				t.Errorf("%v: stderr does not say %q:\n%s", sig, want, msg)
			}
		}
		// Where: the stage and, for the extract, the stream and its last
		// checkpoint.
		if !strings.Contains(msg, "during extract: ") && !strings.Contains(msg, "during load: ") {
			t.Errorf("%v: stderr does not say where the migration stopped:\n%s", sig, msg)
		}
		if pids := pluginsLeft(t, mark, w.bin.ferry); len(pids) > 0 {
			t.Errorf("%v: plugin processes %v still running after ferry exited", sig, pids)
		}
	}
	w.mustFerry("migrate", "-w", w.ws)
	w.checkMigratedExactly(t)
}

// markProcesses adds to the world's environment a variable unique to the
// test, which the processes ferry starts inherit, so that pluginsLeft
// finds this test's plugins and no other's.
func (w *world) markProcesses() string {
	mark := fmt.Sprintf("FERRY_TEST_PROCESS_MARK=%s-%d", w.t.Name(), time.Now().UnixNano())
	w.env = append(w.env, mark)
	return mark
}

// pluginsLeft lists the processes, other than ferry, that carry mark in
// their environment, waiting up to a few seconds for them to go: a plugin
// whose host died outright notices within a second (source.Serve).
func pluginsLeft(t *testing.T, mark, ferry string) []string {
	t.Helper()
	var pids []string
	for deadline := time.Now().Add(4 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		pids = pids[:0]
		entries, err := os.ReadDir("/proc")
		if err != nil {
			return nil // not Linux: no /proc to list processes in
		}
		for _, e := range entries {
			env, err := os.ReadFile("/proc/" + e.Name() + "/environ")
			if err != nil || !slices.Contains(strings.Split(string(env), "\x00"), mark) {
				continue
			}
			if exe, _ := os.Readlink("/proc/" + e.Name() + "/exe"); exe != ferry {
				pids = append(pids, e.Name()+" "+exe)
			}
		}
		if len(pids) == 0 || time.Now().After(deadline) {
			return pids
		}
	}
}

// start starts ferry on the world's workspace without waiting for it:
// its stderr, readable while it runs, and its end (cmd.Wait's error).
func (w *world) start(args ...string) (*exec.Cmd, *lockedBuffer, <-chan error) {
	w.t.Helper()
	cmd := exec.Command(w.bin.ferry, args...)
	cmd.Env = w.env
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		w.t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	return cmd, stderr, done
}

// lockedBuffer is a bytes.Buffer a process writes while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestMigrateUnderFaultsBothSides runs a migration with a tenth of the
// answers on both sides faults: the Zendesk emulator's (429s with and
// without Retry-After, 500/502/503, resets, truncated bodies, stalls) and
// the Intercom sandbox's (429 bursts with and without headers, 5xx,
// resets, answers lost after the sandbox acted). It completes exact:
// nothing failed, every record once, verify agrees. The long suite stalls
// for Zendesk's 5 seconds; make test for a fraction of it.
func TestMigrateUnderFaultsBothSides(t *testing.T) {
	stall := 300 * time.Millisecond
	gen := zendesktest.GenerateOptions{Seed: 41, Tickets: 15, EndUsers: 10, Organizations: 3, MaxComments: 5}
	if os.Getenv("FERRY_LONG") != "" {
		stall, gen.Tickets, gen.EndUsers = 5*time.Second, 120, 50
	}
	w := newWorld(t, gen, func(o *sandbox.Options) {
		o.RateLimit, o.Window = 500, time.Second
		o.Faults = sandbox.FaultOptions{Rate: 0.1, Seed: 41}
	})
	src := faults.Wrap(w.zd, faults.Options{Rate: 0.1, Seed: 41, Stall: stall})
	w.routeZendesk(src, "page_size: 5, incremental_per_minute: 1000")
	w.mustFerry("migrate", "-w", w.ws)

	w.checkMigratedExactly(t)
	injected := 0
	for _, n := range src.Injected() {
		injected += n
	}
	t.Logf("faults injected: Zendesk %v, Intercom %v", src.Injected(), w.ic.FaultsInjected())
	if injected == 0 || len(w.ic.FaultsInjected()) == 0 {
		t.Errorf("faults injected: Zendesk %v, Intercom %v; want some on both sides", src.Injected(), w.ic.FaultsInjected())
	}
}
