package mm

import (
	"glassbox/internal/abi"
	"glassbox/internal/memfile"
)

// The optional Mappable interfaces (invalidate.go) for mm's own objects.

// Lookup implements Lookuper.
func (s *Shmem) Lookup(pg uint64) (memfile.Frame, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.frames.Get(pg)
}

// PunchHole implements HolePuncher: the whole pages of [off, off+length)
// are freed and read as zeros again (partial pages are zeroed).
// Linux: mm/shmem.c (shmem_fallocate, FALLOC_FL_PUNCH_HOLE)
func (s *Shmem) PunchHole(off, length uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	end := off + length
	if end <= off {
		return nil
	}
	s.frames.Range(off>>abi.PageShift, (end-1)>>abi.PageShift+1, func(pg uint64, f memfile.Frame) bool {
		lo, hi := max(off, pg<<abi.PageShift), min(end, (pg+1)<<abi.PageShift)
		if hi-lo == abi.PageSize {
			s.mf.DecRef(f, 1)
			s.mf.AddHeld(-1)
			s.frames.Delete(pg)
		} else {
			clear(s.mf.Bytes(f, 1)[lo&abi.PageMask : (hi-1)&abi.PageMask+1])
		}
		return true
	})
	return nil
}

// Lookup implements Lookuper: the frame of page pg if it was read in.
func (c *FileCache) Lookup(pg uint64) (memfile.Frame, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := c.chunks[pg/cacheChunkPages]
	if ch == nil {
		return 0, false
	}
	i := pg % cacheChunkPages
	if i >= ch.n || ch.filled[i/64]&(1<<(i%64)) == 0 {
		return 0, false
	}
	return ch.base + memfile.Frame(i), true
}
