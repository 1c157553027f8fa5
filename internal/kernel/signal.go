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

// handlers returns the process's disposition table. The pointer changes
// only at exec (unsharing a table shared with CLONE_SIGHAND), so it is
// read atomically; the table's contents are guarded by its mu.
func (tg *ThreadGroup) handlers() *sigHandlers { return tg.sigp.Load() }

// Action returns the disposition of sig.
func (tg *ThreadGroup) Action(sig int) SigAction {
	h := tg.handlers()
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.act[sig]
}

// SetAction changes the disposition of sig and returns the old one.
func (tg *ThreadGroup) SetAction(sig int, a SigAction) SigAction {
	h := tg.handlers()
	h.mu.Lock()
	defer h.mu.Unlock()
	old := h.act[sig]
	a.Mask &^= abi.Unblockable
	h.act[sig] = a
	return old
}

// resetHandlersForExec sets caught signals back to SIG_DFL (ignored ones
// stay ignored). Linux: fs/exec.c (flush_signal_handlers)
// The process gets a table of its own: one shared with CLONE_SIGHAND is
// left to the others. Linux: fs/exec.c (unshare_sighand)
func (tg *ThreadGroup) resetHandlersForExec() {
	own := newSigHandlers()
	h := tg.handlers()
	h.mu.Lock()
	for i, a := range h.act {
		if a.Handler == SigIgn {
			// Ignored stays ignored, but with no flags, mask or
			// restorer. Linux: kernel/signal.c (flush_signal_handlers)
			own.act[i] = SigAction{Handler: SigIgn}
		}
	}
	h.mu.Unlock()
	tg.sigp.Store(own)
}

// SigMask returns the blocked set.
func (t *Task) SigMask() abi.SigSet {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.sigmask
}

// SetSigMask replaces the blocked set (SIGKILL and SIGSTOP stay unblocked).
// Shared signals the thread now blocks go to another thread that can take
// them.
//
// A signal that was pending but blocked and is deliverable under the new
// mask leaves a token on intr, as its sender would have: a wait that set
// the mask (sigsuspend, ppoll, pselect, epoll_pwait) must not sleep
// through it. A process-directed signal sent while every thread blocked
// it woke nobody.
func (t *Task) SetSigMask(m abi.SigSet) {
	m &^= abi.Unblockable
	t.mu.Lock()
	more := m&^t.sigmask != 0
	freed := t.sigmask &^ m & t.pendingLocked()
	t.sigmask = m
	t.mu.Unlock()
	if freed != 0 {
		t.kick()
	}
	if more {
		t.tg.retargetShared()
	}
}

// Pending returns the signals pending for the task: its own and its
// process's (sigpending(2)).
func (t *Task) Pending() abi.SigSet {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.pendingLocked()
}

// OwnPending returns only the thread's own pending signals (SigPnd).
func (t *Task) OwnPending() abi.SigSet {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.pending.set
}

// SharedPending returns the process's pending signals (ShdPnd).
func (tg *ThreadGroup) SharedPending() abi.SigSet { return tg.shared.pending() }

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

// prepareSignal does what sending sig does at once, before it is queued:
// SIGCONT resumes a stopped process, and stop signals and SIGCONT cancel
// each other's pending instances. Linux: kernel/signal.c (prepare_signal)
func (tg *ThreadGroup) prepareSignal(sig int) {
	switch {
	case sig == abi.SIGCONT:
		tg.continueGroup()
	case defaultActionOf(sig) == actStop:
		tg.discardPending(abi.SigBit(abi.SIGCONT))
	case sig == abi.SIGKILL:
		tg.continueGroupQuiet()
	}
}

// SendSignalInfo makes info.Signo pending for t alone (a thread-directed
// signal: tgkill, a fault, a thread's timer) and wakes it. Standard
// signals coalesce: a second one while pending is lost; real-time
// signals queue in order. It reports whether info was queued.
// Linux: kernel/signal.c (__send_signal)
func (t *Task) SendSignalInfo(info SigInfo) bool {
	queued, _ := t.sendSignalInfo(info, nil)
	return queued
}

// SendUserSignal is SendSignalInfo for a signal a system call sends
// (tgkill, rt_tgsigqueueinfo, pidfd_send_signal): it counts against the
// target's RLIMIT_SIGPENDING, EAGAIN past it (see sigQueue.add).
func (t *Task) SendUserSignal(info SigInfo) error {
	_, err := t.sendSignalInfo(info, t.chargerOf())
	return err
}

func (t *Task) sendSignalInfo(info SigInfo, ch *charger) (bool, error) {
	sig := int(info.Signo)
	t.tg.prepareSignal(sig)
	t.mu.Lock()
	blocked, traced := t.sigmask.Has(sig), t.traced.Load()
	if !blocked && t.tg.ignores(sig) && !traced || t.tg.initDrops(&info, blocked, traced) || t.sigReleased {
		// Ignored and not blocked: discarded at once, waking nobody.
		// Linux: kernel/signal.c (sig_ignored)
		t.mu.Unlock()
		return false, nil
	}
	queued, err := t.pending.add(info, ch)
	if err != nil {
		t.mu.Unlock()
		return false, err
	}
	t.noteSignalLocked()
	t.mu.Unlock()
	t.traceSent(info)
	t.wake()
	return queued, nil
}

// SignalInfo sends a process-directed signal with its siginfo: it waits in
// the process's shared queue for any thread that does not block it. It
// reports whether info was queued.
func (tg *ThreadGroup) SignalInfo(info SigInfo) bool {
	tg.prepareSignal(int(info.Signo))
	queued, _ := tg.queueSignalInfoCharged(info, nil)
	return queued
}

// SendUserSignal is SignalInfo for a signal a system call sends (kill,
// rt_sigqueueinfo, pidfd_send_signal): it counts against the process's
// RLIMIT_SIGPENDING, EAGAIN past it (see sigQueue.add).
func (tg *ThreadGroup) SendUserSignal(info SigInfo) error {
	var ch *charger
	if l := tg.Leader(); l != nil {
		ch = l.chargerOf()
	}
	tg.prepareSignal(int(info.Signo))
	_, err := tg.queueSignalInfoCharged(info, ch)
	return err
}

// queueSignalInfo is SignalInfo after prepareSignal: it takes no lock
// before ThreadGroup.mu, so it may be called under Kernel.mu.
func (tg *ThreadGroup) queueSignalInfo(info SigInfo) bool {
	queued, _ := tg.queueSignalInfoCharged(info, nil)
	return queued
}

func (tg *ThreadGroup) queueSignalInfoCharged(info SigInfo, ch *charger) (bool, error) {
	sig := int(info.Signo)
	tg.mu.Lock()
	var first *Task
	if len(tg.tasks) > 0 {
		first = tg.tasks[0]
	}
	tg.mu.Unlock()
	if first == nil {
		return false, nil
	}
	// As Linux, the thread the sender named (the main thread here)
	// decides whether a blocked signal may be ignored: a blocked one is
	// kept, as its handler may change before it is unblocked.
	blocked, traced := first.SigMask().Has(sig), first.traced.Load()
	if !blocked && tg.ignores(sig) && !traced || tg.initDrops(&info, blocked, traced) {
		return false, nil
	}
	queued, err := tg.queueShared(info, ch)
	if err != nil {
		return false, err
	}
	first.traceSent(info)
	return queued, nil
}

func (t *Task) traceSent(info SigInfo) {
	if tr := t.k.cfg.Tracer; tr.On(trace.Signal) {
		from := "the kernel"
		if info.Code <= 0 && info.PID != 0 {
			from = "pid " + strconv.Itoa(int(info.PID))
		}
		tr.Emit(&trace.Event{Kind: trace.Signal, PID: t.tg.pid, TID: t.tid,
			Detail: abi.SignalName(int(info.Signo)) + " sent by " + from})
	}
}

// rtQueueMax bounds each real-time signal's queue (RLIMIT_SIGPENDING-like).
const rtQueueMax = 4096

// wake interrupts a wait in the kernel or the guest running on the host.
func (t *Task) wake() {
	t.kick()
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
	for {
		if t.traced.Load() {
			t.ptraceTrapStop()
		}
		t.mu.Lock()
		if t.exiting {
			t.mu.Unlock()
			return true
		}
		// One at a time, lowest first: a handler frame just built may
		// block the next one.
		info, ok := t.takeSignalLocked(^t.sigmask)
		t.mu.Unlock()
		if !ok {
			break
		}
		sig := int(info.Signo)
		if sig != abi.SIGKILL && t.traced.Load() {
			// The tracer sees it first and decides what is delivered.
			if sig = t.ptraceSignal(&info); sig == 0 {
				continue
			}
		}
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
	if t.initIgnoresDefault(sig, info) {
		t.traceSignal(sig, "default action: ignored by a namespace's init")
		return false
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
	t.forceSignal(SigInfo{Signo: int32(sig), Code: int32(code), Addr: addr})
}

// forceSignal queues info for t as a synchronous signal: if it is blocked
// or ignored, its action is reset to the default and it is unblocked.
func (t *Task) forceSignal(info SigInfo) {
	sig := int(info.Signo)
	a := t.tg.Action(sig)
	blocked := t.SigMask().Has(sig)
	if blocked || a.Handler == SigIgn {
		t.tg.SetAction(sig, SigAction{})
		t.mu.Lock()
		t.sigmask &^= abi.SigBit(sig)
		t.mu.Unlock()
		a = SigAction{}
	}
	if a.Handler == SigDfl && !t.traced.Load() {
		// A namespace's init dies of it too (initsig.go).
		// Linux: kernel/signal.c (force_sig_info_to_task)
		t.tg.unkillable.Store(false)
	}
	t.mu.Lock()
	t.pending.discard(abi.SigBit(sig)) // this instance is the one that counts
	t.pending.add(info, nil)
	t.mu.Unlock()
}

// Interrupted implements vfs.Ctx: a blocking wait must give up because an
// unblocked signal is pending or the task is exiting.
func (t *Task) Interrupted() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.exiting || t.pendingLocked()&^t.sigmask != 0 || t.ptraceTrap.Load()
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
