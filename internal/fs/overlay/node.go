package overlay

import (
	"sync/atomic"

	"golang.org/x/sys/unix"

	"glassbox/internal/vfs"
)

type kind uint8

const (
	kindFile kind = iota // regular files and special files
	kindDir
	kindLink
)

func kindOf(in vfs.Inode) kind {
	switch in.(type) {
	case vfs.Dir:
		return kindDir
	case vfs.Symlink:
		return kindLink
	}
	return kindFile
}

// node is one overlay object.
type node struct {
	fs   *FS
	ino  uint64
	kind kind
	// lower is the object in the lower layer: for a directory, the lower
	// directory merged beneath it (nil when it has none or is opaque); for
	// anything else, the object a copy-up started from. Never changes.
	lower vfs.Inode
	// upper is the object in the upper layer once there is one.
	upper atomic.Pointer[upperRef]

	// guarded by fs.mu
	parent    *node // nil for the root
	name      string
	dead      bool             // removed from its parent
	gen       uint64           // bumped by every change to this directory's names
	children  map[string]*node // every name looked up or made here
	whiteouts map[string]bool  // lower names removed from this directory
}

type upperRef struct{ in vfs.Inode }

// up returns the upper object, or nil.
func (n *node) up() vfs.Inode {
	if r := n.upper.Load(); r != nil {
		return r.in
	}
	return nil
}

// real returns the layer object that holds n now.
func (n *node) real() vfs.Inode {
	if u := n.up(); u != nil {
		return u
	}
	return n.lower
}

// dirNode, fileNode and linkNode give each type its interfaces.
type dirNode struct{ *node }
type fileNode struct{ *node }
type linkNode struct{ *node }

func (n *node) wrap() vfs.Inode {
	switch n.kind {
	case kindDir:
		return dirNode{n}
	case kindLink:
		return linkNode{n}
	}
	return fileNode{n}
}

// unwrap returns the node behind an overlay inode, or nil.
func unwrap(in vfs.Inode) *node {
	switch x := in.(type) {
	case dirNode:
		return x.node
	case fileNode:
		return x.node
	case linkNode:
		return x.node
	}
	return nil
}

// Stat implements vfs.Inode: the attributes of the layer holding the
// object, with the overlay's device and inode numbers. A merged directory
// reports one link. Linux: fs/overlayfs/inode.c (ovl_getattr)
func (n *node) Stat() (vfs.Stat, error) {
	real := n.real()
	if real == nil {
		return vfs.Stat{}, unix.ENOENT
	}
	st, err := real.Stat()
	if err != nil {
		return st, err
	}
	st.Dev, st.Ino = n.fs.dev, n.ino
	if n.kind == kindDir && n.lower != nil && n.up() != nil {
		st.Nlink = 1
	}
	return st, nil
}

// SetAttr implements vfs.Setattrer: copy up, then change the upper. A
// truncation copies only the data it keeps.
// Linux: fs/overlayfs/inode.c (ovl_setattr)
func (n *node) SetAttr(ctx vfs.Ctx, a *vfs.Attr) error {
	limit := int64(-1)
	if a.Valid&vfs.AttrSize != 0 {
		limit = a.Size
	}
	if err := n.fs.copyUp(ctx, n, limit); err != nil {
		return err
	}
	s, ok := n.up().(vfs.Setattrer)
	if !ok {
		return unix.EPERM
	}
	return s.SetAttr(ctx, a)
}

// StatFS implements vfs.StatFSer.
func (n *node) StatFS() (unix.Statfs_t, error) { return n.fs.statfs() }

// Readlink implements vfs.Symlink.
func (l linkNode) Readlink(ctx vfs.Ctx) (string, error) {
	sl, ok := l.real().(vfs.Symlink)
	if !ok {
		return "", unix.EINVAL
	}
	return sl.Readlink(ctx)
}

// Allocate implements vfs.Allocator.
func (f fileNode) Allocate(ctx vfs.Ctx, mode int, off, length int64) error {
	if err := f.fs.copyUp(ctx, f.node, -1); err != nil {
		return err
	}
	al, ok := f.up().(vfs.Allocator)
	if !ok {
		return unix.EOPNOTSUPP
	}
	return al.Allocate(ctx, mode, off, length)
}

// Lookup implements vfs.Dir.
func (d dirNode) Lookup(ctx vfs.Ctx, name string) (vfs.Inode, error) {
	c, err := d.child(ctx, name)
	if err != nil {
		return nil, err
	}
	return c.wrap(), nil
}

// child returns the node for name in d, resolving and caching it on first
// use. The layers are asked without fs.mu held; a change to d meanwhile
// (its gen moved) makes the answer stale, and the lookup starts again.
func (d *node) child(ctx vfs.Ctx, name string) (*node, error) {
	fs := d.fs
	for {
		fs.mu.RLock()
		c, dead, gen, hidden := d.children[name], d.dead, d.gen, d.whiteouts[name]
		fs.mu.RUnlock()
		switch {
		case c != nil:
			return c, nil
		case dead:
			return nil, unix.ENOENT
		}
		r, err := d.resolve(ctx, name, hidden)
		fs.mu.Lock()
		if d.gen != gen {
			fs.mu.Unlock()
			continue
		}
		if err == nil {
			if c = d.children[name]; c == nil {
				c = fs.newNodeLocked(d, name, r)
			}
		}
		fs.mu.Unlock()
		return c, err
	}
}

// identified is a layer's inode that knows its (dev, ino) without asking
// anything (hostfs: what its Lookup found, which its Stat re-checks):
// resolve needs no more than that of a lower object, and a host file
// system would otherwise make one more host call per name looked up.
type identified interface {
	Identity() (dev, ino uint64)
}

// resolved is what the layers hold under one name (of the lower one's
// Stat, only Dev and Ino are filled in and used).
type resolved struct {
	up, low     vfs.Inode
	upSt, lowSt vfs.Stat
}

// resolve looks name up in d's layers: the upper first; the lower when
// the upper has no such name (unless a whiteout hides it), or beneath an
// upper directory when the lower name is a directory too (merged).
// Linux: fs/overlayfs/namei.c (ovl_lookup)
func (d *node) resolve(ctx vfs.Ctx, name string, hidden bool) (resolved, error) {
	var r resolved
	if up, ok := d.up().(vfs.Dir); ok {
		in, err := up.Lookup(ctx, name)
		switch {
		case err == nil:
			if r.upSt, err = in.Stat(); err != nil {
				return r, err
			}
			r.up = in
		case err != unix.ENOENT:
			return r, err
		}
	}
	low, ok := d.lower.(vfs.Dir)
	switch {
	case r.up != nil && (kindOf(r.up) != kindDir || !ok || hidden):
		return r, nil
	case r.up == nil && (!ok || hidden):
		return r, unix.ENOENT
	}
	in, err := low.Lookup(ctx, name)
	if err != nil {
		if r.up != nil && err == unix.ENOENT {
			return r, nil
		}
		return r, err
	}
	if r.up != nil && kindOf(in) != kindDir {
		return r, nil // an upper directory over a lower non-directory hides it
	}
	if id, ok := in.(identified); ok {
		r.lowSt.Dev, r.lowSt.Ino = id.Identity()
	} else if r.lowSt, err = in.Stat(); err != nil {
		return r, err
	}
	r.low = in
	return r, nil
}

// newNodeLocked makes and caches the node for a resolved name. Callers
// hold fs.mu for writing.
func (fs *FS) newNodeLocked(parent *node, name string, r resolved) *node {
	real := r.up
	if real == nil {
		real = r.low
	}
	n := &node{fs: fs, kind: kindOf(real), lower: r.low, parent: parent, name: name}
	switch {
	case r.up == nil:
		n.ino = fs.lowerInoLocked(r.lowSt.Dev, r.lowSt.Ino)
	case r.low != nil:
		if i, ok := fs.upperInos[r.upSt.Ino]; ok {
			n.ino = i
		} else {
			n.ino = fs.lowerInoLocked(r.lowSt.Dev, r.lowSt.Ino)
			fs.upperInos[r.upSt.Ino] = n.ino
		}
	default:
		n.ino = fs.upperInoLocked(r.upSt.Ino)
	}
	if r.up != nil {
		n.upper.Store(&upperRef{r.up})
	}
	parent.addChildLocked(name, n)
	return n
}

func (d *node) addChildLocked(name string, c *node) {
	if d.children == nil {
		d.children = map[string]*node{}
	}
	d.children[name] = c
}
