package userns

import (
	"sync"

	"golang.org/x/sys/unix"
)

var hostBnd struct {
	once sync.Once
	set  uint64
}

// capFull is every capability up to CAP_LAST_CAP (40).
const capFull = uint64(1)<<41 - 1

// HostBounding returns the capability bounding set glassbox itself runs
// with (what CapBnd of /proc/self/status shows): guests get the same, so
// the sandbox's root is as powerful as a process of the host's container.
// It asks prctl(PR_CAPBSET_READ) once per capability: cheaper than having
// the host format /proc/self/status. A capability the host kernel does not
// know (EINVAL) is left out, as CapBnd leaves it out.
func HostBounding() uint64 {
	hostBnd.once.Do(func() {
		set := capFull
		for c := 0; c < 41; c++ {
			in, err := unix.PrctlRetInt(unix.PR_CAPBSET_READ, uintptr(c), 0, 0, 0)
			if err != nil || in == 0 {
				set &^= 1 << c
			}
		}
		hostBnd.set = set
	})
	return hostBnd.set
}
