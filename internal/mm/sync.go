package mm

import (
	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
)

// Msync writes back the shared file mappings in [addr, addr+length).
// Stores into a shared mapping land in the file's cache at once (every
// mapping and read(2) sees them); what msync adds is that the host file
// has them when it returns. MS_ASYNC writes back too (glassbox has no
// writeback thread to leave it to).
// Linux: mm/msync.c
func (m *MM) Msync(addr, length uint64, flags int) error {
	if flags&^(unix.MS_ASYNC|unix.MS_SYNC|unix.MS_INVALIDATE) != 0 || addr&abi.PageMask != 0 {
		return unix.EINVAL
	}
	if flags&unix.MS_ASYNC != 0 && flags&unix.MS_SYNC != 0 {
		return unix.EINVAL
	}
	length, ok := abi.PageUp(length)
	end := addr + length
	if !ok || end < addr {
		return unix.ENOMEM
	}
	if end == addr {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var objs []Syncer
	seen := map[any]bool{}
	a := addr
	hole := false
	for i := m.vmas.firstEndingAfter(addr); i < len(m.vmas.v) && m.vmas.v[i].Start < end; i++ {
		v := m.vmas.v[i]
		if v.Start > a {
			hole = true
		}
		a = v.End
		if flags&unix.MS_INVALIDATE != 0 && v.Flags&VMLocked != 0 {
			return unix.EBUSY
		}
		if s, ok := v.File.(Syncer); ok && v.Shared && flags&(unix.MS_SYNC|unix.MS_ASYNC) != 0 && !seen[identity(v.File)] {
			seen[identity(v.File)] = true
			objs = append(objs, s)
		}
	}
	if a < end {
		hole = true
	}
	var first error
	for _, s := range objs {
		if err := s.Sync(); err != nil && first == nil {
			first = unix.EIO
		}
	}
	if first != nil {
		return first
	}
	if hole {
		return unix.ENOMEM
	}
	return nil
}

// syncShared writes back the shared file mappings in [start, end) (before
// they go away: munmap, exit), so the host file has what was stored even
// if the file stays open elsewhere.
func (m *MM) syncShared(start, end uint64) {
	seen := map[any]bool{}
	for i := m.vmas.firstEndingAfter(start); i < len(m.vmas.v) && m.vmas.v[i].Start < end; i++ {
		v := m.vmas.v[i]
		if s, ok := v.File.(Syncer); ok && v.Shared && v.Prot&unix.PROT_WRITE != 0 && !seen[identity(v.File)] {
			seen[identity(v.File)] = true
			s.Sync()
		}
	}
}
