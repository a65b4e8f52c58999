package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// TestCPUProfile: FERRY_CPUPROFILE makes a command write a CPU profile
// (gzipped protobuf, as go tool pprof reads), each process its own when
// the path has %p; a path that cannot be written is said and the command
// still runs.
func TestCPUProfile(t *testing.T) {
	b, err := buildBinaries()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cmd := exec.Command(b.ferry, "--version")
	cmd.Env = append(os.Environ(), "FERRY_CPUPROFILE="+filepath.Join(dir, "cpu.%p"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ferry --version: %v\n%s", err, out)
	}
	data, err := os.ReadFile(filepath.Join(dir, "cpu."+strconv.Itoa(cmd.Process.Pid)))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte{0x1f, 0x8b}) {
		t.Errorf("the profile is not gzipped: % x", data[:min(len(data), 8)])
	}

	cmd = exec.Command(b.ferry, "--version")
	cmd.Env = append(os.Environ(), "FERRY_CPUPROFILE="+filepath.Join(dir, "no", "such", "dir", "cpu"))
	out, err := cmd.CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("FERRY_CPUPROFILE")) || !bytes.Contains(out, []byte("ferry version")) {
		t.Errorf("with an unwritable profile: %v\n%s", err, out)
	}
}
