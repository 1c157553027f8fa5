package stress

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// Result is the outcome of one run.
type Result struct {
	Stdout, Stderr string
	Code           int  // exit status, or 128+N after death by signal N
	TimedOut       bool // killed after the timeout: a stall
	Took           time.Duration
}

// Run runs argv with env (nil: inherit) for at most timeout, in its own
// process group (a timeout kills everything it started). With dump, a
// stalled process first gets SIGABRT, on which a Go program (glassbox)
// writes every goroutine's stack to its stderr: the stall's evidence.
func Run(argv, env []string, timeout time.Duration, dump bool) (Result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		if dump {
			syscall.Kill(cmd.Process.Pid, syscall.SIGABRT)
			time.Sleep(3 * time.Second)
		}
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	cmd.WaitDelay = 10 * time.Second
	start := time.Now()
	err := cmd.Run()
	r := Result{Stdout: stdout.String(), Stderr: stderr.String(), Took: time.Since(start)}
	r.TimedOut = ctx.Err() == context.DeadlineExceeded
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		ws := ee.Sys().(syscall.WaitStatus)
		if ws.Signaled() {
			r.Code = 128 + int(ws.Signal())
		} else {
			r.Code = ws.ExitStatus()
		}
	case r.TimedOut:
	default:
		return r, err
	}
	return r, nil
}

// Glassbox returns the command line running argv under the glassbox binary.
func Glassbox(bin string, argv []string) []string {
	return append([]string{bin, "run", "--"}, argv...)
}

// Differs says how gb differs from native ("" when stdout, exit status and,
// if withStderr, stderr are identical).
func Differs(native, gb Result, withStderr bool) string {
	var d []string
	if gb.TimedOut {
		d = append(d, fmt.Sprintf("glassbox stalled (killed after %v)", gb.Took.Round(time.Second)))
	}
	if native.Code != gb.Code {
		d = append(d, fmt.Sprintf("exit status %d, native %d", gb.Code, native.Code))
	}
	if native.Stdout != gb.Stdout {
		d = append(d, "stdout differs")
	}
	if withStderr && native.Stderr != gb.Stderr {
		d = append(d, "stderr differs")
	}
	if c := Crashed(gb.Stderr); c != "" {
		d = append(d, c)
	}
	return strings.Join(d, "; ")
}

// Crashed says whether glassbox' stderr shows a failure of glassbox itself
// (a Go panic or fatal error, or a data race found by a -race build).
func Crashed(stderr string) string {
	switch {
	case strings.Contains(stderr, "WARNING: DATA RACE"):
		return "glassbox has a data race (-race build)"
	case strings.Contains(stderr, "goroutine ") && strings.Contains(stderr, "panic"),
		strings.Contains(stderr, "fatal error:"):
		return "glassbox crashed with a Go stack trace"
	}
	return ""
}

// Report renders both results for a failure message.
func Report(native, gb Result) string {
	return fmt.Sprintf("===== native (exit %d, %v)\n--- stdout ---\n%s--- stderr ---\n%s"+
		"===== glassbox (exit %d, %v)\n--- stdout ---\n%s--- stderr ---\n%s",
		native.Code, native.Took.Round(time.Millisecond), native.Stdout, native.Stderr,
		gb.Code, gb.Took.Round(time.Millisecond), gb.Stdout, gb.Stderr)
}
