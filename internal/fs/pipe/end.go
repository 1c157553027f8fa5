package pipe

import (
	"encoding/binary"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"glassbox/internal/vfs"
)

// Numbers x/sys lacks. Linux: include/uapi/asm-generic/ioctls.h, poll.h
const (
	fionread   = 0x541B
	pollRdnorm = 0x040
	pollWrnorm = 0x100
)

// End is one open end of a pipe: the vfs.FileOps of a read end, a write
// end, or (a FIFO opened O_RDWR) both. It is a stream (lseek: ESPIPE).
type End struct {
	p           *Pipe
	read, write bool
	file        atomic.Pointer[vfs.File]
	released    atomic.Bool
}

var (
	_ vfs.FileOps = (*End)(nil)
	_ vfs.Stream  = (*End)(nil)
	_ vfs.Ioctler = (*End)(nil)
)

// FromOps returns the pipe behind a file's ops, for the fcntl commands
// F_GETPIPE_SZ and F_SETPIPE_SZ (EBADF elsewhere, as Linux answers).
func FromOps(ops vfs.FileOps) (*Pipe, bool) {
	e, ok := ops.(*End)
	if !ok {
		return nil, false
	}
	return e.p, true
}

// Pipe returns the pipe the end belongs to.
func (e *End) Pipe() *Pipe { return e.p }

// SetFile tells the end which open file it belongs to, whose status
// flags O_NONBLOCK and O_DIRECT (packet mode) then govern its reads and
// writes. Without it the end blocks and writes a byte stream.
func (e *End) SetFile(f *vfs.File) { e.file.Store(f) }

// flags reads the file's status flags now: F_SETFL may change O_NONBLOCK
// and O_DIRECT between calls. Linux: fs/pipe.c (pipe_read, pipe_write and
// is_packetized test filp->f_flags)
func (e *End) flags() int {
	if f := e.file.Load(); f != nil {
		return f.Flags()
	}
	return 0
}

// Read implements vfs.FileOps; off is ignored (a stream).
func (e *End) Read(ctx vfs.Ctx, dst [][]byte, off int64) (int, error) {
	if !e.read {
		return 0, unix.EBADF
	}
	return e.p.read(ctx, dst, e.flags()&unix.O_NONBLOCK != 0 || vfs.NoWait(ctx))
}

// Write implements vfs.FileOps; off is ignored (a stream). EPIPE is
// returned (possibly with a partial count) when no reader is left.
func (e *End) Write(ctx vfs.Ctx, src [][]byte, off int64) (int, error) {
	if !e.write {
		return 0, unix.EBADF
	}
	fl := e.flags()
	n, err := e.p.write(ctx, src, fl&unix.O_NONBLOCK != 0 || vfs.NoWait(ctx), fl&unix.O_DIRECT != 0)
	vfs.Account(ctx, true, n)
	return n, err
}

// Stat implements vfs.FileOps.
func (e *End) Stat(vfs.Ctx) (vfs.Stat, error) { return e.p.Stat(), nil }

// Release implements vfs.FileOps: the end closes (once).
func (e *End) Release() {
	if !e.released.Swap(true) {
		e.p.close(e.read, e.write)
	}
}

// IsStream implements vfs.Stream.
func (*End) IsStream() {}

// Ioctl implements vfs.Ioctler: FIONREAD writes the bytes waiting as an
// int; other commands are ENOTTY. Linux: fs/pipe.c (pipe_ioctl)
func (e *End) Ioctl(ctx vfs.Ctx, mem vfs.Memory, cmd uint32, arg uint64) (uint64, error) {
	if cmd != fionread {
		return 0, unix.ENOTTY
	}
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(e.p.Len()))
	if err := mem.CopyOut(arg, b[:]); err != nil {
		return 0, err
	}
	return 0, nil
}

// Events returns the poll events of this end now (POLLIN, POLLHUP for a
// read end; POLLOUT, POLLERR for a write end). Wait for a change with
// Pipe().Changed, taken before calling Events.
// Linux: fs/pipe.c (pipe_poll)
func (e *End) Events() uint32 {
	p := e.p
	p.mu.Lock()
	defer p.mu.Unlock()
	var ev uint32
	if e.read {
		if p.nbufs > 0 {
			ev |= unix.POLLIN | pollRdnorm
		}
		if p.writers == 0 {
			ev |= unix.POLLHUP
		}
	}
	if e.write {
		if p.nbufs < len(p.bufs) {
			ev |= unix.POLLOUT | pollWrnorm
		}
		if p.readers == 0 {
			ev |= unix.POLLERR
		}
	}
	return ev
}

// Readiness implements vfs.Poller.
func (e *End) Readiness() (uint32, <-chan struct{}) {
	ch := e.p.Changed()
	return e.Events(), ch
}

// Reopen implements vfs.Reopener: opening /proc/PID/fd/N of a pipe end
// opens the pipe again, for reading or writing by flags (as a FIFO open).
func (e *End) Reopen(flags int) (vfs.FileOps, error) {
	acc := flags & unix.O_ACCMODE
	return e.p.Open(acc != unix.O_WRONLY, acc != unix.O_RDONLY), nil
}
