package kernel

import (
	"errors"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
)

// Priority-inheritance futexes: the word holds the owner's TID (as the
// owner's PID namespace numbers it), FUTEX_WAITERS when the kernel queues
// waiters, FUTEX_OWNER_DIED when an owner died holding it. User space takes
// and releases a free lock with cmpxchg; the kernel is called to wait for
// a held one (FUTEX_LOCK_PI) and to hand it over (FUTEX_UNLOCK_PI): the
// unlocker writes the first waiter's TID into the word and wakes it, so a
// woken waiter owns the lock. No priority is inherited (glassbox does not
// schedule). Waiters queue in futexTable.pi under futexTable.mu; the word is
// changed with atomic compare-and-swap on glassbox' mapping of the frame,
// so user space's own cmpxchg on it never loses an update.
// Linux: kernel/futex/pi.c (the word's bits are robust.go's)

type piWaiter struct {
	key   futexKey
	tid   uint32 // the waiter's TID as the word holds it
	ktid  int    // the waiter's TID in the kernel's numbering
	woken *wakeup
	// fixup is set (under futexTable.mu, before woken fires) when the
	// lock came to the waiter from an owner that died holding a lock in
	// shared memory: the dying owner cannot reach the word at the
	// waiter's address, so the waiter writes its TID and OWNER_DIED into
	// it itself. Linux: kernel/futex/pi.c (fixup_pi_state_owner)
	fixup bool
}

// piCAS replaces the word at addr with nv if it holds old and returns what
// it held. The word must be writable (EFAULT otherwise).
func (t *Task) piCAS(addr uint64, old, nv uint32) (uint32, error) {
	p, err := t.mm.Pin(t.thread, addr, 4, true)
	if err != nil {
		var en unix.Errno
		if errors.As(err, &en) {
			return 0, en
		}
		return 0, unix.EFAULT
	}
	defer p.Unpin()
	w := (*uint32)(unsafe.Pointer(&p.Bufs[0][0]))
	for {
		if atomic.CompareAndSwapUint32(w, old, nv) {
			return old, nil
		}
		if cur := atomic.LoadUint32(w); cur != old {
			return cur, nil
		}
	}
}

// piCheck checks a PI futex's address (EINVAL unaligned, EFAULT outside
// the task's memory) and returns the caller's TID as the word holds it.
func (t *Task) piCheck(addr uint64, private bool) (uint32, error) {
	if addr&3 != 0 {
		return 0, unix.EINVAL
	}
	if err := t.checkKey(addr, private); err != nil {
		return 0, err
	}
	return uint32(t.VPID(t.tid)), nil
}

// FutexLockPI is FUTEX_LOCK_PI (try: FUTEX_TRYLOCK_PI): take the lock at
// addr, waiting until deadline (zero: none) while another thread holds it.
// A signal restarts the call (ERESTARTNOINTR), as on Linux.
func (t *Task) FutexLockPI(addr uint64, deadline time.Time, try, private bool) error {
	me, err := t.piCheck(addr, private)
	if err != nil {
		return err
	}
	ft := &t.k.futex
	ft.mu.Lock()
	k := ft.key(t, addr, private)
	var cur uint32
	for {
		if cur, err = t.piCAS(addr, 0, me); err != nil || cur == 0 {
			ft.mu.Unlock()
			return err // taken (or a fault)
		}
		owner := cur & futexTIDMask
		if owner == me {
			ft.mu.Unlock()
			return unix.EDEADLK
		}
		if owner == 0 && len(ft.pi[k]) == 0 {
			// Nobody owns it (an owner died, or only the waiters bit
			// is left): take it over, keeping OWNER_DIED.
			if prev, err := t.piCAS(addr, cur, cur&futexOwnerDied|me); err != nil || prev == cur {
				ft.mu.Unlock()
				return err
			}
			continue
		}
		if _, handed := ft.piOwner[k]; !handed && owner != 0 && t.piOwnerGone(owner) {
			// The owner is gone, or past handing its locks over: no
			// one would ever hand this one over.
			ft.mu.Unlock()
			return unix.ESRCH // Linux: kernel/futex/pi.c (handle_exit_race)
		}
		if try {
			ft.mu.Unlock()
			return unix.EAGAIN
		}
		if cur&futexWaiters != 0 {
			break
		}
		if prev, err := t.piCAS(addr, cur, cur|futexWaiters); err != nil {
			ft.mu.Unlock()
			return err
		} else if prev == cur {
			break
		}
	}
	w := &piWaiter{key: k, tid: me, ktid: t.tid, woken: newWakeup(t)}
	if ft.pi == nil {
		ft.pi = map[futexKey][]*piWaiter{}
		ft.piOwner = map[futexKey]int{}
	}
	if len(ft.pi[k]) == 0 {
		ft.piOwner[k] = t.KPID(int(cur & futexTIDMask))
	}
	ft.pi[k] = append(ft.pi[k], w)
	ft.mu.Unlock()

	err = t.awaitWake(w.woken, deadline, func() bool { return ft.dequeuePI(w) }, abi.ERESTARTNOINTR)
	if err == nil && w.fixup {
		return t.piFixup(addr, me)
	}
	return err
}

// piFixup makes the word at addr name the caller, a waiter that the lock
// came to from a dead owner (piWaiter.fixup), with OWNER_DIED set.
func (t *Task) piFixup(addr uint64, me uint32) error {
	ft := &t.k.futex
	ft.mu.Lock()
	defer ft.mu.Unlock()
	cur, err := t.readWord(addr)
	for err == nil {
		// FUTEX_WAITERS even with no one left waiting, as Linux
		// sets it: the next unlock then comes to the kernel.
		nv := me | futexOwnerDied | futexWaiters
		var prev uint32
		if prev, err = t.piCAS(addr, cur, nv); prev == cur {
			break
		}
		cur = prev
	}
	return err
}

func (ft *futexTable) dequeuePI(w *piWaiter) bool {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	gone := removeWaiter(ft.pi, w.key, w)
	if len(ft.pi[w.key]) == 0 {
		delete(ft.piOwner, w.key)
	}
	return gone
}

// FutexUnlockPI is FUTEX_UNLOCK_PI: the caller must own the lock (EPERM);
// it goes to the first waiter, or is left free.
func (t *Task) FutexUnlockPI(addr uint64, private bool) error {
	me, err := t.piCheck(addr, private)
	if err != nil {
		return err
	}
	ft := &t.k.futex
	ft.mu.Lock()
	defer ft.mu.Unlock()
	cur, err := t.readWord(addr)
	if err != nil {
		return err
	}
	if cur&futexTIDMask != me {
		return unix.EPERM
	}
	return ft.handOverLocked(t, ft.key(t, addr, private), addr, cur, 0)
}

// handOverLocked gives the lock whose word holds cur to the first waiter
// on k (with extra bits set), or frees it. futexTable.mu held.
func (ft *futexTable) handOverLocked(t *Task, k futexKey, addr uint64, cur, extra uint32) error {
	for {
		var nv uint32
		ws := ft.pi[k]
		if len(ws) > 0 {
			nv = ws[0].tid | futexWaiters | extra
		}
		prev, err := t.piCAS(addr, cur, nv)
		if err != nil {
			return err
		}
		if prev != cur {
			cur = prev // user space changed a bit: again with what it holds
			continue
		}
		if len(ws) > 0 {
			ft.popPILocked(k, false)
		}
		return nil
	}
}

// popPILocked wakes the first waiter on k, which now owns the lock.
// futexTable.mu held.
func (ft *futexTable) popPILocked(k futexKey, fixup bool) {
	ws := ft.pi[k]
	ws[0].fixup = fixup
	ft.piOwner[k] = ws[0].ktid
	ws[0].woken.fire()
	ft.pi[k] = ws[1:]
	if len(ft.pi[k]) == 0 {
		delete(ft.pi, k)
		delete(ft.piOwner, k)
	}
}

// exitPIFutexes hands over the PI locks of t's address space that t still
// holds and others wait for: the next owner finds FUTEX_OWNER_DIED set.
// Linux: kernel/futex/core.c (exit_pi_state_list), pi.c (fixup_pi_state_owner)
func (t *Task) exitPIFutexes() {
	ft := &t.k.futex
	ft.mu.Lock()
	defer ft.mu.Unlock()
	t.piExited = true // from now on a locker is told ESRCH, not queued
	for k := range ft.pi {
		// A lock in shared memory this task owns, with waiters: its word
		// is at an address of the waiter's, which the waiter writes.
		if k.mm == nil && ft.piOwner[k] == t.tid {
			ft.popPILocked(k, true)
		}
	}
	if t.mm == nil || t.thread == nil {
		return
	}
	me := uint32(t.VPID(t.tid))
	for k := range ft.pi {
		if k.mm != t.mm {
			continue // a shared lock: handed over above
		}
		// Still ours, or already let go by the robust list's walk
		// (TID 0, OWNER_DIED) with waiters left queued.
		cur, err := t.readWord(k.addr)
		if err != nil || cur&futexTIDMask != me && cur&futexTIDMask != 0 {
			continue
		}
		ft.handOverLocked(t, k, k.addr, cur, futexOwnerDied)
	}
}

// piOwnerGone reports whether the task whose TID (as the caller numbers
// it) owner is has ended or handed its locks over at its exit.
// futexTable.mu held.
func (t *Task) piOwnerGone(owner uint32) bool {
	o := t.k.TaskByTID(t.KPID(int(owner)))
	return o == nil || o.piExited
}
