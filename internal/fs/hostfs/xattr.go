package hostfs

import (
	"strings"

	"golang.org/x/sys/unix"

	"glassbox/internal/vfs"
)

// Extended attributes are the host's: every call names the inode's own
// O_PATH descriptor through /proc/self/fd (a magic link lands on exactly
// that inode and does not follow a symlink it holds), so no host path is
// resolved. Changes reach the host only on a writable file system; the vfs
// has checked the guest's rights.

// GetXattr implements vfs.Xattrer.
func (in *inode) GetXattr(ctx vfs.Ctx, name string) ([]byte, error) {
	var v []byte
	err := in.withFD(func(fd int) error {
		for {
			n, err := unix.Getxattr(procFD(fd), name, nil)
			if err != nil {
				return err
			}
			v = make([]byte, n)
			if n == 0 {
				return nil
			}
			n, err = unix.Getxattr(procFD(fd), name, v)
			if err == unix.ERANGE {
				continue // grew meanwhile
			}
			v = v[:n]
			return err
		}
	})
	return v, err
}

// ListXattr implements vfs.Xattrer; trusted names only for a caller with
// CAP_SYS_ADMIN.
func (in *inode) ListXattr(ctx vfs.Ctx) ([]string, error) {
	var names []string
	err := in.withFD(func(fd int) error {
		for {
			n, err := unix.Listxattr(procFD(fd), nil)
			if err != nil || n == 0 {
				return err
			}
			b := make([]byte, n)
			n, err = unix.Listxattr(procFD(fd), b)
			if err == unix.ERANGE {
				continue
			}
			if err != nil {
				return err
			}
			trusted := vfs.XattrCapable(ctx.Creds())
			for _, s := range strings.Split(string(b[:n]), "\x00") {
				if s != "" && (trusted || !strings.HasPrefix(s, vfs.XattrTrusted)) {
					names = append(names, s)
				}
			}
			return nil
		}
	})
	return names, err
}

// SetXattr implements vfs.Xattrer.
func (in *inode) SetXattr(ctx vfs.Ctx, name string, value []byte, flags int) error {
	if in.fs.readOnly {
		return unix.EROFS
	}
	return in.withFD(func(fd int) error { return unix.Setxattr(procFD(fd), name, value, flags) })
}

// RemoveXattr implements vfs.Xattrer.
func (in *inode) RemoveXattr(ctx vfs.Ctx, name string) error {
	if in.fs.readOnly {
		return unix.EROFS
	}
	return in.withFD(func(fd int) error { return unix.Removexattr(procFD(fd), name) })
}
