package mm

import (
	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
)

// Mremap resizes and/or moves a mapping. Linux: mm/mremap.c
func (m *MM) Mremap(mp Mapper, old, oldSize, newSize uint64, flags int, newAddr uint64) (uint64, error) {
	if old&abi.PageMask != 0 || flags&^(unix.MREMAP_MAYMOVE|unix.MREMAP_FIXED|unix.MREMAP_DONTUNMAP) != 0 {
		return 0, unix.EINVAL
	}
	if flags&unix.MREMAP_FIXED != 0 && flags&unix.MREMAP_MAYMOVE == 0 || flags&unix.MREMAP_DONTUNMAP != 0 {
		return 0, unix.EINVAL
	}
	oldSize, ok1 := abi.PageUp(oldSize)
	newSize, ok2 := abi.PageUp(newSize)
	if !ok1 || !ok2 || newSize == 0 || oldSize == 0 {
		return 0, unix.EINVAL
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	v := m.vmas.find(old)
	if v == nil || old+oldSize > v.End {
		return 0, unix.EFAULT
	}
	if flags&unix.MREMAP_FIXED != 0 {
		if newAddr&abi.PageMask != 0 || newAddr < MinAddr || newAddr+newSize > m.layout.TaskSize {
			return 0, unix.EINVAL
		}
		if newAddr < old+oldSize && old < newAddr+newSize {
			return 0, unix.EINVAL
		}
		if err := m.unmapLocked(mp, newAddr, newAddr+newSize); err != nil {
			return 0, err
		}
		if newSize < oldSize {
			if err := m.unmapLocked(mp, old+newSize, old+oldSize); err != nil {
				return 0, err
			}
			oldSize = newSize
		}
		return newAddr, m.move(mp, old, oldSize, newAddr, newSize)
	}
	if newSize <= oldSize {
		if newSize < oldSize {
			if err := m.unmapLocked(mp, old+newSize, old+oldSize); err != nil {
				return 0, err
			}
		}
		return old, nil
	}
	// Grow in place if the VMA ends where the old range ends and the space
	// after it is free.
	if old+oldSize == v.End && old+newSize <= m.layout.TaskSize && !m.vmas.overlaps(v.End, old+newSize) {
		v.End = old + newSize
		return old, nil
	}
	if flags&unix.MREMAP_MAYMOVE == 0 {
		return 0, unix.ENOMEM
	}
	dst, err := m.findFree(0, newSize)
	if err != nil {
		return 0, err
	}
	return dst, m.move(mp, old, oldSize, dst, newSize)
}

// move moves [old, old+oldSize) (inside one VMA) to dst with newSize bytes,
// carrying its frames along.
func (m *MM) move(mp Mapper, old, oldSize, dst, newSize uint64) error {
	if err := m.unmapHost(mp, old, old+oldSize); err != nil {
		return err
	}
	i, j := m.vmas.carve(old, old+oldSize)
	if j != i+1 {
		return unix.EFAULT
	}
	v := m.vmas.v[i]
	m.vmas.v = append(m.vmas.v[:i], m.vmas.v[i+1:]...)
	m.pt.forRange(old, old+oldSize, func(a uint64, p pte) {
		m.pt.set(a, 0)
		m.pt.set(dst+(a-old), p&^(pteMapped|pteMapW))
	})
	nv := *v
	nv.Start, nv.End = dst, dst+newSize
	m.vmas.insert(&nv)
	return nil
}
