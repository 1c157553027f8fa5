package syscalls

import (
	"encoding/binary"
	"strings"

	"golang.org/x/sys/unix"

	"glassbox/internal/kernel"
	"glassbox/internal/vfs"
)

// Calls that change names and attributes: mkdir, mknod, unlink, rmdir,
// rename, symlink, link, chmod, chown, utimes, truncate, fallocate, sync
// and statfs. The vfs (ops.go, setattr.go) holds their semantics.
func init() {
	reg(unix.SYS_MKDIR, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return mkdirAt(t, kernel.AtFDCWD, a[0], uint32(a[1]))
	})
	reg(unix.SYS_MKDIRAT, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return mkdirAt(t, a.Int(0), a[1], uint32(a[2]))
	})
	reg(unix.SYS_MKNOD, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return mknodAt(t, kernel.AtFDCWD, a[0], uint32(a[1]), a[2])
	}, "device nodes open glassbox' own devices by number (others ENXIO); on host binds devices are EPERM")
	reg(unix.SYS_MKNODAT, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return mknodAt(t, a.Int(0), a[1], uint32(a[2]), a[3])
	}, "device nodes open glassbox' own devices by number (others ENXIO); on host binds devices are EPERM")
	reg(unix.SYS_UNLINK, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return unlinkAt(t, kernel.AtFDCWD, a[0], 0)
	})
	reg(unix.SYS_UNLINKAT, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return unlinkAt(t, a.Int(0), a[1], a.Int(2))
	})
	reg(unix.SYS_RMDIR, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return unlinkAt(t, kernel.AtFDCWD, a[0], unix.AT_REMOVEDIR)
	})
	reg(unix.SYS_RENAME, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return renameAt(t, kernel.AtFDCWD, a[0], kernel.AtFDCWD, a[1], 0)
	})
	reg(unix.SYS_RENAMEAT, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return renameAt(t, a.Int(0), a[1], a.Int(2), a[3], 0)
	})
	reg(unix.SYS_RENAMEAT2, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return renameAt(t, a.Int(0), a[1], a.Int(2), a[3], int(uint32(a[4])))
	})
	reg(unix.SYS_SYMLINK, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return symlinkAt(t, a[0], kernel.AtFDCWD, a[1])
	})
	reg(unix.SYS_SYMLINKAT, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return symlinkAt(t, a[0], a.Int(1), a[2])
	})
	reg(unix.SYS_LINK, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return linkAt(t, kernel.AtFDCWD, a[0], kernel.AtFDCWD, a[1], 0)
	})
	reg(unix.SYS_LINKAT, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return linkAt(t, a.Int(0), a[1], a.Int(2), a[3], a.Int(4))
	})
	reg(unix.SYS_CHMOD, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return chmodAt(t, kernel.AtFDCWD, a[0], uint32(a[1]), 0)
	})
	reg(unix.SYS_FCHMODAT, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return chmodAt(t, a.Int(0), a[1], uint32(a[2]), 0)
	})
	reg(unix.SYS_FCHMODAT2, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return chmodAt(t, a.Int(0), a[1], uint32(a[2]), a.Int(3))
	})
	reg(unix.SYS_FCHMOD, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return withFDPath(t, a.Int(0), func(p vfs.Path) error { return vfs.Chmod(t, p, uint32(a[1])) })
	})
	reg(unix.SYS_CHOWN, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return chownAt(t, kernel.AtFDCWD, a[0], a, 1, 0)
	})
	reg(unix.SYS_LCHOWN, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return chownAt(t, kernel.AtFDCWD, a[0], a, 1, unix.AT_SYMLINK_NOFOLLOW)
	})
	reg(unix.SYS_FCHOWNAT, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return chownAt(t, a.Int(0), a[1], a, 2, a.Int(4))
	})
	reg(unix.SYS_FCHOWN, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return withFDPath(t, a.Int(0), func(p vfs.Path) error {
			u, g, err := chownIDs(t, a, 1)
			if err != nil {
				return err
			}
			return vfs.Chown(t, p, u, g)
		})
	})
	reg(unix.SYS_UTIMENSAT, sysUtimensat)
	reg(unix.SYS_UTIMES, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return utimesTimeval(t, kernel.AtFDCWD, a[0], a[1])
	})
	reg(unix.SYS_FUTIMESAT, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return utimesTimeval(t, a.Int(0), a[1], a[2])
	})
	reg(unix.SYS_UTIME, sysUtime)
	reg(unix.SYS_TRUNCATE, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		if int64(a[1]) < 0 {
			return 0, unix.EINVAL
		}
		p, err := walkPath(t, kernel.AtFDCWD, a[0], vfs.Follow)
		if err != nil {
			return 0, err
		}
		return 0, epipe(t, vfs.Truncate(t, p, int64(a[1]))) // SIGXFSZ with EFBIG
	})
	reg(unix.SYS_FTRUNCATE, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		// The length before the descriptor. Linux: fs/open.c (do_ftruncate)
		if int64(a[1]) < 0 {
			return 0, unix.EINVAL
		}
		f, err := getFile(t, a.Int(0))
		if err != nil {
			return 0, err
		}
		defer f.DecRef()
		return 0, epipe(t, vfs.FTruncate(t, f, int64(a[1]))) // SIGXFSZ with EFBIG
	})
	reg(unix.SYS_FALLOCATE, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		f, err := getFile(t, a.Int(0))
		if err != nil {
			return 0, err
		}
		defer f.DecRef()
		err = vfs.Fallocate(t, f, a.Int(1), int64(a[2]), int64(a[3]))
		if err == unix.EFBIG && int64(a[2]+a[3]) >= 0 {
			epipe(t, err) // past RLIMIT_FSIZE: SIGXFSZ
		}
		return 0, err
	}, "tmpfs: allocate, KEEP_SIZE, PUNCH_HOLE")
	// Only host files hold anything to write back (shared mappings' stores).
	syncFD := func(t *kernel.Task, a kernel.Args) (uint64, error) {
		f, err := getFileIO(t, a.Int(0))
		if err != nil {
			return 0, err
		}
		defer f.DecRef()
		if f.Path().Dentry == nil {
			return 0, unix.EINVAL // pipes, sockets, terminals have no fsync
		}
		// FIFOs and devices have no fsync either: only regular files
		// and directories do. Linux: fs/sync.c (vfs_fsync_range)
		if st, err := f.Path().Dentry.Inode().Stat(); err == nil {
			if m := st.Mode & unix.S_IFMT; m != unix.S_IFREG && m != unix.S_IFDIR {
				return 0, unix.EINVAL
			}
		}
		if s, ok := f.Ops().(interface{ Fsync() error }); ok {
			return 0, s.Fsync() // host files: what shared mappings stored
		}
		return 0, nil
	}
	reg(unix.SYS_FSYNC, syncFD)
	reg(unix.SYS_FDATASYNC, syncFD)
	// Flags and range first, then the descriptor; only files that have
	// pages to write back. Linux: fs/sync.c (ksys_sync_file_range)
	reg(unix.SYS_SYNC_FILE_RANGE, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		const valid = unix.SYNC_FILE_RANGE_WAIT_BEFORE | unix.SYNC_FILE_RANGE_WRITE | unix.SYNC_FILE_RANGE_WAIT_AFTER
		off, n := int64(a[1]), int64(a[2])
		if a.Int(3)&^valid != 0 || off < 0 || off+n < 0 || uint64(off+n) < uint64(off) {
			return 0, unix.EINVAL
		}
		f, err := getFileIO(t, a.Int(0))
		if err != nil {
			return 0, err
		}
		defer f.DecRef()
		st, err := f.Stat(t)
		if err != nil {
			return 0, err
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFREG, unix.S_IFBLK, unix.S_IFDIR, unix.S_IFLNK:
			return 0, nil
		}
		return 0, unix.ESPIPE
	})
	reg(unix.SYS_SYNCFS, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		f, err := getFileIO(t, a.Int(0))
		if err != nil {
			return 0, err
		}
		f.DecRef()
		return 0, nil
	})
	reg(unix.SYS_SYNC, func(t *kernel.Task, a kernel.Args) (uint64, error) { return 0, nil })
	reg(unix.SYS_STATFS, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		p, err := walkPath(t, kernel.AtFDCWD, a[0], vfs.Follow)
		if err != nil {
			return 0, err
		}
		return statfsOut(t, p, "", a[1])
	})
	reg(unix.SYS_FSTATFS, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		f, err := getFile(t, a.Int(0))
		if err != nil {
			return 0, err
		}
		defer f.DecRef()
		return statfsOut(t, f.Path(), f.AnonName(), a[1])
	})
}

// walkPath reads a path and resolves it from dirfd.
func walkPath(t *kernel.Task, dirfd int, addr uint64, flags int) (vfs.Path, error) {
	path, err := t.ReadString(addr, vfs.PathMax)
	if err != nil {
		return vfs.Path{}, err
	}
	return t.Walk(dirfd, path, flags)
}

// pathArg reads a path and the directory it starts from.
func pathArg(t *kernel.Task, dirfd int, addr uint64) (string, vfs.Path, error) {
	path, err := t.ReadString(addr, vfs.PathMax)
	if err != nil {
		return "", vfs.Path{}, err
	}
	if path == "" {
		return "", vfs.Path{}, unix.ENOENT
	}
	start, err := t.StartDir(dirfd, path)
	return path, start, err
}

// atPath resolves a path for calls taking AT_SYMLINK_NOFOLLOW and
// AT_EMPTY_PATH ("" then names dirfd itself).
func atPath(t *kernel.Task, dirfd int, addr uint64, flags int) (vfs.Path, error) {
	path, err := t.ReadString(addr, vfs.PathMax)
	if err != nil {
		return vfs.Path{}, err
	}
	if path == "" {
		if flags&unix.AT_EMPTY_PATH == 0 {
			return vfs.Path{}, unix.ENOENT
		}
		if dirfd == kernel.AtFDCWD {
			return t.FS().Cwd(), nil
		}
		f, err := getFile(t, dirfd)
		if err != nil {
			return vfs.Path{}, err
		}
		defer f.DecRef()
		if f.Path().Dentry == nil {
			return vfs.Path{}, unix.ENOENT
		}
		return f.Path(), nil
	}
	wf := vfs.Follow
	if flags&unix.AT_SYMLINK_NOFOLLOW != 0 {
		wf = 0
	}
	return t.Walk(dirfd, path, wf)
}

// withFDPath runs fn on the file behind fd (fchmod, fchown). Anonymous
// files (pipes, sockets) accept the change, which nothing keeps.
func withFDPath(t *kernel.Task, fd int, fn func(p vfs.Path) error) (uint64, error) {
	f, err := getFile(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	if f.Flags()&unix.O_PATH != 0 {
		return 0, unix.EBADF
	}
	if f.Path().Dentry == nil {
		return 0, nil
	}
	return 0, fn(f.Path())
}

func ns(t *kernel.Task) *vfs.Namespace { return t.MountNS() }

func mkdirAt(t *kernel.Task, dirfd int, addr uint64, mode uint32) (uint64, error) {
	path, start, err := pathArg(t, dirfd, addr)
	if err != nil {
		return 0, err
	}
	return 0, ns(t).Mkdir(t, t.FS().Root(), start, path, mode&^t.FS().Umask())
}

func mknodAt(t *kernel.Task, dirfd int, addr uint64, mode uint32, dev uint64) (uint64, error) {
	path, start, err := pathArg(t, dirfd, addr)
	if err != nil {
		return 0, err
	}
	return 0, ns(t).Mknod(t, t.FS().Root(), start, path, mode&^t.FS().Umask(), dev)
}

func unlinkAt(t *kernel.Task, dirfd int, addr uint64, flags int) (uint64, error) {
	if flags&^unix.AT_REMOVEDIR != 0 {
		return 0, unix.EINVAL
	}
	path, start, err := pathArg(t, dirfd, addr)
	if err != nil {
		return 0, err
	}
	if flags&unix.AT_REMOVEDIR != 0 {
		return 0, ns(t).Rmdir(t, t.FS().Root(), start, path)
	}
	return 0, ns(t).Unlink(t, t.FS().Root(), start, path)
}

func renameAt(t *kernel.Task, oldfd int, oldAddr uint64, newfd int, newAddr uint64, flags int) (uint64, error) {
	oldPath, oldStart, err := pathArg(t, oldfd, oldAddr)
	if err != nil {
		return 0, err
	}
	newPath, newStart, err := pathArg(t, newfd, newAddr)
	if err != nil {
		return 0, err
	}
	return 0, ns(t).Rename(t, t.FS().Root(), oldStart, oldPath, newStart, newPath, flags)
}

func symlinkAt(t *kernel.Task, targetAddr uint64, dirfd int, addr uint64) (uint64, error) {
	target, err := t.ReadString(targetAddr, vfs.PathMax)
	if err != nil {
		return 0, err
	}
	if target == "" {
		return 0, unix.ENOENT
	}
	path, start, err := pathArg(t, dirfd, addr)
	if err != nil {
		return 0, err
	}
	return 0, ns(t).Symlink(t, t.FS().Root(), start, path, target)
}

// linkAt implements linkat(2): the old name is not followed unless
// AT_SYMLINK_FOLLOW; AT_EMPTY_PATH links the file dirfd names.
func linkAt(t *kernel.Task, oldfd int, oldAddr uint64, newfd int, newAddr uint64, flags int) (uint64, error) {
	if flags&^(unix.AT_SYMLINK_FOLLOW|unix.AT_EMPTY_PATH) != 0 {
		return 0, unix.EINVAL
	}
	nf := unix.AT_SYMLINK_NOFOLLOW
	if flags&unix.AT_SYMLINK_FOLLOW != 0 {
		nf = 0
	}
	old, err := atPath(t, oldfd, oldAddr, nf|flags&unix.AT_EMPTY_PATH)
	if err != nil {
		return 0, err
	}
	path, start, err := pathArg(t, newfd, newAddr)
	if err != nil {
		return 0, err
	}
	return 0, ns(t).Link(t, old, t.FS().Root(), start, path)
}

// chmodAt is fchmodat2; symlinks have no mode of their own (EOPNOTSUPP).
func chmodAt(t *kernel.Task, dirfd int, addr uint64, mode uint32, flags int) (uint64, error) {
	if flags&^(unix.AT_SYMLINK_NOFOLLOW|unix.AT_EMPTY_PATH) != 0 {
		return 0, unix.EINVAL
	}
	p, err := atPath(t, dirfd, addr, flags)
	if err != nil {
		return 0, err
	}
	if _, ok := p.Inode().(vfs.Symlink); ok {
		return 0, unix.EOPNOTSUPP
	}
	return 0, vfs.Chmod(t, p, mode)
}

// chownAt takes the uid and gid from a[i] and a[i+1] (-1: unchanged).
func chownAt(t *kernel.Task, dirfd int, addr uint64, a kernel.Args, i, flags int) (uint64, error) {
	if flags&^(unix.AT_SYMLINK_NOFOLLOW|unix.AT_EMPTY_PATH) != 0 {
		return 0, unix.EINVAL
	}
	p, err := atPath(t, dirfd, addr, flags)
	if err != nil {
		return 0, err
	}
	u, g, err := chownIDs(t, a, i)
	if err != nil {
		return 0, err
	}
	return 0, vfs.Chown(t, p, u, g)
}

// chownIDs maps chown's uid a[i] and gid a[i+1] from the caller's user
// namespace (-1: unchanged; an unmapped id is EINVAL).
// Linux: fs/open.c (chown_common)
func chownIDs(t *kernel.Task, a kernel.Args, i int) (uid, gid int64, err error) {
	uid, gid = -1, -1
	if u := uint32(a[i]); u != ^uint32(0) {
		k, ok := t.MapUID(u)
		if !ok {
			return 0, 0, unix.EINVAL
		}
		uid = int64(k)
	}
	if g := uint32(a[i+1]); g != ^uint32(0) {
		k, ok := t.MapGID(g)
		if !ok {
			return 0, 0, unix.EINVAL
		}
		gid = int64(k)
	}
	return uid, gid, nil
}

// sysUtimensat: a NULL path means dirfd itself (futimens).
// Linux: fs/utimes.c (do_utimes)
func sysUtimensat(t *kernel.Task, a kernel.Args) (uint64, error) {
	dirfd, flags := a.Int(0), a.Int(3)
	var times *[2]unix.Timespec
	if a[2] != 0 {
		var b [32]byte
		if err := t.CopyIn(a[2], b[:]); err != nil {
			return 0, err
		}
		times = &[2]unix.Timespec{}
		for i := range times {
			times[i].Sec = int64(binary.LittleEndian.Uint64(b[16*i:]))
			times[i].Nsec = int64(binary.LittleEndian.Uint64(b[16*i+8:]))
		}
		if times[0].Nsec == unix.UTIME_OMIT && times[1].Nsec == unix.UTIME_OMIT {
			return 0, nil
		}
		for _, ts := range times {
			if (ts.Nsec < 0 || ts.Nsec > 999999999) && ts.Nsec != unix.UTIME_NOW && ts.Nsec != unix.UTIME_OMIT {
				return 0, unix.EINVAL
			}
		}
	}
	if flags&^(unix.AT_SYMLINK_NOFOLLOW|unix.AT_EMPTY_PATH) != 0 {
		return 0, unix.EINVAL
	}
	if a[1] == 0 {
		if dirfd == kernel.AtFDCWD {
			return 0, unix.EFAULT
		}
		if flags != 0 {
			return 0, unix.EINVAL
		}
		return withFDPath(t, dirfd, func(p vfs.Path) error { return vfs.Utimes(t, p, times) })
	}
	p, err := atPath(t, dirfd, a[1], flags)
	if err != nil {
		return 0, err
	}
	return 0, vfs.Utimes(t, p, times)
}

// utimesTimeval is utimes and futimesat: struct timeval[2], NULL for now.
func utimesTimeval(t *kernel.Task, dirfd int, pathAddr, tvAddr uint64) (uint64, error) {
	var times *[2]unix.Timespec
	if tvAddr != 0 {
		var b [32]byte
		if err := t.CopyIn(tvAddr, b[:]); err != nil {
			return 0, err
		}
		times = &[2]unix.Timespec{}
		for i := range times {
			sec, usec := int64(binary.LittleEndian.Uint64(b[16*i:])), int64(binary.LittleEndian.Uint64(b[16*i+8:]))
			if usec < 0 || usec >= 1000000 {
				return 0, unix.EINVAL
			}
			times[i] = unix.Timespec{Sec: sec, Nsec: usec * 1000}
		}
	}
	p, err := walkPath(t, dirfd, pathAddr, vfs.Follow)
	if err != nil {
		return 0, err
	}
	return 0, vfs.Utimes(t, p, times)
}

// sysUtime is utime(2): struct utimbuf {actime, modtime}, seconds only.
func sysUtime(t *kernel.Task, a kernel.Args) (uint64, error) {
	var times *[2]unix.Timespec
	if a[1] != 0 {
		var b [16]byte
		if err := t.CopyIn(a[1], b[:]); err != nil {
			return 0, err
		}
		times = &[2]unix.Timespec{{Sec: int64(binary.LittleEndian.Uint64(b[0:]))},
			{Sec: int64(binary.LittleEndian.Uint64(b[8:]))}}
	}
	p, err := walkPath(t, kernel.AtFDCWD, a[0], vfs.Follow)
	if err != nil {
		return 0, err
	}
	return 0, vfs.Utimes(t, p, times)
}

// Magic numbers of anonymous files. Linux: include/uapi/linux/magic.h
const (
	pipefsMagic    = 0x50495045
	anonInodeMagic = 0x09041934
)

// statfsOut writes struct statfs (120 bytes) for p, or for an anonymous
// file named anon.
func statfsOut(t *kernel.Task, p vfs.Path, anon string, addr uint64) (uint64, error) {
	var s unix.Statfs_t
	if p.Dentry == nil {
		s = unix.Statfs_t{Type: anonInodeMagic, Bsize: 4096, Frsize: 4096, Namelen: vfs.NameMax, Flags: 0x20}
		if strings.HasPrefix(anon, "pipe:") {
			s.Type = pipefsMagic
		}
	} else {
		var err error
		if s, err = vfs.StatFS(p); err != nil {
			return 0, err
		}
	}
	b := make([]byte, 120)
	for i, v := range []uint64{uint64(s.Type), uint64(s.Bsize), s.Blocks, s.Bfree, s.Bavail, s.Files, s.Ffree} {
		binary.LittleEndian.PutUint64(b[8*i:], v)
	}
	binary.LittleEndian.PutUint32(b[56:], uint32(s.Fsid.Val[0]))
	binary.LittleEndian.PutUint32(b[60:], uint32(s.Fsid.Val[1]))
	for i, v := range []int64{s.Namelen, s.Frsize, s.Flags} {
		binary.LittleEndian.PutUint64(b[64+8*i:], uint64(v))
	}
	return 0, t.CopyOut(addr, b)
}
