package syscalls

import (
	"encoding/binary"
	"sync"
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
		if err := unix.ClockGetres(int32(clk), &ts); err != nil {
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
	reg(unix.SYS_CLOCK_NANOSLEEP, sysClockNanosleep)
	reg(unix.SYS_RESTART_SYSCALL, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return t.RunRestart()
	})
}

// sysClockNanosleep checks the clock (EINVAL), whether it can sleep
// (EOPNOTSUPP), then reads the request (EFAULT, EINVAL) before the clock's
// own checks. Linux: kernel/time/posix-timers.c (clock_nanosleep),
// kernel/time/alarmtimer.c (alarm_timer_nsleep),
// kernel/time/posix-cpu-timers.c (posix_cpu_nsleep)
func sysClockNanosleep(t *kernel.Task, a kernel.Args) (uint64, error) {
	clk, flags := a.Int(0), a.Int(1)
	if !validClock(clk) {
		return 0, unix.EINVAL
	}
	if !clockHasTimers(clk) || clk == unix.CLOCK_THREAD_CPUTIME_ID {
		return 0, unix.EOPNOTSUPP
	}
	d, err := getTimespec(t, a[2])
	if err != nil {
		return 0, err
	}
	if isAlarmClock(clk) {
		if err := alarmAllowed(t); err != nil {
			return 0, err
		}
	}
	if clk < 0 && clk&cpuClockPerThread != 0 {
		return 0, unix.EINVAL
	}
	now, err := clockNow(t, clk)
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
}

// clockHasTimers reports whether clk can sleep and drive a POSIX timer:
// the raw and coarse clocks and the clock devices cannot (EOPNOTSUPP).
func clockHasTimers(clk int) bool {
	switch {
	case clk == unix.CLOCK_MONOTONIC_RAW, clk == unix.CLOCK_REALTIME_COARSE, clk == unix.CLOCK_MONOTONIC_COARSE:
		return false
	case clk < 0 && clk&7 == 3: // CLOCKFD
		return false
	}
	return true
}

func isAlarmClock(clk int) bool {
	return clk == unix.CLOCK_REALTIME_ALARM || clk == unix.CLOCK_BOOTTIME_ALARM
}

// hostHasAlarm reports whether the host has the real-time clock device
// the alarm clocks need; without one Linux reads them as EINVAL and
// refuses to sleep or arm timers on them (EOPNOTSUPP).
// Linux: kernel/time/alarmtimer.c (alarmtimer_get_rtcdev)
var hostHasAlarm = sync.OnceValue(func() bool {
	var ts unix.Timespec
	return unix.ClockGetres(unix.CLOCK_BOOTTIME_ALARM, &ts) == nil
})

// alarmAllowed is the alarm clocks' check before a sleep or a timer.
func alarmAllowed(t *kernel.Task) error {
	if !hostHasAlarm() {
		return unix.EOPNOTSUPP
	}
	if !t.CapableInit(unix.CAP_WAKE_ALARM) {
		return unix.EPERM
	}
	return nil
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

// clockNow reads guest clock clk.
func clockNow(t *kernel.Task, clk int) (unix.Timespec, error) {
	var ts unix.Timespec
	switch clk {
	case unix.CLOCK_REALTIME, unix.CLOCK_MONOTONIC, unix.CLOCK_MONOTONIC_RAW, unix.CLOCK_REALTIME_COARSE,
		unix.CLOCK_MONOTONIC_COARSE, unix.CLOCK_BOOTTIME, unix.CLOCK_REALTIME_ALARM, unix.CLOCK_BOOTTIME_ALARM,
		unix.CLOCK_TAI:
		// The host answers: the alarm clocks are EINVAL there, as in the
		// guest, without a real-time clock device.
		err := unix.ClockGettime(int32(clk), &ts)
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
