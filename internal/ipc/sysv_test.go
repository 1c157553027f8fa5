package ipc

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/vfs"
)

// fakeCtx is a caller that a test can interrupt.
type fakeCtx struct {
	creds vfs.Creds
	intr  chan struct{}
	sig   atomic.Bool
}

func newCtx() *fakeCtx { return &fakeCtx{intr: make(chan struct{}, 1)} }

func (c *fakeCtx) Creds() *vfs.Creds              { return &c.creds }
func (c *fakeCtx) Interrupt() <-chan struct{}     { return c.intr }
func (c *fakeCtx) Interrupted() bool              { return c.sig.Load() }
func (c *fakeCtx) signal()                        { c.sig.Store(true); c.intr <- struct{}{} }
func newNS(t *testing.T) *Namespace               { return NewNamespace(nil) }
func after(d time.Duration, f func()) *time.Timer { return time.AfterFunc(d, f) }

// settle waits for the goroutine count to come back to n.
func settle(t *testing.T, n int) {
	t.Helper()
	for i := 0; i < 100 && runtime.NumGoroutine() > n; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if g := runtime.NumGoroutine(); g > n {
		t.Fatalf("%d goroutines left, want %d", g, n)
	}
}

// TestMsgWaitsEnd: a blocked msgrcv ends with ERESTARTNOHAND at a signal,
// with EIDRM at IPC_RMID, or with a message handed over; a blocked
// msgsnd ends when space frees. Nothing is left waiting afterwards.
func TestMsgWaitsEnd(t *testing.T) {
	base := runtime.NumGoroutine()
	ns := newNS(t)
	root := newCtx()
	id, err := ns.MsgGet(&root.creds, IPCPrivate, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	c := newCtx()
	after(20*time.Millisecond, c.signal)
	if _, _, err := ns.MsgReceive(c, 2, id, 10, 0, 0); err != abi.ERESTARTNOHAND {
		t.Fatalf("interrupted msgrcv: %v", err)
	}
	after(20*time.Millisecond, func() { ns.MsgSend(root, 1, id, 4, []byte("hi"), 0) })
	if typ, text, err := ns.MsgReceive(newCtx(), 2, id, 10, 4, 0); err != nil || typ != 4 || string(text) != "hi" {
		t.Fatalf("handed over: %d %q %v", typ, text, err)
	}
	ns.msg.mu.Lock()
	q, _ := ns.msg.ids.lookup(id)
	left, queued := len(q.receivers), len(q.msgs)
	q.qbytes = 2
	ns.msg.mu.Unlock()
	if left != 0 || queued != 0 {
		t.Fatalf("%d receivers, %d messages left", left, queued)
	}
	if err := ns.MsgSend(root, 1, id, 1, []byte("ab"), 0); err != nil {
		t.Fatal(err)
	}
	after(20*time.Millisecond, func() { ns.MsgReceive(root, 1, id, 10, 0, 0) })
	if err := ns.MsgSend(newCtx(), 1, id, 1, []byte("cd"), 0); err != nil {
		t.Fatalf("blocked send: %v", err)
	}
	after(20*time.Millisecond, func() { ns.MsgRemove(&root.creds, id) })
	if err := ns.MsgSend(newCtx(), 1, id, 1, []byte("ef"), 0); err != unix.EIDRM {
		t.Fatalf("send on removed queue: %v", err)
	}
	settle(t, base)
}

// TestSemWaitsEnd: a blocked semop ends with EINTR, EAGAIN at its
// deadline, or EIDRM; none stays queued and no timer is left.
func TestSemWaitsEnd(t *testing.T) {
	base := runtime.NumGoroutine()
	ns := newNS(t)
	root := newCtx()
	id, err := ns.SemGet(&root.creds, IPCPrivate, 2, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	down := []SemBuf{{Num: 0, Op: -1}}
	c := newCtx()
	after(20*time.Millisecond, c.signal)
	if err := ns.SemOp(c, 1, id, down, time.Time{}, nil); err != unix.EINTR {
		t.Fatalf("interrupted: %v", err)
	}
	if err := ns.SemOp(newCtx(), 1, id, down, time.Now().Add(20*time.Millisecond), nil); err != unix.EAGAIN {
		t.Fatalf("timed out: %v", err)
	}
	if n, _ := ns.SemGetValue(&root.creds, id, 0, SemGetNcnt); n != 0 {
		t.Fatalf("GETNCNT %d after the waits ended", n)
	}
	after(20*time.Millisecond, func() { ns.SemRemove(&root.creds, id) })
	if err := ns.SemOp(newCtx(), 1, id, down, time.Time{}, nil); err != unix.EIDRM {
		t.Fatalf("removed: %v", err)
	}
	settle(t, base)
}

// TestSemCounter: many waiters and posters on one semaphore (run with
// -race); SEM_UNDO adjustments come back at ExitUndo.
func TestSemCounter(t *testing.T) {
	ns := newNS(t)
	root := newCtx()
	id, _ := ns.SemGet(&root.creds, IPCPrivate, 1, 0o600)
	const n = 50
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			if err := ns.SemOp(newCtx(), 1, id, []SemBuf{{Op: -1}}, time.Time{}, nil); err != nil {
				t.Error(err)
			}
		}()
		go func() {
			defer wg.Done()
			if err := ns.SemOp(newCtx(), 2, id, []SemBuf{{Op: 1}}, time.Time{}, nil); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if v, _ := ns.SemGetValue(&root.creds, id, 0, SemGetVal); v != 0 {
		t.Fatalf("value %d, want 0", v)
	}
	ul := NewUndoList()
	undo := func() *UndoList { return ul }
	if err := ns.SemOp(root, 3, id, []SemBuf{{Op: 5, Flg: SemUndo}}, time.Time{}, undo); err != nil {
		t.Fatal(err)
	}
	if err := ns.SemOp(root, 3, id, []SemBuf{{Op: -2, Flg: SemUndo}}, time.Time{}, undo); err != nil {
		t.Fatal(err)
	}
	ns.ExitUndo(ul, 3)
	if v, _ := ns.SemGetValue(&root.creds, id, 0, SemGetVal); v != 0 {
		t.Fatalf("value %d after undo, want 0", v)
	}
}
