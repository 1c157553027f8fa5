package syscalls

import (
	"time"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/kernel"
)

func init() {
	reg(unix.SYS_FUTEX, sysFutex, "PI futexes without priority inheritance; requeue-PI ENOSYS")
}

// sysFutex decodes futex(2). Linux: kernel/futex/syscalls.c (do_futex)
func sysFutex(t *kernel.Task, a kernel.Args) (uint64, error) {
	addr, op, val := a[0], int(a[1]), uint32(a[2])
	cmd := op & abi.FUTEX_CMD_MASK
	private := op&abi.FUTEX_PRIVATE_FLAG != 0
	if op&abi.FUTEX_CLOCK_REALTIME != 0 && cmd != abi.FUTEX_WAIT_BITSET && cmd != futexLockPI2 && cmd != futexWaitRequeuePI {
		return 0, unix.ENOSYS
	}
	switch cmd {
	case futexWaitRequeuePI:
		// The argument checks, then no requeue-PI.
		// Linux: kernel/futex/requeue.c (futex_wait_requeue_pi)
		if a[3] != 0 {
			if _, err := getTimespec(t, a[3]); err != nil {
				return 0, err
			}
		}
		if addr == a[4] || uint32(a[5]) == 0 {
			return 0, unix.EINVAL
		}
		return 0, unix.ENOSYS
	case futexCmpRequeuePI:
		// Linux: kernel/futex/requeue.c (futex_requeue)
		if int32(val) < 0 || int32(a[3]) < 0 || addr == a[4] || val != 1 {
			return 0, unix.EINVAL
		}
		return 0, unix.ENOSYS
	case abi.FUTEX_LOCK_PI, futexLockPI2:
		// An absolute timeout: CLOCK_REALTIME for LOCK_PI, the
		// monotonic clock for LOCK_PI2 unless FUTEX_CLOCK_REALTIME.
		// Linux: kernel/futex/syscalls.c (futex_init_timeout)
		var deadline time.Time
		if a[3] != 0 {
			d, err := getTimespec(t, a[3])
			if err != nil {
				return 0, err
			}
			clk := unix.CLOCK_REALTIME
			if cmd == futexLockPI2 && op&abi.FUTEX_CLOCK_REALTIME == 0 {
				clk = unix.CLOCK_MONOTONIC
			}
			now, _ := clockNow(t, clk)
			deadline = time.Now().Add(d - time.Duration(now.Nano()))
		}
		return 0, t.FutexLockPI(addr, deadline, false, private)
	case abi.FUTEX_TRYLOCK_PI:
		return 0, t.FutexLockPI(addr, time.Time{}, true, private)
	case abi.FUTEX_UNLOCK_PI:
		return 0, t.FutexUnlockPI(addr, private)
	case abi.FUTEX_WAIT, abi.FUTEX_WAIT_BITSET:
		bitset := uint32(abi.FUTEX_BITSET_MATCH_ANY)
		if cmd == abi.FUTEX_WAIT_BITSET {
			bitset = uint32(a[5])
			if bitset == 0 {
				return 0, unix.EINVAL
			}
		}
		var deadline time.Time
		if a[3] != 0 {
			d, err := getTimespec(t, a[3])
			if err != nil {
				return 0, err
			}
			if cmd == abi.FUTEX_WAIT {
				deadline = time.Now().Add(d) // relative
			} else {
				clk := unix.CLOCK_MONOTONIC
				if op&abi.FUTEX_CLOCK_REALTIME != 0 {
					clk = unix.CLOCK_REALTIME
				}
				now, _ := clockNow(t, clk)
				deadline = time.Now().Add(d - time.Duration(now.Nano()))
			}
		}
		return futexWaitRestartable(t, addr, val, bitset, deadline, private)
	case abi.FUTEX_WAKE, abi.FUTEX_WAKE_BITSET:
		bitset := uint32(abi.FUTEX_BITSET_MATCH_ANY)
		if cmd == abi.FUTEX_WAKE_BITSET {
			bitset = uint32(a[5])
			if bitset == 0 {
				return 0, unix.EINVAL
			}
		}
		n, err := t.FutexWake(addr, int(int32(val)), bitset, private)
		return uint64(n), err
	case abi.FUTEX_REQUEUE, abi.FUTEX_CMP_REQUEUE:
		n2 := int(int32(a[3]))
		if int32(val) < 0 || n2 < 0 {
			return 0, unix.EINVAL
		}
		n, err := t.FutexRequeue(addr, a[4], int(val), n2, cmd == abi.FUTEX_CMP_REQUEUE, uint32(a[5]), private)
		return uint64(n), err
	case abi.FUTEX_WAKE_OP:
		n, err := t.FutexWakeOp(addr, a[4], int(val), int(int32(a[3])), uint32(a[5]), private)
		return uint64(n), err
	}
	return 0, unix.ENOSYS
}

// futex commands x/sys/unix lacks: FUTEX_LOCK_PI2 (Linux 5.14) is
// LOCK_PI on the monotonic clock.
const (
	futexWaitRequeuePI = 11
	futexCmpRequeuePI  = 12
	futexLockPI2       = 13
)

// futexWaitRestartable is FUTEX_WAIT interrupted by a signal: without a
// timeout it restarts (unless a handler without SA_RESTART ran); with one
// a handler makes it EINTR, and otherwise it resumes through
// restart_syscall with the same absolute deadline, never a fresh timeout.
// Linux: kernel/futex/waitwake.c (futex_wait, futex_wait_restart)
func futexWaitRestartable(t *kernel.Task, addr uint64, val, bitset uint32, deadline time.Time, private bool) (uint64, error) {
	err := t.FutexWait(addr, val, bitset, deadline, private)
	if err != unix.EINTR {
		return 0, err
	}
	if deadline.IsZero() {
		return 0, abi.ERESTARTSYS
	}
	t.SetRestart(func(t *kernel.Task) (uint64, error) {
		return futexWaitRestartable(t, addr, val, bitset, deadline, private)
	})
	return 0, abi.ERESTART_RESTARTBLOCK
}
