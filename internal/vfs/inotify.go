package vfs

import (
	"encoding/binary"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// inotify: watches on directories and files, fed by the vfs operations
// that change them. Events: IN_CREATE, IN_DELETE, IN_MOVED_FROM/TO,
// IN_MODIFY, IN_ATTRIB (link counts only), IN_CLOSE_WRITE/NOWRITE,
// IN_DELETE_SELF and IN_IGNORED.
// Linux: fs/notify/inotify/inotify_user.c
//
// Lock order: Inotify.mu, then watchers.mu; both leaves otherwise.

type watch struct {
	in   *Inotify
	wd   int32
	mask uint32
}

var watchers = struct {
	mu sync.Mutex
	m  map[fileKey][]*watch
	n  atomic.Int64 // watches in total: no work at all while 0
}{m: map[fileKey][]*watch{}}

// Inotify is an inotify instance (the FileOps of its descriptor).
type Inotify struct {
	BaseOps
	mu      sync.Mutex
	next    int32
	watches map[int32]fileKey
	queue   []byte
	changes Changes
	file    *File
	cookie  uint32
}

// NewInotify returns an inotify file (flags: IN_NONBLOCK).
func NewInotify(flags int) *File {
	in := &Inotify{watches: map[int32]fileKey{}, next: 1}
	f := NewAnonFile(in, "anon_inode:inotify", unix.O_RDONLY|flags&unix.O_NONBLOCK)
	in.file = f
	return f
}

// InotifyOf returns the instance behind f.
func InotifyOf(f *File) (*Inotify, bool) {
	in, ok := f.ops.(*Inotify)
	return in, ok
}

// AddWatch watches the object p names for mask; a second watch on the
// same object replaces the mask (or adds to it with IN_MASK_ADD).
func (in *Inotify) AddWatch(p Path, mask uint32) (int32, error) {
	st, err := p.Inode().Stat()
	if err != nil {
		return 0, err
	}
	if mask&unix.IN_ONLYDIR != 0 && !st.IsDir() {
		return 0, unix.ENOTDIR
	}
	k := fileKey{st.Dev, st.Ino}
	in.mu.Lock()
	defer in.mu.Unlock()
	watchers.mu.Lock()
	defer watchers.mu.Unlock()
	for _, w := range watchers.m[k] {
		if w.in == in {
			if mask&unix.IN_MASK_CREATE != 0 {
				return 0, unix.EEXIST
			}
			if mask&unix.IN_MASK_ADD != 0 {
				w.mask |= mask
			} else {
				w.mask = mask
			}
			return w.wd, nil
		}
	}
	wd := in.next
	in.next++
	in.watches[wd] = k
	watchers.m[k] = append(watchers.m[k], &watch{in: in, wd: wd, mask: mask})
	watchers.n.Add(1)
	return wd, nil
}

// RmWatch removes watch wd (the reader gets IN_IGNORED).
func (in *Inotify) RmWatch(wd int32) error {
	in.mu.Lock()
	k, ok := in.watches[wd]
	if !ok {
		in.mu.Unlock()
		return unix.EINVAL
	}
	delete(in.watches, wd)
	in.queueLocked(wd, unix.IN_IGNORED, 0, "")
	in.mu.Unlock()
	dropWatch(k, in, wd)
	return nil
}

func dropWatch(k fileKey, in *Inotify, wd int32) {
	watchers.mu.Lock()
	defer watchers.mu.Unlock()
	ws := watchers.m[k]
	for i, w := range ws {
		if w.in == in && w.wd == wd {
			watchers.m[k] = append(ws[:i:i], ws[i+1:]...)
			watchers.n.Add(-1)
			break
		}
	}
	if len(watchers.m[k]) == 0 {
		delete(watchers.m, k)
	}
}

// queueLocked appends one struct inotify_event. in.mu held.
func (in *Inotify) queueLocked(wd int32, mask, cookie uint32, name string) {
	n := 0
	if name != "" {
		n = (len(name) + 1 + 15) &^ 15 // NUL-padded to 16 bytes, as Linux
	}
	ev := make([]byte, 16+n)
	binary.LittleEndian.PutUint32(ev[0:], uint32(wd))
	binary.LittleEndian.PutUint32(ev[4:], mask)
	binary.LittleEndian.PutUint32(ev[8:], cookie)
	binary.LittleEndian.PutUint32(ev[12:], uint32(n))
	copy(ev[16:], name)
	in.queue = append(in.queue, ev...)
	in.changes.Notify()
}

// notify delivers mask (with name, for events in a watched directory) to
// the watches of the object in.
func notify(obj Inode, mask uint32, cookie uint32, name string) {
	if watchers.n.Load() == 0 || obj == nil {
		return
	}
	st, err := obj.Stat()
	if err != nil {
		return
	}
	watchers.mu.Lock()
	ws := append([]*watch(nil), watchers.m[fileKey{st.Dev, st.Ino}]...)
	watchers.mu.Unlock()
	for _, w := range ws {
		if w.mask&mask&unix.IN_ALL_EVENTS == 0 {
			continue
		}
		w.in.mu.Lock()
		w.in.queueLocked(w.wd, mask, cookie, name)
		w.in.mu.Unlock()
	}
}

// notifyChild reports an event on name in directory dir, and on the
// child itself when it is watched.
func notifyChild(dir Path, name string, child Inode, mask uint32) {
	if watchers.n.Load() == 0 {
		return
	}
	notify(dir.Inode(), mask, 0, name)
	if child != nil && mask&(unix.IN_MODIFY|unix.IN_CLOSE_WRITE|unix.IN_CLOSE_NOWRITE|unix.IN_ATTRIB) != 0 {
		notify(child, mask&^unix.IN_ISDIR, 0, "")
	}
}

// notifyFile reports an event on an open file (IN_MODIFY, IN_CLOSE_*).
func notifyFile(f *File, mask uint32) {
	if watchers.n.Load() == 0 || f.path.Dentry == nil {
		return
	}
	d := f.path.Dentry
	if d.parent != nil {
		notifyChild(Path{f.path.Mount, d.parent}, d.name, d.inode, mask)
	} else {
		notify(d.inode, mask, 0, "")
	}
}

// IsStream implements Stream.
func (in *Inotify) IsStream() {}

// NoopSeek implements NoopSeeker.
func (in *Inotify) NoopSeek() {}

// Read implements FileOps: whole events only (EINVAL if the buffer can't
// hold the first one).
func (in *Inotify) Read(ctx Ctx, dst [][]byte, off int64) (int, error) {
	size := 0
	for _, b := range dst {
		size += len(b)
	}
	for {
		in.mu.Lock()
		if len(in.queue) > 0 {
			n := 0
			for n < len(in.queue) {
				l := 16 + int(binary.LittleEndian.Uint32(in.queue[n+12:]))
				if n+l > size {
					break
				}
				n += l
			}
			if n == 0 {
				in.mu.Unlock()
				return 0, unix.EINVAL
			}
			out := in.queue[:n]
			for _, b := range dst {
				c := copy(b, out)
				out = out[c:]
			}
			in.queue = in.queue[n:]
			in.mu.Unlock()
			return n, nil
		}
		ch := in.changes.Chan()
		in.mu.Unlock()
		if in.file.Flags()&unix.O_NONBLOCK != 0 {
			return 0, unix.EAGAIN
		}
		if err := WaitAny(ctx, []<-chan struct{}{ch}, time.Time{}); err != nil {
			return 0, err
		}
	}
}

// Readiness implements Poller.
func (in *Inotify) Readiness() (uint32, <-chan struct{}) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if len(in.queue) > 0 {
		return unix.POLLIN, in.changes.Chan()
	}
	return 0, in.changes.Chan()
}

// Stat implements FileOps.
func (in *Inotify) Stat(Ctx) (Stat, error) { return Stat{Dev: 0xd, Mode: 0o600, Nlink: 1}, nil }

// Release implements FileOps: every watch goes.
func (in *Inotify) Release() {
	in.mu.Lock()
	ws := in.watches
	in.watches = nil
	in.mu.Unlock()
	for wd, k := range ws {
		dropWatch(k, in, wd)
	}
}

// notifyKey is notify for an object known by its key (it may be gone).
func notifyKey(k fileKey, mask uint32) {
	watchers.mu.Lock()
	ws := append([]*watch(nil), watchers.m[k]...)
	watchers.mu.Unlock()
	for _, w := range ws {
		if w.mask&mask&unix.IN_ALL_EVENTS == 0 {
			continue
		}
		w.in.mu.Lock()
		w.in.queueLocked(w.wd, mask, 0, "")
		w.in.mu.Unlock()
	}
}

// removedLink reports that a name of the object st describes went away:
// IN_ATTRIB (its link count changed) unless it is a directory, and when
// that was its last name, IN_DELETE_SELF followed by IN_IGNORED as its
// watches end. Linux: include/linux/fsnotify.h (fsnotify_link_count,
// fsnotify_inoderemove), fs/notify/inotify/inotify_fsnotify.c
func removedLink(st *Stat) {
	if watchers.n.Load() == 0 {
		return
	}
	k := fileKey{st.Dev, st.Ino}
	if !st.IsDir() {
		notifyKey(k, unix.IN_ATTRIB)
		if st.Nlink > 1 {
			return
		}
	}
	notifyKey(k, unix.IN_DELETE_SELF)
	watchers.mu.Lock()
	ws := watchers.m[k]
	delete(watchers.m, k)
	watchers.n.Add(-int64(len(ws)))
	watchers.mu.Unlock()
	for _, w := range ws {
		w.in.mu.Lock()
		if _, ok := w.in.watches[w.wd]; ok {
			delete(w.in.watches, w.wd)
			w.in.queueLocked(w.wd, unix.IN_IGNORED, 0, "")
		}
		w.in.mu.Unlock()
	}
}
