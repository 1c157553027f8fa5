package hostfs

import (
	"golang.org/x/sys/unix"

	"glassbox/internal/hostfd"
	"glassbox/internal/mm"
	"glassbox/internal/vfs"
)

// Open files of a writable file system. Every open description has its own
// host descriptor (never O_APPEND or O_TRUNC on the host: vfs.File decides
// where a write goes, and truncation goes through the page cache) and a
// reference on the file's hfile (pagecache.go).

// wfile is a non-directory, non-symlink inode of a writable file system.
type wfile struct{ fileInode }

// wlink is a symlink of a writable file system.
type wlink struct{ linkInode }

// Open implements vfs.Opener. O_TRUNC truncates after the open, through
// the page cache, as Linux does. Linux: fs/namei.c (handle_truncate)
func (f wfile) Open(ctx vfs.Ctx, flags int) (vfs.FileOps, error) {
	if f.kind() != unix.S_IFREG {
		// Host fifos, sockets and devices stay on the host.
		return nil, unix.EACCES
	}
	acc := flags & unix.O_ACCMODE
	fd := f.takeStash()
	if fd < 0 {
		var err error
		if fd, err = f.openHost(acc | flags&(unix.O_SYNC|unix.O_DSYNC)); err != nil {
			return nil, err
		}
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		hostfd.Close(fd)
		return nil, err
	}
	o := &wfileOps{h: f.fs.getFile(&st), fd: fd, acc: acc, privs: st.Mode&(unix.S_ISUID|unix.S_ISGID) != 0}
	if flags&unix.O_TRUNC != 0 {
		wfd := fd
		if acc == unix.O_RDONLY {
			var err error
			if wfd, err = f.openHost(unix.O_WRONLY); err != nil {
				o.Release()
				return nil, err
			}
			defer hostfd.Close(wfd)
		}
		if err := o.h.truncate(wfd, 0); err != nil {
			o.Release()
			return nil, err
		}
	}
	return o, nil
}

// takeStash returns the descriptor Create left for the open that follows
// it, or -1.
func (in *inode) takeStash() int {
	in.fs.mu.Lock()
	defer in.fs.mu.Unlock()
	fd := in.stash - 1
	in.stash = 0
	return fd
}

// truncate sets the file's size through host descriptor fd.
// Mappings lose their pages past the new end (SIGBUS on the next touch).
func (h *hfile) truncate(fd int, size int64) error {
	h.mu.Lock()
	old := h.size
	h.flushLocked()
	if err := unix.Ftruncate(fd, size); err != nil {
		h.mu.Unlock()
		return err
	}
	h.resizedLocked(size)
	h.mu.Unlock()
	if size < old {
		mm.Invalidate(&h.ro, uint64(size+pageSize-1)&^(pageSize-1), ^uint64(0), true)
	}
	return nil
}

// wfileOps is an open regular file of a writable file system.
type wfileOps struct {
	vfs.BaseOps
	h     *hfile
	fd    int
	acc   int
	privs bool // the file had setuid/setgid bits when opened; guarded by h.mu
}

func (o *wfileOps) Read(ctx vfs.Ctx, dst [][]byte, off int64) (int, error) {
	h := o.h
	if !h.dirty.Load() {
		return preadv(o.fd, dst, off)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	n, err := preadv(o.fd, dst, off)
	if n > 0 {
		h.overlayLocked(dst, off, n)
	}
	return n, err
}

func preadv(fd int, dst [][]byte, off int64) (int, error) {
	for {
		n, err := unix.Preadv(fd, dst, off)
		if err != unix.EINTR {
			return n, err
		}
	}
}

// Write writes at off, or at the end when off < 0 (O_APPEND: the end as
// the host has it, under the file's lock). Linux: mm/filemap.c
// (generic_perform_write), fs/inode.c (file_remove_privs)
func (o *wfileOps) Write(ctx vfs.Ctx, src [][]byte, off int64) (int, error) {
	h := o.h
	h.mu.Lock()
	defer h.mu.Unlock()
	if off < 0 {
		var st unix.Stat_t
		if err := unix.Fstat(o.fd, &st); err != nil {
			return 0, err
		}
		off = st.Size
	}
	var n int
	var err error
	for {
		if n, err = unix.Pwritev(o.fd, src, off); err != unix.EINTR {
			break
		}
	}
	if n <= 0 {
		return 0, err
	}
	h.wroteLocked(src, off, n)
	if o.privs && ctx.Creds().FSUID != 0 {
		// A write by someone without CAP_FSETID drops setuid, and setgid
		// with group-exec (the host may not, if glassbox runs as root).
		o.privs = false
		var st unix.Stat_t
		if unix.Fstat(o.fd, &st) == nil {
			mode := st.Mode & 0o7777 &^ unix.S_ISUID
			if mode&unix.S_IXGRP != 0 {
				mode &^= unix.S_ISGID
			}
			if mode != st.Mode&0o7777 {
				unix.Fchmod(o.fd, mode)
			}
		}
	}
	return n, err
}

func (o *wfileOps) Stat(ctx vfs.Ctx) (vfs.Stat, error) {
	var st unix.Stat_t
	if err := unix.Fstat(o.fd, &st); err != nil {
		return vfs.Stat{}, err
	}
	return toStat(&st), nil
}

// Fsync writes back what shared mappings stored, then has the host sync.
func (o *wfileOps) Fsync() error {
	o.h.mu.Lock()
	err := o.h.flushLocked()
	o.h.mu.Unlock()
	if err != nil {
		return unix.EIO
	}
	return unix.Fsync(o.fd)
}

// Release implements vfs.FileOps: shared mappings' stores are written back
// when a description of the file is closed.
func (o *wfileOps) Release() {
	o.h.fs.putFile(o.h)
	hostfd.Close(o.fd)
}

// Mappable implements vfs.MappableFile. Shared writable mappings need
// O_RDWR (mmap checks that); their stores reach the host as pagecache.go
// describes.
func (o *wfileOps) Mappable() (mm.Mappable, error) {
	if o.acc == unix.O_WRONLY {
		return nil, unix.EACCES
	}
	return o.h.mapping(o.fd, o.acc == unix.O_RDWR)
}
