package mm

import (
	"sort"

	"glassbox/internal/abi"
	"glassbox/internal/memfile"
)

// pte is one guest page's entry: the backing frame and host mapping state.
type pte uint64

const (
	ptePresent pte = 1 << 0 // a frame backs this page (one reference held)
	pteMapped  pte = 1 << 1 // the host maps it in the stub
	pteMapW    pte = 1 << 2 // ... and writable
	pteFlags       = ptePresent | pteMapped | pteMapW
	// pteSwapped: not present; the page's contents are in swap slot
	// p>>PageShift (one slot reference held).
	pteSwapped pte = 1 << 3
	// pteUffdWP: a present page write-protected by userfaultfd
	// (userfault.go); the host maps it read-only.
	pteUffdWP pte = 1 << 4
)

func mkpte(f memfile.Frame) pte    { return pte(f)<<abi.PageShift | ptePresent }
func (p pte) frame() memfile.Frame { return memfile.Frame(p >> abi.PageShift) }
func (p pte) present() bool        { return p&ptePresent != 0 }
func (p pte) mapped() bool         { return p&pteMapped != 0 }
func (p pte) mappedWritable() bool { return p&pteMapW != 0 }
func mkswp(slot uint64) pte        { return pte(slot)<<abi.PageShift | pteSwapped }
func (p pte) swapped() bool        { return p&pteSwapped != 0 }
func (p pte) slot() uint64         { return uint64(p >> abi.PageShift) }

const chunkShift = 21 // one leaf table covers 2 MiB
const chunkPages = 1 << (chunkShift - abi.PageShift)

type ptLeaf struct {
	e    [chunkPages]pte
	used int // entries that are present
}

// pageTable maps guest pages to ptes, sparse at 2 MiB granularity.
type pageTable struct {
	leaves map[uint64]*ptLeaf
	// resident counts present entries; peak is resident's high-water
	// mark (ru_maxrss, VmHWM).
	resident, peak uint64
}

func newPageTable() pageTable { return pageTable{leaves: map[uint64]*ptLeaf{}} }

// get returns the pte of the page holding a.
func (t *pageTable) get(a uint64) pte {
	l := t.leaves[a>>chunkShift]
	if l == nil {
		return 0
	}
	return l.e[(a>>abi.PageShift)&(chunkPages-1)]
}

// set stores the pte of the page holding a.
func (t *pageTable) set(a uint64, p pte) {
	k := a >> chunkShift
	l := t.leaves[k]
	if l == nil {
		if p == 0 {
			return
		}
		l = &ptLeaf{}
		t.leaves[k] = l
	}
	i := (a >> abi.PageShift) & (chunkPages - 1)
	if l.e[i].present() != p.present() {
		if p.present() {
			l.used++
			if t.resident++; t.resident > t.peak {
				t.peak = t.resident
			}
		} else {
			l.used--
			t.resident--
		}
	}
	l.e[i] = p
	if l.used == 0 && p == 0 {
		// Keep leaves with mapped-but-not-present state (cannot happen)
		// out of the question: an empty leaf is dropped.
		empty := true
		for _, e := range l.e {
			if e != 0 {
				empty = false
				break
			}
		}
		if empty {
			delete(t.leaves, k)
		}
	}
}

// forRange calls fn for every page in [start, end) that has a non-zero
// pte, in address order.
func (t *pageTable) forRange(start, end uint64, fn func(a uint64, p pte)) {
	first, last := start>>chunkShift, (end-1)>>chunkShift
	var keys []uint64
	if last-first+1 > uint64(len(t.leaves)) {
		// A huge, sparse range: walk the leaves that exist.
		for k := range t.leaves {
			if k >= first && k <= last {
				keys = append(keys, k)
			}
		}
		sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	} else {
		for c := first; c <= last; c++ {
			keys = append(keys, c)
		}
	}
	for _, c := range keys {
		l := t.leaves[c]
		if l == nil {
			continue
		}
		lo := c << chunkShift
		for i := range l.e {
			a := lo + uint64(i)<<abi.PageShift
			if a < start || a >= end || l.e[i] == 0 {
				continue
			}
			fn(a, l.e[i])
		}
	}
}

// frameRun batches DecRefs of consecutive frames, so that freeing a large
// range costs one hole punch per contiguous run instead of one per page.
type frameRun struct {
	mf    *memfile.File
	start memfile.Frame
	n     uint64
}

func (r *frameRun) add(f memfile.Frame) {
	if r.n > 0 && r.start+memfile.Frame(r.n) == f {
		r.n++
		return
	}
	r.flush()
	r.start, r.n = f, 1
}

func (r *frameRun) flush() {
	if r.n > 0 {
		r.mf.DecRef(r.start, r.n)
		r.n = 0
	}
}
