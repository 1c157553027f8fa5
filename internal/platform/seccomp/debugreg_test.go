package seccomp

import (
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/internal/hostfd"
	"glassbox/internal/platform"
)

// storeLoop: mov $39,%eax; mov %rax,0x20008; syscall; jmp back.
var storeLoop = []byte{
	0xb8, 0x27, 0, 0, 0, // 0x10000
	0x48, 0x89, 0x04, 0x25, 0x08, 0x00, 0x02, 0x00, // 0x10005
	0x0f, 0x05, // 0x1000d
	0xeb, 0xef, // 0x1000f
}

const (
	storeAt   = 0x10005
	afterMov  = 0x1000d
	afterCall = 0x1000f
	watchAddr = 0x20008
	eflagsRF  = 0x10000
)

func newDebugThread(t *testing.T) (*thread, platform.DebugRegs) {
	t.Helper()
	th, _ := newTestThread(t, storeLoop)
	if err := th.Map(0x20000, 0x1000, unix.PROT_READ|unix.PROT_WRITE, 0x1000); err != nil {
		t.Fatal(err)
	}
	dr, ok := th.(platform.DebugRegs)
	if !ok {
		t.Fatal("seccomp thread does not implement platform.DebugRegs")
	}
	return th.(*thread), dr
}

// expectTrap runs the thread to its next event, which must be SIGTRAP
// with code at rip.
func expectTrap(t *testing.T, th *thread, regs *platform.Regs, code int, rip uint64) {
	t.Helper()
	ev, err := switchWithin(t, th, regs, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	want := platform.Event{Kind: platform.EventSignal, Signo: int(unix.SIGTRAP), Code: code, Addr: rip}
	if ev != want || regs.Rip != rip {
		t.Fatalf("event %+v at rip %#x, want %+v", ev, regs.Rip, want)
	}
}

func expectSyscall(t *testing.T, th *thread, regs *platform.Regs) {
	t.Helper()
	ev, err := switchWithin(t, th, regs, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Kind != platform.EventSyscall || regs.Rip != afterCall {
		t.Fatalf("event %+v at rip %#x, want the syscall at %#x", ev, regs.Rip, afterCall)
	}
}

func expectDR(t *testing.T, dr platform.DebugRegs, i int, want uint64) {
	t.Helper()
	v, err := dr.DebugReg(i)
	if err != nil || v != want {
		t.Fatalf("DR%d = %#x, %v; want %#x", i, v, err, want)
	}
}

// TestDebugRegChecks: the values Linux's POKEUSER refuses, with its errnos,
// and what PEEKUSER reads back.
func TestDebugRegChecks(t *testing.T) {
	runtime.LockOSThread()
	th, dr := newDebugThread(t)
	defer th.Release()
	defer th.dropDebugRegs()
	top := th.proc.p.Layout().TaskSize
	expectDR(t, dr, 6, 0xffff0ff0)
	expectDR(t, dr, 7, 0)
	expectDR(t, dr, 0, 0)
	const w8 = 1<<16 | 2<<18 // slot 0: write, 8 bytes
	for _, c := range []struct {
		i    int
		v    uint64
		want error
	}{
		{4, 0, unix.EIO},
		{5, 0, unix.EIO},
		{0, top, unix.EINVAL},
		{0, ^uint64(0), unix.EINVAL},
		{0, top - 1, nil},
		{7, 1 | w8, unix.EINVAL},           // misaligned for 8 bytes
		{7, 1 | 2<<16, unix.EINVAL},        // RW=2: I/O breakpoints
		{7, 1 | 2<<18, unix.EINVAL},        // an exec breakpoint of 8 bytes
		{0, 0x20001, nil},                  // the failed writes left slot 0 a disabled exec breakpoint: any address
		{7, 1<<16 | 1<<18, unix.EINVAL},    // still misaligned for 2 bytes, even disabled
		{0, top - 8, nil},                  // the last 8 bytes below TASK_SIZE
		{7, 1 | w8, nil},                   // ... can be watched
		{0, top, unix.EINVAL},              // a slot's address keeps its length's checks
		{0, watchAddr + 4, unix.EINVAL},    // misaligned
		{7, 0x5555_0000_0000_0000, nil},    // reserved bits are ignored and read back
		{7, 3 << 2, nil},                   // slot 1 enabled: made at address 0
		{7, 3<<2 | 1<<20 | 2<<22, nil},     // slot 1: 8-byte write watchpoint at 0
		{7, 3<<2 | 3<<20 | 2<<22 | 3, nil}, // slot 1 read/write, slot 0 an exec breakpoint
	} {
		if err := dr.SetDebugReg(c.i, c.v); err != c.want {
			t.Errorf("DR%d = %#x: %v, want %v", c.i, c.v, err, c.want)
		}
	}
	expectDR(t, dr, 0, top-8)
	expectDR(t, dr, 1, 0)
	expectDR(t, dr, 7, 3<<2|3<<20|2<<22|3)
	// A failed DR7 write leaves every slot as it was: slot 1's address
	// does not move off its 8-byte alignment.
	if err := dr.SetDebugReg(7, 3<<2|2<<20); err != unix.EINVAL {
		t.Errorf("I/O breakpoint in slot 1: %v", err)
	}
	if err := dr.SetDebugReg(1, 4); err != unix.EINVAL {
		t.Errorf("slot 1 misaligned after a failed DR7 write: %v", err)
	}
	expectDR(t, dr, 7, 3<<2|3<<20|2<<22|3)
	if err := dr.SetDebugReg(6, 0x1234); err != nil {
		t.Fatal(err)
	}
	expectDR(t, dr, 6, 0x1234)
}

// TestWatchpoint: a write watchpoint and an exec breakpoint fire as on
// Linux, a single step over a watched write reports both, the watchpoint
// follows the stub thread to another CPU, and the host descriptors are
// counted and closed.
func TestWatchpoint(t *testing.T) {
	runtime.LockOSThread()
	th, dr := newDebugThread(t)
	defer th.Release()
	used := hostfd.InUse()
	regs := startRegs()
	if err := dr.SetDebugReg(0, watchAddr); err != nil {
		t.Fatal(err)
	}
	if err := dr.SetDebugReg(7, 1|1<<16|2<<18); err != nil {
		if err == unix.EIO {
			t.Skip("the host gives no hardware breakpoints")
		}
		t.Fatal(err)
	}
	if n := hostfd.InUse() - used; n != 1 {
		t.Errorf("%d host descriptors counted, want 1", n)
	}
	expectTrap(t, th, &regs, trapHwbkpt, afterMov)
	expectDR(t, dr, 6, 0xffff0ff1)
	expectSyscall(t, th, &regs)

	// On another CPU.
	if runtime.NumCPU() > 1 {
		if err := unix.SchedSetaffinity(th.tid, cpuSet((th.cpu+1)%runtime.NumCPU())); err != nil {
			t.Fatal(err)
		}
	}
	dr.SetDebugReg(6, 0)
	expectTrap(t, th, &regs, trapHwbkpt, afterMov)
	expectDR(t, dr, 6, 0xffff0ff1)
	expectSyscall(t, th, &regs)

	// A single step over the watched store: one SIGTRAP, a step with B0.
	regs.Eflags |= eflagsTF
	expectTrap(t, th, &regs, trapTrace, 0x10000)
	expectTrap(t, th, &regs, trapTrace, storeAt)
	expectDR(t, dr, 6, 0xffff4ff0)
	expectTrap(t, th, &regs, trapTrace, afterMov)
	expectDR(t, dr, 6, 0xffff4ff1)
	regs.Eflags &^= eflagsTF

	// An exec breakpoint on the store in slot 2, the watchpoint off.
	if err := dr.SetDebugReg(7, 0); err != nil {
		t.Fatal(err)
	}
	if n := hostfd.InUse() - used; n != 0 {
		t.Errorf("%d host descriptors counted with DR7 0", n)
	}
	if err := dr.SetDebugReg(2, storeAt); err != nil {
		t.Fatal(err)
	}
	if err := dr.SetDebugReg(7, 1<<4); err != nil {
		t.Fatal(err)
	}
	expectSyscall(t, th, &regs)
	expectTrap(t, th, &regs, trapHwbkpt, storeAt)
	expectDR(t, dr, 6, 0xffff0ff4)
	if regs.Eflags&eflagsRF == 0 {
		t.Errorf("eflags %#x: no RF after an exec breakpoint", regs.Eflags)
	}
	// RF lets the instruction run: the next event is the syscall.
	expectSyscall(t, th, &regs)
	expectTrap(t, th, &regs, trapHwbkpt, storeAt)

	th.dropDebugRegs()
	if n := hostfd.InUse() - used; n != 0 {
		t.Errorf("%d host descriptors left after dropDebugRegs", n)
	}
	expectSyscall(t, th, &regs)
	expectDR(t, dr, 7, 0)
}
