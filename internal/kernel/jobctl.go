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
	stopDone      bool // every thread has stopped: the stop was reported
	stopReport    bool // a stop the parent has not collected (WUNTRACED)
	contReport    bool // a continue the parent has not collected (WCONTINUED)
	stopRequested bool
}

// groupStop stops every thread of the process with sig. The parent hears
// of it (wait, SIGCHLD) only once no thread runs guest code any more
// (stopProgress), as Linux notifies it when the last thread has stopped.
// The calling task then sleeps in stopWait.
// Linux: kernel/signal.c (do_signal_stop, do_notify_parent_cldstop)
func (t *Task) groupStop(sig int) {
	k := t.k
	tg := t.tg
	k.mu.Lock()
	if tg.job.stopped {
		k.mu.Unlock()
		return
	}
	tg.job = jobState{stopped: true, stopSig: sig}
	tg.stopGen.Add(1)
	tg.stopFlag.Store(true)
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
	tg.stopProgress()
}

// stopProgress completes a group stop in progress once no thread of the
// process is inside the guest: it tells the parent. A thread that leaves
// the guest calls it; a thread about to enter the guest first sets
// inGuest, then looks at stopFlag, while groupStop sets stopFlag, then
// looks at every inGuest, so one of the two always sees the other.
func (tg *ThreadGroup) stopProgress() {
	if !tg.stopFlag.Load() {
		return
	}
	k := tg.k
	k.mu.Lock()
	if !tg.job.stopped || tg.job.stopDone {
		k.mu.Unlock()
		return
	}
	tg.mu.Lock()
	for _, o := range tg.tasks {
		if o.inGuest.Load() {
			tg.mu.Unlock()
			k.mu.Unlock()
			return
		}
	}
	tg.mu.Unlock()
	tg.job.stopDone, tg.job.stopReport = true, true
	sig := tg.job.stopSig
	parent := tg.parent
	if parent != nil {
		parent.notifyChildLocked()
	}
	k.mu.Unlock()
	if parent != nil && parent.Action(abi.SIGCHLD).Flags&abi.SA_NOCLDSTOP == 0 {
		parent.SignalInfo(SigInfo{Signo: abi.SIGCHLD, Code: abi.CLD_STOPPED, PID: int32(tg.pid), Status: int32(sig)})
	}
}

// stopSignals are the signals whose default action stops a process.
var stopSignals = abi.SigBit(abi.SIGSTOP) | abi.SigBit(abi.SIGTSTP) | abi.SigBit(abi.SIGTTIN) | abi.SigBit(abi.SIGTTOU)

// discardPending drops the signals in set from every thread of the
// process: a stop signal cancels a pending SIGCONT and SIGCONT cancels
// pending stop signals, in the whole process, when they are sent.
// Linux: kernel/signal.c (prepare_signal)
func (tg *ThreadGroup) discardPending(set abi.SigSet) {
	tg.mu.Lock()
	tasks := append([]*Task(nil), tg.tasks...)
	tg.mu.Unlock()
	for _, o := range tasks {
		o.mu.Lock()
		o.pending.discard(set)
		o.mu.Unlock()
	}
	tg.shared.mu.Lock()
	tg.shared.q.discard(set)
	tg.shared.mu.Unlock()
}

// continueGroup discards the process's pending stop signals and resumes
// it if it is stopped, telling the parent (SIGCONT, at the time it is
// sent, whatever its disposition).
func (tg *ThreadGroup) continueGroup() {
	tg.discardPending(stopSignals)
	k := tg.k
	k.mu.Lock()
	if !tg.job.stopped {
		k.mu.Unlock()
		return
	}
	// A stop that never completed was never reported: nor is its end.
	reported := tg.job.stopDone
	tg.job = jobState{contReport: reported}
	tg.stopFlag.Store(false)
	parent := tg.parent
	if parent != nil && reported {
		parent.notifyChildLocked()
	}
	k.mu.Unlock()
	tg.mu.Lock()
	tasks := append([]*Task(nil), tg.tasks...)
	tg.mu.Unlock()
	for _, o := range tasks {
		o.wake()
	}
	if parent != nil && reported && parent.Action(abi.SIGCHLD).Flags&abi.SA_NOCLDSTOP == 0 {
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
	if t.ptraceGroupStop() {
		return
	}
	for t.tg.isStopped() {
		t.mu.Lock()
		dying := t.exiting || t.pendingLocked().Has(abi.SIGKILL)
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
	tg.stopFlag.Store(false)
	k.mu.Unlock()
}
