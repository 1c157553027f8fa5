package mm

import (
	"sync"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/memfile"
)

// Shmem is memory shared by reference: the pages of a MAP_SHARED anonymous
// mapping (and, later, of tmpfs files). Its pages are allocated on first
// use; it holds one reference on each.
type Shmem struct {
	mf *memfile.File

	mu     sync.Mutex
	size   uint64
	frames memfile.PageMap
	users  int
}

// NewShmem returns a zero-filled object of size bytes with one user.
func NewShmem(mf *memfile.File, size uint64) *Shmem {
	return &Shmem{mf: mf, size: size, users: 1}
}

// Size implements Mappable.
func (s *Shmem) Size() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.size
}

// Translate implements Mappable.
func (s *Shmem) Translate(pg, n uint64) (memfile.Frame, uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if pg >= pageRoundUp(s.size)>>abi.PageShift {
		return 0, 0, unix.EFAULT
	}
	if _, ok := s.frames.Get(pg); !ok {
		// Allocate the run of missing pages starting at pg together.
		limit := pageRoundUp(s.size) >> abi.PageShift
		cnt := max(s.frames.Holes(pg, min(n, limit-pg)), 1)
		base, err := s.mf.Alloc(cnt)
		if err != nil {
			return 0, 0, err
		}
		s.mf.AddHeld(int64(cnt))
		for i := uint64(0); i < cnt; i++ {
			s.frames.Set(pg+i, base+memfile.Frame(i))
		}
	}
	fr, got := s.frames.Run(pg, max(n, 1))
	for i := uint64(0); i < got; i++ {
		s.mf.IncRef(fr + memfile.Frame(i))
	}
	return fr, got, nil
}

// IncRef adds a user (a VMA or an open file).
func (s *Shmem) IncRef() {
	s.mu.Lock()
	s.users++
	s.mu.Unlock()
}

// DecRef drops a user; the last one frees the pages.
func (s *Shmem) DecRef() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users--
	if s.users > 0 {
		return
	}
	s.mf.AddHeld(-int64(s.frames.Len()))
	s.frames.Range(0, ^uint64(0), func(pg uint64, f memfile.Frame) bool {
		s.mf.DecRef(f, 1)
		s.frames.Delete(pg)
		return true
	})
}
