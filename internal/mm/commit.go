package mm

import (
	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
)

// Overcommitted reports whether length bytes of memory charged to the
// commit total exceed what one mapping (or shared memory object) may have.
func Overcommitted(length uint64) bool { return overcommitted(length) }

// overcommitted is Linux's heuristic overcommit check (vm.overcommit_memory
// 0, the default) for a mapping that is charged to the commit total: one
// mapping may not be larger than the host's RAM and swap together. A
// container on Linux is measured against the host's memory too.
// Linux: mm/util.c (__vm_enough_memory), mm/vma.c (accountable_mapping)
func overcommitted(length uint64) bool {
	if length < 64<<20 {
		return false // no host is this small; spare the sysinfo call
	}
	var si unix.Sysinfo_t
	if unix.Sysinfo(&si) != nil {
		return false
	}
	unit := uint64(si.Unit)
	if unit == 0 {
		unit = 1
	}
	pages := (si.Totalram + si.Totalswap) * unit >> abi.PageShift
	return length>>abi.PageShift > pages
}
