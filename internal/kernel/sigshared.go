package kernel

import (
	"sync"

	"glassbox/internal/abi"
)

// sharedPending holds a process's process-directed signals (kill, alarm,
// timers, job control) until one of its threads takes them: any thread
// that does not block the signal, or that waits for it in sigtimedwait.
// Linux: signal_struct.shared_pending, kernel/signal.c (complete_signal)
//
// Lock order: Task.mu before sharedPending.mu; nothing is taken under it.
type sharedPending struct {
	mu   sync.Mutex
	set  abi.SigSet
	info [abi.NSIG + 1]SigInfo // of each pending standard signal
	rt   map[int][]SigInfo     // queued real-time signals, in order
}

// get returns the pending set.
func (sp *sharedPending) get() abi.SigSet {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	return sp.set
}

// queue adds info; a standard signal already pending is coalesced and
// queue reports false.
func (sp *sharedPending) queue(info SigInfo) bool {
	sig := int(info.Signo)
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sig >= abi.SIGRTMIN {
		if sp.rt == nil {
			sp.rt = map[int][]SigInfo{}
		}
		if len(sp.rt[sig]) >= rtQueueMax {
			return false
		}
		sp.rt[sig] = append(sp.rt[sig], info)
	} else if sp.set.Has(sig) {
		return false
	} else {
		sp.info[sig] = info
	}
	sp.set |= abi.SigBit(sig)
	return true
}

// take removes one instance of sig, if pending.
func (sp *sharedPending) take(sig int) (SigInfo, bool) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if !sp.set.Has(sig) {
		return SigInfo{}, false
	}
	if sig >= abi.SIGRTMIN {
		q := sp.rt[sig]
		var info SigInfo
		if len(q) > 0 {
			info, sp.rt[sig] = q[0], q[1:]
		}
		if len(sp.rt[sig]) == 0 {
			sp.set &^= abi.SigBit(sig)
		}
		return info, true
	}
	sp.set &^= abi.SigBit(sig)
	return sp.info[sig], true
}

// discard drops every pending instance of the signals in set (SIGCONT
// and the stop signals cancel each other).
func (sp *sharedPending) discard(set abi.SigSet) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	for sig := abi.SIGRTMIN; sig <= abi.NSIG; sig++ {
		if set.Has(sig) {
			delete(sp.rt, sig)
		}
	}
	sp.set &^= set
}

// pendingLocked is what t may take: its own signals and its process's.
// t.mu held.
func (t *Task) pendingLocked() abi.SigSet {
	return t.pending | t.tg.shared.get()
}

// wantsLocked reports whether t can take sig now: it does not block it
// (or waits for it in sigtimedwait) and is not exiting. t.mu held.
// Linux: kernel/signal.c (wants_signal)
func (t *Task) wantsLocked(sig int) bool {
	if t.exiting {
		return false
	}
	return sig == abi.SIGKILL || !t.sigmask.Has(sig) || t.sigwaiting.Has(sig)
}

// SignalInfo sends a process-directed signal with its siginfo: it is
// queued on the process, and one thread that can take it is woken. If
// every thread blocks it, it stays pending until one unblocks it or
// waits for it. SIGKILL goes to one thread directly; the one that acts
// on it ends the whole process.
//
// No wake-up is lost: the signal is queued (sharedPending.mu) before the
// threads are examined, and a thread changes what it wants under its own
// Task.mu, then looks at the shared set (Interrupted, SigTimedWait,
// checkSignals) or wakes the others (SetSigMask, exit: retargetShared).
// So either the sender sees the new mask and wakes that thread, or the
// thread sees the queued signal. Linux: kernel/signal.c (__send_signal,
// complete_signal, retarget_shared_pending)
func (tg *ThreadGroup) SignalInfo(info SigInfo) {
	sig := int(info.Signo)
	tg.mu.Lock()
	tasks := append([]*Task(nil), tg.tasks...)
	tg.mu.Unlock()
	if len(tasks) == 0 {
		return
	}
	if sig == abi.SIGKILL {
		tasks[0].SendSignalInfo(info)
		return
	}
	// Dispositions and the main thread's mask decide whether it is
	// ignored. Linux: kernel/signal.c (prepare_signal, sig_ignored)
	if !tasks[0].prepareSignal(sig) {
		return
	}
	if !tg.shared.queue(info) {
		return
	}
	var target *Task
	for _, t := range tasks {
		t.mu.Lock()
		t.noteSignalLocked() // signalfd readers of any thread
		if target == nil && t.wantsLocked(sig) {
			target = t
		}
		t.mu.Unlock()
	}
	tasks[0].traceSent(info)
	if target != nil {
		target.wake()
	}
}

// retargetShared wakes the threads other than from that can take one of
// the process's pending signals in sigs: from stopped wanting them
// (blocked them or is exiting) and may have been the one woken for them.
// Linux: kernel/signal.c (retarget_shared_pending)
func (tg *ThreadGroup) retargetShared(from *Task, sigs abi.SigSet) {
	sigs &= tg.shared.get()
	if sigs == 0 {
		return
	}
	tg.mu.Lock()
	tasks := append([]*Task(nil), tg.tasks...)
	tg.mu.Unlock()
	for _, t := range tasks {
		if t == from {
			continue
		}
		t.mu.Lock()
		want := false
		for sig := 1; sig <= abi.NSIG && !want; sig++ {
			want = sigs.Has(sig) && t.wantsLocked(sig)
		}
		t.mu.Unlock()
		if want {
			t.wake()
		}
	}
}
