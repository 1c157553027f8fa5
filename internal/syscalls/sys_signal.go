package syscalls

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/kernel"
)

func init() {
	reg(unix.SYS_RT_SIGACTION, sysRtSigaction)
	reg(unix.SYS_RT_SIGRETURN, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return 0, t.Sigreturn()
	})
	reg(unix.SYS_RT_SIGSUSPEND, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		if a[1] != 8 {
			return 0, unix.EINVAL
		}
		var b [8]byte
		if err := t.CopyIn(a[0], b[:]); err != nil {
			return 0, err
		}
		return 0, t.SigSuspend(abi.SigSet(binary.LittleEndian.Uint64(b[:])))
	})
	reg(unix.SYS_PAUSE, func(t *kernel.Task, a kernel.Args) (uint64, error) { return 0, t.Pause() })
	reg(unix.SYS_RT_SIGPROCMASK, sysRtSigprocmask)
	reg(unix.SYS_RT_SIGPENDING, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		if a[1] > 8 {
			return 0, unix.EINVAL
		}
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], uint64(t.Pending()&t.SigMask()))
		return 0, t.CopyOut(a[0], b[:a[1]])
	})
	reg(unix.SYS_SIGALTSTACK, sysSigaltstack)
	reg(unix.SYS_KILL, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return kill(t, a.Int(0), a.Int(1))
	})
	reg(unix.SYS_TKILL, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return tkill(t, -1, a.Int(0), a.Int(1))
	})
	reg(unix.SYS_TGKILL, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		if a.Int(0) <= 0 {
			return 0, unix.EINVAL // Linux: kernel/signal.c (tgkill)
		}
		return tkill(t, a.Int(0), a.Int(1), a.Int(2))
	})
}

func validSig(sig int) bool { return sig >= 1 && sig <= abi.NSIG }

// uapiSAFlags are the sigaction flags x86-64 Linux knows: SA_NOCLDSTOP,
// SA_NOCLDWAIT, SA_SIGINFO, SA_EXPOSE_TAGBITS, SA_RESTORER, SA_ONSTACK,
// SA_RESTART, SA_NODEFER and SA_RESETHAND. Linux: kernel/signal.c
// (do_sigaction), include/linux/signal_types.h (UAPI_SA_FLAGS)
const uapiSAFlags = 0x1 | 0x2 | 0x4 | 0x800 | 0x04000000 | 0x08000000 | 0x10000000 | 0x40000000 | 0x80000000

// sysRtSigaction reads the new action before it checks the signal: a bad
// pointer is EFAULT even for signal 0. Linux: kernel/signal.c
// (rt_sigaction, do_sigaction)
func sysRtSigaction(t *kernel.Task, a kernel.Args) (uint64, error) {
	sig, act, oact := a.Int(0), a[1], a[2]
	if a[3] != 8 {
		return 0, unix.EINVAL
	}
	var na kernel.SigAction
	if act != 0 {
		var b [32]byte
		if err := t.CopyIn(act, b[:]); err != nil {
			return 0, err
		}
		le := binary.LittleEndian
		// Unknown flag bits are dropped, so a program can tell which
		// flags the kernel knows (SA_UNSUPPORTED).
		na = kernel.SigAction{Handler: le.Uint64(b[0:]), Flags: le.Uint64(b[8:]) & uapiSAFlags,
			Restorer: le.Uint64(b[16:]), Mask: abi.SigSet(le.Uint64(b[24:]))}
	}
	if !validSig(sig) || act != 0 && (sig == abi.SIGKILL || sig == abi.SIGSTOP) {
		return 0, unix.EINVAL
	}
	var old kernel.SigAction
	if act != 0 {
		old = t.ThreadGroup().SetAction(sig, na)
	} else {
		old = t.ThreadGroup().Action(sig)
	}
	if oact != 0 {
		var b [32]byte
		le := binary.LittleEndian
		le.PutUint64(b[0:], old.Handler)
		le.PutUint64(b[8:], old.Flags)
		le.PutUint64(b[16:], old.Restorer)
		le.PutUint64(b[24:], uint64(old.Mask))
		return 0, t.CopyOut(oact, b[:])
	}
	return 0, nil
}

func sysRtSigprocmask(t *kernel.Task, a kernel.Args) (uint64, error) {
	how, set, oset := a.Int(0), a[1], a[2]
	if a[3] != 8 {
		return 0, unix.EINVAL
	}
	old := t.SigMask()
	if set != 0 {
		var b [8]byte
		if err := t.CopyIn(set, b[:]); err != nil {
			return 0, err
		}
		s := abi.SigSet(binary.LittleEndian.Uint64(b[:]))
		switch how {
		case unix.SIG_BLOCK:
			t.SetSigMask(old | s)
		case unix.SIG_UNBLOCK:
			t.SetSigMask(old &^ s)
		case unix.SIG_SETMASK:
			t.SetSigMask(s)
		default:
			return 0, unix.EINVAL
		}
	}
	if oset != 0 {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], uint64(old))
		return 0, t.CopyOut(oset, b[:])
	}
	return 0, nil
}

const (
	ssOnStack    = 1
	ssDisable    = 2
	ssAutoDisarm = 1 << 31
)

func sysSigaltstack(t *kernel.Task, a kernel.Args) (uint64, error) {
	ss, oss := a[0], a[1]
	old := t.AltStack()
	sp := t.Regs().Rsp
	if ss != 0 {
		var b [24]byte
		if err := t.CopyIn(ss, b[:]); err != nil {
			return 0, err
		}
		le := binary.LittleEndian
		ns, err := old.Change(kernel.SigAltStack{SP: le.Uint64(b[0:]), Flags: int32(le.Uint32(b[8:])), Size: le.Uint64(b[16:])}, sp)
		if err != nil {
			return 0, err
		}
		t.SetAltStack(ns)
	}
	if oss != 0 {
		// Linux: kernel/signal.c (do_sigaltstack: sas_ss_flags)
		var b [24]byte
		le := binary.LittleEndian
		fl := uint32(old.Flags) & ssAutoDisarm
		if old.Size == 0 {
			fl |= ssDisable
		} else if uint32(old.Flags)&ssAutoDisarm == 0 && sp > old.SP && sp-old.SP <= old.Size {
			fl |= ssOnStack
		}
		le.PutUint64(b[0:], old.SP)
		le.PutUint32(b[8:], fl)
		le.PutUint64(b[16:], old.Size)
		return 0, t.CopyOut(oss, b[:])
	}
	return 0, nil
}

// kill finds its targets before it checks the signal: kill(2) of a pid
// that does not exist is ESRCH whatever the signal, and an invalid signal
// is EINVAL before a permission is checked. Linux: kernel/signal.c
// (kill_something_info, check_kill_permission)
func kill(t *kernel.Task, pid, sig int) (uint64, error) {
	var targets []*kernel.ThreadGroup
	switch {
	case pid > 0:
		tg := t.Kernel().ProcessByPID(t.KPID(pid)) // a zombie too: its signal is dropped
		if tg == nil {
			return 0, unix.ESRCH
		}
		targets = append(targets, tg)
	case pid == 0 || pid == -1 || pid < -1:
		pg := t.ThreadGroup().Pgid()
		if pid < -1 {
			pg = t.KPID(-pid)
		}
		for _, p := range t.Kernel().PIDs() {
			tg := t.Kernel().ThreadGroupByPID(p)
			if tg == nil || t.VPID(p) == 0 || pid == -1 && (t.VPID(p) == 1 || tg == t.ThreadGroup()) {
				continue
			}
			if pid != -1 && tg.Pgid() != pg {
				continue
			}
			targets = append(targets, tg)
		}
		if len(targets) == 0 {
			return 0, unix.ESRCH
		}
	}
	if sig < 0 || sig > abi.NSIG {
		return 0, unix.EINVAL
	}
	// EPERM only when no target may be signalled (kill(-1) skips them).
	allowed := targets[:0:0]
	for _, tg := range targets {
		if t.MaySignal(tg, sig) {
			allowed = append(allowed, tg)
		}
	}
	if len(allowed) == 0 {
		return 0, unix.EPERM
	}
	targets = allowed
	if sig == 0 {
		return 0, nil
	}
	info := kernel.SigInfo{Signo: int32(sig), Code: abi.SI_USER, PID: int32(t.PID()), UID: t.Creds().UID, Sender: int32(t.PID())}
	for _, tg := range targets {
		tg.SendUserSignal(info) // SI_USER: never EAGAIN
	}
	return 0, nil
}

// tkill sends sig to one thread (tgid -1: tkill's any process). The
// thread is looked up before the signal is checked.
// Linux: kernel/signal.c (do_tkill, do_send_specific)
func tkill(t *kernel.Task, tgid, tid, sig int) (uint64, error) {
	if tid <= 0 || tgid == 0 || tgid < -1 {
		return 0, unix.EINVAL
	}
	target := t.Kernel().TaskByTID(t.KPID(tid))
	if target == nil {
		// A zombie's main thread is there until the zombie is reaped:
		// the signal is checked and dropped.
		ktid := t.KPID(tid)
		if z := t.Kernel().ProcessByPID(ktid); z != nil && (tgid < 0 || t.KPID(tgid) == ktid) {
			if sig < 0 || sig > abi.NSIG {
				return 0, unix.EINVAL
			}
			if !t.MaySignal(z, sig) {
				return 0, unix.EPERM
			}
			return 0, nil
		}
	}
	if target == nil || tgid > 0 && target.PID() != t.KPID(tgid) {
		return 0, unix.ESRCH
	}
	if sig < 0 || sig > abi.NSIG {
		return 0, unix.EINVAL
	}
	if !t.MaySignal(target.ThreadGroup(), sig) {
		return 0, unix.EPERM
	}
	if sig != 0 {
		return 0, target.SendUserSignal(kernel.SigInfo{Signo: int32(sig), Code: abi.SI_TKILL, PID: int32(t.PID()), UID: t.Creds().UID, Sender: int32(t.PID())})
	}
	return 0, nil
}
