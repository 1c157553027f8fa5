package mm

import (
	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/memfile"
	"glassbox/internal/platform"
)

// hostProt is the protection the host may give page p of v: private pages
// that someone else also references stay read-only until written.
func (m *MM) hostProt(v *VMA, p pte) int {
	prot := v.Prot
	if p&pteUffdWP != 0 || !v.Shared && prot&unix.PROT_WRITE != 0 && m.mf.Refs(p.frame()) > 1 {
		prot &^= unix.PROT_WRITE
	}
	return prot
}

// populateAndMap backs the window around page (with single, page alone:
// the host maps the file's other pages itself) and maps the largest run
// of backed pages around it in the window that one host mmap can cover.
func (m *MM) populateAndMap(mp Mapper, v *VMA, page uint64, single bool) error {
	lo, hi := m.window(v, page)
	fresh := v.File == nil && m.pt.get(page) == 0
	flo, fhi := lo, hi
	if single {
		flo, fhi = page, page+abi.PageSize
	}
	if err := m.fill(v, flo, fhi); err != nil {
		return err
	}
	p := m.pt.get(page)
	prot := m.hostProt(v, p)
	start, end := page, page+abi.PageSize
	for start > lo {
		q := m.pt.get(start - abi.PageSize)
		if q.mapped() || !q.present() || q.frame()+1 != m.pt.get(start).frame() || m.hostProt(v, q) != prot {
			break
		}
		start -= abi.PageSize
	}
	for end < hi {
		q := m.pt.get(end)
		if q.mapped() || !q.present() || q.frame() != m.pt.get(end-abi.PageSize).frame()+1 || m.hostProt(v, q) != prot {
			break
		}
		end += abi.PageSize
	}
	// Fresh anonymous frames are holes in the memory file: the host
	// allocates and clears each on its first touch, a fault a page. A
	// guest that touches memory in order (this fault is at the page right
	// after the run the last fault mapped) has the host do that for the
	// whole run in the mapping call. Others, and pages that hold data
	// (file caches, frames shared after fork), are left to the host's
	// faults: reads of those fault around 16 pages at a time, cheaper
	// than populating, and a sparse toucher would pay for pages it never
	// uses.
	populate := fresh && page == m.fillNext
	m.fillNext = end
	return m.hostMapFill(mp, start, end, prot, m.pt.get(start).frame(), populate)
}

// hostMap maps [start, end) to consecutive frames from fr and records it.
func (m *MM) hostMap(mp Mapper, start, end uint64, prot int, fr memfile.Frame) error {
	return m.hostMapFill(mp, start, end, prot, fr, false)
}

// hostMapFill is hostMap that, with populate, also has the host fill in
// its page tables for the run at once where the platform can
// (platform.PopulateMapper), for pages the guest is about to touch.
func (m *MM) hostMapFill(mp Mapper, start, end uint64, prot int, fr memfile.Frame, populate bool) error {
	m.stats.HostMaps++
	var err error
	if pm, ok := mp.(platform.PopulateMapper); ok && populate {
		err = pm.MapPopulate(start, end-start, prot, fr.Offset())
	} else {
		err = mp.Map(start, end-start, prot, fr.Offset())
	}
	if err != nil {
		return err
	}
	// MAP_FIXED replaced whatever the host mapped from a file there.
	m.hostFiles.remove(start, end)
	flags := pteMapped
	if prot&unix.PROT_WRITE != 0 {
		flags |= pteMapW
	}
	for a := start; a < end; a += abi.PageSize {
		m.pt.set(a, m.pt.get(a)&^pteFlags|ptePresent|flags)
	}
	return nil
}
