package kernel

import (
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/vfs"
)

// sleeper is a task's vfs.Sleeper: a private futex word that only the
// task's own goroutine sleeps on (it is locked to its OS thread, so the
// sleep is a host futex wait in a system call, and a wake is one host
// futex wake of that thread). wake() wakes it as well as posting on intr.
type sleeper struct {
	// word: sleepArmed after Arm, sleepAsleep while the task sleeps or is
	// about to, sleepWoken after a Wake.
	word atomic.Uint32
}

const (
	sleepWoken = iota
	sleepArmed
	sleepAsleep
)

// Arm implements vfs.Sleeper.
func (s *sleeper) Arm() { s.word.Store(sleepArmed) }

// Sleep implements vfs.Sleeper: it returns once woken (or at a host
// signal's interruption of the wait).
func (s *sleeper) Sleep() {
	if !s.word.CompareAndSwap(sleepArmed, sleepAsleep) {
		return
	}
	// The scheduler-aware path: the wait may last as long as the other
	// side takes, and the runtime may give this thread's P to another.
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(&s.word)),
		futexWaitPrivate, sleepAsleep, 0, 0, 0)
}

// Wake implements vfs.Sleeper.
func (s *sleeper) Wake() {
	if s.word.Swap(sleepWoken) == sleepAsleep {
		unix.RawSyscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(&s.word)),
			futexWakePrivate, 1, 0, 0, 0)
	}
}

const (
	futexWaitPrivate = 0 | abi.FUTEX_PRIVATE_FLAG
	futexWakePrivate = 1 | abi.FUTEX_PRIVATE_FLAG
)

// Sleeper returns the task's vfs.Sleeper.
func (t *Task) Sleeper() vfs.Sleeper { return &t.sleep }
