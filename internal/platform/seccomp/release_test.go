package seccomp

import (
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestReleaseRace: a thread released while its process's last other
// thread is released on another goroutine, which reaps the stub and
// unmaps the control pages, must not write its slot's word afterwards
// (glassbox died of a SIGSEGV in Release once, in the race suite's
// exec-from-a-thread stress program).
func TestReleaseRace(t *testing.T) {
	runtime.LockOSThread()
	th, _ := newTestThread(t, getpidLoop)
	st, err := th.NewThread()
	if err != nil {
		t.Fatal(err)
	}
	// The hook is set before the second thread's goroutine starts (it
	// reads it in Release).
	lastDone := make(chan struct{})
	releaseHook = func() { <-lastDone }
	defer func() { releaseHook = nil }()
	second := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		c, err := st.Start()
		if err != nil {
			t.Error(err)
			close(second)
			return
		}
		// First in: this thread is not the last, and waits in the hook
		// until the main thread, the last, has taken the stub down.
		c.Release()
		close(second)
	}()
	// Until the second thread has been counted out (it then waits in
	// the hook): the main thread's Release is the last.
	deadline := time.Now().Add(10 * time.Second)
	for threadsOf(th) > 1 {
		if time.Now().After(deadline) {
			t.Fatal("the second thread was never released")
		}
		time.Sleep(time.Millisecond)
	}
	th.Release()
	close(lastDone)
	<-second
}

// threadsOf is how many threads th's process still counts.
func threadsOf(th interface{}) int {
	tt := th.(*thread)
	tt.proc.mu.Lock()
	defer tt.proc.mu.Unlock()
	return tt.proc.threads
}

// TestReleaseReaps: the last thread's Release kills the stub without
// waiting for its end; its reap goroutine then unmaps the control pages
// and reaps it on its own (no zombie is left for glassbox' exit), and
// Close waits for every reap.
func TestReleaseReaps(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for _, withClose := range []bool{false, true} {
		th, p := newTestThread(t, getpidLoop)
		proc := th.(*thread).proc
		pid := proc.pid
		th.Release()
		if withClose {
			p.Close()
			if err := unix.Kill(pid, 0); err != unix.ESRCH {
				t.Errorf("stub %d after Release and Close: kill(0) = %v, want ESRCH (reaped)", pid, err)
			}
			proc.mu.Lock()
			unmapped := proc.unmapped
			proc.mu.Unlock()
			if !unmapped {
				t.Errorf("stub %d reaped, but its control pages are still mapped", pid)
			}
			continue
		}
		deadline := time.Now().Add(10 * time.Second)
		for unix.Kill(pid, 0) == nil && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		if err := unix.Kill(pid, 0); err != unix.ESRCH {
			t.Errorf("stub %d after Release: kill(0) = %v, want ESRCH (reaped by its reap goroutine)", pid, err)
		}
		p.Close()
	}
}
