package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferryhq/ferry/host/config"
)

// ferryRun runs the CLI in-process.
func ferryRun(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(append([]string{"ferry"}, args...), strings.NewReader(""), &out, &errOut)
	return out.String(), errOut.String(), code
}

func TestCLIUsageAndConfigErrors(t *testing.T) {
	ws := t.TempDir()
	badYAML := t.TempDir()
	os.WriteFile(filepath.Join(badYAML, config.FileName), []byte("source: {plugin: zendesk}\ntarget: {intercom: {token: \"${FERRY_TEST_UNSET_VAR}\"}}\n"), 0o600)
	tests := []struct {
		name     string
		args     []string
		code     int
		inStderr string
	}{
		{"unknown flag", []string{"migrate", "--nope"}, exitUsage, "flag provided but not defined"},
		{"no config", []string{"migrate", "-w", ws}, exitUsage, "run `ferry init --source zendesk -w " + ws + "` first"},
		{"unset secret", []string{"extract", "-w", badYAML}, exitUsage, "environment variable FERRY_TEST_UNSET_VAR is not set"},
		{"bad source", []string{"init", "-w", ws, "--source", "jira"}, exitUsage, `--source "jira"`},
		{"init takes no args", []string{"init", "acme"}, exitUsage, "init takes no arguments"},
		{"query needs SQL", []string{"query", "-w", ws}, exitUsage, "one SQL statement"},
		{"query bad format", []string{"query", "-w", ws, "--format", "xml", "SELECT 1"}, exitUsage, `--format "xml"`},
		{"query without workspace", []string{"query", "-w", ws, "SELECT 1"}, exitFailed, "no workspace in"},
		{"report without workspace", []string{"report", "-w", ws}, exitFailed, "no workspace in"},
		{"bad log level", []string{"--log-level", "loud", "extract", "-w", badYAML}, exitUsage, "--log-level"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := ferryRun(t, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.inStderr) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, tt.code, tt.inStderr)
			}
		})
	}
}

func TestInitWritesAConfigThatLoads(t *testing.T) {
	ws := filepath.Join(t.TempDir(), "acme")
	for _, src := range config.Sources() {
		out, stderr, code := ferryRun(t, "init", "-w", ws, "--source", src, "--force")
		if code != 0 {
			t.Fatalf("init --source %s: exit %d: %s", src, code, stderr)
		}
		if !strings.Contains(out, "wrote "+filepath.Join(ws, config.FileName)) {
			t.Errorf("init said %q", out)
		}
		env := func(string) (string, bool) { return "x", true }
		c, err := config.Load(filepath.Join(ws, config.FileName), env)
		if err != nil || c.Source.Plugin != src {
			t.Errorf("the %s config does not load: %v", src, err)
		}
	}
	fi, err := os.Stat(filepath.Join(ws, config.FileName))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("ferry.yaml mode = %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	if _, stderr, code := ferryRun(t, "init", "-w", ws); code != exitUsage || !strings.Contains(stderr, "--force") {
		t.Errorf("init over an existing config: exit %d, %q", code, stderr)
	}
}

func TestHelpTeaches(t *testing.T) {
	out, _, code := ferryRun(t, "--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, cmd := range []string{"init", "plugins", "extract", "load", "migrate", "query", "report", "sandbox"} {
		if !strings.Contains(out, cmd) {
			t.Errorf("--help does not list %s", cmd)
		}
	}
	out, _, _ = ferryRun(t, "migrate", "--help")
	for _, want := range []string{"--workspace", "--strict", "resumes"} {
		if !strings.Contains(out, want) {
			t.Errorf("migrate --help lacks %q", want)
		}
	}
}
