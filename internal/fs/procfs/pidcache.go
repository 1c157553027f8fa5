package procfs

import (
	"sync"

	"glassbox/internal/vfs"
)

// pidCache keeps each /proc/PID directory while its process lives, so
// that its inodes (and their numbers) stay the same from one lookup to
// the next, as Linux's do while the process lives. Linux: fs/proc/base.c
// (pid_revalidate keeps the dentry and inode of a live task; their owner
// is refreshed, which here makes a new directory).
type pidCache struct {
	mu    sync.Mutex
	m     map[int]cachedPID
	swept int // len(m) after the last sweep
}

type cachedPID struct {
	p        Process
	uid, gid uint32
	dir      vfs.Inode
}

// get returns /proc/pid: the cached directory if it still describes the
// process the source now has under pid (Process values are comparable;
// equal values are the same process) with the same owner, else a new one
// made by mk. It calls Source methods with c.mu held; nothing takes c.mu
// with a kernel lock held (doc.go).
func (c *pidCache) get(src Source, pid int, mk func(Process) vfs.Inode) vfs.Inode {
	p := src.Process(pid)
	if p == nil {
		return nil
	}
	uid, gid := p.UID(), p.GID()
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[pid]; ok && e.p == p && e.uid == uid && e.gid == gid {
		return e.dir
	}
	d := mk(p)
	if c.m == nil {
		c.m = map[int]cachedPID{}
	}
	c.m[pid] = cachedPID{p: p, uid: uid, gid: gid, dir: d}
	// Forget processes that are gone once the map has doubled since the
	// last sweep: the cost stays constant per entry made.
	if len(c.m) > 32 && len(c.m) > 2*c.swept {
		for k, e := range c.m {
			if k != pid && src.Process(k) != e.p {
				delete(c.m, k)
			}
		}
		c.swept = len(c.m)
	}
	return d
}
