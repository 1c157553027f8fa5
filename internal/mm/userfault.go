package mm

import (
	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
)

// userfaultfd's side in mm: VMAs registered with a context (VMA.Uffd and
// the VMUffdMissing/VMUffdWP flags), the uffd-wp bit of a pte, and the
// accesses that must wait for the context's handler instead of being
// resolved here. mm never waits: it reports a *UserfaultError and the
// caller (the kernel's fault handler or its CopyIn/CopyOut/Pin wrappers)
// waits with no mm lock held, then retries the access.
// Linux: fs/userfaultfd.c, mm/userfaultfd.c

// Userfault is a userfaultfd context as mm sees it.
type Userfault interface {
	// Gen is a counter the context advances (atomically, after the change)
	// whenever pages of its ranges are filled or unprotected and whenever
	// it wakes waiters. mm reads it under MM.mu when it reports a fault;
	// a waiter that finds it changed retries instead of sleeping, so a
	// fill racing with the report is never missed.
	Gen() uint64
	// Wait queues e's message and blocks until a wake covers its page,
	// the context is closed or intr must stop waiting. tid is the
	// faulting thread's (for UFFD_FEATURE_THREAD_ID); user says the guest
	// itself faulted (not a system call's access). nil: retry the
	// access; EINTR: a signal is pending (a guest fault retries after
	// it); EFAULT: the access fails (SIGBUS for the guest's own fault).
	// The caller holds no mm lock.
	Wait(e *UserfaultError, tid int, user bool, intr Interruptible) error
}

// Interruptible is what a waiting task offers (vfs.Ctx has it).
type Interruptible interface {
	Interrupt() <-chan struct{}
	Interrupted() bool
}

// Page-fault flags of a uffd_msg. Linux: include/uapi/linux/userfaultfd.h
const (
	UffdFlagWrite = 1 << 0 // UFFD_PAGEFAULT_FLAG_WRITE
	UffdFlagWP    = 1 << 1 // UFFD_PAGEFAULT_FLAG_WP
)

// UserfaultError says an access met a page its userfaultfd must provide
// (missing) or allow (write-protected).
type UserfaultError struct {
	Ctx   Userfault
	Addr  uint64 // the exact address accessed
	Flags uint64 // UffdFlag*
	Gen   uint64 // Ctx.Gen() when the page was seen missing or protected
}

func (e *UserfaultError) Error() string { return "mm: access waits for a userfaultfd" }

// userfault returns the error for an access to page at addr in v, if v's
// context must handle it; m.mu held. write: the access is known to write.
func (m *MM) userfault(v *VMA, addr uint64, p pte, write bool) *UserfaultError {
	if v.Uffd == nil {
		return nil
	}
	if v.Flags&VMUffdMissing != 0 && !p.present() && !p.swapped() {
		var fl uint64
		if write {
			fl = UffdFlagWrite
		}
		return &UserfaultError{Ctx: v.Uffd, Addr: addr, Flags: fl, Gen: v.Uffd.Gen()}
	}
	if write && v.Flags&VMUffdWP != 0 && p&pteUffdWP != 0 {
		return &UserfaultError{Ctx: v.Uffd, Addr: addr, Flags: UffdFlagWrite | UffdFlagWP, Gen: v.Uffd.Gen()}
	}
	return nil
}

// uffdCapable reports whether v may be registered: anonymous private
// memory. Linux also takes shmem and hugetlbfs (vma_can_userfault);
// glassbox refuses them with EINVAL.
func uffdCapable(v *VMA) bool { return v.File == nil && !v.Shared }

// UffdRegister registers [start, end) (page aligned, checked by the
// caller) with u in the given modes. At least one VMA must lie in the
// range; holes are allowed. Linux: fs/userfaultfd.c (userfaultfd_register)
//
// A fault fills a whole window of anonymous pages where Linux fills one,
// so pages of a MISSING range may have frames the guest never touched.
// Private pages this address space alone holds that are all zeros are
// dropped again (through mp; not when mp is nil) so that they fault to
// the handler as on Linux. A page the guest only read or wrote zeros to
// is dropped too: Linux would keep it (the zero page) and not report it.
func (m *MM) UffdRegister(mp Mapper, u Userfault, start, end uint64, missing, wp bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.users == 0 {
		return unix.ENOMEM
	}
	if !m.vmas.overlaps(start, end) {
		return unix.EINVAL
	}
	var set VMFlags
	if missing {
		set |= VMUffdMissing
	}
	if wp {
		set |= VMUffdWP
	}
	err := m.eachVMA(start, end, func(v *VMA, lo, hi uint64) error {
		if !uffdCapable(v) {
			return unix.EINVAL
		}
		if v.Uffd != nil && v.Uffd != u {
			return unix.EBUSY
		}
		return nil
	})
	if err != nil {
		return err
	}
	i, j := m.vmas.carve(start, end)
	for k := i; k < j; k++ {
		v := m.vmas.v[k]
		if v.Uffd == u && v.Flags&set == set {
			continue // already registered with at least these modes
		}
		v.Uffd = u
		v.Flags = v.Flags&^(VMUffdMissing|VMUffdWP) | set
	}
	m.remerge(i, j)
	if missing && mp != nil {
		return m.dropZeroPages(mp, start, end)
	}
	return nil
}

// dropZeroPages drops the private, unshared, all-zero pages of [start, end).
func (m *MM) dropZeroPages(mp Mapper, start, end uint64) error {
	var runs []pendingRange
	m.pt.forRange(start, end, func(a uint64, p pte) {
		if !p.present() || p&pteUffdWP != 0 || m.mf.Refs(p.frame()) != 1 || m.mf.Pinned(p.frame()) {
			return
		}
		for _, c := range m.mf.Bytes(p.frame(), 1) {
			if c != 0 {
				return
			}
		}
		if n := len(runs); n > 0 && runs[n-1].end == a {
			runs[n-1].end = a + abi.PageSize
		} else {
			runs = append(runs, pendingRange{a, a + abi.PageSize})
		}
	})
	for _, r := range runs {
		if err := m.dropPages(mp, r.start, r.end); err != nil {
			return err
		}
	}
	return nil
}

// UffdUnregister drops the registrations of [start, end); pages lose
// their write protection. Linux: fs/userfaultfd.c (userfaultfd_unregister)
func (m *MM) UffdUnregister(start, end uint64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.vmas.overlaps(start, end) {
		return unix.EINVAL
	}
	err := m.eachVMA(start, end, func(v *VMA, lo, hi uint64) error {
		if !uffdCapable(v) {
			return unix.EINVAL
		}
		return nil
	})
	if err != nil {
		return err
	}
	i, j := m.vmas.carve(start, end)
	for k := i; k < j; k++ {
		m.clearUffd(m.vmas.v[k], start, end)
	}
	m.remerge(i, j)
	return nil
}

// UffdRelease drops every registration with u (its file was closed).
func (m *MM) UffdRelease(u Userfault) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, v := range m.vmas.v {
		if v.Uffd == u {
			m.clearUffd(v, v.Start, v.End)
		}
	}
	for k := len(m.vmas.v) - 1; k >= 0; k-- {
		if k < len(m.vmas.v) {
			m.vmas.mergeAround(k)
		}
	}
}

// clearUffd unregisters v, clearing the uffd-wp bits of its pages in
// [start, end). Pages stay host-mapped read-only; a write then faults and
// is resolved as any write to a read-only mapped page of a writable VMA.
func (m *MM) clearUffd(v *VMA, start, end uint64) {
	if v.Uffd == nil {
		return
	}
	v.Uffd = nil
	v.Flags &^= VMUffdMissing | VMUffdWP
	m.pt.forRange(max(v.Start, start), min(v.End, end), func(a uint64, p pte) {
		if p&pteUffdWP != 0 {
			m.pt.set(a, p&^pteUffdWP)
		}
	})
}

// remerge merges VMAs around the index range [i, j) that became alike.
func (m *MM) remerge(i, j int) {
	for k := j; k >= i-1 && k >= 0; k-- {
		if k < len(m.vmas.v) {
			m.vmas.mergeAround(k)
		}
	}
}

// UffdCheck checks that [start, end) lies in one VMA registered with u
// (ENOENT otherwise); wp says the caller wants the pages write-protected,
// which needs a WP registration (EINVAL). It returns ESRCH once the
// address space is gone. Linux: mm/userfaultfd.c (mfill_atomic)
func (m *MM) UffdCheck(u Userfault, start, end uint64, wp bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.users == 0 {
		return unix.ESRCH
	}
	v := m.vmas.find(start)
	if v == nil || end > v.End || v.Uffd != u {
		return unix.ENOENT
	}
	if wp && v.Flags&VMUffdWP == 0 {
		return unix.EINVAL
	}
	return nil
}

// UffdFill gives the missing page at page (registered with u) a new
// frame holding data (a page, or nil for zeros), write-protected if wp.
// A page that has a frame or a swap entry is EEXIST. The page is not
// host-mapped: the next touch maps it.
// Linux: mm/userfaultfd.c (mfill_atomic_pte_copy, mfill_atomic_pte_zeropage)
func (m *MM) UffdFill(u Userfault, page uint64, data []byte, wp bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.users == 0 {
		return unix.ESRCH
	}
	v := m.vmas.find(page)
	if v == nil || v.Uffd != u {
		return unix.ENOENT
	}
	p := m.pt.get(page)
	if p.present() || p.swapped() {
		return unix.EEXIST
	}
	fr, err := m.mf.Alloc(1)
	if err != nil {
		return unix.ENOMEM
	}
	b := m.mf.Bytes(fr, 1)
	if data != nil {
		copy(b, data)
	} else {
		clear(b)
	}
	np := mkpte(fr)
	if wp {
		np |= pteUffdWP
	}
	m.pt.set(page, np)
	return nil
}

// UffdWriteProtect sets or clears the uffd-wp bit of the present pages of
// [start, end), which must be registered for WP with u (ENOENT). Setting
// it write-protects host mappings through mp; mp nil (the caller is
// another process) is EAGAIN when a page is host-mapped writable, as
// only this address space's threads can change its host mappings.
// Linux: mm/userfaultfd.c (mwriteprotect_range)
func (m *MM) UffdWriteProtect(mp Mapper, u Userfault, start, end uint64, wp bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.users == 0 {
		return unix.ESRCH
	}
	if !m.vmas.overlaps(start, end) {
		return unix.ENOENT
	}
	err := m.eachVMA(start, end, func(v *VMA, lo, hi uint64) error {
		if v.Uffd != u || v.Flags&VMUffdWP == 0 {
			return unix.ENOENT
		}
		if wp && mp == nil {
			var busy bool
			m.pt.forRange(lo, hi, func(a uint64, p pte) { busy = busy || p.mappedWritable() })
			if busy {
				return unix.EAGAIN
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return m.eachVMA(start, end, func(v *VMA, lo, hi uint64) error {
		var err error
		m.pt.forRange(lo, hi, func(a uint64, p pte) {
			if !p.present() {
				return
			}
			if !wp {
				m.pt.set(a, p&^pteUffdWP)
				return
			}
			m.pt.set(a, p|pteUffdWP)
		})
		if wp {
			err = m.protectRuns(mp, lo, hi, v.Prot&^unix.PROT_WRITE, nil)
		}
		return err
	})
}
