package hostio

import (
	"time"

	"golang.org/x/sys/unix"

	"glassbox/internal/vfs"
)

// File is one host descriptor lent to the guest.
type File struct {
	fd  int
	own bool // close on release
}

// New wraps host descriptor fd; if own, the last guest reference closes it.
func New(fd int, own bool) *File { return &File{fd: fd, own: own} }

// IsStream implements vfs.Stream: the guest never positions a host stream.
func (f *File) IsStream() {}

// pollSlice is how long a blocked host read or write sleeps in the host's
// poll before looking at the guest's signals again.
const pollSlice = 20 * time.Millisecond

// waitHost waits until the host descriptor is ready for events, giving up
// with EINTR when the caller is interrupted. glassbox can't make the host
// wake it for a guest signal, so it polls in short slices.
func (f *File) waitHost(ctx vfs.Ctx, events int16) error {
	for {
		fds := []unix.PollFd{{Fd: int32(f.fd), Events: events}}
		n, err := unix.Poll(fds, int(pollSlice/time.Millisecond))
		if n > 0 || err != nil && err != unix.EINTR {
			return nil // ready, or let the read/write report the error
		}
		if ctx != nil && ctx.Interrupted() {
			return unix.EINTR
		}
	}
}

// Read implements vfs.FileOps.
func (f *File) Read(ctx vfs.Ctx, dst [][]byte, off int64) (int, error) {
	if err := f.waitHost(ctx, unix.POLLIN); err != nil {
		return 0, err
	}
	n, err := unix.Readv(f.fd, dst)
	if n < 0 {
		n = 0
	}
	return n, err
}

// Readiness implements vfs.Poller: the host descriptor's state now, and
// a channel that fires after a poll slice (the host can't tell glassbox
// when it changes, so waiters look again).
func (f *File) Readiness() (uint32, <-chan struct{}) {
	fds := []unix.PollFd{{Fd: int32(f.fd), Events: unix.POLLIN | unix.POLLOUT}}
	var ev uint32
	if n, _ := unix.Poll(fds, 0); n > 0 {
		ev = uint32(uint16(fds[0].Revents))
	}
	ch := make(chan struct{})
	time.AfterFunc(pollSlice, func() { close(ch) })
	return ev, ch
}

// Write implements vfs.FileOps.
func (f *File) Write(ctx vfs.Ctx, src [][]byte, off int64) (int, error) {
	total := 0
	for _, b := range src {
		for len(b) > 0 {
			if err := f.waitHost(ctx, unix.POLLOUT); err != nil {
				if total > 0 {
					return total, nil
				}
				return 0, err
			}
			n, err := unix.Write(f.fd, b)
			if err == unix.EINTR || err == unix.EAGAIN {
				continue
			}
			if err != nil {
				if total > 0 {
					return total, nil
				}
				return 0, err
			}
			b = b[n:]
			total += n
		}
	}
	return total, nil
}

// Stat implements vfs.FileOps with the host descriptor's attributes.
func (f *File) Stat(ctx vfs.Ctx) (vfs.Stat, error) {
	var st unix.Stat_t
	if err := unix.Fstat(f.fd, &st); err != nil {
		return vfs.Stat{}, err
	}
	return vfs.Stat{Dev: st.Dev, Ino: st.Ino, Rdev: st.Rdev, Mode: st.Mode, Nlink: st.Nlink,
		UID: st.Uid, GID: st.Gid, Size: st.Size, Blksize: st.Blksize, Blocks: st.Blocks,
		Atime: st.Atim, Mtime: st.Mtim, Ctime: st.Ctim}, nil
}

// Release implements vfs.FileOps.
func (f *File) Release() {
	if f.own {
		unix.Close(f.fd)
	}
}

// Terminal ioctls that pass through, with the size of their argument.
// Linux: include/uapi/asm-generic/ioctls.h
var ttyIoctls = map[uint32]struct {
	size int
	in   bool // the argument is read from the guest
}{
	unix.TCGETS:     {36, false},
	unix.TCSETS:     {36, true},
	unix.TCSETSW:    {36, true},
	unix.TCSETSF:    {36, true},
	unix.TIOCGWINSZ: {8, false},
}

// Ioctl implements vfs.Ioctler.
func (f *File) Ioctl(ctx vfs.Ctx, mem vfs.Memory, cmd uint32, arg uint64) (uint64, error) {
	if _, err := unix.IoctlGetTermios(f.fd, unix.TCGETS); err != nil {
		return 0, unix.ENOTTY
	}
	spec, ok := ttyIoctls[cmd]
	if !ok {
		return 0, unix.ENOTTY
	}
	buf := make([]byte, spec.size)
	if spec.in {
		if err := mem.CopyIn(arg, buf); err != nil {
			return 0, err
		}
	}
	if err := ioctlBuf(f.fd, cmd, buf); err != nil {
		return 0, err
	}
	if !spec.in {
		if err := mem.CopyOut(arg, buf); err != nil {
			return 0, err
		}
	}
	return 0, nil
}

// Reopen implements vfs.Reopener (/dev/stdin, /proc/self/fd/0): a new
// description of the same host object, through a duplicate descriptor.
func (f *File) Reopen(flags int) (vfs.FileOps, error) {
	fd, err := unix.FcntlInt(uintptr(f.fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	return New(fd, true), nil
}
