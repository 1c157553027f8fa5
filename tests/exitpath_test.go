package tests

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestExitLeavesNoStub: `glassbox run -- sh -c 'sleep 100 & exit 3'`
// ends with status 3 as soon as sh exits (the background sleep dies with
// the sandbox, as a PID namespace's processes die with its init), and no
// process of the sandbox outlives glassbox: by the time its exit status
// can be seen, its stubs (in its process group) are gone, not even left
// as zombies for init to reap.
func TestExitLeavesNoStub(t *testing.T) {
	t.Parallel()
	for _, pl := range platformsHere(t) {
		for i := 0; i < 3; i++ {
			ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
			cmd := exec.CommandContext(ctx, glassboxBin, "run", "--platform="+pl, "--",
				"/bin/sh", "-c", "sleep 100 & exit 3")
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			var stderr strings.Builder
			cmd.Stderr = &stderr
			start := time.Now()
			err := cmd.Run()
			elapsed := time.Since(start)
			pg := cmd.Process.Pid
			left := processGroup(pg)
			timedOut := ctx.Err() != nil
			cancel()
			if len(left) > 0 {
				syscall.Kill(-pg, syscall.SIGKILL)
				t.Errorf("%s: processes of glassbox' process group left as it exited: %s", pl, strings.Join(left, "; "))
			}
			if code := cmd.ProcessState.ExitCode(); timedOut || code != 3 || stderr.Len() != 0 {
				t.Fatalf("%s: exit %d (%v), want 3; stderr:\n%s", pl, code, err, stderr.String())
			}
			// The sleep is killed, not waited for.
			if elapsed > 20*time.Second {
				t.Errorf("%s: glassbox took %v to end after sh exited", pl, elapsed)
			}
		}
	}
}

// processGroup lists the processes of process group pg as "pid comm
// state" (zombies included: a zombie still belongs to its group).
func processGroup(pg int) []string {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		open, close := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || close < open {
			continue
		}
		// After the comm: state, ppid, pgrp.
		f := strings.Fields(s[close+1:])
		if len(f) > 2 && f[2] == strconv.Itoa(pg) {
			out = append(out, e.Name()+" "+s[open+1:close]+" "+f[0])
		}
	}
	return out
}
