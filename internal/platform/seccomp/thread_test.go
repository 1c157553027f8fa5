package seccomp

import (
	"encoding/binary"
	"fmt"
	"os/exec"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/internal/platform"
)

// switchWithin is Switch with a watchdog: if the guest has not come back
// after d, it is interrupted and the test fails.
func switchWithin(t *testing.T, th platform.Thread, regs *platform.Regs, d time.Duration) (platform.Event, error) {
	t.Helper()
	ev, err, interrupted := switchOrInterrupt(t, th, regs, d)
	if interrupted {
		t.Fatalf("Switch did not return within %v (rip %#x)", d, regs.Rip)
	}
	return ev, err
}

// switchOrInterrupt is Switch, interrupted if the guest has not come back
// after d; the interrupt must end it within ten seconds.
func switchOrInterrupt(t *testing.T, th platform.Thread, regs *platform.Regs, d time.Duration) (platform.Event, error, bool) {
	t.Helper()
	done := make(chan struct{})
	fired := make(chan bool, 1)
	go func() {
		select {
		case <-done:
			fired <- false
			return
		case <-time.After(d):
			th.Interrupt()
		}
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			tt := th.(*thread)
			out, _ := exec.Command("sh", "-c", fmt.Sprintf("for d in /proc/%d/task/*; do echo $d $(cut -d' ' -f3 $d/stat) $(cat $d/syscall); done", tt.proc.pid)).CombinedOutput()
			panic(fmt.Sprintf("an interrupted Switch did not return: word %#x\n%s", atomic.LoadUint32(tt.word()), out))
		}
		fired <- true
	}()
	ev, err := th.Switch(regs)
	close(done)
	return ev, err, <-fired
}

func TestThreads(t *testing.T) {
	runtime.LockOSThread()
	th, _ := newTestThread(t, getpidLoop)
	st, err := th.NewThread()
	if err != nil {
		t.Fatal(err)
	}
	const n = 500
	var wg sync.WaitGroup
	wg.Add(1)
	var childErr error
	go func() {
		defer wg.Done()
		runtime.LockOSThread()
		c, err := st.Start()
		if err != nil {
			childErr = err
			return
		}
		defer c.Release()
		if c.ID() == th.ID() {
			childErr = unix.EEXIST
			return
		}
		regs := startRegs()
		for i := 0; i < n; i++ {
			ev, err := c.Switch(&regs)
			if err != nil || ev.Kind != platform.EventSyscall || regs.Orig_rax != 39 {
				childErr = err
				if err == nil {
					childErr = unix.EINVAL
				}
				return
			}
		}
	}()
	regs := startRegs()
	for i := 0; i < n; i++ {
		ev, err := switchWithin(t, th, &regs, 10*time.Second)
		if err != nil || ev.Kind != platform.EventSyscall || regs.Orig_rax != 39 {
			t.Fatalf("event %v, %v", ev.Kind, err)
		}
	}
	wg.Wait()
	if childErr != nil {
		t.Fatalf("second thread: %v", childErr)
	}
	th.Release()
}

// spinLoop: jmp . (the guest never traps by itself).
var spinLoop = []byte{0xeb, 0xfe}

func TestInterrupt(t *testing.T) {
	runtime.LockOSThread()
	th, _ := newTestThread(t, spinLoop)
	defer th.Release()
	regs := startRegs()
	// Before the Switch: reported at once, the guest does not run.
	th.Interrupt()
	ev, err := th.Switch(&regs)
	if err != nil || ev.Kind != platform.EventInterrupt {
		t.Fatalf("pending interrupt: %v %v", ev.Kind, err)
	}
	for i := 0; i < 20; i++ {
		go func() {
			time.Sleep(2 * time.Millisecond)
			th.Interrupt()
		}()
		ev, err := switchWithin(t, th, &regs, 10*time.Second)
		if err != nil || ev.Kind != platform.EventInterrupt || regs.Rip != 0x10000 {
			t.Fatalf("interrupt %d: %v %v rip %#x", i, ev.Kind, err, regs.Rip)
		}
	}
}

// xmmLoop: movq %xmm0,%rdi; mov $39,%eax; syscall; jmp back.
var xmmLoop = []byte{0x66, 0x48, 0x0f, 0x7e, 0xc7, 0xb8, 0x27, 0, 0, 0, 0x0f, 0x05, 0xeb, 0xf2}

func TestFPState(t *testing.T) {
	runtime.LockOSThread()
	th, _ := newTestThread(t, xmmLoop)
	defer th.Release()
	regs := startRegs()
	if _, err := th.Switch(&regs); err != nil {
		t.Fatal(err)
	}
	fp, err := th.FPState()
	if err != nil {
		t.Fatal(err)
	}
	const xmm0 = 160 // in the FXSAVE legacy area
	binary.LittleEndian.PutUint64(fp[xmm0:], 0x1122334455667788)
	fp[xsHeader] |= 2 // XSTATE_BV: SSE state is in the image
	if err := th.SetFPState(fp); err != nil {
		t.Fatal(err)
	}
	if _, err := th.Switch(&regs); err != nil {
		t.Fatal(err)
	}
	if regs.Rdi != 0x1122334455667788 {
		t.Fatalf("guest read xmm0 = %#x", regs.Rdi)
	}
	// Linux's checks: a wrong size or a reserved header bit is EINVAL.
	if err := th.SetFPState(fp[:len(fp)-1]); err != unix.EINVAL {
		t.Errorf("short image: %v", err)
	}
	bad := append([]byte(nil), fp...)
	bad[xsHeader+8] = 1 // XCOMP_BV: compacted format
	if err := th.SetFPState(bad); err != unix.EINVAL {
		t.Errorf("compacted image: %v", err)
	}
}

// TestFSBase: fs_base set by glassbox reaches the guest, and the guest's
// own wrfsbase reaches glassbox.
func TestFSBase(t *testing.T) {
	runtime.LockOSThread()
	// rdfsbase %rdi; add $1,%rdi; wrfsbase %rdi; mov $39,%eax; syscall; jmp back
	code := []byte{0xf3, 0x48, 0x0f, 0xae, 0xc7, 0x48, 0x83, 0xc7, 0x01, 0xf3, 0x48, 0x0f, 0xae, 0xd7,
		0xb8, 0x27, 0, 0, 0, 0x0f, 0x05, 0xeb, 0xe9}
	th, _ := newTestThread(t, code)
	defer th.Release()
	regs := startRegs()
	regs.Fs_base = 0x5000
	if _, err := th.Switch(&regs); err != nil {
		t.Fatal(err)
	}
	if regs.Rdi != 0x5001 || regs.Fs_base != 0x5001 {
		t.Fatalf("rdi %#x fs_base %#x, want 0x5001", regs.Rdi, regs.Fs_base)
	}
}

// TestPlacer: a vfork child's thread (NewThreadInPlace) and an exec's new
// address space (ReplacementSpace) start on the CPU of the thread they run
// instead of, not on the next one in turn; and they run.
func TestPlacer(t *testing.T) {
	runtime.LockOSThread()
	th, p := newTestThread(t, getpidLoop)
	defer th.Release()
	if p.ncpu < 2 {
		t.Skip("one CPU: every thread shares it")
	}
	cpu := th.(*thread).cpu
	onCPU := func(what string, tid int) {
		t.Helper()
		var s unix.CPUSet
		if err := unix.SchedGetaffinity(tid, &s); err != nil {
			t.Fatal(err)
		}
		if s.Count() != 1 || !s.IsSet(cpu) {
			t.Errorf("%s: affinity %v, want CPU %d alone", what, s, cpu)
		}
	}
	pl := th.(platform.Placer)
	other := func() { p.nextCPU.Store(uint32(cpu + 1)) } // the next in turn is another CPU
	other()
	st, err := pl.NewThreadInPlace()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		c, err := st.Start()
		if err != nil {
			done <- err
			return
		}
		defer c.Release()
		onCPU("vfork child", c.ID())
		regs := startRegs()
		if ev, err := c.Switch(&regs); err != nil || ev.Kind != platform.EventSyscall {
			done <- fmt.Errorf("vfork child: event %v, %v", ev.Kind, err)
			return
		}
		done <- nil
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	other()
	nt, err := pl.ReplacementSpace()
	if err != nil {
		t.Fatal(err)
	}
	defer nt.Release()
	onCPU("exec's new address space", nt.ID())
}
