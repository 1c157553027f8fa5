package ptrace

import (
	"fmt"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/platform"
)

// thread is one stub thread running one guest thread.
type thread struct {
	proc *process
	tid  int
	// cur is what the stub thread's registers hold right now, as far as
	// glassbox knows; Switch compares it with the kernel's copy to decide
	// how much to write back.
	cur  unix.PtraceRegs
	dead bool
	// intr records an interrupt that arrived while the thread was
	// stopped for an injected syscall (the stop had to be resumed without
	// the signal): the next Switch reports it before running the guest,
	// so that no Interrupt is ever lost.
	intr bool
}

// ID implements platform.Thread.
func (t *thread) ID() int { return t.tid }

// Switch implements platform.Thread.
func (t *thread) Switch(regs *platform.Regs) (platform.Event, error) {
	if t.dead {
		return platform.Event{}, fmt.Errorf("stub %d is gone", t.tid)
	}
	if t.intr {
		t.intr = false
		return platform.Event{Kind: platform.EventInterrupt}, nil
	}
	if err := t.load(regs); err != nil {
		return platform.Event{}, err
	}
	sig := 0
	for {
		if err := sysemu(t.tid, sig); err != nil {
			return platform.Event{}, fmt.Errorf("PTRACE_SYSEMU: %w", err)
		}
		sig = 0
		ws, err := wait(t.tid)
		if err != nil {
			return platform.Event{}, err
		}
		if !ws.Stopped() {
			t.dead = true
			return platform.Event{}, fmt.Errorf("stub %d died: %s", t.tid, describe(ws))
		}
		if err := getRegs(t.tid, &t.cur); err != nil {
			return platform.Event{}, err
		}
		*regs = t.cur
		s := int(ws.StopSignal())
		if s == int(unix.SIGTRAP)|0x80 {
			return platform.Event{Kind: platform.EventSyscall}, nil
		}
		if ws.TrapCause() > 0 {
			continue // a ptrace event stop; none are enabled today
		}
		var si siginfo
		if err := getSiginfo(t.tid, &si); err != nil {
			return platform.Event{}, err
		}
		// si_code > 0 means the kernel raised it for an instruction the
		// stub ran; anything else was sent by someone.
		if si.Code > 0 && si.Code != abi.SI_KERNEL || s == int(unix.SIGSEGV) && si.Code == abi.SI_KERNEL {
			switch s {
			case int(unix.SIGSEGV):
				if si.Code == abi.SEGV_MAPERR || si.Code == abi.SEGV_ACCERR {
					return platform.Event{Kind: platform.EventFault, Signo: s, Code: int(si.Code), Addr: si.Addr}, nil
				}
				return platform.Event{Kind: platform.EventSignal, Signo: s, Code: int(si.Code), Addr: si.Addr}, nil
			case int(unix.SIGILL), int(unix.SIGFPE), int(unix.SIGTRAP), int(unix.SIGBUS):
				return platform.Event{Kind: platform.EventSignal, Signo: s, Code: int(si.Code), Addr: si.Addr}, nil
			}
		}
		if s == int(unix.SIGTRAP) && si.Code == abi.SI_KERNEL {
			// int3 reports SI_KERNEL on x86.
			return platform.Event{Kind: platform.EventSignal, Signo: s, Code: int(si.Code), Addr: si.Addr}, nil
		}
		// Interrupt (SIGCHLD from glassbox) or a stray host signal: never
		// delivered to the stub.
		return platform.Event{Kind: platform.EventInterrupt}, nil
	}
}

// load writes the kernel's registers into the stub thread, as cheaply as
// the difference allows.
func (t *thread) load(regs *platform.Regs) error {
	if *regs == t.cur {
		return nil
	}
	saved := t.cur.Rax
	t.cur.Rax = regs.Rax
	if *regs == t.cur {
		if err := pokeUser(t.tid, offRax, regs.Rax); err != nil {
			t.cur.Rax = saved
			return err
		}
		return nil
	}
	if err := setRegs(t.tid, regs); err != nil {
		return fmt.Errorf("PTRACE_SETREGS: %w", err)
	}
	t.cur = *regs
	return nil
}

// syscall runs a host syscall inside the stub thread (which must be in a
// ptrace stop) and returns its result.
func (t *thread) syscall(nr uintptr, args ...uint64) (uint64, error) {
	return t.syscallAt(syscallPC, syscallPC+3, nr, args...)
}

// syscallAt runs a host syscall from the syscall instruction at pc; the
// stub stops at an int3 after which rip is trapRIP.
func (t *thread) syscallAt(pc, trapRIP uint64, nr uintptr, args ...uint64) (uint64, error) {
	if t.dead {
		return 0, fmt.Errorf("stub %d is gone", t.tid)
	}
	r := t.cur
	r.Eflags &^= 0x100 // never single-step glassbox' own injected call
	r.Rip = pc
	r.Rax = uint64(nr)
	r.Orig_rax = ^uint64(0)
	var a [6]uint64
	copy(a[:], args)
	r.Rdi, r.Rsi, r.Rdx, r.R10, r.R8, r.R9 = a[0], a[1], a[2], a[3], a[4], a[5]
	if err := setRegs(t.tid, &r); err != nil {
		return 0, fmt.Errorf("PTRACE_SETREGS: %w", err)
	}
	// The stub's registers are now r; the next Switch restores the guest's.
	t.cur = r
	sig := 0
	for {
		if err := resume(unix.PTRACE_CONT, t.tid, sig); err != nil {
			return 0, fmt.Errorf("PTRACE_CONT: %w", err)
		}
		sig = 0
		ws, err := wait(t.tid)
		if err != nil {
			return 0, err
		}
		if !ws.Stopped() {
			t.dead = true
			return 0, fmt.Errorf("stub %d died in injected %s: %s", t.tid, abi.SyscallName(int(nr)), describe(ws))
		}
		if ws.StopSignal() == unix.SIGTRAP {
			break
		}
		// An interrupt raced with the injection: Switch reports it.
		t.intr = true
	}
	rax, err := peekUser(t.tid, offRax)
	if err != nil {
		return 0, err
	}
	t.cur.Rax = rax
	t.cur.Rip = trapRIP
	if e := int64(rax); e < 0 && e > -4096 {
		return 0, unix.Errno(-e)
	}
	return rax, nil
}

// Map implements platform.Mapper.
func (t *thread) Map(addr, length uint64, prot int, off uint64) error {
	r, err := t.syscall(unix.SYS_MMAP, addr, length, uint64(prot), unix.MAP_SHARED|unix.MAP_FIXED, 0, off)
	if err == nil && r != addr {
		err = fmt.Errorf("stub mapped %#x instead of %#x", r, addr)
	}
	return err
}

// Unmap implements platform.Mapper.
func (t *thread) Unmap(addr, length uint64) error {
	_, err := t.syscall(unix.SYS_MUNMAP, addr, length)
	return err
}

// Protect implements platform.Mapper.
func (t *thread) Protect(addr, length uint64, prot int) error {
	_, err := t.syscall(unix.SYS_MPROTECT, addr, length, uint64(prot))
	return err
}

// Interrupt implements platform.Thread.
func (t *thread) Interrupt() {
	unix.Tgkill(t.proc.pid, t.tid, unix.SIGCHLD)
}

// Release implements platform.Thread. The last thread takes the stub
// process down; others leave with an injected exit. The stub's first
// thread is special: its tracer thread is the stub's parent, whose end
// would kill the stub (PDEATHSIG), so its Release waits until every other
// thread is gone.
func (t *thread) Release() {
	p := t.proc
	p.mu.Lock()
	p.threads--
	last := p.threads == 0
	p.mu.Unlock()
	if last {
		t.kill()
		p.markGone()
		return
	}
	if !t.dead {
		t.syscall(unix.SYS_EXIT, 0) // the thread ends; its wait reaps it
		if !t.dead {
			t.reap()
		}
		t.dead = true
	}
	if t.tid == p.pid {
		<-p.gone
		// The stub's other threads have left; reap the first one's zombie.
		wait(t.tid)
	}
}

// reap collects the thread after a failed exit injection. That happens
// when the last thread's Release killed the stub meanwhile: the SIGKILL took
// this thread out of its stop, so PTRACE_CONT (or SETREGS) found it running.
// A traced thread stays a zombie until its tracer waits for it, and the
// stub's first thread is reported to nobody (kill waits for it) until every
// other thread has been reaped; this OS thread may live on long after
// (exec goes on here, and Go parks the main thread instead of ending it),
// so it must wait now. The SIGKILL makes sure the wait ends if the
// injection failed for another reason (the stub is unusable then).
// Linux: kernel/exit.c (delay_group_leader, exit_notify)
func (t *thread) reap() {
	unix.Tgkill(t.proc.pid, t.tid, unix.SIGKILL)
	for {
		ws, err := wait(t.tid)
		if err != nil || ws.Exited() || ws.Signaled() {
			return
		}
		resume(unix.PTRACE_CONT, t.tid, 0) // a stop on its way out
	}
}

// kill destroys the whole stub process and reaps it.
func (t *thread) kill() {
	unix.Kill(t.proc.pid, unix.SIGKILL)
	for {
		ws, err := wait(t.tid)
		if err != nil || ws.Exited() || ws.Signaled() {
			break
		}
	}
	t.dead = true
}

func describe(ws unix.WaitStatus) string {
	switch {
	case ws.Exited():
		return fmt.Sprintf("exit status %d", ws.ExitStatus())
	case ws.Signaled():
		return "killed by " + abi.SignalName(int(ws.Signal()))
	}
	return fmt.Sprintf("status %#x", uint32(ws))
}
