package hostfs

import (
	"runtime"

	"golang.org/x/sys/unix"

	"glassbox/internal/hostfd"
	"glassbox/internal/vfs"
)

// Namespace operations of a writable file system. Each is one host call
// relative to the O_PATH descriptor of the directory (or two, for link and
// rename) with a single-component name (badName refuses anything else),
// and none follows a symlink on the host: openat(O_NOFOLLOW|O_EXCL),
// mkdirat, mknodat, symlinkat, linkat without AT_SYMLINK_FOLLOW, unlinkat,
// renameat2. The vfs has checked the guest's permissions and drops its
// cached dentries afterwards (vfs/ops.go); the host checks its own, and its
// errno is the answer.
//
// Ownership: when glassbox runs as root on the host, new files are made
// with the guest's fsuid and fsgid (setfsuid/setfsgid on the calling
// thread, as 9p and virtiofs servers do), so the host and the guest agree
// on owners. Otherwise they belong to whoever runs glassbox, and stat
// reports that.

// wdir is a directory of a writable file system.
type wdir struct{ dirInode }

var hostEUID, hostEGID = unix.Geteuid(), unix.Getegid()

// asCreator runs fn with the host thread's file system ids set to the
// caller's, when glassbox may and they differ. fsuid/fsgid are per thread
// and only change file system checks and new files' owners; dropping
// fsuid 0 drops the file system capabilities until it is restored.
// Supplementary groups stay glassbox's. Linux: kernel/sys.c (setfsuid),
// fs/inode.c (inode_init_owner)
func asCreator(ctx vfs.Ctx, fn func() error) error {
	c := ctx.Creds()
	if hostEUID != 0 || int(c.FSUID) == hostEUID && int(c.FSGID) == hostEGID {
		return fn()
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	oldGID, _ := unix.SetfsgidRetGid(int(c.FSGID))
	oldUID, _ := unix.SetfsuidRetUid(int(c.FSUID))
	defer func() {
		unix.SetfsuidRetUid(oldUID)
		unix.SetfsgidRetGid(oldGID)
	}()
	return fn()
}

// checkName validates a name handed to a host call.
func checkName(name string) error {
	if badName(name) {
		return unix.EINVAL
	}
	if len(name) > vfs.NameMax {
		return unix.ENAMETOOLONG
	}
	return nil
}

// restoreMode gives back the permission bits of mode the host's umask took
// from a new file (the guest applied its own umask already). fd is an
// O_PATH or open descriptor of the new file; it runs as the creator, so it
// can only change the creator's own files.
func restoreMode(fd int, st *unix.Stat_t, mode uint32) {
	if lost := mode & 0o777 &^ st.Mode; lost != 0 {
		if chmodFD(fd, st.Mode&0o7777|lost) == nil {
			st.Mode |= lost
		}
	}
}

// made opens (O_PATH, no following) what was just made as name and
// registers it; fix runs on it first, with the creator's ids.
func (d wdir) made(name string, mode uint32) (*inode, error) {
	var st unix.Stat_t
	err := d.withFD(func(pfd int) error {
		fd, err := unix.Openat(pfd, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		if err := unix.Fstat(fd, &st); err != nil {
			return err
		}
		if st.Mode&unix.S_IFMT != unix.S_IFLNK {
			restoreMode(fd, &st, mode)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return d.child(name, &st), nil
}

// Create implements vfs.Creator. The new file's descriptor (open for
// reading and writing, which its creator may do whatever its mode) waits
// for the open that follows (wfile.Open): O_CREAT with mode 0444 must still
// give a writable descriptor. Linux: fs/namei.c (do_open: no may_open
// for a file just created)
func (d wdir) Create(ctx vfs.Ctx, name string, mode uint32) (vfs.Inode, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	var fd int
	var st unix.Stat_t
	err := asCreator(ctx, func() error {
		return d.withFD(func(pfd int) error {
			var err error
			if err := hostfd.Acquire(); err != nil {
				return err
			}
			fd, err = unix.Openat(pfd, name, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|
				unix.O_CLOEXEC|unix.O_NOCTTY|unix.O_NONBLOCK, mode&0o7777)
			if err != nil {
				hostfd.Release()
				return err
			}
			if err := unix.Fstat(fd, &st); err != nil {
				hostfd.Close(fd)
				return err
			}
			restoreMode(fd, &st, mode)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	c := d.child(name, &st)
	d.fs.mu.Lock()
	if c.stash > 0 {
		hostfd.Close(c.stash - 1)
	}
	c.stash = fd + 1
	d.fs.mu.Unlock()
	return c.wrap(), nil
}

// Mkdir implements vfs.Mkdirer.
func (d wdir) Mkdir(ctx vfs.Ctx, name string, mode uint32) error {
	if err := checkName(name); err != nil {
		return err
	}
	return asCreator(ctx, func() error {
		err := d.withFD(func(pfd int) error { return unix.Mkdirat(pfd, name, mode&(0o777|unix.S_ISVTX)) })
		if err != nil {
			return err
		}
		_, err = d.made(name, mode)
		return err
	})
}

// Mknod implements vfs.Mknoder: regular files and FIFOs (which the guest
// cannot open: they stay on the host); devices and sockets get EPERM.
// Linux: fs/namei.c (may_mknod, vfs_mknod)
func (d wdir) Mknod(ctx vfs.Ctx, name string, mode uint32, dev uint64) error {
	if err := checkName(name); err != nil {
		return err
	}
	switch mode & unix.S_IFMT {
	case unix.S_IFREG, unix.S_IFIFO:
	default:
		return unix.EPERM
	}
	return asCreator(ctx, func() error {
		err := d.withFD(func(pfd int) error { return unix.Mknodat(pfd, name, mode&(unix.S_IFMT|0o7777), 0) })
		if err != nil {
			return err
		}
		_, err = d.made(name, mode)
		return err
	})
}

// Symlink implements vfs.Symlinker. The target is stored as given: the
// guest's walk resolves it (a host program following it would resolve it
// on the host).
func (d wdir) Symlink(ctx vfs.Ctx, name, target string) error {
	if err := checkName(name); err != nil {
		return err
	}
	return asCreator(ctx, func() error {
		if err := d.withFD(func(pfd int) error { return unix.Symlinkat(target, pfd, name) }); err != nil {
			return err
		}
		_, err := d.made(name, 0)
		return err
	})
}

// hoster is every hostfs inode wrapper.
type hoster interface{ host() *inode }

func (in *inode) host() *inode { return in }

// hostDir returns the hostfs directory inode behind other, which must
// belong to d's file system (EXDEV).
func (d wdir) hostDir(other vfs.Inode) (*inode, error) {
	h, ok := other.(hoster)
	if !ok || h.host().fs != d.fs {
		return nil, unix.EXDEV
	}
	if h.host().kind() != unix.S_IFDIR {
		return nil, unix.ENOTDIR
	}
	return h.host(), nil
}

// Link implements vfs.Linker: linkat(2) of the target's name in its own
// directory, without following it, checked afterwards to have linked the
// target's host inode (else undone: ENOENT, as for a target gone).
// Linux: fs/namei.c (vfs_link)
func (d wdir) Link(ctx vfs.Ctx, name string, target vfs.Inode) error {
	if err := checkName(name); err != nil {
		return err
	}
	h, ok := target.(hoster)
	if !ok || h.host().fs != d.fs {
		return unix.EXDEV
	}
	t := h.host()
	if t.kind() == unix.S_IFDIR {
		return unix.EPERM
	}
	tp, tn := t.loc()
	if tp == nil {
		return unix.EPERM
	}
	return d.withFD(func(pfd int) error {
		err := tp.withFD(func(tpfd int) error { return unix.Linkat(tpfd, tn, pfd, name, 0) })
		if err != nil {
			return err
		}
		var st unix.Stat_t
		if err := unix.Fstatat(pfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return err
		}
		if st.Dev != t.dev || st.Ino != t.ino {
			unix.Unlinkat(pfd, name, 0)
			return unix.ENOENT
		}
		d.child(name, &st)
		return nil
	})
}

// Unlink implements vfs.Unlinker.
func (d wdir) Unlink(ctx vfs.Ctx, name string) error { return d.remove(name, 0) }

// Rmdir implements vfs.Unlinker.
func (d wdir) Rmdir(ctx vfs.Ctx, name string) error { return d.remove(name, unix.AT_REMOVEDIR) }

func (d wdir) remove(name string, flags int) error {
	if err := checkName(name); err != nil {
		return err
	}
	if err := d.withFD(func(pfd int) error { return unix.Unlinkat(pfd, name, flags) }); err != nil {
		return err
	}
	fs := d.fs
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if c := d.children[name]; c != nil {
		delete(d.children, name)
		fs.dropLocked(c)
	}
	return nil
}

// dropLocked closes the cached descriptors of an inode whose name is gone
// (so the host can free an unlinked file that nothing else holds).
func (fs *FS) dropLocked(c *inode) {
	if c.stash > 0 {
		hostfd.Close(c.stash - 1)
		c.stash = 0
	}
	if c.fd >= 0 && c.pinned == 0 {
		fs.lru.Remove(c.elem)
		hostfd.Close(c.fd)
		c.fd, c.elem = -1, nil
	}
}

// Rename implements vfs.Renamer with renameat2(2), flags passed through;
// the host answers EEXIST, ENOTEMPTY, EISDIR, ENOTDIR, EINVAL as it would
// for any program. Linux: fs/namei.c (do_renameat2, vfs_rename)
// The moved inodes learn their new place, so descriptors and working
// directories that hold them keep working.
func (d wdir) Rename(ctx vfs.Ctx, oldName string, newDir vfs.Inode, newName string, flags int) error {
	if err := checkName(oldName); err != nil {
		return err
	}
	if err := checkName(newName); err != nil {
		return err
	}
	nd, err := d.hostDir(newDir)
	if err != nil {
		return err
	}
	err = d.withFD(func(pfd int) error {
		return nd.withFD(func(npfd int) error {
			return unix.Renameat2(pfd, oldName, npfd, newName, uint(flags))
		})
	})
	if err != nil {
		return err
	}
	fs := d.fs
	fs.mu.Lock()
	defer fs.mu.Unlock()
	od := d.inode
	src, dst := od.children[oldName], nd.children[newName]
	if src != nil && dst != nil && src.dev == dst.dev && src.ino == dst.ino && flags&unix.RENAME_EXCHANGE == 0 {
		return nil // two names of one inode: the host did nothing
	}
	delete(od.children, oldName)
	delete(nd.children, newName)
	if flags&unix.RENAME_EXCHANGE != 0 {
		if dst != nil {
			dst.parent, dst.name = od, oldName
			od.setChildLocked(oldName, dst)
		}
	} else if dst != nil && dst != src {
		fs.dropLocked(dst)
	}
	if src != nil {
		src.parent, src.name = nd, newName
		nd.setChildLocked(newName, src)
	}
	return nil
}

func (d *inode) setChildLocked(name string, c *inode) {
	if d.children == nil {
		d.children = map[string]*inode{}
	}
	d.children[name] = c
}

func (in *inode) statFS() (unix.Statfs_t, error) {
	var s unix.Statfs_t
	err := in.withFD(func(fd int) error { return unix.Fstatfs(fd, &s) })
	return s, err
}

// What a writable file system's inodes can do.
var (
	_ interface {
		vfs.Dir
		vfs.Opener
		vfs.Creator
		vfs.Mkdirer
		vfs.Mknoder
		vfs.Symlinker
		vfs.Linker
		vfs.Unlinker
		vfs.Renamer
		vfs.Setattrer
		vfs.StatFSer
	} = wdir{}
	_ interface {
		vfs.Opener
		vfs.Setattrer
		vfs.Allocator
		vfs.StatFSer
	} = wfile{}
	_ interface {
		vfs.Symlink
		vfs.Setattrer
		vfs.StatFSer
	} = wlink{}
	_ vfs.MappableFile = (*wfileOps)(nil)
)
