package seccomp

import (
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/internal/platform"
)

// flushQueue has the stub make the queued mapping changes now.
func flushQueue(t *testing.T, th *thread) {
	t.Helper()
	if err := th.proc.command(th.cpu, opNone, [6]uint64{}, 0, 0); err != nil {
		t.Fatalf("flushing the queue: %v", err)
	}
}

func queued(th *thread) int {
	th.proc.cmdMu.Lock()
	defer th.proc.cmdMu.Unlock()
	return len(th.proc.queue)
}

// TestQueuedChanges: a process's only thread queues its mapping changes
// and the stub makes them, in order, before the thread runs again: the
// guest reads a page mapped, remapped and unmapped between two of its
// syscalls as the last change left it.
func TestQueuedChanges(t *testing.T) {
	runtime.LockOSThread()
	// mov (%rdi),%rbx; then the getpid loop.
	code := append([]byte{0x48, 0x8b, 0x1f}, getpidLoop...)
	p, fd := newCodePlatform(t, code)
	th, err := p.NewAddressSpace()
	if err != nil {
		t.Fatal(err)
	}
	defer th.Release()
	tt := th.(*thread)
	page := func(v byte) []byte {
		b := make([]byte, 4096)
		for i := range b {
			b[i] = v
		}
		return b
	}
	unix.Pwrite(fd, page(0x11), 0x1000)
	unix.Pwrite(fd, page(0x22), 0x2000)
	rw := unix.PROT_READ | unix.PROT_WRITE
	for _, c := range []func() error{
		func() error { return th.Map(0x10000, 0x1000, unix.PROT_READ|unix.PROT_EXEC, 0) },
		func() error { return th.Map(0x400000, 0x1000, rw, 0x1000) },
		func() error { return th.Map(0x400000, 0x1000, rw, 0x2000) }, // replaces the first
		func() error { return th.Protect(0x400000, 0x1000, unix.PROT_READ) },
	} {
		if err := c(); err != nil {
			t.Fatal(err)
		}
	}
	if n := queued(tt); n != 4 {
		t.Fatalf("%d changes queued, want 4", n)
	}
	regs := startRegs()
	regs.Rdi = 0x400000
	ev, err := switchWithin(t, th, &regs, 10*time.Second)
	if err != nil || ev.Kind != platform.EventSyscall || regs.Rbx != 0x2222222222222222 {
		t.Fatalf("%v %v rbx %#x, want a syscall with the second page's bytes read", ev.Kind, err, regs.Rbx)
	}
	if n := queued(tt); n != 0 {
		t.Fatalf("%d changes left queued after the resume", n)
	}
	// Unmapped before the next run: the read faults.
	if err := th.Unmap(0x400000, 0x1000); err != nil {
		t.Fatal(err)
	}
	regs.Rip = 0x10000
	ev, err = switchWithin(t, th, &regs, 10*time.Second)
	if err != nil || ev.Kind != platform.EventFault || ev.Addr != 0x400000 {
		t.Fatalf("%v %v %+v, want a fault at 0x400000", ev.Kind, err, ev)
	}
	// Many resumes in a row, each after a queued change.
	for i := 0; i < 200; i++ {
		if err := th.Protect(0x10000, 0x1000, unix.PROT_READ|unix.PROT_EXEC); err != nil {
			t.Fatal(err)
		}
		regs = startRegs()
		regs.Rip = 0x10003
		if ev, err := switchWithin(t, th, &regs, 10*time.Second); err != nil || ev.Kind != platform.EventSyscall {
			t.Fatalf("round %d: %v %v", i, ev.Kind, err)
		}
	}
}

// TestQueueFull: changes past the queue's room are made at once, with the
// queue ahead of them.
func TestQueueFull(t *testing.T) {
	runtime.LockOSThread()
	th, _ := newTestThread(t, getpidLoop)
	defer th.Release()
	tt := th.(*thread)
	flushQueue(t, tt)
	for i := 0; i < cmdQueueMax+1; i++ {
		if err := th.Map(0x400000+uint64(i)*0x2000, 0x1000, unix.PROT_READ, 0); err != nil {
			t.Fatal(err)
		}
	}
	if n := queued(tt); n != 0 {
		t.Fatalf("%d changes queued, want none (the last one posts them)", n)
	}
	if !hostMapped(t, tt, 0x400000) || !hostMapped(t, tt, 0x400000+cmdQueueMax*0x2000) {
		t.Fatal("the queued and the last change are not made")
	}
}

// TestNoQueueWithThreads: with a second thread in the process, changes are
// made before Map returns (the other thread may be running guest code).
func TestNoQueueWithThreads(t *testing.T) {
	runtime.LockOSThread()
	th, _ := newTestThread(t, getpidLoop)
	tt := th.(*thread)
	if err := th.Map(0x400000, 0x1000, unix.PROT_READ, 0); err != nil {
		t.Fatal(err)
	}
	st, err := th.NewThread()
	if err != nil {
		t.Fatal(err)
	}
	if n := queued(tt); n != 0 {
		t.Fatalf("%d changes still queued after a clone", n)
	}
	th2, err := st.Start()
	if err != nil {
		t.Fatal(err)
	}
	if err := th.Map(0x500000, 0x1000, unix.PROT_READ, 0); err != nil {
		t.Fatal(err)
	}
	if n := queued(tt); n != 0 {
		t.Fatalf("%d changes queued with two threads", n)
	}
	th2.Release()
	th.Release()
}

// TestQueuedChangeFails: a queued change the host refuses (mprotect of an
// unmapped range: ENOMEM) kills the stub before the thread runs again.
func TestQueuedChangeFails(t *testing.T) {
	runtime.LockOSThread()
	th, _ := newTestThread(t, getpidLoop)
	defer th.Release()
	if err := th.Protect(0x700000, 0x1000, unix.PROT_READ); err != nil {
		t.Fatalf("queued: %v", err)
	}
	regs := startRegs()
	if ev, err := switchWithin(t, th, &regs, 10*time.Second); err == nil {
		t.Fatalf("the thread ran (%v) after a failed change", ev.Kind)
	}
	if err := th.Map(0x400000, 0x1000, unix.PROT_READ, 0); err == nil {
		t.Fatal("a Map on the dead stub succeeded")
	}
}

// TestQueuedHostFile: a mapping of a host file the stub holds, with no
// protection it was not mapped with before, is queued; one that adds
// PROT_EXEC is made at once (Linux may refuse it: ErrNoHostFile).
func TestQueuedHostFile(t *testing.T) {
	runtime.LockOSThread()
	th, _ := newTestThread(t, hfCode)
	defer th.Release()
	tt := th.(*thread)
	path := writeHostFile(t, t.TempDir(), "f", 2)
	flushQueue(t, tt)
	if err := mapHost(t, th, 0x400000, page, unix.PROT_READ, path, 0); err != nil {
		t.Fatal(err)
	}
	if n := queued(tt); n != 0 {
		t.Fatalf("a file's first mapping queued (%d)", n)
	}
	if err := mapHost(t, th, 0x500000, page, unix.PROT_READ, path, page); err != nil {
		t.Fatal(err)
	}
	if n := queued(tt); n != 1 {
		t.Fatalf("%d changes queued, want the held file's mapping", n)
	}
	wantWord(t, th, 0x500000+8, hfWord(1))
	wantWord(t, th, 0x400000+8, hfWord(0))
	if err := mapHost(t, th, 0x600000, page, unix.PROT_READ|unix.PROT_EXEC, path, 0); err != nil {
		t.Fatal(err)
	}
	if n := queued(tt); n != 0 {
		t.Fatalf("a mapping adding PROT_EXEC queued (%d)", n)
	}
	wantWord(t, th, 0x600000+8, hfWord(0))
}

// TestNoQueueSpinning: a spinning pair makes its changes at once (its
// resume is a polled hand-off across CPUs); they work as before.
func TestNoQueueSpinning(t *testing.T) {
	runtime.LockOSThread()
	p, _ := newCodePlatform(t, getpidLoop)
	p.spinSt.always = true
	th, err := p.NewAddressSpace()
	if err != nil {
		t.Fatal(err)
	}
	defer th.Release()
	tt := th.(*thread)
	if err := th.Map(0x10000, 0x1000, unix.PROT_READ|unix.PROT_EXEC, 0); err != nil {
		t.Fatal(err)
	}
	regs := startRegs()
	for i := 0; i < 50; i++ {
		if ev, err := switchWithin(t, th, &regs, 10*time.Second); err != nil || ev.Kind != platform.EventSyscall {
			t.Fatalf("round %d: %v %v", i, ev.Kind, err)
		}
		if !tt.spin.on {
			continue
		}
		if err := th.Protect(0x10000, 0x1000, unix.PROT_READ|unix.PROT_EXEC); err != nil {
			t.Fatal(err)
		}
		if n := queued(tt); n != 0 {
			t.Fatalf("a spinning thread queued %d changes", n)
		}
	}
	if !tt.spin.on {
		t.Skip("the pair never spun (one CPU?)")
	}
}
