package kernel

import (
	"glassbox/internal/abi"
)

// Job control: stop and continue a whole process, report it to the
// parent. Linux: kernel/signal.c (do_signal_stop, prepare_signal for
// SIGCONT), kernel/exit.c (wait_task_stopped, wait_task_continued)

// jobState is a process's stop/continue state, guarded by Kernel.mu.
type jobState struct {
	stopped       bool
	stopSig       int
	stopReport    bool // a stop the parent has not collected (WUNTRACED)
	contReport    bool // a continue the parent has not collected (WCONTINUED)
	stopRequested bool
}

// groupStop stops every thread of the process with sig and tells the
// parent. The calling task then sleeps in stopWait.
func (t *Task) groupStop(sig int) {
	k := t.k
	tg := t.tg
	k.mu.Lock()
	if tg.job.stopped {
		k.mu.Unlock()
		return
	}
	tg.job = jobState{stopped: true, stopSig: sig, stopReport: true}
	parent := tg.parent
	if parent != nil {
		parent.notifyChildLocked()
	}
	k.mu.Unlock()
	t.traceSignal(sig, "default: stop")
	tg.mu.Lock()
	tasks := append([]*Task(nil), tg.tasks...)
	tg.mu.Unlock()
	for _, o := range tasks {
		if o != t {
			o.wake()
		}
	}
	if parent != nil && parent.Action(abi.SIGCHLD).Flags&abi.SA_NOCLDSTOP == 0 {
		parent.SignalInfo(SigInfo{Signo: abi.SIGCHLD, Code: abi.CLD_STOPPED, PID: int32(tg.pid), Status: int32(sig)})
	}
}

// continueGroup resumes a stopped process (SIGCONT, at the time it is
// sent, whatever its disposition) and tells the parent.
func (tg *ThreadGroup) continueGroup() {
	k := tg.k
	k.mu.Lock()
	if !tg.job.stopped {
		k.mu.Unlock()
		return
	}
	tg.job = jobState{contReport: true}
	parent := tg.parent
	if parent != nil {
		parent.notifyChildLocked()
	}
	k.mu.Unlock()
	tg.mu.Lock()
	tasks := append([]*Task(nil), tg.tasks...)
	tg.mu.Unlock()
	for _, o := range tasks {
		o.mu.Lock()
		// Pending stop signals are discarded by SIGCONT.
		for _, s := range []int{abi.SIGSTOP, abi.SIGTSTP, abi.SIGTTIN, abi.SIGTTOU} {
			o.pending &^= abi.SigBit(s)
		}
		o.mu.Unlock()
		o.wake()
	}
	if parent != nil && parent.Action(abi.SIGCHLD).Flags&abi.SA_NOCLDSTOP == 0 {
		parent.SignalInfo(SigInfo{Signo: abi.SIGCHLD, Code: abi.CLD_CONTINUED, PID: int32(tg.pid), Status: abi.SIGCONT})
	}
}

// isStopped reports whether the process is stopped.
func (tg *ThreadGroup) isStopped() bool {
	tg.k.mu.Lock()
	defer tg.k.mu.Unlock()
	return tg.job.stopped
}

// stopWait sleeps while the process is stopped. It returns when it is
// continued, or the task must exit or has SIGKILL pending.
func (t *Task) stopWait() {
	for t.tg.isStopped() {
		t.mu.Lock()
		dying := t.exiting || t.pending.Has(abi.SIGKILL)
		t.mu.Unlock()
		if dying {
			return
		}
		<-t.intr
	}
}

// continueGroupQuiet lets a stopped process run again for SIGKILL, without
// reporting a continue.
func (tg *ThreadGroup) continueGroupQuiet() {
	k := tg.k
	k.mu.Lock()
	tg.job.stopped = false
	k.mu.Unlock()
}
