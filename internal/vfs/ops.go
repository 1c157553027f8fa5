package vfs

import (
	"golang.org/x/sys/unix"
	"sync/atomic"
)

// Optional inode abilities for the operations in this file. The vfs checks
// what the path, the mounts and the permission bits decide; the file system
// checks, under its own locks, what only it knows for sure (EEXIST, ENOENT,
// ENOTEMPTY, the types of what it removes or replaces, directory loops).
// A directory without the ability cannot do that operation: EROFS, as
// open.go answers for a directory that is not a Creator. (Linux answers
// EPERM for file systems without the inode operation, e.g. procfs; here
// the directories that lack them are read-only host directories and
// made-up trees.)

// Mkdirer is a directory in which directories can be made.
type Mkdirer interface {
	// Mkdir makes directory name; mode has the permission and sticky bits.
	Mkdir(ctx Ctx, name string, mode uint32) error
}

// Mknoder is a directory in which special files can be made; mode has the
// type bits (S_IFREG, S_IFIFO, ...) and the permission bits.
type Mknoder interface {
	Mknod(ctx Ctx, name string, mode uint32, dev uint64) error
}

// Symlinker is a directory in which symlinks can be made.
type Symlinker interface {
	Symlink(ctx Ctx, name, target string) error
}

// Linker is a directory that can hold another name for an inode. Link
// answers EXDEV when target belongs to another file system.
type Linker interface {
	Link(ctx Ctx, name string, target Inode) error
}

// Unlinker is a directory whose names can be removed. Unlink removes a
// non-directory (EISDIR otherwise), Rmdir an empty directory (ENOTDIR,
// ENOTEMPTY).
type Unlinker interface {
	Unlink(ctx Ctx, name string) error
	Rmdir(ctx Ctx, name string) error
}

// Renamer is a directory whose names can be moved, to itself or to newDir
// (EXDEV if newDir belongs to another file system). flags are
// RENAME_NOREPLACE and RENAME_EXCHANGE.
type Renamer interface {
	Rename(ctx Ctx, oldName string, newDir Inode, newName string, flags int) error
}

// Setattrer is an inode whose attributes can change. The file system sets
// ctime to the current time with every change it applies.
type Setattrer interface {
	SetAttr(ctx Ctx, a *Attr) error
}

// Allocator is a regular file that answers fallocate (EOPNOTSUPP for modes
// it lacks).
type Allocator interface {
	Allocate(ctx Ctx, mode int, off, length int64) error
}

// StatFSer is an inode that reports its file system's statfs numbers.
type StatFSer interface {
	StatFS() (unix.Statfs_t, error)
}

// Attr.Valid bits. Linux: include/linux/fs.h (ATTR_*)
const (
	AttrMode     = 1 << iota // set the permission bits to Mode
	AttrUID                  // set the owner to UID
	AttrGID                  // set the group to GID
	AttrSize                 // truncate or extend to Size
	AttrAtime                // set atime to Atime
	AttrMtime                // set mtime to Mtime
	AttrAtimeNow             // set atime to the current time
	AttrMtimeNow             // set mtime to the current time
)

// Attr is a change of attributes (Linux's struct iattr).
type Attr struct {
	Valid        int
	Mode         uint32 // 07777 bits
	UID, GID     uint32
	Size         int64
	Atime, Mtime unix.Timespec
}

func readOnly(p Path) bool { return p.Mount.Flags&unix.MS_RDONLY != 0 }

// isOwner is inode_owner_or_capable: the owner, or CAP_FOWNER over the file.
func isOwner(c *Creds, st *Stat) bool {
	return c.FSUID == st.UID || c.CapableWrt(unix.CAP_FOWNER, st.UID, st.GID)
}

// IsOwner is isOwner for other packages (O_NOATIME, fcntl).
func IsOwner(c *Creds, st *Stat) bool { return isOwner(c, st) }

// dentryBusy reports whether something is mounted on d in the mount
// table of at (a mount in another namespace does not pin the name).
func dentryBusy(at *Mount, d *Dentry) bool {
	if at != nil && at.ns != nil {
		n := at.ns
		n.mu.RLock()
		defer n.mu.RUnlock()
		return len(n.mounts[d]) > 0
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.mounts > 0
}

// sameInode compares inodes without panicking on uncomparable types.
func sameInode(a, b Inode) (same bool) {
	defer func() {
		if recover() != nil {
			same = false
		}
	}()
	return a == b
}

// isAncestor reports whether a is d or one of d's ancestors in d's file
// system.
func isAncestor(a, d *Dentry) bool {
	for x := d; x != nil; x = x.parent {
		if x == a || sameInode(x.inode, a.inode) {
			return true
		}
	}
	return false
}

// mayDelete checks that victim may be removed from dir.
// Linux: fs/namei.c (may_delete, check_sticky)
func mayDelete(ctx Ctx, dir Path, victim *Dentry, vst *Stat, isDir bool) error {
	dst, err := dir.Inode().Stat()
	if err != nil {
		return err
	}
	c := ctx.Creds()
	if err := CheckMode(c, &dst, MayWrite|MayExec); err != nil {
		return err
	}
	if dst.Mode&unix.S_ISVTX != 0 && c.FSUID != vst.UID && c.FSUID != dst.UID &&
		!c.CapableWrt(unix.CAP_FOWNER, vst.UID, vst.GID) {
		return unix.EPERM
	}
	if isDir && !vst.IsDir() {
		return unix.ENOTDIR
	}
	if !isDir && vst.IsDir() {
		return unix.EISDIR
	}
	if dentryBusy(dir.Mount, victim) {
		return unix.EBUSY
	}
	return nil
}

// createAt resolves the parent of a name about to be made.
// Linux: fs/namei.c (filename_create): EEXIST, then ENOENT for a trailing
// slash on a non-directory, then EROFS.
func (n *Namespace) createAt(ctx Ctx, root, start Path, path string, isDir bool) (Path, string, error) {
	parent, name, trailing, err := n.WalkParent(ctx, root, start, path)
	if err != nil {
		return Path{}, "", err
	}
	if name == "" || name == "." || name == ".." {
		return Path{}, "", unix.EEXIST
	}
	if DeadDir(parent) {
		return Path{}, "", unix.ENOENT // Linux: fs/namei.c (lookup_one_qstr_excl: IS_DEADDIR)
	}
	if _, err := parent.Dentry.child(ctx, name); err == nil {
		return Path{}, "", unix.EEXIST
	} else if err != unix.ENOENT {
		return Path{}, "", err
	}
	if trailing && !isDir {
		return Path{}, "", unix.ENOENT
	}
	if readOnly(parent) {
		return Path{}, "", unix.EROFS
	}
	return parent, name, nil
}

// DeadDir reports whether p is a directory that was removed: nothing is
// created in it, and it lists nothing.
func DeadDir(p Path) bool {
	if p.Dentry == nil || !p.Dentry.Deleted() {
		return false
	}
	st, err := p.Inode().Stat()
	return err == nil && st.IsDir() && st.Nlink == 0
}

// Mkdir implements mkdir(2); mode is already masked by the umask.
func (n *Namespace) Mkdir(ctx Ctx, root, start Path, path string, mode uint32) error {
	parent, name, err := n.createAt(ctx, root, start, path, true)
	if err != nil {
		return err
	}
	if err := MayAccess(ctx, parent.Inode(), MayWrite|MayExec); err != nil {
		return err
	}
	mk, ok := parent.Inode().(Mkdirer)
	if !ok {
		return unix.EROFS
	}
	return changed(parent, name, mk.Mkdir(ctx, name, mode&(0o777|unix.S_ISVTX)), unix.IN_CREATE|unix.IN_ISDIR)
}

// Mknod implements mknod(2); mode holds the type and the permission bits
// (already masked by the umask). Linux: fs/namei.c (may_mknod, vfs_mknod)
func (n *Namespace) Mknod(ctx Ctx, root, start Path, path string, mode uint32, dev uint64) error {
	switch mode & unix.S_IFMT {
	case 0:
		mode |= unix.S_IFREG
	case unix.S_IFREG, unix.S_IFCHR, unix.S_IFBLK, unix.S_IFIFO, unix.S_IFSOCK:
	case unix.S_IFDIR:
		return unix.EPERM
	default:
		return unix.EINVAL
	}
	parent, name, err := n.createAt(ctx, root, start, path, false)
	if err != nil {
		return err
	}
	if err := MayAccess(ctx, parent.Inode(), MayWrite|MayExec); err != nil {
		return err
	}
	typ := mode & unix.S_IFMT
	if (typ == unix.S_IFCHR || typ == unix.S_IFBLK) && !ctx.Creds().Capable(unix.CAP_MKNOD) {
		return unix.EPERM // CAP_MKNOD in the initial user namespace
	}
	defer func() {
		parent.Dentry.Forget(name)
		notifyChild(parent, name, nil, unix.IN_CREATE)
	}()
	if mk, ok := parent.Inode().(Mknoder); ok {
		return mk.Mknod(ctx, name, mode&(unix.S_IFMT|0o7777), dev)
	}
	if cr, ok := parent.Inode().(Creator); ok && typ == unix.S_IFREG {
		_, err := cr.Create(ctx, name, mode&0o7777)
		return err
	}
	return unix.EROFS
}

// Symlink implements symlink(2).
func (n *Namespace) Symlink(ctx Ctx, root, start Path, path, target string) error {
	if target == "" {
		return unix.ENOENT
	}
	parent, name, err := n.createAt(ctx, root, start, path, false)
	if err != nil {
		return err
	}
	if err := MayAccess(ctx, parent.Inode(), MayWrite|MayExec); err != nil {
		return err
	}
	sl, ok := parent.Inode().(Symlinker)
	if !ok {
		return unix.EROFS
	}
	return changed(parent, name, sl.Symlink(ctx, name, target), unix.IN_CREATE)
}

// Link implements link(2): old is the existing file, already resolved.
// Linux: fs/namei.c (do_linkat, may_linkat, vfs_link)
func (n *Namespace) Link(ctx Ctx, old Path, root, start Path, path string) error {
	parent, name, err := n.createAt(ctx, root, start, path, false)
	if err != nil {
		return err
	}
	if parent.Mount != old.Mount {
		return unix.EXDEV
	}
	st, err := old.Inode().Stat()
	if err != nil {
		return err
	}
	c := ctx.Creds()
	if !isOwner(c, &st) {
		// fs.protected_hardlinks: only safe files may be linked by others.
		if st.Type() != unix.S_IFREG || st.Mode&unix.S_ISUID != 0 ||
			st.Mode&(unix.S_ISGID|unix.S_IXGRP) == unix.S_ISGID|unix.S_IXGRP ||
			CheckMode(c, &st, MayRead|MayWrite) != nil {
			return unix.EPERM
		}
	}
	if err := MayAccess(ctx, parent.Inode(), MayWrite|MayExec); err != nil {
		return err
	}
	if st.IsDir() {
		return unix.EPERM
	}
	l, ok := parent.Inode().(Linker)
	if !ok {
		return unix.EROFS
	}
	return changed(parent, name, l.Link(ctx, name, old.Inode()), unix.IN_CREATE)
}

// Unlink implements unlink(2). Linux: fs/namei.c (do_unlinkat)
func (n *Namespace) Unlink(ctx Ctx, root, start Path, path string) error {
	parent, name, trailing, err := n.WalkParent(ctx, root, start, path)
	if err != nil {
		return err
	}
	if name == "" || name == "." || name == ".." {
		return unix.EISDIR
	}
	if readOnly(parent) {
		return unix.EROFS
	}
	d, err := parent.Dentry.child(ctx, name)
	if err != nil {
		return err
	}
	st, err := d.inode.Stat()
	if err != nil {
		return err
	}
	if trailing {
		if st.IsDir() {
			return unix.EISDIR
		}
		return unix.ENOTDIR
	}
	if err := mayDelete(ctx, parent, d, &st, false); err != nil {
		return err
	}
	u, ok := parent.Inode().(Unlinker)
	if !ok {
		return unix.EROFS
	}
	err = u.Unlink(ctx, name)
	if err == nil {
		removedLink(&st) // the object hears first. Linux: fs/namei.c (vfs_unlink)
	}
	return changed(parent, name, err, unix.IN_DELETE)
}

// Rmdir implements rmdir(2). Linux: fs/namei.c (do_rmdir)
func (n *Namespace) Rmdir(ctx Ctx, root, start Path, path string) error {
	parent, name, _, err := n.WalkParent(ctx, root, start, path)
	if err != nil {
		return err
	}
	switch name {
	case ".":
		return unix.EINVAL
	case "..":
		return unix.ENOTEMPTY
	case "":
		return unix.EBUSY
	}
	if readOnly(parent) {
		return unix.EROFS
	}
	d, err := parent.Dentry.child(ctx, name)
	if err != nil {
		return err
	}
	st, err := d.inode.Stat()
	if err != nil {
		return err
	}
	if err := mayDelete(ctx, parent, d, &st, true); err != nil {
		return err
	}
	u, ok := parent.Inode().(Unlinker)
	if !ok {
		return unix.EROFS
	}
	err = u.Rmdir(ctx, name)
	if err == nil {
		removedLink(&st)
	}
	return changed(parent, name, err, unix.IN_DELETE|unix.IN_ISDIR)
}

// Rename implements renameat2(2). Linux: fs/namei.c (do_renameat2,
// vfs_rename, lock_rename's "trap")
func (n *Namespace) Rename(ctx Ctx, root, oldStart Path, oldPath string, newStart Path, newPath string, flags int) error {
	const noReplace, exchange = unix.RENAME_NOREPLACE, unix.RENAME_EXCHANGE
	if flags&^(noReplace|exchange|unix.RENAME_WHITEOUT) != 0 || flags&exchange != 0 && flags&^exchange != 0 {
		return unix.EINVAL
	}
	op, on, otrail, err := n.WalkParent(ctx, root, oldStart, oldPath)
	if err != nil {
		return err
	}
	np, nn, ntrail, err := n.WalkParent(ctx, root, newStart, newPath)
	if err != nil {
		return err
	}
	if op.Mount != np.Mount {
		return unix.EXDEV
	}
	if on == "" || on == "." || on == ".." {
		return unix.EBUSY
	}
	if nn == "" || nn == "." || nn == ".." {
		if flags&noReplace != 0 {
			return unix.EEXIST
		}
		return unix.EBUSY
	}
	if readOnly(op) {
		return unix.EROFS
	}
	od, err := op.Dentry.child(ctx, on)
	if err != nil {
		return err
	}
	ost, err := od.inode.Stat()
	if err != nil {
		return err
	}
	nd, err := np.Dentry.child(ctx, nn)
	var nst Stat
	switch {
	case err == nil && flags&noReplace != 0:
		return unix.EEXIST
	case err == nil:
		if nst, err = nd.inode.Stat(); err != nil {
			return err
		}
	case err != unix.ENOENT || flags&exchange != 0:
		return err
	default:
		nd = nil
	}
	if !ost.IsDir() && (otrail || ntrail && flags&exchange == 0) ||
		flags&exchange != 0 && !nst.IsDir() && ntrail {
		return unix.ENOTDIR
	}
	if isAncestor(od, np.Dentry) {
		return unix.EINVAL // a directory into itself
	}
	if nd != nil && isAncestor(nd, op.Dentry) {
		if flags&exchange != 0 {
			return unix.EINVAL
		}
		return unix.ENOTEMPTY
	}
	if nd != nil && sameInode(nd.inode, od.inode) {
		return nil // two names of one inode: nothing to do
	}
	isDir := ost.IsDir()
	if err := mayDelete(ctx, op, od, &ost, isDir); err != nil {
		return err
	}
	if nd == nil {
		err = MayAccess(ctx, np.Inode(), MayWrite|MayExec)
	} else if flags&exchange != 0 {
		err = mayDelete(ctx, np, nd, &nst, nst.IsDir())
	} else {
		err = mayDelete(ctx, np, nd, &nst, isDir)
	}
	if err != nil {
		return err
	}
	if !sameInode(op.Inode(), np.Inode()) {
		// A directory that changes parents rewrites its "..".
		if isDir {
			if err := CheckMode(ctx.Creds(), &ost, MayWrite); err != nil {
				return err
			}
		}
		if flags&exchange != 0 && nst.IsDir() {
			if err := CheckMode(ctx.Creds(), &nst, MayWrite); err != nil {
				return err
			}
		}
	}
	r, ok := op.Inode().(Renamer)
	if !ok {
		return unix.EROFS
	}
	// RENAME_WHITEOUT leaves a whiteout (a character device 0:0) at the
	// old name, on a file system that can make one.
	// Linux: fs/namei.c (vfs_rename), mm/shmem.c (shmem_whiteout)
	mk, canWhiteout := op.Inode().(Mknoder)
	if flags&unix.RENAME_WHITEOUT != 0 && !canWhiteout {
		return unix.EINVAL
	}
	err = r.Rename(ctx, on, np.Inode(), nn, flags&^unix.RENAME_WHITEOUT)
	if err == nil && flags&unix.RENAME_WHITEOUT != 0 {
		err = mk.Mknod(ctx, on, unix.S_IFCHR, 0)
	}
	op.Dentry.Forget(on)
	np.Dentry.Forget(nn)
	if err == nil && watchers.n.Load() > 0 {
		cookie := nextCookie.Add(1)
		notify(op.Inode(), unix.IN_MOVED_FROM, cookie, on)
		notify(np.Inode(), unix.IN_MOVED_TO, cookie, nn)
	}
	return err
}

// nextCookie pairs IN_MOVED_FROM with IN_MOVED_TO.
var nextCookie atomic.Uint32

// changed finishes a namespace change of name in parent: the cached name
// is dropped, and on success inotify watchers hear of it.
func changed(parent Path, name string, err error, mask uint32) error {
	parent.Dentry.Forget(name)
	if err == nil {
		notifyChild(parent, name, nil, mask)
	}
	return err
}
