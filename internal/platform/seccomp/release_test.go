package seccomp

import (
	"runtime"
	"testing"
	"time"
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
