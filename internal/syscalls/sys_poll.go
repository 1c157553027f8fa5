package syscalls

import (
	"encoding/binary"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/fs/epoll"
	"glassbox/internal/fs/eventfd"
	"glassbox/internal/kernel"
	"glassbox/internal/vfs"
)

func init() {
	reg(unix.SYS_POLL, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		if ms := int32(a[2]); ms >= 0 {
			return pollRestartable(t, a[0], a[1], time.Now().Add(time.Duration(ms)*time.Millisecond), ms == 0)
		}
		return doPoll(t, a[0], a[1], time.Time{}, false)
	})
	reg(unix.SYS_PPOLL, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		deadline, now, err := timeoutArg(t, a[2])
		if err != nil {
			return 0, err
		}
		if err := tempMask(t, a[3], a[4]); err != nil {
			return 0, err
		}
		n, err := doPoll(t, a[0], a[1], deadline, now)
		return n, timeLeft(t, a[2], deadline, false, err)
	})
	reg(unix.SYS_SELECT, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		var deadline time.Time
		now := false
		if a[4] != 0 {
			var b [16]byte
			if err := t.CopyIn(a[4], b[:]); err != nil {
				return 0, err
			}
			d, err := timeval(b[:])
			if err != nil {
				return 0, err
			}
			deadline, now = time.Now().Add(d), d == 0
		}
		n, err := doSelect(t, a.Int(0), a[1], a[2], a[3], deadline, now)
		return n, timeLeft(t, a[4], deadline, true, err)
	})
	reg(unix.SYS_PSELECT6, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		deadline, now, err := timeoutArg(t, a[4])
		if err != nil {
			return 0, err
		}
		if a[5] != 0 { // struct { const sigset_t *ss; size_t ss_len; }
			var b [16]byte
			if err := t.CopyIn(a[5], b[:]); err != nil {
				return 0, err
			}
			if err := tempMask(t, binary.LittleEndian.Uint64(b[:]), binary.LittleEndian.Uint64(b[8:])); err != nil {
				return 0, err
			}
		}
		n, err := doSelect(t, a.Int(0), a[1], a[2], a[3], deadline, now)
		return n, timeLeft(t, a[4], deadline, false, err)
	})
	reg(unix.SYS_EPOLL_CREATE, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		if a.Int(0) <= 0 {
			return 0, unix.EINVAL
		}
		return epollCreate(t, 0)
	})
	reg(unix.SYS_EPOLL_CREATE1, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		if a[0]&^unix.EPOLL_CLOEXEC != 0 {
			return 0, unix.EINVAL
		}
		return epollCreate(t, int(a[0]))
	})
	reg(unix.SYS_EPOLL_CTL, sysEpollCtl)
	reg(unix.SYS_EPOLL_WAIT, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return epollWait(t, a, msDeadline(a.Int(3)), a.Int(3) == 0)
	})
	reg(unix.SYS_EPOLL_PWAIT, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		if err := tempMask(t, a[4], a[5]); err != nil {
			return 0, err
		}
		return epollWait(t, a, msDeadline(a.Int(3)), a.Int(3) == 0)
	})
	reg(unix.SYS_EPOLL_PWAIT2, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		deadline, now, err := timeoutArg(t, a[3])
		if err != nil {
			return 0, err
		}
		if err := tempMask(t, a[4], a[5]); err != nil {
			return 0, err
		}
		return epollWait(t, a, deadline, now)
	})
	reg(unix.SYS_EVENTFD, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return installNew(t, eventfd.NewFile(uint64(uint32(a[0])), 0), false)
	})
	reg(unix.SYS_EVENTFD2, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		fl := int(a[1])
		if fl&^(unix.EFD_CLOEXEC|unix.EFD_NONBLOCK|unix.EFD_SEMAPHORE) != 0 {
			return 0, unix.EINVAL
		}
		return installNew(t, eventfd.NewFile(uint64(uint32(a[0])), fl), fl&unix.EFD_CLOEXEC != 0)
	})
}

// installNew puts a new file (whose reference is taken) at the lowest fd.
func installNew(t *kernel.Task, f *vfs.File, cloexec bool) (uint64, error) {
	fd, err := t.FDs().Install(f, 0, cloexec, t.FDLimit())
	if err != nil {
		f.DecRef()
		return 0, err
	}
	return uint64(fd), nil
}

func msDeadline(ms int) time.Time {
	if ms < 0 {
		return time.Time{}
	}
	return time.Now().Add(time.Duration(ms) * time.Millisecond)
}

// timeoutArg reads an optional struct timespec timeout.
func timeoutArg(t *kernel.Task, addr uint64) (time.Time, bool, error) {
	if addr == 0 {
		return time.Time{}, false, nil
	}
	d, err := getTimespec(t, addr)
	if err != nil {
		return time.Time{}, false, err
	}
	return time.Now().Add(d), d == 0, nil
}

// tempMask installs the optional signal mask of ppoll/pselect/epoll_pwait.
func tempMask(t *kernel.Task, addr, size uint64) error {
	if addr == 0 {
		return nil
	}
	if size != 8 {
		return unix.EINVAL
	}
	var b [8]byte
	if err := t.CopyIn(addr, b[:]); err != nil {
		return err
	}
	t.SetTempSigMask(abi.SigSet(binary.LittleEndian.Uint64(b[:])))
	return nil
}

// waitErr maps the end of a readiness wait to the syscall's answer.
func waitErr(err error) error {
	if err == unix.EINTR {
		return abi.ERESTARTNOHAND
	}
	return err
}

// pollRestartable is poll(2) with a timeout: interrupted, a handler makes
// it EINTR, anything else resumes it through restart_syscall with the
// same deadline. Linux: fs/select.c (do_restart_poll)
func pollRestartable(t *kernel.Task, addr, nfds uint64, deadline time.Time, now bool) (uint64, error) {
	n, err := doPoll(t, addr, nfds, deadline, now)
	if err != abi.ERESTARTNOHAND {
		return n, err
	}
	t.SetRestart(func(t *kernel.Task) (uint64, error) { return pollRestartable(t, addr, nfds, deadline, now) })
	return 0, abi.ERESTART_RESTARTBLOCK
}

// timeLeft writes the time left before deadline back to the timeout of
// select (a timeval at addr), pselect6 and ppoll (a timespec), as Linux
// does on every return, so that a restart after a signal waits only for
// the rest. If that write fails, an interrupted call is EINTR instead of
// restarted. Linux: fs/select.c (poll_select_finish)
func timeLeft(t *kernel.Task, addr uint64, deadline time.Time, isTimeval bool, err error) error {
	if addr == 0 || deadline.IsZero() {
		return err
	}
	left := max(time.Until(deadline), 0)
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:], uint64(left/time.Second))
	frac := uint64(left % time.Second)
	if isTimeval {
		frac /= 1000
	}
	binary.LittleEndian.PutUint64(b[8:], frac)
	if cerr := t.CopyOut(addr, b[:]); cerr != nil && err == abi.ERESTARTNOHAND {
		return unix.EINTR
	}
	return err
}

// readinessOf is the scan's look at one descriptor for poll and select:
// its ready events, false for a closed one; the channel that says when
// they change joins chans.
func readinessOf(t *kernel.Task, chans *[]<-chan struct{}) func(fd int) (uint32, bool) {
	return func(fd int) (uint32, bool) {
		f, err := getFile(t, fd)
		if err != nil {
			return 0, false
		}
		ev, ch := vfs.Readiness(f)
		f.DecRef()
		*chans = append(*chans, ch)
		return ev, true
	}
}

// doPoll is poll(2). Linux: fs/select.c (do_sys_poll)
func doPoll(t *kernel.Task, addr, nfds uint64, deadline time.Time, now bool) (uint64, error) {
	nfds = uint64(uint32(nfds)) // an unsigned int. Linux: fs/select.c (do_sys_poll)
	if nfds > uint64(t.FDLimit()) {
		return 0, unix.EINVAL
	}
	b := make([]byte, 8*nfds)
	if err := t.CopyIn(addr, b); err != nil {
		return 0, err
	}
	for {
		var chans []<-chan struct{}
		n := pollScan(b, readinessOf(t, &chans))
		if n > 0 || now {
			return uint64(n), t.CopyOut(addr, b)
		}
		if err := vfs.WaitAny(t, chans, deadline); err != nil {
			if err == unix.ETIMEDOUT {
				return 0, t.CopyOut(addr, b)
			}
			return 0, waitErr(err)
		}
	}
}

// pollScan fills in the revents of each struct pollfd in b from ready,
// which gives an open file's readiness (false: the fd is not open): a
// negative fd is skipped, a closed one is POLLNVAL, an open one reports
// the events asked for plus POLLERR and POLLHUP. It returns how many
// entries have revents set. Linux: fs/select.c (do_pollfd)
func pollScan(b []byte, ready func(fd int) (uint32, bool)) int {
	le := binary.LittleEndian
	n := 0
	for i := 0; i+8 <= len(b); i += 8 {
		p := b[i:]
		fd := int(int32(le.Uint32(p)))
		var rev uint16
		if fd >= 0 {
			if ev, ok := ready(fd); !ok {
				rev = unix.POLLNVAL
			} else {
				rev = uint16(ev) & (le.Uint16(p[4:]) | unix.POLLERR | unix.POLLHUP)
			}
		}
		le.PutUint16(p[6:], rev)
		if rev != 0 {
			n++
		}
	}
	return n
}

// doSelect is select(2) on fd_set bitmaps. Linux: fs/select.c (do_select)
func doSelect(t *kernel.Task, nfds int, rAddr, wAddr, eAddr uint64, deadline time.Time, now bool) (uint64, error) {
	if nfds < 0 {
		return 0, unix.EINVAL
	}
	// Descriptors beyond the table's size are not looked at, nor their
	// bits read. Linux: fs/select.c (core_sys_select: max_fds)
	nfds = min(nfds, t.FDs().MaxFDs())
	size := (nfds + 63) / 64 * 8
	sets := [3][]byte{}
	addrs := [3]uint64{rAddr, wAddr, eAddr}
	for i, ad := range addrs {
		sets[i] = make([]byte, size)
		if ad != 0 {
			if err := t.CopyIn(ad, sets[i]); err != nil {
				return 0, err
			}
		}
	}
	for {
		var chans []<-chan struct{}
		out, n, err := selectScan(sets, nfds, readinessOf(t, &chans))
		if err != nil {
			return 0, err
		}
		if n > 0 || now {
			return uint64(n), copySets(t, addrs, out)
		}
		if err := vfs.WaitAny(t, chans, deadline); err != nil {
			if err == unix.ETIMEDOUT {
				return 0, copySets(t, addrs, out)
			}
			return 0, waitErr(err)
		}
	}
}

// Readiness that answers each fd_set. Linux: fs/select.c (POLLIN_SET,
// POLLOUT_SET, POLLEX_SET)
const (
	selectIn  = unix.EPOLLRDNORM | unix.EPOLLRDBAND | unix.POLLIN | unix.POLLHUP | unix.POLLERR
	selectOut = unix.EPOLLWRBAND | unix.EPOLLWRNORM | unix.POLLOUT | unix.POLLERR
	selectEx  = unix.POLLPRI
)

// selectScan answers the read, write and except fd_sets for the fds below
// nfds from ready, which gives an open file's readiness (false: the fd is
// not open, which is EBADF when any set asks for it). Each set holds at
// least nfds bits. It returns the result sets and the number of bits set
// in them.
func selectScan(sets [3][]byte, nfds int, ready func(fd int) (uint32, bool)) ([3][]byte, int, error) {
	masks := [3]uint32{selectIn, selectOut, selectEx}
	var out [3][]byte
	for i := range out {
		out[i] = make([]byte, len(sets[i]))
	}
	n := 0
	for fd := 0; fd < nfds; fd++ {
		bit, byteI := byte(1)<<(fd%8), fd/8
		if (sets[0][byteI]|sets[1][byteI]|sets[2][byteI])&bit == 0 {
			continue
		}
		ev, ok := ready(fd)
		if !ok {
			return out, 0, unix.EBADF
		}
		for i := range sets {
			if sets[i][byteI]&bit != 0 && ev&masks[i] != 0 {
				out[i][byteI] |= bit
				n++
			}
		}
	}
	return out, n, nil
}

func copySets(t *kernel.Task, addrs [3]uint64, sets [3][]byte) error {
	for i, ad := range addrs {
		if ad != 0 {
			if err := t.CopyOut(ad, sets[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

func epollCreate(t *kernel.Task, flags int) (uint64, error) {
	f, _ := epoll.NewFile()
	return installNew(t, f, flags&unix.EPOLL_CLOEXEC != 0)
}

func sysEpollCtl(t *kernel.Task, a kernel.Args) (uint64, error) {
	ef, err := getFileIO(t, a.Int(0))
	if err != nil {
		return 0, err
	}
	defer ef.DecRef()
	in, ok := epoll.FromFile(ef)
	if !ok {
		return 0, unix.EINVAL
	}
	f, err := getFileIO(t, a.Int(2))
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	var ev epoll.Event
	if op := a.Int(1); op != unix.EPOLL_CTL_DEL {
		var b [12]byte
		if err := t.CopyIn(a[3], b[:]); err != nil {
			return 0, err
		}
		ev = epoll.Event{Events: binary.LittleEndian.Uint32(b[:]), Data: binary.LittleEndian.Uint64(b[4:])}
	}
	return 0, in.Ctl(a.Int(1), a.Int(2), f, ev)
}

func epollWait(t *kernel.Task, a kernel.Args, deadline time.Time, now bool) (uint64, error) {
	max := a.Int(2)
	if max <= 0 || max > 1<<20 {
		return 0, unix.EINVAL
	}
	ef, err := getFile(t, a.Int(0))
	if err != nil {
		return 0, err
	}
	defer ef.DecRef()
	in, ok := epoll.FromFile(ef)
	if !ok {
		return 0, unix.EINVAL
	}
	evs, err := in.Wait(t, max, deadline, now)
	if err != nil {
		// Never restarted, even after a stop. Linux: fs/eventpoll.c (ep_poll)
		return 0, err
	}
	b := make([]byte, 12*len(evs))
	for i, e := range evs {
		binary.LittleEndian.PutUint32(b[12*i:], e.Events)
		binary.LittleEndian.PutUint64(b[12*i+4:], e.Data)
	}
	return uint64(len(evs)), t.CopyOut(a[1], b)
}
