package vfs

import (
	"strings"

	"golang.org/x/sys/unix"
)

// Reopener is implemented by the ops of files without a path that can be
// opened again through /proc/PID/fd/N (a pipe end, a host descriptor): it
// returns ops for a new open file description of the same object.
// Linux: fs/proc/fd.c (proc_fd_link) — opening the link opens the object.
type Reopener interface {
	Reopen(flags int) (FileOps, error)
}

// anonMount holds the paths of objects opened again through /proc: it has
// no place in the mount tree.
var anonMount = &Mount{FSType: "anon_inodefs", Source: "anon_inodefs"}

// ReopenPath returns a path whose inode opens f's object afresh, for a
// magic link to an anonymous file; ENXIO when the object can't be reopened
// (sockets, epoll instances...).
func ReopenPath(f *File) (Path, error) {
	if _, ok := f.ops.(Reopener); !ok {
		return Path{}, unix.ENXIO
	}
	return Path{Mount: anonMount, Dentry: NewRoot(reopenInode{f})}, nil
}

type reopenInode struct{ f *File }

func (r reopenInode) Stat() (Stat, error) { return r.f.ops.Stat(nil) }

func (r reopenInode) Open(ctx Ctx, flags int) (FileOps, error) {
	return r.f.ops.(Reopener).Reopen(flags)
}

// StatFS implements StatFSer: the pseudo file system the object lives on
// (its mount has no root to ask). Linux: fs/pipe.c (pipefs), fs/anon_inodes.c
func (r reopenInode) StatFS() (unix.Statfs_t, error) {
	const pipefsMagic, anonInodeMagic = 0x50495045, 0x09041934
	s := unix.Statfs_t{Type: anonInodeMagic, Bsize: 4096, Frsize: 4096, Namelen: NameMax}
	if strings.HasPrefix(r.f.AnonName(), "pipe:") {
		s.Type = pipefsMagic
	}
	return s, nil
}
