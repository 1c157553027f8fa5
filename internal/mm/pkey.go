package mm

// UpdatePkeys applies f to the address space's protection-key allocation
// map (bit N: key N is allocated; fork copies it, exec starts empty) under
// the address space's lock, as pkey_alloc and pkey_free do under the mmap
// lock, and returns the map f was given.
// Linux: arch/x86/include/asm/pkeys.h (mm_pkey_allocation_map)
func (m *MM) UpdatePkeys(f func(old uint16) uint16) uint16 {
	m.mu.Lock()
	defer m.mu.Unlock()
	old := m.pkeys
	m.pkeys = f(old)
	return old
}
