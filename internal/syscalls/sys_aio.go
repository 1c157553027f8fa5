package syscalls

import (
	"encoding/binary"
	"math"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/fs/eventfd"
	"glassbox/internal/kernel"
	"glassbox/internal/mm"
	"glassbox/internal/vfs"
)

func init() {
	reg(unix.SYS_IO_SETUP, sysIoSetup)
	reg(unix.SYS_IO_DESTROY, sysIoDestroy)
	reg(unix.SYS_IO_SUBMIT, sysIoSubmit, "requests run when submitted; IOCB_CMD_POLL unsupported (EINVAL)")
	reg(unix.SYS_IO_CANCEL, sysIoCancel, "requests are done when submitted: nothing to cancel (EINVAL)")
	reg(unix.SYS_IO_GETEVENTS, sysIoGetevents)
}

// Native AIO. Linux: fs/aio.c

const (
	aioMaxNr   = 65536 // fs.aio-max-nr
	iocbSize   = 64
	ioEventLen = 32
	// iocb opcodes and flags. Linux: include/uapi/linux/aio_abi.h
	iocbPread, iocbPwrite, iocbFsync, iocbFdsync = 0, 1, 2, 3
	iocbPreadv, iocbPwritev                      = 7, 8
	iocbFlagResfd                                = 1
)

// sysIoSetup is io_setup(2): *ctxp must be 0; the new context's id is the
// address of a page mapped for it.
func sysIoSetup(t *kernel.Task, a kernel.Args) (uint64, error) {
	n := a.Int(0)
	var b [8]byte
	if err := t.CopyIn(a[1], b[:]); err != nil {
		return 0, err
	}
	if binary.LittleEndian.Uint64(b[:]) != 0 || n <= 0 || n > aioMaxNr {
		return 0, unix.EINVAL
	}
	id, err := t.MM().Mmap(t.Mapper(), mm.MapRequest{Length: abi.PageSize, Prot: unix.PROT_READ | unix.PROT_WRITE,
		Shared: false, Name: "[aio]"})
	if err != nil {
		return 0, unix.EAGAIN
	}
	binary.LittleEndian.PutUint64(b[:], id)
	if err := t.CopyOut(a[1], b[:]); err != nil {
		t.MM().Munmap(t.Mapper(), id, abi.PageSize)
		return 0, err
	}
	t.ThreadGroup().NewAIOContext(id, n)
	return 0, nil
}

// sysIoDestroy is io_destroy(2).
func sysIoDestroy(t *kernel.Task, a kernel.Args) (uint64, error) {
	if err := t.ThreadGroup().DestroyAIOContext(a[0]); err != nil {
		return 0, err
	}
	t.MM().Munmap(t.Mapper(), a[0], abi.PageSize)
	return 0, nil
}

// sysIoSubmit is io_submit(2): each iocb runs now and its event is
// queued. It returns how many were submitted; an error only when the
// first one could not be.
func sysIoSubmit(t *kernel.Task, a kernel.Args) (uint64, error) {
	c, err := t.ThreadGroup().AIOContext(a[0])
	if err != nil {
		return 0, err
	}
	nr := int64(a[1])
	if nr < 0 {
		return 0, unix.EINVAL
	}
	done := 0
	for i := int64(0); i < nr; i++ {
		var pb [8]byte
		err := t.CopyIn(a[2]+uint64(8*i), pb[:])
		if err == nil {
			err = submitOne(t, c, binary.LittleEndian.Uint64(pb[:]))
		}
		if err != nil {
			if done == 0 {
				return 0, err
			}
			break
		}
		done++
	}
	return uint64(done), nil
}

// submitOne checks and runs the iocb at addr. Linux: fs/aio.c (io_submit_one)
func submitOne(t *kernel.Task, c *kernel.AIOContext, addr uint64) error {
	var b [iocbSize]byte
	if err := t.CopyIn(addr, b[:]); err != nil {
		return err
	}
	le := binary.LittleEndian
	data, rwFlags := le.Uint64(b[0:]), le.Uint32(b[12:])
	op, fd := le.Uint16(b[16:]), int(int32(le.Uint32(b[20:])))
	buf, nbytes, off := le.Uint64(b[24:]), le.Uint64(b[32:]), le.Uint64(b[40:])
	reserved2, flags, resfd := le.Uint64(b[48:]), le.Uint32(b[56:]), int(int32(le.Uint32(b[60:])))
	if reserved2 != 0 || rwFlags != 0 || flags&^iocbFlagResfd != 0 || int64(nbytes) < 0 || int64(off) < 0 {
		return unix.EINVAL
	}
	var ev *vfs.File
	if flags&iocbFlagResfd != 0 {
		f, err := getFile(t, resfd)
		if err != nil {
			return unix.EBADF
		}
		defer f.DecRef()
		if _, ok := f.Ops().(*eventfd.EventFD); !ok {
			return unix.EINVAL
		}
		ev = f
	}
	f, err := getFile(t, fd)
	if err != nil {
		return unix.EBADF
	}
	f.DecRef()
	var nr int
	switch op {
	case iocbPread:
		nr = unix.SYS_PREAD64
	case iocbPwrite:
		nr = unix.SYS_PWRITE64
	case iocbPreadv:
		nr = unix.SYS_PREADV
	case iocbPwritev:
		nr = unix.SYS_PWRITEV
	case iocbFsync, iocbFdsync:
		nr = unix.SYS_FSYNC
	default:
		return unix.EINVAL
	}
	if err := c.Reserve(); err != nil {
		return err
	}
	res, err := table.Calls[nr].Fn(t, kernel.Args{uint64(fd), buf, nbytes, off, 0, 0})
	r := int64(res)
	if err != nil {
		if en, ok := err.(unix.Errno); ok {
			r = -int64(en)
		} else {
			r = -int64(unix.EIO)
		}
	}
	c.Complete(kernel.AIOEvent{Data: data, Obj: addr, Res: r})
	if ev != nil {
		var one [8]byte
		le.PutUint64(one[:], 1)
		ev.Ops().Write(t, [][]byte{one[:]}, -1)
	}
	return nil
}

// sysIoCancel is io_cancel(2): every request is done by the time it
// could be named.
func sysIoCancel(t *kernel.Task, a kernel.Args) (uint64, error) {
	// The iocb's key is read first. Linux: fs/aio.c (io_cancel)
	var key [4]byte
	if err := t.CopyIn(a[1]+8, key[:]); err != nil {
		return 0, unix.EFAULT
	}
	if _, err := t.ThreadGroup().AIOContext(a[0]); err != nil {
		return 0, err
	}
	return 0, unix.EINVAL
}

// sysIoGetevents is io_getevents(2): at least min_nr and at most nr
// events, waiting up to the relative timeout (NULL: as long as it takes).
// The timeout is read first and not checked: tv_nsec may exceed a
// second, a negative one does not wait. Linux: fs/aio.c (io_getevents,
// do_io_getevents, read_events)
func sysIoGetevents(t *kernel.Task, a kernel.Args) (uint64, error) {
	var wait time.Duration
	infinite := true
	if a[4] != 0 {
		var ts [16]byte
		if err := t.CopyIn(a[4], ts[:]); err != nil {
			return 0, unix.EFAULT
		}
		sec, nsec := binary.LittleEndian.Uint64(ts[:]), int64(binary.LittleEndian.Uint64(ts[8:]))
		if sec < math.MaxInt64/uint64(time.Second) { // else (a negative tv_sec too) no limit: timespec64_to_ktime's KTIME_MAX
			wait = time.Duration(sec)*time.Second + time.Duration(min(max(nsec, -1e18), 1e18))
			infinite = false
		}
	}
	c, err := t.ThreadGroup().AIOContext(a[0])
	if err != nil {
		return 0, err
	}
	minNr, nr := int64(a[1]), int64(a[2])
	if minNr < 0 || nr < 0 || minNr > nr {
		return 0, unix.EINVAL
	}
	var deadline time.Time
	if !infinite {
		deadline = time.Now().Add(wait)
	}
	want := int(minNr)
	for {
		evs, ch, err := c.Take(want, int(min(nr, aioMaxNr)))
		if err != nil {
			return 0, err
		}
		if ch == nil {
			out := make([]byte, 0, len(evs)*ioEventLen)
			le := binary.LittleEndian
			for _, e := range evs {
				out = le.AppendUint64(out, e.Data)
				out = le.AppendUint64(out, e.Obj)
				out = le.AppendUint64(out, uint64(e.Res))
				out = le.AppendUint64(out, uint64(e.Res2))
			}
			if len(out) > 0 {
				if err := t.CopyOut(a[3], out); err != nil {
					return 0, err
				}
			}
			return uint64(len(evs)), nil
		}
		if err := vfs.WaitAny(t, []<-chan struct{}{ch}, deadline); err != nil {
			if err == unix.ETIMEDOUT {
				want = 0 // take what there is
				continue
			}
			return 0, err
		}
	}
}
