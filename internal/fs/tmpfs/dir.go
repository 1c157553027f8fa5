package tmpfs

import (
	"sort"

	"golang.org/x/sys/unix"

	"glassbox/internal/vfs"
)

// Dir is a directory.
type Dir struct {
	node
	// guarded by fs.mu
	parent  *Dir // nil for the root
	entries map[string]*entry
	seq     uint64
	removed bool // rmdir'ed: nothing may be made in it
}

// entry is one name; seq orders getdents like creation, as Linux does.
type entry struct {
	in  inode
	seq uint64
}

// Stat implements vfs.Inode.
func (d *Dir) Stat() (vfs.Stat, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.statLocked(), nil
}

func (d *Dir) isRoot() bool { return d == d.fs.root }

// lowerLookup finds name in the root's lower layer (ENOENT without one,
// or when a whiteout hides it). Callers hold fs.mu.
func (d *Dir) lowerLookup(ctx vfs.Ctx, name string) (vfs.Inode, error) {
	if !d.isRoot() || d.fs.lower == nil || d.fs.whiteout[name] {
		return nil, unix.ENOENT
	}
	return d.fs.lower.Lookup(ctx, name)
}

// Lookup implements vfs.Dir.
func (d *Dir) Lookup(ctx vfs.Ctx, name string) (vfs.Inode, error) {
	d.fs.mu.RLock()
	defer d.fs.mu.RUnlock()
	if e := d.entries[name]; e != nil {
		return e.in, nil
	}
	return d.lowerLookup(ctx, name)
}

// ReadDir implements vfs.Dir: entries in creation order, then the lower
// layer's names not shadowed or hidden.
func (d *Dir) ReadDir(ctx vfs.Ctx) ([]vfs.DirEntry, error) {
	d.fs.mu.RLock()
	defer d.fs.mu.RUnlock()
	type ent struct {
		vfs.DirEntry
		seq uint64
	}
	ents := make([]ent, 0, len(d.entries))
	for name, e := range d.entries {
		b := e.in.base()
		b.mu.Lock()
		ents = append(ents, ent{vfs.DirEntry{Name: name, Ino: b.ino, Type: vfs.DTFromMode(b.mode)}, e.seq})
		b.mu.Unlock()
	}
	sort.Slice(ents, func(i, j int) bool { return ents[i].seq < ents[j].seq })
	out := make([]vfs.DirEntry, len(ents))
	for i := range ents {
		out[i] = ents[i].DirEntry
	}
	if d.isRoot() && d.fs.lower != nil {
		low, err := d.fs.lower.ReadDir(ctx)
		if err != nil {
			return nil, err
		}
		for _, e := range low {
			if d.entries[e.Name] == nil && !d.fs.whiteout[e.Name] {
				out = append(out, e)
			}
		}
	}
	d.mu.Lock()
	d.accessedLocked()
	d.mu.Unlock()
	return out, nil
}

// Open implements vfs.Opener.
func (d *Dir) Open(ctx vfs.Ctx, flags int) (vfs.FileOps, error) { return &dirOps{d: d}, nil }

type dirOps struct {
	vfs.BaseOps
	d *Dir
}

func (o *dirOps) Stat(vfs.Ctx) (vfs.Stat, error)              { return o.d.Stat() }
func (o *dirOps) ReadDir(ctx vfs.Ctx) ([]vfs.DirEntry, error) { return o.d.ReadDir(ctx) }

// canAdd checks that name can be made in d. Callers hold fs.mu.
func (d *Dir) canAdd(ctx vfs.Ctx, name string) error {
	if d.removed {
		return unix.ENOENT
	}
	if d.entries[name] != nil {
		return unix.EEXIST
	}
	if _, err := d.lowerLookup(ctx, name); err == nil {
		return unix.EEXIST
	}
	return nil
}

// insert adds name for in without touching in's link count: d's size,
// times and (for a directory) link count follow. Callers hold fs.mu.
// Linux: mm/shmem.c (shmem_mknod)
func (d *Dir) insert(name string, in inode) {
	d.seq++
	d.entries[name] = &entry{in: in, seq: d.seq}
	sub, isDir := in.(*Dir)
	if isDir {
		sub.parent = d
	}
	d.mu.Lock()
	d.size += bogoDirentSize
	if isDir {
		d.nlink++
	}
	t := now()
	d.mtime, d.ctime = t, t
	d.mu.Unlock()
}

// drop removes name without touching the inode's link count.
func (d *Dir) drop(name string) {
	e := d.entries[name]
	delete(d.entries, name)
	d.mu.Lock()
	d.size -= bogoDirentSize
	if _, isDir := e.in.(*Dir); isDir {
		d.nlink--
	}
	t := now()
	d.mtime, d.ctime = t, t
	d.mu.Unlock()
}

// unlinkInode drops one link of in (a directory loses both of its own).
// Callers hold fs.mu.
func unlinkInode(in inode) {
	b := in.base()
	b.mu.Lock()
	b.ctime = now()
	if sub, ok := in.(*Dir); ok {
		sub.removed = true
		b.nlink = 0
	} else if b.nlink > 0 {
		b.nlink--
	}
	gone := b.nlink == 0
	b.mu.Unlock()
	if gone {
		b.fs.inodes.Add(-1)
		if f, ok := in.(*File); ok {
			f.mu.Lock()
			f.maybeFreeLocked()
			f.mu.Unlock()
		}
	}
}

// add makes a new inode under name.
func (d *Dir) add(ctx vfs.Ctx, name string, mk func() (inode, error)) (inode, error) {
	d.fs.mu.Lock()
	defer d.fs.mu.Unlock()
	if err := d.canAdd(ctx, name); err != nil {
		return nil, err
	}
	in, err := mk()
	if err != nil {
		return nil, err
	}
	d.insert(name, in)
	return in, nil
}

// Create implements vfs.Creator.
func (d *Dir) Create(ctx vfs.Ctx, name string, mode uint32) (vfs.Inode, error) {
	return d.add(ctx, name, func() (inode, error) {
		f := newFile()
		if err := f.initOwned(ctx, d, unix.S_IFREG|mode&0o7777); err != nil {
			return nil, err
		}
		f.nlink = 1
		return f, nil
	})
}

// Mkdir implements vfs.Mkdirer.
func (d *Dir) Mkdir(ctx vfs.Ctx, name string, mode uint32) error {
	_, err := d.add(ctx, name, func() (inode, error) {
		sub := &Dir{entries: map[string]*entry{}}
		if err := sub.initOwned(ctx, d, unix.S_IFDIR|mode&0o7777); err != nil {
			return nil, err
		}
		sub.nlink = 2
		sub.size = 2 * bogoDirentSize
		return sub, nil
	})
	return err
}

// Mknod implements vfs.Mknoder: regular files, FIFOs, sockets and device
// nodes (which open glassbox' own devices by number: vfs.OpenCharDevice).
func (d *Dir) Mknod(ctx vfs.Ctx, name string, mode uint32, dev uint64) error {
	switch mode & unix.S_IFMT {
	case unix.S_IFREG:
		_, err := d.Create(ctx, name, mode&0o7777)
		return err
	case unix.S_IFSOCK, unix.S_IFIFO:
		return d.mknodSpecial(ctx, name, mode, 0)
	case unix.S_IFCHR, unix.S_IFBLK:
		return d.mknodSpecial(ctx, name, mode, dev)
	}
	return unix.EPERM
}

// Symlink implements vfs.Symlinker. Linux: mm/shmem.c (shmem_symlink)
func (d *Dir) Symlink(ctx vfs.Ctx, name, target string) error {
	if len(target)+1 > pageSize {
		return unix.ENAMETOOLONG
	}
	_, err := d.add(ctx, name, func() (inode, error) {
		l := &Symlink{target: target}
		if err := l.initOwned(ctx, d, unix.S_IFLNK|0o777); err != nil {
			return nil, err
		}
		l.nlink = 1
		l.size = int64(len(target))
		return l, nil
	})
	return err
}

// Link implements vfs.Linker.
func (d *Dir) Link(ctx vfs.Ctx, name string, target vfs.Inode) error {
	in, ok := target.(inode)
	if !ok || in.base().fs != d.fs {
		return unix.EXDEV
	}
	if _, isDir := in.(*Dir); isDir {
		return unix.EPERM
	}
	d.fs.mu.Lock()
	defer d.fs.mu.Unlock()
	if err := d.canAdd(ctx, name); err != nil {
		return err
	}
	b := in.base()
	b.mu.Lock()
	if b.nlink == 0 {
		b.mu.Unlock()
		return unix.ENOENT // unlinked but open
	}
	b.nlink++
	b.ctime = now()
	b.mu.Unlock()
	d.insert(name, in)
	return nil
}

// Unlink implements vfs.Unlinker.
func (d *Dir) Unlink(ctx vfs.Ctx, name string) error {
	d.fs.mu.Lock()
	defer d.fs.mu.Unlock()
	e := d.entries[name]
	if e == nil {
		return d.hideLower(ctx, name, false)
	}
	if _, isDir := e.in.(*Dir); isDir {
		return unix.EISDIR
	}
	d.drop(name)
	unlinkInode(e.in)
	return nil
}

// Rmdir implements vfs.Unlinker.
func (d *Dir) Rmdir(ctx vfs.Ctx, name string) error {
	d.fs.mu.Lock()
	defer d.fs.mu.Unlock()
	e := d.entries[name]
	if e == nil {
		return d.hideLower(ctx, name, true)
	}
	sub, isDir := e.in.(*Dir)
	if !isDir {
		return unix.ENOTDIR
	}
	if len(sub.entries) > 0 {
		return unix.ENOTEMPTY
	}
	d.drop(name)
	unlinkInode(sub)
	return nil
}

// hideLower removes a lower name from view, as unlink (or rmdir, for an
// empty lower directory) would. Callers hold fs.mu.
func (d *Dir) hideLower(ctx vfs.Ctx, name string, isDir bool) error {
	in, err := d.lowerLookup(ctx, name)
	if err != nil {
		return err
	}
	st, err := in.Stat()
	if err != nil {
		return err
	}
	switch {
	case isDir && !st.IsDir():
		return unix.ENOTDIR
	case !isDir && st.IsDir():
		return unix.EISDIR
	case isDir:
		ld, ok := in.(vfs.Dir)
		if !ok {
			return unix.ENOTDIR
		}
		if ents, err := ld.ReadDir(ctx); err != nil || len(ents) > 0 {
			return unix.ENOTEMPTY
		}
	}
	d.fs.whiteout[name] = true
	d.touch()
	return nil
}
