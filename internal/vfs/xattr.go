package vfs

import (
	"strings"

	"golang.org/x/sys/unix"
)

// Extended attributes: the checks every file system shares (read-only
// mounts, the namespaces' rules, permission bits); a file system that
// keeps attributes implements Xattrer. Linux: fs/xattr.c

// Limits of the system calls. Linux: include/uapi/linux/limits.h
const (
	XattrNameMax = 255   // XATTR_NAME_MAX: longest name
	XattrSizeMax = 65536 // XATTR_SIZE_MAX: largest value
	XattrListMax = 65536 // XATTR_LIST_MAX: largest list
)

// Xattrer is an inode with extended attributes. The vfs has checked the
// mount, the namespace rules and the caller's rights; the file system
// answers EOPNOTSUPP for a namespace it does not keep (Linux's missing
// xattr handler).
type Xattrer interface {
	// GetXattr returns the value of name, ENODATA when it has none.
	GetXattr(ctx Ctx, name string) ([]byte, error)
	// SetXattr sets name: with XATTR_CREATE it must be absent (EEXIST),
	// with XATTR_REPLACE present (ENODATA).
	SetXattr(ctx Ctx, name string, value []byte, flags int) error
	// ListXattr returns the names the caller may see.
	ListXattr(ctx Ctx) ([]string, error)
	// RemoveXattr removes name, ENODATA when it has none.
	RemoveXattr(ctx Ctx, name string) error
}

// Namespace prefixes. Linux: include/uapi/linux/xattr.h
const (
	XattrUser     = "user."
	XattrTrusted  = "trusted."
	XattrSecurity = "security."
	XattrSystem   = "system."
)

// XattrCapable reports whether c may see and change trusted.* attributes
// (CAP_SYS_ADMIN).
func XattrCapable(c *Creds) bool { return c.Capable(unix.CAP_SYS_ADMIN) }

// xattrPermission applies the namespace rules and then the mode bits.
// Linux: fs/xattr.c (xattr_permission)
func xattrPermission(ctx Ctx, st *Stat, name string, want int) error {
	c := ctx.Creds()
	deny := unix.ENODATA
	if want&MayWrite != 0 {
		deny = unix.EPERM
	}
	switch {
	case strings.HasPrefix(name, XattrSecurity):
		// The capability module's rule: changing security.* (but for
		// security.capability) takes CAP_SYS_ADMIN.
		// Linux: security/commoncap.c (cap_inode_setxattr, cap_inode_removexattr)
		if want&MayWrite != 0 && name != XattrSecurity+"capability" && !XattrCapable(c) {
			return unix.EPERM
		}
		return nil
	case strings.HasPrefix(name, XattrSystem):
		return nil
	case strings.HasPrefix(name, XattrTrusted):
		if !XattrCapable(c) {
			return deny
		}
		return nil
	case strings.HasPrefix(name, XattrUser):
		// Only regular files and directories have user attributes; in a
		// sticky directory only the owner may change them.
		if t := st.Type(); t != unix.S_IFREG && t != unix.S_IFDIR {
			return deny
		}
		if st.IsDir() && st.Mode&unix.S_ISVTX != 0 && want&MayWrite != 0 && !isOwner(c, st) {
			return unix.EPERM
		}
	}
	return CheckMode(c, st, want)
}

// xattrName checks, for a file system that keeps attributes, that a
// name has a namespace the vfs knows and something after it; anything
// else has no handler.
// Linux: fs/xattr.c (xattr_resolve_name)
func xattrName(name string) error {
	for _, p := range [...]string{XattrUser, XattrTrusted, XattrSecurity, XattrSystem} {
		if strings.HasPrefix(name, p) {
			if len(name) == len(p) {
				return unix.EINVAL
			}
			return nil
		}
	}
	return unix.EOPNOTSUPP
}

// xattrTarget is the object of an xattr call: the inode a path or open
// file names (nil for an anonymous file: a pipe, a socket), its
// attributes, and whether its mount is read-only.
type xattrTarget struct {
	in Inode
	st Stat
	ro bool
}

func pathTarget(p Path) (xattrTarget, error) {
	st, err := p.Inode().Stat()
	return xattrTarget{in: p.Inode(), st: st, ro: readOnly(p)}, err
}

func fileTarget(ctx Ctx, f *File) (xattrTarget, error) {
	if f.Path().Dentry != nil {
		return pathTarget(f.Path())
	}
	st, err := f.Stat(ctx)
	return xattrTarget{st: st}, err
}

func (x xattrTarget) xattrer() (Xattrer, bool) {
	xa, ok := x.in.(Xattrer)
	return xa, ok
}

// GetXattr implements getxattr(2) and lgetxattr(2) on a resolved path.
func GetXattr(ctx Ctx, p Path, name string) ([]byte, error) {
	x, err := pathTarget(p)
	if err != nil {
		return nil, err
	}
	return x.get(ctx, name)
}

// GetXattrFile implements fgetxattr(2).
func GetXattrFile(ctx Ctx, f *File, name string) ([]byte, error) {
	x, err := fileTarget(ctx, f)
	if err != nil {
		return nil, err
	}
	return x.get(ctx, name)
}

// Linux: fs/xattr.c (vfs_getxattr)
func (x xattrTarget) get(ctx Ctx, name string) ([]byte, error) {
	if err := xattrPermission(ctx, &x.st, name, MayRead); err != nil {
		return nil, err
	}
	xa, ok := x.xattrer()
	if !ok {
		return nil, unix.EOPNOTSUPP
	}
	if err := xattrName(name); err != nil {
		return nil, err
	}
	return xa.GetXattr(ctx, name)
}

// SetXattr implements setxattr(2) and lsetxattr(2) on a resolved path.
func SetXattr(ctx Ctx, p Path, name string, value []byte, flags int) error {
	x, err := pathTarget(p)
	if err != nil {
		return err
	}
	return x.set(ctx, name, value, flags)
}

// SetXattrFile implements fsetxattr(2).
func SetXattrFile(ctx Ctx, f *File, name string, value []byte, flags int) error {
	x, err := fileTarget(ctx, f)
	if err != nil {
		return err
	}
	return x.set(ctx, name, value, flags)
}

// Linux: fs/xattr.c (path_setxattr, vfs_setxattr)
func (x xattrTarget) set(ctx Ctx, name string, value []byte, flags int) error {
	if x.ro {
		return unix.EROFS
	}
	if err := xattrPermission(ctx, &x.st, name, MayWrite); err != nil {
		return err
	}
	xa, ok := x.xattrer()
	if !ok {
		return unix.EOPNOTSUPP
	}
	if err := xattrName(name); err != nil {
		return err
	}
	return xa.SetXattr(ctx, name, value, flags)
}

// RemoveXattr implements removexattr(2) and lremovexattr(2) on a
// resolved path.
func RemoveXattr(ctx Ctx, p Path, name string) error {
	x, err := pathTarget(p)
	if err != nil {
		return err
	}
	return x.remove(ctx, name)
}

// RemoveXattrFile implements fremovexattr(2).
func RemoveXattrFile(ctx Ctx, f *File, name string) error {
	x, err := fileTarget(ctx, f)
	if err != nil {
		return err
	}
	return x.remove(ctx, name)
}

// Linux: fs/xattr.c (vfs_removexattr)
func (x xattrTarget) remove(ctx Ctx, name string) error {
	if x.ro {
		return unix.EROFS
	}
	if err := xattrPermission(ctx, &x.st, name, MayWrite); err != nil {
		return err
	}
	xa, ok := x.xattrer()
	if !ok {
		return unix.EOPNOTSUPP
	}
	if err := xattrName(name); err != nil {
		return err
	}
	return xa.RemoveXattr(ctx, name)
}

// ListXattr implements listxattr(2) and llistxattr(2) on a resolved
// path: the names, each followed by a NUL. A file system without
// attributes lists none. Linux: fs/xattr.c (vfs_listxattr)
func ListXattr(ctx Ctx, p Path) ([]byte, error) {
	return listXattr(ctx, p.Inode())
}

// ListXattrFile implements flistxattr(2).
func ListXattrFile(ctx Ctx, f *File) ([]byte, error) {
	if f.Path().Dentry == nil {
		return nil, nil
	}
	return listXattr(ctx, f.Path().Inode())
}

func listXattr(ctx Ctx, in Inode) ([]byte, error) {
	xa, ok := in.(Xattrer)
	if !ok {
		return nil, nil
	}
	names, err := xa.ListXattr(ctx)
	if err != nil {
		return nil, err
	}
	var b []byte
	for _, n := range names {
		b = append(append(b, n...), 0)
	}
	return b, nil
}
