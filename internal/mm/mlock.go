package mm

import (
	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
)

// Locked memory. A VMA with VMLocked has its pages populated when it is
// locked (or, with VMLockOnFault, as they are touched) and swap must never
// take them away: ask IsLocked, or look at VMA.Flags&VMLocked under MM.mu.
// Locked bytes are the sizes of locked VMAs (Linux's mm->locked_vm), shown
// as VmLck in /proc/PID/status. Linux: mm/mlock.c

// mlockall flags not in x/sys/unix on every version.
const (
	mclCurrent   = 1
	mclFuture    = 2
	mclOnFault   = 4
	mlockOnFault = 1
)

// lockState is embedded in MM.
type lockState struct {
	defFlags VMFlags // mlockall(MCL_FUTURE): flags new VMAs get
}

// MemlockLimit is what the caller may lock: the RLIMIT_MEMLOCK soft limit
// in bytes, and whether it has CAP_IPC_LOCK (no limit).
type MemlockLimit struct {
	Bytes   uint64
	Capable bool
}

func (l MemlockLimit) check() error {
	if l.Bytes == 0 && !l.Capable {
		return unix.EPERM // Linux: can_do_mlock
	}
	return nil
}

// lockRange rounds mlock's arguments as Linux does: the start down, the
// length to cover the partial first page.
func lockRange(addr, length uint64) (uint64, uint64, bool) {
	l, ok := abi.PageUp(length + addr&abi.PageMask)
	start := abi.PageDown(addr)
	if !ok || start+l < start {
		return 0, 0, false
	}
	return start, start + l, true
}

// Mlock locks [addr, addr+length) (mlock, mlock2 with flags). The
// allowance is checked before the range: a length that wraps is ENOMEM
// to a caller the limit binds, EINVAL to one it does not.
// Linux: mm/mlock.c (do_mlock, apply_vma_lock_flags)
func (m *MM) Mlock(addr, length uint64, flags int, lim MemlockLimit) error {
	if flags&^mlockOnFault != 0 {
		return unix.EINVAL
	}
	if err := lim.check(); err != nil {
		return err
	}
	start := abi.PageDown(addr)
	l := (length + addr&abi.PageMask + abi.PageMask) &^ abi.PageMask // PAGE_ALIGN, wrapping as Linux's
	end := start + l
	m.mu.Lock()
	defer m.mu.Unlock()
	if !lim.Capable {
		locked := l>>abi.PageShift + m.lockedBytesLocked()>>abi.PageShift
		if locked > lim.Bytes>>abi.PageShift && end > start {
			locked -= m.lockedIn(start, end) >> abi.PageShift
		}
		if locked > lim.Bytes>>abi.PageShift {
			return unix.ENOMEM
		}
	}
	if end < start {
		return unix.EINVAL
	}
	if start == end {
		return nil
	}
	set := VMLocked
	if flags&mlockOnFault != 0 {
		set |= VMLockOnFault
	}
	// Up to a hole the range is locked (not populated) and the call is
	// ENOMEM. Linux: mm/mlock.c (apply_vma_lock_flags)
	if reach := m.vmas.reach(start, end); reach < end {
		if reach > start {
			m.setFlags(start, reach, set, VMLockOnFault&^set)
		}
		return unix.ENOMEM
	}
	m.setFlags(start, end, set, VMLockOnFault&^set)
	if flags&mlockOnFault == 0 {
		m.populateLocked(start, end)
	}
	return nil
}

// Munlock unlocks [addr, addr+length).
func (m *MM) Munlock(addr, length uint64) error {
	start, end, ok := lockRange(addr, length)
	if !ok {
		return unix.EINVAL
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if start == end {
		return nil
	}
	reach := m.vmas.reach(start, end)
	if reach > start {
		m.setFlags(start, reach, 0, VMLocked|VMLockOnFault)
	}
	if reach < end {
		return unix.ENOMEM
	}
	return nil
}

// Mlockall locks every VMA (MCL_CURRENT) and/or those to come (MCL_FUTURE).
func (m *MM) Mlockall(flags int, lim MemlockLimit) error {
	if flags == 0 || flags&^(mclCurrent|mclFuture|mclOnFault) != 0 || flags == mclOnFault {
		return unix.EINVAL
	}
	if err := lim.check(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if flags&mclCurrent != 0 && !lim.Capable {
		// Refused before MCL_FUTURE takes effect. Linux: mm/mlock.c (mlockall)
		var total uint64
		for _, v := range m.vmas.v {
			total += v.End - v.Start
		}
		if total>>abi.PageShift > lim.Bytes>>abi.PageShift {
			return unix.ENOMEM
		}
	}
	set := VMLocked
	if flags&mclOnFault != 0 {
		set |= VMLockOnFault
	}
	m.defFlags = 0
	if flags&mclFuture != 0 {
		m.defFlags = set
	}
	if flags&mclCurrent == 0 {
		return nil
	}
	m.setFlags(0, m.layout.TaskSize, set, VMLockOnFault&^set)
	if flags&mclOnFault == 0 {
		m.populateLocked(0, m.layout.TaskSize)
	}
	return nil
}

// Munlockall unlocks everything and forgets MCL_FUTURE.
func (m *MM) Munlockall() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.defFlags = 0
	m.setFlags(0, m.layout.TaskSize, 0, VMLocked|VMLockOnFault)
	return nil
}

// populateLocked gives the accessible pages of [start, end) frames, each
// private writable page its own (as a write would), without mapping them
// in the host: the guest's first touch still maps them. Failures are
// ignored, as Linux's mlock ignores them once the range is locked.
func (m *MM) populateLocked(start, end uint64) {
	m.eachVMA(start, end, func(v *VMA, lo, hi uint64) error {
		if v.Prot == unix.PROT_NONE {
			return nil
		}
		if v.File != nil {
			hi = min(hi, m.eofAddr(v))
		}
		if hi <= lo || m.fill(v, lo, hi) != nil {
			return nil
		}
		if !v.Shared && v.Prot&unix.PROT_WRITE != 0 {
			for a := lo; a < hi; a += abi.PageSize {
				if p := m.pt.get(a); p.present() && m.mf.Refs(p.frame()) > 1 {
					if p.mapped() {
						continue // the host maps it: a write fault will copy it
					}
					if err := m.ownPage(nil, v, a); err != nil {
						return nil
					}
				}
			}
		}
		return nil
	})
}

// lockedBytesLocked is the size of the locked VMAs.
func (m *MM) lockedBytesLocked() uint64 {
	var n uint64
	for _, v := range m.vmas.v {
		if v.Flags&VMLocked != 0 {
			n += v.End - v.Start
		}
	}
	return n
}

// lockedIn is how much of [start, end) is locked already.
func (m *MM) lockedIn(start, end uint64) uint64 {
	var n uint64
	m.eachVMA(start, end, func(v *VMA, lo, hi uint64) error {
		if v.Flags&VMLocked != 0 {
			n += hi - lo
		}
		return nil
	})
	return n
}

// LockedBytes is VmLck: the size of the locked VMAs.
func (m *MM) LockedBytes() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lockedBytesLocked()
}

// IsLocked reports whether the page at addr lies in a locked VMA (swap
// must leave it alone). Callers holding MM.mu check VMA.Flags instead.
func (m *MM) IsLocked(addr uint64) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	v := m.vmas.find(addr)
	return v != nil && v.Flags&VMLocked != 0
}

// newVMAFlags is what a new VMA starts with (mlockall(MCL_FUTURE)).
func (m *MM) newVMAFlags() VMFlags { return m.defFlags }

// lockAllowed is mmap's check of a mapping that is to be locked (flags
// has VMLocked from MAP_LOCKED or mlockall(MCL_FUTURE)) against the
// caller's allowance r.Lock: MAP_LOCKED without any allowance is EPERM,
// more than RLIMIT_MEMLOCK locked in all is EAGAIN. Called with m.mu held.
// Linux: mm/mmap.c (do_mmap, mlock_future_ok)
func (m *MM) lockAllowed(r MapRequest, flags VMFlags, length uint64) error {
	if r.Lock == nil {
		return nil
	}
	if r.Flags&VMLocked != 0 {
		if err := r.Lock.check(); err != nil {
			return err
		}
	}
	if flags&VMLocked == 0 || r.Lock.Capable {
		return nil
	}
	if (m.lockedBytesLocked()+length)>>abi.PageShift > r.Lock.Bytes>>abi.PageShift {
		return unix.EAGAIN
	}
	return nil
}
