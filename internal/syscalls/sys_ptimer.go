package syscalls

import (
	"encoding/binary"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/fs/timerfd"
	"glassbox/internal/kernel"
)

func init() {
	reg(unix.SYS_TIMER_CREATE, sysTimerCreate, "SIGEV_SIGNAL, SIGEV_NONE, SIGEV_THREAD_ID")
	reg(unix.SYS_TIMER_SETTIME, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		if a[2] == 0 {
			return 0, unix.EINVAL // Linux: kernel/time/posix-timers.c (timer_settime)
		}
		value, iv, err := readItimerspec(t, a[2], int(a[1]), unix.CLOCK_MONOTONIC)
		if err != nil {
			return 0, err
		}
		left, oiv, err := t.ThreadGroup().TimerSet(a.Int(0), value, iv)
		if err != nil || a[3] == 0 {
			return 0, err
		}
		return 0, putItimerspec(t, a[3], left, oiv)
	})
	reg(unix.SYS_TIMER_GETTIME, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		left, iv, err := t.ThreadGroup().TimerGet(a.Int(0))
		if err != nil {
			return 0, err
		}
		return 0, putItimerspec(t, a[1], left, iv)
	})
	reg(unix.SYS_TIMER_GETOVERRUN, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		n, err := t.ThreadGroup().TimerGetOverrun(a.Int(0))
		return uint64(n), err
	})
	reg(unix.SYS_TIMER_DELETE, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return 0, t.ThreadGroup().TimerDelete(a.Int(0))
	})
	reg(unix.SYS_TIMERFD_CREATE, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		clk, fl := a.Int(0), a.Int(1)
		if fl&^(unix.TFD_CLOEXEC|unix.TFD_NONBLOCK) != 0 {
			return 0, unix.EINVAL
		}
		switch clk {
		case unix.CLOCK_REALTIME, unix.CLOCK_MONOTONIC, unix.CLOCK_BOOTTIME:
		case unix.CLOCK_REALTIME_ALARM, unix.CLOCK_BOOTTIME_ALARM:
			if !t.CapableInit(unix.CAP_WAKE_ALARM) {
				return 0, unix.EPERM // Linux: fs/timerfd.c (timerfd_create)
			}
		default:
			return 0, unix.EINVAL
		}
		f, _ := timerfd.NewFile(clk, fl)
		return installNew(t, f, fl&unix.TFD_CLOEXEC != 0)
	})
	// The new value is read and checked before the descriptor.
	// Linux: fs/timerfd.c (timerfd_settime, do_timerfd_settime)
	reg(unix.SYS_TIMERFD_SETTIME, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		iv, err := getTimespec(t, a[2])
		if err != nil {
			return 0, err
		}
		value, err := getTimespec(t, a[2]+16)
		if err != nil {
			return 0, err
		}
		if a[1]&^3 != 0 { // TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET
			return 0, unix.EINVAL
		}
		tf, done, err := getTimerFD(t, a.Int(0))
		if err != nil {
			return 0, err
		}
		defer done()
		if value, err = absDelay(t, value, int(a[1]), tf.Clock()); err != nil {
			return 0, err
		}
		left, oiv := tf.Set(value, iv)
		if a[3] != 0 {
			return 0, putItimerspec(t, a[3], left, oiv)
		}
		return 0, nil
	})
	reg(unix.SYS_TIMERFD_GETTIME, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		tf, done, err := getTimerFD(t, a.Int(0))
		if err != nil {
			return 0, err
		}
		defer done()
		left, iv := tf.Get()
		return 0, putItimerspec(t, a[1], left, iv)
	})
	reg(unix.SYS_SIGNALFD, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return signalfd(t, a.Int(0), a[1], a[2], 0)
	})
	reg(unix.SYS_SIGNALFD4, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return signalfd(t, a.Int(0), a[1], a[2], a.Int(3))
	})
}

func getTimerFD(t *kernel.Task, fd int) (*timerfd.TimerFD, func(), error) {
	f, err := getFile(t, fd)
	if err != nil {
		return nil, nil, err
	}
	tf, ok := timerfd.FromFile(f)
	if !ok {
		f.DecRef()
		return nil, nil, unix.EINVAL
	}
	return tf, f.DecRef, nil
}

// sysTimerCreate decodes struct sigevent: it is read first (EFAULT), then
// the clock is checked (EINVAL, EOPNOTSUPP), then the sigevent (EINVAL).
// Linux: kernel/time/posix-timers.c (timer_create, do_timer_create,
// good_sigevent)
func sysTimerCreate(t *kernel.Task, a kernel.Args) (uint64, error) {
	clk := a.Int(0)
	var ev kernel.Sigevent
	var b [64]byte
	if a[1] != 0 {
		if err := t.CopyIn(a[1], b[:]); err != nil {
			return 0, err
		}
	}
	if !validClock(clk) {
		return 0, unix.EINVAL
	}
	if !clockHasTimers(clk) {
		return 0, unix.EOPNOTSUPP
	}
	if a[1] != 0 {
		le := binary.LittleEndian
		ev = kernel.Sigevent{Value: le.Uint64(b[0:]), Signo: int(int32(le.Uint32(b[8:]))),
			Notify: int(int32(le.Uint32(b[12:]))), TID: int(int32(le.Uint32(b[16:])))}
		switch ev.Notify {
		case kernel.SigevNone:
		case kernel.SigevSignal, sigevThread, kernel.SigevThreadID:
			// The thread must be one of the caller's.
			if ev.Notify == kernel.SigevThreadID {
				ev.TID = t.KPID(ev.TID) // the kernel's number from here on
				if o := t.Kernel().TaskByTID(ev.TID); o == nil || o.ThreadGroup() != t.ThreadGroup() {
					return 0, unix.EINVAL
				}
			}
			if ev.Signo < 1 || ev.Signo > abi.NSIG {
				return 0, unix.EINVAL
			}
			if ev.Notify == sigevThread {
				// The kernel signals the process (the C library makes the thread).
				ev.Notify = kernel.SigevSignal
			}
		default:
			return 0, unix.EINVAL
		}
	}
	switch {
	case isAlarmClock(clk):
		if err := alarmAllowed(t); err != nil {
			return 0, err
		}
	case clk < 0:
		return 0, unix.EINVAL // CPU clocks named by pid are not timers here
	}
	id, err := t.ThreadGroup().TimerCreate(ev)
	if err != nil {
		return 0, err
	}
	var idb [4]byte
	binary.LittleEndian.PutUint32(idb[:], uint32(id))
	if err := t.CopyOut(a[2], idb[:]); err != nil {
		t.ThreadGroup().TimerDelete(id)
		return 0, err
	}
	return 0, nil
}

// readItimerspec reads struct itimerspec; with TIMER_ABSTIME the value is
// a time on clk, turned into a delay here.
func readItimerspec(t *kernel.Task, addr uint64, flags, clk int) (time.Duration, time.Duration, error) {
	iv, err := getTimespec(t, addr)
	if err != nil {
		return 0, 0, err
	}
	value, err := getTimespec(t, addr+16)
	if err != nil {
		return 0, 0, err
	}
	value, err = absDelay(t, value, flags, clk)
	return value, iv, err
}

// absDelay turns a value given with TIMER_ABSTIME into a delay on clk.
func absDelay(t *kernel.Task, value time.Duration, flags, clk int) (time.Duration, error) {
	if flags&1 != 0 && value != 0 { // TIMER_ABSTIME
		now, err := clockNow(t, clk)
		if err != nil {
			return 0, err
		}
		value -= time.Duration(now.Nano())
		if value <= 0 {
			value = 1 // already due: fire at once
		}
	}
	return value, nil
}

// sigevThread is SIGEV_THREAD: for the kernel, a signal to the process.
const sigevThread = 2

func putItimerspec(t *kernel.Task, addr uint64, left, iv time.Duration) error {
	if err := putTimespec(t, addr, unix.NsecToTimespec(int64(iv))); err != nil {
		return err
	}
	return putTimespec(t, addr+16, unix.NsecToTimespec(int64(left)))
}

// signalfd creates a signalfd or changes the mask of an existing one.
func signalfd(t *kernel.Task, fd int, maskAddr, size uint64, flags int) (uint64, error) {
	if size != 8 || flags&^(unix.SFD_CLOEXEC|unix.SFD_NONBLOCK) != 0 {
		return 0, unix.EINVAL
	}
	var b [8]byte
	if err := t.CopyIn(maskAddr, b[:]); err != nil {
		return 0, err
	}
	mask := abi.SigSet(binary.LittleEndian.Uint64(b[:]))
	if fd == -1 {
		return installNew(t, t.NewSignalFD(mask, flags), flags&unix.SFD_CLOEXEC != 0)
	}
	f, err := getFile(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	s, ok := kernel.SignalFDOf(f)
	if !ok {
		return 0, unix.EINVAL
	}
	s.SetMask(mask)
	return uint64(fd), nil
}
