package tmpfs

import (
	"golang.org/x/sys/unix"

	"glassbox/internal/vfs"
)

// Rename implements vfs.Renamer. Linux: mm/shmem.c (shmem_rename2,
// shmem_exchange), fs/namei.c (vfs_rename)
func (d *Dir) Rename(ctx vfs.Ctx, oldName string, newDir vfs.Inode, newName string, flags int) error {
	nd, ok := newDir.(*Dir)
	if !ok || nd.fs != d.fs {
		return unix.EXDEV
	}
	fs := d.fs
	fs.mu.Lock()
	defer fs.mu.Unlock()
	oe := d.entries[oldName]
	if oe == nil {
		if _, err := d.lowerLookup(ctx, oldName); err == nil {
			return unix.EXDEV // lower names are read-only; mv copies them
		}
		return unix.ENOENT
	}
	if d.removed || nd.removed {
		return unix.ENOENT
	}
	src := oe.in
	srcDir, isDir := src.(*Dir)
	ne := nd.entries[newName]
	if ne != nil && ne.in == src {
		return nil
	}
	var lower vfs.Inode
	if ne == nil {
		lower, _ = nd.lowerLookup(ctx, newName)
	}
	exists := ne != nil || lower != nil
	if flags&unix.RENAME_NOREPLACE != 0 && exists {
		return unix.EEXIST
	}
	if isDir && isAncestorDir(srcDir, nd) {
		return unix.EINVAL
	}
	if flags&unix.RENAME_EXCHANGE != 0 {
		switch {
		case lower != nil:
			return unix.EXDEV
		case ne == nil:
			return unix.ENOENT
		}
		if tgtDir, ok := ne.in.(*Dir); ok && isAncestorDir(tgtDir, d) {
			return unix.EINVAL
		}
		return d.exchange(oldName, nd, newName)
	}
	if exists {
		if err := checkReplace(ctx, isDir, ne, lower); err != nil {
			return err
		}
	}
	if ne != nil {
		nd.drop(newName)
		unlinkInode(ne.in)
	}
	if lower != nil {
		fs.whiteout[newName] = true
	}
	d.drop(oldName)
	nd.insert(newName, src)
	src.base().changed()
	return nil
}

// checkReplace checks that a rename may replace the target (a tmpfs entry
// or a lower inode). Callers hold fs.mu.
func checkReplace(ctx vfs.Ctx, isDir bool, ne *entry, lower vfs.Inode) error {
	var tgtIsDir, empty bool
	if ne != nil {
		tgt, ok := ne.in.(*Dir)
		tgtIsDir, empty = ok, ok && len(tgt.entries) == 0
	} else {
		st, err := lower.Stat()
		if err != nil {
			return err
		}
		if tgtIsDir = st.IsDir(); tgtIsDir {
			ld, ok := lower.(vfs.Dir)
			if !ok {
				return unix.ENOTDIR
			}
			ents, err := ld.ReadDir(ctx)
			empty = err == nil && len(ents) == 0
		}
	}
	switch {
	case isDir && !tgtIsDir:
		return unix.ENOTDIR
	case !isDir && tgtIsDir:
		return unix.EISDIR
	case tgtIsDir && !empty:
		return unix.ENOTEMPTY
	}
	return nil
}

// exchange swaps two names (RENAME_EXCHANGE). Callers hold fs.mu.
func (d *Dir) exchange(oldName string, nd *Dir, newName string) error {
	oe, ne := d.entries[oldName], nd.entries[newName]
	a, b := oe.in, ne.in
	oe.in, ne.in = b, a
	if d != nd {
		// A directory changing parents moves one link between them.
		fix := func(in inode, from, to *Dir) {
			if sub, ok := in.(*Dir); ok {
				sub.parent = to
				from.mu.Lock()
				from.nlink--
				from.mu.Unlock()
				to.mu.Lock()
				to.nlink++
				to.mu.Unlock()
			}
		}
		fix(a, d, nd)
		fix(b, nd, d)
	}
	d.touch()
	nd.touch()
	a.base().changed()
	b.base().changed()
	return nil
}

// isAncestorDir reports whether a is d or above it. Callers hold fs.mu.
func isAncestorDir(a, d *Dir) bool {
	for x := d; x != nil; x = x.parent {
		if x == a {
			return true
		}
	}
	return false
}
