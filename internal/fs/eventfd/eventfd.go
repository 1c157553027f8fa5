// Package eventfd implements eventfd(2) objects: a 64-bit counter that
// write adds to and read takes (all of it, or one in semaphore mode).
//
// Lock order: EventFD.mu is a leaf.
package eventfd

import (
	"encoding/binary"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/internal/vfs"
)

const maxCount = ^uint64(0) - 1 // 0xfffffffffffffffe

var nextIno atomic.Uint64

// EventFD is one eventfd object.
type EventFD struct {
	vfs.BaseOps
	mu        sync.Mutex
	count     uint64
	semaphore bool
	changes   vfs.Changes
	file      *vfs.File
	ino       uint64
}

// NewFile returns an eventfd file with initial count and flags
// (EFD_SEMAPHORE, EFD_NONBLOCK; EFD_CLOEXEC is the caller's).
func NewFile(initval uint64, flags int) *vfs.File {
	e := &EventFD{count: initval, semaphore: flags&unix.EFD_SEMAPHORE != 0,
		ino: nextIno.Add(1)}
	f := vfs.NewAnonFile(e, "anon_inode:[eventfd]", unix.O_RDWR|flags&unix.O_NONBLOCK)
	e.file = f
	return f
}

// IsStream implements vfs.Stream.
func (e *EventFD) IsStream() {}

func (e *EventFD) nonblock() bool { return e.file.Flags()&unix.O_NONBLOCK != 0 }

func (e *EventFD) notifyLocked() {
	e.changes.Notify()
}

// Read implements vfs.FileOps. Linux: fs/eventfd.c (eventfd_read)
func (e *EventFD) Read(ctx vfs.Ctx, dst [][]byte, off int64) (int, error) {
	buf := flatten(dst, 8)
	if buf == nil {
		return 0, unix.EINVAL
	}
	for {
		e.mu.Lock()
		if e.count > 0 {
			v := e.count
			if e.semaphore {
				v = 1
			}
			e.count -= v
			e.notifyLocked()
			e.mu.Unlock()
			var b [8]byte
			binary.LittleEndian.PutUint64(b[:], v)
			vfs.Scatter(dst, b[:])
			return 8, nil
		}
		ch := e.changes.Chan()
		e.mu.Unlock()
		if e.nonblock() {
			return 0, unix.EAGAIN
		}
		if err := vfs.WaitAny(ctx, []<-chan struct{}{ch}, time.Time{}); err != nil {
			return 0, err
		}
	}
}

// Write implements vfs.FileOps.
func (e *EventFD) Write(ctx vfs.Ctx, src [][]byte, off int64) (int, error) {
	buf := flatten(src, 8)
	if buf == nil {
		return 0, unix.EINVAL
	}
	v := binary.LittleEndian.Uint64(buf)
	if v == ^uint64(0) {
		return 0, unix.EINVAL
	}
	for {
		e.mu.Lock()
		if maxCount-e.count >= v {
			e.count += v
			e.notifyLocked()
			e.mu.Unlock()
			return 8, nil
		}
		ch := e.changes.Chan()
		e.mu.Unlock()
		if e.nonblock() {
			return 0, unix.EAGAIN
		}
		if err := vfs.WaitAny(ctx, []<-chan struct{}{ch}, time.Time{}); err != nil {
			return 0, err
		}
	}
}

// Readiness implements vfs.Poller.
func (e *EventFD) Readiness() (uint32, <-chan struct{}) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var ev uint32
	if e.count > 0 {
		ev |= unix.POLLIN
	}
	if e.count < maxCount {
		ev |= unix.POLLOUT
	}
	return ev, e.changes.Chan()
}

// Stat implements vfs.FileOps.
func (e *EventFD) Stat(vfs.Ctx) (vfs.Stat, error) {
	return vfs.Stat{Dev: 0xd, Ino: e.ino, Mode: 0o600, Nlink: 1, Blksize: 4096}, nil
}

// flatten returns the first n bytes of bufs, or nil if there are fewer.
func flatten(bufs [][]byte, n int) []byte {
	out := make([]byte, 0, n)
	for _, b := range bufs {
		out = append(out, b...)
		if len(out) >= n {
			return out[:n]
		}
	}
	return nil
}
