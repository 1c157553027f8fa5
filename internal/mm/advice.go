package mm

import (
	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
)

// VMFlags are the per-VMA states madvise and mlock set.
type VMFlags uint32

const (
	VMDontFork    VMFlags = 1 << iota // MADV_DONTFORK: the child doesn't get the range (VM_DONTCOPY)
	VMWipeOnFork                      // MADV_WIPEONFORK: the child gets it empty
	VMLocked                          // mlock: pages are populated and never evicted
	VMLockOnFault                     // MLOCK_ONFAULT: locked as they are touched
	VMDontDump                        // MADV_DONTDUMP
	VMHugePage                        // MADV_HUGEPAGE
	VMNoHugePage                      // MADV_NOHUGEPAGE
	VMMergeable                       // MADV_MERGEABLE
	VMGrowsDown                       // MAP_GROWSDOWN: a fault just below extends it
	VMUffdMissing                     // userfaultfd: touching a missing page waits for the handler
	VMUffdWP                          // userfaultfd: writing a uffd-wp page waits for the handler
	VMNoMayWrite                      // a shared mapping of a file not open for writing: mprotect may not add PROT_WRITE (no VM_MAYWRITE)
	VMNoMayExec                       // a mapping of a file on a noexec mount: mprotect may not add PROT_EXEC (no VM_MAYEXEC)
)

// Advice values newer than x/sys/unix knows.
const (
	madvPopulateRead  = 22
	madvPopulateWrite = 23
	madvCollapse      = 25
)

// Madvise applies advice to [addr, addr+length). Advice that changes what
// memory holds (DONTNEED, FREE, REMOVE), what fork copies (DONTFORK,
// WIPEONFORK) or what is populated (WILLNEED, POPULATE_*) is carried out;
// hints about paging are recorded or accepted. A hole in the range gives
// ENOMEM after the advice was applied to the mapped parts, as on Linux.
// Linux: mm/madvise.c
func (m *MM) Madvise(mp Mapper, addr, length uint64, advice int) error {
	switch advice {
	case unix.MADV_NORMAL, unix.MADV_RANDOM, unix.MADV_SEQUENTIAL, unix.MADV_WILLNEED,
		unix.MADV_DONTNEED, unix.MADV_FREE, unix.MADV_REMOVE,
		unix.MADV_DONTFORK, unix.MADV_DOFORK, unix.MADV_WIPEONFORK, unix.MADV_KEEPONFORK,
		unix.MADV_MERGEABLE, unix.MADV_UNMERGEABLE, unix.MADV_HUGEPAGE, unix.MADV_NOHUGEPAGE,
		unix.MADV_DONTDUMP, unix.MADV_DODUMP, unix.MADV_COLD, unix.MADV_PAGEOUT,
		madvPopulateRead, madvPopulateWrite, madvCollapse:
	default: // MADV_HWPOISON and MADV_SOFT_OFFLINE too, as without CONFIG_MEMORY_FAILURE

		return unix.EINVAL
	}
	if addr&abi.PageMask != 0 {
		return unix.EINVAL
	}
	length, ok := abi.PageUp(length)
	end := addr + length
	if !ok || end < addr {
		return unix.EINVAL
	}
	if end == addr {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	hole := !m.vmas.covered(addr, end)
	if m.vmas.find(addr) == nil && !m.vmas.overlaps(addr, end) {
		return unix.ENOMEM
	}
	if err := m.checkAdvice(addr, end, advice); err != nil {
		return err
	}
	var err error
	switch advice {
	case unix.MADV_DONTNEED, unix.MADV_FREE:
		err = m.eachVMA(addr, end, func(v *VMA, lo, hi uint64) error {
			// Private pages revert to zero (anonymous) or to the file's
			// contents; shared pages keep their data.
			if v.Shared {
				return m.unmapHost(mp, lo, hi)
			}
			return m.dropPages(mp, lo, hi)
		})
	case unix.MADV_REMOVE:
		err = m.eachVMA(addr, end, func(v *VMA, lo, hi uint64) error {
			p := v.File.(HolePuncher)
			off := v.fileOffset(lo)
			// Punching invalidates every mapping of the object, this one
			// included (pending until its task next runs).
			m.mu.Unlock()
			err := punchAndInvalidate(p, v.File, off, hi-lo)
			m.mu.Lock()
			if err == nil {
				err = m.applyPendingLocked(mp)
			}
			return err
		})
	case unix.MADV_WILLNEED, madvPopulateRead, madvPopulateWrite:
		err = m.eachVMA(addr, end, func(v *VMA, lo, hi uint64) error {
			if advice == unix.MADV_WILLNEED && v.File == nil {
				return nil // nothing to read ahead for anonymous memory
			}
			if v.File != nil {
				hi = min(hi, m.eofAddr(v))
				if hi <= lo {
					if advice == unix.MADV_WILLNEED {
						return nil
					}
					return unix.EFAULT
				}
			}
			if e := m.fill(v, lo, hi); e != nil {
				return e
			}
			if advice == madvPopulateWrite && !v.Shared {
				for a := lo; a < hi; a += abi.PageSize {
					if e := m.ownPage(mp, v, a); e != nil {
						return e
					}
				}
			}
			return nil
		})
	case unix.MADV_DONTFORK, unix.MADV_DOFORK, unix.MADV_WIPEONFORK, unix.MADV_KEEPONFORK,
		unix.MADV_DONTDUMP, unix.MADV_DODUMP, unix.MADV_HUGEPAGE, unix.MADV_NOHUGEPAGE,
		unix.MADV_MERGEABLE, unix.MADV_UNMERGEABLE:
		set, clr := adviceFlags(advice)
		m.setFlags(addr, end, set, clr)
	}
	if err == nil && hole {
		err = unix.ENOMEM
	}
	return err
}

// checkAdvice rejects advice a VMA in [addr, end) cannot take, before
// anything is changed. Linux: mm/madvise.c (madvise_vma_behavior)
func (m *MM) checkAdvice(addr, end uint64, advice int) error {
	return m.eachVMA(addr, end, func(v *VMA, lo, hi uint64) error {
		switch advice {
		case unix.MADV_DONTNEED, unix.MADV_COLD, unix.MADV_PAGEOUT:
			if v.Flags&VMLocked != 0 {
				return unix.EINVAL
			}
		case unix.MADV_FREE:
			if v.Flags&VMLocked != 0 || v.File != nil {
				return unix.EINVAL
			}
		case unix.MADV_WIPEONFORK:
			if v.File != nil || v.Shared {
				return unix.EINVAL
			}
		case unix.MADV_REMOVE:
			// Linux: mm/madvise.c (madvise_remove)
			if v.Flags&VMLocked != 0 || v.File == nil {
				return unix.EINVAL
			}
			if !v.Shared || !writableObject(v.File) {
				return unix.EACCES
			}
			if _, ok := v.File.(HolePuncher); !ok {
				return unix.EOPNOTSUPP
			}
		}
		return nil
	})
}

func adviceFlags(advice int) (set, clr VMFlags) {
	switch advice {
	case unix.MADV_DONTFORK:
		return VMDontFork, 0
	case unix.MADV_DOFORK:
		return 0, VMDontFork
	case unix.MADV_WIPEONFORK:
		return VMWipeOnFork, 0
	case unix.MADV_KEEPONFORK:
		return 0, VMWipeOnFork
	case unix.MADV_DONTDUMP:
		return VMDontDump, 0
	case unix.MADV_DODUMP:
		return 0, VMDontDump
	case unix.MADV_HUGEPAGE:
		return VMHugePage, VMNoHugePage
	case unix.MADV_NOHUGEPAGE:
		return VMNoHugePage, VMHugePage
	case unix.MADV_MERGEABLE:
		return VMMergeable, 0
	case unix.MADV_UNMERGEABLE:
		return 0, VMMergeable
	}
	return 0, 0
}

// eachVMA calls fn for the part [lo, hi) of each VMA inside [start, end),
// in address order, stopping at the first error. fn may change m.vmas
// only by calling m.mu.Unlock/Lock around object calls.
func (m *MM) eachVMA(start, end uint64, fn func(v *VMA, lo, hi uint64) error) error {
	for a := start; a < end; {
		i := m.vmas.firstEndingAfter(a)
		if i >= len(m.vmas.v) || m.vmas.v[i].Start >= end {
			return nil
		}
		v := m.vmas.v[i]
		lo, hi := max(v.Start, a), min(v.End, end)
		if err := fn(v, lo, hi); err != nil {
			return err
		}
		a = hi
	}
	return nil
}

// setFlags sets and clears VMA flags over [start, end), splitting VMAs at
// the edges and merging what became alike.
func (m *MM) setFlags(start, end uint64, set, clr VMFlags) {
	i, j := m.vmas.carve(start, end)
	for k := i; k < j; k++ {
		m.vmas.v[k].Flags = m.vmas.v[k].Flags&^clr | set
	}
	for k := j; k >= i-1 && k >= 0; k-- {
		if k < len(m.vmas.v) {
			m.vmas.mergeAround(k)
		}
	}
}

// eofAddr is the address in v just past the last page of its object.
func (m *MM) eofAddr(v *VMA) uint64 {
	eof := pageRoundUp(v.File.Size())
	if eof <= v.Off {
		return v.Start
	}
	return min(v.End, v.Start+(eof-v.Off))
}
