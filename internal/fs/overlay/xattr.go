package overlay

import (
	"golang.org/x/sys/unix"

	"glassbox/internal/vfs"
)

// Extended attributes: read from the layer holding the object now; a
// change copies the object up first (copy-up takes the lower's attributes
// along). Linux: fs/overlayfs/xattrs.c (ovl_xattr_get, ovl_xattr_set)

// GetXattr implements vfs.Xattrer.
func (n *node) GetXattr(ctx vfs.Ctx, name string) ([]byte, error) {
	xa, ok := n.real().(vfs.Xattrer)
	if !ok {
		return nil, unix.EOPNOTSUPP
	}
	return xa.GetXattr(ctx, name)
}

// ListXattr implements vfs.Xattrer.
func (n *node) ListXattr(ctx vfs.Ctx) ([]string, error) {
	xa, ok := n.real().(vfs.Xattrer)
	if !ok {
		return nil, nil
	}
	return xa.ListXattr(ctx)
}

// SetXattr implements vfs.Xattrer.
func (n *node) SetXattr(ctx vfs.Ctx, name string, value []byte, flags int) error {
	xa, err := n.upperXattrs(ctx)
	if err != nil {
		return err
	}
	return xa.SetXattr(ctx, name, value, flags)
}

// RemoveXattr implements vfs.Xattrer. Removing what the object does not
// have copies nothing up. Linux: fs/overlayfs/xattrs.c (ovl_xattr_set)
func (n *node) RemoveXattr(ctx vfs.Ctx, name string) error {
	if n.up() == nil {
		if _, err := n.GetXattr(ctx, name); err == unix.ENODATA {
			return err
		}
	}
	xa, err := n.upperXattrs(ctx)
	if err != nil {
		return err
	}
	return xa.RemoveXattr(ctx, name)
}

func (n *node) upperXattrs(ctx vfs.Ctx) (vfs.Xattrer, error) {
	if err := n.fs.copyUp(ctx, n, -1); err != nil {
		return nil, err
	}
	xa, ok := n.up().(vfs.Xattrer)
	if !ok {
		return nil, unix.EOPNOTSUPP
	}
	return xa, nil
}

// copyXattrs gives the new upper object u the lower's attributes; those
// the upper does not keep are left behind. The copy is the file system's
// own act, made with the mounter's (root's) rights whoever caused it, so
// trusted attributes go along too.
// Linux: fs/overlayfs/copy_up.c (ovl_copy_xattr)
func copyXattrs(ctx vfs.Ctx, lower, u vfs.Inode) error {
	ctx = mounterCtx{ctx}
	from, ok1 := lower.(vfs.Xattrer)
	to, ok2 := u.(vfs.Xattrer)
	if !ok1 || !ok2 {
		return nil
	}
	names, err := from.ListXattr(ctx)
	if err != nil {
		if err == unix.EOPNOTSUPP {
			return nil
		}
		return err
	}
	for _, name := range names {
		v, err := from.GetXattr(ctx, name)
		if err == unix.ENODATA {
			continue
		}
		if err != nil {
			return err
		}
		if err := to.SetXattr(ctx, name, v, 0); err != nil && err != unix.EOPNOTSUPP {
			return err
		}
	}
	return nil
}

// mounterCtx runs a layer operation with root's credentials.
// Linux: fs/overlayfs/util.c (ovl_override_creds)
type mounterCtx struct{ vfs.Ctx }

func (mounterCtx) Creds() *vfs.Creds { return vfs.RootCreds() }
