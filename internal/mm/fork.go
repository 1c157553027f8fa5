package mm

import (
	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/memfile"
)

// Fork returns a copy of m for a child process. VMAs are duplicated;
// every backed page is shared with the child (one more frame reference),
// so private pages become copy-on-write in both: the parent's host
// mappings of them are write-protected through mp, and the child starts
// with nothing host-mapped (its stub is new). Shared VMAs stay shared.
// Linux: kernel/fork.c (dup_mmap), mm/memory.c (copy_pte_range)
func (m *MM) Fork(mp Mapper) (*MM, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.has.Load() {
		// Don't hand the child pages that are being invalidated.
		if err := m.applyPendingLocked(mp); err != nil {
			return nil, err
		}
	}
	c := New(m.mf, m.layout)
	c.brkStart, c.brk, c.mmapBase = m.brkStart, m.brk, m.mmapBase
	c.users = 1
	c.swap, c.clock = m.swap, m.clock
	c.pkeys = m.pkeys
	for _, v := range m.vmas.v {
		if v.Flags&VMDontFork != 0 {
			continue
		}
		nv := *v
		// Locks are not inherited. Linux: kernel/fork.c (dup_mmap)
		nv.Flags &^= VMLocked | VMLockOnFault
		// Without UFFD_FEATURE_EVENT_FORK (not offered) the child's
		// VMAs are not registered. Linux: fs/userfaultfd.c (dup_userfaultfd)
		nv.Flags &^= VMUffdMissing | VMUffdWP
		nv.Uffd = nil
		if nv.File != nil {
			objRef(nv.File)
		}
		c.vmas.v = append(c.vmas.v, &nv)
	}
	for k, l := range m.pt.leaves {
		nl := &ptLeaf{used: l.used}
		keep := nl.used > 0
		for i, p := range l.e {
			if p.swapped() {
				m.swap.ref(p.slot())
				nl.e[i], keep = p, true
			}
			if !p.present() {
				continue
			}
			m.mf.IncRef(p.frame())
			nl.e[i] = p &^ (pteMapped | pteMapW | pteUffdWP)
		}
		if keep {
			c.pt.leaves[k] = nl
			c.pt.resident += uint64(nl.used)
		}
	}
	c.pt.peak = c.pt.resident // the child's high-water mark starts here
	// The child has no pages where it has no VMA (MADV_DONTFORK) or gets
	// the VMA empty (MADV_WIPEONFORK).
	for _, v := range m.vmas.v {
		if v.Flags&(VMDontFork|VMWipeOnFork) != 0 {
			c.dropPages(nil, v.Start, v.End)
		}
	}
	kept, err := m.copyPinned(c)
	if err == nil {
		err = m.forkPatches(c)
	}
	if err != nil {
		c.Release()
		return nil, err
	}
	// Write-protect the parent's writable host mappings of private pages,
	// one host mprotect per contiguous run.
	for _, v := range m.vmas.v {
		if v.Shared || v.Prot&unix.PROT_WRITE == 0 {
			continue
		}
		if err := m.protectRuns(mp, v.Start, v.End, v.Prot&^unix.PROT_WRITE, kept); err != nil {
			c.Release() // its frame references and its place among live spaces
			return nil, err
		}
	}
	return c, nil
}

// copyPinned gives the child its own copy, made now, of every private
// writable page whose frame is pinned for I/O, and leaves the parent's
// page as it is (writable, not copy-on-write). A pin outlives m.mu: a
// read(2) blocked in one thread writes into its pinned frame whenever the
// data comes, possibly after another thread forked. Were the frame shared,
// the parent's next write would copy the page as it was before the data
// arrived and the data would reach the child alone. It returns the pages
// the parent keeps writable.
// Linux: mm/memory.c (copy_present_page: pinned anonymous pages are
// copied at fork)
func (m *MM) copyPinned(c *MM) (map[uint64]bool, error) {
	if m.mf.PinnedFrames() == 0 {
		// Only this address space's own tasks pin its frames, and they
		// need m.mu to do it.
		return nil, nil
	}
	var kept map[uint64]bool
	var err error
	for _, v := range m.vmas.v {
		if v.Shared || v.Prot&unix.PROT_WRITE == 0 || v.Flags&(VMDontFork|VMWipeOnFork) != 0 {
			continue
		}
		m.pt.forRange(v.Start, v.End, func(a uint64, p pte) {
			if err != nil || !p.present() || !m.mf.Pinned(p.frame()) {
				return
			}
			var nf memfile.Frame
			if nf, err = m.mf.Alloc(1); err != nil {
				return
			}
			copy(m.mf.Bytes(nf, 1), m.mf.Bytes(p.frame(), 1))
			m.mf.DecRef(p.frame(), 1) // the child's reference, taken above
			c.pt.set(a, mkpte(nf))
			if kept == nil {
				kept = map[uint64]bool{}
			}
			kept[a] = true
		})
	}
	return kept, err
}

// protectRuns write-protects the host-writable pages of [start, end),
// except those in keep.
func (m *MM) protectRuns(mp Mapper, start, end uint64, prot int, keep map[uint64]bool) error {
	lo, hi := uint64(0), uint64(0)
	flush := func() error {
		if hi > lo {
			m.stats.HostMaps++
			if err := mp.Protect(lo, hi-lo, prot); err != nil {
				return err
			}
		}
		lo, hi = 0, 0
		return nil
	}
	var err error
	m.pt.forRange(start, end, func(a uint64, p pte) {
		if err != nil || !p.mappedWritable() || keep[a] {
			return
		}
		if hi != a {
			if err = flush(); err != nil {
				return
			}
			lo = a
		}
		hi = a + abi.PageSize
		m.pt.set(a, p&^pteMapW)
	})
	if err != nil {
		return err
	}
	return flush()
}
