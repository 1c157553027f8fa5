package kernel

import (
	"encoding/binary"
	"testing"
)

// fakeRobustMem is guest memory for the robust-list walk: mem mapped at
// robustBase, everything else faults.
const robustBase = 0x10000

type fakeRobustMem struct {
	mem   []byte
	reads []uint64 // addresses read, in order
	vals  []uint64 // what each read gave
	oks   []bool   // whether it worked
}

func (m *fakeRobustMem) in(addr, n uint64) bool {
	return addr >= robustBase && addr-robustBase <= uint64(len(m.mem)) && uint64(len(m.mem))-(addr-robustBase) >= n
}

func (m *fakeRobustMem) read(addr uint64) (uint64, bool) {
	var v uint64
	ok := m.in(addr, 8)
	if ok {
		v = binary.LittleEndian.Uint64(m.mem[addr-robustBase:])
	}
	m.reads, m.vals, m.oks = append(m.reads, addr), append(m.vals, v), append(m.oks, ok)
	return v, ok
}

// robustSeed lays out a robust_list_head at offset 0 and n list entries
// after it, each 32 bytes with its futex word off bytes from the node.
func robustSeed(n int, off int64, tid uint32, pendingIdx int, pi bool) []byte {
	b := make([]byte, 32+32*n)
	le := binary.LittleEndian
	node := func(i int) uint64 { return robustBase + 32 + 32*uint64(i) + 16 }
	next := uint64(robustBase) // back to the head
	for i := n - 1; i >= 0; i-- {
		le.PutUint64(b[node(i)-robustBase:], next)
		le.PutUint32(b[int64(node(i)-robustBase)+off:], tid|futexWaiters)
		next = node(i)
		if pi {
			next |= 1
		}
	}
	le.PutUint64(b[0:], next)
	le.PutUint64(b[8:], uint64(off))
	if pendingIdx >= 0 && pendingIdx < n {
		le.PutUint64(b[16:], node(pendingIdx))
	}
	return b
}

// FuzzRobustList: the exit-time walk of a guest robust list in memory the
// fuzzer writes never panics, reads at most ROBUST_LIST_LIMIT entries,
// follows the list as written (each read is the address the previous
// one pointed to, the head ends it), handles the pending entry once and
// last, stops for good when a futex word cannot be handled, and only
// ever turns a word the dying thread owns into an owner-died word with
// its waiters bit kept.
func FuzzRobustList(f *testing.F) {
	f.Add(robustSeed(3, -16, 42, -1, false), uint16(0), uint32(42))
	f.Add(robustSeed(3, -16, 42, 1, false), uint16(0), uint32(42))
	f.Add(robustSeed(4, -16, 42, 3, true), uint16(0), uint32(42))
	f.Add(robustSeed(2, 8, 42, -1, false), uint16(0), uint32(7))
	f.Add(robustSeed(2, -14, 42, 0, false), uint16(0), uint32(42)) // misaligned words
	f.Add(robustSeed(0, 0, 0, -1, false), uint16(0), uint32(1))
	cyc := robustSeed(3, -16, 42, -1, false)
	binary.LittleEndian.PutUint64(cyc[32*3+16:], robustBase+32+16) // last points to the first: a cycle
	f.Add(cyc, uint16(0), uint32(42))
	f.Add([]byte{1, 2, 3}, uint16(0), uint32(0))
	f.Fuzz(func(t *testing.T, mem []byte, headOff uint16, tid uint32) {
		if len(mem) > 1<<16 {
			mem = mem[:1<<16]
		}
		// A thread's TID is never 0 and fits the word's TID bits.
		tid = max(tid&futexTIDMask, 1)
		m := &fakeRobustMem{mem: append([]byte(nil), mem...)} // the walk writes futex words
		head := robustBase + uint64(headOff)
		type call struct {
			uaddr       uint64
			pi, pending bool
			ok          bool
			reads       int
		}
		var calls []call
		stopped := false
		death := func(uaddr uint64, pi, pending bool) bool {
			if stopped {
				t.Fatalf("futex 0x%x handled after the walk was ended", uaddr)
			}
			c := call{uaddr: uaddr, pi: pi, pending: pending, reads: len(m.reads)}
			if uaddr&3 == 0 && m.in(uaddr, 4) {
				w := binary.LittleEndian.Uint32(m.mem[uaddr-robustBase:])
				nw, write, wake := robustDeath(w, tid, pi, pending)
				owner := w & futexTIDMask
				switch {
				case write && (owner != tid || nw != w&futexWaiters|futexOwnerDied):
					t.Fatalf("word 0x%x of tid %d rewritten to 0x%x", w, tid, nw)
				case !write && owner == tid:
					t.Fatalf("word 0x%x owned by the dying tid %d left as is", w, tid)
				case wake && pi:
					t.Fatalf("PI futex 0x%x woken", uaddr)
				case wake && !(write && w&futexWaiters != 0 || pending && owner == 0):
					t.Fatalf("word 0x%x (pending %v) woken for no reason", w, pending)
				}
				if write {
					binary.LittleEndian.PutUint32(m.mem[uaddr-robustBase:], nw)
				}
				c.ok = true
			}
			calls = append(calls, c)
			stopped = !c.ok
			return c.ok
		}
		walkRobustList(head, m.read, death)

		if len(m.reads) > 3+robustListMax {
			t.Fatalf("%d reads for a list bounded at %d entries", len(m.reads), robustListMax)
		}
		if len(calls) > robustListMax+1 {
			t.Fatalf("%d futex words handled", len(calls))
		}
		// The first three reads are the head's words, in order, each
		// only if the one before it worked.
		for i, r := range m.reads[:min(3, len(m.reads))] {
			if r != head+8*uint64(i) {
				t.Fatalf("read %d at 0x%x, want head word 0x%x", i, r, head+8*uint64(i))
			}
		}
		if len(m.reads) < 3 {
			if len(calls) > 0 {
				t.Fatalf("futex words handled without a readable head")
			}
			return
		}
		// The walk sees memory as it is when it reads it (a futex word it
		// rewrote may be a later entry's pointer).
		first, off, pending := m.vals[0], m.vals[1], m.vals[2]
		// The list is followed as read: each entry read is what the one
		// before pointed to (PI bit cleared), and never the head itself.
		for i := 3; i < len(m.reads); i++ {
			prev := m.vals[i-1]
			if i == 3 {
				prev = first
			}
			if r := m.reads[i]; r != prev&^1 {
				t.Fatalf("read %d at 0x%x, the list says 0x%x", i, r, prev&^1)
			} else if r == head {
				t.Fatalf("the walk went past the head at read %d", i)
			}
			if !m.oks[i] && i != len(m.reads)-1 {
				t.Fatalf("the walk went on after a fault at 0x%x", m.reads[i])
			}
		}
		for i, c := range calls {
			if c.pending {
				if i != len(calls)-1 || c.uaddr != pending&^1+off || c.pi != (pending&1 != 0) {
					t.Fatalf("pending call %d of %d: %+v, pending 0x%x off 0x%x", i, len(calls), c, pending, off)
				}
				continue
			}
			entry := m.reads[c.reads-1]
			if c.uaddr != entry+off || entry == pending&^1 {
				t.Fatalf("list call %+v for entry 0x%x (off 0x%x, pending 0x%x)", c, entry, off, pending)
			}
		}
		last := len(m.reads) - 1
		walkEnded := len(m.reads) == 3+robustListMax || last == 2 && first&^1 == head ||
			last >= 3 && m.oks[last] && m.vals[last]&^1 == head
		if pending&^1 != 0 && walkEnded && !stopped && (len(calls) == 0 || !calls[len(calls)-1].pending) {
			t.Fatalf("pending 0x%x not handled at the end of a complete walk", pending)
		}
	})
}
