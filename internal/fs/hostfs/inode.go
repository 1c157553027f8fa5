package hostfs

import (
	"encoding/binary"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"glassbox/internal/hostfd"
	"glassbox/internal/vfs"
)

func toStat(st *unix.Stat_t) vfs.Stat {
	return vfs.Stat{
		Dev: st.Dev, Ino: st.Ino, Rdev: st.Rdev, Mode: st.Mode, Nlink: st.Nlink,
		UID: st.Uid, GID: st.Gid, Size: st.Size, Blksize: st.Blksize, Blocks: st.Blocks,
		Atime: st.Atim, Mtime: st.Mtim, Ctime: st.Ctim,
	}
}

// Stat implements vfs.Inode.
func (in *inode) Stat() (vfs.Stat, error) {
	var st unix.Stat_t
	var err error
	if parent, name := in.loc(); parent == nil {
		err = unix.Fstat(in.fd, &st)
	} else {
		err = parent.withFD(func(pfd int) error {
			return unix.Fstatat(pfd, name, &st, unix.AT_SYMLINK_NOFOLLOW)
		})
	}
	if err != nil {
		return vfs.Stat{}, err
	}
	if st.Ino != in.ino || st.Dev != in.dev {
		return vfs.Stat{}, unix.ENOENT
	}
	return toStat(&st), nil
}

// Identity is the host (dev, ino) the inode was found with: Stat reports
// these or fails (overlay asks it instead of a Stat).
func (in *inode) Identity() (dev, ino uint64) { return in.dev, in.ino }

func (in *inode) kind() uint32 { return in.mode & unix.S_IFMT }

// dirInode and linkInode give directories and symlinks their interfaces.
type dirInode struct{ *inode }
type linkInode struct{ *inode }
type fileInode struct{ *inode }

// wrap gives in its interfaces: read-only ones, or with the abilities to
// change the tree (namei.go, attr.go) on a writable file system.
func (in *inode) wrap() vfs.Inode {
	switch in.kind() {
	case unix.S_IFDIR:
		if in.fs.readOnly {
			return dirInode{in}
		}
		return wdir{dirInode{in}}
	case unix.S_IFLNK:
		if in.fs.readOnly {
			return linkInode{in}
		}
		return wlink{linkInode{in}}
	}
	if in.fs.readOnly {
		return fileInode{in}
	}
	return wfile{fileInode{in}}
}

// badName reports a name that is not a single component: the host must
// never see "", ".", ".." or a '/'.
func badName(name string) bool {
	return name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00")
}

// Lookup implements vfs.Dir.
func (d dirInode) Lookup(ctx vfs.Ctx, name string) (vfs.Inode, error) {
	if badName(name) {
		return nil, unix.ENOENT
	}
	var st unix.Stat_t
	err := d.withFD(func(fd int) error {
		return unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW)
	})
	if err != nil {
		return nil, err
	}
	return d.child(name, &st).wrap(), nil
}

// child returns the inode for name, found with st. A writable file system
// hands out one inode per name (while it names the same host inode), so
// that a rename can move it (namei.go).
func (d *inode) child(name string, st *unix.Stat_t) *inode {
	fs := d.fs
	if fs.readOnly {
		return &inode{fs: fs, parent: d, name: name, dev: st.Dev, ino: st.Ino, mode: st.Mode, fd: -1}
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if c := d.children[name]; c != nil && c.dev == st.Dev && c.ino == st.Ino {
		return c
	}
	c := &inode{fs: fs, parent: d, name: name, dev: st.Dev, ino: st.Ino, mode: st.Mode, fd: -1}
	if d.children == nil {
		d.children = map[string]*inode{}
	}
	d.children[name] = c
	return c
}

// ReadDir implements vfs.Dir.
func (d dirInode) ReadDir(ctx vfs.Ctx) ([]vfs.DirEntry, error) {
	var out []vfs.DirEntry
	err := d.withFD(func(fd int) error {
		dfd, err := unix.Openat(fd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(dfd)
		buf := make([]byte, 32<<10)
		for {
			n, err := unix.Getdents(dfd, buf)
			if err == unix.EINTR {
				continue
			}
			if err != nil {
				return err
			}
			if n <= 0 {
				return nil
			}
			out = parseDirents(buf[:n], out)
		}
	})
	return out, err
}

func parseDirents(b []byte, out []vfs.DirEntry) []vfs.DirEntry {
	for len(b) >= 19 {
		ino := binary.LittleEndian.Uint64(b[0:])
		reclen := int(binary.LittleEndian.Uint16(b[16:]))
		if reclen < 19 || reclen > len(b) {
			break
		}
		typ := b[18]
		name := b[19:reclen]
		for i, c := range name {
			if c == 0 {
				name = name[:i]
				break
			}
		}
		if s := string(name); s != "." && s != ".." {
			out = append(out, vfs.DirEntry{Name: s, Ino: ino, Type: typ})
		}
		b = b[reclen:]
	}
	return out
}

// Readlink implements vfs.Symlink.
func (l linkInode) Readlink(ctx vfs.Ctx) (string, error) {
	var s string
	parent, name := l.loc()
	err := parent.withFD(func(pfd int) error {
		buf := make([]byte, vfs.PathMax)
		n, err := unix.Readlinkat(pfd, name, buf)
		if err != nil {
			return err
		}
		s = string(buf[:n])
		return nil
	})
	return s, err
}

// Open implements vfs.Opener for regular files.
func (f fileInode) Open(ctx vfs.Ctx, flags int) (vfs.FileOps, error) {
	if f.kind() != unix.S_IFREG {
		// Host devices, fifos and sockets stay on the host.
		return nil, unix.EACCES
	}
	if flags&unix.O_ACCMODE != unix.O_RDONLY || flags&unix.O_TRUNC != 0 {
		if f.fs.readOnly {
			return nil, unix.EROFS
		}
	}
	fd, err := f.openHost(flags & (unix.O_ACCMODE | unix.O_TRUNC | unix.O_APPEND))
	if err != nil {
		return nil, err
	}
	return &file{fs: f.fs, fd: fd}, nil
}

// Open implements vfs.Opener for directories.
func (d dirInode) Open(ctx vfs.Ctx, flags int) (vfs.FileOps, error) {
	if flags&unix.O_ACCMODE != unix.O_RDONLY {
		return nil, unix.EISDIR
	}
	return &dir{d: d}, nil
}

// openHost opens the file itself (not O_PATH), as the inode that was
// looked up and nothing else. The name may have come to name another
// file since the lookup (the guest renames in a writable bind as it
// likes, a FIFO or a device node over a regular file among them), and
// opening a host FIFO or device is itself an act on the host: so the name
// is first opened O_PATH, which opens nothing, the descriptor checked to
// be the looked-up inode, and only then reopened through
// /proc/self/fd, which opens that very inode. The descriptor is counted
// (package hostfd): close it with hostfd.Close.
func (in *inode) openHost(flags int) (int, error) {
	var pfd int
	parent, name := in.loc()
	if parent == nil {
		return -1, unix.EISDIR // the root
	}
	err := parent.withFD(func(dfd int) error {
		var err error
		// Not counted (package hostfd): it lives only for this call, and
		// at the bound the open below must be the one that fails, with
		// nothing given back after it.
		pfd, err = unix.Openat(dfd, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		return err
	})
	if err != nil {
		return -1, err
	}
	defer unix.Close(pfd)
	var st unix.Stat_t
	if err := unix.Fstat(pfd, &st); err != nil || st.Ino != in.ino || st.Dev != in.dev || st.Mode&unix.S_IFMT != in.kind() {
		return -1, unix.ENOENT
	}
	return hostfd.Opened(unix.Open("/proc/self/fd/"+strconv.Itoa(pfd), flags|unix.O_CLOEXEC|unix.O_NOCTTY|unix.O_NONBLOCK, 0))
}
