package syscalls

import (
	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/kernel"
	"glassbox/internal/vfs"
)

// table is every handler, filled in by the package's init functions (reg)
// and never changed after: each kernel shares it.
var table = kernel.Table{Format: format}

// reg adds a handler for nr; note says what is partial about it.
func reg(nr int, fn kernel.Handler, note ...string) {
	n := ""
	if len(note) > 0 {
		n = note[0]
	}
	table.Calls[nr] = kernel.Syscall{Name: abi.SyscallName(nr), Fn: fn, Note: n}
}

// NewTable returns the syscall table. It is shared and read-only: a
// kernel must not change it.
func NewTable() *kernel.Table { return &table }

// Implemented returns the number of syscalls with a handler.
func Implemented() int {
	n := 0
	for _, sc := range table.Calls {
		if sc.Fn != nil {
			n++
		}
	}
	return n
}

// List returns the table entries in number order.
func List() []kernel.Syscall {
	var out []kernel.Syscall
	for _, sc := range table.Calls {
		if sc.Fn != nil {
			out = append(out, sc)
		}
	}
	return out
}

// getFile returns the open file behind fd; the caller must DecRef it.
func getFile(t *kernel.Task, fd int) (*vfs.File, error) { return t.FDs().Get(fd) }

// getFileIO is getFile for calls that need a file opened for I/O: an
// O_PATH descriptor is EBADF to them. Linux: include/linux/file.h (fdget)
func getFileIO(t *kernel.Task, fd int) (*vfs.File, error) {
	f, err := t.FDs().Get(fd)
	if err == nil && f.Flags()&unix.O_PATH != 0 {
		f.DecRef()
		return nil, unix.EBADF
	}
	return f, err
}

func statFields(s *vfs.Stat) abi.StatFields {
	return abi.StatFields{
		Dev: s.Dev, Ino: s.Ino, Nlink: s.Nlink, Mode: s.Mode, UID: s.UID, GID: s.GID,
		Rdev: s.Rdev, Size: s.Size, Blksize: s.Blksize, Blocks: s.Blocks,
		Atime: abi.Timespec{Sec: s.Atime.Sec, Nsec: s.Atime.Nsec},
		Mtime: abi.Timespec{Sec: s.Mtime.Sec, Nsec: s.Mtime.Nsec},
		Ctime: abi.Timespec{Sec: s.Ctime.Sec, Nsec: s.Ctime.Nsec},
		Btime: abi.Timespec{Sec: s.Btime.Sec, Nsec: s.Btime.Nsec},
	}
}

func u64(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}
