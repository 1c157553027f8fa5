package tests

import (
	"testing"
)

const emptyMainC = `int main(void) { return 0; }
`

// TestStartFaults: a program that does nothing starts with few guest
// faults: exec maps what it touches first (entry, stack, the dynamic
// linker's and the program's data and headers), a fault in one segment
// of a read-only file maps its sibling segments (seccomp: host-file
// mappings), a data segment is copied whole on its first touch, and
// RELRO's mprotect keeps its pages mapped. The counts are this image's
// glibc's (static start-up; dynamic: ld.so and libc); each took 14-32
// faults before.
func TestStartFaults(t *testing.T) {
	t.Parallel()
	static := compileC(t, "emptystatic", emptyMainC)
	dynamic := compileC(t, "emptydynamic", emptyMainC, "-dynamic")
	for _, c := range []struct {
		platform string
		prog     string
		max      uint64
	}{
		{"seccomp", static, 3},
		{"seccomp", dynamic, 5},
		{"ptrace", static, 6},
		{"ptrace", dynamic, 14},
	} {
		r := runGlassbox(t, []string{"--platform=" + c.platform, "--stats"}, []string{c.prog})
		if r.Code != 0 {
			t.Fatalf("%s %s: %s", c.platform, c.prog, r)
		}
		if n := statField(t, r.Stderr, "faults"); n > c.max {
			t.Errorf("%s %s: %d faults, want at most %d:\n%s", c.platform, c.prog, n, c.max, r.Stderr)
		}
	}
}
