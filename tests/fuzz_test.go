package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSyscallFuzzShort runs the syscall fuzzer (tests/fuzz) as the README
// documents it, for a minute over three fixed seeds: random system calls
// from three processes of three threads with signals flying, each session
// checked for glassbox panics, hangs, changes to the read-only root and
// host resources left behind. The long run is the same command with
// -duration 1h and a random seed.
//
// It runs with GLASSBOX_FUZZ=1 only, until the hang it finds under load
// (seeds 1-3 while the rest of the suite runs; seed 202 alone: a task
// blocked in time.AfterFunc under a POSIX timer's lock, see ptimer.go's
// fire/armLocked, while other threads wait for that lock) is fixed.
func TestSyscallFuzzShort(t *testing.T) {
	if os.Getenv("GLASSBOX_FUZZ") == "" {
		t.Skip("GLASSBOX_FUZZ=1 runs the fuzzer's minute (a known hang under load is open)")
	}
	if os.Getuid() != 0 {
		t.Fatal("the fuzzer runs each session in new namespaces, which needs root")
	}
	bin := filepath.Join(t.TempDir(), "fuzz")
	build := exec.Command("go", "build", "-o", bin, "./fuzz")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the fuzzer: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "-duration", "60s", "-session", "20s", "-seed", "1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "3 session(s), no failures") {
		t.Fatalf("fuzzer: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
