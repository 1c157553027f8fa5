package syscalls

import (
	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/kernel"
	"glassbox/internal/vfs"
)

func init() {
	reg(unix.SYS_FSTAT, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		st, err := statFD(t, a.Int(0))
		if err != nil {
			return 0, err
		}
		return 0, copyStat(t, a[1], &st)
	})
	reg(unix.SYS_STAT, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return statAt(t, kernel.AtFDCWD, a[0], a[1], 0)
	})
	reg(unix.SYS_LSTAT, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return statAt(t, kernel.AtFDCWD, a[0], a[1], unix.AT_SYMLINK_NOFOLLOW)
	})
	reg(unix.SYS_NEWFSTATAT, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return statAt(t, a.Int(0), a[1], a[2], a.Int(3))
	})
	reg(unix.SYS_STATX, sysStatx)
	reg(unix.SYS_ACCESS, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return access(t, kernel.AtFDCWD, a[0], a.Int(1), 0)
	})
	reg(unix.SYS_FACCESSAT, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return access(t, a.Int(0), a[1], a.Int(2), 0)
	})
	reg(unix.SYS_FACCESSAT2, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return access(t, a.Int(0), a[1], a.Int(2), a.Int(3))
	})
	reg(unix.SYS_READLINK, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return readlink(t, kernel.AtFDCWD, a[0], a[1], int64(int32(a[2])))
	})
	reg(unix.SYS_READLINKAT, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return readlink(t, a.Int(0), a[1], a[2], int64(int32(a[3])))
	})
	reg(unix.SYS_GETDENTS64, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return getdents(t, a.Int(0), a[1], int(uint32(a[2])), true)
	})
	reg(unix.SYS_GETDENTS, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return getdents(t, a.Int(0), a[1], int(uint32(a[2])), false)
	})
	reg(unix.SYS_GETCWD, sysGetcwd)
	reg(unix.SYS_CHDIR, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		path, err := t.ReadString(a[0], vfs.PathMax)
		if err != nil {
			return 0, err
		}
		p, err := t.Walk(kernel.AtFDCWD, path, vfs.Follow|vfs.MustDir)
		if err != nil {
			return 0, err
		}
		if err := vfs.MayAccess(t, p.Inode(), vfs.MayExec); err != nil {
			return 0, err
		}
		t.FS().SetCwd(p)
		return 0, nil
	})
	reg(unix.SYS_FCHDIR, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		f, err := getFile(t, a.Int(0))
		if err != nil {
			return 0, err
		}
		defer f.DecRef()
		p := f.Path()
		if p.Dentry == nil {
			return 0, unix.ENOTDIR
		}
		if _, ok := p.Inode().(vfs.Dir); !ok {
			return 0, unix.ENOTDIR
		}
		if err := vfs.MayAccess(t, p.Inode(), vfs.MayExec); err != nil {
			return 0, err
		}
		t.FS().SetCwd(p)
		return 0, nil
	})
	// Linux: fs/open.c (chroot)
	reg(unix.SYS_CHROOT, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		p, err := walkPath(t, kernel.AtFDCWD, a[0], vfs.Follow|vfs.MustDir)
		if err != nil {
			return 0, err
		}
		if err := vfs.MayAccess(t, p.Inode(), vfs.MayExec); err != nil {
			return 0, err
		}
		if !t.HasCap(unix.CAP_SYS_CHROOT) {
			return 0, unix.EPERM
		}
		t.FS().SetRoot(p)
		return 0, nil
	})
	reg(unix.SYS_UMASK, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return uint64(t.FS().SetUmask(uint32(a[0]))), nil
	})
}

func statFD(t *kernel.Task, fd int) (vfs.Stat, error) {
	if fd == kernel.AtFDCWD {
		return t.FS().Cwd().Inode().Stat()
	}
	f, err := getFile(t, fd)
	if err != nil {
		return vfs.Stat{}, err
	}
	defer f.DecRef()
	return f.Stat(t)
}

func copyStat(t *kernel.Task, addr uint64, st *vfs.Stat) error {
	sf := statFields(st)
	sf.UID, sf.GID = t.ShowUID(sf.UID), t.ShowGID(sf.GID) // as the caller's user namespace sees them
	return t.CopyOut(addr, abi.EncodeStat(&sf))
}

// lookupAt resolves a path for the *at calls, honouring AT_EMPTY_PATH and
// AT_SYMLINK_NOFOLLOW.
func lookupAt(t *kernel.Task, dirfd int, pathAddr uint64, flags int) (vfs.Stat, error) {
	// A NULL path with AT_EMPTY_PATH is the empty path.
	// Linux: fs/stat.c (vfs_empty_path)
	if pathAddr == 0 && flags&unix.AT_EMPTY_PATH != 0 {
		return statFD(t, dirfd)
	}
	path, err := t.ReadString(pathAddr, vfs.PathMax)
	if err != nil {
		return vfs.Stat{}, err
	}
	if path == "" {
		if flags&unix.AT_EMPTY_PATH == 0 {
			return vfs.Stat{}, unix.ENOENT
		}
		return statFD(t, dirfd)
	}
	wf := vfs.Follow
	if flags&unix.AT_SYMLINK_NOFOLLOW != 0 {
		wf = 0
	}
	p, err := t.Walk(dirfd, path, wf)
	if err != nil {
		return vfs.Stat{}, err
	}
	return p.Inode().Stat()
}

func statAt(t *kernel.Task, dirfd int, pathAddr, buf uint64, flags int) (uint64, error) {
	if flags&^(unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW|unix.AT_NO_AUTOMOUNT) != 0 {
		return 0, unix.EINVAL
	}
	st, err := lookupAt(t, dirfd, pathAddr, flags)
	if err != nil {
		return 0, err
	}
	return 0, copyStat(t, buf, &st)
}

func sysStatx(t *kernel.Task, a kernel.Args) (uint64, error) {
	dirfd, flags, mask := a.Int(0), a.Int(2), uint32(a[3])
	const okFlags = unix.AT_EMPTY_PATH | unix.AT_SYMLINK_NOFOLLOW | unix.AT_NO_AUTOMOUNT | atStatxSyncType
	if flags&^okFlags != 0 || flags&atStatxSyncType == atStatxSyncType || mask&unix.STATX__RESERVED != 0 {
		return 0, unix.EINVAL
	}
	st, err := lookupAt(t, dirfd, a[1], flags)
	if err != nil {
		return 0, err
	}
	sf := statFields(&st)
	sf.UID, sf.GID = t.ShowUID(sf.UID), t.ShowGID(sf.GID)
	return 0, t.CopyOut(a[4], abi.EncodeStatx(&sf, abi.STATX_BASIC_STATS))
}

func access(t *kernel.Task, dirfd int, pathAddr uint64, mode, flags int) (uint64, error) {
	if mode&^7 != 0 || flags&^(unix.AT_EACCESS|unix.AT_SYMLINK_NOFOLLOW|unix.AT_EMPTY_PATH) != 0 {
		return 0, unix.EINVAL
	}
	path, err := t.ReadString(pathAddr, vfs.PathMax)
	if err != nil {
		return 0, err
	}
	// access() checks with the real ids unless AT_EACCESS.
	c := *t.Creds()
	if flags&unix.AT_EACCESS == 0 {
		c.FSUID, c.FSGID = c.UID, c.GID
	}
	ctx := credCtx{t, &c}
	var p vfs.Path
	if path == "" && flags&unix.AT_EMPTY_PATH != 0 {
		f, err := getFile(t, dirfd)
		if err != nil {
			return 0, err
		}
		p = f.Path()
		f.DecRef()
		if p.Dentry == nil {
			return 0, nil
		}
	} else {
		wf := vfs.Follow
		if flags&unix.AT_SYMLINK_NOFOLLOW != 0 {
			wf = 0
		}
		start, err := t.StartDir(dirfd, path)
		if err != nil {
			return 0, err
		}
		p, err = t.MountNS().Walk(ctx, t.FS().Root(), start, path, wf)
		if err != nil {
			return 0, err
		}
	}
	if mode == 0 {
		return 0, nil
	}
	st, err := p.Inode().Stat()
	if err != nil {
		return 0, err
	}
	if mode&unix.W_OK != 0 && p.Mount.Flags&unix.MS_RDONLY != 0 && (st.Type() == unix.S_IFREG || st.IsDir() || st.Type() == unix.S_IFLNK) {
		return 0, unix.EROFS
	}
	return 0, vfs.CheckMode(&c, &st, mode)
}

// credCtx runs a walk with substituted credentials (access(2)).
type credCtx struct {
	*kernel.Task
	c *vfs.Creds
}

func (c credCtx) Creds() *vfs.Creds { return c.c }

// readlink checks the size before the path; an empty path names dirfd
// (an O_PATH symlink) and is ENOENT for anything but a symlink.
// Linux: fs/stat.c (do_readlinkat)
func readlink(t *kernel.Task, dirfd int, pathAddr, buf uint64, size int64) (uint64, error) {
	if size <= 0 {
		return 0, unix.EINVAL
	}
	path, err := t.ReadString(pathAddr, vfs.PathMax)
	if err != nil {
		return 0, err
	}
	var p vfs.Path
	if path == "" {
		if dirfd == kernel.AtFDCWD {
			return 0, unix.ENOENT // the cwd is a directory
		}
		f, err := getFile(t, dirfd)
		if err != nil {
			return 0, err
		}
		p = f.Path()
		f.DecRef()
		if p.Dentry == nil {
			return 0, unix.ENOENT
		}
	} else if p, err = t.Walk(dirfd, path, 0); err != nil {
		return 0, err
	}
	sl, ok := p.Inode().(vfs.Symlink)
	if !ok && path == "" {
		return 0, unix.ENOENT
	}
	if !ok {
		return 0, unix.EINVAL
	}
	target, err := sl.Readlink(t)
	if err != nil {
		return 0, err
	}
	if int64(len(target)) > size {
		target = target[:size]
	}
	return uint64(len(target)), t.CopyOut(buf, []byte(target))
}

func getdents(t *kernel.Task, fd int, addr uint64, count int, is64 bool) (uint64, error) {
	f, err := getFileIO(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	var self, parent uint64
	if p := f.Path(); p.Dentry != nil {
		if st, err := p.Inode().Stat(); err == nil {
			self, parent = st.Ino, st.Ino
		}
		if pd := p.Dentry.Parent(); pd != nil {
			if st, err := pd.Inode().Stat(); err == nil {
				parent = st.Ino
			}
		}
	}
	ents, commit, err := f.ReadDir(t, self, parent)
	if err != nil {
		return 0, err
	}
	// A removed directory lists nothing: ENOENT. Linux: fs/readdir.c (iterate_dir)
	if vfs.DeadDir(f.Path()) {
		commit(0)
		return 0, unix.ENOENT
	}
	var out []byte
	n := 0
	for _, e := range ents {
		var ok bool
		off := uint64(n + 1)
		if is64 {
			out, ok = abi.Dirent64(out, count, e.Ino, off, e.Type, e.Name)
		} else {
			out, ok = abi.Dirent(out, count, e.Ino, off, e.Type, e.Name)
		}
		if !ok {
			break
		}
		n++
	}
	if n == 0 && len(ents) > 0 {
		commit(0)
		return 0, unix.EINVAL
	}
	if err := t.CopyOut(addr, out); err != nil {
		commit(0)
		return 0, err
	}
	commit(n)
	return uint64(len(out)), nil
}

// sysGetcwd answers the working directory's name from the root; one
// outside the root (after chroot) is "(unreachable)" and its name from the
// sandbox's top. Linux: fs/d_path.c (getcwd)
func sysGetcwd(t *kernel.Task, a kernel.Args) (uint64, error) {
	fsc := t.FS()
	// A removed working directory has no name. Linux: fs/d_path.c (getcwd)
	if vfs.DeadDir(fsc.Cwd()) {
		return 0, unix.ENOENT
	}
	name, reached := ns(t).PathNameReach(fsc.Root(), fsc.Cwd())
	if !reached {
		name = "(unreachable)" + name
	}
	if uint64(len(name)+1) > a[1] {
		return 0, unix.ERANGE
	}
	return uint64(len(name) + 1), t.CopyOut(a[0], append([]byte(name), 0))
}

const atStatxSyncType = 0x6000
