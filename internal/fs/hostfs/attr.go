package hostfs

import (
	"strconv"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/hostfd"
	"glassbox/internal/vfs"
)

// Attribute changes of a writable file system. chown, chmod and utimes act
// on the inode's own O_PATH descriptor (AT_EMPTY_PATH, never a name the
// host could resolve differently, never following a symlink); truncation
// and fallocate on a descriptor opened with O_NOFOLLOW and checked to be
// the inode. The vfs has checked the guest's rights (vfs/setattr.go).

// SetAttr implements vfs.Setattrer.
func (d wdir) SetAttr(ctx vfs.Ctx, a *vfs.Attr) error { return d.setAttr(a) }

// SetAttr implements vfs.Setattrer.
func (f wfile) SetAttr(ctx vfs.Ctx, a *vfs.Attr) error { return f.setAttr(a) }

// SetAttr implements vfs.Setattrer. Linux has no symlink permission bits
// to change: EOPNOTSUPP, as fchmodat(AT_SYMLINK_NOFOLLOW) answers.
func (l wlink) SetAttr(ctx vfs.Ctx, a *vfs.Attr) error { return l.setAttr(a) }

// StatFS implements vfs.StatFSer: the host file system's numbers, on a
// read-only file system too.
func (d dirInode) StatFS() (unix.Statfs_t, error) { return d.statFS() }

// StatFS implements vfs.StatFSer.
func (f fileInode) StatFS() (unix.Statfs_t, error) { return f.statFS() }

// StatFS implements vfs.StatFSer.
func (l linkInode) StatFS() (unix.Statfs_t, error) { return l.statFS() }

// setAttr applies a: owner, then mode (chown may have dropped setuid bits,
// which a.Mode accounts for), then size, then times.
// Linux: fs/attr.c (notify_change)
func (in *inode) setAttr(a *vfs.Attr) error {
	if a.Valid&(vfs.AttrUID|vfs.AttrGID) != 0 {
		uid, gid := -1, -1
		if a.Valid&vfs.AttrUID != 0 {
			uid = int(a.UID)
		}
		if a.Valid&vfs.AttrGID != 0 {
			gid = int(a.GID)
		}
		err := in.withFD(func(fd int) error {
			return unix.Fchownat(fd, "", uid, gid, unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW)
		})
		if err != nil {
			return err
		}
	}
	if a.Valid&vfs.AttrMode != 0 {
		if in.kind() == unix.S_IFLNK {
			return unix.EOPNOTSUPP
		}
		if err := in.withFD(func(fd int) error { return chmodFD(fd, a.Mode&0o7777) }); err != nil {
			return err
		}
	}
	valid := a.Valid
	if valid&vfs.AttrSize != 0 {
		switch in.kind() {
		case unix.S_IFREG:
		case unix.S_IFDIR:
			return unix.EISDIR
		default:
			return unix.EINVAL
		}
		if err := in.truncate(a.Size); err != nil {
			return err
		}
		valid &^= vfs.AttrMtimeNow // the host did that
	}
	if valid&(vfs.AttrAtime|vfs.AttrMtime|vfs.AttrAtimeNow|vfs.AttrMtimeNow) != 0 {
		ts := [2]unix.Timespec{{Nsec: unix.UTIME_OMIT}, {Nsec: unix.UTIME_OMIT}}
		given := [2]unix.Timespec{a.Atime, a.Mtime}
		for i, bits := range [2][2]int{{vfs.AttrAtime, vfs.AttrAtimeNow}, {vfs.AttrMtime, vfs.AttrMtimeNow}} {
			switch {
			case valid&bits[1] != 0:
				ts[i].Nsec = unix.UTIME_NOW
			case valid&bits[0] != 0:
				ts[i] = given[i]
			}
		}
		if err := in.withFD(func(fd int) error { return utimesFD(fd, &ts) }); err != nil {
			return err
		}
	}
	return nil
}

// procFD names descriptor fd in /proc: opening or changing that path acts
// on exactly the inode fd holds.
func procFD(fd int) string { return "/proc/self/fd/" + strconv.Itoa(fd) }

// chmodFD changes the mode of the inode fd (O_PATH or open) holds, never a
// symlink's (the caller refuses those): fchmodat2(AT_EMPTY_PATH), or
// before Linux 6.6 chmod through /proc, as glibc's fchmodat does.
func chmodFD(fd int, mode uint32) error {
	err := unix.Fchmodat(fd, "", mode, unix.AT_EMPTY_PATH)
	if err == unix.EOPNOTSUPP || err == unix.EINVAL || err == unix.ENOSYS {
		return unix.Chmod(procFD(fd), mode)
	}
	return err
}

// utimesFD sets the times of the inode fd holds (symlinks included):
// utimensat(AT_EMPTY_PATH), or through /proc before Linux 5.8.
func utimesFD(fd int, ts *[2]unix.Timespec) error {
	err := unix.UtimesNanoAt(fd, "", ts[:], unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW)
	if err == unix.EINVAL || err == unix.ENOENT {
		var st unix.Stat_t
		if unix.Fstat(fd, &st) == nil && st.Mode&unix.S_IFMT != unix.S_IFLNK {
			return unix.UtimesNanoAt(unix.AT_FDCWD, procFD(fd), ts[:], 0)
		}
	}
	return err
}

// truncate sets a regular file's size. Linux: fs/open.c (do_truncate)
func (in *inode) truncate(size int64) error {
	return in.withWritable(func(h *hfile, fd int) error { return h.truncate(fd, size) })
}

// withWritable runs fn with a host descriptor of the file open for writing
// and the file's hfile.
func (in *inode) withWritable(fn func(h *hfile, fd int) error) error {
	fd, err := in.openHost(unix.O_WRONLY)
	if err != nil {
		return err
	}
	defer hostfd.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return err
	}
	h := in.fs.getFile(&st)
	defer in.fs.putFile(h)
	return fn(h, fd)
}

// Allocate implements vfs.Allocator: fallocate(2) on the host, whatever
// modes the host file system has; cached pages follow.
func (f wfile) Allocate(ctx vfs.Ctx, mode int, off, length int64) error {
	if f.kind() != unix.S_IFREG {
		return unix.ENODEV
	}
	return f.withWritable(func(h *hfile, fd int) error {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.flushLocked()
		if err := unix.Fallocate(fd, uint32(mode), off, length); err != nil {
			return err
		}
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			return err
		}
		if st.Size != h.size {
			h.resizedLocked(st.Size)
		}
		const changesData = unix.FALLOC_FL_PUNCH_HOLE | unix.FALLOC_FL_ZERO_RANGE
		const shifts = unix.FALLOC_FL_COLLAPSE_RANGE | unix.FALLOC_FL_INSERT_RANGE
		from, to := uint64(off)>>abi.PageShift, uint64(off+length+pageSize-1)>>abi.PageShift
		switch {
		case mode&shifts != 0:
			h.refreshLocked(from, ^uint64(0))
		case mode&changesData != 0:
			h.refreshLocked(from, to)
		}
		return nil
	})
}
