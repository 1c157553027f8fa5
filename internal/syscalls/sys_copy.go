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
	reg(unix.SYS_SENDFILE, sysSendfile)
	reg(unix.SYS_COPY_FILE_RANGE, sysCopyFileRange, "copies through a kernel buffer")
	reg(unix.SYS_SPLICE, sysSplice, "copies through a kernel buffer; SPLICE_F_MOVE is a hint")
}

// epipe raises SIGPIPE for a write that found no reader, as Linux does in
// pipe_write and the socket send paths.
func epipe(t *kernel.Task, err error) error {
	if err == unix.EPIPE {
		t.SendSignal(abi.SIGPIPE)
	}
	return err
}

// sysSendfile copies between two files through a kernel buffer.
// Linux: fs/read_write.c (do_sendfile)
func sysSendfile(t *kernel.Task, a kernel.Args) (uint64, error) {
	out, err := getFile(t, a.Int(0))
	if err != nil {
		return 0, err
	}
	defer out.DecRef()
	in, err := getFile(t, a.Int(1))
	if err != nil {
		return 0, err
	}
	defer in.DecRef()
	if !in.Readable() || !out.Writable() {
		return 0, unix.EBADF
	}
	if out.Flags()&unix.O_APPEND != 0 {
		return 0, unix.EINVAL
	}
	off := int64(-1)
	if a[2] != 0 {
		var b [8]byte
		if err := t.CopyIn(a[2], b[:]); err != nil {
			return 0, err
		}
		off = int64(binary.LittleEndian.Uint64(b[:]))
		if off < 0 {
			return 0, unix.EINVAL
		}
	}
	n, err := copyFile(t, out, in, off, -1, min(a[3], maxRW))
	if a[2] != 0 && n > 0 {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], uint64(off)+n)
		if cerr := t.CopyOut(a[2], b[:]); cerr != nil {
			return 0, cerr
		}
	}
	if n > 0 {
		return n, nil
	}
	return 0, epipe(t, err)
}

// copyFile moves up to count bytes from in (at inOff, or its position if
// inOff < 0) to out (at outOff, or its position), in chunks. It stops at a
// short read: a stream gives what it has.
func copyFile(t *kernel.Task, out, in *vfs.File, inOff, outOff int64, count uint64) (uint64, error) {
	buf := make([]byte, min(count, 128<<10))
	var total uint64
	for total < count {
		chunk := buf[:min(uint64(len(buf)), count-total)]
		ro, wo := int64(-1), int64(-1)
		if inOff >= 0 {
			ro = inOff + int64(total)
		}
		if outOff >= 0 {
			wo = outOff + int64(total)
		}
		n, err := in.Read(t, [][]byte{chunk}, ro)
		if n == 0 || err != nil {
			return total, restartable(err)
		}
		w, err := out.Write(t, [][]byte{chunk[:n]}, wo)
		total += uint64(w)
		if err != nil || w < n {
			return total, err
		}
		if n < len(chunk) {
			break
		}
	}
	return total, nil
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

// rangeCopy is the common part of copy_file_range and splice: optional
// offsets that are advanced instead of the file positions.
func rangeCopy(t *kernel.Task, in, out *vfs.File, inAddr, outAddr, count uint64) (uint64, error) {
	if !in.Readable() || !out.Writable() {
		return 0, unix.EBADF
	}
	inOff, err := offArg(t, inAddr)
	if err != nil {
		return 0, err
	}
	outOff, err := offArg(t, outAddr)
	if err != nil {
		return 0, err
	}
	n, err := copyFile(t, out, in, inOff, outOff, min(count, maxRW))
	if n > 0 {
		if inOff >= 0 {
			if cerr := putOff(t, inAddr, inOff+int64(n)); cerr != nil {
				return 0, cerr
			}
		}
		if outOff >= 0 {
			if cerr := putOff(t, outAddr, outOff+int64(n)); cerr != nil {
				return 0, cerr
			}
		}
		return n, nil
	}
	return 0, epipe(t, err)
}

// sysCopyFileRange copies between two regular files.
// Linux: fs/read_write.c (vfs_copy_file_range)
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
	for _, f := range []*vfs.File{in, out} {
		st, err := f.Stat(t)
		if err != nil {
			return 0, err
		}
		if st.IsDir() {
			return 0, unix.EISDIR
		}
		if st.Type() != unix.S_IFREG {
			return 0, unix.EINVAL
		}
	}
	if out.Flags()&unix.O_APPEND != 0 {
		return 0, unix.EBADF
	}
	return rangeCopy(t, in, out, a[1], a[3], a[4])
}

// sysSplice moves data between a pipe and another file.
// Linux: fs/splice.c (do_splice)
func sysSplice(t *kernel.Task, a kernel.Args) (uint64, error) {
	in, out, err := twoFiles(t, a.Int(0), a.Int(2))
	if err != nil {
		return 0, err
	}
	defer in.DecRef()
	defer out.DecRef()
	_, inPipe := pipe.FromOps(in.Ops())
	_, outPipe := pipe.FromOps(out.Ops())
	if !inPipe && !outPipe {
		return 0, unix.EINVAL
	}
	if inPipe && a[1] != 0 || outPipe && a[3] != 0 {
		return 0, unix.ESPIPE
	}
	return rangeCopy(t, in, out, a[1], a[3], a[4])
}
