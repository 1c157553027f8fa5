package mm

import (
	"sort"

	"glassbox/internal/memfile"
)

// Mappable is something whose pages can back a VMA: a file's page cache or
// a shared-memory object.
type Mappable interface {
	// Translate returns the frame that holds page pg of the object and how
	// many following pages (at least 1, at most n) sit in consecutive
	// frames. Each of those frames carries one new reference, owned by the
	// caller. Pages must lie below Size.
	Translate(pg, n uint64) (memfile.Frame, uint64, error)
	// Size is the object's size in bytes; pages wholly beyond it raise SIGBUS.
	Size() uint64
}

// VMA is one guest mapping as the guest asked for it.
type VMA struct {
	Start, End uint64 // page aligned, Start < End
	Prot       int    // PROT_READ|PROT_WRITE|PROT_EXEC
	Shared     bool   // MAP_SHARED: writes reach the object, no COW
	File       Mappable
	Off        uint64    // byte offset into File of Start
	Name       string    // path, "[heap]", "[stack]" or ""
	Dev, Ino   uint64    // of the mapped file, for /proc/PID/maps
	Flags      VMFlags   // madvise and mlock state (advice.go, mlock.go)
	Uffd       Userfault // the userfaultfd it is registered with (userfault.go)
}

// fileOffset returns the object offset that backs address a.
func (v *VMA) fileOffset(a uint64) uint64 { return v.Off + (a - v.Start) }

// userCounted objects count the VMAs that map them.
type userCounted interface {
	IncRef()
	DecRef()
}

func objRef(o Mappable) {
	if u, ok := o.(userCounted); ok {
		u.IncRef()
	}
}

func objUnref(o Mappable) {
	if u, ok := o.(userCounted); ok {
		u.DecRef()
	}
}

// vmaSet is the sorted, non-overlapping list of VMAs.
type vmaSet struct {
	v []*VMA
}

// find returns the VMA containing a, or nil.
func (s *vmaSet) find(a uint64) *VMA {
	i := sort.Search(len(s.v), func(i int) bool { return s.v[i].End > a })
	if i < len(s.v) && s.v[i].Start <= a {
		return s.v[i]
	}
	return nil
}

// firstEndingAfter returns the index of the first VMA with End > a.
func (s *vmaSet) firstEndingAfter(a uint64) int {
	return sort.Search(len(s.v), func(i int) bool { return s.v[i].End > a })
}

// overlaps reports whether any VMA intersects [start, end).
func (s *vmaSet) overlaps(start, end uint64) bool {
	i := s.firstEndingAfter(start)
	return i < len(s.v) && s.v[i].Start < end
}

// insert adds v, which must not overlap anything, merging with compatible
// neighbours.
func (s *vmaSet) insert(v *VMA) {
	i := s.firstEndingAfter(v.Start)
	s.v = append(s.v, nil)
	copy(s.v[i+1:], s.v[i:])
	s.v[i] = v
	s.mergeAround(i)
}

func mergeable(a, b *VMA) bool {
	if a.End != b.Start || a.Prot != b.Prot || a.Shared != b.Shared || a.File != b.File || a.Name != b.Name || a.Flags != b.Flags || a.Uffd != b.Uffd {
		return false
	}
	return a.File == nil && !a.Shared || a.fileOffset(a.End) == b.Off
}

func (s *vmaSet) mergeAround(i int) {
	if i+1 < len(s.v) && mergeable(s.v[i], s.v[i+1]) {
		objUnref(s.v[i+1].File)
		s.v[i].End = s.v[i+1].End
		s.v = append(s.v[:i+1], s.v[i+2:]...)
	}
	if i > 0 && mergeable(s.v[i-1], s.v[i]) {
		objUnref(s.v[i].File)
		s.v[i-1].End = s.v[i].End
		s.v = append(s.v[:i], s.v[i+1:]...)
	}
}

// split makes a a VMA boundary if it lies inside a VMA.
func (s *vmaSet) split(a uint64) {
	i := s.firstEndingAfter(a)
	if i >= len(s.v) || s.v[i].Start >= a {
		return
	}
	old := s.v[i]
	nv := *old
	nv.Start = a
	nv.Off = old.fileOffset(a)
	objRef(nv.File)
	old.End = a
	s.v = append(s.v, nil)
	copy(s.v[i+2:], s.v[i+1:])
	s.v[i+1] = &nv
}

// carve splits at start and end and returns the index range [i, j) of the
// VMAs lying inside [start, end).
func (s *vmaSet) carve(start, end uint64) (int, int) {
	s.split(start)
	s.split(end)
	i := s.firstEndingAfter(start)
	j := i
	for j < len(s.v) && s.v[j].Start < end {
		j++
	}
	return i, j
}

// remove deletes the VMAs [i, j), dropping their object references.
func (s *vmaSet) remove(i, j int) {
	for k := i; k < j; k++ {
		objUnref(s.v[k].File)
	}
	s.v = append(s.v[:i], s.v[j:]...)
}

// reach returns how far from start [start, end) is mapped without a
// hole: start itself when no VMA holds start, end when all is mapped.
func (s *vmaSet) reach(start, end uint64) uint64 {
	a := start
	for i := s.firstEndingAfter(start); i < len(s.v) && a < end; i++ {
		if s.v[i].Start > a {
			break
		}
		a = s.v[i].End
	}
	return min(a, end)
}

// covered reports whether [start, end) is fully covered by VMAs.
func (s *vmaSet) covered(start, end uint64) bool {
	a := start
	for i := s.firstEndingAfter(start); i < len(s.v) && a < end; i++ {
		if s.v[i].Start > a {
			return false
		}
		a = s.v[i].End
	}
	return a >= end
}
