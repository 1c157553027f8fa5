package synth

import (
	"sort"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/internal/vfs"
)

var nextIno atomic.Uint64

// NewIno returns a fresh inode number.
func NewIno() uint64 { return nextIno.Add(1) + 1 }

// bootTime stamps every synthetic inode, as Linux's proc inodes carry the
// time they were made.
var bootTime = func() unix.Timespec { return unix.NsecToTimespec(time.Now().UnixNano()) }()

// Attr is what a synthetic inode reports in stat.
type Attr struct {
	Dev, Ino uint64
	Mode     uint32 // type and permission bits
	UID, GID uint32
	Rdev     uint64
}

// NewAttr returns attributes with a fresh inode number.
func NewAttr(dev uint64, mode uint32) Attr { return Attr{Dev: dev, Ino: NewIno(), Mode: mode} }

// Stat implements vfs.Inode.
func (a *Attr) Stat() (vfs.Stat, error) {
	nlink := uint64(1)
	if a.Mode&unix.S_IFMT == unix.S_IFDIR {
		nlink = 2
	}
	return vfs.Stat{Dev: a.Dev, Ino: a.Ino, Rdev: a.Rdev, Mode: a.Mode, Nlink: nlink,
		UID: a.UID, GID: a.GID, Blksize: 1024,
		Atime: bootTime, Mtime: bootTime, Ctime: bootTime}, nil
}

// Dir is a directory whose children are listed by a function each time it
// is read (static directories use Static).
type Dir struct {
	Attr
	// List returns the children by name. Called on every lookup and read.
	List func(ctx vfs.Ctx) map[string]vfs.Inode
	// Hidden, if set, finds children a lookup reaches that List does not
	// show (/proc/TID of a thread); nil when there is none.
	Hidden func(ctx vfs.Ctx, name string) vfs.Inode
	// Find, if set, answers a lookup of one name (nil: no such name)
	// without List building every child (/proc's root would make every
	// process's directory to find one). It must give what List, then
	// Hidden, would; List still serves reads of the directory.
	Find func(ctx vfs.Ctx, name string) vfs.Inode
}

// Static returns a directory with a fixed set of children.
func Static(dev uint64, mode uint32, children map[string]vfs.Inode) *Dir {
	return &Dir{Attr: NewAttr(dev, unix.S_IFDIR|mode),
		List: func(vfs.Ctx) map[string]vfs.Inode { return children }}
}

// Lookup implements vfs.Dir.
func (d *Dir) Lookup(ctx vfs.Ctx, name string) (vfs.Inode, error) {
	if d.Find != nil {
		if in := d.Find(ctx, name); in != nil {
			return in, nil
		}
		return nil, unix.ENOENT
	}
	if in, ok := d.List(ctx)[name]; ok {
		return in, nil
	}
	if d.Hidden != nil {
		if in := d.Hidden(ctx, name); in != nil {
			return in, nil
		}
	}
	return nil, unix.ENOENT
}

// ReadDir implements vfs.Dir: entries sorted by name.
func (d *Dir) ReadDir(ctx vfs.Ctx) ([]vfs.DirEntry, error) {
	return Entries(d.List(ctx)), nil
}

// Entries turns a child map into sorted directory entries.
func Entries(m map[string]vfs.Inode) []vfs.DirEntry {
	out := make([]vfs.DirEntry, 0, len(m))
	for name, in := range m {
		st, err := in.Stat()
		if err != nil {
			continue
		}
		out = append(out, vfs.DirEntry{Name: name, Ino: st.Ino, Type: vfs.DTFromMode(st.Mode)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Open implements vfs.Opener.
func (d *Dir) Open(ctx vfs.Ctx, flags int) (vfs.FileOps, error) {
	return &dirOps{d: d}, nil
}

type dirOps struct {
	vfs.BaseOps
	d *Dir
}

func (o *dirOps) Stat(vfs.Ctx) (vfs.Stat, error)              { return o.d.Stat() }
func (o *dirOps) ReadDir(ctx vfs.Ctx) ([]vfs.DirEntry, error) { return o.d.ReadDir(ctx) }

// Link is a symlink whose target is computed when read.
type Link struct {
	Attr
	Target func(ctx vfs.Ctx) (string, error)
}

// NewLink returns a symlink to a fixed target.
func NewLink(dev uint64, target string) *Link {
	return &Link{Attr: NewAttr(dev, unix.S_IFLNK|0o777),
		Target: func(vfs.Ctx) (string, error) { return target, nil }}
}

// Readlink implements vfs.Symlink.
func (l *Link) Readlink(ctx vfs.Ctx) (string, error) { return l.Target(ctx) }

// MagicLink is a symlink that resolves to an object (/proc/PID/exe).
type MagicLink struct {
	Link
	To func(ctx vfs.Ctx) (vfs.Path, error)
}

// Resolve implements vfs.MagicLink.
func (l *MagicLink) Resolve(ctx vfs.Ctx) (vfs.Path, error) { return l.To(ctx) }

// VolatileDir is a Dir whose children are looked up afresh on every walk.
type VolatileDir struct{ Dir }

// Volatile implements vfs.Volatile.
func (*VolatileDir) Volatile() {}
