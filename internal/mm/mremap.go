package mm

import (
	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
)

// Mremap resizes and/or moves a mapping; lim is the caller's mlock
// allowance, which a locked mapping's growth must fit in (EAGAIN).
// Linux: mm/mremap.c
func (m *MM) Mremap(mp Mapper, old, oldSize, newSize uint64, flags int, newAddr uint64, lim MemlockLimit, alim AddressLimits) (uint64, error) {
	if flags&^(unix.MREMAP_MAYMOVE|unix.MREMAP_FIXED|unix.MREMAP_DONTUNMAP) != 0 {
		return 0, unix.EINVAL
	}
	if flags&unix.MREMAP_FIXED != 0 && flags&unix.MREMAP_MAYMOVE == 0 {
		return 0, unix.EINVAL
	}
	dontUnmap := flags&unix.MREMAP_DONTUNMAP != 0
	if dontUnmap && (flags&unix.MREMAP_MAYMOVE == 0 || oldSize != newSize) {
		return 0, unix.EINVAL
	}
	if old&abi.PageMask != 0 {
		return 0, unix.EINVAL
	}
	oldSize, ok1 := abi.PageUp(oldSize)
	newSize, ok2 := abi.PageUp(newSize)
	if !ok1 || !ok2 || newSize == 0 || newSize > m.layout.TaskSize {
		return 0, unix.EINVAL // Linux: mm/mremap.c (check_mremap_params)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	v := m.vmas.find(old)
	if v == nil {
		return 0, unix.EFAULT
	}
	if oldSize == 0 {
		return 0, unix.EINVAL // duplicating a shared mapping is not supported
	}
	if flags&(unix.MREMAP_FIXED|unix.MREMAP_DONTUNMAP) != 0 {
		return m.remapTo(mp, old, oldSize, newSize, flags, newAddr, lim, alim)
	}
	if newSize <= oldSize {
		if newSize < oldSize {
			if err := m.unmapLocked(mp, old+newSize, old+oldSize); err != nil {
				return 0, err
			}
		}
		return old, nil
	}
	if old+oldSize > v.End {
		return 0, unix.EFAULT
	}
	if err := m.growAllowed(v, newSize-oldSize, lim, alim); err != nil {
		return 0, err
	}
	// Grow in place if the VMA ends where the old range ends and the space
	// after it is free.
	if old+oldSize == v.End && old+newSize <= m.layout.TaskSize && old+newSize > old && !m.vmas.overlaps(v.End, old+newSize) {
		if err := m.collide(mp, v.End, old+newSize); err != nil {
			return 0, err
		}
		oldEnd := v.End
		v.End = old + newSize
		if v.Flags&(VMLocked|VMLockOnFault) == VMLocked {
			m.populateLocked(oldEnd, v.End)
		}
		return old, nil
	}
	if flags&unix.MREMAP_MAYMOVE == 0 {
		return 0, unix.ENOMEM
	}
	dst, err := m.findFree(0, newSize)
	if err != nil {
		return 0, err
	}
	return dst, m.move(mp, old, oldSize, dst, newSize, false)
}

// remapTo is mremap with MREMAP_FIXED or MREMAP_DONTUNMAP.
// Linux: mm/mremap.c (mremap_to)
func (m *MM) remapTo(mp Mapper, old, oldSize, newSize uint64, flags int, newAddr uint64, lim MemlockLimit, alim AddressLimits) (uint64, error) {
	fixed := flags&unix.MREMAP_FIXED != 0
	// The new address is checked even when it is only a hint.
	if newAddr&abi.PageMask != 0 || newSize > m.layout.TaskSize || newAddr > m.layout.TaskSize-newSize {
		return 0, unix.EINVAL
	}
	if old+oldSize > newAddr && newAddr+newSize > old {
		return 0, unix.EINVAL
	}
	if fixed {
		if newAddr < MinAddr {
			return 0, unix.EPERM
		}
		if err := m.unmapLocked(mp, newAddr, newAddr+newSize); err != nil {
			return 0, err
		}
	}
	if oldSize > newSize {
		if err := m.unmapLocked(mp, old+newSize, old+oldSize); err != nil {
			return 0, err
		}
		oldSize = newSize
	}
	v := m.vmas.find(old)
	if v == nil || old+oldSize > v.End {
		return 0, unix.EFAULT
	}
	if newSize > oldSize {
		if err := m.growAllowed(v, newSize-oldSize, lim, alim); err != nil {
			return 0, err
		}
	}
	dst := newAddr
	if !fixed {
		var err error
		if dst, err = m.findFree(abi.PageDown(newAddr), newSize); err != nil {
			return 0, err
		}
	}
	return dst, m.move(mp, old, oldSize, dst, newSize, flags&unix.MREMAP_DONTUNMAP != 0)
}

// move moves [old, old+oldSize) (inside one VMA) to dst with newSize bytes,
// carrying its frames along. With dontUnmap the old range stays mapped,
// empty: private anonymous memory reads zeros there, file mappings the
// file again. Linux: mm/mremap.c (move_vma)
func (m *MM) move(mp Mapper, old, oldSize, dst, newSize uint64, dontUnmap bool) error {
	if m.has.Load() {
		if err := m.applyPendingLocked(mp); err != nil {
			return err
		}
	}
	// Patched sites do not move: their trampolines return to where
	// they were.
	if err := m.unpatchRange(mp, old, old+oldSize); err != nil {
		return err
	}
	if err := m.collide(mp, dst, dst+newSize); err != nil {
		return err
	}
	if err := m.unmapHost(mp, old, old+oldSize); err != nil {
		return err
	}
	i, j := m.vmas.carve(old, old+oldSize)
	if j != i+1 {
		return unix.EFAULT
	}
	v := m.vmas.v[i]
	nv := *v
	if dontUnmap {
		objRef(nv.File)
		v.Flags &^= VMLocked | VMLockOnFault
		m.vmas.mergeAround(i)
	} else {
		m.vmas.v = append(m.vmas.v[:i], m.vmas.v[i+1:]...)
	}
	m.pt.forRange(old, old+oldSize, func(a uint64, p pte) {
		m.pt.set(a, 0)
		m.pt.set(dst+(a-old), p&^(pteMapped|pteMapW))
	})
	nv.Start, nv.End = dst, dst+newSize
	m.vmas.insert(&nv)
	if newSize > oldSize && nv.Flags&(VMLocked|VMLockOnFault) == VMLocked {
		m.populateLocked(dst+oldSize, dst+newSize)
	}
	return nil
}

// growAllowed is mremap's check of a mapping growing by delta bytes: a
// locked one's total must stay within the mlock allowance (EAGAIN), and
// any within RLIMIT_AS and RLIMIT_DATA (ENOMEM). Called with m.mu held.
// Linux: mm/mremap.c (resize_is_valid, mlock_future_ok, may_expand_vm)
func (m *MM) growAllowed(v *VMA, delta uint64, lim MemlockLimit, alim AddressLimits) error {
	if v.Flags&VMLocked != 0 && !lim.Capable && (m.lockedBytesLocked()+delta)>>abi.PageShift > lim.Bytes>>abi.PageShift {
		return unix.EAGAIN
	}
	if !m.mayExpandLocked(alim, delta, isData(v.Prot, v.Shared, v.Flags, v.Name), 0, 0) {
		return unix.ENOMEM
	}
	return nil
}
