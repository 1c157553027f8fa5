package userfaultfd

import (
	"encoding/binary"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/mm"
	"glassbox/internal/vfs"
)

// Flags of userfaultfd(2) and features of UFFDIO_API, which x/sys/unix
// lacks. Linux: include/uapi/linux/userfaultfd.h
const (
	UserModeOnly = 1 // UFFD_USER_MODE_ONLY

	api = 0xAA // UFFD_API

	featPagefaultFlagWP = 1 << 0
	featEventFork       = 1 << 1
	featSIGBUS          = 1 << 7
	featThreadID        = 1 << 8
	featExactAddress    = 1 << 11

	// Features offered: the fault-reporting ones. Events (fork, remap,
	// remove, unmap), shmem and hugetlbfs ranges, minor faults,
	// poisoning, moving and asynchronous write protection are not.
	features = featPagefaultFlagWP | featSIGBUS | featThreadID | featExactAddress

	eventPagefault = 0x12 // UFFD_EVENT_PAGEFAULT
	msgSize        = 32   // sizeof(struct uffd_msg)
)

var nextIno atomic.Uint64

// UFFD is one userfaultfd context.
type UFFD struct {
	vfs.BaseOps
	mm       *mm.MM // the address space it serves (its creator's)
	userOnly bool   // UFFD_USER_MODE_ONLY: faults of system calls are not handled
	gen      atomic.Uint64
	file     *vfs.File
	ino      uint64

	mu       sync.Mutex
	features uint64 // enabled by UFFDIO_API
	ready    bool   // UFFDIO_API done
	released bool
	pending  []*waiter // messages not read yet
	reading  []*waiter // read, still waiting
	changes  vfs.Changes
}

// waiter is one blocked access.
type waiter struct {
	addr  uint64 // as reported
	flags uint64
	tid   int
	ch    chan struct{} // closed by a wake
}

// New returns a userfaultfd file for address space m. flags are
// userfaultfd(2)'s (O_CLOEXEC is the caller's).
func New(m *mm.MM, flags int) *vfs.File {
	u := &UFFD{mm: m, userOnly: flags&UserModeOnly != 0, ino: nextIno.Add(1)}
	f := vfs.NewAnonFile(u, "anon_inode:[userfaultfd]", unix.O_RDWR|flags&unix.O_NONBLOCK)
	u.file = f
	return f
}

// IsStream implements vfs.Stream.
func (u *UFFD) IsStream() {}

// Gen implements mm.Userfault.
func (u *UFFD) Gen() uint64 { return u.gen.Load() }

// Wait implements mm.Userfault. Linux: fs/userfaultfd.c (handle_userfault)
func (u *UFFD) Wait(e *mm.UserfaultError, tid int, user bool, intr mm.Interruptible) error {
	u.mu.Lock()
	switch {
	case u.released:
		// Closing unregisters the ranges: the retry resolves normally.
		u.mu.Unlock()
		return nil
	case u.features&featSIGBUS != 0, u.userOnly && !user:
		u.mu.Unlock()
		return unix.EFAULT
	case u.gen.Load() != e.Gen:
		u.mu.Unlock()
		return nil
	}
	addr := e.Addr
	if u.features&featExactAddress == 0 {
		addr = abi.PageDown(addr)
	}
	w := &waiter{addr: addr, flags: e.Flags, tid: tid, ch: make(chan struct{})}
	u.pending = append(u.pending, w)
	u.changes.Notify()
	u.mu.Unlock()
	var err error
wait:
	for {
		select {
		case <-w.ch:
			break wait
		case <-intr.Interrupt():
			if intr.Interrupted() {
				err = unix.EINTR
				break wait
			}
		}
	}
	u.mu.Lock()
	u.pending = without(u.pending, w)
	u.reading = without(u.reading, w)
	u.mu.Unlock()
	return err
}

func without(ws []*waiter, w *waiter) []*waiter {
	for i, x := range ws {
		if x == w {
			return append(ws[:i], ws[i+1:]...)
		}
	}
	return ws
}

// wake ends the waits on [start, start+n) (n == 0: all), read or not.
// Linux: fs/userfaultfd.c (wake_userfault, userfaultfd_wake_function)
func (u *UFFD) wake(start, n uint64) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.gen.Add(1)
	match := func(ws []*waiter) []*waiter {
		out := ws[:0]
		for _, w := range ws {
			if n == 0 || w.addr >= start && w.addr-start < n {
				close(w.ch)
				continue
			}
			out = append(out, w)
		}
		return out
	}
	before := len(u.pending)
	u.pending = match(u.pending)
	u.reading = match(u.reading)
	if len(u.pending) != before {
		u.changes.Notify()
	}
}

// Release implements vfs.FileOps: every waiter is woken and every range
// unregistered. Linux: fs/userfaultfd.c (userfaultfd_release)
func (u *UFFD) Release() {
	u.mu.Lock()
	u.released = true
	u.mu.Unlock()
	u.mm.UffdRelease(u)
	u.wake(0, 0)
}

func (u *UFFD) nonblock() bool { return u.file.Flags()&unix.O_NONBLOCK != 0 }

// Read implements vfs.FileOps: one struct uffd_msg per pending fault, as
// many as fit; only the first may block. Linux: fs/userfaultfd.c
// (userfaultfd_read)
func (u *UFFD) Read(ctx vfs.Ctx, dst [][]byte, off int64) (int, error) {
	count := 0
	for _, b := range dst {
		count += len(b)
	}
	var out []byte
	noWait := u.nonblock()
	u.mu.Lock()
	if !u.ready {
		u.mu.Unlock()
		return 0, unix.EINVAL
	}
	for count-len(out) >= msgSize {
		if len(u.pending) == 0 {
			if noWait || len(out) > 0 {
				break
			}
			ch := u.changes.Chan()
			u.mu.Unlock()
			if err := vfs.WaitAny(ctx, []<-chan struct{}{ch}, timeZero); err != nil {
				return 0, err
			}
			u.mu.Lock()
			continue
		}
		w := u.pending[0]
		u.pending = u.pending[1:]
		u.reading = append(u.reading, w)
		var m [msgSize]byte
		m[0] = eventPagefault
		binary.LittleEndian.PutUint64(m[8:], w.flags)
		binary.LittleEndian.PutUint64(m[16:], w.addr)
		if u.features&featThreadID != 0 {
			binary.LittleEndian.PutUint32(m[24:], uint32(w.tid))
		}
		out = append(out, m[:]...)
		noWait = true
	}
	u.mu.Unlock()
	if len(out) == 0 {
		if count < msgSize {
			return 0, unix.EINVAL
		}
		return 0, unix.EAGAIN
	}
	vfs.Scatter(dst, out)
	return len(out), nil
}

// Write implements vfs.FileOps (userfaultfd_fops has no write).
func (u *UFFD) Write(vfs.Ctx, [][]byte, int64) (int, error) { return 0, unix.EINVAL }

// Readiness implements vfs.Poller: EPOLLERR before UFFDIO_API and for a
// blocking descriptor (poll never promises a read won't block), else
// EPOLLIN while a fault is unread. Linux: fs/userfaultfd.c (userfaultfd_poll)
func (u *UFFD) Readiness() (uint32, <-chan struct{}) {
	u.mu.Lock()
	defer u.mu.Unlock()
	ch := u.changes.Chan()
	if !u.ready || !u.nonblock() {
		return unix.POLLERR, ch
	}
	if len(u.pending) > 0 {
		return unix.POLLIN, ch
	}
	return 0, ch
}

// Stat implements vfs.FileOps.
func (u *UFFD) Stat(vfs.Ctx) (vfs.Stat, error) {
	return vfs.Stat{Dev: 0xd, Ino: u.ino, Mode: 0o600, Nlink: 1, Blksize: 4096}, nil
}
