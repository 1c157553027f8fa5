package mm

import "glassbox/internal/memfile"

// Totals are system-wide page counts over every live address space, for
// /proc/meminfo. Frames are counted once however many spaces map them;
// file and shared-memory pages nobody maps are not seen.
type Totals struct {
	FileMapped  uint64 // bytes of file cache pages mapped somewhere (Cached, Mapped)
	ShmemMapped uint64 // bytes of shared memory mapped somewhere (Shmem)
	AnonPages   uint64 // bytes of anonymous pages (private copies included)
	Mlocked     uint64 // bytes of pages in locked VMAs
}

// SystemTotals walks every live address space.
func SystemTotals() Totals {
	live.Lock()
	mms := make([]*MM, 0, len(live.mms))
	for m := range live.mms {
		mms = append(mms, m)
	}
	live.Unlock()
	seen := map[memfile.Frame]bool{}
	locked := map[memfile.Frame]bool{}
	var t Totals
	for _, m := range mms {
		m.mu.Lock()
		for _, v := range m.vmas.v {
			m.pt.forRange(v.Start, v.End, func(a uint64, p pte) {
				if !p.present() {
					return
				}
				fr := p.frame()
				if v.Flags&VMLocked != 0 && !locked[fr] {
					locked[fr] = true
					t.Mlocked += 4096
				}
				if seen[fr] {
					return
				}
				seen[fr] = true
				k := m.kindOf(v, a, p)
				switch {
				case !k.cache:
					t.AnonPages += 4096
				case k.shmem:
					t.ShmemMapped += 4096
				default:
					t.FileMapped += 4096
				}
			})
		}
		m.mu.Unlock()
	}
	return t
}
