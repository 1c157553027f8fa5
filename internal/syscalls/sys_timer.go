package syscalls

import (
	"encoding/binary"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/internal/kernel"
)

func init() {
	reg(unix.SYS_ALARM, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		left, _ := t.ThreadGroup().SetRealTimer(time.Duration(uint32(a[0]))*time.Second, 0)
		// Round like Linux: a partial second left counts as one.
		secs := uint64((left + time.Second/2) / time.Second)
		if left > 0 && secs == 0 {
			secs = 1
		}
		return secs, nil
	})
	reg(unix.SYS_SETITIMER, sysSetitimer, "ITIMER_VIRTUAL and ITIMER_PROF both count all CPU time, sampled every 5 ms")
	reg(unix.SYS_GETITIMER, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		var left, iv time.Duration
		switch w := a.Int(0); w {
		case itimerReal:
			left, iv = t.ThreadGroup().RealTimer()
		case kernel.ItimerVirtual, kernel.ItimerProf:
			left, iv = t.ThreadGroup().CPUTimer(w)
		default:
			return 0, unix.EINVAL
		}
		return 0, putItimerval(t, a[1], left, iv)
	})
}

const itimerReal = 0

// sysSetitimer reads and checks the new value before which timer it is.
// Linux: kernel/time/itimer.c (setitimer, get_itimerval)
func sysSetitimer(t *kernel.Task, a kernel.Args) (uint64, error) {
	which := a.Int(0)
	var value, iv time.Duration
	if a[1] != 0 {
		var b [32]byte
		if err := t.CopyIn(a[1], b[:]); err != nil {
			return 0, err
		}
		var err error
		if iv, err = timeval(b[0:16]); err != nil {
			return 0, err
		}
		if value, err = timeval(b[16:32]); err != nil {
			return 0, err
		}
	}
	if which < itimerReal || which > kernel.ItimerProf {
		return 0, unix.EINVAL
	}
	var left, oiv time.Duration
	if which == itimerReal {
		left, oiv = t.ThreadGroup().SetRealTimer(value, iv)
	} else {
		left, oiv = t.ThreadGroup().SetCPUTimer(which, value, iv)
	}
	if a[2] != 0 {
		return 0, putItimerval(t, a[2], left, oiv)
	}
	return 0, nil
}

func timeval(b []byte) (time.Duration, error) {
	sec := int64(binary.LittleEndian.Uint64(b))
	usec := int64(binary.LittleEndian.Uint64(b[8:]))
	if sec < 0 || usec < 0 || usec >= 1e6 {
		return 0, unix.EINVAL
	}
	return time.Duration(sec)*time.Second + time.Duration(usec)*time.Microsecond, nil
}

func putItimerval(t *kernel.Task, addr uint64, left, iv time.Duration) error {
	var b [32]byte
	le := binary.LittleEndian
	le.PutUint64(b[0:], uint64(iv/time.Second))
	le.PutUint64(b[8:], uint64(iv%time.Second/time.Microsecond))
	le.PutUint64(b[16:], uint64(left/time.Second))
	le.PutUint64(b[24:], uint64(left%time.Second/time.Microsecond))
	return t.CopyOut(addr, b[:])
}
