package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// result is what one run of a workload produced.
type result struct {
	wall   time.Duration // process start to exit, as the harness saw it
	ns     int64         // the program's own timing of its inner loop
	ops    int64         // operations (or bytes) in that loop
	check  string        // the program's check value
	stdout string
}

// stats are the medians over the timed runs of one side.
type stats struct {
	wall time.Duration
	op   float64 // the workload's metric; 0 without one
}

// outcome is one side's medians, or why it failed.
type outcome struct {
	stats
	fail    string // what went wrong, one line; "" if the side ran
	failOut string // the failed run's output
}

// failed records err as the outcome's failure.
func (o *outcome) failed(err error) {
	o.fail, o.failOut, _ = strings.Cut(err.Error(), "\n")
	var re *runError
	if errors.As(err, &re) {
		o.failOut = re.stderr
	}
}

// failSummary is one line about the failure: the error and the first
// line of output.
func (o outcome) failSummary() string {
	s := o.fail
	if out := firstLine(strings.TrimSpace(o.failOut)); out != "" {
		s += ": " + out
	}
	if len(s) > 100 {
		s = s[:97] + "..."
	}
	return s
}

// row is one workload's outcome: native and one column per sandbox (in
// the order of env.sandboxes). When the native run fails nothing else
// runs; a sandbox that fails leaves the others' figures standing.
type row struct {
	w      workload
	native outcome
	guests []outcome
}

// runError is a failed run, with the output that explains it.
type runError struct {
	msg    string
	stderr string
}

func (e *runError) Error() string { return e.msg }

// glassboxArgv wraps argv in `glassbox run [flags] -- argv`.
func glassboxArgv(e *env, flags []string, argv []string) []string {
	out := append([]string{e.glassbox, "run"}, flags...)
	out = append(out, "--")
	return append(out, argv...)
}

var resultLine = regexp.MustCompile(`(?m)^ns=(\d+) ops=(\d+) check=(\S+)$`)

// runOnce runs argv to completion and times it. A non-zero exit, a
// timeout or (for self-timed workloads) a missing result line is an error.
func runOnce(e *env, w workload, argv []string) (result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), e.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// Its own process group, so a timeout kills whatever it started too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	if e.runsc != "" && argv[0] == e.runsc {
		// runsc's sandbox and gofer have sessions of their own and die
		// with runsc, but a killed runsc leaves its network namespace
		// mounted under /tmp. SIGTERM it, which it passes on to the
		// program; WaitDelay still kills it if the program lingers.
		cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	}
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	err := cmd.Run()
	r := result{wall: time.Since(start), stdout: stdout.String()}
	if err != nil {
		msg := err.Error()
		if ctx.Err() != nil {
			msg = fmt.Sprintf("timed out after %v", e.timeout)
		}
		return r, &runError{msg: msg, stderr: tail(stderr.String()+stdout.String(), 30)}
	}
	if !w.selfTimed {
		return r, nil
	}
	m := resultLine.FindStringSubmatch(r.stdout)
	if m == nil {
		return r, &runError{msg: "no \"ns=… ops=… check=…\" line in the output",
			stderr: tail(stderr.String()+stdout.String(), 30)}
	}
	r.ns, _ = strconv.ParseInt(m[1], 10, 64)
	r.ops, _ = strconv.ParseInt(m[2], 10, 64)
	r.check = m[3]
	if r.ns <= 0 || r.ops <= 0 {
		return r, &runError{msg: "nonsense timing: " + m[0]}
	}
	return r, nil
}

// measure runs w once natively and once in each sandbox untimed (to
// warm caches and to compare their outputs), then n timed times each,
// interleaved, and returns the medians.
func measure(e *env, w workload, n int) row {
	sbs := e.sandboxes()
	rw := row{w: w, guests: make([]outcome, len(sbs))}
	native := w.argv(e)
	guests := make([][]string, len(sbs))
	for i, sb := range sbs {
		guests[i] = sb.wrap(e, w, native)
	}
	nr, err := runOnce(e, w, native)
	if err != nil {
		rw.native.failed(err)
		return rw
	}
	for i, guest := range guests {
		gr, err := runOnce(e, w, guest)
		switch {
		case err != nil:
		case w.selfTimed && nr.check != gr.check:
			err = fmt.Errorf("check value %s, natively %s", gr.check, nr.check)
		case w.sameStdout && nr.stdout != gr.stdout:
			err = fmt.Errorf("output differs:\nnative:   %q\n%s: %q",
				tail(nr.stdout, 5), sbs[i].side, tail(gr.stdout, 5))
		}
		if err != nil {
			rw.guests[i].failed(err)
		}
	}

	nrs := []result{}
	grs := make([][]result, len(guests))
	for k := 0; k < n; k++ {
		r, err := runOnce(e, w, native)
		if err != nil {
			rw.native.failed(err)
			return rw
		}
		nrs = append(nrs, r)
		for i, guest := range guests {
			if rw.guests[i].fail != "" {
				continue
			}
			if r, err = runOnce(e, w, guest); err != nil {
				rw.guests[i].failed(err)
				continue
			}
			grs[i] = append(grs[i], r)
		}
	}
	rw.native.stats = medians(w, nrs)
	for i := range guests {
		if rw.guests[i].fail == "" {
			rw.guests[i].stats = medians(w, grs[i])
		}
	}
	return rw
}

// medians reduces runs to the median wall time and median metric.
func medians(w workload, rs []result) stats {
	walls := make([]float64, len(rs))
	ops := make([]float64, len(rs))
	for i, r := range rs {
		walls[i] = float64(r.wall)
		if w.metric != nil {
			ops[i] = w.metric.value(r)
		}
	}
	return stats{wall: time.Duration(median(walls)), op: median(ops)}
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// tail returns the last n lines of s, without a trailing newline.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("[… %d lines before]", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}
