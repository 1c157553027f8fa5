package kernel

import (
	"errors"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// parkTask is a task with just what awaitWake uses; ncpu 0 never polls.
func parkTask(ncpu int) *Task {
	k := &Kernel{ncpu: ncpu}
	return &Task{k: k, tg: &ThreadGroup{}, intr: make(chan struct{}, 1)}
}

func TestAwaitWakeFired(t *testing.T) {
	for _, ncpu := range []int{0, runtime.NumCPU()} {
		w := parkTask(ncpu)
		e := newWakeup(w)
		go func() {
			time.Sleep(5 * time.Millisecond)
			e.fire()
		}()
		if err := w.awaitWake(e, time.Time{}, func() bool { t.Error("dequeued"); return true }, unix.EINTR); err != nil {
			t.Fatalf("ncpu %d: %v", ncpu, err)
		}
	}
}

func TestAwaitWakeTimeout(t *testing.T) {
	for _, queued := range []bool{true, false} {
		w := parkTask(runtime.NumCPU())
		start := time.Now()
		err := w.awaitWake(newWakeup(w), start.Add(20*time.Millisecond), func() bool { return queued }, unix.EINTR)
		if queued && !errors.Is(err, unix.ETIMEDOUT) || !queued && err != nil {
			t.Fatalf("still queued %v: %v", queued, err)
		}
		if d := time.Since(start); d < 20*time.Millisecond {
			t.Fatalf("timed out after %v", d)
		}
	}
}

// A task told to exit while parked is unparked by the token.
func TestAwaitWakeInterrupted(t *testing.T) {
	for _, queued := range []bool{true, false} {
		w := parkTask(runtime.NumCPU())
		go func() {
			time.Sleep(5 * time.Millisecond)
			w.mu.Lock()
			w.exiting = true
			w.mu.Unlock()
			w.kick()
		}()
		err := w.awaitWake(newWakeup(w), time.Time{}, func() bool { return queued }, unix.EINTR)
		if queued && !errors.Is(err, unix.EINTR) || !queued && err != nil {
			t.Fatalf("still queued %v: %v", queued, err)
		}
	}
}

// Two tasks hand a turn back and forth, each waking the other right after
// it arms its own wait: a lost wake-up hangs the test.
func TestAwaitWakePingPong(t *testing.T) {
	const rounds = 20000
	a, b := parkTask(runtime.NumCPU()), parkTask(runtime.NumCPU())
	a.k = b.k
	var toA, toB atomic.Pointer[wakeup]
	eb := newWakeup(b)
	toB.Store(eb)
	done := make(chan error, 1)
	go func() {
		for i := 0; i < rounds; i++ {
			e := toB.Load()
			if err := b.awaitWake(e, time.Time{}, func() bool { return true }, unix.EINTR); err != nil {
				done <- err
				return
			}
			next := newWakeup(b)
			toB.Store(next)
			for toA.Load() == nil {
				runtime.Gosched()
			}
			toA.Swap(nil).fire()
		}
		done <- nil
	}()
	for i := 0; i < rounds; i++ {
		e := newWakeup(a)
		toA.Store(e)
		toB.Load().fire()
		if err := a.awaitWake(e, time.Time{}, func() bool { return true }, unix.EINTR); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("peer stuck")
	}
}
