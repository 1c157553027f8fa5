package mm

import (
	"sync/atomic"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/memfile"
)

// Access to another process's memory (process_vm_readv/writev). Only the
// owner's own threads can change its host mappings, so a remote write that
// has to copy a shared (copy-on-write) page leaves the owner's host
// mapping of the old frame in place: the page is recorded as stale and the
// owner unmaps it (FlushStale) before it next runs guest code, so its next
// touch maps the new frame. Linux: mm/process_vm_access.c

// staleHost lists pages whose host mapping shows an old frame. Each
// entry keeps its frame's reference until the host mapping is gone, so
// the owner's threads can never see that frame reused by someone else.
type staleHost struct {
	pending atomic.Bool
	pages   []stalePage // guarded by MM.mu
}

type stalePage struct {
	addr uint64
	old  memfile.Frame // the frame the host still maps at addr
	file bool          // no frame: the host maps a host file's page there (hostfile.go)
}

// add forgets page's host mapping in the page table and queues its host
// unmap, taking over the caller's reference to old; m.mu is held.
func (s *staleHost) add(m *MM, page uint64, old memfile.Frame) {
	m.pt.set(page, m.pt.get(page)&^(pteMapped|pteMapW))
	s.pages = append(s.pages, stalePage{addr: page, old: old})
	s.pending.Store(true)
}

// addFile takes page out of the host-file ranges and queues the unmap of
// the host file's page the host maps there; m.mu is held.
func (s *staleHost) addFile(m *MM, page uint64) {
	m.hostFiles.remove(page, page+abi.PageSize)
	s.pages = append(s.pages, stalePage{addr: page, file: true})
	s.pending.Store(true)
}

// drop lets go of every queued frame (the host mappings are gone: the
// stub died, or they were unmapped); m.mu is held.
func (s *staleHost) drop(m *MM) {
	for _, sp := range s.pages {
		if !sp.file {
			m.mf.DecRef(sp.old, 1)
		}
	}
	s.pages = nil
	s.pending.Store(false)
}

// HasStale reports whether FlushStale has work.
func (m *MM) HasStale() bool { return m.stale.pending.Load() }

// FlushStale removes the stale host mappings; mp must be a thread of this
// address space. Pages mapped again since (by a fault) were remapped to
// their new frame already.
func (m *MM) FlushStale(mp Mapper) error {
	if !m.stale.pending.Load() {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for len(m.stale.pages) > 0 {
		sp := m.stale.pages[0]
		if !m.pt.get(sp.addr).mapped() && !m.hostFiles.has(sp.addr) {
			m.stats.HostMaps++
			if err := mp.Unmap(sp.addr, abi.PageSize); err != nil {
				return err
			}
		}
		if !sp.file {
			m.mf.DecRef(sp.old, 1)
		}
		m.stale.pages = m.stale.pages[1:]
	}
	m.stale.drop(m)
	return nil
}

// RemoteCopy copies between b and [addr, addr+len(b)) of this address
// space on behalf of another process (write: into it). It returns how many
// bytes were copied before the first page that could not be accessed
// (EFAULT), as process_vm_readv/writev report partial transfers.
func (m *MM) RemoteCopy(addr uint64, b []byte, write bool) (int, error) {
	return m.remoteCopy(addr, b, write, false)
}

// RemoteCopyForce is RemoteCopy for a debugger (PTRACE_POKETEXT,
// /proc/PID/mem): it reaches pages the protection forbids (see
// prepareForce), so breakpoints can be written into code. The write
// lands in the process's private copy of the page.
func (m *MM) RemoteCopyForce(addr uint64, b []byte, write bool) (int, error) {
	return m.remoteCopy(addr, b, write, true)
}

func (m *MM) remoteCopy(addr uint64, b []byte, write, force bool) (int, error) {
	done := 0
	for done < len(b) {
		a := addr + uint64(done)
		page := abi.PageDown(a)
		off := a - page
		l := min(len(b)-done, abi.PageSize-int(off))
		if a < addr || !m.rangeOK(a, 1) {
			// The vDSO reads like memory (a debugger reads the names
			// ld.so points into it); nothing above TaskSize is written.
			if fb := m.fixedBytes(a, l); fb != nil && !write {
				copy(b[done:], fb)
				done += l
				continue
			}
			return done, unix.EFAULT
		}
		m.mu.Lock()
		fr, err := m.prepareForce(nil, page, write, force)
		if err == nil && write {
			// A write over a patched site lands on the original bytes
			// (in a copy of the page, for some sites: the frame again).
			err = m.unpatchRange(nil, a, a+uint64(l))
			fr = m.pt.get(page).frame()
		}
		if err == nil {
			mem := m.mf.Bytes(fr, 1)[off : off+uint64(l)]
			if write {
				copy(mem, b[done:done+l])
			} else {
				copy(b[done:done+l], mem)
				// A patched site reads as it was.
				m.overlayOriginal(a, b[done:done+l])
			}
		}
		m.mu.Unlock()
		if err != nil {
			return done, err
		}
		done += l
	}
	return done, nil
}

// TryAddUser adds a user unless the address space was already released.
func (m *MM) TryAddUser() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.users == 0 {
		return false
	}
	m.users++
	return true
}
