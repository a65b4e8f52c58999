package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ferryhq/ferry/host/sandboxstats"
)

// The bench help desk's credentials: loopback servers, nothing secret.
const (
	zendeskEmail  = "bench@acme.example"
	zendeskToken  = "bench-zendesk-token"
	intercomToken = "bench-intercom-token"
)

// deskSize sizes the generated help desk.
type deskSize struct {
	tickets, endUsers, organizations, maxComments int
}

// limits are the servers' rate limits and latency; 0 is none.
type limits struct {
	zendeskPerMinute, zendeskIncrementalPerMinute int
	intercomPer10s                                int
	intercomLatency                               time.Duration
}

// sandbox is a running `ferry sandbox`.
type sandbox struct {
	cmd       *exec.Cmd
	intercom  string // base URLs
	zendesk   string
	statsFile string
	exited    chan struct{} // closed when the process has exited
	waitErr   error         // how it exited, once exited is closed
}

// startSandbox starts `ferry sandbox` serving the help desk saved in
// deskFile (generated there first if it is not), with the given limits,
// and waits until it prints its servers' URLs.
func (h *harness) startSandbox(ctx context.Context, name, deskFile string, size deskSize, lim limits) (*sandbox, error) {
	s := &sandbox{statsFile: h.path(name + "-stats.json"), exited: make(chan struct{})}
	args := []string{"sandbox", "--seed", "9",
		"--helpdesk", deskFile,
		"--tickets", strconv.Itoa(size.tickets), "--end-users", strconv.Itoa(size.endUsers),
		"--organizations", strconv.Itoa(size.organizations), "--max-comments", strconv.Itoa(size.maxComments),
		"--zendesk-email", zendeskEmail, "--zendesk-token", zendeskToken, "--intercom-token", intercomToken,
		"--zendesk-rate", strconv.Itoa(lim.zendeskPerMinute), "--zendesk-incremental-rate", strconv.Itoa(lim.zendeskIncrementalPerMinute),
		"--intercom-rate", strconv.Itoa(lim.intercomPer10s), "--intercom-latency", lim.intercomLatency.String(),
		"--stats-file", s.statsFile,
	}
	logf, err := os.Create(h.path(name + "-sandbox.log"))
	if err != nil {
		return nil, err
	}
	s.cmd = exec.Command(h.ferry, args...)
	s.cmd.Stderr = logf
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		logf.Close()
		return nil, err
	}
	if err := s.cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start ferry sandbox: %w", err)
	}
	urls := make(chan [2]string, 1)
	go func() {
		// One line per server: "intercom http://127.0.0.1:PORT", ...
		var ic, zd string
		sc := bufio.NewScanner(stdout)
		for (ic == "" || zd == "") && sc.Scan() {
			server, url, _ := strings.Cut(sc.Text(), " ")
			switch server {
			case "intercom":
				ic = url
			case "zendesk":
				zd = url
			}
		}
		if ic != "" && zd != "" {
			urls <- [2]string{ic, zd}
		}
		_, _ = io.Copy(io.Discard, stdout)
		s.waitErr = s.cmd.Wait()
		logf.Close()
		close(s.exited)
	}()
	select {
	case u := <-urls:
		s.intercom, s.zendesk = u[0], u[1]
		return s, nil
	case <-s.exited:
		return nil, fmt.Errorf("ferry sandbox exited before serving (%v):\n%s", s.waitErr, tail(logf.Name(), 20))
	case <-time.After(5 * time.Minute):
		s.kill()
		return nil, errors.New("ferry sandbox did not print its URLs within 5 minutes")
	case <-ctx.Done():
		s.kill()
		return nil, ctx.Err()
	}
}

// stop stops the sandbox with SIGTERM and returns what its servers counted.
func (s *sandbox) stop() (*sandboxstats.File, error) {
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return nil, fmt.Errorf("stop ferry sandbox: %w", err)
	}
	select {
	case <-s.exited:
		if s.waitErr != nil {
			return nil, fmt.Errorf("ferry sandbox: %w", s.waitErr)
		}
	case <-time.After(30 * time.Second):
		s.kill()
		return nil, errors.New("ferry sandbox did not stop within 30 s of SIGTERM")
	}
	return sandboxstats.Read(s.statsFile)
}

// kill ends the sandbox at once, unless it has exited (on the way out of
// a failed phase).
func (s *sandbox) kill() {
	select {
	case <-s.exited:
		return
	default:
	}
	_ = s.cmd.Process.Kill()
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
	}
}

// zendeskYAML is a ferry.yaml migrating the sandbox's Zendesk into its
// Intercom, as the demo's does, without transforms; incremental says how
// many incremental exports a minute the account allows.
func (s *sandbox) zendeskYAML(incremental int) string {
	return fmt.Sprintf(`# The bench's migration: the Zendesk emulator into the Intercom sandbox.
source:
  plugin: zendesk
  config: { base_url: %q, email: %q, token: "${ZENDESK_TOKEN}", incremental_per_minute: %d }
target:
  intercom: { base_url: %q, token: "${INTERCOM_TOKEN}" }
options:
  tag_migrated: "migrated"
`, s.zendesk, zendeskEmail, incremental, s.intercom)
}

// tokenEnv is the environment ferry.yaml's ${VAR}s read.
var tokenEnv = []string{"ZENDESK_TOKEN=" + zendeskToken, "INTERCOM_TOKEN=" + intercomToken}
