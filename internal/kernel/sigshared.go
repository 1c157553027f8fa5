package kernel

import (
	"sync"

	"glassbox/internal/abi"
	"glassbox/internal/trace"
)

// sigShared is a process's shared pending set: the signals sent to the
// process as a whole (kill, SIGCHLD, timers, terminal signals). Any of its
// threads takes them: a thread that does not block the signal when it
// next checks its signals, or one waiting for it in sigtimedwait or on a
// signalfd. Were they queued on one chosen thread, a thread other than
// the chosen one waiting in sigwaitinfo or unblocking the signal later
// would never see it, and it would die with a thread that exits.
// Linux: include/linux/sched/signal.h (signal_struct.shared_pending)
//
// Lock order: Task.mu before sigShared.mu; nothing is taken while
// sigShared.mu is held.
type sigShared struct {
	mu      sync.Mutex
	pending abi.SigSet
	siginfo [abi.NSIG + 1]SigInfo
	rtQueue map[int][]SigInfo
}

// add queues info: standard signals coalesce, real-time ones queue.
func (s *sigShared) add(info SigInfo) {
	sig := int(info.Signo)
	s.mu.Lock()
	defer s.mu.Unlock()
	if sig >= abi.SIGRTMIN {
		if s.rtQueue == nil {
			s.rtQueue = map[int][]SigInfo{}
		}
		if len(s.rtQueue[sig]) < rtQueueMax {
			s.rtQueue[sig] = append(s.rtQueue[sig], info)
			s.pending |= abi.SigBit(sig)
		}
		return
	}
	if !s.pending.Has(sig) {
		s.pending |= abi.SigBit(sig)
		s.siginfo[sig] = info
	}
}

// set returns the pending set.
func (s *sigShared) set() abi.SigSet {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pending
}

// take removes one instance of sig, reporting false if none is pending.
func (s *sigShared) take(sig int) (SigInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.pending.Has(sig) {
		return SigInfo{}, false
	}
	if sig >= abi.SIGRTMIN {
		q := s.rtQueue[sig]
		info := q[0]
		s.rtQueue[sig] = q[1:]
		if len(s.rtQueue[sig]) == 0 {
			s.pending &^= abi.SigBit(sig)
		}
		return info, true
	}
	s.pending &^= abi.SigBit(sig)
	return s.siginfo[sig], true
}

// discard drops every pending instance of the signals in set (a stop
// signal cancels a pending SIGCONT and the other way round).
func (s *sigShared) discard(set abi.SigSet) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending &^= set
	for sig := range s.rtQueue {
		if set.Has(sig) {
			delete(s.rtQueue, sig)
		}
	}
}

// stopSignals are the signals SIGCONT discards.
var stopSignals = abi.SigBit(abi.SIGSTOP) | abi.SigBit(abi.SIGTSTP) | abi.SigBit(abi.SIGTTIN) | abi.SigBit(abi.SIGTTOU)

// SignalInfo sends a signal to the process: it joins the shared pending set
// (SIGKILL goes to a thread directly: it kills the process anyway), and one
// thread that can take it is woken, preferring the main thread. If every
// thread blocks it, threads waiting for it in sigtimedwait are woken, and
// signalfd readers see it.
// Linux: kernel/signal.c (__send_signal with PIDTYPE_TGID, complete_signal)
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
	tg.prepareSignal(sig)
	// Ignored and not blocked (by the main thread, as Linux looks at the
	// task the signal was sent to): discarded at once.
	// Linux: kernel/signal.c (sig_ignored)
	if !tasks[0].SigMask().Has(sig) && tg.ignores(sig) {
		return
	}
	tg.shared.add(info)
	var target *Task
	for _, t := range tasks {
		t.mu.Lock()
		takes := !t.exiting && (!t.sigmask.Has(sig) || t.sigwaiting.Has(sig))
		t.noteSignalLocked()
		t.mu.Unlock()
		if takes && target == nil {
			target = t
		}
	}
	if tr := tg.k.cfg.Tracer; tr.On(trace.Signal) {
		tid := 0
		if target != nil {
			tid = target.tid
		}
		tr.Emit(&trace.Event{Kind: trace.Signal, PID: tg.pid, TID: tid,
			Detail: abi.SignalName(sig) + " sent to the process by " + signalSender(info)})
	}
	if target != nil {
		target.wake()
	}
}

// prepareSignal applies what sending sig does at once, whatever its
// disposition: SIGCONT resumes a stopped process and discards pending stop
// signals; a stop signal discards a pending SIGCONT; SIGKILL resumes the
// process so it can die. Linux: kernel/signal.c (prepare_signal)
func (tg *ThreadGroup) prepareSignal(sig int) {
	var drop abi.SigSet
	switch {
	case sig == abi.SIGCONT:
		drop = stopSignals
	case defaultActionOf(sig) == actStop:
		drop = abi.SigBit(abi.SIGCONT)
	case sig == abi.SIGKILL:
		tg.continueGroupQuiet()
		return
	default:
		return
	}
	tg.mu.Lock()
	tasks := append([]*Task(nil), tg.tasks...)
	tg.mu.Unlock()
	for _, o := range tasks {
		o.mu.Lock()
		o.pending &^= drop
		o.mu.Unlock()
	}
	tg.shared.discard(drop)
	if sig == abi.SIGCONT {
		tg.continueGroup()
	}
}
