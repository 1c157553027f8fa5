package kernel

import "glassbox/internal/hostrand"

// HostRandom fills b from the host kernel's random pool (hostrand.Read:
// getrandom(2) itself, /dev/urandom where the host refuses it). It serves
// AT_RANDOM at each exec and the guest's getrandom: a plain system call
// costs about what crypto/rand does per call, without crypto/rand's
// once-per-process set-up (its vDSO state, its blocking watchdog timer),
// which would otherwise land on the first exec.
func HostRandom(b []byte) { hostrand.Read(b) }
