package vfs

import "golang.org/x/sys/unix"

// Mount namespaces: a copy of a mount table (CLONE_NEWNS), and the
// changes mount(2), umount2(2) and pivot_root(2) make to one table.
// Linux: fs/namespace.c

// Copy returns a new namespace with a copy of every mount, and the
// function that moves a path of n to the copy of its mount (paths on
// mounts n does not hold stay as they are). Linux: fs/namespace.c (copy_mnt_ns)
func (n *Namespace) Copy() (*Namespace, func(Path) Path) {
	n.mu.RLock()
	defer n.mu.RUnlock()
	m := map[*Mount]*Mount{}
	c := &Namespace{mounts: map[*Dentry][]*Mount{}}
	for _, old := range n.all {
		nm := &Mount{root: old.root, parent: m[old.parent], point: old.point, ns: c, locked: old.locked, Flags: old.Flags,
			Source: old.Source, FSType: old.FSType}
		m[old] = nm
		c.all = append(c.all, nm)
		if old.parent == nil {
			c.root = nm
			continue
		}
		c.mounts[old.point] = append(c.mounts[old.point], nm)
		old.point.mu.Lock()
		old.point.mounts++
		old.point.mu.Unlock()
	}
	return c, func(p Path) Path {
		if nm, ok := m[p.Mount]; ok {
			return Path{nm, p.Dentry}
		}
		return p
	}
}

// keepVolatileChild caches d in its parent when the parent is Volatile
// (which caches nothing of its own), so a later walk finds the dentry a
// mount sits on (a bind mount on /proc/sys).
func keepVolatileChild(d *Dentry) {
	p := d.parent
	if p == nil {
		return
	}
	if _, ok := p.inode.(Volatile); !ok {
		return
	}
	p.mu.Lock()
	if p.children == nil {
		p.children = map[string]*Dentry{}
	}
	p.children[d.name] = d
	p.mu.Unlock()
}

// Contains reports whether m is one of n's mounts.
func (n *Namespace) Contains(m *Mount) bool {
	n.mu.RLock()
	defer n.mu.RUnlock()
	for _, x := range n.all {
		if x == m {
			return true
		}
	}
	return false
}

// IsMountRoot reports whether p is the root of its mount.
func (p Path) IsMountRoot() bool { return p.Mount != nil && p.Dentry == p.Mount.root }

// children returns the mounts attached below m; called with mu held.
func (n *Namespace) childrenOf(m *Mount) []*Mount {
	var out []*Mount
	for _, x := range n.all {
		if x.parent == m {
			out = append(out, x)
		}
	}
	return out
}

// BindMount attaches the tree at src (its mounts below too when rec) at
// at. Linux: fs/namespace.c (do_loopback)
func (n *Namespace) BindMount(at, src Path, rec bool, flags int) (*Mount, error) {
	// The tree to copy is taken whole before anything is mounted: the
	// new mounts may themselves sit below src.
	type item struct {
		m      *Mount
		parent int // index of the copy of m's parent in tree (-1: top)
	}
	var tree []item
	n.mu.RLock()
	var walk func(m *Mount, under *Dentry, parent int) bool
	walk = func(m *Mount, under *Dentry, parent int) bool {
		for _, x := range n.all {
			if x.parent != m || !isBelow(x.point, under) {
				continue
			}
			if !rec {
				if x.locked {
					return false // it would uncover what a locked mount hides
				}
				continue
			}
			tree = append(tree, item{x, parent})
			if !walk(x, x.root, len(tree)-1) {
				return false
			}
		}
		return true
	}
	ok := walk(src.Mount, src.Dentry, -1)
	n.mu.RUnlock()
	if !ok {
		return nil, unix.EINVAL
	}
	top := n.Mount(at, src.Dentry, src.Mount.FSType, src.Mount.Source, flags|src.Mount.Flags)
	copies := make([]*Mount, len(tree))
	for i, it := range tree {
		p := top
		if it.parent >= 0 {
			p = copies[it.parent]
		}
		c := n.Mount(Path{p, it.m.point}, it.m.root, it.m.FSType, it.m.Source, it.m.Flags)
		c.locked = it.m.locked
		copies[i] = c
	}
	return top, nil
}

// LockAll locks every mount of n but the root (glassbox' own, before
// the guest runs). A lazy unmount of a mount above locked ones detaches
// them all, uncovering nothing, and is allowed.
func (n *Namespace) LockAll() {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, m := range n.all {
		m.locked = m.parent != nil
	}
}

// SetFlags is a remount's change of the per-mount flags; a locked mount
// keeps its restrictions. Linux: fs/namespace.c (can_change_locked_flags)
func (n *Namespace) SetFlags(m *Mount, flags, kept int) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if m.locked && m.Flags&kept&^flags != 0 {
		return unix.EPERM
	}
	m.Flags = m.Flags&^kept | flags&kept
	return nil
}

func isBelow(d, top *Dentry) bool {
	for ; d != nil; d = d.parent {
		if d == top {
			return true
		}
	}
	return false
}

// Unmount detaches m (and, with the lazy flag, everything below it);
// EBUSY if other mounts sit below it otherwise. Linux: fs/namespace.c (do_umount)
func (n *Namespace) Unmount(m *Mount, lazy bool) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if m.parent == nil || m.locked {
		return unix.EINVAL
	}
	if kids := n.childrenOf(m); len(kids) > 0 && !lazy {
		return unix.EBUSY
	}
	n.detach(m)
	return nil
}

// detach removes m and its children; called with mu held.
func (n *Namespace) detach(m *Mount) {
	for _, c := range n.childrenOf(m) {
		n.detach(c)
	}
	n.unhook(m)
	for i, x := range n.all {
		if x == m {
			n.all = append(n.all[:i:i], n.all[i+1:]...)
			break
		}
	}
}

// Move attaches m, with every mount below it, at the path at instead of
// where it is: EINVAL for the root mount or a locked one, ELOOP when at
// lies below m. Linux: fs/namespace.c (do_move_mount)
func (n *Namespace) Move(m *Mount, at Path) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	for p := at.Mount; p != nil; p = p.parent {
		if p == m {
			return unix.ELOOP
		}
	}
	if m.parent == nil || m.locked {
		return unix.EINVAL
	}
	n.unhook(m)
	n.hook(m, at)
	keepVolatileChild(at.Dentry)
	return nil
}

// unhook takes m off its mountpoint (m keeps its place in n.all); mu held.
func (n *Namespace) unhook(m *Mount) {
	list := n.mounts[m.point]
	for i, x := range list {
		if x == m {
			n.mounts[m.point] = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	if len(n.mounts[m.point]) == 0 {
		delete(n.mounts, m.point)
	}
	m.point.mu.Lock()
	m.point.mounts--
	m.point.mu.Unlock()
}

// hook puts m on the mountpoint at; mu held.
func (n *Namespace) hook(m *Mount, at Path) {
	m.parent, m.point = at.Mount, at.Dentry
	n.mounts[at.Dentry] = append(n.mounts[at.Dentry], m)
	at.Dentry.mu.Lock()
	at.Dentry.mounts++
	at.Dentry.mu.Unlock()
}

// PivotRoot makes newRoot's mount the namespace's root and attaches the
// old root mount at putOld (which is below newRoot). Linux: fs/namespace.c (pivot_root)
func (n *Namespace) PivotRoot(newRoot, putOld Path) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	nm, old := newRoot.Mount, n.root
	if nm == old || nm.parent == nil {
		return unix.EINVAL
	}
	// Detach nm from where it is mounted; old root goes to putOld.
	n.unhook(nm)
	nm.parent, nm.point = nil, nil
	n.hook(old, putOld)
	n.root = nm
	for i, x := range n.all {
		if x == nm {
			n.all = append([]*Mount{nm}, append(n.all[:i:i], n.all[i+1:]...)...)
			break
		}
	}
	return nil
}

// IsBelow reports whether p is top or a path under it in n's tree.
func (n *Namespace) IsBelow(p, top Path) bool {
	for {
		if p == top {
			return true
		}
		q := n.parentOf(Path{}, p)
		if q == p {
			return false
		}
		p = q
	}
}
