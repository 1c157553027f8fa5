package overlay

import (
	"sync"

	"golang.org/x/sys/unix"

	"glassbox/internal/vfs"
)

// Magic is overlayfs' statfs f_type. Linux: include/uapi/linux/magic.h
// (OVERLAYFS_SUPER_MAGIC)
const Magic = 0x794c7630

// allocBase is the first inode number the overlay hands out itself; lower
// objects on the lower root's device keep their own (smaller) numbers.
// Linux: fs/overlayfs/inode.c (ovl_map_ino: xino keeps the real number and
// puts a layer id in the high bits)
const allocBase = 1 << 48

// FS is one overlay: a writable upper directory over a read-only lower one.
type FS struct {
	dev      uint64 // st_dev of every object: the upper's
	lowerDev uint64 // the lower root's device
	upper    vfs.Dir
	root     *node

	// wmu serializes modifications: copy-up and namespace changes.
	wmu sync.Mutex

	// mu guards the tree (see node) and the inode maps.
	mu        sync.RWMutex
	nextIno   uint64
	lowerInos map[devIno]uint64 // lower objects not numbered by their own ino
	upperInos map[uint64]uint64 // upper ino → overlay ino
}

type devIno struct{ dev, ino uint64 }

// New returns an overlay of upper (writable: in practice a fresh tmpfs
// root, which must be used by nothing else) over lower (read-only: only
// Lookup, ReadDir, Stat, Readlink and read-only Open are used on it). The
// upper root takes the lower root's mode, owner and times.
func New(upper, lower vfs.Dir) (*FS, error) {
	ust, err := upper.Stat()
	if err != nil {
		return nil, err
	}
	lst, err := lower.Stat()
	if err != nil {
		return nil, err
	}
	if s, ok := upper.(vfs.Setattrer); ok {
		err := s.SetAttr(rootCtx{}, &vfs.Attr{Valid: vfs.AttrMode | vfs.AttrUID | vfs.AttrGID | vfs.AttrAtime | vfs.AttrMtime,
			Mode: lst.Mode & 0o7777, UID: lst.UID, GID: lst.GID, Atime: lst.Atime, Mtime: lst.Mtime})
		if err != nil {
			return nil, err
		}
	}
	fs := &FS{dev: ust.Dev, lowerDev: lst.Dev, upper: upper, nextIno: allocBase,
		lowerInos: map[devIno]uint64{}, upperInos: map[uint64]uint64{}}
	root := &node{fs: fs, kind: kindDir, lower: lower}
	root.ino = fs.lowerInoLocked(lst.Dev, lst.Ino)
	root.upper.Store(&upperRef{upper})
	fs.upperInos[ust.Ino] = root.ino
	fs.root = root
	return fs, nil
}

// Root returns the root directory.
func (fs *FS) Root() vfs.Inode { return fs.root.wrap() }

// Dev returns the device number every object reports.
func (fs *FS) Dev() uint64 { return fs.dev }

// lowerInoLocked numbers a lower object. Callers hold fs.mu for writing.
func (fs *FS) lowerInoLocked(dev, ino uint64) uint64 {
	if dev == fs.lowerDev && ino < allocBase {
		return ino
	}
	k := devIno{dev, ino}
	if i, ok := fs.lowerInos[k]; ok {
		return i
	}
	i := fs.allocLocked()
	fs.lowerInos[k] = i
	return i
}

// upperInoLocked numbers an upper object not yet known (found in an upper
// that was not empty, or listed before its node exists). Callers hold
// fs.mu for writing.
func (fs *FS) upperInoLocked(ino uint64) uint64 {
	if i, ok := fs.upperInos[ino]; ok {
		return i
	}
	i := fs.allocLocked()
	fs.upperInos[ino] = i
	return i
}

func (fs *FS) allocLocked() uint64 {
	fs.nextIno++
	return fs.nextIno - 1
}

// statfs answers for the whole tree: the upper's free space and inodes
// (what the guest can still write), with the lower's used blocks and
// files counted as used, so the root looks like the host file system it
// shows, holding the host's files, with the sandbox's room left. (Linux's
// overlayfs reports the upper's numbers alone, which with an in-memory
// upper would describe an empty disk.) Linux: fs/overlayfs/super.c
// (ovl_statfs)
func (fs *FS) statfs() (unix.Statfs_t, error) {
	s := unix.Statfs_t{Bsize: 4096, Frsize: 4096, Namelen: vfs.NameMax}
	if sf, ok := fs.upper.(vfs.StatFSer); ok {
		var err error
		if s, err = sf.StatFS(); err != nil {
			return s, err
		}
	}
	if sf, ok := fs.root.lower.(vfs.StatFSer); ok && s.Frsize > 0 {
		if l, err := sf.StatFS(); err == nil && l.Blocks >= l.Bfree && l.Files >= l.Ffree {
			s.Blocks += (l.Blocks - l.Bfree) * uint64(l.Frsize) / uint64(s.Frsize)
			s.Files += l.Files - l.Ffree
		}
	}
	s.Type = Magic
	return s, nil
}

// rootCtx is the context of the overlay's own setup.
type rootCtx struct{}

func (rootCtx) Creds() *vfs.Creds          { return vfs.RootCreds() }
func (rootCtx) Interrupt() <-chan struct{} { return nil }
func (rootCtx) Interrupted() bool          { return false }

// sameInode compares inodes without panicking on uncomparable types.
func sameInode(a, b vfs.Inode) (same bool) {
	defer func() {
		if recover() != nil {
			same = false
		}
	}()
	return a == b
}
