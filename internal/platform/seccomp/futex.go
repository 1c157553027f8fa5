package seccomp

import (
	"math"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Shared (not private) futex calls: the words live in a memfd mapped by
// glassbox and by the stub, so the two sides' mappings share a futex key.

// futexWait sleeps while *w == v (or until a wake, a signal, d if it is
// not 0, or spuriously). It goes through the scheduler-aware Syscall path:
// it may block for as long as the guest runs. It sleeps with glassbox'
// futex bitset: the syscall thread's wake of a handler (queue.go) leaves
// it asleep.
func futexWait(w *uint32, v uint32, d time.Duration) {
	if d == 0 {
		unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(w)), futexOpWaitBitset, uintptr(v), 0, 0, futexGlassbox)
		return
	}
	// FUTEX_WAIT_BITSET's timeout is absolute, on CLOCK_MONOTONIC.
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	ts = unix.NsecToTimespec(ts.Nano() + d.Nanoseconds())
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(w)), futexOpWaitBitset, uintptr(v), uintptr(unsafe.Pointer(&ts)), 0, futexGlassbox)
}

// futexWake wakes every sleeper on w: a slot's word may have two (the
// handler and glassbox, when the guest has written it), and the one meant
// must not miss the wake.
func futexWake(w *uint32) {
	unix.RawSyscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(w)), futexOpWake, math.MaxInt32, 0, 0, 0)
}
