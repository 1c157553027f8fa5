package kernel

import (
	"encoding/binary"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/platform"
)

// SigInfo is the part of siginfo_t glassbox fills in.
type SigInfo struct {
	Signo, Errno, Code int32
	PID                int32  // sender (kill, SIGCHLD)
	UID                uint32 // sender's uid
	Status             int32  // SIGCHLD: exit code or signal
	Addr               uint64 // SIGSEGV/SIGBUS/SIGILL/SIGFPE: faulting address; SIGSYS: call address
	Value              uint64 // sigqueue value
	Syscall            int32  // SIGSYS (seccomp): the call's number
	Arch               uint32 // SIGSYS (seccomp): AUDIT_ARCH_*
	// Poll marks O_ASYNC's siginfo (SIGPOLL layout): si_band and si_fd.
	Poll bool
	Band int64
	FD   int32
	// Sender is the kernel pid of the process whose system call sent it
	// (kill, tgkill, sigqueue, pidfd_send_signal, a parent's death);
	// 0: the kernel. Never encoded: PID is what the receiver sees.
	Sender int32
	// Host marks a signal glassbox' user sent from outside the sandbox
	// (never encoded): a namespace init's protection does not apply.
	Host bool
	// charge is the user count this queued instance is charged to (nil:
	// not charged). Never encoded.
	charge *sigCharge
}

// Encode lays info out as the 128-byte siginfo_t.
// Linux: include/uapi/asm-generic/siginfo.h
func (si *SigInfo) Encode() []byte {
	b := make([]byte, 128)
	le := binary.LittleEndian
	le.PutUint32(b[0:], uint32(si.Signo))
	le.PutUint32(b[4:], uint32(si.Errno))
	le.PutUint32(b[8:], uint32(si.Code))
	switch {
	case si.Poll:
		le.PutUint64(b[16:], uint64(si.Band))
		le.PutUint32(b[24:], uint32(si.FD))
	case si.Signo == abi.SIGSYS && si.Code == sysSeccomp:
		le.PutUint64(b[16:], si.Addr)
		le.PutUint32(b[24:], uint32(si.Syscall))
		le.PutUint32(b[28:], si.Arch)
	case si.Addr != 0 || isFaultSignal(int(si.Signo)) && si.Code > 0:
		le.PutUint64(b[16:], si.Addr)
	default:
		le.PutUint32(b[16:], uint32(si.PID))
		le.PutUint32(b[20:], si.UID)
		if si.Signo == abi.SIGCHLD {
			le.PutUint32(b[24:], uint32(si.Status))
		} else {
			le.PutUint64(b[24:], si.Value)
		}
	}
	return b
}

func isFaultSignal(sig int) bool {
	switch sig {
	case abi.SIGSEGV, abi.SIGBUS, abi.SIGILL, abi.SIGFPE, abi.SIGTRAP:
		return true
	}
	return false
}

func hexAddr(a uint64) string { return "0x" + strconv.FormatUint(a, 16) }

// Layout of struct rt_sigframe on x86-64. Linux: arch/x86/include/asm/sigframe.h
const (
	frameUContext = 8                   // after pretcode
	ucStack       = 16                  // stack_t uc_stack
	ucMcontext    = 40                  // struct sigcontext
	ucSigmask     = 40 + 256            // sigset_t
	frameInfo     = frameUContext + 304 // siginfo_t
	frameSize     = frameInfo + 128
	redZone       = 128

	ucFPXstate       = 0x1 // UC_FP_XSTATE
	ucSigcontextSS   = 0x2
	ucStrictRestSS   = 0x4
	fpXstateMagic1   = 0x46505853
	fpXstateMagic2   = 0x46505845
	ssOnStack        = 1
	ssDisable        = 2
	ssAutoDisarm     = -1 << 31                // SS_AUTODISARM, as the int32 ss_flags
	minSigStkSz      = 2048                    // MINSIGSTKSZ
	eflagsUserMask   = 0x50dd5                 // CF PF AF ZF SF TF DF OF RF AC: FIX_EFLAGS (asm/sighandling.h)
	eflagsClearOnSig = 0x100 | 0x400 | 0x10000 // TF, DF, RF
)

// onStack reports whether sp lies on the alternate stack. A stack with
// SS_AUTODISARM never counts: it is disarmed while a handler runs on it.
// Linux: include/linux/sched/signal.h (on_sig_stack)
func (s SigAltStack) onStack(sp uint64) bool {
	return s.Flags&(ssDisable|ssAutoDisarm) == 0 && s.Size != 0 && sp > s.SP && sp-s.SP <= s.Size
}

// Change is sigaltstack(2)'s update of the alternate stack s to ns while
// the thread's stack pointer is sp: EPERM while running on s, EINVAL for
// an unknown mode, ENOMEM for a stack smaller than MINSIGSTKSZ. The
// stored flags keep only SS_DISABLE and SS_AUTODISARM (SS_ONSTACK is
// accepted as a mode but is never stored as state).
// Linux: kernel/signal.c (do_sigaltstack)
func (s SigAltStack) Change(ns SigAltStack, sp uint64) (SigAltStack, error) {
	if s.onStack(sp) {
		return s, unix.EPERM
	}
	mode := ns.Flags &^ ssAutoDisarm
	switch {
	case mode != 0 && mode != ssOnStack && mode != ssDisable:
		return s, unix.EINVAL
	case mode == ssDisable:
		return SigAltStack{Flags: ns.Flags &^ ssOnStack}, nil
	case ns.Size < minSigStkSz:
		return s, unix.ENOMEM
	}
	ns.Flags &^= ssOnStack
	return ns, nil
}

// deliver builds a signal frame for a handler on the guest stack and
// points the registers at the handler. Linux: arch/x86/kernel/signal.c
// (setup_rt_frame, get_sigframe), signal_64.c (x64_setup_rt_frame)
func (t *Task) deliver(sig int, info *SigInfo, a SigAction) error {
	t.applyRestart(a.Flags&abi.SA_RESTART != 0, true)
	if a.Flags&abi.SA_RESTORER == 0 {
		return unix.EFAULT // x86-64 has no kernel-provided restorer
	}
	r := &t.regs
	alt := t.AltStack()
	sp := r.Rsp
	onAlt := alt.onStack(sp)
	if a.Flags&abi.SA_ONSTACK != 0 && alt.Flags&ssDisable == 0 && alt.Size != 0 && !onAlt {
		sp = alt.SP + alt.Size
	} else {
		sp -= redZone
	}
	fp, err := t.thread.FPState()
	if err != nil {
		return err
	}
	fpAddr := (sp - uint64(len(fp)) - 4) &^ 63
	frame := ((fpAddr - frameSize) &^ 15) - 8

	b := make([]byte, frameSize)
	le := binary.LittleEndian
	le.PutUint64(b[0:], a.Restorer)
	uc := b[frameUContext:]
	le.PutUint64(uc[0:], ucFPXstate|ucSigcontextSS|ucStrictRestSS)
	// uc_stack is the alternate stack as it is set, raw flags included.
	// Linux: kernel/signal.c (__save_altstack)
	le.PutUint64(uc[ucStack:], alt.SP)
	le.PutUint32(uc[ucStack+8:], uint32(alt.Flags))
	le.PutUint64(uc[ucStack+16:], alt.Size)
	mc := uc[ucMcontext:]
	for i, v := range []uint64{r.R8, r.R9, r.R10, r.R11, r.R12, r.R13, r.R14, r.R15,
		r.Rdi, r.Rsi, r.Rbp, r.Rbx, r.Rdx, r.Rax, r.Rcx, r.Rsp, r.Rip, r.Eflags} {
		le.PutUint64(mc[8*i:], v)
	}
	le.PutUint16(mc[144:], uint16(r.Cs))
	le.PutUint16(mc[150:], uint16(r.Ss))
	// struct sigcontext goes on: err 152, trapno 160, oldmask 168,
	// cr2 176, fpstate 184. A page fault's signal carries the trap
	// number and the error code (user mode; protection, not absence,
	// for SEGV_ACCERR; a write when the host said so).
	// Linux: arch/x86/include/uapi/asm/sigcontext.h, arch/x86/mm/fault.c
	if (sig == abi.SIGSEGV || sig == abi.SIGBUS) && info.Code > 0 && info.Addr == t.lastFault.addr {
		errCode := uint64(4)
		if sig == abi.SIGSEGV && info.Code == abi.SEGV_ACCERR {
			errCode |= 1
		}
		if t.lastFault.write {
			errCode |= 2
		}
		le.PutUint64(mc[152:], errCode)
		le.PutUint64(mc[160:], 14)        // trapno: page fault
		le.PutUint64(mc[176:], info.Addr) // cr2
	}
	old := t.SigMask()
	if t.restoreMask {
		old, t.restoreMask = t.savedMask, false
	}
	le.PutUint64(mc[168:], uint64(old)) // oldmask
	le.PutUint64(mc[184:], fpAddr)      // fpstate
	le.PutUint64(uc[ucSigmask:], uint64(old))
	li := t.LocalSigInfo(*info)
	copy(b[frameInfo:], li.Encode())

	fpImage := make([]byte, len(fp)+4)
	copy(fpImage, fp)
	le.PutUint32(fpImage[len(fp):], fpXstateMagic2)
	if err := t.CopyOut(fpAddr, fpImage); err != nil {
		return err
	}
	if err := t.CopyOut(frame, b); err != nil {
		return err
	}

	r.Rsp = frame
	r.Rip = a.Handler
	r.Rdi = uint64(sig)
	r.Rsi = frame + frameInfo
	r.Rdx = frame + frameUContext
	r.Rax = 0
	r.Eflags &^= eflagsClearOnSig
	r.Cs, r.Ss = abi.UserCS, abi.UserDS

	if alt.Flags&ssAutoDisarm != 0 {
		// Linux: kernel/signal.c (signal_delivered: sas_ss_reset)
		t.SetAltStack(SigAltStack{Flags: ssDisable})
	}
	mask := old | a.Mask
	if a.Flags&abi.SA_NODEFER == 0 {
		mask |= abi.SigBit(sig)
	}
	t.SetSigMask(mask)
	if a.Flags&abi.SA_RESETHAND != 0 {
		// Only the handler goes back to SIG_DFL; the flags and mask stay.
		// Linux: kernel/signal.c (get_signal, SA_ONESHOT)
		na := a
		na.Handler = SigDfl
		t.tg.SetAction(sig, na)
	}
	return nil
}

// Sigreturn is rt_sigreturn(2): restore what deliver saved. A frame that
// does not make sense kills the process with SIGSEGV, as in Linux.
// Linux: arch/x86/kernel/signal_64.c (SYSCALL_DEFINE0(rt_sigreturn))
func (t *Task) Sigreturn() error {
	r := &t.regs
	b := make([]byte, frameSize)
	if err := t.CopyIn(r.Rsp-8, b); err != nil {
		t.syncSignal(abi.SIGSEGV, abi.SI_KERNEL, 0)
		return ErrNoReturn
	}
	f := decodeSigframe(b, r)
	cur, err := t.thread.FPState()
	if err != nil {
		return err
	}
	img := make([]byte, len(cur))
	if f.fpAddr != 0 {
		if err := t.CopyIn(f.fpAddr, img); err != nil || t.thread.SetFPState(img) != nil {
			t.syncSignal(abi.SIGSEGV, abi.SI_KERNEL, 0)
			return ErrNoReturn
		}
	} else {
		// No FP state in the frame: the FPU starts afresh (x87
		// control word 0x37f, MXCSR 0x1f80, every register and
		// extended component in its initial state).
		// Linux: arch/x86/kernel/fpu/signal.c (fpu__restore_sig: fpu__clear_user_states)
		binary.LittleEndian.PutUint16(img[0:], 0x37f)
		binary.LittleEndian.PutUint32(img[24:], 0x1f80)
		if len(cur) >= 32 {
			copy(img[28:32], cur[28:32]) // MXCSR_MASK, as the CPU reports it
		}
		if err := t.thread.SetFPState(img); err != nil {
			return err
		}
	}
	// The alternate stack setting comes back as sigaltstack(2) would set
	// it, its errors ignored; the stack pointer it checks is the one
	// rt_sigreturn was called with, so a handler running on the
	// alternate stack cannot change it (as on the host).
	// Linux: kernel/signal.c (restore_altstack)
	if ss, err := t.AltStack().Change(f.stack, r.Rsp); err == nil {
		t.SetAltStack(ss)
	}
	*r = f.regs
	t.SetSigMask(f.mask)
	return ErrNoReturn
}

// sigframe is what rt_sigreturn takes from the frame the guest wrote.
type sigframe struct {
	regs   platform.Regs
	mask   abi.SigSet
	stack  SigAltStack // uc_stack
	fpAddr uint64      // uc_mcontext.fpstate; 0 for none
}

// decodeSigframe reads the rt_sigframe image b (frameSize bytes, written
// by the guest) over the current registers cur: the general registers
// come from the frame, eflags only in its user-changeable bits, CS and
// SS stay the 64-bit user selectors, and no syscall restart follows.
// Linux: arch/x86/kernel/signal_64.c (restore_sigcontext)
func decodeSigframe(b []byte, cur *platform.Regs) sigframe {
	le := binary.LittleEndian
	uc := b[frameUContext:]
	mc := uc[ucMcontext:]
	g := func(i int) uint64 { return le.Uint64(mc[8*i:]) }
	nr := *cur
	nr.R8, nr.R9, nr.R10, nr.R11, nr.R12, nr.R13, nr.R14, nr.R15 = g(0), g(1), g(2), g(3), g(4), g(5), g(6), g(7)
	nr.Rdi, nr.Rsi, nr.Rbp, nr.Rbx, nr.Rdx, nr.Rax, nr.Rcx, nr.Rsp, nr.Rip = g(8), g(9), g(10), g(11), g(12), g(13), g(14), g(15), g(16)
	nr.Eflags = cur.Eflags&^eflagsUserMask | g(17)&eflagsUserMask
	nr.Cs, nr.Ss = abi.UserCS, abi.UserDS
	nr.Orig_rax = ^uint64(0) // no syscall restart after sigreturn
	return sigframe{
		regs:   nr,
		mask:   abi.SigSet(le.Uint64(uc[ucSigmask:])),
		stack:  SigAltStack{SP: le.Uint64(uc[ucStack:]), Flags: int32(le.Uint32(uc[ucStack+8:])), Size: le.Uint64(uc[ucStack+16:])},
		fpAddr: le.Uint64(mc[184:]),
	}
}

// applyRestart settles a syscall interrupted by a signal: before a
// handler runs (handler true) ERESTARTSYS restarts only with SA_RESTART;
// with no handler every restart code restarts the call.
// Linux: arch/x86/kernel/signal.c (handle_signal, arch_do_signal_or_restart)
func (t *Task) applyRestart(saRestart, handler bool) {
	if !t.inSyscall {
		return
	}
	t.inSyscall = false
	r := &t.regs
	restart := false
	saved := r.Rax
	switch unix.Errno(-int64(r.Rax)) {
	case abi.ERESTARTNOHAND, abi.ERESTART_RESTARTBLOCK:
		restart = !handler
	case abi.ERESTARTSYS:
		restart = !handler || saRestart
	case abi.ERESTARTNOINTR:
		restart = true
	default:
		return
	}
	if restart {
		r.Rax = r.Orig_rax
		if unix.Errno(-int64(saved)) == abi.ERESTART_RESTARTBLOCK {
			r.Rax = unix.SYS_RESTART_SYSCALL
		}
		r.Rip -= 2
	} else {
		r.Rax = encodeResult(0, unix.EINTR)
	}
}

// SigSuspend is rt_sigsuspend(2): wait with mask installed until a signal
// is acted on; the old mask comes back after the handler returns.
func (t *Task) SigSuspend(mask abi.SigSet) error {
	old := t.SigMask()
	t.SetSigMask(mask)
	t.savedMask, t.restoreMask = old, true
	for {
		<-t.intr
		if t.Interrupted() {
			return abi.ERESTARTNOHAND
		}
	}
}

// Pause is pause(2).
func (t *Task) Pause() error {
	for {
		<-t.intr
		if t.Interrupted() {
			return abi.ERESTARTNOHAND
		}
	}
}

// SetTempSigMask installs mask for the duration of a wait (ppoll, pselect,
// epoll_pwait); the old mask comes back after the syscall, or after the
// handler of a signal that interrupted it.
func (t *Task) SetTempSigMask(mask abi.SigSet) {
	old := t.SigMask()
	t.SetSigMask(mask)
	t.savedMask, t.restoreMask = old, true
}

// SigTimedWait is rt_sigtimedwait(2): take a pending signal from set,
// waiting until the deadline (zero: forever). EAGAIN on timeout, EINTR
// when another (unblocked) signal is to be handled.
// Linux: kernel/signal.c (do_sigtimedwait)
func (t *Task) SigTimedWait(set abi.SigSet, deadline time.Time) (SigInfo, error) {
	set &^= abi.Unblockable
	// While it waits, a shared signal of set may wake this thread even if
	// it blocks it. Linux: kernel/signal.c (do_sigtimedwait: real_blocked)
	t.mu.Lock()
	t.waitSet = set
	t.mu.Unlock()
	defer func() {
		t.mu.Lock()
		t.waitSet = 0
		t.mu.Unlock()
	}()
	var timer <-chan time.Time
	if !deadline.IsZero() {
		tm := time.NewTimer(time.Until(deadline))
		defer tm.Stop()
		timer = tm.C
	}
	for {
		t.mu.Lock()
		if info, ok := t.takeSignalLocked(set); ok {
			t.mu.Unlock()
			return info, nil
		}
		other := t.exiting || t.pendingLocked()&^t.sigmask&^set != 0
		t.mu.Unlock()
		if other {
			return SigInfo{}, unix.EINTR
		}
		if !deadline.IsZero() && !time.Now().Before(deadline) {
			return SigInfo{}, unix.EAGAIN
		}
		select {
		case <-t.intr:
		case <-timer:
		}
	}
}

// SetRestart records what restart_syscall must do after a syscall returned
// ERESTART_RESTARTBLOCK. Linux: struct restart_block
func (t *Task) SetRestart(fn func(*Task) (uint64, error)) { t.restartFn = fn }

// RunRestart is restart_syscall(2).
func (t *Task) RunRestart() (uint64, error) {
	fn := t.restartFn
	t.restartFn = nil
	if fn == nil {
		return 0, unix.EINTR
	}
	return fn(t)
}
