package glassbox

import (
	"context"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// quiet is a Config whose guest writes nowhere unless a test says so.
func quiet(t *testing.T) Config {
	t.Helper()
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { null.Close() })
	return Config{Stdin: null, Stdout: null, Stderr: null, Env: []string{"PATH=/usr/bin:/bin"}}
}

// execOut runs argv inside s and returns its stdout and status.
func execOut(t *testing.T, s *Sandbox, argv ...string) (string, ExitStatus) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	p, err := s.Exec(ExecConfig{Argv: argv, Env: []string{"PATH=/usr/bin:/bin"}, Stdout: w})
	w.Close()
	if err != nil {
		t.Fatalf("exec %v: %v", argv, err)
	}
	out, _ := io.ReadAll(r)
	return string(out), p.Wait()
}

func waitTimeout(t *testing.T, s *Sandbox) ExitStatus {
	t.Helper()
	got := make(chan ExitStatus, 1)
	go func() { st, _ := s.Wait(); got <- st }()
	select {
	case st := <-got:
		return st
	case <-time.After(60 * time.Second):
		t.Fatal("the sandbox did not end")
	}
	return ExitStatus{}
}

// A further process shares the first one's files and process table, has
// no parent inside (ppid 0, as `runc exec` shows it) and leads its own
// session; its status comes back; a signal from outside ends the first.
func TestSandboxExec(t *testing.T) {
	s, err := Start(context.Background(), quiet(t), []string{"/bin/sh", "-c", "echo from-init > /tmp/shared; exec sleep 100"})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, _ := execOut(t, s, "cat", "/tmp/shared")
		if out == "from-init\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the exec never saw the first process's file (got %q)", out)
		}
		time.Sleep(20 * time.Millisecond)
	}
	out, st := execOut(t, s, "/bin/sh", "-c", `read -r a b c ppid pgrp sid rest < /proc/self/stat; echo "$ppid $sid" "$(($$ == sid))"; cat /proc/1/comm; exit 7`)
	if out != "0 "+strings.Fields(out)[1]+" 1\nsleep\n" || st.Code != 7 {
		t.Errorf("exec: got %q status %+v, want ppid 0, its own session, init sleep, status 7", out, st)
	}
	if err := s.Signal(int(unix.SIGTERM), false); err != nil {
		t.Fatal(err)
	}
	if st := waitTimeout(t, s); st.Signal != int(unix.SIGTERM) {
		t.Errorf("first process: got %+v, want killed by SIGTERM", st)
	}
	if _, err := s.Exec(ExecConfig{Argv: []string{"true"}}); err == nil {
		t.Error("exec after the sandbox ended: no error")
	}
}

// With Hold the first process is loaded but runs nothing until Release.
func TestSandboxHold(t *testing.T) {
	cfg := quiet(t)
	cfg.Hold = true
	s, err := Start(context.Background(), cfg, []string{"/bin/sh", "-c", "echo ran > /tmp/flag; exec sleep 100"})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if out, st := execOut(t, s, "/bin/sh", "-c", "cat /tmp/flag 2>/dev/null; cat /proc/1/comm"); out != "sh\n" || st.Code != 0 {
		t.Errorf("held: got %q (%+v), want no flag and init named sh", out, st)
	}
	s.Release()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if out, _ := execOut(t, s, "cat", "/tmp/flag"); out == "ran\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("released: the first process never ran")
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.Signal(int(unix.SIGKILL), true)
	if st := waitTimeout(t, s); st.Signal != int(unix.SIGKILL) {
		t.Errorf("got %+v, want killed by SIGKILL", st)
	}
}

// A held process killed before it ran ends with the signal, having run
// nothing.
func TestSandboxHoldKilled(t *testing.T) {
	cfg := quiet(t)
	cfg.Hold = true
	s, err := Start(context.Background(), cfg, []string{"/bin/sh", "-c", "exit 3"})
	if err != nil {
		t.Fatal(err)
	}
	s.Signal(int(unix.SIGTERM), false)
	if st := waitTimeout(t, s); st.Signal != int(unix.SIGTERM) {
		t.Errorf("got %+v, want killed by SIGTERM", st)
	}
}

// MaxTasks bounds fork as a pids cgroup does: EAGAIN at the bound.
func TestSandboxMaxTasks(t *testing.T) {
	cfg := quiet(t)
	cfg.MaxTasks = 2
	r, w, _ := os.Pipe()
	defer r.Close()
	cfg.Stdout, cfg.Stderr = w, w
	st, err := Run(context.Background(), cfg, []string{"/bin/sh", "-c", "sleep 1 & (echo in-subshell); wait"})
	w.Close()
	out, _ := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "in-subshell") || !strings.Contains(string(out), "fork") {
		t.Errorf("got %q (%+v), want the third fork refused", out, st)
	}
}
