package hostio

import (
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

// Read implements vfs.FileOps.
func (f *File) Read(ctx vfs.Ctx, dst [][]byte, off int64) (int, error) {
	n, err := unix.Readv(f.fd, dst)
	if n < 0 {
		n = 0
	}
	return n, err
}

// Write implements vfs.FileOps.
func (f *File) Write(ctx vfs.Ctx, src [][]byte, off int64) (int, error) {
	total := 0
	for _, b := range src {
		for len(b) > 0 {
			n, err := unix.Write(f.fd, b)
			if err == unix.EINTR {
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
