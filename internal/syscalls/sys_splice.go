package syscalls

import (
	"golang.org/x/sys/unix"

	"glassbox/internal/fs/pipe"
	"glassbox/internal/kernel"
	"glassbox/internal/vfs"
)

// spliceFlags are the SPLICE_F_* flags splice and tee accept.
const spliceFlags = unix.SPLICE_F_MOVE | unix.SPLICE_F_NONBLOCK | unix.SPLICE_F_MORE | unix.SPLICE_F_GIFT

// sysSplice moves data between a pipe and another file, or two pipes.
// Linux: fs/splice.c (SYSCALL splice, __do_splice, do_splice)
func sysSplice(t *kernel.Task, a kernel.Args) (uint64, error) {
	count := min(a[4], maxRW)
	if count == 0 {
		return 0, nil
	}
	if a[5]&^spliceFlags != 0 {
		return 0, unix.EINVAL
	}
	nonblock := a[5]&unix.SPLICE_F_NONBLOCK != 0
	in, out, err := twoFiles(t, a.Int(0), a.Int(2))
	if err != nil {
		return 0, err
	}
	defer in.DecRef()
	defer out.DecRef()
	ie, oe := pipeEnd(in), pipeEnd(out)
	if ie != nil && a[1] != 0 || oe != nil && a[3] != 0 {
		return 0, unix.ESPIPE
	}
	if !in.Readable() || !out.Writable() {
		return 0, unix.EBADF
	}
	var n uint64
	switch {
	case ie != nil && oe != nil:
		if ie.Pipe() == oe.Pipe() {
			return 0, unix.EINVAL
		}
		if (in.Flags()|out.Flags())&unix.O_NONBLOCK != 0 {
			nonblock = true
		}
		var m int
		m, err = pipe.Splice(t, ie, oe, int(count), nonblock)
		n = uint64(m)
	case ie != nil:
		off, ferr := offArg(t, a[3])
		if ferr != nil {
			return 0, ferr
		}
		own := off < 0 && !isStream(out)
		if off >= 0 && isStream(out) {
			return 0, unix.EINVAL // no pwrite on it
		}
		if out.Flags()&unix.O_APPEND != 0 {
			return 0, unix.EINVAL
		}
		if own {
			off = filePos(t, out)
		}
		if in.Flags()&unix.O_NONBLOCK != 0 {
			nonblock = true
		}
		n, err = spliceOut(t, ie, out, off, count, nonblock)
		if n > 0 && off >= 0 {
			if aerr := advance(t, out, a[3], own, off+int64(n)); aerr != nil {
				return 0, aerr
			}
		}
	case oe != nil:
		off, ferr := offArg(t, a[1])
		if ferr != nil {
			return 0, ferr
		}
		own := off < 0 && !isStream(in)
		if off >= 0 && isStream(in) {
			return 0, unix.EINVAL // no pread on it
		}
		if _, dir := in.Ops().(vfs.DirReader); dir {
			return 0, unix.EINVAL // no splice_read. Linux: fs/splice.c (vfs_splice_read)
		}
		if own {
			off = filePos(t, in)
		}
		if out.Flags()&unix.O_NONBLOCK != 0 {
			nonblock = true
		}
		n, err = spliceIn(t, in, off, oe, count, nonblock)
		if n > 0 && off >= 0 {
			if aerr := advance(t, in, a[1], own, off+int64(n)); aerr != nil {
				return 0, aerr
			}
		}
	default:
		return 0, unix.EINVAL
	}
	return copyResult(t, n, err)
}

// sysVmsplice moves guest memory into a pipe (a descriptor open for
// writing) or out of one (open for reading only). Only SPLICE_F_NONBLOCK
// keeps it from waiting. Linux: fs/splice.c (SYSCALL vmsplice)
func sysVmsplice(t *kernel.Task, a kernel.Args) (uint64, error) {
	if a[3]&^spliceFlags != 0 {
		return 0, unix.EINVAL
	}
	f, err := getFileIO(t, a.Int(0))
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	read := !f.Writable()
	if read && !f.Readable() {
		return 0, unix.EBADF
	}
	if a[2] > uioMaxIOV {
		return 0, unix.EINVAL
	}
	iov, err := readIovecs(t, a[1], int(a[2]))
	if err != nil {
		return 0, err
	}
	total := iovTotal(iov)
	if total == 0 {
		return 0, nil
	}
	if pipeEnd(f) == nil {
		return 0, unix.EBADF
	}
	var ctx vfs.Ctx = t
	if a[3]&unix.SPLICE_F_NONBLOCK != 0 {
		ctx = noWait{t}
	}
	return transferIovecs(t, ctx, f, iov, -1, read, 0)
}

// sysTee copies data from one pipe to another without consuming it.
// Linux: fs/splice.c (SYSCALL tee, do_tee)
func sysTee(t *kernel.Task, a kernel.Args) (uint64, error) {
	if a[3]&^spliceFlags != 0 {
		return 0, unix.EINVAL
	}
	count := min(a[2], maxRW)
	if count == 0 {
		return 0, nil
	}
	in, out, err := twoFiles(t, a.Int(0), a.Int(1))
	if err != nil {
		return 0, err
	}
	defer in.DecRef()
	defer out.DecRef()
	if !in.Readable() || !out.Writable() {
		return 0, unix.EBADF
	}
	ie, oe := pipeEnd(in), pipeEnd(out)
	if ie == nil || oe == nil || ie.Pipe() == oe.Pipe() {
		return 0, unix.EINVAL
	}
	nonblock := a[3]&unix.SPLICE_F_NONBLOCK != 0 || (in.Flags()|out.Flags())&unix.O_NONBLOCK != 0
	n, err := pipe.Tee(t, ie, oe, int(count), nonblock)
	return copyResult(t, uint64(n), err)
}
