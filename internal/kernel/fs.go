package kernel

import (
	"sync"

	"golang.org/x/sys/unix"

	"glassbox/internal/vfs"
)

// FSContext is a process's root, working directory and umask.
type FSContext struct {
	mu    sync.Mutex
	root  vfs.Path
	cwd   vfs.Path
	umask uint32
}

// Root returns the root directory.
func (c *FSContext) Root() vfs.Path {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.root
}

// Cwd returns the working directory.
func (c *FSContext) Cwd() vfs.Path {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cwd
}

// SetCwd changes the working directory.
func (c *FSContext) SetCwd(p vfs.Path) {
	c.mu.Lock()
	c.cwd = p
	c.mu.Unlock()
}

// SetRoot changes the root directory (chroot).
func (c *FSContext) SetRoot(p vfs.Path) {
	c.mu.Lock()
	c.root = p
	c.mu.Unlock()
}

// Umask returns the umask.
func (c *FSContext) Umask() uint32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.umask
}

// SetUmask sets the umask and returns the old one.
func (c *FSContext) SetUmask(m uint32) uint32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.umask
	c.umask = m & 0o777
	return old
}

// Fork copies the context (fork without CLONE_FS).
func (c *FSContext) Fork() *FSContext {
	c.mu.Lock()
	defer c.mu.Unlock()
	return &FSContext{root: c.root, cwd: c.cwd, umask: c.umask}
}

// AtFDCWD is AT_FDCWD.
const AtFDCWD = -100

// StartDir returns where a relative path given with dirfd starts. An
// empty path is ENOENT before dirfd is looked at (callers taking
// AT_EMPTY_PATH handle "" themselves). Linux: fs/namei.c (getname_flags)
func (t *Task) StartDir(dirfd int, path string) (vfs.Path, error) {
	if path == "" {
		return vfs.Path{}, unix.ENOENT
	}
	if len(path) > 0 && path[0] == '/' {
		return t.tg.fsc.Root(), nil
	}
	if dirfd == AtFDCWD {
		return t.tg.fsc.Cwd(), nil
	}
	f, err := t.tg.fds.Get(dirfd)
	if err != nil {
		return vfs.Path{}, err
	}
	defer f.DecRef()
	p := f.Path()
	if p.Dentry == nil {
		return vfs.Path{}, unix.ENOTDIR
	}
	if _, ok := p.Inode().(vfs.Dir); !ok {
		return vfs.Path{}, unix.ENOTDIR
	}
	return p, nil
}

// Walk resolves path relative to dirfd (AT_FDCWD for the cwd).
func (t *Task) Walk(dirfd int, path string, flags int) (vfs.Path, error) {
	start, err := t.StartDir(dirfd, path)
	if err != nil {
		return vfs.Path{}, err
	}
	return t.MountNS().Walk(t, t.tg.fsc.Root(), start, path, flags)
}

// WalkParent resolves all but the last component of path.
func (t *Task) WalkParent(dirfd int, path string) (vfs.Path, string, bool, error) {
	start, err := t.StartDir(dirfd, path)
	if err != nil {
		return vfs.Path{}, "", false, err
	}
	return t.MountNS().WalkParent(t, t.tg.fsc.Root(), start, path)
}

// PathName returns p's absolute name as this task sees it.
func (t *Task) PathName(p vfs.Path) string {
	return t.MountNS().PathName(t.tg.fsc.Root(), p)
}
