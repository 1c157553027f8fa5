package seccomp

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/platform"
)

// The host's signal frame, as the kernel writes it on a slot's signal
// stack. Linux: arch/x86/include/asm/sigframe.h (struct rt_sigframe),
// arch/x86/include/uapi/asm/sigcontext.h (struct sigcontext_64).
// Offsets are from the ucontext (the frame's start + 8).
const (
	ucFlags   = 0
	ucMctx    = 40
	ucCSGSFS  = ucMctx + 144
	ucFPState = ucMctx + 184
	ucSigmask = 296
	ucInfo    = 304 // siginfo_t follows the ucontext
	ucEnd     = ucInfo + 128

	siSigno   = 0
	siCode    = 8
	siAddr    = 16
	sysSecomp = 1 // si_code of a seccomp SIGSYS

	fxMXCSR     = 24
	fxMXCSRMask = 28
	fxSW        = 464 // software-reserved bytes: struct _fpx_sw_bytes
	xsHeader    = 512 // xstate_bv, xcomp_bv, reserved
	xsMin       = 576 // legacy area and header
	fpMagic1    = 0x46505853
	fpMagic2    = 0x46505845
)

// fpInfo is the machine's signal-frame XSAVE format.
type fpInfo struct {
	size      int      // xstate_size: bytes of the XSAVE image
	xfeatures uint64   // features the kernel saves
	mxcsrMask uint32   // bits MXCSR may hold
	sw        [48]byte // the kernel's software-reserved bytes
}

// learnFP reads the format from a frame that only the host kernel can
// have written (a first thread's ready trap, before any guest code runs).
func learnFP(f []byte, fpOff int) (fpInfo, error) {
	var fi fpInfo
	if fpOff+xsMin > len(f) {
		return fi, fmt.Errorf("ready frame's XSAVE area out of place")
	}
	le := binary.LittleEndian
	sw := f[fpOff+fxSW:]
	if le.Uint32(sw) != fpMagic1 {
		return fi, fmt.Errorf("ready frame without XSAVE state")
	}
	fi.size = int(le.Uint32(sw[16:]))
	fi.xfeatures = le.Uint64(sw[8:])
	if fi.size < xsMin || fpOff+fi.size+4 > len(f) || le.Uint32(f[fpOff+fi.size:]) != fpMagic2 {
		return fi, fmt.Errorf("ready frame with a bad XSAVE size %d", fi.size)
	}
	copy(fi.sw[:], sw[:48])
	fi.mxcsrMask = le.Uint32(f[fpOff+fxMXCSRMask:])
	if fi.mxcsrMask == 0 {
		fi.mxcsrMask = 0xffbf
	}
	return fi, nil
}

// checkFP validates an XSAVE image as Linux's PTRACE_SETREGSET does.
// Linux: arch/x86/kernel/fpu/xstate.c (copy_uabi_to_xstate, validate_user_xstate_header)
func (fi *fpInfo) checkFP(b []byte) error {
	if len(b) != fi.size {
		return unix.EINVAL
	}
	le := binary.LittleEndian
	if le.Uint32(b[fxMXCSR:])&^fi.mxcsrMask != 0 {
		return unix.EINVAL
	}
	if le.Uint64(b[xsHeader:])&^fi.xfeatures != 0 || le.Uint64(b[xsHeader+8:]) != 0 {
		return unix.EINVAL
	}
	for _, c := range b[xsHeader+16 : xsHeader+64] {
		if c != 0 {
			return unix.EINVAL
		}
	}
	return nil
}

// frameAt validates where the slot's header says the frame is and returns
// the ucontext's and the XSAVE image's offsets in ctl. The header and frame
// are guest-writable: a guest that scribbles on them gets an error here
// (its process is killed), never a read outside its slot.
func (t *thread) frameAt(fpSize int) (uc, fp int, err error) {
	proc := t.proc
	base := slotOff(t.slot)
	le := binary.LittleEndian
	ucAddr := le.Uint64(proc.ctl[base+hdrUC:])
	lo, hi := slotAddr(t.slot)+altStack, slotAddr(t.slot)+slotSize
	if ucAddr < lo+8 || ucAddr > hi-ucEnd {
		return 0, 0, fmt.Errorf("stub thread %d: signal frame out of its slot: %w", t.tid, platform.ErrGuest)
	}
	uc = base + int(ucAddr-slotAddr(t.slot))
	fpAddr := le.Uint64(proc.ctl[uc+ucFPState:])
	if fpAddr%64 != 0 || fpAddr < lo || fpAddr > hi-uint64(fpSize)-4 {
		return 0, 0, fmt.Errorf("stub thread %d: XSAVE area out of its slot: %w", t.tid, platform.ErrGuest)
	}
	return uc, base + int(fpAddr-slotAddr(t.slot)), nil
}

// readFrame copies the trap frame into regs and says what happened.
func (t *thread) readFrame(regs *platform.Regs) (platform.Event, error) {
	uc, fp, err := t.frameAt(t.proc.p.fp.size)
	if err != nil {
		return platform.Event{}, err
	}
	t.uc, t.fp = uc, fp
	f := t.proc.ctl
	le := binary.LittleEndian
	var g [19]uint64
	for i := range g {
		g[i] = le.Uint64(f[uc+ucMctx+8*i:])
	}
	hdr := slotOff(t.slot)
	*regs = platform.Regs{
		R8: g[0], R9: g[1], R10: g[2], R11: g[3], R12: g[4], R13: g[5], R14: g[6], R15: g[7],
		Rdi: g[8], Rsi: g[9], Rbp: g[10], Rbx: g[11], Rdx: g[12], Rax: g[13], Rcx: g[14],
		Rsp: g[15], Rip: g[16], Eflags: g[17],
		Cs: g[18] & 0xffff, Ss: g[18] >> 48,
		Fs_base:  le.Uint64(f[hdr+hdrFS:]),
		Gs_base:  t.guestGS(le.Uint64(f[hdr+hdrGS:])),
		Orig_rax: ^uint64(0),
	}
	if t.patchedFrame() {
		// A patched call's frame (patch.go) has no segment word.
		regs.Cs, regs.Ss = userCS, userSS
	}
	si := f[uc+ucInfo:]
	signo := int(int32(le.Uint32(si[siSigno:])))
	code := int(int32(le.Uint32(si[siCode:])))
	addr := le.Uint64(si[siAddr:])
	ev := classify(regs, signo, code, addr)
	ev.Patched = ev.Kind == platform.EventSyscall && t.patchedFrame()
	if ev.Kind == platform.EventFault {
		// mcontext's err: the x86 page-fault error code (bit 1: write).
		ev.Write = le.Uint64(f[uc+ucMctx+8*19:])&2 != 0
	}
	if signo == int(unix.SIGTRAP) {
		ev = t.debugTrap(ev, regs, code)
	}
	return ev, nil
}

// classify turns the host signal into an event, as the ptrace platform
// does from a signal-delivery stop.
func classify(regs *platform.Regs, s, code int, addr uint64) platform.Event {
	switch {
	case s == int(unix.SIGSYS) && code == sysSecomp:
		// The kernel rolled rax back to the syscall number.
		regs.Orig_rax = regs.Rax
		regs.Rax = negErrno(unix.ENOSYS)
		return platform.Event{Kind: platform.EventSyscall}
	case s == int(sigInterrupt):
		return platform.Event{Kind: platform.EventInterrupt}
	}
	// si_code > 0 means the kernel raised it for an instruction the
	// thread ran; anything else was sent by someone.
	if code > 0 && code != abi.SI_KERNEL || s == int(unix.SIGSEGV) && code == abi.SI_KERNEL {
		switch s {
		case int(unix.SIGSEGV):
			if code == abi.SEGV_MAPERR || code == abi.SEGV_ACCERR {
				return platform.Event{Kind: platform.EventFault, Signo: s, Code: code, Addr: addr}
			}
			return platform.Event{Kind: platform.EventSignal, Signo: s, Code: code, Addr: addr}
		case int(unix.SIGILL), int(unix.SIGFPE), int(unix.SIGTRAP), int(unix.SIGBUS):
			return platform.Event{Kind: platform.EventSignal, Signo: s, Code: code, Addr: addr}
		}
	}
	if s == int(unix.SIGTRAP) && code == abi.SI_KERNEL {
		// int3 reports SI_KERNEL on x86.
		return platform.Event{Kind: platform.EventSignal, Signo: s, Code: code, Addr: addr}
	}
	return platform.Event{Kind: platform.EventInterrupt}
}

// writeFrame stores regs into the current frame for rt_sigreturn, with the
// host signal mask a guest thread runs under.
func (t *thread) writeFrame(regs *platform.Regs) {
	f := t.proc.ctl
	uc := t.uc
	le := binary.LittleEndian
	for i, v := range [18]uint64{regs.R8, regs.R9, regs.R10, regs.R11, regs.R12, regs.R13, regs.R14, regs.R15,
		regs.Rdi, regs.Rsi, regs.Rbp, regs.Rbx, regs.Rdx, regs.Rax, regs.Rcx, regs.Rsp, regs.Rip, regs.Eflags} {
		le.PutUint64(f[uc+ucMctx+8*i:], v)
	}
	le.PutUint64(f[uc+ucCSGSFS:], (regs.Cs|3)&0xffff|((regs.Ss|3)&0xffff)<<48)
	le.PutUint64(f[uc+ucSigmask:], guestMask())
	hdr := slotOff(t.slot)
	le.PutUint64(f[hdr+hdrFS:], regs.Fs_base)
	le.PutUint64(f[hdr+hdrGS:], t.hostGS(regs.Gs_base))
	slow := uint32(0)
	if t.patchedFrame() && t.needSlow(regs) {
		slow = 1
	}
	le.PutUint32(f[hdr+hdrSlow:], slow)
}

// The selectors of a 64-bit user thread.
const (
	userCS = 0x33
	userSS = 0x2b
)

// FPState implements platform.Thread: the XSAVE image of the current frame.
func (t *thread) FPState() ([]byte, error) {
	if t.dead || t.uc == 0 {
		return nil, errGone
	}
	fi := &t.proc.p.fp
	b := make([]byte, fi.size)
	copy(b, t.proc.ctl[t.fp:t.fp+fi.size])
	// XSAVE leaves the software-reserved bytes alone: a patched call's
	// image has none of the kernel's (they are the same in every frame).
	copy(b[fxSW:], fi.sw[:])
	return b, nil
}

// SetFPState implements platform.Thread. b must be a whole XSAVE image of
// the size FPState returns, with a header Linux would accept.
func (t *thread) SetFPState(b []byte) error {
	if t.dead || t.uc == 0 {
		return errGone
	}
	fi := &t.proc.p.fp
	if err := fi.checkFP(b); err != nil {
		return err
	}
	dst := t.proc.ctl[t.fp : t.fp+fi.size+4]
	copy(dst, b)
	copy(dst[fxSW:], fi.sw[:])
	binary.LittleEndian.PutUint32(dst[fi.size:], fpMagic2)
	return nil
}

// takeFP copies the patched frame's XSAVE image (what glassbox left there)
// into the current signal frame (p_slow).
func (t *thread) takeFP() error {
	fi := &t.proc.p.fp
	src := slotOff(t.slot) + pFP
	b := make([]byte, fi.size)
	copy(b, t.proc.ctl[src:src+fi.size])
	if err := fi.checkFP(b); err != nil {
		return fmt.Errorf("stub thread %d: patched frame's XSAVE image: %w", t.tid, platform.ErrGuest)
	}
	copy(b[fxSW:], fi.sw[:])
	copy(t.proc.ctl[t.fp:t.fp+fi.size], b)
	return nil
}
