package kernel

import (
	"crypto/rand"

	"golang.org/x/sys/unix"
)

// HostRandom fills b from the host kernel's random pool with getrandom(2)
// itself. It serves AT_RANDOM at each exec and the guest's getrandom: a
// plain system call costs about what crypto/rand does per call, without
// crypto/rand's once-per-process set-up (its vDSO state, its blocking
// watchdog timer), which would otherwise land on the first exec. The
// host's pool is initialised long before glassbox runs, so the call does
// not block; a signal can cut a long read short (EINTR, or fewer bytes),
// and the loop goes on. Where the host refuses getrandom (an old kernel,
// a seccomp profile), crypto/rand finds another source.
func HostRandom(b []byte) {
	for len(b) > 0 {
		n, err := unix.Getrandom(b, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil || n <= 0 {
			rand.Read(b)
			return
		}
		b = b[n:]
	}
}
