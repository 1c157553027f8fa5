// Package hostrand reads the host kernel's random pool: getrandom(2)
// itself, and /dev/urandom where the host refuses getrandom (an old
// kernel, a seccomp profile). glassbox takes its randomness (AT_RANDOM,
// the guest's getrandom and /dev/random, boot_id, O_TMPFILE names) from
// here rather than from crypto/rand, whose package initialisation (the
// FIPS module's) every glassbox start would otherwise pay, and whose
// first read sets up state a sandbox does not need.
package hostrand

import "golang.org/x/sys/unix"

// getrandom is unix.Getrandom; tests make it fail.
var getrandom = unix.Getrandom

// Read fills b. The host's pool is initialised long before glassbox runs,
// so getrandom does not block; a signal can cut a long read short (EINTR,
// or fewer bytes), and the loop goes on. Without any source of host
// randomness glassbox cannot go on (crypto/rand crashes the process then
// too).
func Read(b []byte) {
	for len(b) > 0 {
		n, err := getrandom(b, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil || n <= 0 {
			urandom(b)
			return
		}
		b = b[n:]
	}
}

// urandom fills b from /dev/urandom.
func urandom(b []byte) {
	fd, err := unix.Open("/dev/urandom", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		panic("glassbox: no host randomness: getrandom refused, /dev/urandom: " + err.Error())
	}
	defer unix.Close(fd)
	for len(b) > 0 {
		n, err := unix.Read(fd, b)
		if err == unix.EINTR {
			continue
		}
		if err != nil || n <= 0 {
			panic("glassbox: no host randomness: reading /dev/urandom failed")
		}
		b = b[n:]
	}
}
