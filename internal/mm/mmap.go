package mm

import (
	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
)

// Lowest address a guest may map (vm.mmap_min_addr).
const MinAddr = 0x10000

// MapRequest is one mmap call, already decoded.
type MapRequest struct {
	Addr, Length uint64
	Prot         int
	Fixed        bool // MAP_FIXED: replace whatever is there
	NoReplace    bool // MAP_FIXED_NOREPLACE
	Shared       bool
	File         Mappable // nil: anonymous private memory
	Off          uint64
	Name         string
	Dev, Ino     uint64
	Flags        VMFlags // VMLocked for MAP_LOCKED
	Populate     bool    // MAP_POPULATE
	// Lock, when set, is the caller's mlock allowance: MAP_LOCKED (and
	// mlockall(MCL_FUTURE)) mappings are refused beyond it.
	Lock *MemlockLimit
	// Err, when set, is returned once the address checks pass: mmap's
	// checks of the file and the mapping type come after them.
	// Linux: mm/mmap.c (do_mmap)
	Err error
	// Limits, when set, are the caller's RLIMIT_AS and RLIMIT_DATA.
	Limits *AddressLimits
	// Account says the mapping is charged to the commit total (private
	// writable memory or shared anonymous memory without MAP_NORESERVE):
	// one larger than the host's memory is ENOMEM.
	Account bool
}

// Mmap creates a VMA and returns its address. Nothing is backed or mapped
// until the guest touches it.
func (m *MM) Mmap(mp Mapper, r MapRequest) (uint64, error) {
	if r.Length == 0 || r.Off&abi.PageMask != 0 {
		return 0, unix.EINVAL
	}
	length, ok := abi.PageUp(r.Length)
	if !ok || length > m.layout.TaskSize {
		return 0, unix.ENOMEM
	}
	if r.Off+length < r.Off {
		return 0, unix.EOVERFLOW
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var addr uint64
	switch {
	case r.Fixed || r.NoReplace:
		if r.Addr&abi.PageMask != 0 {
			return 0, unix.EINVAL
		}
		if r.Addr < MinAddr && r.Addr != 0 || r.Addr+length > m.layout.TaskSize || r.Addr+length < r.Addr {
			return 0, unix.ENOMEM
		}
		if r.Addr < MinAddr {
			return 0, unix.EPERM
		}
		if r.NoReplace && m.vmas.overlaps(r.Addr, r.Addr+length) {
			return 0, unix.EEXIST
		}
		addr = r.Addr
	default:
		a, err := m.findFree(abi.PageDown(r.Addr), length)
		if err != nil {
			return 0, err
		}
		addr = a
	}
	if err := m.collide(mp, addr, addr+length); err != nil {
		return 0, err
	}
	flags := r.Flags | m.newVMAFlags()
	if err := m.lockAllowed(r, flags, length); err != nil {
		return 0, err
	}
	if r.Err != nil {
		return 0, r.Err
	}
	if r.Limits != nil {
		var start, end uint64 // what a fixed mapping replaces
		if r.Fixed || r.NoReplace {
			start, end = addr, addr+length
		}
		if !m.mayExpandLocked(*r.Limits, length, isData(r.Prot, r.Shared, flags, r.Name), start, end) {
			return 0, unix.ENOMEM // Linux: mm/vma.c (__mmap_region)
		}
	}
	if r.Account && overcommitted(length) {
		return 0, unix.ENOMEM
	}
	if r.Fixed || r.NoReplace {
		if err := m.unmapLocked(mp, addr, addr+length); err != nil {
			return 0, err
		}
	}
	m.vmas.insert(&VMA{Start: addr, End: addr + length, Prot: r.Prot & (unix.PROT_READ | unix.PROT_WRITE | unix.PROT_EXEC),
		Shared: r.Shared, File: r.File, Off: r.Off, Name: r.Name, Dev: r.Dev, Ino: r.Ino, Flags: flags})
	if r.Populate || flags&(VMLocked|VMLockOnFault) == VMLocked {
		m.populateLocked(addr, addr+length)
	}
	return addr, nil
}

// Mapper is what mm needs from the platform (see platform.Mapper).
type Mapper interface {
	Map(addr, length uint64, prot int, fileOffset uint64) error
	Unmap(addr, length uint64) error
	Protect(addr, length uint64, prot int) error
}

// findFree picks an address for length bytes: the hint if free, else the
// highest gap below the mmap base, else the lowest gap above it.
// Linux: mm/mmap.c (arch_get_unmapped_area_topdown)
func (m *MM) findFree(hint, length uint64) (uint64, error) {
	top := m.layout.TaskSize
	if hint >= MinAddr && hint+length <= top && hint+length > hint && !m.vmas.overlaps(hint, hint+length) {
		return hint, nil
	}
	base := m.mmapBase
	if base == 0 || base > top {
		base = top
	}
	// Top-down: walk gaps from base downward.
	end := base
	for i := m.vmas.firstEndingAfter(base) - 1; ; i-- {
		lo := uint64(MinAddr)
		if i >= 0 {
			lo = m.vmas.v[i].End
		}
		if lo < end && end-lo >= length {
			return end - length, nil
		}
		if i < 0 {
			break
		}
		if m.vmas.v[i].Start < end {
			end = m.vmas.v[i].Start
		}
	}
	// Bottom-up above the base.
	start := base
	for i := m.vmas.firstEndingAfter(base); i <= len(m.vmas.v); i++ {
		hi := top
		if i < len(m.vmas.v) {
			hi = m.vmas.v[i].Start
		}
		if hi > start && hi-start >= length {
			return start, nil
		}
		if i < len(m.vmas.v) && m.vmas.v[i].End > start {
			start = m.vmas.v[i].End
		}
	}
	return 0, unix.ENOMEM
}

// Munmap removes [addr, addr+length).
func (m *MM) Munmap(mp Mapper, addr, length uint64) error {
	if addr&abi.PageMask != 0 || length == 0 {
		return unix.EINVAL
	}
	length, ok := abi.PageUp(length)
	if !ok || addr+length > m.layout.TaskSize || addr+length < addr {
		return unix.EINVAL
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.unmapLocked(mp, addr, addr+length)
}

// unmapLocked drops VMAs, frames and host mappings in [start, end).
func (m *MM) unmapLocked(mp Mapper, start, end uint64) error {
	if m.has.Load() {
		// Pending invalidations name addresses: settle them before the
		// addresses change meaning.
		if err := m.applyPendingLocked(mp); err != nil {
			return err
		}
	}
	m.syncShared(start, end)
	if err := m.dropPages(mp, start, end); err != nil {
		return err
	}
	m.dropPatches(start, end)
	i, j := m.vmas.carve(start, end)
	m.vmas.remove(i, j)
	return nil
}

// dropPages releases the frames of [start, end) and unmaps them from the
// host.
func (m *MM) dropPages(mp Mapper, start, end uint64) error {
	if err := m.unmapHost(mp, start, end); err != nil {
		return err
	}
	run := frameRun{mf: m.mf}
	m.pt.forRange(start, end, func(a uint64, p pte) {
		if p.present() {
			run.add(p.frame())
		}
		m.dropSwapEntry(p)
		m.pt.set(a, 0)
	})
	run.flush()
	return nil
}

// unmapHost removes host mappings in [start, end) with one host munmap if
// there are any: frames the ptes say are mapped, and ranges mapped from a
// host file (hostfile.go), which have no ptes. The munmap covers the span
// from the first to the last of them; pages in between that the host
// does not map lose nothing.
func (m *MM) unmapHost(mp Mapper, start, end uint64) error {
	lo, hi := uint64(0), uint64(0)
	m.pt.forRange(start, end, func(a uint64, p pte) {
		if p.mapped() {
			if hi == 0 {
				lo = a
			}
			hi = a + abi.PageSize
			m.pt.set(a, p&^(pteMapped|pteMapW))
		}
	})
	if flo, fhi := m.hostFiles.remove(start, end); fhi != 0 {
		if hi == 0 {
			lo, hi = flo, fhi
		} else {
			lo, hi = min(lo, flo), max(hi, fhi)
		}
	}
	if hi == 0 {
		return nil
	}
	if mp == nil {
		return errNoMapper
	}
	// The span may reach over the patch region (patch.go), which has no
	// VMA and must stay: unmap either side of it.
	if spec := m.layout.Patch; spec != nil && m.patch.frames != 0 && !m.patch.retired && !m.patch.unmap.Load() &&
		lo < spec.Base+spec.Size && spec.Base < hi {
		if lo < spec.Base {
			m.stats.HostMaps++
			if err := mp.Unmap(lo, spec.Base-lo); err != nil {
				return err
			}
		}
		if hi <= spec.Base+spec.Size {
			return nil
		}
		lo = spec.Base + spec.Size
	}
	m.stats.HostMaps++
	return mp.Unmap(lo, hi-lo)
}

type mmError string

func (e mmError) Error() string { return string(e) }

const errNoMapper = mmError("mm: host mappings changed without a live thread")

// protSem is PROT_SEM, which x86's mprotect accepts and ignores.
const protSem = 0x8

// Mprotect changes the protection of [addr, addr+length). Like Linux it
// works from the first mapping on and stops at a hole (ENOMEM) or at a
// mapping that may not get the protection (EACCES), leaving the part
// before it changed. Linux: mm/mprotect.c (do_mprotect_pkey)
func (m *MM) Mprotect(mp Mapper, addr, length uint64, prot int) error {
	grows := prot & (unix.PROT_GROWSDOWN | unix.PROT_GROWSUP)
	prot &^= grows
	if grows == unix.PROT_GROWSDOWN|unix.PROT_GROWSUP || addr&abi.PageMask != 0 {
		return unix.EINVAL
	}
	if length == 0 {
		return nil
	}
	end := addr + (length+abi.PageMask)&^abi.PageMask // PAGE_ALIGN, wrapping as Linux's
	if end <= addr {
		return unix.ENOMEM
	}
	if prot&^(unix.PROT_READ|unix.PROT_WRITE|unix.PROT_EXEC|protSem) != 0 {
		return unix.EINVAL
	}
	prot &= unix.PROT_READ | unix.PROT_WRITE | unix.PROT_EXEC
	m.mu.Lock()
	defer m.mu.Unlock()
	i := m.vmas.firstEndingAfter(addr)
	if i >= len(m.vmas.v) || m.vmas.v[i].Start >= end {
		return unix.ENOMEM
	}
	first := m.vmas.v[i]
	switch {
	case grows&unix.PROT_GROWSDOWN != 0:
		addr = first.Start
		if first.Flags&VMGrowsDown == 0 {
			return unix.EINVAL
		}
	case first.Start > addr:
		return unix.ENOMEM
	case grows&unix.PROT_GROWSUP != 0:
		return unix.EINVAL // x86 has no VM_GROWSUP mappings
	}
	// reach is where the change stops: end, a hole or a refusal.
	reach, err := addr, error(nil)
	for k := i; k < len(m.vmas.v) && reach < end; k++ {
		v := m.vmas.v[k]
		if v.Start > reach {
			err = unix.ENOMEM
			break
		}
		if prot&unix.PROT_WRITE != 0 && (v.Flags&VMNoMayWrite != 0 || v.Shared && v.File != nil && !writableObject(v.File)) ||
			prot&unix.PROT_EXEC != 0 && v.Flags&VMNoMayExec != 0 {
			err = unix.EACCES
			break
		}
		reach = min(v.End, end)
	}
	if reach < end && err == nil {
		err = unix.ENOMEM
	}
	if reach == addr {
		return err
	}
	i, j := m.vmas.carve(addr, reach)
	if prot&unix.PROT_WRITE != 0 {
		// The guest may write its code now: it finds its own bytes.
		if err := m.unpatchRange(mp, addr, reach); err != nil {
			return err
		}
	}
	// Taking rights away keeps the host's mappings, lowered in place (up
	// to maxProtectRuns host calls). Otherwise the host forgets the range
	// and pages come back with the new protection on their next touch.
	kept := false
	if onlyRemoves(m.vmas.v[i:j], prot) {
		var e error
		if kept, e = m.protectHost(mp, m.vmas.v[i:j], prot); e != nil {
			return e
		}
	}
	if !kept {
		if e := m.unmapHost(mp, addr, reach); e != nil {
			return e
		}
	}
	for k := i; k < j; k++ {
		m.vmas.v[k].Prot = prot
	}
	for k := j - 1; k >= i; k-- {
		if k < len(m.vmas.v) {
			m.vmas.mergeAround(k)
		}
	}
	return err
}

// writableObject reports whether a shared mapping of obj may be writable.
func writableObject(obj Mappable) bool {
	w, ok := obj.(interface{ Writable() bool })
	return !ok || w.Writable()
}

// Brk moves the program break and returns the new (or unchanged) break.
// A break that would reach a mapping (or wrap), or pass RLIMIT_DATA or
// RLIMIT_AS, leaves it where it was. Linux: mm/mmap.c (brk,
// check_data_rlimit, do_brk_flags)
func (m *MM) Brk(mp Mapper, newBrk uint64, lim AddressLimits) uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	if newBrk < m.brkStart {
		return m.brk
	}
	if lim.Data != unix.RLIM_INFINITY && newBrk-m.brkStart > lim.Data {
		return m.brk
	}
	oldEnd := (m.brk + abi.PageMask) &^ abi.PageMask
	newEnd := (newBrk + abi.PageMask) &^ abi.PageMask // PAGE_ALIGN: 0 for a break near the top
	switch {
	case newEnd == oldEnd:
	case newBrk <= m.brk:
		if err := m.unmapLocked(mp, newEnd, oldEnd); err != nil {
			return m.brk
		}
	default:
		if newEnd < oldEnd || newEnd > m.layout.TaskSize {
			return m.brk
		}
		if !m.mayExpandLocked(lim, newEnd-oldEnd, true, 0, 0) || overcommitted(newEnd-oldEnd) {
			return m.brk
		}
		// The heap keeps a page from the next mapping (and a growing
		// stack's guard gap).
		if k := m.vmas.firstEndingAfter(oldEnd); k < len(m.vmas.v) {
			next := m.vmas.v[k]
			gapStart := next.Start
			if next.Flags&VMGrowsDown != 0 {
				gapStart = max(next.Start, stackGuardGap) - stackGuardGap
			}
			if newEnd+abi.PageSize > gapStart {
				return m.brk
			}
		}
		if m.collide(mp, oldEnd, newEnd) != nil { // the syscall-patch region (patch.go)
			return m.brk
		}
		m.vmas.insert(&VMA{Start: oldEnd, End: newEnd, Prot: unix.PROT_READ | unix.PROT_WRITE, Name: "[heap]", Flags: m.newVMAFlags()})
	}
	m.brk = newBrk
	return m.brk
}
