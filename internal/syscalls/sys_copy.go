package syscalls

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/kernel"
	"glassbox/internal/vfs"
)

func init() {
	reg(unix.SYS_SENDFILE, sysSendfile)
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
	n, err := copyFile(t, out, in, off, min(a[3], maxRW))
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

// copyFile moves up to count bytes from in (at off, or its position if off
// < 0) to out, in chunks.
func copyFile(t *kernel.Task, out, in *vfs.File, off int64, count uint64) (uint64, error) {
	buf := make([]byte, min(count, 128<<10))
	var total uint64
	for total < count {
		chunk := buf[:min(uint64(len(buf)), count-total)]
		o := int64(-1)
		if off >= 0 {
			o = off + int64(total)
		}
		n, err := in.Read(t, [][]byte{chunk}, o)
		if n == 0 || err != nil {
			return total, err
		}
		w, err := out.Write(t, [][]byte{chunk[:n]}, -1)
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
