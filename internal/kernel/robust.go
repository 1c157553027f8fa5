package kernel

import "encoding/binary"

// Robust futex cleanup at thread exit. Linux: kernel/futex/core.c
// (exit_robust_list, handle_futex_death)
const (
	futexWaiters   = 0x80000000
	futexOwnerDied = 0x40000000
	futexTIDMask   = 0x3fffffff
	robustListMax  = 2048 // ROBUST_LIST_LIMIT
)

// exitRobustList marks every robust futex the dying thread still holds as
// owner-died and wakes one waiter of each.
func (t *Task) exitRobustList() {
	head, length := t.RobustList()
	if head == 0 || length != 24 || t.mm == nil || t.thread == nil {
		return
	}
	read := func(addr uint64) (uint64, bool) {
		var b [8]byte
		if t.mm.CopyIn(t.thread, addr, b[:]) != nil {
			return 0, false
		}
		return binary.LittleEndian.Uint64(b[:]), true
	}
	walkRobustList(head, read, t.futexDeath)
}

// walkRobustList walks the guest's struct robust_list_head at head, every
// word of which is untrusted: read fetches a guest word (false on a
// fault), death handles one futex word (false, for a fault or a
// misaligned word, ends the walk). Bit 0 of a list pointer marks a PI
// futex. At most robustListMax entries are visited, so a circular or
// endless list ends too; the pending entry (list_op_pending) is handled
// once, after the list, unless a fault ended the walk.
// Linux: kernel/futex/core.c (exit_robust_list)
func walkRobustList(head uint64, read func(uint64) (uint64, bool), death func(uaddr uint64, pi, pending bool) bool) {
	entry, ok := read(head)
	if !ok {
		return
	}
	off, ok := read(head + 8)
	if !ok {
		return
	}
	pending, ok := read(head + 16)
	if !ok {
		return
	}
	pi, pendingPI := entry&1 != 0, pending&1 != 0
	entry, pending = entry&^1, pending&^1
	for limit := robustListMax; entry != head; {
		// Fetch the next entry before the futex word is changed.
		next, ok := read(entry)
		if entry != pending && !death(entry+off, pi, false) {
			return
		}
		if !ok {
			return
		}
		entry, pi = next&^1, next&1 != 0
		if limit--; limit == 0 {
			break
		}
	}
	if pending != 0 {
		death(pending+off, pendingPI, true)
	}
}

// robustDeath is what happens to the futex word w of a dying thread tid:
// the new word to store (write), and whether one waiter is woken (wake).
// A word the thread owns gets FUTEX_OWNER_DIED, its FUTEX_WAITERS kept
// and its owner cleared; a pending non-PI lock that has no owner yet
// wakes a waiter, which may have missed an unlock. PI futexes are never
// woken here. Linux: kernel/futex/core.c (handle_futex_death)
func robustDeath(w, tid uint32, pi, pending bool) (nw uint32, write, wake bool) {
	owner := w & futexTIDMask
	if pending && !pi && owner == 0 {
		return w, false, true
	}
	if owner != tid {
		return w, false, false
	}
	return w&futexWaiters | futexOwnerDied, true, !pi && w&futexWaiters != 0
}

// futexDeath applies robustDeath to the futex word at addr; false for a
// misaligned or unreachable word.
func (t *Task) futexDeath(addr uint64, pi, pending bool) bool {
	if addr&3 != 0 {
		return false
	}
	var b [4]byte
	if t.mm.CopyIn(t.thread, addr, b[:]) != nil {
		return false
	}
	// The word holds the TID as the thread's own PID namespace sees it.
	w := binary.LittleEndian.Uint32(b[:])
	nw, write, wake := robustDeath(w, uint32(t.VPID(t.tid)), pi, pending)
	if write {
		binary.LittleEndian.PutUint32(b[:], nw)
		if t.mm.CopyOut(t.thread, addr, b[:]) != nil {
			return false
		}
	}
	if wake {
		t.FutexWake(addr, 1, ^uint32(0), false)
	}
	return true
}
