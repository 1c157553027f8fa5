package syscalls

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/fs/pipe"
	"glassbox/internal/kernel"
	"glassbox/internal/vfs"
)

func init() {
	reg(unix.SYS_READ, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return rw(t, a.Int(0), a[1], a[2], -1, true)
	})
	reg(unix.SYS_WRITE, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return rw(t, a.Int(0), a[1], a[2], -1, false)
	})
	reg(unix.SYS_PREAD64, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		if int64(a[3]) < 0 {
			return 0, unix.EINVAL
		}
		return rw(t, a.Int(0), a[1], a[2], int64(a[3]), true)
	})
	reg(unix.SYS_PWRITE64, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		if int64(a[3]) < 0 {
			return 0, unix.EINVAL
		}
		return rw(t, a.Int(0), a[1], a[2], int64(a[3]), false)
	})
	reg(unix.SYS_READV, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return rwv(t, a.Int(0), a[1], a.Int(2), -1, true, 0)
	})
	reg(unix.SYS_WRITEV, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return rwv(t, a.Int(0), a[1], a.Int(2), -1, false, 0)
	})
	reg(unix.SYS_PREADV, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		if int64(a[3]) < 0 {
			return 0, unix.EINVAL
		}
		return rwv(t, a.Int(0), a[1], a.Int(2), int64(a[3]), true, 0)
	})
	reg(unix.SYS_PWRITEV, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		if int64(a[3]) < 0 {
			return 0, unix.EINVAL
		}
		return rwv(t, a.Int(0), a[1], a.Int(2), int64(a[3]), false, 0)
	})
	// An offset of -1 is the file position; below that EINVAL.
	// Linux: fs/read_write.c (preadv2, do_preadv)
	reg(unix.SYS_PREADV2, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		if int64(a[3]) < -1 {
			return 0, unix.EINVAL
		}
		return rwv(t, a.Int(0), a[1], a.Int(2), int64(a[3]), true, int(a[5]))
	}, "RWF_NOWAIT only on pipes (EOPNOTSUPP on in-memory files); RWF_HIPRI, DSYNC and SYNC ignored")
	reg(unix.SYS_PWRITEV2, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		if int64(a[3]) < -1 {
			return 0, unix.EINVAL
		}
		return rwv(t, a.Int(0), a[1], a.Int(2), int64(a[3]), false, int(a[5]))
	}, "RWF_NOWAIT only on pipes (EOPNOTSUPP on in-memory files); RWF_HIPRI, DSYNC and SYNC ignored")
}

// rwCheck is what read and write check before moving anything, in
// Linux's order: a position on a stream, the access mode, the buffer's
// range, the position's range, then a directory's EISDIR (its read op).
// Linux: fs/read_write.c (ksys_pread64, vfs_read, rw_verify_area)
func rwCheck(f *vfs.File, addr, count uint64, off int64, read bool) error {
	if f.Flags()&unix.O_PATH != 0 {
		return unix.EBADF
	}
	if _, stream := f.Ops().(vfs.Stream); stream && off >= 0 {
		return unix.ESPIPE
	}
	if read && !f.Readable() || !read && !f.Writable() {
		return unix.EBADF
	}
	if end := addr + count; end < addr || end > taskSizeMax {
		return unix.EFAULT
	}
	if int64(count) < 0 || off >= 0 && off+int64(count) < 0 {
		return unix.EINVAL
	}
	if _, dir := f.Ops().(vfs.DirReader); dir && read {
		return unix.EISDIR
	}
	return nil
}

// rwfFlags checks preadv2/pwritev2's flags: unknown ones and RWF_NOWAIT
// on a file that cannot honour it are EOPNOTSUPP (pipes can; of regular
// files only the host's). Linux: include/linux/fs.h (kiocb_set_rw_flags)
func rwfFlags(f *vfs.File, flags int) error {
	if flags&^unix.RWF_SUPPORTED != 0 {
		return unix.EOPNOTSUPP
	}
	if flags&unix.RWF_NOWAIT != 0 {
		_, stream := f.Ops().(vfs.Stream)
		_, host := f.Ops().(interface{ Fsync() error })
		if !stream && !host {
			return unix.EOPNOTSUPP
		}
	}
	if flags&(unix.RWF_ATOMIC|unix.RWF_DONTCACHE) != 0 {
		return unix.EOPNOTSUPP
	}
	return nil
}

// noWait is a task doing one RWF_NOWAIT transfer (vfs.NoWait).
type noWait struct{ *kernel.Task }

func (noWait) NoWait() bool { return true }

// maxRW is MAX_RW_COUNT: the most one read or write moves.
const maxRW = 0x7ffff000

// taskSizeMax is where access_ok's user address space ends.
const taskSizeMax = abi.TaskSizeMax

// ioChunk bounds how much guest memory is held at once for one transfer.
const ioChunk = 1 << 20

// rw moves up to count bytes between fd and guest memory at addr.
func rw(t *kernel.Task, fd int, addr, count uint64, off int64, read bool) (uint64, error) {
	f, err := getFile(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	if err := rwCheck(f, addr, count, off, read); err != nil {
		return 0, err
	}
	if count > maxRW {
		count = maxRW
	}
	if count == 0 {
		if read {
			return 0, nil
		}
		// A zero-length write is a no-op on files and pipes, but a socket
		// sends it: an empty datagram or record, EPIPE after shutdown,
		// ENOTCONN unconnected, an error from netlink.
		// Linux: net/socket.c (sock_write_iter has no zero-length check)
		if s, err := sockOf(f); err == nil {
			n, err := sendResult(t, 0, sendEmpty(t, s), 0)
			return uint64(n), err
		}
		return 0, nil
	}
	_, stream := f.Ops().(vfs.Stream)
	var total uint64
	for total < count {
		n := min(count-total, ioChunk)
		p, err := t.Pin(addr+total, int(n), read)
		if err != nil {
			if total > 0 {
				break
			}
			return 0, err
		}
		var got int
		o := off
		if off >= 0 {
			o = off + int64(total)
		}
		if read {
			got, err = f.Read(t, p.Bufs, o)
		} else {
			got, err = f.Write(t, p.Bufs, o)
		}
		p.Unpin()
		total += uint64(got)
		if err != nil {
			if !read {
				epipe(t, err) // SIGPIPE even after a partial write
			}
			if total > 0 {
				break
			}
			return 0, restartable(err)
		}
		// A stream read returns what is there; a blocking write goes on
		// until everything is written.
		if uint64(got) < n || stream && read {
			break
		}
	}
	return total, nil
}

// iovec is one struct iovec.
type iovec struct{ base, len uint64 }

// iovTotal is the sum of the lengths of iov.
func iovTotal(iov []iovec) uint64 {
	var total uint64
	for _, v := range iov {
		total += v.len
	}
	return total
}

// readIovecs reads cnt iovecs at addr and imports them (importIovecs).
func readIovecs(t *kernel.Task, addr uint64, cnt int) ([]iovec, error) {
	b, err := copyInIovecs(t, addr, cnt)
	if err != nil {
		return nil, err
	}
	return importIovecs(b)
}

// copyInIovecs reads the raw array of cnt iovecs at addr.
func copyInIovecs(t *kernel.Task, addr uint64, cnt int) ([]byte, error) {
	if cnt < 0 || cnt > uioMaxIOV {
		return nil, unix.EINVAL
	}
	b := make([]byte, 16*cnt)
	if err := t.CopyIn(addr, b); err != nil {
		return nil, err
	}
	return b, nil
}

// decodeIovecs decodes an array of struct iovec: EINVAL for a length
// that is negative as a ssize_t. Linux: lib/iov_iter.c (iovec_from_user)
func decodeIovecs(b []byte) ([]iovec, error) {
	le := binary.LittleEndian
	out := make([]iovec, len(b)/16)
	for i := range out {
		out[i] = iovec{le.Uint64(b[16*i:]), le.Uint64(b[16*i+8:])}
		if int64(out[i].len) < 0 {
			return nil, unix.EINVAL
		}
	}
	return out, nil
}

// importIovecs decodes an iovec array as readv, writev, sendmsg and the
// local side of process_vm_* take it: EINVAL for any negative length,
// EFAULT for any segment (even an empty one) that does not end within
// the user address space, and the lengths cut so that their
// total is at most MAX_RW_COUNT (later segments become empty).
// Linux: lib/iov_iter.c (__import_iovec: access_ok on each segment)
func importIovecs(b []byte) ([]iovec, error) {
	iov, err := decodeIovecs(b)
	if err != nil {
		return nil, err
	}
	var total uint64
	for i, v := range iov {
		if end := v.base + v.len; end < v.base || end > taskSizeMax {
			return nil, unix.EFAULT
		}
		iov[i].len = min(v.len, maxRW-total)
		total += iov[i].len
	}
	return iov, nil
}

// rwv is readv/writev and their positioned forms; rwf is preadv2's and
// pwritev2's flags. Linux: fs/read_write.c (vfs_readv, do_iter_readv_writev)
func rwv(t *kernel.Task, fd int, iovAddr uint64, cnt int, off int64, read bool, rwf int) (uint64, error) {
	f, err := getFile(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	if err := rwCheck(f, 0, 0, off, read); err != nil && err != unix.EISDIR {
		return 0, err
	}
	iov, err := readIovecs(t, iovAddr, cnt)
	if err != nil {
		return 0, err
	}
	total := iovTotal(iov)
	if total == 0 {
		return 0, nil
	}
	if off >= 0 && off+int64(total) < 0 {
		return 0, unix.EINVAL
	}
	if err := rwfFlags(f, rwf); err != nil {
		return 0, err
	}
	var ctx vfs.Ctx = t
	if _, isPipe := pipe.FromOps(f.Ops()); isPipe && rwf&unix.RWF_NOWAIT != 0 {
		ctx = noWait{t}
	}
	return transferIovecs(t, ctx, f, iov, off, read, rwf)
}

// transferIovecs reads or writes f at off (-1: its position) to or from
// the guest memory iov names, as one call of the file's op; rwf's
// RWF_APPEND and RWF_NOAPPEND decide whether a write appends.
// Linux: include/linux/fs.h (kiocb_set_rw_flags)
func transferIovecs(t *kernel.Task, ctx vfs.Ctx, f *vfs.File, iov []iovec, off int64, read bool, rwf int) (uint64, error) {
	var bufs [][]byte
	var pins []interface{ Unpin() }
	defer func() {
		for _, p := range pins {
			p.Unpin()
		}
	}()
	for _, v := range iov {
		if v.len == 0 {
			continue
		}
		p, err := t.Pin(v.base, int(v.len), read)
		if err != nil {
			if len(bufs) > 0 {
				break
			}
			return 0, err
		}
		pins = append(pins, p)
		bufs = append(bufs, p.Bufs...)
	}
	if len(bufs) == 0 {
		return 0, nil
	}
	var n int
	var err error
	if read {
		n, err = f.Read(ctx, bufs, off)
	} else {
		app := f.Flags()&unix.O_APPEND != 0
		if rwf&unix.RWF_APPEND != 0 {
			app = true
		}
		if rwf&unix.RWF_NOAPPEND != 0 {
			app = false
		}
		n, err = f.WriteAppend(ctx, bufs, off, app)
	}
	if err != nil && !read {
		epipe(t, err)
	}
	if err != nil && n == 0 {
		return 0, restartable(err)
	}
	return uint64(n), nil
}

// restartable turns an interrupted wait into ERESTARTSYS, so the call is
// restarted after a handler with SA_RESTART (or when no handler runs).
func restartable(err error) error {
	if err == unix.EINTR {
		return abi.ERESTARTSYS
	}
	return err
}
