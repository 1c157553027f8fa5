package tests

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSignalEndsDashboard: SIGTERM, SIGINT or SIGHUP sent to glassbox
// while its guest runs goes to the guest, and glassbox ends with it, even
// with a dashboard (--ui) that would otherwise keep serving after the
// guest exits: a process supervisor must be able to stop glassbox with one
// signal. The exit status is the guest's (128+N when the signal killed it;
// 7 when the guest's handler exits 7).
func TestSignalEndsDashboard(t *testing.T) {
	t.Parallel()
	if buildErr != nil {
		t.Fatalf("glassbox unavailable: %v", buildErr)
	}
	cases := []struct {
		sig  syscall.Signal
		argv []string
		code int
	}{
		{syscall.SIGTERM, []string{"/bin/sleep", "30"}, 128 + 15},
		{syscall.SIGINT, []string{"/bin/sleep", "30"}, 128 + 2},
		{syscall.SIGHUP, []string{"/bin/sleep", "30"}, 128 + 1},
		{syscall.SIGTERM, []string{"/bin/sh", "-c", "trap 'exit 7' TERM; /bin/sleep 30 & wait"}, 7},
	}
	for _, c := range cases {
		t.Run(c.sig.String()+"/"+c.argv[0], func(t *testing.T) {
			port := freeHostPort(t)
			args := append([]string{"run", "--ui=127.0.0.1:" + strconv.Itoa(port), "--"}, c.argv...)
			cmd := exec.Command(glassboxBin, args...)
			var stdout bytes.Buffer
			stderr := &lockedBuf{}
			cmd.Stdout, cmd.Stderr = &stdout, stderr
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan struct{})
			go func() { cmd.Wait(); close(exited) }()
			defer func() {
				select {
				case <-exited:
				default:
					syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
					<-exited
				}
			}()
			// Signal only once the guest runs: the dashboard lists it.
			url := "http://127.0.0.1:" + strconv.Itoa(port) + "/"
			comm := c.argv[0][strings.LastIndexByte(c.argv[0], '/')+1:]
			deadline := time.Now().Add(20 * time.Second)
			for !dashboardShows(url, comm) {
				if time.Now().After(deadline) {
					t.Fatalf("the dashboard never showed %s running:\n%s", comm, stderr)
				}
				time.Sleep(50 * time.Millisecond)
			}
			if c.argv[0] == "/bin/sh" {
				// The shell has set its trap once it has started sleep.
				for !dashboardShows(url, "sleep") {
					if time.Now().After(deadline) {
						t.Fatalf("the dashboard never showed sleep:\n%s", stderr)
					}
					time.Sleep(50 * time.Millisecond)
				}
			}
			sent := time.Now()
			cmd.Process.Signal(c.sig)
			select {
			case <-exited:
			case <-time.After(10 * time.Second):
				t.Fatalf("glassbox still running 10 s after %v (one signal must end it):\n%s", c.sig, stderr)
			}
			t.Logf("glassbox ended %v after %v", time.Since(sent).Round(time.Millisecond), c.sig)
			ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
			if ws.Signaled() || ws.ExitStatus() != c.code {
				t.Errorf("glassbox ended with %v, want exit %d", cmd.ProcessState, c.code)
			}
			// Only the dashboard's address: no "stays at" line, nothing on
			// stdout.
			if !regexp.MustCompile(`^glassbox: dashboard at http://\S+\n$`).MatchString(stderr.String()) || stdout.Len() != 0 {
				t.Errorf("output: stdout %q, stderr %q", stdout.String(), stderr)
			}
		})
	}
}

// dashboardShows reports whether the dashboard's snapshot lists a live
// process named comm.
func dashboardShows(url, comm string) bool {
	body, err := httpGet(url + "api/snapshot")
	if err != nil {
		return false
	}
	var v uiView
	if json.Unmarshal(body, &v) != nil {
		return false
	}
	for _, p := range v.Procs {
		if p.Comm == comm && p.State != "Z" {
			return true
		}
	}
	return false
}
