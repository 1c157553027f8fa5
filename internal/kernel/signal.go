package kernel

import (
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/trace"
)

// SigAction is one signal's disposition (struct kernel_sigaction).
type SigAction struct {
	Handler  uint64 // SIG_DFL (0), SIG_IGN (1) or a guest address
	Flags    uint64
	Restorer uint64
	Mask     abi.SigSet
}

// Special handler values.
const (
	SigDfl = 0
	SigIgn = 1
)

// SigAltStack is a thread's alternate signal stack (stack_t).
type SigAltStack struct {
	SP    uint64
	Flags int32
	Size  uint64
}

// sigHandlers are a process's dispositions (shared with CLONE_SIGHAND).
type sigHandlers struct {
	mu  sync.Mutex
	act [abi.NSIG + 1]SigAction
}

func newSigHandlers() *sigHandlers { return &sigHandlers{} }

// Action returns the disposition of sig.
func (tg *ThreadGroup) Action(sig int) SigAction {
	tg.sig.mu.Lock()
	defer tg.sig.mu.Unlock()
	return tg.sig.act[sig]
}

// SetAction changes the disposition of sig and returns the old one.
func (tg *ThreadGroup) SetAction(sig int, a SigAction) SigAction {
	tg.sig.mu.Lock()
	defer tg.sig.mu.Unlock()
	old := tg.sig.act[sig]
	a.Mask &^= abi.Unblockable
	tg.sig.act[sig] = a
	return old
}

// resetHandlersForExec sets caught signals back to SIG_DFL (ignored ones
// stay ignored). Linux: fs/exec.c (flush_signal_handlers)
func (tg *ThreadGroup) resetHandlersForExec() {
	tg.sig.mu.Lock()
	defer tg.sig.mu.Unlock()
	for i := range tg.sig.act {
		if tg.sig.act[i].Handler != SigIgn {
			tg.sig.act[i] = SigAction{}
		}
	}
}

// SigMask returns the blocked set.
func (t *Task) SigMask() abi.SigSet {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.sigmask
}

// SetSigMask replaces the blocked set (SIGKILL and SIGSTOP stay unblocked).
func (t *Task) SetSigMask(m abi.SigSet) {
	t.mu.Lock()
	t.sigmask = m &^ abi.Unblockable
	t.mu.Unlock()
}

// Pending returns the pending set.
func (t *Task) Pending() abi.SigSet {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.pending
}

// AltStack returns the alternate signal stack.
func (t *Task) AltStack() SigAltStack {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.altStack
}

// SetAltStack sets the alternate signal stack.
func (t *Task) SetAltStack(s SigAltStack) {
	t.mu.Lock()
	t.altStack = s
	t.mu.Unlock()
}

// defaultAction classifies a signal's default disposition.
// Linux: kernel/signal.c (sig_kernel_ignore, sig_kernel_coredump, sig_kernel_stop)
type defaultAction int

const (
	actTerm defaultAction = iota
	actCore
	actIgnore
	actStop
	actCont
)

func defaultActionOf(sig int) defaultAction {
	switch sig {
	case abi.SIGCHLD, abi.SIGURG, abi.SIGWINCH:
		return actIgnore
	case abi.SIGCONT:
		return actCont
	case abi.SIGSTOP, abi.SIGTSTP, abi.SIGTTIN, abi.SIGTTOU:
		return actStop
	case abi.SIGQUIT, abi.SIGILL, abi.SIGTRAP, abi.SIGABRT, abi.SIGBUS, abi.SIGFPE,
		abi.SIGSEGV, abi.SIGXCPU, abi.SIGXFSZ, abi.SIGSYS:
		return actCore
	}
	if sig >= abi.SIGRTMIN {
		return actTerm
	}
	return actTerm
}

// SendSignal makes sig pending for t (sent by the kernel) and wakes it.
func (t *Task) SendSignal(sig int) {
	t.SendSignalInfo(SigInfo{Signo: int32(sig), Code: abi.SI_KERNEL})
}

// SendSignalInfo makes info.Signo pending for t with info and wakes it.
// Standard signals coalesce: a second one while pending is lost; real-time
// signals queue in order. SIGCONT resumes a stopped process at once, and
// stop signals and SIGCONT cancel each other's pending instances.
// Linux: kernel/signal.c (prepare_signal, __send_signal)
func (t *Task) SendSignalInfo(info SigInfo) {
	sig := int(info.Signo)
	switch {
	case sig == abi.SIGCONT:
		t.tg.continueGroup()
	case defaultActionOf(sig) == actStop:
		t.mu.Lock()
		t.pending &^= abi.SigBit(abi.SIGCONT)
		t.mu.Unlock()
	case sig == abi.SIGKILL:
		t.tg.continueGroupQuiet()
	}
	t.mu.Lock()
	if !t.sigmask.Has(sig) && t.tg.ignores(sig) {
		// Ignored and not blocked: discarded at once, waking nobody.
		// Linux: kernel/signal.c (sig_ignored)
		t.mu.Unlock()
		return
	}
	if sig >= abi.SIGRTMIN {
		if len(t.rtQueue[sig]) < rtQueueMax {
			t.rtQueue[sig] = append(t.rtQueue[sig], info)
			t.pending |= abi.SigBit(sig)
		}
	} else if !t.pending.Has(sig) {
		t.pending |= abi.SigBit(sig)
		t.siginfo[sig] = info
	}
	t.noteSignalLocked()
	t.mu.Unlock()
	if tr := t.k.cfg.Tracer; tr.On(trace.Signal) {
		from := "the kernel"
		if info.Code <= 0 && info.PID != 0 {
			from = "pid " + strconv.Itoa(int(info.PID))
		}
		tr.Emit(&trace.Event{Kind: trace.Signal, PID: t.tg.pid, TID: t.tid,
			Detail: abi.SignalName(sig) + " sent by " + from})
	}
	t.wake()
}

// rtQueueMax bounds each real-time signal's queue (RLIMIT_SIGPENDING-like).
const rtQueueMax = 4096

// takePending removes one instance of sig from t's pending set and returns
// its siginfo. t.mu held.
func (t *Task) takePendingLocked(sig int) SigInfo {
	if sig >= abi.SIGRTMIN {
		q := t.rtQueue[sig]
		var info SigInfo
		if len(q) > 0 {
			info = q[0]
			t.rtQueue[sig] = q[1:]
			if info.Code == abi.SI_TIMER {
				t.tg.timerDelivered(int(info.PID))
			}
		}
		if len(t.rtQueue[sig]) == 0 {
			t.pending &^= abi.SigBit(sig)
		}
		return info
	}
	t.pending &^= abi.SigBit(sig)
	info := t.siginfo[sig]
	if info.Code == abi.SI_TIMER {
		t.tg.timerDelivered(int(info.PID))
	}
	return info
}

// wake interrupts a wait in the kernel or the guest running on the host.
func (t *Task) wake() {
	select {
	case t.intr <- struct{}{}:
	default:
	}
	t.mu.Lock()
	th := t.thread
	t.mu.Unlock()
	if th != nil {
		th.Interrupt()
	}
}

// checkSignals acts on pending unblocked signals. It returns true when the
// task must stop running (its process is exiting).
func (t *Task) checkSignals() bool {
	t.mu.Lock()
	if t.exiting {
		t.mu.Unlock()
		return true
	}
	ready := t.pending &^ t.sigmask
	t.mu.Unlock()
	for sig := 1; ready != 0 && sig <= abi.NSIG; sig++ {
		if !ready.Has(sig) {
			continue
		}
		ready &^= abi.SigBit(sig)
		t.mu.Lock()
		if !t.pending.Has(sig) || t.sigmask.Has(sig) {
			t.mu.Unlock()
			continue // a handler run meanwhile blocked it
		}
		info := t.takePendingLocked(sig)
		t.mu.Unlock()
		if t.act(sig, &info) {
			return true
		}
	}
	t.stopWait()
	t.mu.Lock()
	exiting := t.exiting
	t.mu.Unlock()
	return exiting
}

// act applies the disposition of sig; true means the process dies.
func (t *Task) act(sig int, info *SigInfo) bool {
	t.k.stats.signals.Add(1)
	t.k.stats.bySignal[sig].Add(1)
	a := t.tg.Action(sig)
	if sig != abi.SIGKILL && sig != abi.SIGSTOP {
		if a.Handler == SigIgn {
			t.traceSignal(sig, "ignored")
			return false
		}
		if a.Handler != SigDfl {
			if err := t.deliver(sig, info, a); err != nil {
				// No room for the frame: Linux forces SIGSEGV.
				t.traceSignal(sig, "frame could not be written: SIGSEGV")
				t.exitGroup(ExitStatus{Signal: abi.SIGSEGV, Core: false})
				return true
			}
			t.traceSignal(sig, "handler "+hexAddr(a.Handler))
			return false
		}
	}
	switch defaultActionOf(sig) {
	case actStop:
		t.groupStop(sig)
		return false
	case actIgnore, actCont:
		t.traceSignal(sig, "default: ignored")
		return false
	case actCore:
		core := t.dumpCore(sig, info)
		if core {
			t.traceSignal(sig, "default: core (dumped)")
		} else {
			t.traceSignal(sig, "default: core (not dumped)")
		}
		t.exitGroup(ExitStatus{Signal: sig, Core: core})
	default:
		t.traceSignal(sig, "default: terminate")
		t.exitGroup(ExitStatus{Signal: sig})
	}
	return true
}

func (t *Task) traceSignal(sig int, what string) {
	if tr := t.k.cfg.Tracer; tr.On(trace.Signal) {
		tr.Emit(&trace.Event{Kind: trace.Signal, PID: t.tg.pid, TID: t.tid,
			Detail: abi.SignalName(sig) + " " + what})
	}
}

// syncSignal handles a signal raised by a guest instruction (fault, trap):
// it cannot be blocked or ignored. Linux: kernel/signal.c (force_sig_info)
func (t *Task) syncSignal(sig, code int, addr uint64) {
	a := t.tg.Action(sig)
	blocked := t.SigMask().Has(sig)
	if blocked || a.Handler == SigIgn {
		t.tg.SetAction(sig, SigAction{})
		t.mu.Lock()
		t.sigmask &^= abi.SigBit(sig)
		t.mu.Unlock()
	}
	t.mu.Lock()
	t.pending |= abi.SigBit(sig)
	t.siginfo[sig] = SigInfo{Signo: int32(sig), Code: int32(code), Addr: addr}
	t.mu.Unlock()
}

// Interrupted implements vfs.Ctx: a blocking wait must give up because an
// unblocked signal is pending or the task is exiting.
func (t *Task) Interrupted() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.exiting || t.pending&^t.sigmask != 0
}

// Sleep waits for d, or until interrupted (EINTR). It returns the time
// left when interrupted.
func (t *Task) Sleep(d time.Duration) (time.Duration, error) {
	if d <= 0 {
		return 0, nil
	}
	deadline := time.Now().Add(d)
	tm := time.NewTimer(d)
	defer tm.Stop()
	for {
		select {
		case <-tm.C:
			return 0, nil
		case <-t.intr:
			if t.Interrupted() {
				return max(0, time.Until(deadline)), unix.EINTR
			}
		}
	}
}

// ignores reports whether sig would be ignored on delivery.
func (tg *ThreadGroup) ignores(sig int) bool {
	if sig == abi.SIGKILL || sig == abi.SIGSTOP {
		return false
	}
	a := tg.Action(sig)
	return a.Handler == SigIgn || a.Handler == SigDfl && defaultActionOf(sig) == actIgnore
}
