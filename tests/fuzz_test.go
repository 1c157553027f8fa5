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
func TestSyscallFuzzShort(t *testing.T) {
	if os.Getuid() != 0 {
		t.Fatal("the fuzzer runs each session in new namespaces, which needs root")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "fuzz")
	build := exec.Command("go", "build", "-o", bin, "./fuzz")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the fuzzer: %v\n%s", err, out)
	}
	reports := filepath.Join(dir, "reports")
	cmd := exec.Command(bin, "-duration", "60s", "-session", "20s", "-seed", "1", "-out", reports)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "3 session(s), no failures") {
		// Each failed session's report: the guest's output and, for a
		// hang, every goroutine of the glassbox that hung.
		files, _ := filepath.Glob(filepath.Join(reports, "*"))
		for _, f := range files {
			b, _ := os.ReadFile(f)
			if len(b) > 256<<10 {
				b = append(b[:256<<10], "\n[...]"...)
			}
			t.Logf("%s:\n%s", f, b)
		}
		t.Fatalf("fuzzer: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
