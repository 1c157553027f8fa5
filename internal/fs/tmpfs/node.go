package tmpfs

import (
	"sync"

	"golang.org/x/sys/unix"

	"glassbox/internal/vfs"
)

// node is what every tmpfs inode has.
type node struct {
	fs  *FS
	ino uint64

	mu                         sync.Mutex
	mode                       uint32 // type and 07777 bits
	uid, gid                   uint32
	nlink                      uint64
	size                       int64 // directories and symlinks; File keeps its own
	atime, mtime, ctime, btime unix.Timespec
	xattrs                     map[string][]byte // extended attributes (xattr.go)
	xattrUsed                  int               // bytes of their names and values
}

// inode is a tmpfs inode of any type.
type inode interface {
	vfs.Inode
	base() *node
}

func (n *node) base() *node { return n }

func (n *node) initNode(fs *FS, mode, uid, gid uint32) {
	t := now()
	n.fs, n.ino = fs, fs.nextIno.Add(1)
	n.mode, n.uid, n.gid = mode, uid, gid
	n.atime, n.mtime, n.ctime, n.btime = t, t, t, t
	fs.inodes.Add(1)
}

// initOwned sets up a new inode made by ctx in dir: the owner is the
// caller's fsuid; the group is the caller's fsgid, or dir's when dir is
// setgid (and a new directory inherits the setgid bit). A setgid,
// group-executable file made in a setgid directory by someone outside the
// group loses the setgid bit. Linux: fs/inode.c (inode_init_owner,
// mode_strip_sgid)
func (n *node) initOwned(ctx vfs.Ctx, dir *Dir, mode uint32) error {
	fs := dir.fs
	if fs.inodes.Load() >= fs.maxInodes {
		return unix.ENOSPC
	}
	c := ctx.Creds()
	uid, gid := c.FSUID, c.FSGID
	dir.mu.Lock()
	dmode, dgid := dir.mode, dir.gid
	dir.mu.Unlock()
	if dmode&unix.S_ISGID != 0 {
		gid = dgid
		if mode&unix.S_IFMT == unix.S_IFDIR {
			mode |= unix.S_ISGID
		} else if mode&(unix.S_ISGID|unix.S_IXGRP) == unix.S_ISGID|unix.S_IXGRP && c.FSUID != 0 && !inGroup(c, dgid) {
			mode &^= unix.S_ISGID
		}
	}
	n.initNode(fs, mode, uid, gid)
	return nil
}

// statLocked fills the fields every type shares.
func (n *node) statLocked() vfs.Stat {
	return vfs.Stat{Dev: n.fs.dev, Ino: n.ino, Mode: n.mode, Nlink: n.nlink, UID: n.uid, GID: n.gid,
		Size: n.size, Blksize: pageSize, Atime: n.atime, Mtime: n.mtime, Ctime: n.ctime, Btime: n.btime}
}

// touch sets mtime and ctime to now.
func (n *node) touch() {
	n.mu.Lock()
	t := now()
	n.mtime, n.ctime = t, t
	n.mu.Unlock()
}

// changed sets ctime to now.
func (n *node) changed() {
	n.mu.Lock()
	n.ctime = now()
	n.mu.Unlock()
}

// accessedLocked updates atime the relatime way: only if it is not newer
// than mtime or ctime, or a day old. Linux: fs/inode.c (relatime_need_update)
func (n *node) accessedLocked() {
	t := now()
	if !tsAfter(n.atime, n.mtime) || !tsAfter(n.atime, n.ctime) || t.Sec-n.atime.Sec >= 24*3600 {
		n.atime = t
	}
}

func tsAfter(a, b unix.Timespec) bool { return a.Sec > b.Sec || a.Sec == b.Sec && a.Nsec > b.Nsec }

// setAttrLocked applies the changes every type supports; size is the
// caller's. Linux: fs/attr.c (setattr_copy)
func (n *node) setAttrLocked(a *vfs.Attr) {
	t := now()
	if a.Valid&vfs.AttrMode != 0 {
		n.mode = n.mode&unix.S_IFMT | a.Mode&0o7777
	}
	if a.Valid&vfs.AttrUID != 0 {
		n.uid = a.UID
	}
	if a.Valid&vfs.AttrGID != 0 {
		n.gid = a.GID
	}
	switch {
	case a.Valid&vfs.AttrAtimeNow != 0:
		n.atime = t
	case a.Valid&vfs.AttrAtime != 0:
		n.atime = a.Atime
	}
	switch {
	case a.Valid&vfs.AttrMtimeNow != 0:
		n.mtime = t
	case a.Valid&vfs.AttrMtime != 0:
		n.mtime = a.Mtime
	}
	n.ctime = t
}

// SetAttr implements vfs.Setattrer for directories and symlinks.
func (n *node) SetAttr(ctx vfs.Ctx, a *vfs.Attr) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if a.Valid&vfs.AttrSize != 0 {
		if n.mode&unix.S_IFMT == unix.S_IFDIR {
			return unix.EISDIR
		}
		return unix.EINVAL
	}
	n.setAttrLocked(a)
	return nil
}

// StatFS implements vfs.StatFSer.
func (n *node) StatFS() (unix.Statfs_t, error) { return n.fs.statfs() }

// Symlink is a symbolic link; its target never changes.
type Symlink struct {
	node
	target string
}

// Stat implements vfs.Inode. A long target takes a page.
func (l *Symlink) Stat() (vfs.Stat, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := l.statLocked()
	if len(l.target)+1 > shortSymlinkLen {
		st.Blocks = pageSize / 512
	}
	return st, nil
}

// Readlink implements vfs.Symlink.
func (l *Symlink) Readlink(ctx vfs.Ctx) (string, error) {
	l.mu.Lock()
	l.accessedLocked()
	l.mu.Unlock()
	return l.target, nil
}
