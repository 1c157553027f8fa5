package memfile

import "slices"

// PageMap maps the page indices of a file-like object (a tmpfs file, a
// shared memory object, a page cache) to the frames that hold them; an
// absent page is a hole. It is sparse at the granularity of a chunk of
// pmChunkPages pages and stores a frame in 4 bytes, so a dense object
// costs about 4 bytes of glassbox memory per 4 KiB page (a Go map costs
// ten times that), and a chunk whose last page goes away is dropped.
//
// The zero value is an empty map. A PageMap is not safe for concurrent
// use: its owner's lock guards it.
type PageMap struct {
	chunks map[uint64]*pmChunk
	n      int // pages present
}

// pmChunkPages is how many pages one chunk covers (2 MiB).
const pmChunkPages = 512

type pmChunk struct {
	slot [pmChunkPages]uint32 // frame+1; 0: hole
	n    int                  // slots in use
}

// maxFrames bounds the frames of a memory file: a PageMap slot holds
// frame+1 in a uint32.
const maxFrames = 1<<32 - 1

// Len returns how many pages are present.
func (m *PageMap) Len() int { return m.n }

// Get returns the frame of page pg.
func (m *PageMap) Get(pg uint64) (Frame, bool) {
	c := m.chunks[pg/pmChunkPages]
	if c == nil {
		return 0, false
	}
	s := c.slot[pg%pmChunkPages]
	if s == 0 {
		return 0, false
	}
	return Frame(s) - 1, true
}

// Set makes fr the frame of page pg.
func (m *PageMap) Set(pg uint64, fr Frame) {
	if uint64(fr) >= maxFrames {
		panic("memfile: frame out of PageMap's range")
	}
	k := pg / pmChunkPages
	c := m.chunks[k]
	if c == nil {
		if m.chunks == nil {
			m.chunks = map[uint64]*pmChunk{}
		}
		c = &pmChunk{}
		m.chunks[k] = c
	}
	s := &c.slot[pg%pmChunkPages]
	if *s == 0 {
		c.n++
		m.n++
	}
	*s = uint32(fr) + 1
}

// Delete removes page pg and returns the frame it had.
func (m *PageMap) Delete(pg uint64) (Frame, bool) {
	k := pg / pmChunkPages
	c := m.chunks[k]
	if c == nil {
		return 0, false
	}
	s := &c.slot[pg%pmChunkPages]
	if *s == 0 {
		return 0, false
	}
	fr := Frame(*s) - 1
	*s = 0
	c.n--
	m.n--
	if c.n == 0 {
		delete(m.chunks, k)
	}
	return fr, true
}

// Run returns the frame of page pg and how many of the pages pg, pg+1, ...
// (at most n) are backed by consecutive frames starting there: one host
// mapping can cover them. It returns 0, 0 if pg is a hole.
func (m *PageMap) Run(pg, n uint64) (Frame, uint64) {
	fr, ok := m.Get(pg)
	if !ok || n == 0 {
		return 0, 0
	}
	got := uint64(1)
	var c *pmChunk
	for got < n {
		p := pg + got
		if c == nil || p%pmChunkPages == 0 {
			if c = m.chunks[p/pmChunkPages]; c == nil {
				break
			}
		}
		if uint64(c.slot[p%pmChunkPages]) != uint64(fr)+got+1 {
			break
		}
		got++
	}
	return fr, got
}

// Holes returns how many of the pages pg, pg+1, ... (at most n) are holes
// in a row.
func (m *PageMap) Holes(pg, n uint64) uint64 {
	got := uint64(0)
	for got < n {
		p := pg + got
		c := m.chunks[p/pmChunkPages]
		if c == nil {
			got += min(pmChunkPages-p%pmChunkPages, n-got)
			continue
		}
		for ; got < n; got++ {
			i := (pg + got) % pmChunkPages
			if c.slot[i] != 0 {
				return got
			}
			if i == pmChunkPages-1 {
				got++
				break
			}
		}
	}
	return got
}

// Range calls fn for each present page in [from, to), in page order,
// until fn returns false. fn may Delete the page it is given, and nothing
// else. The cost is that of the present pages (and their chunks), not of
// the range: a caller may pass to = ^uint64(0).
func (m *PageMap) Range(from, to uint64, fn func(pg uint64, fr Frame) bool) {
	if from >= to || m.n == 0 {
		return
	}
	first, last := from/pmChunkPages, (to-1)/pmChunkPages
	var keys []uint64
	if last-first < uint64(len(m.chunks)) {
		for k := first; k <= last; k++ {
			if m.chunks[k] != nil {
				keys = append(keys, k)
			}
		}
	} else {
		for k := range m.chunks {
			if k >= first && k <= last {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
	}
	for _, k := range keys {
		c := m.chunks[k]
		lo, hi := uint64(0), uint64(pmChunkPages)
		if k == first {
			lo = from % pmChunkPages
		}
		if k == last {
			hi = (to-1)%pmChunkPages + 1
		}
		for i := lo; i < hi && c.n > 0; i++ {
			if s := c.slot[i]; s != 0 && !fn(k*pmChunkPages+i, Frame(s)-1) {
				return
			}
		}
	}
}

// NextPresent returns the first present page >= pg.
func (m *PageMap) NextPresent(pg uint64) (uint64, bool) {
	next, found := uint64(0), false
	m.Range(pg, ^uint64(0), func(p uint64, _ Frame) bool {
		next, found = p, true
		return false
	})
	return next, found
}

// NextHole returns the first hole >= pg.
func (m *PageMap) NextHole(pg uint64) uint64 {
	for {
		c := m.chunks[pg/pmChunkPages]
		if c == nil {
			return pg
		}
		if c.n < pmChunkPages {
			for i := pg % pmChunkPages; i < pmChunkPages; i++ {
				if c.slot[i] == 0 {
					return pg - pg%pmChunkPages + i
				}
			}
		}
		pg = pg - pg%pmChunkPages + pmChunkPages
	}
}
