package epoll

import (
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/internal/vfs"
)

// exclusiveOK are the events an EPOLLEXCLUSIVE entry may ask for.
// Linux: fs/eventpoll.c (EPOLLEXCLUSIVE_OK_BITS)
const exclusiveOK = unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLERR | unix.EPOLLHUP | unix.EPOLLWAKEUP | unix.EPOLLET | unix.EPOLLEXCLUSIVE

// Event is one struct epoll_event.
type Event struct {
	Events uint32
	Data   uint64
}

type key struct {
	fd   int
	file *vfs.File
}

type entry struct {
	key
	events   uint32 // requested events and flags (EPOLLET, EPOLLONESHOT)
	data     uint64
	disabled bool            // one-shot entry already reported
	seen     <-chan struct{} // edge-triggered: the change channel at the last report
}

var nextIno atomic.Uint64

// Instance is one epoll object.
type Instance struct {
	vfs.BaseOps
	mu      sync.Mutex
	entries map[key]*entry
	changes vfs.Changes // notified when the interest list gains or re-arms an entry
	ino     uint64
	// merged is the change channel Readiness hands out while its one
	// merging goroutine runs (nil: none runs); closed ends that goroutine
	// when the instance is released.
	merged    chan struct{}
	closed    chan struct{}
	closeOnce sync.Once
}

// NewFile returns a new epoll file.
func NewFile() (*vfs.File, *Instance) {
	in := &Instance{entries: map[key]*entry{}, ino: nextIno.Add(1), closed: make(chan struct{})}
	return vfs.NewAnonFile(in, "anon_inode:[eventpoll]", unix.O_RDWR), in
}

// FromFile returns the instance behind f.
func FromFile(f *vfs.File) (*Instance, bool) {
	in, ok := f.Ops().(*Instance)
	return in, ok
}

// Stat implements vfs.FileOps.
func (in *Instance) Stat(vfs.Ctx) (vfs.Stat, error) {
	return vfs.Stat{Dev: 0xd, Ino: in.ino, Mode: 0o600, Nlink: 1, Blksize: 4096}, nil
}

// Release implements vfs.FileOps.
func (in *Instance) Release() {
	registry.mu.Lock()
	delete(registry.m, in)
	registry.mu.Unlock()
	in.mu.Lock()
	defer in.mu.Unlock()
	in.entries = nil
	in.closeOnce.Do(func() { close(in.closed) })
}

// Always-reported events.
const always = unix.EPOLLERR | unix.EPOLLHUP

// Ctl is epoll_ctl. The instance does not keep f open: an entry whose
// file has been closed everywhere disappears, as in Linux.
// Linux: fs/eventpoll.c (do_epoll_ctl)
func (in *Instance) Ctl(op, fd int, f *vfs.File, ev Event) error {
	if f.Ops() == vfs.FileOps(in) {
		return unix.EINVAL
	}
	if _, ok := f.Ops().(vfs.Poller); !ok {
		return unix.EPERM // regular files and directories can't be watched
	}
	tin, nested := FromFile(f)
	// EPOLLEXCLUSIVE only on an add, of a file that is not an epoll, with
	// only the events it allows. Linux: fs/eventpoll.c (do_epoll_ctl)
	if op != unix.EPOLL_CTL_DEL && ev.Events&unix.EPOLLEXCLUSIVE != 0 &&
		(op == unix.EPOLL_CTL_MOD || op == unix.EPOLL_CTL_ADD && (nested || ev.Events&^exclusiveOK != 0)) {
		return unix.EINVAL
	}
	if nested && op == unix.EPOLL_CTL_ADD {
		// Loop and depth checks hold nestMu until the entry is in.
		nestMu.Lock()
		defer nestMu.Unlock()
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	k := key{fd, f}
	e := in.entries[k]
	switch op {
	case unix.EPOLL_CTL_ADD:
		if e != nil {
			return unix.EEXIST
		}
		if nested {
			in.mu.Unlock()
			err := loopCheck(in, tin)
			in.mu.Lock()
			if err != nil {
				return err
			}
			if in.entries[k] != nil {
				return unix.EEXIST
			}
			registry.mu.Lock()
			registry.m[in] = true
			registry.mu.Unlock()
		}
		in.entries[k] = &entry{key: k, events: ev.Events | always, data: ev.Data}
	case unix.EPOLL_CTL_MOD:
		if e == nil {
			return unix.ENOENT
		}
		if e.events&unix.EPOLLEXCLUSIVE != 0 {
			return unix.EINVAL // an exclusive entry cannot be modified
		}
		e.events, e.data, e.disabled, e.seen = ev.Events|always, ev.Data, false, nil
	case unix.EPOLL_CTL_DEL:
		if e == nil {
			return unix.ENOENT
		}
		delete(in.entries, k)
		return nil
	default:
		return unix.EINVAL
	}
	// A thread already asleep in Wait did not scan this entry.
	// Linux: fs/eventpoll.c (ep_insert, ep_modify: wake_up if ready)
	in.changes.Notify()
	return nil
}

// scan collects up to max ready events and the channels to sleep on.
// Only a wait that reports the events consumes them (an edge-triggered
// entry's edge, a one-shot entry); a poll of the epoll file itself must
// leave them for the epoll_wait it announces.
// Linux: fs/eventpoll.c (ep_send_events vs ep_eventpoll_poll)
func (in *Instance) scan(max int, consume bool) ([]Event, []<-chan struct{}) {
	in.mu.Lock()
	defer in.mu.Unlock()
	keys := make([]*entry, 0, len(in.entries))
	for k, e := range in.entries {
		if !k.file.Live() {
			delete(in.entries, k)
			continue
		}
		keys = append(keys, e)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].fd < keys[j].fd })
	var out []Event
	chans := []<-chan struct{}{in.changes.Chan()}
	for _, e := range keys {
		if e.disabled {
			continue
		}
		ev, ch := vfs.Readiness(e.file)
		ready := ev & e.events
		if e.events&unix.EPOLLET != 0 && e.seen != nil && ch == e.seen {
			ready = 0 // nothing changed since it was last reported
		}
		if ready == 0 || len(out) >= max {
			chans = append(chans, ch)
			continue
		}
		out = append(out, Event{Events: ready, Data: e.data})
		if !consume {
			continue
		}
		if e.events&unix.EPOLLONESHOT != 0 {
			e.disabled = true
		}
		if e.events&unix.EPOLLET != 0 {
			e.seen = ch
			chans = append(chans, ch)
		}
	}
	return out, chans
}

// Wait returns up to max ready events, sleeping until one is ready, the
// deadline passes (zero: forever; in the past: don't sleep) or ctx is
// interrupted (EINTR).
func (in *Instance) Wait(ctx vfs.Ctx, max int, deadline time.Time, poll bool) ([]Event, error) {
	for {
		evs, chans := in.scan(max, true)
		if len(evs) > 0 || poll {
			return evs, nil
		}
		if err := vfs.WaitAny(ctx, chans, deadline); err != nil {
			if err == unix.ETIMEDOUT {
				return nil, nil
			}
			return nil, err
		}
	}
}

// Readiness implements vfs.Poller: an epoll file is readable when one of
// its entries is ready.
func (in *Instance) Readiness() (uint32, <-chan struct{}) {
	evs, chans := in.scan(1, false)
	if len(evs) > 0 {
		return unix.POLLIN, nil
	}
	// Merge the change channels into one, watched by at most one
	// goroutine per instance (a guest polling an epoll file in a loop
	// must not pile them up). A channel merged from an earlier scan still
	// closes at the next change: a change to the interest list since then
	// notifies in.changes, which every scan watches.
	if len(chans) == 0 {
		return 0, make(chan struct{})
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.merged != nil {
		return 0, in.merged
	}
	out := make(chan struct{})
	in.merged = out
	go func() {
		vfs.WaitAny(releaseCtx{in.closed}, chans, time.Time{})
		in.mu.Lock()
		if in.merged == out {
			in.merged = nil
		}
		in.mu.Unlock()
		close(out)
	}()
	return 0, out
}

// releaseCtx interrupts the merging goroutine when its instance is
// released.
type releaseCtx struct{ closed <-chan struct{} }

func (releaseCtx) Creds() *vfs.Creds            { return nil }
func (c releaseCtx) Interrupt() <-chan struct{} { return c.closed }
func (c releaseCtx) Interrupted() bool {
	select {
	case <-c.closed:
		return true
	default:
		return false
	}
}
