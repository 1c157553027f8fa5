package mm

import (
	"sync"
	"sync/atomic"

	"glassbox/internal/abi"
	"glassbox/internal/memfile"
)

// Invalidation: when an object shrinks (ftruncate) or loses pages (hole
// punching, MADV_REMOVE), every address space mapping those pages must
// drop them, so the next touch faults: SIGBUS past the end, zeros in a
// hole. Linux: mm/truncate.c (truncate_pagecache), mm/memory.c
// (unmap_mapping_range).
//
// Only a task's own stub thread may change its host mappings, so an
// address space only records what to drop (pending) and keeps the frames;
// its tasks drop them before they next run the guest (ApplyPending). The
// frames stay referenced until then, so the guest never sees a frame
// that was reused.

// Identifier is implemented by Mappables that hand out several objects
// for one file (a read-only and a writable view): they name the file.
type Identifier interface{ Identity() any }

// Lookuper is implemented by Mappables that can say which frame holds a
// page now, without allocating or reading it in (mincore, pagemap).
type Lookuper interface {
	Lookup(pg uint64) (memfile.Frame, bool)
}

// HolePuncher is implemented by Mappables whose pages can be freed while
// the object keeps its size (MADV_REMOVE).
type HolePuncher interface {
	PunchHole(off, length uint64) error
}

// Syncer is implemented by Mappables whose stores must be written back
// somewhere (a host file): msync, munmap and exit call it.
type Syncer interface{ Sync() error }

func identity(o Mappable) any {
	if i, ok := o.(Identifier); ok {
		return i.Identity()
	}
	return o
}

// live is every address space that may map something.
var live struct {
	sync.Mutex
	mms map[*MM]struct{}
}

func register(m *MM) {
	live.Lock()
	if live.mms == nil {
		live.mms = map[*MM]struct{}{}
	}
	live.mms[m] = struct{}{}
	live.Unlock()
}

func unregister(m *MM) {
	live.Lock()
	delete(live.mms, m)
	live.Unlock()
}

type pendingRange struct{ start, end uint64 }

// pendingState is embedded in MM.
type pendingState struct {
	has     atomic.Bool
	pending []pendingRange // guarded by MM.mu
}

// Invalidate makes every address space drop its pages of obj's bytes
// [from, to) (to = ^0: to the end). evenCOWs drops private copies too
// (truncation); otherwise only pages still sharing the object's frame go
// (hole punching: call it before the object frees the frames). The caller
// must not hold locks mm takes after MM.mu (its own object's lock).
func Invalidate(obj Mappable, from, to uint64, evenCOWs bool) {
	id := identity(obj)
	live.Lock()
	mms := make([]*MM, 0, len(live.mms))
	for m := range live.mms {
		mms = append(mms, m)
	}
	live.Unlock()
	from = abi.PageDown(from)
	for _, m := range mms {
		m.mu.Lock()
		for _, v := range m.vmas.v {
			if v.File == nil || identity(v.File) != id {
				continue
			}
			vfrom, vto := v.Off, v.fileOffset(v.End)
			lo, hi := max(vfrom, from), min(vto, to)
			if lo >= hi {
				continue
			}
			start, end := v.Start+(lo-v.Off), v.Start+(hi-v.Off)
			if evenCOWs || v.Shared {
				m.addPending(start, end)
				continue
			}
			lk, _ := v.File.(Lookuper)
			m.pt.forRange(start, end, func(a uint64, p pte) {
				if !p.present() || lk == nil {
					return
				}
				if fr, ok := lk.Lookup(v.fileOffset(a) >> abi.PageShift); ok && fr == p.frame() {
					m.addPending(a, a+abi.PageSize)
				}
			})
		}
		m.mu.Unlock()
	}
}

func (m *MM) addPending(start, end uint64) {
	if n := len(m.pending); n > 0 && m.pending[n-1].end == start {
		m.pending[n-1].end = end
	} else {
		m.pending = append(m.pending, pendingRange{start, end})
	}
	m.has.Store(true)
}

// ApplyPending drops the pages invalidated since the last call. A task
// calls it before it runs the guest; it costs one atomic load when there
// is nothing to do.
func (m *MM) ApplyPending(mp Mapper) error {
	if !m.has.Load() {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.applyPendingLocked(mp)
}

func (m *MM) applyPendingLocked(mp Mapper) error {
	for len(m.pending) > 0 {
		r := m.pending[0]
		if err := m.dropPages(mp, r.start, r.end); err != nil {
			return err
		}
		m.pending = m.pending[1:]
	}
	m.pending = nil
	m.has.Store(false)
	return nil
}

// punchAndInvalidate frees obj's pages in [off, off+length) and makes
// every mapping drop them.
func punchAndInvalidate(p HolePuncher, obj Mappable, off, length uint64) error {
	Invalidate(obj, off, off+length, false)
	return p.PunchHole(off, length)
}
