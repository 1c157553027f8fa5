package seccomp

import (
	"encoding/binary"
	"errors"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/internal/platform"
)

// Containment: a guest that jumps into the stub's code, forges frames or
// scribbles on the shared pages can only hurt itself. Each test plays the
// guest by pointing its registers where a hostile guest would jump.

func stubOf(th platform.Thread) (*thread, *stub) {
	t := th.(*thread)
	return t, t.proc.p.stub
}

// hostMapped reports whether the stub process maps addr on the host, once
// the queued mapping changes are made.
func hostMapped(t *testing.T, th *thread, addr uint64) bool {
	t.Helper()
	flushQueue(t, th)
	maps, err := platform.ReadHostMaps(th.proc.pid)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range maps {
		if addr >= m.Start && addr < m.End {
			return true
		}
	}
	return false
}

// TestEscapeStubSyscallSites: a guest that sets up a host call and jumps to
// the syscall instruction of each of the stub's sites only makes a guest
// syscall: its filter traps everything but the handler's own calls.
func TestEscapeStubSyscallSites(t *testing.T) {
	runtime.LockOSThread()
	th, _ := newTestThread(t, getpidLoop)
	defer th.Release()
	tt, s := stubOf(th)
	const target = 0x400000
	for _, site := range []string{"st_mmap", "st_mmap_pop", "st_mmap_file", "st_recvmsg", "st_munmap", "st_mprotect", "st_clone", "st_write", "st_futex", "st_membarrier", "st_resume", "st_die",
		"boot_sigaltstack", "boot_sigmask", "boot_seccomp", "ready", "boot_exit"} {
		regs := startRegs()
		pc := s.a.site(site)
		regs.Rip = pc - 2
		for _, r := range baseRules() {
			if r.site == site {
				regs.Rax = uint64(r.nr)
			}
		}
		// mmap(target, 4096, RW, MAP_SHARED|MAP_FIXED, 0, 0): the memory
		// file at offset 0, if it ran on the host.
		regs.Rdi, regs.Rsi, regs.Rdx, regs.R10, regs.R8, regs.R9 = target, 4096, 3, mapSharedFixed, 0, 0
		if site == "st_write" {
			regs.Rdi = 2
		}
		if site == "st_clone" {
			regs.Rdi = threadCloneFlags
		}
		if site == "st_resume" {
			// A wake of the handler's bitset on the thread's own word.
			regs.Rdi, regs.Rsi, regs.Rdx, regs.R9 = slotAddr(tt.slot)+hdrState, futexOpWakeBitset, 1, futexHandler
		}
		nr := regs.Rax
		ev, err := switchWithin(t, th, &regs, 10*time.Second)
		if err != nil {
			t.Fatalf("%s: %v", site, err)
		}
		if ev.Kind != platform.EventSyscall || regs.Orig_rax != nr || regs.Rip != pc {
			t.Fatalf("%s: %v orig_rax %d rip %#x, want a trapped syscall %d at %#x", site, ev.Kind, regs.Orig_rax, regs.Rip, nr, pc)
		}
	}
	if hostMapped(t, tt, target) {
		t.Fatal("a guest jump into the stub mapped the memory file")
	}
	// The stub still works.
	regs := startRegs()
	if ev, err := switchWithin(t, th, &regs, 10*time.Second); err != nil || ev.Kind != platform.EventSyscall {
		t.Fatalf("after the jumps: %v %v", ev.Kind, err)
	}
}

// TestEscapeCommandLoop: a guest that jumps into the syscall thread's loop
// reads the last command from the read-only page and reaches the mmap site
// with it: a trapped syscall, never a host mmap.
func TestEscapeCommandLoop(t *testing.T) {
	runtime.LockOSThread()
	th, _ := newTestThread(t, getpidLoop)
	defer th.Release()
	tt, s := stubOf(th)
	// The last command was the test's Map of 0x10000; make it look like
	// a fresh one to the loop: r12 (last seq) differs from the page's.
	regs := startRegs()
	regs.Rip = s.a.addr("wait")
	regs.R14 = ctlRO
	regs.R12 = 1 << 30
	ev, err := switchWithin(t, th, &regs, 10*time.Second)
	if err != nil || ev.Kind != platform.EventSyscall || regs.Orig_rax != nrMmap || regs.Rip != s.a.site("st_mmap") {
		t.Fatalf("%v %v orig_rax %d rip %#x", ev.Kind, err, regs.Orig_rax, regs.Rip)
	}
	// The request the guest replayed is glassbox' own, to 0x10000, already
	// mapped; what matters is that the loop trapped instead of mapping.
	_ = tt
}

// TestEscapeReadOnlyPage: the command page cannot be written by the guest.
func TestEscapeReadOnlyPage(t *testing.T) {
	runtime.LockOSThread()
	// mov %rax,(%rdi); jmp .
	th, _ := newTestThread(t, []byte{0x48, 0x89, 0x07, 0xeb, 0xfe})
	defer th.Release()
	tt, _ := stubOf(th)
	flushQueue(t, tt)
	before := binary.LittleEndian.Uint64(tt.proc.ctl[cmdOp:])
	regs := startRegs()
	regs.Rdi = ctlRO + cmdOp
	regs.Rax = 0x4141414141414141
	ev, err := switchWithin(t, th, &regs, 10*time.Second)
	if err != nil || ev.Kind != platform.EventFault || ev.Code != 2 || ev.Addr != ctlRO+cmdOp {
		t.Fatalf("%v %v %+v, want an ACCERR fault at the command page", ev.Kind, err, ev)
	}
	if binary.LittleEndian.Uint64(tt.proc.ctl[cmdOp:]) != before {
		t.Fatal("the guest wrote the command page")
	}
}

// TestEscapeCallHandler: a guest that calls the handler itself, with its
// stack anywhere, waits in a futex of its own making; glassbox' interrupt
// still gets it back.
func TestEscapeCallHandler(t *testing.T) {
	runtime.LockOSThread()
	th, _ := newTestThread(t, getpidLoop)
	defer th.Release()
	tt, s := stubOf(th)
	if err := th.Map(0x20000, 0x8000, unix.PROT_READ|unix.PROT_WRITE, 0x1000); err != nil {
		t.Fatal(err)
	}
	for _, sp := range []uint64{0x20000 + 0x7000, slotAddr(tt.slot) + altStack + 0x3000, slotAddr(tt.slot+1) + 0x100} {
		regs := startRegs()
		regs.Rip = s.a.addr("handler")
		regs.Rsp = sp
		regs.Rdx = sp
		go func() {
			time.Sleep(20 * time.Millisecond)
			th.Interrupt()
		}()
		ev, err := switchWithin(t, th, &regs, 10*time.Second)
		if err != nil {
			// The guest broke its own slot: that thread is gone. Nothing
			// else may be.
			t.Logf("rsp %#x: %v", sp, err)
			return
		}
		t.Logf("rsp %#x: %v at %#x", sp, ev.Kind, regs.Rip)
	}
	regs := startRegs()
	if ev, err := switchWithin(t, th, &regs, 10*time.Second); err != nil || ev.Kind != platform.EventSyscall {
		t.Fatalf("after the calls: %v %v", ev.Kind, err)
	}
}

// TestEscapeExitSite: a guest that jumps to the handler's exit ends its
// own host thread; glassbox sees the thread gone instead of hanging.
func TestEscapeExitSite(t *testing.T) {
	runtime.LockOSThread()
	th, _ := newTestThread(t, getpidLoop)
	_, s := stubOf(th)
	regs := startRegs()
	regs.Rip = s.a.site("h_exit") - 2
	regs.Rax = nrExit
	_, err := switchWithin(t, th, &regs, 10*time.Second)
	if !errors.Is(err, platform.ErrGuest) {
		t.Fatalf("got %v, want the thread lost to the guest", err)
	}
	th.Release()
}

// TestEscapeForgedSigreturn: a guest that returns through the handler's
// rt_sigreturn with a frame of its own blocking SIGSYS kills only its own
// stub at its next syscall; the platform goes on making new ones.
func TestEscapeForgedSigreturn(t *testing.T) {
	runtime.LockOSThread()
	th, p := newTestThread(t, getpidLoop)
	_, s := stubOf(th)
	if err := th.Map(0x20000, 0x8000, unix.PROT_READ|unix.PROT_WRITE, 0x1000); err != nil {
		t.Fatal(err)
	}
	// Build the ucontext in the memory file at the page mapped at 0x20000.
	uc := make([]byte, ucEnd)
	le := binary.LittleEndian
	g := ucMctx
	le.PutUint64(uc[g+8*15:], 0x27000)                // rsp
	le.PutUint64(uc[g+8*16:], 0x10000)                // rip: getpid loop
	le.PutUint64(uc[g+8*17:], 0x202)                  // eflags
	le.PutUint64(uc[ucCSGSFS:], 0x33|0x2b<<48)        // cs, ss
	le.PutUint64(uc[ucSigmask:], sigBit(unix.SIGSYS)) // SIGSYS blocked
	if _, err := unix.Pwrite(p.memfd, uc, 0x1000+0x100); err != nil {
		t.Fatal(err)
	}
	regs := startRegs()
	regs.Rip = s.a.site("h_sigreturn") - 2
	regs.Rax = nrRtSigreturn
	regs.Rsp = 0x20100
	_, err := switchWithin(t, th, &regs, 10*time.Second)
	if err == nil {
		t.Fatal("the stub survived a blocked SIGSYS")
	}
	th.Release()
	runtime.LockOSThread()
	th2, err := p.NewAddressSpace()
	if err != nil {
		t.Fatal(err)
	}
	defer th2.Release()
}

// TestEscapeScribble: glassbox validates the frame a guest can write. A
// hostile frame pointer or XSAVE pointer (another thread's write between
// the trap and glassbox' read) is an error for that thread, never a read
// outside its slot.
func TestEscapeScribble(t *testing.T) {
	runtime.LockOSThread()
	th, _ := newTestThread(t, getpidLoop)
	defer th.Release()
	tt, _ := stubOf(th)
	regs := startRegs()
	if _, err := th.Switch(&regs); err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	hdr := slotOff(tt.slot)
	good := le.Uint64(tt.proc.ctl[hdr+hdrUC:])
	for _, bad := range []uint64{0, 1, slotAddr(tt.slot), slotAddr(tt.slot) + slotSize - 8, slotAddr(tt.slot + 1), ^uint64(0), good + 1<<40} {
		le.PutUint64(tt.proc.ctl[hdr+hdrUC:], bad)
		if _, _, err := tt.frameAt(tt.proc.p.fp.size); err == nil && (bad < slotAddr(tt.slot) || bad >= slotAddr(tt.slot)+slotSize) {
			t.Errorf("frame pointer %#x accepted", bad)
		}
	}
	le.PutUint64(tt.proc.ctl[hdr+hdrUC:], good)
	ucOff := hdr + int(good-slotAddr(tt.slot))
	goodFP := le.Uint64(tt.proc.ctl[ucOff+ucFPState:])
	for _, bad := range []uint64{0, goodFP + 8, slotAddr(tt.slot + 1), slotAddr(tt.slot) + slotSize - 64, ^uint64(0) &^ 63} {
		le.PutUint64(tt.proc.ctl[ucOff+ucFPState:], bad)
		if _, _, err := tt.frameAt(tt.proc.p.fp.size); err == nil {
			t.Errorf("XSAVE pointer %#x accepted", bad)
		}
	}
	le.PutUint64(tt.proc.ctl[ucOff+ucFPState:], goodFP)
	if _, _, err := tt.frameAt(tt.proc.p.fp.size); err != nil {
		t.Fatalf("the real frame: %v", err)
	}
}

// TestEscapeScribbleRace: a second guest thread overwrites the first one's
// whole slot (header, frame, XSAVE image) without pause while the first
// makes syscalls. glassbox may lose that thread, never itself.
func TestEscapeScribbleRace(t *testing.T) {
	runtime.LockOSThread()
	th, p := newTestThread(t, getpidLoop)
	tt, _ := stubOf(th)
	// The scribbler, at 0x10100 of the same code page:
	//   top: mov %rdx,%rdi
	//   loop: mov %rax,(%rdi); add %rcx,%rax; add $8,%rdi; cmp %rsi,%rdi; jb loop; jmp top
	scr := []byte{0x48, 0x89, 0xd7, 0x48, 0x89, 0x07, 0x48, 0x01, 0xc8, 0x48, 0x83, 0xc7, 0x08,
		0x48, 0x39, 0xf7, 0x72, 0xf1, 0xeb, 0xec}
	if _, err := unix.Pwrite(p.memfd, scr, 0x100); err != nil {
		t.Fatal(err)
	}
	st, err := th.NewThread()
	if err != nil {
		t.Fatal(err)
	}
	scrRegs := startRegs()
	scrRegs.Rip = 0x10100
	scrRegs.Rdx = slotAddr(tt.slot)
	scrRegs.Rsi = slotAddr(tt.slot) + slotSize
	scrRegs.Rax = 0x7ff000200000
	scrRegs.Rcx = 0x9e3779b97f4a7c15
	stop, done := runInterruptible(st, scrRegs)
	lost := false
	regs := startRegs()
	// The guest can hold its own thread forever (glassbox sleeps on the
	// word until the next trap, which the guest may have made impossible),
	// as a guest spinning in a loop does; an interrupt must still end it.
	for i := 0; i < 2000; i++ {
		_, err, _ := switchOrInterrupt(t, th, &regs, 100*time.Millisecond)
		if err != nil {
			if !errors.Is(err, platform.ErrGuest) {
				t.Errorf("lost for another reason: %v", err)
			}
			lost = true
			break
		}
		// Whatever the frame said, the next run starts clean.
		regs = startRegs()
	}
	close(stop)
	if err := <-done; err != nil && !lost {
		t.Logf("scribbler: %v", err)
	}
	th.Release()
	t.Logf("thread lost to the scribbler: %v", lost)
}

// runInterruptible starts the thread st on a goroutine locked to its OS
// thread and runs it from regs; closing stop interrupts it, and done gets
// Switch's error once the thread has been released.
func runInterruptible(st platform.ThreadStarter, regs platform.Regs) (stop chan struct{}, done chan error) {
	stop = make(chan struct{})
	done = make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		c, err := st.Start()
		if err != nil {
			done <- err
			return
		}
		go func() { <-stop; c.Interrupt() }()
		_, err = c.Switch(&regs)
		c.Release()
		done <- err
	}()
	return stop, done
}
