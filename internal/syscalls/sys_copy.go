package syscalls

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/fs/pipe"
	"glassbox/internal/kernel"
	unixsock "glassbox/internal/net/unix"
	"glassbox/internal/vfs"
)

func init() {
	reg(unix.SYS_SENDFILE, sysSendfile)
	reg(unix.SYS_COPY_FILE_RANGE, sysCopyFileRange, "copies through a kernel buffer")
	reg(unix.SYS_SPLICE, sysSplice, "copies through a kernel buffer; SPLICE_F_MOVE is a hint")
	reg(unix.SYS_TEE, sysTee, "copies through a kernel buffer")
	reg(unix.SYS_VMSPLICE, sysVmsplice, "copies through a kernel buffer")
}

// Every copy here gives up bytes it took from its source only when its
// destination has taken them: from a file it reads at a position and
// advances it by what was written; out of a pipe it consumes what the
// other side took (pipe.End.SpliceOut); into a pipe it reads no more than
// the free slots hold (pipe.End.SpliceIn). Linux never drops a byte in
// these paths either (it refuses unseekable sources where it could).

// epipe raises SIGPIPE for a write that found no reader, as Linux does in
// pipe_write and the socket send paths.
func epipe(t *kernel.Task, err error) error {
	switch err {
	case unix.EPIPE:
		t.SendSignal(abi.SIGPIPE)
	case unix.EFBIG:
		t.SendSignal(abi.SIGXFSZ) // past RLIMIT_FSIZE
	}
	return err
}

// copyResult turns a copy's outcome into the syscall's: the count when
// something moved (the error then waits for the next call), else the
// error, SIGPIPE raised for EPIPE.
func copyResult(t *kernel.Task, n uint64, err error) (uint64, error) {
	if n > 0 {
		return n, nil
	}
	return 0, restartable(epipe(t, err))
}

func isStream(f *vfs.File) bool {
	_, ok := f.Ops().(vfs.Stream)
	return ok
}

func pipeEnd(f *vfs.File) *pipe.End {
	e, _ := f.Ops().(*pipe.End)
	return e
}

// filePos returns f's position (sendfile, splice and copy_file_range
// without an offset read at it and advance it by what was copied).
func filePos(t *kernel.Task, f *vfs.File) int64 {
	pos, _ := f.Seek(t, 0, unix.SEEK_CUR)
	return pos
}

// sysSendfile copies from a file to a file, socket or pipe.
// Linux: fs/read_write.c (do_sendfile), fs/splice.c (do_splice_direct,
// splice_file_to_pipe)
func sysSendfile(t *kernel.Task, a kernel.Args) (uint64, error) {
	out, in, err := twoFiles(t, a.Int(0), a.Int(1))
	if err != nil {
		return 0, err
	}
	defer out.DecRef()
	defer in.DecRef()
	if !in.Readable() {
		return 0, unix.EBADF
	}
	if a[2] != 0 && isStream(in) {
		return 0, unix.ESPIPE // no pread on it
	}
	off, err := offArg(t, a[2])
	if err != nil {
		return 0, err
	}
	if off >= 0 && off+int64(a[3]) < 0 {
		return 0, unix.EINVAL // Linux: fs/read_write.c (rw_verify_area)
	}
	if !out.Writable() {
		return 0, unix.EBADF
	}
	if _, dir := in.Ops().(vfs.DirReader); dir {
		return 0, unix.EINVAL // no splice_read
	}
	count := min(a[3], maxRW)
	inOff := off
	if inOff < 0 && !isStream(in) {
		inOff = filePos(t, in)
	}
	var n uint64
	if oe := pipeEnd(out); oe != nil {
		if pipeEnd(in) != nil {
			return 0, unix.EINVAL // a pipe has no splice_read
		}
		n, err = spliceIn(t, in, inOff, oe, count, out.Flags()&unix.O_NONBLOCK != 0)
	} else {
		// The direct path needs a seekable source, so that what the
		// destination does not take can be read again.
		if isStream(in) || out.Flags()&unix.O_APPEND != 0 {
			return 0, unix.EINVAL
		}
		n, err = copyRange(t, in, inOff, out, -1, count)
	}
	if n > 0 && inOff >= 0 {
		if off >= 0 {
			if cerr := putOff(t, a[2], off+int64(n)); cerr != nil {
				return 0, cerr
			}
		} else {
			in.Seek(t, inOff+int64(n), unix.SEEK_SET)
		}
	}
	return copyResult(t, n, err)
}

// copyRange copies up to count bytes from in at inOff to out at outOff
// (its position when outOff < 0) in chunks, stopping at the end of in, at
// a short write or at a signal. in is never a stream, so bytes out did
// not take are simply not counted.
func copyRange(t *kernel.Task, in *vfs.File, inOff int64, out *vfs.File, outOff int64, count uint64) (uint64, error) {
	buf := make([]byte, min(count, 128<<10))
	var total uint64
	for total < count {
		// A pending signal ends a long copy: with what was copied, or
		// before anything with EINTR (restarted after an SA_RESTART
		// handler). Linux: mm/shmem.c (shmem_file_splice_read),
		// mm/filemap.c (filemap_splice_read) check signal_pending.
		if t.Interrupted() {
			if total > 0 {
				break
			}
			return 0, unix.EINTR
		}
		chunk := buf[:min(uint64(len(buf)), count-total)]
		n, err := in.Read(t, [][]byte{chunk}, inOff+int64(total))
		if n == 0 || err != nil {
			return total, err
		}
		wo := int64(-1)
		if outOff >= 0 {
			wo = outOff + int64(total)
		}
		w, err := out.Write(t, [][]byte{chunk[:n]}, wo)
		total += uint64(w)
		if err != nil || w < n {
			return total, err
		}
		if n < len(chunk) {
			break // the end of in
		}
	}
	return total, nil
}

// spliceIn fills pipe end out from in: a file at inOff, or a stream
// (inOff < 0). nonblock (SPLICE_F_NONBLOCK or out's O_NONBLOCK) makes the
// wait for room EAGAIN; an AF_UNIX source then does not wait either,
// where TCP waits by its own O_NONBLOCK only.
// Linux: net/unix/af_unix.c (unix_stream_splice_read), net/ipv4/tcp.c
// (tcp_splice_read)
func spliceIn(t *kernel.Task, in *vfs.File, inOff int64, out *pipe.End, count uint64, nonblock bool) (uint64, error) {
	skip := 0
	if inOff >= 0 {
		skip = int(inOff % 4096)
	}
	n, err := out.SpliceIn(t, int(count), skip, nonblock, func(dst [][]byte) (int, error) {
		if inOff >= 0 {
			return in.Read(t, dst, inOff)
		}
		if s, ok := unixsock.FromFile(in); ok && nonblock {
			r, err := s.Recv(t, dst, unix.MSG_DONTWAIT, false)
			dropFiles(r.Rights)
			return r.N, err
		}
		return in.Read(t, dst, -1)
	})
	return uint64(n), err
}

// spliceOut empties pipe end in into out at outOff (its position when
// outOff < 0, nothing for a stream).
func spliceOut(t *kernel.Task, in *pipe.End, out *vfs.File, outOff int64, count uint64, nonblock bool) (uint64, error) {
	var done int64
	n, err := in.SpliceOut(t, int(count), nonblock, func(src [][]byte) (int, error) {
		wo := int64(-1)
		if outOff >= 0 {
			wo = outOff + done
		}
		w, err := out.Write(t, src, wo)
		done += int64(w)
		return w, err
	})
	return uint64(n), err
}

// offArg reads an optional loff_t argument (-1 when absent).
func offArg(t *kernel.Task, addr uint64) (int64, error) {
	if addr == 0 {
		return -1, nil
	}
	var b [8]byte
	if err := t.CopyIn(addr, b[:]); err != nil {
		return 0, err
	}
	off := int64(binary.LittleEndian.Uint64(b[:]))
	if off < 0 {
		return 0, unix.EINVAL
	}
	return off, nil
}

// rawOffArg reads an optional loff_t argument as it is; own reports
// its absence (the file position is used).
func rawOffArg(t *kernel.Task, addr uint64) (off int64, own bool, err error) {
	if addr == 0 {
		return 0, true, nil
	}
	var b [8]byte
	if err := t.CopyIn(addr, b[:]); err != nil {
		return 0, false, err
	}
	return int64(binary.LittleEndian.Uint64(b[:])), false, nil
}

func putOff(t *kernel.Task, addr uint64, off int64) error {
	if addr == 0 {
		return nil
	}
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(off))
	return t.CopyOut(addr, b[:])
}

// twoFiles returns the files at two descriptors (the caller DecRefs both).
func twoFiles(t *kernel.Task, a, b int) (*vfs.File, *vfs.File, error) {
	fa, err := getFile(t, a)
	if err != nil {
		return nil, nil, err
	}
	fb, err := getFile(t, b)
	if err != nil {
		fa.DecRef()
		return nil, nil, err
	}
	return fa, fb, nil
}

// sysCopyFileRange copies between two regular files.
// Linux: fs/read_write.c (vfs_copy_file_range, generic_copy_file_checks)
func sysCopyFileRange(t *kernel.Task, a kernel.Args) (uint64, error) {
	if a[5] != 0 {
		return 0, unix.EINVAL
	}
	in, out, err := twoFiles(t, a.Int(0), a.Int(2))
	if err != nil {
		return 0, err
	}
	defer in.DecRef()
	defer out.DecRef()
	var st [2]vfs.Stat
	for i, f := range []*vfs.File{in, out} {
		if st[i], err = f.Stat(t); err != nil {
			return 0, err
		}
		if st[i].IsDir() {
			return 0, unix.EISDIR
		}
		if st[i].Type() != unix.S_IFREG {
			return 0, unix.EINVAL
		}
	}
	if !in.Readable() || !out.Writable() || out.Flags()&unix.O_APPEND != 0 {
		return 0, unix.EBADF
	}
	// A host regular file glassbox passes through as a stream (stdio)
	// has no offsets to copy at: EXDEV, which callers answer with
	// read and write, as for file systems that can't copy between them.
	for _, f := range []*vfs.File{in, out} {
		if _, ok := f.Ops().(vfs.Stream); ok {
			return 0, unix.EXDEV
		}
	}
	inOff, ownIn, err := rawOffArg(t, a[1])
	if err != nil {
		return 0, err
	}
	outOff, ownOut, err := rawOffArg(t, a[3])
	if err != nil {
		return 0, err
	}
	if ownIn {
		inOff = filePos(t, in)
	}
	if ownOut {
		outOff = filePos(t, out)
	}
	// Offsets that wrap (negative ones do, as unsigned) are EOVERFLOW.
	if uint64(inOff)+a[4] < uint64(inOff) || uint64(outOff)+a[4] < uint64(outOff) {
		return 0, unix.EOVERFLOW
	}
	// Shorten to the end of in, then refuse overlapping ranges of one file.
	count := min(a[4], maxRW)
	if inOff >= st[0].Size {
		count = 0
	} else {
		count = min(count, uint64(st[0].Size-inOff))
	}
	if st[0].Dev == st[1].Dev && st[0].Ino == st[1].Ino &&
		outOff+int64(count) > inOff && outOff < inOff+int64(count) {
		return 0, unix.EINVAL
	}
	if count == 0 {
		return 0, nil
	}
	n, err := copyRange(t, in, inOff, out, outOff, count)
	if n > 0 {
		if err := advance(t, in, a[1], ownIn, inOff+int64(n)); err != nil {
			return 0, err
		}
		if err := advance(t, out, a[3], ownOut, outOff+int64(n)); err != nil {
			return 0, err
		}
	}
	return copyResult(t, n, err)
}

// advance stores a side's new offset: in the file position when the
// caller gave no offset (own), else at the caller's loff_t.
func advance(t *kernel.Task, f *vfs.File, addr uint64, own bool, off int64) error {
	if own {
		_, err := f.Seek(t, off, unix.SEEK_SET)
		return err
	}
	return putOff(t, addr, off)
}
