package mm

import (
	"errors"

	"glassbox/internal/abi"
	"glassbox/internal/memfile"
)

// Reclaim: what happens when the memory file is at its limit (--memory).
//
// A fault (or a kernel access with a live thread) that needs frames the
// limit does not allow first swaps out pages of its own address space, if
// a swap area is set: private pages that no one else references, oldest
// address first from a clock hand that moves on with every pass. Each is
// written to a swap slot, unmapped from the host, its frame freed and its
// pte turned into a swap entry; the next touch reads it back (a major
// fault). Only the faulting address space is scanned, because in the
// ptrace platform only a task's own thread can change its host mappings.
// When nothing can be swapped, the error reaches the kernel, whose OOM
// killer picks a victim.
// Linux: mm/vmscan.c (shrink_folio_list), mm/memory.c (do_swap_page)

// evictBatch is how many pages one reclaim pass tries to swap out: enough
// that a sequential toucher does not reclaim on every fault window.
const evictBatch = 1024

// reclaimTries bounds swap-out passes for one allocation.
const reclaimTries = 4

// SetSwap gives the address space a swap area (nil: none). Forks inherit it.
func (m *MM) SetSwap(s *Swap) {
	m.mu.Lock()
	m.swap = s
	m.mu.Unlock()
}

// withReclaim runs fn, and while it fails for want of frames swaps out
// pages outside [keepLo, keepHi) (the window fn fills around page) and
// runs it again. If that is not enough, the last try narrows fault
// windows to page alone and may evict the rest of the window. m.mu is
// held.
func (m *MM) withReclaim(mp Mapper, page, keepLo, keepHi uint64, fn func() error) error {
	err := fn()
	for try := 0; try < reclaimTries && errors.Is(err, memfile.ErrLimit); try++ {
		if m.evictLocked(mp, evictBatch, keepLo, keepHi) == 0 {
			break
		}
		err = fn()
	}
	if errors.Is(err, memfile.ErrLimit) {
		m.narrow = true
		m.evictLocked(mp, evictBatch, page, page+abi.PageSize)
		err = fn()
		m.narrow = false
	}
	return err
}

// evictLocked swaps out up to want pages and returns how many it did.
func (m *MM) evictLocked(mp Mapper, want int, keepLo, keepHi uint64) int {
	if m.swap == nil || mp == nil {
		return 0
	}
	var cand []uint64
	scan := func(from, to uint64) {
		for _, v := range m.vmas.v {
			if len(cand) >= want {
				return
			}
			if v.Shared || v.Flags&VMLocked != 0 || v.End <= from || v.Start >= to {
				continue
			}
			m.pt.forRange(max(v.Start, from), min(v.End, to), func(a uint64, p pte) {
				if len(cand) >= want || !p.present() || a >= keepLo && a < keepHi {
					return
				}
				if fr := p.frame(); m.mf.Refs(fr) != 1 || m.mf.Pinned(fr) {
					return
				}
				cand = append(cand, a)
			})
		}
	}
	scan(m.clock, m.layout.TaskSize)
	if len(cand) < want {
		scan(0, m.clock)
	}
	done := 0
	for i := 0; i < len(cand); {
		j := i + 1
		for j < len(cand) && cand[j] == cand[j-1]+abi.PageSize {
			j++
		}
		n, full := m.swapOutRun(mp, cand[i], cand[j-1]+abi.PageSize)
		done += n
		if full {
			break
		}
		i = j
	}
	if done > 0 {
		m.clock = cand[done-1] + abi.PageSize
	}
	return done
}

// swapOutRun swaps out the present pages [start, end); full reports that
// the swap area ran out (or failed) before the end.
func (m *MM) swapOutRun(mp Mapper, start, end uint64) (int, bool) {
	if err := m.unmapHost(mp, start, end); err != nil {
		return 0, true
	}
	run := frameRun{mf: m.mf}
	defer run.flush()
	done := 0
	for a := start; a < end; {
		left := (end - a) >> abi.PageShift
		slot, got := m.swap.alloc(left)
		if got == 0 {
			return done, true
		}
		bufs := make([][]byte, got)
		for i := range bufs {
			bufs[i] = m.mf.Bytes(m.pt.get(a+uint64(i)<<abi.PageShift).frame(), 1)
		}
		if err := m.swap.write(slot, bufs); err != nil {
			m.swap.unref(slot, got)
			return done, true
		}
		for i := uint64(0); i < got; i++ {
			pa := a + i<<abi.PageShift
			run.add(m.pt.get(pa).frame())
			m.pt.set(pa, mkswp(slot+i))
		}
		m.stats.SwapOuts += got
		done += int(got)
		a += got << abi.PageShift
	}
	return done, false
}

// swapIn reads back the run of swapped pages that starts at a (up to hi)
// and returns how many pages it brought in. Slots that another address
// space also names are copied, not taken.
func (m *MM) swapIn(a, hi uint64) (uint64, error) {
	n := uint64(1)
	first := m.pt.get(a).slot()
	for a+n<<abi.PageShift < hi {
		q := m.pt.get(a + n<<abi.PageShift)
		if !q.swapped() || q.slot() != first+n {
			break
		}
		n++
	}
	fr, err := m.mf.Alloc(n)
	if err != nil {
		return 0, err
	}
	bufs := make([][]byte, n)
	for i := range bufs {
		bufs[i] = m.mf.Bytes(fr+memfile.Frame(i), 1)
	}
	if err := m.swap.read(first, bufs); err != nil {
		m.mf.DecRef(fr, n)
		return 0, err
	}
	m.swap.unref(first, n)
	for i := uint64(0); i < n; i++ {
		m.pt.set(a+i<<abi.PageShift, mkpte(fr+memfile.Frame(i)))
	}
	m.stats.MajorFaults++
	m.stats.SwapIns += n
	return n, nil
}

// dropSwapEntry frees the slot a swapped pte names.
func (m *MM) dropSwapEntry(p pte) {
	if p.swapped() && m.swap != nil {
		m.swap.unref(p.slot(), 1)
	}
}

// WalkSwapped calls fn for each page of [start, end) whose contents are in
// swap.
func (m *MM) WalkSwapped(start, end uint64, fn func(addr uint64)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pt.forRange(start, end, func(a uint64, p pte) {
		if p.swapped() {
			fn(a)
		}
	})
}

// Swapped counts the pages whose contents are in swap (VmSwap).
func (m *MM) Swapped() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	var n uint64
	for _, l := range m.pt.leaves {
		for _, p := range l.e {
			if p.swapped() {
				n++
			}
		}
	}
	return n
}
