package vfs

import (
	"sync"
)

// Dentry is a name for an inode in a directory tree.
type Dentry struct {
	name   string
	parent *Dentry // nil for a file system's root
	inode  Inode

	mu       sync.Mutex
	children map[string]*Dentry
	mounts   int // how many mounts sit on this dentry
	dead     bool
}

// NewRoot returns the root dentry of a file system.
func NewRoot(in Inode) *Dentry { return &Dentry{inode: in} }

// Inode returns the dentry's inode.
func (d *Dentry) Inode() Inode { return d.inode }

// Name returns the dentry's name in its parent.
func (d *Dentry) Name() string { return d.name }

// Parent returns the parent dentry (nil at a file system root).
func (d *Dentry) Parent() *Dentry { return d.parent }

// child returns the cached child name, or looks it up.
func (d *Dentry) child(ctx Ctx, name string) (*Dentry, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if c, ok := d.children[name]; ok {
		return c, nil
	}
	dir, ok := d.inode.(Dir)
	if !ok {
		return nil, errNotDir
	}
	in, err := dir.Lookup(ctx, name)
	if err != nil {
		return nil, err
	}
	c := &Dentry{name: name, parent: d, inode: in}
	if _, ok := d.inode.(Volatile); ok {
		return c, nil
	}
	if d.children == nil {
		d.children = map[string]*Dentry{}
	}
	d.children[name] = c
	return c, nil
}

// Forget drops a cached child (after unlink or rename in the file system).
func (d *Dentry) Forget(name string) {
	d.mu.Lock()
	if c, ok := d.children[name]; ok {
		c.dead = true
		delete(d.children, name)
	}
	d.mu.Unlock()
}

// Volatile is implemented by directories whose children come and go
// behind the vfs' back (/proc): their names are looked up afresh on every
// walk instead of being cached. Nothing can be mounted below them.
type Volatile interface{ Volatile() }

// Mount attaches a file system root at a dentry of another.
type Mount struct {
	root   *Dentry
	parent *Mount     // nil for the root mount
	point  *Dentry    // where it is attached in parent
	ns     *Namespace // the table the mount is in
	// locked: a mount glassbox made (or a copy of one); it may not be
	// unmounted, uncovered by a non-recursive bind, or remounted with
	// fewer restrictions, since what it covers is the host's (/proc, /dev,
	// /sys of the read-only host root). Linux: MNT_LOCKED,
	// MNT_LOCK_READONLY... (fs/namespace.c, lock_mnt_tree)
	locked bool
	Flags  int    // MS_RDONLY, MS_NOSUID...
	Source string // for /proc/mounts
	FSType string
}

// Root returns the mount's root dentry.
func (m *Mount) Root() *Dentry { return m.root }

// Path is a place in the mount tree.
type Path struct {
	Mount  *Mount
	Dentry *Dentry
}

// Inode returns the inode the path names.
func (p Path) Inode() Inode { return p.Dentry.inode }

// Namespace is the tree of mounts one sandbox sees.
type Namespace struct {
	mu     sync.RWMutex
	root   *Mount
	mounts map[*Dentry][]*Mount // mounts stacked on each mountpoint dentry
	all    []*Mount
}

// NewNamespace returns a namespace whose root mount is root.
func NewNamespace(root *Dentry, fstype, source string, flags int) *Namespace {
	m := &Mount{root: root, FSType: fstype, Source: source, Flags: flags}
	n := &Namespace{root: m, mounts: map[*Dentry][]*Mount{}, all: []*Mount{m}}
	m.ns = n
	return n
}

// Root returns the root of the namespace.
func (n *Namespace) Root() Path { return Path{n.root, n.root.root} }

// Mount attaches root at the path at.
func (n *Namespace) Mount(at Path, root *Dentry, fstype, source string, flags int) *Mount {
	n.mu.Lock()
	defer n.mu.Unlock()
	m := &Mount{root: root, parent: at.Mount, point: at.Dentry, ns: n, FSType: fstype, Source: source, Flags: flags}
	n.mounts[at.Dentry] = append(n.mounts[at.Dentry], m)
	at.Dentry.mu.Lock()
	at.Dentry.mounts++
	at.Dentry.mu.Unlock()
	n.all = append(n.all, m)
	keepVolatileChild(at.Dentry)
	return m
}

// Mounts lists every mount, in mount order.
func (n *Namespace) Mounts() []*Mount {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return append([]*Mount(nil), n.all...)
}

// mountedOn returns the top mount on (parent mount, dentry), or nil.
func (n *Namespace) mountedOn(pm *Mount, d *Dentry) *Mount {
	d.mu.Lock()
	has := d.mounts > 0
	d.mu.Unlock()
	if !has {
		return nil
	}
	n.mu.RLock()
	defer n.mu.RUnlock()
	var top *Mount
	for _, m := range n.mounts[d] {
		if m.parent == pm {
			top = m
		}
	}
	return top
}

// MountPoint returns where m is attached (zero Path for the root mount).
func (m *Mount) MountPoint() Path {
	if m.parent == nil {
		return Path{}
	}
	return Path{m.parent, m.point}
}

// Deleted reports whether the name was removed (unlinked, renamed away)
// after this dentry was looked up.
func (d *Dentry) Deleted() bool {
	if d.parent == nil {
		return false
	}
	d.parent.mu.Lock()
	defer d.parent.mu.Unlock()
	return d.dead
}
