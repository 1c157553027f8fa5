package unix

import (
	"reflect"
	"sync"

	"golang.org/x/sys/unix"

	"glassbox/internal/vfs"
)

// PathBinder publishes pathname sockets: bind puts a socket at a name in
// a directory, connect and sendto find it there. Linux makes the name an
// S_IFSOCK inode (unix_bind_bsd: vfs_mknod) and finds the socket through
// that inode (unix_find_bsd); Registry does so where the file system can
// make socket nodes and keeps a table beside the file system elsewhere.
type PathBinder interface {
	// Bind publishes s as name in dir with permission bits mode (0777
	// without the umask), owned by the caller. It fails with EADDRINUSE
	// when the name exists. The returned function withdraws the socket.
	Bind(ctx vfs.Ctx, dir vfs.Path, name string, mode uint32, s *Socket) (unbind func(), err error)
	// Lookup returns the socket published as name in dir: ENOENT when
	// nothing has the name, ECONNREFUSED when it is not a bound socket,
	// EACCES without write permission on it.
	Lookup(ctx vfs.Ctx, dir vfs.Path, name string) (*Socket, error)
}

// Registry is the PathBinder of a mount tree. Where the directory can
// make an S_IFSOCK node (a Mknod method that accepts S_IFSOCK), bind makes
// one and the socket is found through that inode, as in Linux: the file
// stays after close (bind again: EADDRINUSE; connect: ECONNREFUSED) until
// unlinked. Elsewhere (file systems that answer EPERM, as tmpfs does for
// sockets today) the socket is kept in a table keyed by the directory's
// dentry and the name, beside the file system: the name does not appear
// in the directory (stat gives ENOENT, unlink cannot remove it) and
// vanishes when the socket closes. A last component that is a symlink is
// not followed in either case.
type Registry struct {
	vfs *vfs.Namespace

	mu     sync.Mutex // a leaf
	names  map[regKey]regEntry
	inodes map[vfs.Inode]*Socket
}

type regKey struct {
	dir  *vfs.Dentry
	name string
}

type regEntry struct {
	s              *Socket
	mode, uid, gid uint32
}

// sockMknoder is a directory that can make special files (vfs.Mknoder,
// asserted at run time so that file systems opt in by accepting S_IFSOCK).
type sockMknoder interface {
	Mknod(ctx vfs.Ctx, name string, mode uint32, dev uint64) error
}

var _ PathBinder = (*Registry)(nil)

// NewRegistry returns an empty registry over the mount tree n.
func NewRegistry(n *vfs.Namespace) *Registry {
	return &Registry{vfs: n, names: map[regKey]regEntry{}, inodes: map[vfs.Inode]*Socket{}}
}

// Bind implements PathBinder with mknod's checks: an existing name
// (EADDRINUSE), a read-only mount (EROFS), write and search permission on
// the directory. Linux: net/unix/af_unix.c (unix_bind_bsd), fs/namei.c
// (filename_create, may_create, vfs_mknod)
func (r *Registry) Bind(ctx vfs.Ctx, dir vfs.Path, name string, mode uint32, s *Socket) (func(), error) {
	if name == "" || name == "." || name == ".." {
		return nil, unix.EADDRINUSE
	}
	if _, err := r.vfs.Step(ctx, dir, name); err == nil {
		return nil, unix.EADDRINUSE
	} else if err != unix.ENOENT {
		return nil, err
	}
	if dir.Mount != nil && dir.Mount.Flags&unix.MS_RDONLY != 0 {
		return nil, unix.EROFS
	}
	if err := vfs.MayAccess(ctx, dir.Inode(), vfs.MayWrite|vfs.MayExec); err != nil {
		return nil, err
	}
	if mk, ok := dir.Inode().(sockMknoder); ok {
		err := mk.Mknod(ctx, name, unix.S_IFSOCK|mode&0o777, 0)
		dir.Dentry.Forget(name)
		switch err {
		case nil:
			return r.bindInode(ctx, dir, name, s)
		case unix.EEXIST:
			return nil, unix.EADDRINUSE
		case unix.EPERM: // no socket nodes here: keep it beside
		default:
			return nil, err
		}
	}
	e := regEntry{s: s, mode: mode & 0o777}
	if c := ctx.Creds(); c != nil {
		e.uid, e.gid = c.FSUID, c.FSGID
	}
	k := regKey{dir.Dentry, name}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.names[k]; ok {
		return nil, unix.EADDRINUSE
	}
	r.names[k] = e
	return func() {
		r.mu.Lock()
		if r.names[k].s == s {
			delete(r.names, k)
		}
		r.mu.Unlock()
	}, nil
}

// bindInode ties s to the socket node just made as name in dir.
func (r *Registry) bindInode(ctx vfs.Ctx, dir vfs.Path, name string, s *Socket) (func(), error) {
	p, err := r.vfs.Step(ctx, dir, name)
	if err != nil {
		return nil, err
	}
	in := p.Inode()
	if !reflect.TypeOf(in).Comparable() {
		return nil, unix.EPERM
	}
	r.mu.Lock()
	r.inodes[in] = s
	r.mu.Unlock()
	return func() {
		r.mu.Lock()
		if r.inodes[in] == s {
			delete(r.inodes, in)
		}
		r.mu.Unlock()
	}, nil
}

// Lookup implements PathBinder: write permission on the name first, then
// a socket bound to it. Linux: net/unix/af_unix.c (unix_find_bsd)
func (r *Registry) Lookup(ctx vfs.Ctx, dir vfs.Path, name string) (*Socket, error) {
	r.mu.Lock()
	e, ok := r.names[regKey{dir.Dentry, name}]
	r.mu.Unlock()
	if ok {
		st := vfs.Stat{Mode: unix.S_IFSOCK | e.mode, UID: e.uid, GID: e.gid}
		if err := vfs.CheckMode(ctx.Creds(), &st, vfs.MayWrite); err != nil {
			return nil, err
		}
		return e.s, nil
	}
	p, err := r.vfs.Step(ctx, dir, name)
	if err != nil {
		return nil, err
	}
	in := p.Inode()
	if err := vfs.MayAccess(ctx, in, vfs.MayWrite); err != nil {
		return nil, err
	}
	if st, err := in.Stat(); err != nil || st.Type() != unix.S_IFSOCK || !reflect.TypeOf(in).Comparable() {
		return nil, unix.ECONNREFUSED // a file, but not a socket
	}
	r.mu.Lock()
	s := r.inodes[in]
	r.mu.Unlock()
	if s == nil {
		return nil, unix.ECONNREFUSED // a socket file nobody is bound to
	}
	return s, nil
}
