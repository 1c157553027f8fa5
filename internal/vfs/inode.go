package vfs

import (
	"golang.org/x/sys/unix"

	"glassbox/internal/mm"
	"glassbox/internal/userns"
)

// Stat is a file's attributes as glassbox keeps them.
type Stat struct {
	Dev, Ino, Rdev uint64
	Mode           uint32 // file type and permission bits (S_IFMT | 07777)
	Nlink          uint64
	UID, GID       uint32
	Size           int64
	Blksize        int64
	Blocks         int64
	Atime, Mtime   unix.Timespec
	Ctime, Btime   unix.Timespec
}

// Type returns the file type bits.
func (s *Stat) Type() uint32 { return s.Mode & unix.S_IFMT }

// IsDir reports whether the file is a directory.
func (s *Stat) IsDir() bool { return s.Type() == unix.S_IFDIR }

// DirEntry is one directory entry as getdents reports it.
type DirEntry struct {
	Name string
	Ino  uint64
	Type uint8 // DT_*
}

// DTFromMode converts S_IF* bits to DT_*.
func DTFromMode(mode uint32) uint8 { return uint8((mode & unix.S_IFMT) >> 12) }

// Inode is a file system object. Optional abilities are separate
// interfaces (Dir, Symlink, Opener, ...).
type Inode interface {
	Stat() (Stat, error)
}

// Dir is an inode that holds names.
type Dir interface {
	Inode
	Lookup(ctx Ctx, name string) (Inode, error) // ENOENT if absent
	ReadDir(ctx Ctx) ([]DirEntry, error)        // without "." and ".."
}

// Symlink is an inode that names a path.
type Symlink interface {
	Inode
	Readlink(ctx Ctx) (string, error)
}

// MagicLink is a symlink that resolves to an open object rather than to a
// path (/proc/PID/fd/N, /proc/PID/exe). Walk uses it when following.
type MagicLink interface {
	Symlink
	Resolve(ctx Ctx) (Path, error)
}

// Opener is an inode that can be opened.
type Opener interface {
	Open(ctx Ctx, flags int) (FileOps, error)
}

// MappableInode can back mmap.
type MappableInode interface {
	Mappable() (mm.Mappable, error)
}

// Creds are the credentials a file operation runs with.
type Creds struct {
	UID, GID     uint32 // real
	EUID, EGID   uint32 // effective
	SUID, SGID   uint32 // saved
	FSUID, FSGID uint32 // file system
	Groups       []uint32
	// Capability sets (bit N: capability N) and securebits; see caps.go.
	CapEff, CapPrm, CapInh, CapBnd, CapAmb uint64
	Securebits                             uint32
	// UserNS is the user namespace the ids and capabilities belong to
	// (nil: the sandbox's initial one). The ids above are kernel ids.
	UserNS *userns.NS
}

// Ctx is what file operations need from the calling task.
type Ctx interface {
	// Creds returns the caller's credentials.
	Creds() *Creds
	// Interrupt returns a channel that receives a token when the caller
	// may have to stop waiting; Interrupted then says whether it must (a
	// signal is pending or the task is exiting), and the blocking
	// operation returns EINTR (or ERESTARTSYS).
	Interrupt() <-chan struct{}
	Interrupted() bool
}

// Creator is a directory in which files can be created.
type Creator interface {
	// Create makes a regular file; mode has the permission bits only.
	Create(ctx Ctx, name string, mode uint32) (Inode, error)
}
