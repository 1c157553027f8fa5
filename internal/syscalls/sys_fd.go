package syscalls

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/fs/pipe"
	"glassbox/internal/kernel"
	"glassbox/internal/vfs"
)

func init() {
	reg(unix.SYS_OPEN, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return doOpen(t, kernel.AtFDCWD, a[0], a.Int(1), uint32(a[2]))
	})
	reg(unix.SYS_OPENAT, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return doOpen(t, a.Int(0), a[1], a.Int(2), uint32(a[3]))
	})
	reg(unix.SYS_OPENAT2, sysOpenat2)
	reg(unix.SYS_CREAT, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return doOpen(t, kernel.AtFDCWD, a[0], unix.O_CREAT|unix.O_WRONLY|unix.O_TRUNC, uint32(a[1]))
	})
	reg(unix.SYS_CLOSE, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return 0, closeFD(t, a.Int(0))
	})
	reg(unix.SYS_CLOSE_RANGE, sysCloseRange)
	reg(unix.SYS_LSEEK, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		f, err := getFileIO(t, a.Int(0))
		if err != nil {
			return 0, err
		}
		defer f.DecRef()
		// whence is checked before the file can seek at all.
		// Linux: fs/read_write.c (ksys_lseek)
		if uint32(a[2]) > unix.SEEK_MAX {
			return 0, unix.EINVAL
		}
		n, err := f.Seek(t, int64(a[1]), a.Int(2))
		return uint64(n), err
	})
	reg(unix.SYS_DUP, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		f, err := getFile(t, a.Int(0))
		if err != nil {
			return 0, err
		}
		fd, err := t.FDs().Install(f, 0, false, t.FDLimit())
		if err != nil {
			f.DecRef()
		}
		return uint64(fd), err
	})
	reg(unix.SYS_DUP2, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		old, nfd := a.Int(0), a.Int(1)
		f, err := getFile(t, old)
		if err != nil {
			return 0, err
		}
		if old == nfd {
			f.DecRef()
			return uint64(nfd), nil
		}
		releaseLocksAt(t, nfd) // dup2 closes what nfd held
		if err := t.FDs().InstallAt(nfd, f, false, t.FDLimit()); err != nil {
			f.DecRef()
			return 0, err
		}
		return uint64(nfd), nil
	})
	reg(unix.SYS_DUP3, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		old, nfd, flags := a.Int(0), a.Int(1), a.Int(2)
		if flags&^unix.O_CLOEXEC != 0 || old == nfd {
			return 0, unix.EINVAL
		}
		f, err := getFile(t, old)
		if err != nil {
			return 0, err
		}
		releaseLocksAt(t, nfd)
		if err := t.FDs().InstallAt(nfd, f, flags&unix.O_CLOEXEC != 0, t.FDLimit()); err != nil {
			f.DecRef()
			return 0, err
		}
		return uint64(nfd), nil
	})
	reg(unix.SYS_FCNTL, sysFcntl)
	reg(unix.SYS_IOCTL, sysIoctl)
}

// Open flags as Linux groups them. Linux: include/linux/fcntl.h
const (
	oTmpfileBit    = 0x400000 // __O_TMPFILE
	validOpenFlags = unix.O_ACCMODE | unix.O_CREAT | unix.O_EXCL | unix.O_NOCTTY | unix.O_TRUNC |
		unix.O_APPEND | unix.O_NONBLOCK | unix.O_SYNC | unix.O_DSYNC | unix.O_ASYNC | unix.O_DIRECT |
		vfs.OLargefile | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_NOATIME | unix.O_CLOEXEC |
		unix.O_PATH | oTmpfileBit
	oPathFlags = unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_PATH | unix.O_CLOEXEC
	resolveAll = unix.RESOLVE_NO_XDEV | unix.RESOLVE_NO_MAGICLINKS | unix.RESOLVE_NO_SYMLINKS |
		unix.RESOLVE_BENEATH | unix.RESOLVE_IN_ROOT | resolveCached
	resolveCached = 0x20 // RESOLVE_CACHED
)

// openFlagsOK is open's and openat2's check of the flags before the path
// is read. Linux: fs/open.c (build_open_flags)
func openFlagsOK(flags int) error {
	if flags&(unix.O_DIRECTORY|unix.O_CREAT) == unix.O_DIRECTORY|unix.O_CREAT {
		return unix.EINVAL
	}
	if flags&oTmpfileBit != 0 {
		acc := flags & unix.O_ACCMODE
		if flags&(unix.O_TMPFILE|unix.O_CREAT) != unix.O_TMPFILE || acc != unix.O_WRONLY && acc != unix.O_RDWR {
			return unix.EINVAL
		}
	}
	if flags&unix.O_PATH != 0 && flags&^oPathFlags != 0 {
		return unix.EINVAL
	}
	return nil
}

// doOpen is open, openat and creat: unknown flags are dropped, and with
// O_PATH all but the few it takes. Linux: fs/open.c (build_open_how)
func doOpen(t *kernel.Task, dirfd int, pathAddr uint64, flags int, mode uint32) (uint64, error) {
	flags &= validOpenFlags
	if flags&unix.O_PATH != 0 {
		flags &= oPathFlags
	}
	return openHow(t, dirfd, pathAddr, flags, mode, 0)
}

// sysOpenat2 is openat2(2): struct open_how, whose flags, mode and
// resolve are all checked. Linux: fs/open.c (SYSCALL openat2, build_open_flags)
func sysOpenat2(t *kernel.Task, a kernel.Args) (uint64, error) {
	size := a[3]
	if size < unix.SizeofOpenHow {
		return 0, unix.EINVAL
	}
	if size > abi.PageSize {
		return 0, unix.E2BIG
	}
	b := make([]byte, size)
	if err := t.CopyIn(a[2], b); err != nil {
		return 0, err
	}
	for _, c := range b[unix.SizeofOpenHow:] {
		if c != 0 {
			return 0, unix.E2BIG // a newer struct's field this kernel lacks
		}
	}
	flags := binary.LittleEndian.Uint64(b[0:])
	mode := binary.LittleEndian.Uint64(b[8:])
	resolve := binary.LittleEndian.Uint64(b[16:])
	if flags&^validOpenFlags != 0 || resolve&^resolveAll != 0 ||
		resolve&(unix.RESOLVE_BENEATH|unix.RESOLVE_IN_ROOT) == unix.RESOLVE_BENEATH|unix.RESOLVE_IN_ROOT {
		return 0, unix.EINVAL
	}
	if flags&(unix.O_CREAT|oTmpfileBit) != 0 {
		if mode&^0o7777 != 0 {
			return 0, unix.EINVAL
		}
	} else if mode != 0 {
		return 0, unix.EINVAL
	}
	if err := openFlagsOK(int(flags)); err != nil {
		return 0, err
	}
	// Every lookup here counts as cached, but one that would create or
	// truncate is never tried.
	if resolve&resolveCached != 0 && flags&(unix.O_TRUNC|unix.O_CREAT|oTmpfileBit) != 0 {
		return 0, unix.EAGAIN
	}
	return openHow(t, a.Int(0), a[1], int(flags), uint32(mode), resolve&^resolveCached)
}

func openHow(t *kernel.Task, dirfd int, pathAddr uint64, flags int, mode uint32, resolve uint64) (uint64, error) {
	if err := openFlagsOK(flags); err != nil {
		return 0, err
	}
	path, err := t.ReadString(pathAddr, vfs.PathMax)
	if err != nil {
		return 0, err
	}
	// The descriptor is reserved before the path is resolved: a full
	// table is EMFILE whatever the path. Linux: fs/open.c (do_sys_openat2)
	if !t.FDs().HasFree(t.FDLimit()) {
		return 0, unix.EMFILE
	}
	start, err := t.StartDir(dirfd, path)
	if resolve&(unix.RESOLVE_BENEATH|unix.RESOLVE_IN_ROOT) != 0 && path != "" {
		// A scoped walk starts at dirfd, an absolute name too.
		start, err = t.StartDir(dirfd, ".")
	}
	if err != nil {
		return 0, err
	}
	if flags&unix.O_CREAT != 0 {
		mode &^= t.FS().Umask()
	}
	f, err := t.MountNS().OpenResolve(t, t.FS().Root(), start, path, flags, mode, resolve)
	if err != nil {
		// A FIFO open interrupted while waiting for its other end restarts
		// after an SA_RESTART handler. Linux: fs/pipe.c (wait_for_partner)
		return 0, restartable(err)
	}
	fd, err := t.FDs().Install(f, 0, flags&unix.O_CLOEXEC != 0, t.FDLimit())
	if err != nil {
		f.DecRef()
		return 0, err
	}
	return uint64(fd), nil
}

func sysCloseRange(t *kernel.Task, a kernel.Args) (uint64, error) {
	first, last, flags := uint32(a[0]), uint32(a[1]), a.Int(2)
	if first > last || flags&^(unix.CLOSE_RANGE_CLOEXEC|unix.CLOSE_RANGE_UNSHARE) != 0 {
		return 0, unix.EINVAL
	}
	for _, fd := range t.FDs().FDs() {
		if uint32(fd) < first || uint32(fd) > last {
			continue
		}
		if flags&unix.CLOSE_RANGE_CLOEXEC != 0 {
			t.FDs().SetCloseOnExec(fd, true)
		} else {
			closeFD(t, fd)
		}
	}
	return 0, nil
}

func sysFcntl(t *kernel.Task, a kernel.Args) (uint64, error) {
	fd, cmd := a.Int(0), a.Int(1)
	f, err := getFile(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	if f.Flags()&unix.O_PATH != 0 {
		switch cmd {
		case unix.F_DUPFD, unix.F_DUPFD_CLOEXEC, unix.F_GETFD, unix.F_SETFD, unix.F_GETFL, fDupfdQuery, fCreatedQuery:
		default:
			return 0, unix.EBADF // Linux: fs/fcntl.c (check_fcntl_cmd)
		}
	}
	switch cmd {
	case unix.F_DUPFD, unix.F_DUPFD_CLOEXEC:
		min := a.Int(2)
		if min < 0 || min >= t.FDLimit() {
			return 0, unix.EINVAL
		}
		f.IncRef()
		nfd, err := t.FDs().Install(f, min, cmd == unix.F_DUPFD_CLOEXEC, t.FDLimit())
		if err != nil {
			f.DecRef()
		}
		return uint64(nfd), err
	case fDupfdQuery:
		// Whether another descriptor names the same open file.
		// Linux: fs/fcntl.c (f_dupfd_query)
		g, err := getFile(t, a.Int(2))
		if err != nil {
			return 0, err
		}
		g.DecRef()
		return u64(g == f), nil
	case fCreatedQuery:
		return u64(f.Created()), nil // Linux: fs/fcntl.c (F_CREATED_QUERY)
	case unix.F_GETFD:
		c, err := t.FDs().CloseOnExec(fd)
		return u64(c), err
	case unix.F_SETFD:
		return 0, t.FDs().SetCloseOnExec(fd, a[2]&unix.FD_CLOEXEC != 0)
	case unix.F_GETFL:
		return uint64(f.Flags() &^ unix.O_CLOEXEC), nil
	case unix.F_SETFL:
		was := f.Flags()&unix.O_ASYNC != 0
		f.SetStatusFlags(a.Int(2))
		setAsync(t, f, fd, was)
		return 0, nil
	case unix.F_GETOWN, unix.F_SETOWN, unix.F_GETOWN_EX, unix.F_SETOWN_EX, unix.F_GETSIG, unix.F_SETSIG,
		unix.F_GETLEASE, unix.F_SETLEASE:
		return fcntlOwner(t, f, a.Int(0), cmd, a[2])
	case unix.F_GETPIPE_SZ, unix.F_SETPIPE_SZ:
		p, ok := pipe.FromOps(f.Ops())
		if !ok {
			return 0, unix.EBADF
		}
		if cmd == unix.F_GETPIPE_SZ {
			return uint64(p.Size()), nil
		}
		n, err := p.SetSize(uint32(a[2]), false)
		return uint64(n), err
	case unix.F_SETLK, unix.F_SETLKW, unix.F_OFD_SETLK, unix.F_OFD_SETLKW, unix.F_GETLK, unix.F_OFD_GETLK:
		return fcntlLock(t, f, cmd, a[2])
	case unix.F_ADD_SEALS, unix.F_GET_SEALS:
		return fcntlSeals(t, f, cmd, a[2])
	case unix.F_NOTIFY:
		return fcntlNotify(t, f, uint32(a[2]))
	}
	t.ReportUnsupported("fcntl command " + itoa(cmd))
	return 0, unix.EINVAL
}

const dnMultishot = 0x80000000 // DN_MULTISHOT, not in x/sys/unix

// fcntl commands x/sys lacks. Linux: include/uapi/linux/fcntl.h
const (
	fDupfdQuery   = 1027 // F_DUPFD_QUERY
	fCreatedQuery = 1028 // F_CREATED_QUERY
)

// fcntlNotify is dnotify: removing a watch (a mask of at most
// DN_MULTISHOT) succeeds, as there is none; a watch on a directory is
// refused as by a kernel built or set without dnotify (EINVAL; inotify is
// there). Linux: fs/notify/dnotify/dnotify.c (fcntl_dirnotify)
func fcntlNotify(t *kernel.Task, f *vfs.File, mask uint32) (uint64, error) {
	if mask&^dnMultishot == 0 {
		return 0, nil
	}
	st, err := f.Stat(t)
	if err != nil {
		return 0, err
	}
	if !st.IsDir() {
		return 0, unix.ENOTDIR
	}
	t.Kernel().ReportUnsupported("fcntl F_NOTIFY (dnotify)")
	return 0, unix.EINVAL
}

func sysIoctl(t *kernel.Task, a kernel.Args) (uint64, error) {
	fd, cmd := a.Int(0), uint32(a[1])
	f, err := getFileIO(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	switch cmd {
	case fioclex:
		return 0, t.FDs().SetCloseOnExec(fd, true)
	case fionclex:
		return 0, t.FDs().SetCloseOnExec(fd, false)
	case fionbio:
		var b [4]byte
		if err := t.CopyIn(a[2], b[:]); err != nil {
			return 0, err
		}
		fl := f.Flags() &^ unix.O_NONBLOCK
		if b != [4]byte{} {
			fl |= unix.O_NONBLOCK
		}
		f.SetStatusFlags(fl)
		return 0, nil
	case fioasync:
		var b [4]byte
		if err := t.CopyIn(a[2], b[:]); err != nil {
			return 0, err
		}
		was := f.Flags()&unix.O_ASYNC != 0
		fl := f.Flags() &^ unix.O_ASYNC
		if b != [4]byte{} {
			fl |= unix.O_ASYNC
		}
		f.SetStatusFlags(fl)
		setAsync(t, f, fd, was)
		return 0, nil
	case tiocgptpeer:
		return ioctlPeer(t, f, int(int32(a[2])))
	case fionread, fioqsize, figetbsz, unix.FICLONE, unix.FICLONERANGE, fibmap, fifreeze, fithaw:
		if r, ok, err := ioctlInode(t, f, cmd, a[2]); ok {
			return r, err
		}
	}
	if s, err := sockOf(f); err == nil {
		if r, ok, err := sockOwnerIoctl(t, f, cmd, a[2]); ok {
			return r, err
		}
		// Interface ioctls work on a socket of any family (dev_ioctl).
		if _, isInet := s.(inetSock); !isInet {
			if r, ok, err := inetStack(t).InterfaceIoctl(t, cmd, a[2]); ok {
				return r, err
			}
		}
	}
	if io, ok := f.Ops().(vfs.Ioctler); ok {
		return io.Ioctl(t, t, cmd, a[2])
	}
	return 0, unix.ENOTTY
}

func itoa(n int) string {
	if n < 0 {
		return "-" + itoa(-n)
	}
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

// ioctl numbers x/sys lacks. Linux: include/uapi/asm-generic/ioctls.h
const (
	fionclex = 0x5450
	fioclex  = 0x5451
	fionbio  = 0x5421
	fioasync = 0x5452
	fioqsize = 0x5460
	fionread = 0x541b
)
