package overlay

import (
	"golang.org/x/sys/unix"

	"glassbox/internal/vfs"
)

// Rename implements vfs.Renamer. Files of either layer move (copied up
// first); a directory that has lower content does not: EXDEV, as overlayfs
// answers without redirect_dir, so mv copies it. A directory that moves is
// upper-only and stays opaque at its new name. The old name becomes a
// whiteout when the lower has it. Linux: fs/overlayfs/dir.c (ovl_rename,
// ovl_can_move)
func (d dirNode) Rename(ctx vfs.Ctx, oldName string, newDir vfs.Inode, newName string, flags int) error {
	nd := unwrap(newDir)
	if nd == nil || nd.fs != d.fs || nd.kind != kindDir {
		return unix.EXDEV
	}
	fs := d.fs
	fs.wmu.Lock()
	defer fs.wmu.Unlock()
	src, err := d.child(ctx, oldName)
	if err != nil {
		return err
	}
	tgt, err := nd.child(ctx, newName)
	switch {
	case err == unix.ENOENT:
		tgt = nil
	case err != nil:
		return err
	}
	exchange := flags&unix.RENAME_EXCHANGE != 0
	switch {
	case tgt == src:
		return nil
	case tgt != nil && flags&unix.RENAME_NOREPLACE != 0:
		return unix.EEXIST
	case tgt == nil && exchange:
		return unix.ENOENT
	case !canMove(src) || exchange && !canMove(tgt):
		return unix.EXDEV
	}
	if tgt != nil && !exchange {
		if err := checkReplace(ctx, src, tgt); err != nil {
			return err
		}
	}
	for _, n := range []*node{d.node, nd, src} {
		if err := fs.copyUpLocked(ctx, n, -1); err != nil {
			return err
		}
	}
	if exchange {
		if err := fs.copyUpLocked(ctx, tgt, -1); err != nil {
			return err
		}
	}
	if tgt != nil && sameInode(tgt.up(), src.up()) {
		return nil // two names of one upper file: nothing to do
	}
	r, ok := d.up().(vfs.Renamer)
	if !ok {
		return unix.EROFS
	}
	if err := r.Rename(ctx, oldName, nd.up(), newName, flags); err != nil {
		return err
	}
	whiteout := !exchange && d.lowerHas(ctx, oldName)
	fs.mu.Lock()
	defer fs.mu.Unlock()
	delete(d.children, oldName)
	if exchange {
		d.addChildLocked(oldName, tgt)
		tgt.parent, tgt.name = d.node, oldName
	} else if tgt != nil {
		tgt.dead = true
		tgt.gen++
	}
	nd.addChildLocked(newName, src)
	src.parent, src.name = nd, newName
	delete(nd.whiteouts, newName)
	if whiteout {
		if d.whiteouts == nil {
			d.whiteouts = map[string]bool{}
		}
		d.whiteouts[oldName] = true
	}
	d.gen++
	nd.gen++
	return nil
}

// canMove reports whether n may be renamed: anything but a directory with
// a lower layer (merged, or lower only).
func canMove(n *node) bool { return n.kind != kindDir || n.lower == nil }

// checkReplace checks that src may replace tgt, in the merged view.
func checkReplace(ctx vfs.Ctx, src, tgt *node) error {
	switch {
	case src.kind == kindDir && tgt.kind != kindDir:
		return unix.ENOTDIR
	case src.kind != kindDir && tgt.kind == kindDir:
		return unix.EISDIR
	case tgt.kind == kindDir:
		ents, err := tgt.readDir(ctx)
		if err != nil {
			return err
		}
		if len(ents) > 0 {
			return unix.ENOTEMPTY
		}
	}
	return nil
}
