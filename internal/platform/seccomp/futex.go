package seccomp

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// Shared (not private) futex calls: the words live in a memfd mapped by
// glassbox and by the stub, so the two sides' mappings share a futex key.

// futexWait sleeps while *w == v (or until a wake, a signal, or spuriously).
// It goes through the scheduler-aware Syscall path: it may block for as
// long as the guest runs.
func futexWait(w *uint32, v uint32) {
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(w)), futexOpWait, uintptr(v), 0, 0, 0)
}

// futexWake wakes one sleeper on w.
func futexWake(w *uint32) {
	unix.RawSyscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(w)), futexOpWake, 1, 0, 0, 0)
}
