package syscalls

import (
	"golang.org/x/sys/unix"

	"glassbox/internal/kernel"
)

// Calls whose answer follows from what glassbox does not have (extended
// attributes, advisory caching hints).
func init() {
	// No file system glassbox serves has extended attributes.
	// Linux: fs/xattr.c — ENODATA when the name is absent.
	noXattr := func(t *kernel.Task, a kernel.Args) (uint64, error) { return 0, unix.ENODATA }
	for _, nr := range []int{unix.SYS_GETXATTR, unix.SYS_LGETXATTR, unix.SYS_FGETXATTR} {
		reg(nr, noXattr, "no extended attributes")
	}
	for _, nr := range []int{unix.SYS_LISTXATTR, unix.SYS_LLISTXATTR, unix.SYS_FLISTXATTR} {
		reg(nr, func(t *kernel.Task, a kernel.Args) (uint64, error) { return 0, nil }, "no extended attributes")
	}
	for _, nr := range []int{unix.SYS_SETXATTR, unix.SYS_LSETXATTR, unix.SYS_FSETXATTR,
		unix.SYS_REMOVEXATTR, unix.SYS_LREMOVEXATTR, unix.SYS_FREMOVEXATTR} {
		reg(nr, func(t *kernel.Task, a kernel.Args) (uint64, error) { return 0, unix.ENOTSUP }, "no extended attributes")
	}
	reg(unix.SYS_FADVISE64, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		f, err := getFile(t, a.Int(0))
		if err != nil {
			return 0, err
		}
		f.DecRef()
		if a[3] > 5 {
			return 0, unix.EINVAL
		}
		return 0, nil
	}, "advice ignored")
}
