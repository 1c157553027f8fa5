package vfs

import (
	"golang.org/x/sys/unix"
)

// Attribute changes (chmod, chown, utimes, truncate, fallocate) and statfs
// on resolved paths and open files; the namespace operations are in ops.go.

// setattr hands a change to the inode.
func setattr(ctx Ctx, in Inode, a *Attr) error {
	s, ok := in.(Setattrer)
	if !ok {
		return unix.EPERM
	}
	return s.SetAttr(ctx, a)
}

// Chmod implements chmod(2) on a resolved path.
// Linux: fs/open.c (chmod_common), fs/attr.c (setattr_prepare)
func Chmod(ctx Ctx, p Path, mode uint32) error {
	if readOnly(p) {
		return unix.EROFS
	}
	st, err := p.Inode().Stat()
	if err != nil {
		return err
	}
	c := ctx.Creds()
	if !isOwner(c, &st) {
		return unix.EPERM
	}
	mode &= 0o7777
	if !c.inGroup(st.GID) && !c.CapableWrt(unix.CAP_FSETID, st.UID, st.GID) {
		mode &^= unix.S_ISGID
	}
	return setattr(ctx, p.Inode(), &Attr{Valid: AttrMode, Mode: mode})
}

// Chown implements chown(2); -1 leaves an id unchanged. Changing a
// non-directory's owner or group drops its setuid bit (and setgid with
// group-exec), even for root. Linux: fs/open.c (chown_common),
// fs/attr.c (chown_ok, chgrp_ok, setattr_should_drop_sgid)
func Chown(ctx Ctx, p Path, uid, gid int64) error {
	if readOnly(p) {
		return unix.EROFS
	}
	st, err := p.Inode().Stat()
	if err != nil {
		return err
	}
	c := ctx.Creds()
	a := Attr{}
	if uid != -1 {
		if (c.FSUID != st.UID || uint32(uid) != st.UID) && !c.CapableWrt(unix.CAP_CHOWN, st.UID, st.GID) {
			return unix.EPERM
		}
		a.Valid, a.UID = a.Valid|AttrUID, uint32(uid)
	}
	if gid != -1 {
		if (c.FSUID != st.UID || uint32(gid) != st.GID && !c.inGroup(uint32(gid))) && !c.CapableWrt(unix.CAP_CHOWN, st.UID, st.GID) {
			return unix.EPERM
		}
		a.Valid, a.GID = a.Valid|AttrGID, uint32(gid)
	}
	if !st.IsDir() {
		mode := st.Mode & 0o7777 &^ unix.S_ISUID
		if mode&unix.S_ISGID != 0 && (mode&unix.S_IXGRP != 0 || !c.inGroup(st.GID) && !c.CapableWrt(unix.CAP_FSETID, st.UID, st.GID)) {
			mode &^= unix.S_ISGID
		}
		if mode != st.Mode&0o7777 {
			a.Valid, a.Mode = a.Valid|AttrMode, mode
		}
	}
	return setattr(ctx, p.Inode(), &a)
}

// Utimes implements utimensat(2) on a resolved path: times nil means now;
// a Nsec of UTIME_NOW or UTIME_OMIT means now or unchanged (the caller
// returns early when both are UTIME_OMIT). Linux: fs/utimes.c (vfs_utimes)
func Utimes(ctx Ctx, p Path, times *[2]unix.Timespec) error {
	if times != nil && times[0].Nsec == unix.UTIME_NOW && times[1].Nsec == unix.UTIME_NOW {
		times = nil
	}
	if readOnly(p) {
		return unix.EROFS
	}
	st, err := p.Inode().Stat()
	if err != nil {
		return err
	}
	c := ctx.Creds()
	a := Attr{}
	if times == nil {
		// Touching needs ownership or write permission.
		if !isOwner(c, &st) {
			if err := CheckMode(c, &st, MayWrite); err != nil {
				return err
			}
		}
		a.Valid = AttrAtimeNow | AttrMtimeNow
		return setattr(ctx, p.Inode(), &a)
	}
	if !isOwner(c, &st) {
		return unix.EPERM
	}
	for i, bits := range [2][2]int{{AttrAtime, AttrAtimeNow}, {AttrMtime, AttrMtimeNow}} {
		switch times[i].Nsec {
		case unix.UTIME_OMIT:
		case unix.UTIME_NOW:
			a.Valid |= bits[1]
		default:
			a.Valid |= bits[0]
		}
	}
	a.Atime, a.Mtime = times[0], times[1]
	return setattr(ctx, p.Inode(), &a)
}

// Truncate implements truncate(2) on a resolved path.
// Linux: fs/open.c (vfs_truncate)
func Truncate(ctx Ctx, p Path, size int64) error {
	if size < 0 {
		return unix.EINVAL
	}
	st, err := p.Inode().Stat()
	if err != nil {
		return err
	}
	if st.IsDir() {
		return unix.EISDIR
	}
	if st.Type() != unix.S_IFREG {
		return unix.EINVAL
	}
	if readOnly(p) {
		return unix.EROFS
	}
	if err := CheckMode(ctx.Creds(), &st, MayWrite); err != nil {
		return err
	}
	if _, ok := p.Inode().(Setattrer); !ok {
		return unix.EROFS
	}
	// A running executable is not truncated (ETXTBSY); the write access
	// is held for the truncation. Linux: fs/open.c (vfs_truncate)
	k := fileKey{st.Dev, st.Ino}
	if err := getWriteAccess(k); err != nil {
		return err
	}
	defer putAccess(k, -1)
	if leases.n.Load() > 0 {
		// A truncation is a write: it breaks every lease, waiting.
		// Linux: fs/open.c (vfs_truncate: break_lease(inode, O_WRONLY))
		if err := breakLeases(ctx, k, true, false); err != nil {
			return err
		}
	}
	if err := sizeLimitOK(ctx, &st, size); err != nil {
		return err
	}
	return setattr(ctx, p.Inode(), &Attr{Valid: AttrSize, Size: size})
}

// FTruncate implements ftruncate(2). Linux: fs/open.c (do_sys_ftruncate)
func FTruncate(ctx Ctx, f *File, size int64) error {
	if f.isPath() {
		return unix.EBADF
	}
	if size < 0 || !f.Writable() || f.path.Dentry == nil {
		return unix.EINVAL
	}
	st, err := f.Stat(ctx)
	if err != nil {
		return err
	}
	if st.Type() != unix.S_IFREG {
		return unix.EINVAL
	}
	if _, ok := f.path.Inode().(Setattrer); !ok {
		return unix.EROFS
	}
	if err := sizeLimitOK(ctx, &st, size); err != nil {
		return err
	}
	return setattr(ctx, f.path.Inode(), &Attr{Valid: AttrSize | AttrMtimeNow, Size: size})
}

// sizeLimitOK is EFBIG for growing a file past the caller's RLIMIT_FSIZE
// (the caller then raises SIGXFSZ). Linux: fs/attr.c (inode_newsize_ok)
func sizeLimitOK(ctx Ctx, st *Stat, size int64) error {
	l, ok := ctx.(FileSizeLimiter)
	if !ok || size <= st.Size {
		return nil
	}
	if lim := l.FileSizeLimit(); lim < 1<<63 && uint64(size) > lim {
		return unix.EFBIG
	}
	return nil
}

// Fallocate implements fallocate(2). Linux: fs/open.c (vfs_fallocate)
func Fallocate(ctx Ctx, f *File, mode int, off, length int64) error {
	const known = unix.FALLOC_FL_KEEP_SIZE | unix.FALLOC_FL_PUNCH_HOLE | unix.FALLOC_FL_NO_HIDE_STALE |
		unix.FALLOC_FL_COLLAPSE_RANGE | unix.FALLOC_FL_ZERO_RANGE | unix.FALLOC_FL_INSERT_RANGE | unix.FALLOC_FL_UNSHARE_RANGE
	if off < 0 || length <= 0 {
		return unix.EINVAL
	}
	if mode&^known != 0 || mode&unix.FALLOC_FL_PUNCH_HOLE != 0 && mode&unix.FALLOC_FL_KEEP_SIZE == 0 {
		return unix.EOPNOTSUPP
	}
	if f.isPath() || !f.Writable() {
		return unix.EBADF
	}
	st, err := f.Stat(ctx)
	if err != nil {
		return err
	}
	switch {
	case st.Type() == unix.S_IFIFO:
		return unix.ESPIPE
	case st.IsDir():
		return unix.EISDIR
	case st.Type() != unix.S_IFREG:
		return unix.ENODEV
	case off+length < 0:
		return unix.EFBIG
	}
	al, ok := f.path.Inode().(Allocator)
	if f.path.Dentry == nil || !ok {
		return unix.EOPNOTSUPP
	}
	if mode&unix.FALLOC_FL_KEEP_SIZE == 0 {
		if err := sizeLimitOK(ctx, &st, off+length); err != nil {
			return err
		}
	}
	return al.Allocate(ctx, mode, off, length)
}

// Magic numbers statfs reports. Linux: include/uapi/linux/magic.h
const (
	TmpfsMagic = 0x01021994
	ProcMagic  = 0x9fa0
	SysfsMagic = 0x62656572
	Ext4Magic  = 0xef53
)

// StatFS implements statfs(2) for the file system holding p: the inode's
// own numbers if it has them, the host's for hostfs mounts.
func StatFS(p Path) (unix.Statfs_t, error) {
	var s unix.Statfs_t
	sf, ok := p.Inode().(StatFSer)
	if !ok && p.Mount.root != nil {
		sf, ok = p.Mount.root.inode.(StatFSer)
	}
	switch {
	case ok:
		var err error
		if s, err = sf.StatFS(); err != nil {
			return s, err
		}
	case p.Mount.FSType == "hostfs" && unix.Statfs(p.Mount.Source, &s) == nil:
	default:
		s = unix.Statfs_t{Type: Ext4Magic, Bsize: 4096, Frsize: 4096, Namelen: NameMax}
		switch p.Mount.FSType {
		case "proc":
			s.Type = ProcMagic
		case "sysfs":
			s.Type = SysfsMagic
		case "devtmpfs", "tmpfs":
			s.Type = TmpfsMagic
		}
	}
	// Flags follow the mount. Linux: fs/statfs.c (flags_by_mnt)
	const stValid, stRelatime = 0x20, 0x1000
	s.Flags = stValid | stRelatime | int64(p.Mount.Flags&(unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC))
	return s, nil
}
