package overlay

import (
	"golang.org/x/sys/unix"

	"glassbox/internal/vfs"
)

// Namespace changes in a directory. Each holds fs.wmu, copies the
// directory up (its parents first) and changes the upper; names removed
// from the lower view become whiteouts. Linux: fs/overlayfs/dir.c

// prepCreate checks that name is free in the merged view of d and returns
// d's upper directory. Callers hold fs.wmu.
func (d *node) prepCreate(ctx vfs.Ctx, name string) (vfs.Dir, error) {
	if _, err := d.child(ctx, name); err == nil {
		return nil, unix.EEXIST
	} else if err != unix.ENOENT {
		return nil, err
	}
	if err := d.fs.copyUpLocked(ctx, d, -1); err != nil {
		return nil, err
	}
	up, ok := d.up().(vfs.Dir)
	if !ok {
		return nil, unix.EROFS
	}
	return up, nil
}

// added records the upper object just made as name in d (looking it up
// when in is nil). A new directory hides any lower one of that name
// (opaque: its node has no lower); ino is the number to share (a hard
// link), or 0. Callers hold fs.wmu.
// Linux: fs/overlayfs/dir.c (ovl_create_over_whiteout)
func (d *node) added(ctx vfs.Ctx, up vfs.Dir, name string, in vfs.Inode, ino uint64) (*node, error) {
	var err error
	if in == nil {
		if in, err = up.Lookup(ctx, name); err != nil {
			return nil, err
		}
	}
	st, err := in.Stat()
	if err != nil {
		return nil, err
	}
	fs := d.fs
	fs.mu.Lock()
	defer fs.mu.Unlock()
	delete(d.whiteouts, name)
	d.gen++
	if c := d.children[name]; c != nil && sameInode(c.up(), in) {
		return c, nil // a lookup found the new object first
	}
	c := &node{fs: fs, kind: kindOf(in), parent: d, name: name}
	switch i, ok := fs.upperInos[st.Ino]; {
	case ok:
		c.ino = i
	case ino != 0:
		c.ino = ino
	default:
		c.ino = fs.allocLocked()
	}
	fs.upperInos[st.Ino] = c.ino
	c.upper.Store(&upperRef{in})
	d.addChildLocked(name, c)
	return c, nil
}

// Create implements vfs.Creator.
func (d dirNode) Create(ctx vfs.Ctx, name string, mode uint32) (vfs.Inode, error) {
	d.fs.wmu.Lock()
	defer d.fs.wmu.Unlock()
	up, err := d.prepCreate(ctx, name)
	if err != nil {
		return nil, err
	}
	cr, ok := up.(vfs.Creator)
	if !ok {
		return nil, unix.EROFS
	}
	in, err := cr.Create(ctx, name, mode)
	if err != nil {
		return nil, err
	}
	c, err := d.added(ctx, up, name, in, 0)
	if err != nil {
		return nil, err
	}
	return c.wrap(), nil
}

// Mkdir implements vfs.Mkdirer.
func (d dirNode) Mkdir(ctx vfs.Ctx, name string, mode uint32) error {
	return d.make(ctx, name, func(up vfs.Dir) error {
		mk, ok := up.(vfs.Mkdirer)
		if !ok {
			return unix.EROFS
		}
		return mk.Mkdir(ctx, name, mode)
	})
}

// Mknod implements vfs.Mknoder (what the upper can make).
func (d dirNode) Mknod(ctx vfs.Ctx, name string, mode uint32, dev uint64) error {
	return d.make(ctx, name, func(up vfs.Dir) error {
		if mk, ok := up.(vfs.Mknoder); ok {
			return mk.Mknod(ctx, name, mode, dev)
		}
		if cr, ok := up.(vfs.Creator); ok && mode&unix.S_IFMT == unix.S_IFREG {
			_, err := cr.Create(ctx, name, mode&0o7777)
			return err
		}
		return unix.EPERM
	})
}

// Symlink implements vfs.Symlinker.
func (d dirNode) Symlink(ctx vfs.Ctx, name, target string) error {
	return d.make(ctx, name, func(up vfs.Dir) error {
		sl, ok := up.(vfs.Symlinker)
		if !ok {
			return unix.EROFS
		}
		return sl.Symlink(ctx, name, target)
	})
}

func (d dirNode) make(ctx vfs.Ctx, name string, mk func(up vfs.Dir) error) error {
	d.fs.wmu.Lock()
	defer d.fs.wmu.Unlock()
	up, err := d.prepCreate(ctx, name)
	if err != nil {
		return err
	}
	if err := mk(up); err != nil {
		return err
	}
	_, err = d.added(ctx, up, name, nil, 0)
	return err
}

// Link implements vfs.Linker: the target is copied up first and the new
// name shares its inode number. Linux: fs/overlayfs/dir.c (ovl_link)
func (d dirNode) Link(ctx vfs.Ctx, name string, target vfs.Inode) error {
	t := unwrap(target)
	if t == nil || t.fs != d.fs {
		return unix.EXDEV
	}
	if t.kind == kindDir {
		return unix.EPERM
	}
	fs := d.fs
	fs.wmu.Lock()
	defer fs.wmu.Unlock()
	if _, err := d.prepCreate(ctx, name); err != nil {
		return err
	}
	if err := fs.copyUpLocked(ctx, t, -1); err != nil {
		return err
	}
	up := d.up().(vfs.Dir)
	l, ok := up.(vfs.Linker)
	if !ok {
		return unix.EROFS
	}
	if err := l.Link(ctx, name, t.up()); err != nil {
		return err
	}
	_, err := d.added(ctx, up, name, nil, t.ino)
	return err
}

// Unlink implements vfs.Unlinker.
func (d dirNode) Unlink(ctx vfs.Ctx, name string) error {
	d.fs.wmu.Lock()
	defer d.fs.wmu.Unlock()
	c, err := d.child(ctx, name)
	if err != nil {
		return err
	}
	if c.kind == kindDir {
		return unix.EISDIR
	}
	return d.remove(ctx, name, c)
}

// Rmdir implements vfs.Unlinker: the directory must be empty in the
// merged view (whiteouts don't count). Linux: fs/overlayfs/dir.c
// (ovl_check_empty_dir)
func (d dirNode) Rmdir(ctx vfs.Ctx, name string) error {
	d.fs.wmu.Lock()
	defer d.fs.wmu.Unlock()
	c, err := d.child(ctx, name)
	if err != nil {
		return err
	}
	if c.kind != kindDir {
		return unix.ENOTDIR
	}
	ents, err := c.readDir(ctx)
	if err != nil {
		return err
	}
	if len(ents) > 0 {
		return unix.ENOTEMPTY
	}
	return d.remove(ctx, name, c)
}

// remove takes name (node c) out of d: out of the upper if it is there, and
// out of the lower view with a whiteout if the lower has the name.
// Callers hold fs.wmu. Linux: fs/overlayfs/dir.c (ovl_remove_and_whiteout)
func (d *node) remove(ctx vfs.Ctx, name string, c *node) error {
	fs := d.fs
	if err := fs.copyUpLocked(ctx, d, -1); err != nil {
		return err
	}
	up := d.up().(vfs.Dir)
	if c.up() != nil {
		u, ok := up.(vfs.Unlinker)
		if !ok {
			return unix.EROFS
		}
		var err error
		if c.kind == kindDir {
			err = u.Rmdir(ctx, name)
		} else {
			err = u.Unlink(ctx, name)
		}
		if err != nil {
			return err
		}
	}
	whiteout := d.lowerHas(ctx, name)
	if c.up() == nil {
		// Only a whiteout changes: the directory changes all the same.
		if s, ok := up.(vfs.Setattrer); ok {
			s.SetAttr(ctx, &vfs.Attr{Valid: vfs.AttrMtimeNow})
		}
	}
	fs.mu.Lock()
	if whiteout {
		if d.whiteouts == nil {
			d.whiteouts = map[string]bool{}
		}
		d.whiteouts[name] = true
	}
	delete(d.children, name)
	c.dead = true
	c.gen++ // a lookup in c racing with its removal starts again and fails
	d.gen++
	fs.mu.Unlock()
	return nil
}

// lowerHas reports whether d's lower directory may have name (when in
// doubt it says yes: a needless whiteout hides nothing).
func (d *node) lowerHas(ctx vfs.Ctx, name string) bool {
	low, ok := d.lower.(vfs.Dir)
	if !ok {
		return false
	}
	_, err := low.Lookup(ctx, name)
	return err != unix.ENOENT
}
