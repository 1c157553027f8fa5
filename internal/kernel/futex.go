package kernel

import (
	"encoding/binary"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/mm"
)

// futexKey names a futex word: an address in one address space, or for a
// shared futex in MAP_SHARED memory, the mapped object and offset, so
// processes mapping it at different addresses meet on one key.
type futexKey struct {
	mm   *mm.MM
	obj  any // for shared futexes: the mapped object (mm is then nil)
	addr uint64
}

type futexWaiter struct {
	key    futexKey
	bitset uint32
	woken  *wakeup // fired by the waker (park.go)
}

// futexTable holds the waiters of one kernel. Lock order: futexTable.mu
// before mm locks (the word is read under it, so a wake cannot slip in
// between the check and the queueing).
type futexTable struct {
	mu sync.Mutex
	q  map[futexKey][]*futexWaiter
	pi map[futexKey][]*piWaiter // FUTEX_LOCK_PI waiters, in arrival order (futex_pi.go)
	// piOwner is the kernel TID of the owner of each PI lock with
	// waiters (the pi_state's owner): a lock in shared memory is handed
	// over by that owner's exit through it.
	piOwner map[futexKey]int
}

func (ft *futexTable) key(t *Task, addr uint64, private bool) futexKey {
	if !private {
		if obj, off, ok := t.mm.SharedKey(addr); ok {
			return futexKey{obj: obj, addr: off}
		}
	}
	return futexKey{mm: t.mm, addr: addr}
}

// checkKey is get_futex_key's fault check: a shared futex must be in
// readable memory (EFAULT), a private one only below the task size.
// Linux: kernel/futex/core.c (get_futex_key)
func (t *Task) checkKey(addr uint64, private bool) error {
	if addr >= t.mm.Layout().TaskSize || !private && !t.mm.Accessible(addr) {
		return unix.EFAULT
	}
	return nil
}

// readWord reads the 32-bit futex word at addr.
func (t *Task) readWord(addr uint64) (uint32, error) {
	var b [4]byte
	if err := t.CopyIn(addr, b[:]); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b[:]), nil
}

// FutexWait blocks while the word at addr holds val, until a wake that
// matches bitset, the deadline (zero: none), or a signal.
// Linux: kernel/futex/waitwake.c (futex_wait)
func (t *Task) FutexWait(addr uint64, val, bitset uint32, deadline time.Time, private bool) error {
	if addr&3 != 0 {
		return unix.EINVAL
	}
	if err := t.checkKey(addr, private); err != nil {
		return err
	}
	ft := &t.k.futex
	k := ft.key(t, addr, private)
	ft.mu.Lock()
	cur, err := t.readWord(addr)
	if err != nil {
		ft.mu.Unlock()
		return err
	}
	if cur != val {
		ft.mu.Unlock()
		return unix.EAGAIN
	}
	w := &futexWaiter{key: k, bitset: bitset, woken: newWakeup(t)}
	if ft.q == nil {
		ft.q = map[futexKey][]*futexWaiter{}
	}
	ft.q[k] = append(ft.q[k], w)
	ft.mu.Unlock()

	return t.awaitWake(w.woken, deadline, func() bool { return ft.dequeue(w) }, unix.EINTR)
}

// awaitWake waits until woken fires, the deadline (zero: none) passes or
// the task is interrupted, polling first when the host is idle and then
// with its OS thread parked (park.go). On a
// timeout or an interruption the waiter is taken off its queue (dequeue
// reports whether it was still on it): if it was not, the wake came first
// and counts. It returns nil when woken, ETIMEDOUT, or intrErr when
// interrupted.
func (t *Task) awaitWake(woken *wakeup, deadline time.Time, dequeue func() bool, intrErr error) error {
	t.k.stats.futexSleeps.Add(1)
	if t.spinWait(woken, deadline) {
		t.k.stats.futexPolled.Add(1)
		return nil
	}
	p := &t.park
	defer p.sleeping.Store(false)
	for {
		s := p.seq.Load()
		p.sleeping.Store(true)
		if woken.fired.Load() {
			return nil
		}
		if t.interruptPending() && t.Interrupted() {
			if dequeue() {
				return intrErr
			}
			return nil
		}
		var d time.Duration
		if !deadline.IsZero() {
			if d = time.Until(deadline); d <= 0 {
				if dequeue() {
					return unix.ETIMEDOUT
				}
				return nil // woken at the same time
			}
		}
		p.park(s, d)
	}
}

// dequeue removes w if it is still queued and reports whether it was.
func (ft *futexTable) dequeue(w *futexWaiter) bool {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	return removeWaiter(ft.q, w.key, w)
}

// removeWaiter takes w off q[k] and reports whether it was there.
// futexTable.mu held.
func removeWaiter[W comparable](q map[futexKey][]W, k futexKey, w W) bool {
	ws := q[k]
	for i, o := range ws {
		if o == w {
			q[k] = append(ws[:i:i], ws[i+1:]...)
			if len(q[k]) == 0 {
				delete(q, k)
			}
			return true
		}
	}
	return false
}

// wakeLocked wakes up to n waiters on k matching bitset.
func (ft *futexTable) wakeLocked(k futexKey, n int, bitset uint32) int {
	ws := ft.q[k]
	woken := 0
	keep := ws[:0]
	for _, w := range ws {
		if woken < n && w.bitset&bitset != 0 {
			w.woken.fire()
			woken++
			continue
		}
		keep = append(keep, w)
	}
	if len(keep) == 0 {
		delete(ft.q, k)
	} else {
		ft.q[k] = keep
	}
	return woken
}

// FutexWake wakes up to n waiters on addr whose bitset intersects bitset.
func (t *Task) FutexWake(addr uint64, n int, bitset uint32, private bool) (int, error) {
	if addr&3 != 0 {
		return 0, unix.EINVAL
	}
	if err := t.checkKey(addr, private); err != nil {
		return 0, err
	}
	ft := &t.k.futex
	ft.mu.Lock()
	defer ft.mu.Unlock()
	return ft.wakeLocked(ft.key(t, addr, private), n, bitset), nil
}

// FutexRequeue wakes n waiters on addr and moves up to n2 more to addr2;
// with cmp, only if the word at addr still holds val.
// Linux: kernel/futex/requeue.c (futex_requeue)
func (t *Task) FutexRequeue(addr, addr2 uint64, n, n2 int, cmp bool, val uint32, private bool) (int, error) {
	if addr&3 != 0 || addr2&3 != 0 {
		return 0, unix.EINVAL
	}
	for _, ad := range []uint64{addr, addr2} {
		if err := t.checkKey(ad, private); err != nil {
			return 0, err
		}
	}
	ft := &t.k.futex
	ft.mu.Lock()
	defer ft.mu.Unlock()
	if cmp {
		cur, err := t.readWord(addr)
		if err != nil {
			return 0, err
		}
		if cur != val {
			return 0, unix.EAGAIN
		}
	}
	k, k2 := ft.key(t, addr, private), ft.key(t, addr2, private)
	woken := ft.wakeLocked(k, n, ^uint32(0))
	// The first n2 left move to the tail of k2's queue; k2 may be k
	// itself (they then go behind the others, as Linux re-queues them),
	// so the rest are put back before the moved ones are added.
	ws := ft.q[k]
	moved := min(max(n2, 0), len(ws))
	mv := append([]*futexWaiter(nil), ws[:moved]...)
	if rest := ws[moved:]; len(rest) == 0 {
		delete(ft.q, k)
	} else {
		ft.q[k] = rest
	}
	for _, w := range mv {
		w.key = k2
	}
	if moved > 0 {
		ft.q[k2] = append(ft.q[k2], mv...)
	}
	return woken + moved, nil
}

// FutexWakeOp is FUTEX_WAKE_OP: atomically apply op to the word at addr2,
// wake n waiters on addr, and n2 on addr2 if the old value passes the
// comparison encoded in op. As in Linux, an unknown operation fails
// before the word is touched (ENOSYS, even where it is unmapped), an
// unknown comparison after it was changed, and either failure wakes no
// one; oparg and cmparg are signed 12-bit fields.
// Linux: kernel/futex/waitwake.c (futex_wake_op, futex_atomic_op_inuser),
// arch/x86/include/asm/futex.h (arch_futex_atomic_op_inuser)
func (t *Task) FutexWakeOp(addr, addr2 uint64, n, n2 int, op uint32, private bool) (int, error) {
	if addr&3 != 0 || addr2&3 != 0 {
		return 0, unix.EINVAL
	}
	if addr >= abi.TaskSizeMax || addr2 >= abi.TaskSizeMax {
		return 0, unix.EFAULT // get_futex_key: access_ok
	}
	opcode, cmp := (op>>28)&7, (op>>24)&15
	oparg, cmparg := int32(op<<8)>>20, int32(op<<20)>>20
	if op>>31 != 0 { // FUTEX_OP_OPARG_SHIFT
		oparg = 1 << (oparg & 31)
	}
	if opcode > 4 {
		return 0, unix.ENOSYS
	}
	ft := &t.k.futex
	ft.mu.Lock()
	defer ft.mu.Unlock()
	old, err := t.readWord(addr2)
	if err != nil {
		return 0, err
	}
	nv, arg := old, uint32(oparg)
	switch opcode {
	case 0:
		nv = arg
	case 1:
		nv = old + arg
	case 2:
		nv = old | arg
	case 3:
		nv = old &^ arg
	case 4:
		nv = old ^ arg
	}
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], nv)
	if err := t.CopyOut(addr2, b[:]); err != nil {
		return 0, err
	}
	o := int32(old)
	var pass bool
	switch cmp {
	case 0:
		pass = o == cmparg
	case 1:
		pass = o != cmparg
	case 2:
		pass = o < cmparg
	case 3:
		pass = o <= cmparg
	case 4:
		pass = o > cmparg
	case 5:
		pass = o >= cmparg
	default:
		return 0, unix.ENOSYS
	}
	woken := ft.wakeLocked(ft.key(t, addr, private), n, ^uint32(0))
	if pass {
		woken += ft.wakeLocked(ft.key(t, addr2, private), n2, ^uint32(0))
	}
	return woken, nil
}
