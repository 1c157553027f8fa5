package epoll

import (
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/internal/fs/pipe"
	"glassbox/internal/vfs"
)

type ctx struct{}

func (ctx) Creds() *vfs.Creds          { return &vfs.Creds{} }
func (ctx) Interrupt() <-chan struct{} { return nil }
func (ctx) Interrupted() bool          { return false }

// waitIn runs Wait on another goroutine and returns its result channel
// once the waiter is asleep on the instance's change channel.
func waitIn(t *testing.T, in *Instance) <-chan []Event {
	t.Helper()
	done := make(chan []Event, 1)
	go func() {
		evs, err := in.Wait(ctx{}, 4, time.Time{}, false)
		if err != nil {
			t.Errorf("Wait: %v", err)
		}
		done <- evs
	}()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		in.mu.Lock()
		asleep := in.changes.Waited()
		in.mu.Unlock()
		if asleep {
			return done
		}
		if time.Now().After(deadline) {
			t.Fatal("the waiter never went to sleep")
		}
	}
}

func expect(t *testing.T, done <-chan []Event, data uint64) {
	t.Helper()
	select {
	case evs := <-done:
		if len(evs) != 1 || evs[0].Data != data {
			t.Fatalf("Wait = %+v, want one event with data %d", evs, data)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("Wait was not woken (event %d)", data)
	}
}

// An entry added or re-armed by another thread wakes a waiter that is
// already asleep, even when its readiness predates the add.
func TestCtlWakesWaiter(t *testing.T) {
	_, in := NewFile()
	r, w := pipe.NewFiles(nil, unix.O_NONBLOCK)
	if _, err := w.Write(ctx{}, [][]byte{[]byte("x")}, -1); err != nil {
		t.Fatal(err)
	}
	done := waitIn(t, in)
	if err := in.Ctl(unix.EPOLL_CTL_ADD, 3, r, Event{Events: unix.EPOLLIN | unix.EPOLLET, Data: 1}); err != nil {
		t.Fatal(err)
	}
	expect(t, done, 1)

	if err := in.Ctl(unix.EPOLL_CTL_MOD, 3, r, Event{Events: unix.EPOLLIN | unix.EPOLLONESHOT, Data: 2}); err != nil {
		t.Fatal(err)
	}
	if evs, _ := in.Wait(ctx{}, 4, time.Time{}, true); len(evs) != 1 {
		t.Fatalf("one-shot: %+v", evs)
	}
	done = waitIn(t, in)
	if err := in.Ctl(unix.EPOLL_CTL_MOD, 3, r, Event{Events: unix.EPOLLIN | unix.EPOLLONESHOT, Data: 3}); err != nil {
		t.Fatal(err)
	}
	expect(t, done, 3)
}

// Asking whether the epoll file is readable consumes nothing.
func TestReadinessDoesNotConsume(t *testing.T) {
	_, in := NewFile()
	r, w := pipe.NewFiles(nil, unix.O_NONBLOCK)
	in.Ctl(unix.EPOLL_CTL_ADD, 3, r, Event{Events: unix.EPOLLIN | unix.EPOLLET | unix.EPOLLONESHOT, Data: 1})
	w.Write(ctx{}, [][]byte{[]byte("x")}, -1)
	for i := 0; i < 3; i++ {
		if ev, _ := in.Readiness(); ev != unix.POLLIN {
			t.Fatalf("Readiness %d = %#x, want POLLIN", i, ev)
		}
	}
	if evs, _ := in.Wait(ctx{}, 4, time.Time{}, true); len(evs) != 1 {
		t.Fatalf("Wait after Readiness = %+v, want the event", evs)
	}
	if evs, _ := in.Wait(ctx{}, 4, time.Time{}, true); len(evs) != 0 {
		t.Fatalf("second Wait = %+v, want none (edge, one-shot)", evs)
	}
}

// Polling an epoll file that is not ready, again and again, keeps one
// merging goroutine, which ends at the next change or when the instance
// is released (found by the syscall fuzzer, seed 1: goroutines left after
// the sandbox ended).
func TestReadinessGoroutineBounded(t *testing.T) {
	before := runtime.NumGoroutine()
	f, in := NewFile()
	r, w := pipe.NewFiles(nil, unix.O_NONBLOCK)
	in.Ctl(unix.EPOLL_CTL_ADD, 3, r, Event{Events: unix.EPOLLIN, Data: 1})
	var ch <-chan struct{}
	for i := 0; i < 1000; i++ {
		var ev uint32
		if ev, ch = in.Readiness(); ev != 0 {
			t.Fatalf("Readiness = %#x, want 0", ev)
		}
	}
	if g := runtime.NumGoroutine(); g > before+1 {
		t.Fatalf("%d goroutines after 1000 polls, %d before", g, before)
	}
	w.Write(ctx{}, [][]byte{[]byte("x")}, -1)
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatal("the merged channel did not close at the write")
	}
	r.Read(ctx{}, [][]byte{make([]byte, 1)}, -1)
	in.Readiness()
	f.DecRef()
	for deadline := time.Now().Add(5 * time.Second); runtime.NumGoroutine() > before; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines after release, %d before", runtime.NumGoroutine(), before)
		}
	}
}
