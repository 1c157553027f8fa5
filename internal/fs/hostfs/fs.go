package hostfs

import (
	"container/list"
	"sync"

	"golang.org/x/sys/unix"

	"glassbox/internal/hostfd"
	"glassbox/internal/memfile"
	"glassbox/internal/mm"
	"glassbox/internal/platform"
	"glassbox/internal/vfs"
)

// maxCachedFDs bounds the O_PATH descriptors kept open.
const maxCachedFDs = 1024

// FS is one exported host directory.
type FS struct {
	mf       *memfile.File
	readOnly bool
	root     *inode

	mu     sync.Mutex
	lru    *list.List // of *inode with fd >= 0, most recent at front
	caches map[cacheKey]*mm.FileCache
	cfds   []int             // the page caches' host descriptors
	files  map[devIno]*hfile // writable file systems: open or mapped files
	closed bool              // Close ran: every lookup fails
}

type cacheKey struct {
	dev, ino uint64
	size     int64
	mtime    unix.Timespec
}

// New opens dir on the host as a file system root. With readOnly false
// the guest may change the tree (see write.go, namei.go and attr.go);
// callers should call Sync when the guest is done, so that stores into
// shared mappings reach the host.
func New(dir string, readOnly bool, mf *memfile.File) (*FS, error) {
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, err
	}
	fs := &FS{mf: mf, readOnly: readOnly, lru: list.New(), caches: map[cacheKey]*mm.FileCache{},
		files: map[devIno]*hfile{}}
	fs.root = &inode{fs: fs, dev: st.Dev, ino: st.Ino, mode: st.Mode, fd: fd, pinned: 1 << 30}
	return fs, nil
}

// Close closes every host descriptor the file system holds: the O_PATH
// descriptors of its inodes (the root's too), the page caches' and the
// writable files'. The guest must be gone (call Sync first on a writable
// one); afterwards every operation that needs the host fails with EIO.
func (fs *FS) Close() {
	fs.mu.Lock()
	if fs.closed {
		fs.mu.Unlock()
		return
	}
	fs.closed = true
	for e := fs.lru.Front(); e != nil; e = e.Next() {
		in := e.Value.(*inode)
		hostfd.Close(in.fd)
		in.fd, in.elem = -1, nil
		if in.stash > 0 {
			hostfd.Close(in.stash - 1)
			in.stash = 0
		}
	}
	fs.lru.Init()
	unix.Close(fs.root.fd)
	fs.root.fd = -1
	for _, fd := range fs.cfds {
		hostfd.Close(fd)
	}
	fs.cfds = nil
	hs := make([]*hfile, 0, len(fs.files))
	for _, h := range fs.files {
		hs = append(hs, h)
	}
	fs.mu.Unlock()
	for _, h := range hs { // fs.mu nests inside h.mu, never around it
		h.mu.Lock()
		if h.fd >= 0 {
			hostfd.Close(h.fd)
			h.fd = -1
		}
		h.mu.Unlock()
	}
}

// Root returns the root inode.
func (fs *FS) Root() vfs.Inode { return fs.root.wrap() }

// ReadOnly reports whether writes are refused.
func (fs *FS) ReadOnly() bool { return fs.readOnly }

// inode is a host file found by name under its parent.
type inode struct {
	fs       *FS
	dev, ino uint64
	mode     uint32

	// guarded by fs.mu
	parent   *inode // nil for the root; changes when a rename moves the inode
	name     string
	fd       int // -1 when not open
	pinned   int
	elem     *list.Element
	children map[string]*inode // writable file systems: what Lookup handed out
	stash    int               // fd+1 of a file just created, for the open that follows
}

// loc returns where the inode is: its parent and its name there.
func (in *inode) loc() (*inode, string) {
	in.fs.mu.Lock()
	defer in.fs.mu.Unlock()
	return in.parent, in.name
}

// withFD runs fn with an O_PATH descriptor of in.
func (in *inode) withFD(fn func(fd int) error) error {
	fd, err := in.pin()
	if err != nil {
		return err
	}
	defer in.unpin()
	return fn(fd)
}

func (in *inode) pin() (int, error) {
	fs := in.fs
	fs.mu.Lock()
	if fs.closed {
		fs.mu.Unlock()
		return -1, unix.EIO
	}
	if in.fd >= 0 {
		in.pinned++
		if in.elem != nil {
			fs.lru.MoveToFront(in.elem)
		}
		fd := in.fd
		fs.mu.Unlock()
		return fd, nil
	}
	parent, name := in.parent, in.name
	fs.mu.Unlock()
	var fd int
	open := func(pfd int) error {
		var err error
		fd, err = hostfd.Opened(unix.Openat(pfd, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0))
		return err
	}
	err := parent.withFD(open)
	if err == unix.ENFILE && fs.evict() {
		err = parent.withFD(open)
	}
	if err != nil {
		return -1, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Dev != in.dev || st.Ino != in.ino {
		hostfd.Close(fd)
		return -1, unix.ENOENT // the host replaced the file under us
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if in.fd >= 0 { // someone else opened it meanwhile
		hostfd.Close(fd)
		in.pinned++
		fs.lru.MoveToFront(in.elem)
		return in.fd, nil
	}
	in.fd = fd
	in.pinned = 1
	in.elem = fs.lru.PushFront(in)
	for fs.lru.Len() > maxCachedFDs {
		e := fs.lru.Back()
		victim := e.Value.(*inode)
		for victim.pinned > 0 {
			e = e.Prev()
			if e == nil {
				return fd, nil
			}
			victim = e.Value.(*inode)
		}
		fs.lru.Remove(e)
		hostfd.Close(victim.fd)
		victim.fd, victim.elem = -1, nil
	}
	return fd, nil
}

// evict closes the cached O_PATH descriptors nobody is using, when the
// sandbox's host descriptors ran out (package hostfd); it reports whether
// it closed any.
func (fs *FS) evict() bool {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	closed := false
	for e := fs.lru.Back(); e != nil; {
		prev := e.Prev()
		if in := e.Value.(*inode); in.pinned == 0 {
			fs.lru.Remove(e)
			hostfd.Close(in.fd)
			in.fd, in.elem = -1, nil
			closed = true
		}
		e = prev
	}
	return closed
}

func (in *inode) unpin() {
	in.fs.mu.Lock()
	in.pinned--
	in.fs.mu.Unlock()
}

// cache returns the shared page cache for an open host file.
func (fs *FS) cache(fd int, st *unix.Stat_t) (*mm.FileCache, error) {
	k := cacheKey{st.Dev, st.Ino, st.Size, st.Mtim}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if c, ok := fs.caches[k]; ok {
		return c, nil
	}
	dup, err := hostfd.Opened(unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0))
	if err != nil {
		return nil, err
	}
	var c *mm.FileCache
	if fs.readOnly {
		// Nothing in the sandbox writes this file: the host may map its
		// pages into guests as they are (mm.HostFiler). Files of a
		// writable file system have their own coherent cache (pagecache.go).
		c = mm.NewHostFileCache(fs.mf, fdReader(dup), uint64(st.Size), platform.HostFile{FD: dup, Dev: st.Dev, Ino: st.Ino})
	} else {
		c = mm.NewFileCache(fs.mf, fdReader(dup), uint64(st.Size))
	}
	fs.caches[k] = c
	fs.cfds = append(fs.cfds, dup)
	return c, nil
}

type fdReader int

// HostFD implements mm.HostFD.
func (r fdReader) HostFD() int { return int(r) }

func (r fdReader) ReadAt(p []byte, off int64) (int, error) {
	total := 0
	for total < len(p) {
		n, err := unix.Pread(int(r), p[total:], off+int64(total))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return total, err
		}
		if n == 0 {
			break
		}
		total += n
	}
	return total, nil
}
