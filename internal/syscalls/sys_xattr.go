package syscalls

import (
	"golang.org/x/sys/unix"

	"glassbox/internal/kernel"
	"glassbox/internal/vfs"
)

// Extended attributes: the argument checks and copies of fs/xattr.c; the
// rules are vfs/xattr.go's. As in Linux, the name (and a set's value) is
// read before the path or the descriptor is looked at.
// Linux: fs/xattr.c (path_getxattrat, path_setxattrat, path_removexattrat)
func init() {
	getter := func(follow bool) kernel.Handler {
		return func(t *kernel.Task, a kernel.Args) (uint64, error) {
			name, err := xattrNameArg(t, a[1])
			if err != nil {
				return 0, err
			}
			p, err := walkPath(t, kernel.AtFDCWD, a[0], walkFlags(follow))
			if err != nil {
				return 0, err
			}
			v, err := vfs.GetXattr(t, p, name)
			return xattrOut(t, v, err, a[2], a[3], vfs.XattrSizeMax)
		}
	}
	reg(unix.SYS_GETXATTR, getter(true))
	reg(unix.SYS_LGETXATTR, getter(false))
	reg(unix.SYS_FGETXATTR, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		name, err := xattrNameArg(t, a[1])
		if err != nil {
			return 0, err
		}
		return withXattrFile(t, a.Int(0), func(f *vfs.File) (uint64, error) {
			v, err := vfs.GetXattrFile(t, f, name)
			return xattrOut(t, v, err, a[2], a[3], vfs.XattrSizeMax)
		})
	})

	setter := func(follow bool) kernel.Handler {
		return func(t *kernel.Task, a kernel.Args) (uint64, error) {
			name, value, err := setxattrArgs(t, a[1], a[2], a[3], a.Int(4))
			if err != nil {
				return 0, err
			}
			p, err := walkPath(t, kernel.AtFDCWD, a[0], walkFlags(follow))
			if err != nil {
				return 0, err
			}
			return 0, vfs.SetXattr(t, p, name, value, a.Int(4))
		}
	}
	reg(unix.SYS_SETXATTR, setter(true))
	reg(unix.SYS_LSETXATTR, setter(false))
	reg(unix.SYS_FSETXATTR, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		name, value, err := setxattrArgs(t, a[1], a[2], a[3], a.Int(4))
		if err != nil {
			return 0, err
		}
		return withXattrFile(t, a.Int(0), func(f *vfs.File) (uint64, error) {
			return 0, vfs.SetXattrFile(t, f, name, value, a.Int(4))
		})
	})

	lister := func(follow bool) kernel.Handler {
		return func(t *kernel.Task, a kernel.Args) (uint64, error) {
			p, err := walkPath(t, kernel.AtFDCWD, a[0], walkFlags(follow))
			if err != nil {
				return 0, err
			}
			l, err := vfs.ListXattr(t, p)
			return xattrOut(t, l, err, a[1], a[2], vfs.XattrListMax)
		}
	}
	reg(unix.SYS_LISTXATTR, lister(true))
	reg(unix.SYS_LLISTXATTR, lister(false))
	reg(unix.SYS_FLISTXATTR, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return withXattrFile(t, a.Int(0), func(f *vfs.File) (uint64, error) {
			l, err := vfs.ListXattrFile(t, f)
			return xattrOut(t, l, err, a[1], a[2], vfs.XattrListMax)
		})
	})

	remover := func(follow bool) kernel.Handler {
		return func(t *kernel.Task, a kernel.Args) (uint64, error) {
			name, err := xattrNameArg(t, a[1])
			if err != nil {
				return 0, err
			}
			p, err := walkPath(t, kernel.AtFDCWD, a[0], walkFlags(follow))
			if err != nil {
				return 0, err
			}
			return 0, vfs.RemoveXattr(t, p, name)
		}
	}
	reg(unix.SYS_REMOVEXATTR, remover(true))
	reg(unix.SYS_LREMOVEXATTR, remover(false))
	reg(unix.SYS_FREMOVEXATTR, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		name, err := xattrNameArg(t, a[1])
		if err != nil {
			return 0, err
		}
		return withXattrFile(t, a.Int(0), func(f *vfs.File) (uint64, error) {
			return 0, vfs.RemoveXattrFile(t, f, name)
		})
	})
}

func walkFlags(follow bool) int {
	if follow {
		return vfs.Follow
	}
	return 0
}

// withXattrFile runs fn on descriptor fd; an O_PATH descriptor is EBADF.
func withXattrFile(t *kernel.Task, fd int, fn func(f *vfs.File) (uint64, error)) (uint64, error) {
	f, err := getFile(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	if f.Flags()&unix.O_PATH != 0 {
		return 0, unix.EBADF
	}
	return fn(f)
}

// xattrNameArg reads an attribute name: empty or longer than
// XATTR_NAME_MAX is ERANGE. Linux: fs/xattr.c (import_xattr_name)
func xattrNameArg(t *kernel.Task, addr uint64) (string, error) {
	name, err := t.ReadString(addr, vfs.XattrNameMax+1)
	if err == unix.ENAMETOOLONG || err == nil && name == "" {
		return "", unix.ERANGE
	}
	return name, err
}

// setxattrArgs checks the flags, then reads the name and the value.
// Linux: fs/xattr.c (setxattr_copy)
func setxattrArgs(t *kernel.Task, nameAddr, valAddr, size uint64, flags int) (string, []byte, error) {
	if flags&^(unix.XATTR_CREATE|unix.XATTR_REPLACE) != 0 {
		return "", nil, unix.EINVAL
	}
	name, err := xattrNameArg(t, nameAddr)
	if err != nil {
		return "", nil, err
	}
	if size > vfs.XattrSizeMax {
		return "", nil, unix.E2BIG
	}
	value := make([]byte, size)
	if size > 0 {
		if err := t.CopyIn(valAddr, value); err != nil {
			return "", nil, err
		}
	}
	return name, value, nil
}

// xattrOut answers a get or list: with size 0 the length the caller
// needs; else the bytes, ERANGE when they do not fit (E2BIG when they
// could never fit). Linux: fs/xattr.c (do_getxattr, listxattr)
func xattrOut(t *kernel.Task, b []byte, err error, addr, size uint64, max int) (uint64, error) {
	if err != nil {
		return 0, err
	}
	if size == 0 {
		return uint64(len(b)), nil
	}
	if size > uint64(max) {
		size = uint64(max)
	}
	if uint64(len(b)) > size {
		if size >= uint64(max) {
			return 0, unix.E2BIG
		}
		return 0, unix.ERANGE
	}
	if len(b) > 0 {
		if err := t.CopyOut(addr, b); err != nil {
			return 0, err
		}
	}
	return uint64(len(b)), nil
}
