package syscalls

import (
	"encoding/binary"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/kernel"
)

func init() {
	reg(unix.SYS_CLOCK_GETTIME, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		ts, err := clockNow(t, a.Int(0))
		if err != nil {
			return 0, err
		}
		return 0, putTimespec(t, a[1], ts)
	})
	reg(unix.SYS_CLOCK_GETRES, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		clk := a.Int(0)
		if _, err := clockNow(t, clk); err != nil {
			return 0, err
		}
		if a[1] == 0 {
			return 0, nil
		}
		var ts unix.Timespec
		if clk < 0 {
			// A CPU clock's resolution depends only on which time it
			// counts: ask the host about its own clock of that kind.
			clk = cpuClockID(0, clk&cpuClockWhichMask, false)
		}
		if err := unix.ClockGetres(int32(hostClock(clk)), &ts); err != nil {
			ts = unix.Timespec{Nsec: 1}
		}
		return 0, putTimespec(t, a[1], ts)
	})
	reg(unix.SYS_GETTIMEOFDAY, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		now := time.Now()
		if a[0] != 0 {
			var b [16]byte
			binary.LittleEndian.PutUint64(b[:], uint64(now.Unix()))
			binary.LittleEndian.PutUint64(b[8:], uint64(now.Nanosecond()/1000))
			if err := t.CopyOut(a[0], b[:]); err != nil {
				return 0, err
			}
		}
		if a[1] != 0 {
			return 0, t.CopyOut(a[1], make([]byte, 8))
		}
		return 0, nil
	})
	reg(unix.SYS_TIME, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		now := uint64(time.Now().Unix())
		if a[0] != 0 {
			if err := putU64(t, a[0], now); err != nil {
				return 0, err
			}
		}
		return now, nil
	})
	reg(unix.SYS_NANOSLEEP, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		d, err := getTimespec(t, a[0])
		if err != nil {
			return 0, err
		}
		return sleepRestartable(t, time.Now().Add(d), a[1])
	})
	reg(unix.SYS_CLOCK_NANOSLEEP, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		clk, flags := a.Int(0), a.Int(1)
		switch {
		case clk == unix.CLOCK_THREAD_CPUTIME_ID:
			return 0, unix.EOPNOTSUPP // Linux: kernel/time/posix-timers.c (no nsleep)
		case clk < 0 && clk&cpuClockPerThread != 0:
			return 0, unix.EINVAL // Linux: kernel/time/posix-cpu-timers.c (posix_cpu_nsleep)
		}
		now, err := clockNow(t, clk)
		if err != nil {
			return 0, err
		}
		d, err := getTimespec(t, a[2])
		if err != nil {
			return 0, err
		}
		if flags&unix.TIMER_ABSTIME != 0 {
			d -= time.Duration(now.Nano())
		}
		rem := a[3]
		if flags&unix.TIMER_ABSTIME != 0 {
			rem = 0
		}
		return sleepRestartable(t, time.Now().Add(d), rem)
	})
	reg(unix.SYS_RESTART_SYSCALL, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return t.RunRestart()
	})
}

// sleepRestartable sleeps until deadline. Interrupted, it writes the time
// left to rem (if set) and asks for ERESTART_RESTARTBLOCK: a handler makes
// it EINTR, anything else resumes the sleep through restart_syscall with
// the original deadline. Linux: kernel/time/hrtimer.c (hrtimer_nanosleep)
func sleepRestartable(t *kernel.Task, deadline time.Time, rem uint64) (uint64, error) {
	left, err := t.Sleep(time.Until(deadline))
	if err == nil {
		return 0, nil
	}
	if rem != 0 {
		if cerr := putTimespec(t, rem, unix.NsecToTimespec(left.Nanoseconds())); cerr != nil {
			return 0, cerr
		}
	}
	t.SetRestart(func(t *kernel.Task) (uint64, error) { return sleepRestartable(t, deadline, rem) })
	return 0, abi.ERESTART_RESTARTBLOCK
}

// hostClock maps a guest clock id to the host clock that answers it.
func hostClock(clk int) int {
	switch clk {
	case unix.CLOCK_REALTIME_ALARM:
		return unix.CLOCK_REALTIME
	case unix.CLOCK_BOOTTIME_ALARM:
		return unix.CLOCK_BOOTTIME
	}
	return clk
}

// clockNow reads guest clock clk.
func clockNow(t *kernel.Task, clk int) (unix.Timespec, error) {
	var ts unix.Timespec
	switch clk {
	case unix.CLOCK_REALTIME, unix.CLOCK_MONOTONIC, unix.CLOCK_MONOTONIC_RAW, unix.CLOCK_REALTIME_COARSE,
		unix.CLOCK_MONOTONIC_COARSE, unix.CLOCK_BOOTTIME, unix.CLOCK_REALTIME_ALARM, unix.CLOCK_BOOTTIME_ALARM,
		unix.CLOCK_TAI:
		err := unix.ClockGettime(int32(hostClock(clk)), &ts)
		return ts, err
	case unix.CLOCK_PROCESS_CPUTIME_ID:
		return unix.NsecToTimespec(t.ThreadGroup().SelfUsage().CPU.Nanoseconds()), nil
	case unix.CLOCK_THREAD_CPUTIME_ID:
		return unix.NsecToTimespec(t.CPUTime().Nanoseconds()), nil
	}
	if clk < 0 {
		d, err := cpuClockNow(t, clk)
		return unix.NsecToTimespec(d.Nanoseconds()), err
	}
	return ts, unix.EINVAL
}

func putTimespec(t *kernel.Task, addr uint64, ts unix.Timespec) error {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:], uint64(ts.Sec))
	binary.LittleEndian.PutUint64(b[8:], uint64(ts.Nsec))
	return t.CopyOut(addr, b[:])
}

// getTimespec reads a struct timespec; invalid values are EINVAL.
func getTimespec(t *kernel.Task, addr uint64) (time.Duration, error) {
	var b [16]byte
	if err := t.CopyIn(addr, b[:]); err != nil {
		return 0, err
	}
	sec := int64(binary.LittleEndian.Uint64(b[:]))
	nsec := int64(binary.LittleEndian.Uint64(b[8:]))
	if sec < 0 || nsec < 0 || nsec >= 1e9 {
		return 0, unix.EINVAL
	}
	if sec > int64(1<<62)/1e9 {
		return time.Duration(1 << 62), nil
	}
	return time.Duration(sec)*time.Second + time.Duration(nsec), nil
}
