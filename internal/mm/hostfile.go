package mm

import (
	"errors"
	"sort"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/platform"
)

// Host-file mappings (platform.HostFileMapper). A read or exec fault in a
// private, never-writable mapping of a host file that nothing in the
// sandbox can write maps the file's pages straight into the stub, private
// and read-only, instead of copying them into the memory file and mapping
// frames: the host's page cache backs them and the host's own faults (and
// fault-around) fill them in. Those pages have no pte at all, so the ranges
// are kept apart (MM.hostFiles) and every path that removes or changes host
// mappings covers them too (unmapHost, hostMapFill, ownPage; doc.go,
// invariant 8).

// HostFiler is implemented by Mappables whose bytes are a host file's that
// no guest can ever change through glassbox (a file of a read-only mount,
// or of an overlay's read-only lower layer): the host may map that file's
// pages in place of the object's. ok false: not now (or not this object).
type HostFiler interface {
	HostFile() (f platform.HostFile, ok bool)
}

// hostFileSet is the ranges of an address space the host maps from a host
// file with no pte behind them: sorted, disjoint and never adjacent
// [start, end) pairs. Guarded by MM.mu.
type hostFileSet struct {
	r []pendingRange
}

// first returns the index of the first range ending after a.
func (s *hostFileSet) first(a uint64) int {
	return sort.Search(len(s.r), func(i int) bool { return s.r[i].end > a })
}

// has reports whether the page at a lies in a range.
func (s *hostFileSet) has(a uint64) bool {
	i := s.first(a)
	return i < len(s.r) && s.r[i].start <= a
}

// add records [start, end), merging with what it touches.
func (s *hostFileSet) add(start, end uint64) {
	i := sort.Search(len(s.r), func(i int) bool { return s.r[i].end >= start })
	j := i
	for j < len(s.r) && s.r[j].start <= end {
		start, end = min(start, s.r[j].start), max(end, s.r[j].end)
		j++
	}
	s.r = append(s.r[:i], append([]pendingRange{{start, end}}, s.r[j:]...)...)
}

// remove forgets [start, end) and returns the span [lo, hi) of what was
// recorded there (hi == 0: nothing).
func (s *hostFileSet) remove(start, end uint64) (lo, hi uint64) {
	i := s.first(start)
	if i >= len(s.r) || s.r[i].start >= end {
		return 0, 0
	}
	lo = max(s.r[i].start, start)
	j := i
	for j < len(s.r) && s.r[j].start < end {
		j++
	}
	hi = min(s.r[j-1].end, end)
	var keep []pendingRange
	if s.r[i].start < start {
		keep = append(keep, pendingRange{s.r[i].start, start})
	}
	if s.r[j-1].end > end {
		keep = append(keep, pendingRange{end, s.r[j-1].end})
	}
	s.r = append(s.r[:i], append(keep, s.r[j:]...)...)
	return lo, hi
}

// hostFileEligible returns the host file that may back v's pages, if v is
// a private mapping that can never be written (its protection is within
// PROT_READ|PROT_EXEC: mprotect adding PROT_WRITE drops the host's
// mappings first) of such a file, with no userfaultfd and no mlock.
func hostFileEligible(v *VMA) (platform.HostFile, bool) {
	if v.File == nil || v.Shared || v.Prot&^(unix.PROT_READ|unix.PROT_EXEC) != 0 || v.Prot == unix.PROT_NONE ||
		v.Uffd != nil || v.Flags&(VMLocked|VMLockOnFault|VMUffdMissing|VMUffdWP) != 0 {
		return platform.HostFile{}, false
	}
	hf, ok := v.File.(HostFiler)
	if !ok {
		return platform.HostFile{}, false
	}
	return hf.HostFile()
}

// hostFileTarget returns the Mapper and host file that may map v's pages
// from the file, if there are both.
func (m *MM) hostFileTarget(mp Mapper, v *VMA) (platform.HostFileMapper, platform.HostFile, bool) {
	hm, ok := mp.(platform.HostFileMapper)
	if !ok {
		return nil, platform.HostFile{}, false
	}
	f, ok := hostFileEligible(v)
	return hm, f, ok
}

// hostFileFault answers a read or exec fault at page (which has no pte and
// is not host-mapped from the file already) in v by mapping every run of
// v's pages below the file's end that has no pte and no host-file mapping,
// the faulting page's run first, and then those of the mappings of the
// same object that adjoin v and may be mapped so too (hostFileSiblings
// either side at most). It reports whether it mapped the faulting page;
// false with no error: the platform cannot map the file now
// (ErrNoHostFile), and the caller maps frames as for any mapping.
// m.mu is held.
func (m *MM) hostFileFault(hm platform.HostFileMapper, f platform.HostFile, v *VMA, page uint64) (bool, error) {
	// The faulting page's run goes first: if the platform cannot map the
	// file, nothing has changed and the fault is resolved with frames.
	if mapped, _, err := m.hostFileMapVMA(hm, f, v, page); mapped == 0 || err != nil {
		return mapped > 0, err
	}
	return true, m.hostFileSiblings(hm, f, v, false)
}

// hostFileSiblings host-file maps the mappings of v's object right next
// to v (below it only, with below) that may be mapped so (an ELF object's
// headers, code and read-only data are three of them, each touched soon
// after the others): one host call each now rather than a fault each
// later. m.mu is held.
func (m *MM) hostFileSiblings(hm platform.HostFileMapper, f platform.HostFile, v *VMA, below bool) error {
	i := m.vmas.firstEndingAfter(v.Start)
	sibling := func(k, dir int) bool {
		if k < 0 || k >= len(m.vmas.v) || k < i-hostFileSiblings || k > i+hostFileSiblings {
			return false
		}
		w, prev := m.vmas.v[k], m.vmas.v[k-dir]
		if w.File != v.File || dir < 0 && w.End != prev.Start || dir > 0 && w.Start != prev.End {
			return false
		}
		wf, ok := hostFileEligible(w)
		return ok && wf == f
	}
	dirs := []int{-1, 1}
	if below {
		dirs = dirs[:1]
	}
	for _, dir := range dirs {
		for k := i + dir; sibling(k, dir); k += dir {
			if mapped, runs, err := m.hostFileMapVMA(hm, f, m.vmas.v[k], 0); mapped < runs || err != nil {
				return err
			}
		}
	}
	return nil
}

// hostFileSiblings bounds how many mappings either side of a faulting one
// a host-file fault maps too.
const hostFileSiblings = 3

// hostFileMapVMA maps every run of v's pages below the file's end that
// has no pte and no host-file mapping, the one holding page (if any)
// first. It returns how many runs it mapped, of how many; fewer with no
// error: the platform cannot map the file now (ErrNoHostFile).
func (m *MM) hostFileMapVMA(hm platform.HostFileMapper, f platform.HostFile, v *VMA, page uint64) (int, int, error) {
	runs := m.hostFileRuns(v.Start, m.eofAddr(v))
	for i, r := range runs {
		if r.start <= page && page < r.end {
			runs[0], runs[i] = runs[i], runs[0]
			break
		}
	}
	for i, r := range runs {
		m.stats.HostMaps++
		err := hm.MapHostFile(r.start, r.end-r.start, v.Prot, f, v.fileOffset(r.start))
		if errors.Is(err, platform.ErrNoHostFile) {
			return i, len(runs), nil
		}
		if err != nil {
			return i, len(runs), err
		}
		m.stats.HostFileMaps++
		m.hostFiles.add(r.start, r.end)
	}
	return len(runs), len(runs), nil
}

// hostFileRuns returns the runs of [start, end) whose pages have no pte
// and are not host-file mapped. m.mu is held.
func (m *MM) hostFileRuns(start, end uint64) []pendingRange {
	var runs []pendingRange
	emit := func(lo, hi uint64) {
		// Cut out what the host maps from the file already.
		for i := m.hostFiles.first(lo); lo < hi; i++ {
			if i >= len(m.hostFiles.r) || m.hostFiles.r[i].start >= hi {
				runs = appendRun(runs, lo, hi)
				return
			}
			r := m.hostFiles.r[i]
			if r.start > lo {
				runs = appendRun(runs, lo, r.start)
			}
			lo = max(lo, r.end)
		}
	}
	lo := start // the start of the pte-less stretch being walked
	for a := start; a < end; {
		l := m.pt.leaves[a>>chunkShift]
		next := min((a>>chunkShift+1)<<chunkShift, end)
		if l == nil {
			a = next
			continue
		}
		for ; a < next; a += abi.PageSize {
			if l.e[(a>>abi.PageShift)&(chunkPages-1)] != 0 {
				if a > lo {
					emit(lo, a)
				}
				lo = a + abi.PageSize
			}
		}
	}
	if end > lo {
		emit(lo, end)
	}
	return runs
}

func appendRun(runs []pendingRange, lo, hi uint64) []pendingRange {
	if n := len(runs); n > 0 && runs[n-1].end == lo {
		runs[n-1].end = hi
		return runs
	}
	return append(runs, pendingRange{lo, hi})
}
