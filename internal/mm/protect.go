package mm

import (
	"sort"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
)

// maxProtectRuns bounds the host mprotect calls one mprotect may make to
// keep its host mappings; a range mapped in more pieces is unmapped with
// one call instead and its pages fault back with the new protection.
const maxProtectRuns = 8

// protectRun is a range the host maps whose protection becomes prot;
// change: for some of its pages that is a change.
type protectRun struct {
	start, end uint64
	prot       int
	change     bool
}

// onlyRemoves reports whether prot grants nothing that some VMA of the
// range lacks: then every page the host maps there may keep
// its mapping with its rights lowered.
func onlyRemoves(vs []*VMA, prot int) bool {
	for _, v := range vs {
		if prot&^v.Prot != 0 {
			return false
		}
	}
	return true
}

// protectHost lowers the protection of the host's mappings in the VMAs
// vs (carved to the range, their protection not yet changed) to prot,
// which grants no right any of them lacked (onlyRemoves): frames the ptes
// say are mapped keep write access only if they had it and prot has it
// (pteMapW follows), and ranges mapped from a host file (hostfile.go,
// never writable) take prot as it is. Runs only over VMAs that keep
// their protection are left alone. Nothing is mapped anew, so no page gains a right:
// copy-on-write pages, uffd-wp pages and patched pages stay as they are.
// It returns false, having changed nothing, when the mappings lie in more
// than maxProtectRuns runs; the caller then unmaps them.
// Linux: mm/mprotect.c (change_protection keeps the ptes, lowering them)
func (m *MM) protectHost(mp Mapper, vs []*VMA, prot int) (bool, error) {
	same := true
	for _, v := range vs {
		same = same && v.Prot == prot
	}
	if same {
		return true, nil
	}
	var runs []protectRun
	many := false
	add := func(lo, hi uint64, prot int, change bool) {
		if n := len(runs); n > 0 && runs[n-1].end == lo && runs[n-1].prot == prot {
			runs[n-1].end = hi
			runs[n-1].change = runs[n-1].change || change
			return
		}
		if len(runs) == maxProtectRuns {
			many = true
			return
		}
		runs = append(runs, protectRun{lo, hi, prot, change})
	}
	for _, v := range vs {
		change := v.Prot != prot
		m.pt.forRange(v.Start, v.End, func(a uint64, p pte) {
			if !p.mapped() || many {
				return
			}
			pr := prot
			if !p.mappedWritable() {
				pr &^= unix.PROT_WRITE
			}
			add(a, a+abi.PageSize, pr, change)
		})
		// Host-file ranges hold no ptes: merge them in address order.
		for i := m.hostFiles.first(v.Start); i < len(m.hostFiles.r) && m.hostFiles.r[i].start < v.End && !many; i++ {
			r := m.hostFiles.r[i]
			lo, hi := max(r.start, v.Start), min(r.end, v.End)
			k := sort.Search(len(runs), func(k int) bool { return runs[k].start >= lo })
			switch {
			case k > 0 && runs[k-1].end == lo && runs[k-1].prot == prot:
				runs[k-1].end = hi
				runs[k-1].change = runs[k-1].change || change
				if k < len(runs) && runs[k].start == hi && runs[k].prot == prot {
					runs[k-1].end = runs[k].end
					runs[k-1].change = runs[k-1].change || runs[k].change
					runs = append(runs[:k], runs[k+1:]...)
				}
			case k < len(runs) && runs[k].start == hi && runs[k].prot == prot:
				runs[k].start = lo
				runs[k].change = runs[k].change || change
			case len(runs) == maxProtectRuns:
				many = true
			default:
				runs = append(runs[:k], append([]protectRun{{lo, hi, prot, change}}, runs[k:]...)...)
			}
		}
	}
	if many {
		return false, nil
	}
	if len(runs) > 0 && mp == nil {
		return false, errNoMapper
	}
	for _, r := range runs {
		if !r.change {
			continue
		}
		m.stats.HostMaps++
		if err := mp.Protect(r.start, r.end-r.start, r.prot); err != nil {
			return true, err
		}
		if r.prot&unix.PROT_WRITE == 0 {
			m.pt.forRange(r.start, r.end, func(a uint64, p pte) {
				if p.mappedWritable() {
					m.pt.set(a, p&^pteMapW)
				}
			})
		}
	}
	return true, nil
}
