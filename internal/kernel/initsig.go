package kernel

import "glassbox/internal/abi"

// Signals to a PID namespace's init. The first process of a PID namespace
// the guest makes (clone or unshare with CLONE_NEWPID) is protected as
// Linux protects it (SIGNAL_UNKILLABLE): a signal whose action is the
// default one is dropped, and SIGKILL and SIGSTOP reach it only when
// forced: sent by the kernel (SI_KERNEL: the OOM killer, RLIMIT_CPU, the
// sandbox ending) or by a process of an ancestor namespace, which the
// init's namespace does not contain. A synchronous fault with the default
// action lifts the protection for good (the init dies of it).
//
// The sandbox's own pid 1 is not protected: the program `glassbox run`
// starts dies of what it would die of on the host (abort, SIGPIPE, an
// alarm, a child's kill), as under runsc; docs/ARCHITECTURE.md says why.
// Signals glassbox' user sends from the host (SigInfo.Host) are never
// dropped either.
// Linux: kernel/signal.c (sig_task_ignored, send_signal_locked's force,
// get_signal's SIGNAL_UNKILLABLE check, force_sig_info_to_task)

// initDrops reports whether info, sent now to tg, is dropped because tg
// is a protected init. blocked and traced are those of the thread the
// sender named: a blocked signal, or any but SIGKILL to a traced one, is
// kept (its fate is decided when it is delivered).
func (tg *ThreadGroup) initDrops(info *SigInfo, blocked, traced bool) bool {
	if !tg.unkillable.Load() || info.Host {
		return false
	}
	sig := int(info.Signo)
	if sig == abi.SIGKILL || sig == abi.SIGSTOP {
		if traced && sig != abi.SIGKILL {
			return false
		}
		return !tg.initForced(info)
	}
	if blocked || traced {
		return false
	}
	return tg.Action(sig).Handler == SigDfl
}

// initForced reports whether info may kill or stop tg's init: sent by the
// kernel, or by a process tg's namespace does not contain (its sender, not
// the si_pid a sigqueue caller may have written).
func (tg *ThreadGroup) initForced(info *SigInfo) bool {
	if info.Code == abi.SI_KERNEL {
		return true
	}
	c := tg.pidc.Load()
	if c == nil || info.Sender <= 0 {
		return false // the initial namespace holds every guest process
	}
	ns := c.ns[0]
	ns.mu.Lock()
	_, seen := ns.kpid[int(info.Sender)]
	ns.mu.Unlock()
	return !seen
}

// initIgnoresDefault reports whether the default action of sig, now being
// delivered to t, is skipped because t's process is a protected init.
// SIGKILL and SIGSTOP got here only if forced.
func (t *Task) initIgnoresDefault(sig int, info *SigInfo) bool {
	return sig != abi.SIGKILL && sig != abi.SIGSTOP && t.tg.unkillable.Load() && !info.Host
}
