package vfs

import (
	"golang.org/x/sys/unix"
)

// pathOps backs O_PATH descriptors: they name a file but cannot do I/O.
type pathOps struct {
	BaseOps
	in Inode
}

func (p *pathOps) Read(Ctx, [][]byte, int64) (int, error)  { return 0, unix.EBADF }
func (p *pathOps) Write(Ctx, [][]byte, int64) (int, error) { return 0, unix.EBADF }
func (p *pathOps) Stat(Ctx) (Stat, error)                  { return p.in.Stat() }

// Open implements open(2)'s path part: resolve (creating if asked), check
// permissions, and open. Linux: fs/namei.c (do_filp_open, may_open)
func (n *Namespace) Open(ctx Ctx, root, start Path, path string, flags int, mode uint32) (*File, error) {
	return n.OpenResolve(ctx, root, start, path, flags, mode, 0)
}

// OpenResolve is Open under openat2's RESOLVE_* restrictions: with
// RESOLVE_BENEATH or RESOLVE_IN_ROOT the walk's root is start.
func (n *Namespace) OpenResolve(ctx Ctx, root, start Path, path string, flags int, mode uint32, resolve uint64) (*File, error) {
	if path == "" {
		return nil, unix.ENOENT
	}
	w := &walkState{resolve: resolve}
	if w.scoped() {
		root = start
	}
	if flags&unix.O_TMPFILE == unix.O_TMPFILE {
		return n.openTmpfile(ctx, root, start, path, flags, mode, w)
	}
	var p Path
	var err error
	created := false
	if flags&unix.O_CREAT != 0 {
		p, created, err = n.openCreate(ctx, root, start, path, flags, mode, w)
	} else {
		wf := Follow
		if flags&unix.O_NOFOLLOW != 0 {
			wf = 0
		}
		p, err = n.walkFrom(ctx, root, start, path, wf, w)
	}
	if err != nil {
		return nil, err
	}
	return OpenPath(ctx, p, flags, created)
}

// openCreate resolves path for O_CREAT, creating the file when absent.
func (n *Namespace) openCreate(ctx Ctx, root, start Path, path string, flags int, mode uint32, w *walkState) (Path, bool, error) {
	parent, name, trailing, err := n.walkParent(ctx, root, start, path, w)
	if err != nil {
		return Path{}, false, err
	}
	if trailing || name == "" || name == "." || name == ".." {
		return Path{}, false, unix.EISDIR
	}
	p, err := n.Step(ctx, parent, name)
	switch {
	case err == nil:
		if flags&unix.O_EXCL != 0 {
			return Path{}, false, unix.EEXIST
		}
		if _, ok := p.Inode().(Symlink); ok {
			if flags&unix.O_NOFOLLOW != 0 {
				return Path{}, false, unix.ELOOP
			}
			// Follow the link; a dangling link creates its target, as
			// Linux does. Linux: fs/namei.c (open_last_lookups)
			links := w.links
			q, err := n.walkFrom(ctx, root, parent, name, Follow, w)
			if err == unix.ENOENT {
				sl := p.Inode().(Symlink)
				if _, magic := sl.(MagicLink); magic {
					return Path{}, false, unix.ENOENT
				}
				if links >= maxSymlinks {
					return Path{}, false, unix.ELOOP
				}
				target, err := sl.Readlink(ctx)
				if err != nil {
					return Path{}, false, err
				}
				w.links = links + 1
				return n.openCreate(ctx, root, parent, target, flags, mode, w)
			}
			return q, false, err
		}
		return p, false, nil
	case err != unix.ENOENT:
		return Path{}, false, err
	}
	cr, ok := parent.Inode().(Creator)
	if !ok || parent.Mount.Flags&unix.MS_RDONLY != 0 {
		return Path{}, false, unix.EROFS
	}
	if err := MayAccess(ctx, parent.Inode(), MayWrite|MayExec); err != nil {
		return Path{}, false, err
	}
	if _, err := cr.Create(ctx, name, mode&0o7777); err != nil {
		return Path{}, false, err
	}
	parent.Dentry.Forget(name)
	notifyChild(parent, name, nil, unix.IN_CREATE)
	p, err = n.Step(ctx, parent, name)
	return p, true, err
}

// OLargefile is the kernel's O_LARGEFILE on x86-64 (x/sys/unix has libc's, 0).
const OLargefile = 0x8000

// OpenPath opens an already resolved path.
func OpenPath(ctx Ctx, p Path, flags int, created bool) (*File, error) {
	in := p.Inode()
	if flags&unix.O_PATH != 0 {
		if _, ok := in.(Dir); !ok && flags&unix.O_DIRECTORY != 0 {
			return nil, unix.ENOTDIR
		}
		return NewFile(&pathOps{in: in}, p, flags&(unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC)), nil
	}
	if _, ok := in.(Symlink); ok {
		return nil, unix.ELOOP // O_NOFOLLOW on a symlink
	}
	_, isDir := in.(Dir)
	if flags&unix.O_DIRECTORY != 0 && !isDir {
		return nil, unix.ENOTDIR
	}
	// An access mode of 3 asks for read and write permission and gives a
	// file open for neither (ioctls only). Linux: fs/namei.c (may_open),
	// include/linux/fs.h (OPEN_FMODE)
	acc := flags & unix.O_ACCMODE
	// O_CREAT on an existing directory is EISDIR too, and O_TRUNC asks
	// for write access. Linux: fs/namei.c (do_open, may_open)
	if isDir && (acc != unix.O_RDONLY || flags&(unix.O_CREAT|unix.O_TRUNC) != 0) {
		return nil, unix.EISDIR
	}
	want := 0
	if acc != unix.O_WRONLY {
		want |= MayRead
	}
	if acc != unix.O_RDONLY || flags&unix.O_TRUNC != 0 {
		want |= MayWrite
		if p.Mount.Flags&unix.MS_RDONLY != 0 {
			st, err := in.Stat()
			if err == nil && (st.Type() == unix.S_IFREG || st.IsDir()) {
				return nil, unix.EROFS
			}
		}
	}
	if !created {
		if err := MayAccess(ctx, in, want); err != nil {
			return nil, err
		}
	}
	// O_NOATIME is for the owner (or CAP_FOWNER). Linux: fs/namei.c (may_open)
	if flags&unix.O_NOATIME != 0 {
		if st, err := in.Stat(); err == nil && !isOwner(ctx.Creds(), &st) {
			return nil, unix.EPERM
		}
	}
	op, ok := in.(Opener)
	if !ok {
		return nil, unix.ENXIO
	}
	if leases.n.Load() > 0 {
		if st, err := in.Stat(); err == nil && st.Type() == unix.S_IFREG {
			write := acc != unix.O_RDONLY || flags&unix.O_TRUNC != 0
			if err := breakLeases(ctx, fileKey{st.Dev, st.Ino}, write, flags&unix.O_NONBLOCK != 0); err != nil {
				return nil, err
			}
		}
	}
	var wkey *fileKey
	if acc == unix.O_WRONLY || acc == unix.O_RDWR {
		if st, err := in.Stat(); err == nil && st.Type() == unix.S_IFREG {
			k := KeyOf(&st)
			if err := getWriteAccess(k); err != nil {
				return nil, err
			}
			wkey = &k
		}
	}
	ops, err := op.Open(ctx, flags)
	if err != nil {
		if wkey != nil {
			putAccess(*wkey, -1)
		}
		return nil, err
	}
	// Every file opened on a 64-bit kernel is O_LARGEFILE (F_GETFL shows
	// it), an O_PATH one excepted. Linux: fs/open.c (build_open_how)
	flags |= OLargefile
	keep := unix.O_ACCMODE | unix.O_APPEND | unix.O_NONBLOCK | unix.O_DIRECT | unix.O_NOATIME |
		OLargefile | unix.O_ASYNC | unix.O_SYNC | unix.O_DSYNC | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC
	f := NewFile(ops, p, flags&keep)
	f.writer = wkey
	f.created = created
	return f, nil
}
