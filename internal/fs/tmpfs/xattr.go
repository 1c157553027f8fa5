package tmpfs

import (
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"glassbox/internal/vfs"
)

// Extended attributes of every tmpfs inode: the user, trusted and
// security namespaces, as Linux's tmpfs keeps them (the vfs has checked
// the caller's rights). POSIX ACLs are not kept: reading one finds none,
// setting one is EOPNOTSUPP. Linux: mm/shmem.c (shmem_xattr_handlers),
// fs/xattr.c (simple_xattr_set)

// xattrSpace bounds one inode's attributes (names and values), so a guest
// cannot grow glassbox without limit; past it a set is ENOSPC.
const xattrSpace = 2 * vfs.XattrSizeMax

// kept reports whether tmpfs keeps name's namespace; a POSIX ACL name is
// known (so reading it is ENODATA) but not kept.
func kept(name string) (keep, known bool) {
	switch {
	case strings.HasPrefix(name, vfs.XattrUser), strings.HasPrefix(name, vfs.XattrTrusted),
		strings.HasPrefix(name, vfs.XattrSecurity):
		return true, true
	case name == "system.posix_acl_access", name == "system.posix_acl_default":
		return false, true
	}
	return false, false
}

// GetXattr implements vfs.Xattrer.
func (n *node) GetXattr(ctx vfs.Ctx, name string) ([]byte, error) {
	if keep, known := kept(name); !keep {
		if known {
			return nil, unix.ENODATA
		}
		return nil, unix.EOPNOTSUPP
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	v, ok := n.xattrs[name]
	if !ok {
		return nil, unix.ENODATA
	}
	return slices.Clone(v), nil
}

// SetXattr implements vfs.Xattrer; a set changes ctime.
func (n *node) SetXattr(ctx vfs.Ctx, name string, value []byte, flags int) error {
	if keep, _ := kept(name); !keep {
		return unix.EOPNOTSUPP
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	old, ok := n.xattrs[name]
	switch {
	case ok && flags&unix.XATTR_CREATE != 0:
		return unix.EEXIST
	case !ok && flags&unix.XATTR_REPLACE != 0:
		return unix.ENODATA
	}
	used := n.xattrUsed + len(value) - len(old)
	if !ok {
		used += len(name)
	}
	if used > xattrSpace {
		return unix.ENOSPC
	}
	if n.xattrs == nil {
		n.xattrs = map[string][]byte{}
	}
	n.xattrs[name] = slices.Clone(value)
	n.xattrUsed = used
	n.ctime = now()
	return nil
}

// RemoveXattr implements vfs.Xattrer.
func (n *node) RemoveXattr(ctx vfs.Ctx, name string) error {
	if keep, _ := kept(name); !keep {
		return unix.EOPNOTSUPP
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	v, ok := n.xattrs[name]
	if !ok {
		return unix.ENODATA
	}
	delete(n.xattrs, name)
	n.xattrUsed -= len(name) + len(v)
	n.ctime = now()
	return nil
}

// ListXattr implements vfs.Xattrer: the names in order, trusted ones only
// for a caller with CAP_SYS_ADMIN. Linux: fs/xattr.c (simple_xattr_list)
func (n *node) ListXattr(ctx vfs.Ctx) ([]string, error) {
	trusted := vfs.XattrCapable(ctx.Creds())
	n.mu.Lock()
	defer n.mu.Unlock()
	names := make([]string, 0, len(n.xattrs))
	for k := range n.xattrs {
		if trusted || !strings.HasPrefix(k, vfs.XattrTrusted) {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	return names, nil
}
