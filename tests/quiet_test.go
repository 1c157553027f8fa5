package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Quiet by default: glassbox adds nothing to a program's stdout or stderr
// unless asked. These tests compare stderr byte for byte with native runs,
// then check that --verbose, --stats and --trace say what the default run
// kept quiet.

// TestQuietKilledBySignal: a shell killing itself has the same output and
// status (143) as natively, without a "killed by" line; --verbose adds it.
func TestQuietKilledBySignal(t *testing.T) {
	t.Parallel()
	argv := []string{"/bin/sh", "-c", "echo before; echo to-stderr >&2; kill $$; echo after"}
	native, _ := diff(t, argv)
	expect(t, "native", native, "before\n", 143)
	v := runGlassbox(t, []string{"--verbose"}, argv)
	expect(t, "glassbox --verbose", v, "before\n", 143)
	if want := native.Stderr + "glassbox: /bin/sh killed by SIGTERM\n"; v.Stderr != want {
		t.Errorf("--verbose: stderr %q, want %q", v.Stderr, want)
	}
}

const quietUnsupportedC = `
#include <stdio.h>
#include <errno.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
int main(void) {
	/* kexec_file_load is not in glassbox (ENOSYS); natively it fails too
	   (invalid fds), with an errno that depends on the host: not printed. */
	for (int i = 0; i < 3; i++)
		syscall(SYS_kexec_file_load, -1, -1, 0UL, NULL, 0UL);
	/* An unknown prctl option: EINVAL natively and under glassbox, which
	   counts it as unsupported. */
	errno = 0;
	int r = prctl(0x7fff, 0, 0, 0, 0);
	printf("prctl: %d errno=%d\n", r, errno);
	fprintf(stderr, "the program's own stderr\n");
	return 0;
}
`

// TestQuietUnsupported: a program using a syscall glassbox lacks and an
// option it does not support writes the same stdout and stderr as
// natively. --verbose names each once as it happens, --stats lists them
// with counts, and the trace marks them.
func TestQuietUnsupported(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "quiet-unsupported", quietUnsupportedC)
	native, _ := diff(t, []string{prog})
	const out = "prctl: -1 errno=22\n"
	expect(t, "native", native, out, 0)

	v := runGlassbox(t, []string{"-v"}, []string{prog})
	expect(t, "glassbox -v", v, out, 0)
	if want := "glassbox: unsupported syscall kexec_file_load (320)\n" +
		"glassbox: unsupported prctl option 32767\n" + native.Stderr; v.Stderr != want {
		t.Errorf("-v: stderr %q, want %q", v.Stderr, want)
	}

	s := runGlassbox(t, []string{"--stats"}, []string{prog})
	expect(t, "glassbox --stats", s, out, 0)
	if !strings.HasPrefix(s.Stderr, native.Stderr+"glassbox: stats: ") {
		t.Errorf("--stats: the program's stderr, then the stats, wanted:\n%s", s.Stderr)
	}
	for _, line := range []string{
		"\nglassbox: stats: unsupported syscall kexec_file_load (320) calls=3\n",
		"\nglassbox: stats: unsupported prctl option 32767 calls=1\n",
	} {
		if !strings.Contains(s.Stderr, line) {
			t.Errorf("--stats lacks %q:\n%s", line[1:], s.Stderr)
		}
	}

	tr := runGlassbox(t, []string{"--trace=syscall"}, []string{prog})
	expect(t, "glassbox --trace=syscall", tr, out, 0)
	for _, want := range []string{
		"kexec_file_load#320(", ") = -1 ENOSYS (function not implemented) <",
		"prctl#157(32767, ", ") = -1 EINVAL (invalid argument) (unsupported prctl option 32767) <",
	} {
		if !strings.Contains(tr.Stderr, want) {
			t.Errorf("the trace lacks %q:\n%s", want, grepLines(tr.Stderr, "#320(")+"\n"+grepLines(tr.Stderr, "prctl"))
		}
	}
}

// TestQuietPrograms: real programs whose calls glassbox does not fully
// support, or did not (node: pkey_alloc; man: its seccomp filters; Go's os/exec:
// pidfds; python3's subprocess: vfork and pidfds; gcc: its driver's
// posix_spawn of cc1, as and collect2) print exactly what they print
// natively, on stdout and stderr.
func TestQuietPrograms(t *testing.T) {
	t.Parallel()
	src := filepath.Join(t.TempDir(), "warn.c")
	if err := os.WriteFile(src, []byte("int main(void) { int unused; return 0; }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tool := range []string{"node", "man", "python3", "gcc"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found: the test needs it (apt-get install nodejs man-db)", tool)
		}
	}
	for _, argv := range [][]string{
		{"node", "-e", `const c=require("child_process"); console.log(c.execSync("echo hi").toString().trim()); console.error("e"); setTimeout(()=>console.log("timer"),100)`},
		{"man", "-P", "cat", "ls"},
		{"/bin/sh", "-c", "ls /nonexistent; echo status $?"},
		{"python3", "-c", `import subprocess,sys,threading; t=threading.Thread(target=print, args=("thread",)); t.start(); t.join(); print(subprocess.run(["echo","hi"],capture_output=True).stdout); sys.stderr.write("e\n")`},
		{"/bin/sh", "-c", "gcc -Wall -o /dev/null " + src + " && echo built"},
	} {
		native, _ := diffWith(t, diffOpts{env: []string{"MANWIDTH=80"}}, argv)
		if native.Code != 0 || native.Stdout == "" {
			t.Errorf("%q: native run looks wrong: %s", argv, native)
		}
	}
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
