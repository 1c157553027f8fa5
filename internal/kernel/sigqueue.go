package kernel

import (
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
)

// Pending signals live in two queues, as in Linux: each task's own
// (thread-directed: tgkill, faults, timers aimed at a thread) and its
// process's shared one (process-directed: kill, SIGCHLD, job control,
// most timers). Any thread that does not block a shared signal may take
// it; a thread takes its own signals first. So a process whose threads all
// block a signal but one, which waits for it with sigwaitinfo or a
// signalfd, gets it there; and a signal is never lost to a thread that is
// exiting. Linux: kernel/signal.c (__send_signal, complete_signal,
// dequeue_signal, retarget_shared_pending)

// sigQueue is a set of pending signals with their siginfo: one instance
// of each standard signal, the real-time ones queued in order.
type sigQueue struct {
	set  abi.SigSet
	info [abi.NSIG + 1]SigInfo
	rt   map[int][]SigInfo
}

// sigCharge counts the signals queued for one user, held against
// RLIMIT_SIGPENDING. Linux counts every queued siginfo of the target's
// real user; glassbox counts those that system calls send (kill,
// tgkill, sigqueue, pidfd_send_signal), not the kernel's own.
// Linux: kernel/signal.c (__sigqueue_alloc), kernel/ucount.c
type sigCharge struct{ n atomic.Int64 }

// charger is what a send charges: the target's real user's count and the
// target's RLIMIT_SIGPENDING.
type charger struct {
	c     *sigCharge
	limit uint64
}

// sigChargeOf returns kernel uid's count. sigChargeMu is a leaf.
func (k *Kernel) sigChargeOf(uid uint32) *sigCharge {
	k.sigChargeMu.Lock()
	defer k.sigChargeMu.Unlock()
	if k.sigCharges == nil {
		k.sigCharges = map[uint32]*sigCharge{}
	}
	c := k.sigCharges[uid]
	if c == nil {
		c = &sigCharge{}
		k.sigCharges[uid] = c
	}
	return c
}

// chargerOf is the charger of a signal sent to a process or thread whose
// leader (or the thread itself) is t. No lock may be held.
func (t *Task) chargerOf() *charger {
	return &charger{c: t.k.sigChargeOf(t.credsShared().UID), limit: t.tg.Rlimit(unix.RLIMIT_SIGPENDING).Cur}
}

func uncharge(info *SigInfo) {
	if info.charge != nil {
		info.charge.n.Add(-1)
		info.charge = nil
	}
}

// add queues info and reports whether it did; a standard signal already
// pending is dropped. With a charger, a queued instance counts against
// the limit: past it a real-time signal sent with a siginfo of the
// sender's (sigqueue, tgkill) is EAGAIN, and any other is made pending
// without its siginfo (a real-time one then merges with those pending).
// Linux: kernel/signal.c (__send_signal_locked, collect_signal)
func (q *sigQueue) add(info SigInfo, ch *charger) (bool, error) {
	sig := int(info.Signo)
	if sig < abi.SIGRTMIN && q.set.Has(sig) {
		return false, nil
	}
	info.charge = nil
	if ch != nil && sig != abi.SIGKILL {
		override := sig < abi.SIGRTMIN && info.Code >= 0
		if n := ch.c.n.Add(1); !override && uint64(n) > ch.limit {
			ch.c.n.Add(-1)
			if sig >= abi.SIGRTMIN && info.Code != abi.SI_USER {
				return false, unix.EAGAIN
			}
			info = SigInfo{Signo: info.Signo, Code: abi.SI_USER}
			if sig >= abi.SIGRTMIN {
				q.set |= abi.SigBit(sig)
				return true, nil
			}
		} else {
			info.charge = ch.c
		}
	}
	if sig >= abi.SIGRTMIN {
		if q.rt == nil {
			q.rt = map[int][]SigInfo{}
		}
		if len(q.rt[sig]) >= rtQueueMax {
			uncharge(&info)
			return false, nil
		}
		q.rt[sig] = append(q.rt[sig], info)
		q.set |= abi.SigBit(sig)
		return true, nil
	}
	q.set |= abi.SigBit(sig)
	q.info[sig] = info
	return true, nil
}

// take removes one instance of sig (which must be pending) and returns
// its siginfo. One made pending without its siginfo reads as SI_USER
// from nobody.
func (q *sigQueue) take(sig int) SigInfo {
	if sig >= abi.SIGRTMIN {
		info := SigInfo{Signo: int32(sig), Code: abi.SI_USER}
		if l := q.rt[sig]; len(l) > 0 {
			info = l[0]
			q.rt[sig] = l[1:]
		}
		if len(q.rt[sig]) == 0 {
			q.set &^= abi.SigBit(sig)
			delete(q.rt, sig)
		}
		uncharge(&info)
		return info
	}
	q.set &^= abi.SigBit(sig)
	info := q.info[sig]
	q.info[sig] = SigInfo{}
	uncharge(&info)
	return info
}

// discard drops every pending instance of the signals in set.
func (q *sigQueue) discard(set abi.SigSet) {
	for sig := 1; sig < abi.SIGRTMIN; sig++ {
		if set.Has(sig) && q.set.Has(sig) {
			uncharge(&q.info[sig])
		}
	}
	q.set &^= set
	for sig, l := range q.rt {
		if set.Has(sig) {
			for i := range l {
				uncharge(&l[i])
			}
			delete(q.rt, sig)
		}
	}
}

// sharedSignals is a process's shared queue. Its mutex is a leaf: it is
// taken after Task.mu (and never the other way round).
type sharedSignals struct {
	mu sync.Mutex
	q  sigQueue
	// released: the process has ended; nothing is queued any more (what
	// was is uncharged).
	released bool
}

func (s *sharedSignals) pending() abi.SigSet {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.q.set
}

// takeSignal removes the lowest signal of want that is pending for t, its
// own queue first, then its process's. t.mu held.
func (t *Task) takeSignalLocked(want abi.SigSet) (SigInfo, bool) {
	if ready := t.pending.set & want; ready != 0 {
		return t.finishTake(t.pending.take(lowestSignal(ready))), true
	}
	sh := &t.tg.shared
	sh.mu.Lock()
	ready := sh.q.set & want
	if ready == 0 {
		sh.mu.Unlock()
		return SigInfo{}, false
	}
	info := sh.q.take(lowestSignal(ready))
	sh.mu.Unlock()
	return t.finishTake(info), true
}

// finishTake does what taking a signal implies beyond the queue.
func (t *Task) finishTake(info SigInfo) SigInfo {
	if info.Code == abi.SI_TIMER {
		info.UID = uint32(t.tg.timerDelivered(int(info.PID)))
	}
	if info.Signo == abi.SIGALRM {
		t.tg.alarmTaken()
	}
	return info
}

// pendingLocked is what t could take: its own and its process's pending
// signals. t.mu held.
func (t *Task) pendingLocked() abi.SigSet {
	return t.pending.set | t.tg.shared.pending()
}

func lowestSignal(s abi.SigSet) int {
	for sig := 1; sig <= abi.NSIG; sig++ {
		if s.Has(sig) {
			return sig
		}
	}
	return 0
}

// wantsSignal reports whether t may be woken to take sig: it does not
// block it and is not on its way out. Linux: kernel/signal.c (wants_signal)
func (t *Task) wantsSignal(sig int) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return !t.exiting && (sig == abi.SIGKILL || !t.sigmask.Has(sig) || t.waitSet.Has(sig))
}

// queueShared makes info pending for the whole process and wakes one
// thread that can take it (the main thread if it can, as Linux prefers);
// if every thread blocks it, it waits in the queue for one to unblock it.
// Every thread's signalfd readers are told. It reports whether info was
// queued (not a standard signal already pending).
func (tg *ThreadGroup) queueShared(info SigInfo, ch *charger) (bool, error) {
	sig := int(info.Signo)
	tg.shared.mu.Lock()
	if tg.shared.released {
		tg.shared.mu.Unlock()
		return false, nil
	}
	queued, err := tg.shared.q.add(info, ch)
	tg.shared.mu.Unlock()
	if err != nil {
		return false, err
	}
	tg.mu.Lock()
	tasks := append([]*Task(nil), tg.tasks...)
	tg.mu.Unlock()
	var target *Task
	for _, t := range tasks {
		if target == nil && t.wantsSignal(sig) {
			target = t
		}
		t.mu.Lock()
		t.noteSignalLocked()
		t.mu.Unlock()
	}
	if sig == abi.SIGKILL {
		for _, t := range tasks {
			t.wake()
		}
		return queued, nil
	}
	if target != nil {
		target.wake()
	}
	return queued, nil
}

// retargetShared wakes, for each shared signal that is pending, a thread
// that can take it: called when a thread blocks more signals or exits, as
// it may have been the one woken for them.
// Linux: kernel/signal.c (retarget_shared_pending)
func (tg *ThreadGroup) retargetShared() {
	pend := tg.shared.pending()
	if pend == 0 {
		return
	}
	tg.mu.Lock()
	tasks := append([]*Task(nil), tg.tasks...)
	tg.mu.Unlock()
	for _, t := range tasks {
		t.mu.Lock()
		accepts := ^t.sigmask | t.waitSet
		ok := !t.exiting && pend&accepts != 0
		if ok {
			pend &^= accepts
		}
		t.mu.Unlock()
		if ok {
			t.wake()
		}
		if pend == 0 {
			return
		}
	}
}

// list returns the pending entries: the standard signals, then each
// real-time signal's queue in order (Linux's single queue is in arrival
// order; PTRACE_PEEKSIGINFO is where the difference shows).
func (q *sigQueue) list() []SigInfo {
	var out []SigInfo
	for sig := 1; sig <= abi.NSIG; sig++ {
		if !q.set.Has(sig) {
			continue
		}
		if sig >= abi.SIGRTMIN {
			out = append(out, q.rt[sig]...)
		} else {
			out = append(out, q.info[sig])
		}
	}
	return out
}
