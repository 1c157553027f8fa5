package mm

import (
	"sync"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/memfile"
	"glassbox/internal/platform"
)

// Window sizes for populating on a fault.
const (
	anonWindow = 2 << 20
	fileWindow = 256 << 10
)

// Stats are an address space's counters.
type Stats struct {
	MinorFaults  uint64 // faults glassbox resolved by mapping pages
	COWCopies    uint64 // pages copied on a write to a shared page
	COWReuses    uint64 // write faults that took over a page nobody else held
	HostMaps     uint64 // host mmap/mprotect/munmap calls injected
	MajorFaults  uint64 // faults (and kernel accesses) that read pages back from swap
	PatchedSites uint64 // syscall sites patched (patch.go)
	HostFileMaps uint64 // runs the host mapped straight from a host file (hostfile.go)
	SwapOuts     uint64 // pages written to swap
	SwapIns      uint64 // pages read back from swap
}

// MM is one guest address space.
type MM struct {
	mu     sync.Mutex
	mf     *memfile.File
	layout platform.Layout
	vmas   vmaSet
	pt     pageTable

	brkStart, brk uint64
	mmapBase      uint64
	stats         Stats
	users         int
	pendingState              // invalidate.go
	lockState                 // mlock.go
	stale         staleHost   // remote.go: host mappings another process made stale
	hostFiles     hostFileSet // hostfile.go: ranges the host maps from a host file, with no ptes

	cowNext  uint64 // the page after the last copied run (cow.go)
	cowRun   int    // how many pages that run had
	fillNext uint64 // the page after the last run a fault mapped

	swap   *Swap  // nil: no swap area
	clock  uint64 // where the next swap-out scan starts
	narrow bool   // fault windows are one page (memory is that tight)

	pkeys uint16 // protection keys allocated (pkey.go)

	patch patchState // patched syscall sites (patch.go)
}

// New returns an empty address space.
func New(mf *memfile.File, layout platform.Layout) *MM {
	m := &MM{mf: mf, layout: layout, pt: newPageTable()}
	register(m)
	return m
}

// Layout returns the fixed part of the address space.
func (m *MM) Layout() platform.Layout { return m.layout }

// MemFile returns the memory file behind the address space.
func (m *MM) MemFile() *memfile.File { return m.mf }

// Stats returns the counters.
func (m *MM) Stats() Stats {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.stats
}

// SetMmapBase sets where top-down mmap placement starts.
func (m *MM) SetMmapBase(a uint64) {
	m.mu.Lock()
	m.mmapBase = a
	m.mu.Unlock()
}

// SetBrk sets the program break's start (end of the loaded image).
func (m *MM) SetBrk(a uint64) {
	m.mu.Lock()
	a, _ = abi.PageUp(a)
	m.brkStart, m.brk = a, a
	m.mu.Unlock()
}

// FaultResult says what a fault amounted to.
type FaultResult struct {
	// Signo is 0 if the fault was resolved, else the signal for the guest
	// (SIGSEGV or SIGBUS) with Code (SEGV_MAPERR, SEGV_ACCERR, BUS_ADRERR).
	Signo, Code int
	// Access is what the access was, as far as it can be told:
	// "touch" (first access: ptrace does not say whether it read or wrote), "write" or "exec".
	Access string
	COW    int    // pages copied
	COWAt  uint64 // the first of them (they are consecutive)
	Major  bool   // pages were read back from swap
	Out    uint64 // pages swapped out to make room
	// HostFileMaps counts the runs the host mapped from a host file
	// (hostfile.go) instead of frames.
	HostFileMaps uint64
	// Userfault is set when the access must wait for a userfaultfd: the
	// caller waits (holding no mm lock) and lets the guest retry.
	Userfault *UserfaultError
}

// HandleFault resolves a host page fault at addr (code SEGV_MAPERR or
// SEGV_ACCERR as the host reported it; exec says the fault address is the
// instruction pointer; write says the platform knows the access wrote).
func (m *MM) HandleFault(mp Mapper, addr uint64, code int, exec, write bool) (res FaultResult, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.handleFault(mp, addr, code, exec, write)
}

func (m *MM) handleFault(mp Mapper, addr uint64, code int, exec, write bool) (res FaultResult, err error) {
	res = FaultResult{Access: "touch"}
	outs := m.stats.SwapOuts
	defer func() { res.Out = m.stats.SwapOuts - outs }()
	if exec {
		res.Access = "exec"
	}
	v := m.vmas.find(addr)
	if v == nil {
		v = m.growDownLocked(addr)
	}
	if v == nil {
		res.Signo, res.Code = abi.SIGSEGV, abi.SEGV_MAPERR
		return res, nil
	}
	if v.Prot == unix.PROT_NONE || exec && v.Prot&unix.PROT_EXEC == 0 {
		res.Signo, res.Code = abi.SIGSEGV, abi.SEGV_ACCERR
		return res, nil
	}
	page := abi.PageDown(addr)
	p := m.pt.get(page)
	if p.mapped() {
		// The host maps the page now. Another thread of this address
		// space may have resolved the fault between the host raising it
		// and this task taking m.mu (it mapped the page, or copied it on
		// write): the fault is then spurious and the access is retried.
		// Linux: mm/memory.c (handle_pte_fault: "spurious" faults)
		if exec || p.mappedWritable() {
			return res, m.remapPage(mp, v, page, p)
		}
		// The host mapping is read-only: a write to a copy-on-write page
		// (or, for SEGV_MAPERR, an access of either kind that raced with
		// the mapping; copying early is harmless then).
		if v.Prot&unix.PROT_WRITE != 0 {
			if p&pteUffdWP != 0 && v.Flags&VMUffdWP != 0 {
				if code == abi.SEGV_MAPERR {
					// A read that raced with the mapping.
					return res, m.remapPage(mp, v, page, p)
				}
				res.Access = "write"
				res.Userfault = m.userfault(v, addr, p, true)
				return res, nil
			}
			res.Access, res.COWAt = "write", page
			err := m.withReclaim(mp, page, page, page+abi.PageSize, func() (err error) {
				res.COW, err = m.makeWritable(mp, v, page)
				return err
			})
			if err != nil {
				return res, err
			}
			m.stats.MinorFaults++
			return res, nil
		}
		if code == abi.SEGV_MAPERR {
			return res, m.remapPage(mp, v, page, p)
		}
		res.Access = "write"
		res.Signo, res.Code = abi.SIGSEGV, abi.SEGV_ACCERR
		return res, nil
	}
	if v.File != nil && v.fileOffset(page) >= pageRoundUp(v.File.Size()) {
		res.Signo, res.Code = abi.SIGBUS, abi.BUS_ADRERR
		return res, nil
	}
	if v.Flags&VMUffdMissing != 0 {
		if write {
			res.Access = "write"
		}
		if res.Userfault = m.userfault(v, addr, p, write); res.Userfault != nil {
			return res, nil
		}
	}
	// In a mapping of a file nothing can write, the host maps the file
	// itself (hostfile.go): a read or exec of a page with no pte maps the
	// file's pages, and any other fault gives a frame to this page alone.
	hm, hf, hostOK := m.hostFileTarget(mp, v)
	if hostOK && !write && code == abi.SEGV_MAPERR && p == 0 && !m.hostFiles.has(page) {
		before := m.stats.HostFileMaps
		done, err := m.hostFileFault(hm, hf, v, page)
		res.HostFileMaps = m.stats.HostFileMaps - before
		if done || err != nil {
			if done {
				m.stats.MinorFaults++
			}
			return res, err
		}
		hostOK = false // the platform cannot map the file: frames, whole windows
	}
	major := m.stats.MajorFaults
	lo, hi := m.window(v, page)
	if err := m.withReclaim(mp, page, lo, hi, func() error {
		if done, err := m.dataFault(mp, v, page, exec, &res); done || err != nil {
			return err
		}
		return m.populateAndMap(mp, v, page, hostOK)
	}); err != nil {
		return res, err
	}
	res.Major = m.stats.MajorFaults != major
	if !res.Major {
		m.stats.MinorFaults++
	}
	if v.File != nil && !v.Shared && v.Prot&unix.PROT_WRITE != 0 && !exec && !m.pt.get(page).mappedWritable() {
		// A writable private file page (a program's .data): the first
		// touch is most often a write. Copy it now rather than take a
		// second trap for the write; a page that is only read costs a copy.
		err := m.withReclaim(mp, page, page, page+abi.PageSize, func() (err error) {
			res.COW, res.COWAt, err = m.firstWrite(mp, v, page)
			return err
		})
		if err != nil {
			return res, err
		}
	}
	return res, nil
}

func pageRoundUp(a uint64) uint64 {
	r, _ := abi.PageUp(a)
	return r
}

// remapPage answers a spurious fault: the page table says the host maps
// page in a way that allows the access. The page is mapped again as the
// page table records it, so that the retried access cannot fault for the
// same reason twice even if the host had lost the mapping.
func (m *MM) remapPage(mp Mapper, v *VMA, page uint64, p pte) error {
	prot := v.Prot
	if !p.mappedWritable() {
		prot &^= unix.PROT_WRITE
	}
	m.stats.MinorFaults++
	return m.hostMap(mp, page, page+abi.PageSize, prot, p.frame())
}

// window returns the populate window around page within v.
func (m *MM) window(v *VMA, page uint64) (uint64, uint64) {
	if m.narrow || v.Flags&(VMLockOnFault|VMUffdMissing) != 0 {
		// userfaultfd: each missing page is the handler's to provide.
		// MLOCK_ONFAULT locks what is touched, page by page.
		return page, page + abi.PageSize
	}
	size := uint64(anonWindow)
	var lo uint64
	if v.File != nil {
		size = fileWindow
		// Align the window in file space, so windows line up with the
		// file cache's chunks.
		off := v.fileOffset(page)
		lo = page - (off - off&^(size-1))
	} else {
		lo = page &^ (size - 1)
	}
	hi := lo + size
	if lo < v.Start || lo > page {
		lo = v.Start
	}
	if hi > v.End {
		hi = v.End
	}
	if v.File != nil {
		eof := pageRoundUp(v.File.Size())
		if v.Off < eof {
			if lim := v.Start + (eof - v.Off); hi > lim {
				hi = lim
			}
		}
	}
	return lo, hi
}

// fillRun bounds the bytes of frames fill asks for at once.
const fillRun = 4 << 20

// fill gives every page in [lo, hi) of v a frame.
func (m *MM) fill(v *VMA, lo, hi uint64) error {
	for a := lo; a < hi; {
		p := m.pt.get(a)
		if p.present() {
			a += abi.PageSize
			continue
		}
		if p.swapped() {
			n, err := m.swapIn(a, hi)
			if err != nil {
				return err
			}
			a += n << abi.PageShift
			continue
		}
		// Find the run of pages with neither frames nor swap entries,
		// at most fillRun of them at a time: populating a huge range
		// (mlockall, then shmat of a segment of terabytes) meets the
		// memory bound a run in, rather than first walking every page
		// of the range under m.mu.
		end := a + abi.PageSize
		for end < hi && end-a < fillRun && m.pt.get(end) == 0 {
			end += abi.PageSize
		}
		n := (end - a) >> abi.PageShift
		var fr memfile.Frame
		var got uint64
		var err error
		if v.File == nil {
			fr, err = m.mf.Alloc(n)
			got = n
		} else {
			fr, got, err = v.File.Translate(v.fileOffset(a)>>abi.PageShift, n)
		}
		if err != nil {
			return err
		}
		for i := uint64(0); i < got; i++ {
			m.pt.set(a+i<<abi.PageShift, mkpte(fr+memfile.Frame(i)))
		}
		a += got << abi.PageShift
	}
	return nil
}

// makeWritable gives a private page its own frame (copying it if others
// still reference the old one) and maps it writable; neighbours may come
// along (cow.go). It returns how many pages it copied.
func (m *MM) makeWritable(mp Mapper, v *VMA, page uint64) (int, error) {
	if done, err := m.reuseRun(mp, v, page); done || err != nil {
		return 0, err
	}
	p := m.pt.get(page)
	if !v.Shared && m.mf.Refs(p.frame()) > 1 {
		return m.copyRun(mp, v, page)
	}
	if !v.Shared {
		m.stats.COWReuses++
	}
	return 0, m.hostMap(mp, page, page+abi.PageSize, v.Prot, p.frame())
}

// breakCOW makes sure the private page's frame is referenced by this page
// table only, copying it if needed. When it copies, it returns the old
// frame, whose reference the caller still holds: the host may map the old
// frame at page, and the caller lets it go (DecRef) only once that
// mapping is gone, so that no thread can see the frame after it is
// freed and reused.
func (m *MM) breakCOW(v *VMA, page uint64) (old memfile.Frame, copied bool, err error) {
	p := m.pt.get(page)
	if v.Shared {
		return 0, false, nil
	}
	if m.mf.Refs(p.frame()) == 1 {
		m.stats.COWReuses++
		return 0, false, nil
	}
	nf, err := m.mf.Alloc(1)
	if err != nil {
		return 0, false, err
	}
	copy(m.mf.Bytes(nf, 1), m.mf.Bytes(p.frame(), 1))
	m.pt.set(page, mkpte(nf)|p&(pteMapped|pteMapW|pteUffdWP))
	m.stats.COWCopies++
	return p.frame(), true, nil
}

// Release frees everything the address space holds. The host side (the
// stub) must already be gone or be going away.
func (m *MM) Release() {
	unregister(m)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.syncShared(0, m.layout.TaskSize)
	m.stale.drop(m)
	m.hostFiles = hostFileSet{}
	m.releasePatches()
	run := frameRun{mf: m.mf}
	for k, l := range m.pt.leaves {
		for _, p := range l.e {
			if p.present() {
				run.add(p.frame())
			}
			m.dropSwapEntry(p)
		}
		delete(m.pt.leaves, k)
	}
	m.pt.resident = 0
	run.flush()
	m.vmas.remove(0, len(m.vmas.v))
}

// VMAs returns a copy of the VMA list, in address order.
func (m *MM) VMAs() []VMA {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]VMA, len(m.vmas.v))
	for i, v := range m.vmas.v {
		out[i] = *v
	}
	return out
}

// BrkRange returns the start and current end of the program break.
func (m *MM) BrkRange() (uint64, uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.brkStart, m.brk
}

// Resident counts pages that have a frame.
func (m *MM) Resident() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.pt.resident
}

// PeakResident is the most pages that had a frame at once in this address
// space (its high-water mark). Linux: include/linux/mm.h (get_mm_hiwater_rss)
func (m *MM) PeakResident() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.pt.peak
}

// AddUser records one more task using the address space.
func (m *MM) AddUser() {
	m.mu.Lock()
	m.users++
	m.mu.Unlock()
}

// DropUser records a task leaving; the last one releases the address space.
func (m *MM) DropUser() {
	m.mu.Lock()
	m.users--
	last := m.users == 0
	m.mu.Unlock()
	if last {
		m.Release()
	}
}

// ReleasesAlone reports whether Release would take no lock but m's own,
// the memory file's and the swap area's: no VMA is a shared mapping (whose
// release writes back to its object) or maps an object that counts its
// mappers (Shmem, a SysV segment: their counts are under their locks).
func (m *MM) ReleasesAlone() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, v := range m.vmas.v {
		if _, counted := v.File.(userCounted); v.Shared || counted {
			return false
		}
	}
	return true
}

// SharedKey names the object and offset behind addr when addr lies in a
// MAP_SHARED mapping (so processes sharing it agree on a futex's identity).
// Linux: kernel/futex/core.c (get_futex_key)
func (m *MM) SharedKey(addr uint64) (any, uint64, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v := m.vmas.find(addr)
	if v == nil || !v.Shared || v.File == nil {
		return nil, 0, false
	}
	return v.File, v.fileOffset(addr), true
}

// WalkResident calls fn for each backed page in [start, end), saying
// whether its frame is shared with another address space or cache.
func (m *MM) WalkResident(start, end uint64, fn func(addr uint64, shared bool)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pt.forRange(start, end, func(a uint64, p pte) {
		if p.present() {
			fn(a, m.mf.Refs(p.frame()) > 1)
		}
	})
}

// NameAt names the mapping that holds addr ("[heap]", a file path, "" for
// anonymous memory, "-" for none), for fault traces.
func (m *MM) NameAt(addr uint64) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	v := m.vmas.find(addr)
	if v == nil {
		return "-"
	}
	if v.Name == "" {
		return "anonymous"
	}
	return v.Name
}

// Accessible reports whether addr lies in a mapping that can hold a
// shared futex: readable, and not read-only anonymous memory, whose
// pages never change. Linux: kernel/futex/core.c (get_futex_key)
func (m *MM) Accessible(addr uint64) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	v := m.vmas.find(addr)
	return v != nil && v.Prot&unix.PROT_READ != 0 && (v.Shared || v.File != nil || v.Prot&unix.PROT_WRITE != 0)
}

// stackGuardGap is the room a growing stack keeps from the mapping below.
// Linux: mm/mmap.c (stack_guard_gap)
const stackGuardGap = 256 << abi.PageShift

// growDownLocked extends the MAP_GROWSDOWN mapping just above addr down
// to addr's page, unless that comes within the guard gap of the mapping
// below. It returns the grown VMA, or nil. m.mu held.
// Linux: mm/mmap.c (expand_downwards)
func (m *MM) growDownLocked(addr uint64) *VMA {
	i := m.vmas.firstEndingAfter(addr)
	if i >= len(m.vmas.v) {
		return nil
	}
	v := m.vmas.v[i]
	if v.Flags&VMGrowsDown == 0 || addr < abi.PageSize {
		return nil
	}
	page := abi.PageDown(addr)
	if i > 0 {
		if prev := m.vmas.v[i-1]; prev.Flags&VMGrowsDown == 0 && prev.Prot != unix.PROT_NONE &&
			(page < prev.End || page-prev.End < stackGuardGap) {
			return nil
		}
	}
	v.Start = page // anonymous: no offset to keep in step
	return v
}
