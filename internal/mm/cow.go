package mm

import (
	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/memfile"
	"glassbox/internal/platform"
)

// Write faults in runs. A trap costs far more than copying a page, so a
// write fault on a private page does more than the one page when that is
// cheap to get right:
//
//   - Pages that are host-mapped read-only only because their frame was
//     shared when they were mapped, and that this address space now holds
//     alone (the other holder exited, exec'd or took its own copy), are
//     made writable together with one host mprotect. No copy is made, so
//     this costs nothing but the call.
//   - A sequential writer (this fault is at the page right after the last
//     copied run) gets copies of the pages ahead of it too, the run
//     doubling up to cowMaxRun pages, like readahead. A writer that jumps
//     around copies one page per fault, as Linux does.
//
// Linux: mm/memory.c (do_wp_page, wp_page_reuse, wp_page_copy)

// cowReuseSpan bounds how far (in pages) either side of the fault the
// reuse run reaches.
const cowReuseSpan = 256

// cowMaxRun is the most pages one write fault copies.
const cowMaxRun = 512

// reuseRun makes page writable with its neighbours if page is host-mapped
// read-only and its frame is referenced by this address space alone. It
// reports whether page qualified.
func (m *MM) reuseRun(mp Mapper, v *VMA, page uint64) (bool, error) {
	ok := func(a uint64) bool {
		q := m.pt.get(a)
		return q.mapped() && !q.mappedWritable() && q&pteUffdWP == 0 && m.mf.Refs(q.frame()) == 1
	}
	if v.Shared || !ok(page) {
		return false, nil
	}
	span := uint64(cowReuseSpan) << abi.PageShift
	minLo, maxHi := v.Start, v.End
	if page-v.Start > span {
		minLo = page - span
	}
	if v.End-page > span {
		maxHi = page + span
	}
	lo, hi := page, page+abi.PageSize
	for lo > minLo && ok(lo-abi.PageSize) {
		lo -= abi.PageSize
	}
	for hi < maxHi && ok(hi) {
		hi += abi.PageSize
	}
	m.stats.HostMaps++
	if err := mp.Protect(lo, hi-lo, v.Prot); err != nil {
		return true, err
	}
	for a := lo; a < hi; a += abi.PageSize {
		m.pt.set(a, m.pt.get(a)|pteMapW)
	}
	m.stats.COWReuses += (hi - lo) >> abi.PageShift
	return true, nil
}

// copyRun gives page (present, its frame shared) and, for a sequential
// writer, the shared pages after it their own copies, and maps them
// writable with one host mmap. It returns how many pages it copied.
func (m *MM) copyRun(mp Mapper, v *VMA, page uint64) (int, error) {
	want := 1
	if page == m.cowNext && !m.narrow {
		// (At the memory limit, withReclaim's last try copies the one
		// page the write needs.)
		want = min(2*m.cowRun, cowMaxRun)
	}
	n := 1
	for n < want {
		a := page + uint64(n)<<abi.PageShift
		if a >= v.End {
			break
		}
		q := m.pt.get(a)
		if !q.present() || q.mappedWritable() || q&pteUffdWP != 0 || m.mf.Refs(q.frame()) < 2 {
			break
		}
		n++
	}
	nf, err := m.mf.Alloc(uint64(n))
	if err != nil {
		return 0, err
	}
	olds := make([]memfile.Frame, n)
	for i := 0; i < n; i++ {
		olds[i] = m.pt.get(page + uint64(i)<<abi.PageShift).frame()
	}
	m.mf.CopyInto(nf, olds)
	for i := 0; i < n; i++ {
		m.pt.set(page+uint64(i)<<abi.PageShift, mkpte(nf+memfile.Frame(i)))
	}
	m.stats.COWCopies += uint64(n)
	m.cowNext, m.cowRun = page+uint64(n)<<abi.PageShift, max(want, 1)
	end := page + uint64(n)<<abi.PageShift
	err = m.hostMap(mp, page, end, v.Prot, nf)
	// The old frames are let go only now that the host no longer maps
	// them here: until then this address space's other threads may still
	// read them, so they must not be freed and handed to someone else.
	for _, f := range olds {
		m.mf.DecRef(f, 1)
	}
	return n, err
}

// firstWrite makes the page of a writable private file mapping that was
// just mapped read-only on its first touch writable: a small data segment
// of a file nothing can change all at once (dataRun), else the page.
// It returns how many pages it copied, from which page on.
func (m *MM) firstWrite(mp Mapper, v *VMA, page uint64) (int, uint64, error) {
	if done, n, lo, err := m.dataRun(mp, v, page); done || err != nil {
		return n, lo, err
	}
	n, err := m.makeWritable(mp, v, page)
	return n, page, err
}

// dataFault answers a fault that is not an instruction fetch at page of
// a data segment (dataSegment) with dataRun at once, without first
// mapping the file's pages read-only. It reports whether it did.
func (m *MM) dataFault(mp Mapper, v *VMA, page uint64, exec bool, res *FaultResult) (bool, error) {
	if exec || !m.dataSegment(v) {
		return false, nil
	}
	lo, hi := m.window(v, page)
	if err := m.fill(v, lo, hi); err != nil {
		return false, err
	}
	done, n, at, err := m.dataRun(mp, v, page)
	if !done || err != nil {
		return done, err
	}
	res.COW, res.COWAt = n, at
	// A shared library's data segment is touched (its .bss tail zeroed)
	// before its other segments: map those below it from the file now.
	// (Above it lies the .bss, or, until the dynamic linker maps that, the
	// rest of its reservation of the library's span.)
	if hm, ok := mp.(platform.HostFileMapper); ok {
		before := m.stats.HostFileMaps
		f, _ := v.File.(HostFiler).HostFile()
		err = m.hostFileSiblings(hm, f, v, true)
		res.HostFileMaps += m.stats.HostFileMaps - before
	}
	return true, err
}

// dataSegment reports whether v is a small writable private mapping of a
// file nothing can change, whose first touch dataRun answers.
func (m *MM) dataSegment(v *VMA) bool {
	if v.Shared || v.File == nil || v.Prot&unix.PROT_WRITE == 0 || v.Uffd != nil ||
		v.Flags&(VMUffdMissing|VMUffdWP) != 0 || m.narrow || v.End-v.Start > dataRunMax<<abi.PageShift {
		return false
	}
	hf, ok := v.File.(HostFiler)
	if !ok {
		return false
	}
	_, ok = hf.HostFile()
	return ok
}

// dataRunMax bounds, in pages, the writable private file mappings whose
// first touch takes all their pages at once (dataRun).
const dataRunMax = 32

// dataRun answers the first touch of page, in a small writable private
// mapping of a file nothing can change (a program's or library's data
// segment: HostFiler), by giving every page of the mapping around it that
// is backed and not host-mapped writable a frame of its own, copied, and
// mapping them writable with one host mmap. Start-up code writes nearly
// every page of such a segment (relocations, then RELRO's mprotect), one
// write fault each otherwise. As the file cannot change, a page copied
// before it is written reads the same as the file's page would: only the
// memory used shows it. Pages that are already this address space's own
// (the loader zeroed a segment's tail) move to the new frames, unless
// pinned for I/O. It reports whether it mapped page, and the pages it
// copied: how many, from which on.
func (m *MM) dataRun(mp Mapper, v *VMA, page uint64) (bool, int, uint64, error) {
	if !m.dataSegment(v) {
		return false, 0, 0, nil
	}
	ok := func(a uint64) bool {
		q := m.pt.get(a)
		return q.present() && !q.mappedWritable() && q&pteUffdWP == 0 && !m.mf.Pinned(q.frame())
	}
	if !ok(page) {
		return false, 0, 0, nil
	}
	lo, hi := page, page+abi.PageSize
	for lo > v.Start && ok(lo-abi.PageSize) {
		lo -= abi.PageSize
	}
	for hi < v.End && ok(hi) {
		hi += abi.PageSize
	}
	n := int((hi - lo) >> abi.PageShift)
	if n == 1 && m.pt.get(page).mapped() {
		return false, 0, 0, nil // makeWritable's, which may reuse the frame
	}
	nf, err := m.mf.Alloc(uint64(n))
	if err != nil {
		return false, 0, 0, err
	}
	olds := make([]memfile.Frame, n)
	for i := range olds {
		olds[i] = m.pt.get(lo + uint64(i)<<abi.PageShift).frame()
	}
	m.mf.CopyInto(nf, olds)
	for i := range olds {
		m.pt.set(lo+uint64(i)<<abi.PageShift, mkpte(nf+memfile.Frame(i)))
	}
	m.stats.COWCopies += uint64(n)
	err = m.hostMap(mp, lo, hi, v.Prot, nf)
	// As in copyRun: the old frames go once the host maps the new ones.
	for _, f := range olds {
		m.mf.DecRef(f, 1)
	}
	return true, n, lo, err
}
