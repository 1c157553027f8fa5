package syscalls

import (
	"encoding/binary"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"glassbox/internal/kernel"
)

// CPU clocks named by a process or thread (clock_getcpuclockid,
// pthread_getcpuclockid), and the calls that set or steer the system
// clock. glassbox never changes the host's clock: the guest is treated as
// lacking CAP_SYS_TIME (EPERM after the checks Linux makes first), and
// adjtimex may only read the host's state.

// The encoding of a CPU clock id: ^pid << 3 | per-thread bit | which.
// Linux: include/linux/posix-timers_types.h
const (
	cpuClockWhichMask = 3 // CPUCLOCK_CLOCK_MASK: PROF, VIRT, SCHED
	cpuClockPerThread = 4 // CPUCLOCK_PERTHREAD_MASK
	cpuClockFD        = 3 // CLOCKFD: a posix clock descriptor, not a CPU clock
)

func cpuClockID(pid, which int, thread bool) int {
	id := ^pid<<3 | which
	if thread {
		id |= cpuClockPerThread
	}
	return id
}

// cpuClockNow reads the CPU clock clk (< 0): a thread of the caller's own
// process, or any process. PROF, VIRT and SCHED read the same time (system
// time is not counted apart). Linux: kernel/time/posix-cpu-timers.c
// (pid_for_clock, posix_cpu_clock_get)
func cpuClockNow(t *kernel.Task, clk int) (time.Duration, error) {
	if clk&cpuClockWhichMask == cpuClockFD {
		return 0, unix.EINVAL // no posix clock devices
	}
	pid := t.KPID(^(clk >> 3))
	if clk&cpuClockPerThread != 0 {
		o := t
		if pid != 0 {
			if o = t.Kernel().TaskByTID(pid); o == nil || o.ThreadGroup() != t.ThreadGroup() {
				return 0, unix.EINVAL
			}
		}
		return o.CPUTime(), nil
	}
	tg := t.ThreadGroup()
	if pid != 0 && pid != t.TID() {
		if tg = t.Kernel().ThreadGroupByPID(pid); tg == nil {
			return 0, unix.EINVAL
		}
	}
	return tg.SelfUsage().CPU, nil
}

// validClock reports whether Linux has a clock clk (posix_clocks[], or a
// CPU clock encoding). Linux: kernel/time/posix-timers.c (clockid_to_kclock)
func validClock(clk int) bool {
	switch clk {
	case unix.CLOCK_REALTIME, unix.CLOCK_MONOTONIC, unix.CLOCK_PROCESS_CPUTIME_ID,
		unix.CLOCK_THREAD_CPUTIME_ID, unix.CLOCK_MONOTONIC_RAW, unix.CLOCK_REALTIME_COARSE,
		unix.CLOCK_MONOTONIC_COARSE, unix.CLOCK_BOOTTIME, unix.CLOCK_REALTIME_ALARM,
		unix.CLOCK_BOOTTIME_ALARM, unix.CLOCK_TAI:
		return true
	}
	return clk < 0
}

// timexSize is sizeof(struct timex) on x86-64.
const timexSize = 208

// adjtimex modes. Linux: include/uapi/linux/timex.h
const (
	adjOffsetSingleshot = 0x0001
	adjOffsetReadonly   = 0x2000
	adjAdjtime          = 0x8000
	adjOffsetSSRead     = 0xa001
)

func init() {
	// Linux: kernel/time/posix-timers.c (clock_settime), posix_clock_realtime_set
	reg(unix.SYS_CLOCK_SETTIME, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		if a.Int(0) != unix.CLOCK_REALTIME {
			return 0, unix.EINVAL // no clock, or one that cannot be set
		}
		if _, err := getTimespec(t, a[1]); err != nil {
			return 0, err
		}
		return 0, unix.EPERM
	}, "the host clock is never set: EPERM")
	// Linux: kernel/time/time.c (settimeofday, do_sys_settimeofday64)
	reg(unix.SYS_SETTIMEOFDAY, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		if a[0] != 0 {
			var b [16]byte
			if err := t.CopyIn(a[0], b[:]); err != nil {
				return 0, err
			}
			sec, usec := int64(binary.LittleEndian.Uint64(b[:])), int64(binary.LittleEndian.Uint64(b[8:]))
			if usec < 0 || usec >= 1e6 || sec < 0 {
				return 0, unix.EINVAL
			}
		}
		if a[1] != 0 {
			if err := t.CopyIn(a[1], make([]byte, 8)); err != nil {
				return 0, err
			}
		}
		return 0, unix.EPERM
	}, "the host clock is never set: EPERM")
	reg(unix.SYS_ADJTIMEX, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return adjtimex(t, a[0], -1)
	}, "reads the host's state; changes are EPERM")
	// Linux: kernel/time/posix-timers.c (clock_adjtime, do_clock_adjtime)
	reg(unix.SYS_CLOCK_ADJTIME, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return adjtimex(t, a[1], a.Int(0))
	}, "CLOCK_REALTIME: reads the host's state; changes are EPERM")
}

// adjtimex reads struct timex at addr and answers a query about the
// realtime clock (clk -1: adjtimex itself) with the host's state; any
// change is EPERM. Only a mode of 0 or ADJ_OFFSET_SS_READ reaches the
// host. Linux: kernel/time/timekeeping.c (timekeeping_validate_timex)
func adjtimex(t *kernel.Task, addr uint64, clk int) (uint64, error) {
	var b [timexSize]byte
	if err := t.CopyIn(addr, b[:]); err != nil {
		return 0, err
	}
	switch {
	case clk == -1 || clk == unix.CLOCK_REALTIME:
	case clk&cpuClockWhichMask == cpuClockFD && clk < 0, !validClock(clk):
		return 0, unix.EINVAL
	default:
		return 0, unix.EOPNOTSUPP
	}
	modes := binary.LittleEndian.Uint32(b[:])
	if modes&adjAdjtime != 0 {
		if modes&adjOffsetSingleshot == 0 {
			return 0, unix.EINVAL
		}
		if modes&adjOffsetReadonly == 0 {
			return 0, unix.EPERM
		}
		modes = adjOffsetSSRead
	} else if modes != 0 {
		return 0, unix.EPERM
	}
	var tx unix.Timex
	tx.Modes = modes
	state, _, errno := unix.Syscall(unix.SYS_ADJTIMEX, uintptr(unsafe.Pointer(&tx)), 0, 0)
	if errno != 0 {
		return 0, errno
	}
	out := unsafe.Slice((*byte)(unsafe.Pointer(&tx)), timexSize)
	return uint64(state), t.CopyOut(addr, out)
}
