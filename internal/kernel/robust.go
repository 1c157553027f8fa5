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
	entry, ok1 := read(head)
	off, ok2 := read(head + 8)
	pending, ok3 := read(head + 16)
	if !ok1 || !ok2 || !ok3 {
		return
	}
	for n := 0; entry&^1 != head && n < robustListMax; n++ {
		next, ok := read(entry &^ 1)
		if !ok {
			return
		}
		if entry&^1 != pending&^1 {
			t.futexDeath(entry&^1 + off)
		}
		entry = next
	}
	if pending != 0 {
		t.futexDeath(pending&^1 + off)
	}
}

func (t *Task) futexDeath(addr uint64) {
	if addr&3 != 0 {
		return
	}
	var b [4]byte
	if t.mm.CopyIn(t.thread, addr, b[:]) != nil {
		return
	}
	w := binary.LittleEndian.Uint32(b[:])
	if w&futexTIDMask != uint32(t.tid) {
		return
	}
	binary.LittleEndian.PutUint32(b[:], w&futexWaiters|futexOwnerDied)
	if t.mm.CopyOut(t.thread, addr, b[:]) != nil {
		return
	}
	if w&futexWaiters != 0 {
		t.FutexWake(addr, 1, ^uint32(0), false)
	}
}
