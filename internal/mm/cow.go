package mm

import (
	"glassbox/internal/abi"
	"glassbox/internal/memfile"
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
