package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// syscallCount is how many syscalls one run of a workload made, as
// glassbox traced them and (if strace is installed) as the host saw them.
type syscallCount struct {
	name        string
	guest       int
	guestErr    error
	native      int
	nativeErr   error
	nativeTried bool
}

// A glassbox syscall trace line: `[pid N] name#nr(args) = result <dur>`.
var gbTraceLine = regexp.MustCompile(`^\[pid \d+\] \S+#\d+\(`)

// An strace -f -o line: `[PID ]name(args) = result`; signal (`---`),
// exit (`+++`) and `<... resumed>` lines are not counted.
var straceLine = regexp.MustCompile(`^(\d+ +)?[a-z_0-9]+\(`)

// countSyscalls runs w once under `glassbox --trace=syscall` and once
// natively under strace, and counts the syscall lines of each.
func countSyscalls(e *env, w workload) syscallCount {
	c := syscallCount{name: w.name}
	argv := w.argv(e)
	base := strings.ReplaceAll(w.name, "/", "-")

	gbFile := filepath.Join(e.dir, base+".gbtrace")
	gbArgv := glassboxArgv(e, []string{"--trace=syscall", "--trace-out", gbFile}, argv)
	c.guest, c.guestErr = tracedCount(e, w, gbArgv, gbFile, gbTraceLine)

	if e.strace != "" {
		c.nativeTried = true
		stFile := filepath.Join(e.dir, base+".strace")
		stArgv := append([]string{e.strace, "-f", "-qq", "-o", stFile}, argv...)
		c.native, c.nativeErr = tracedCount(e, w, stArgv, stFile, straceLine)
	}
	return c
}

// tracedCount runs argv, which writes a trace to file, and counts the
// lines of file that match line. A trace with lines but no match means
// the format is not the one expected, and is an error.
func tracedCount(e *env, w workload, argv []string, file string, line *regexp.Regexp) (int, error) {
	if _, err := runOnce(e, w, argv); err != nil {
		return 0, err
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return 0, err
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	n := 0
	for _, l := range lines {
		if line.MatchString(l) {
			n++
		}
	}
	if n == 0 && len(b) > 0 {
		return 0, fmt.Errorf("unrecognised trace format, first line: %q", lines[0])
	}
	return n, nil
}
