package syscalls

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
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
		return rwv(t, a.Int(0), a[1], a.Int(2), -1, true)
	})
	reg(unix.SYS_WRITEV, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return rwv(t, a.Int(0), a[1], a.Int(2), -1, false)
	})
	reg(unix.SYS_PREADV, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		if int64(a[3]) < 0 {
			return 0, unix.EINVAL
		}
		return rwv(t, a.Int(0), a[1], a.Int(2), int64(a[3]), true)
	})
	reg(unix.SYS_PWRITEV, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		if int64(a[3]) < 0 {
			return 0, unix.EINVAL
		}
		return rwv(t, a.Int(0), a[1], a.Int(2), int64(a[3]), false)
	})
	reg(unix.SYS_PREADV2, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return rwv(t, a.Int(0), a[1], a.Int(2), int64(a[3]), true)
	}, "RWF_* flags ignored")
	reg(unix.SYS_PWRITEV2, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return rwv(t, a.Int(0), a[1], a.Int(2), int64(a[3]), false)
	}, "RWF_* flags ignored")
}

// maxRW is MAX_RW_COUNT: the most one read or write moves.
const maxRW = 0x7ffff000

// taskSizeMax is where access_ok's user address space ends (x86-64,
// 4-level paging). Linux: arch/x86/include/asm/page_64_types.h
const taskSizeMax = 1<<47 - abi.PageSize

// ioChunk bounds how much guest memory is held at once for one transfer.
const ioChunk = 1 << 20

// rw moves up to count bytes between fd and guest memory at addr.
func rw(t *kernel.Task, fd int, addr, count uint64, off int64, read bool) (uint64, error) {
	f, err := getFile(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	if read && !f.Readable() || !read && !f.Writable() {
		return 0, unix.EBADF
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

// rwv is readv/writev and their positioned forms.
func rwv(t *kernel.Task, fd int, iovAddr uint64, cnt int, off int64, read bool) (uint64, error) {
	f, err := getFile(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	if read && !f.Readable() || !read && !f.Writable() {
		return 0, unix.EBADF
	}
	iov, err := readIovecs(t, iovAddr, cnt)
	if err != nil {
		return 0, err
	}
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
	if read {
		n, err = f.Read(t, bufs, off)
	} else {
		n, err = f.Write(t, bufs, off)
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
