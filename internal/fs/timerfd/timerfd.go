// Package timerfd implements timerfd_create(2) objects: a timer whose
// expirations are counted and read as a 64-bit number.
//
// Lock order: TimerFD.mu is a leaf.
package timerfd

import (
	"encoding/binary"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/internal/vfs"
)

var nextIno atomic.Uint64

// TimerFD is one timerfd. A periodic timer is not re-armed when it
// expires but when its count is read (or its setting asked for), as in
// Linux: then the intervals that passed meanwhile are counted at once. So
// a timer with a tiny interval costs nothing while nobody reads it, where
// re-arming from the expiry itself would keep a CPU busy.
type TimerFD struct {
	vfs.BaseOps
	mu       sync.Mutex
	clock    int
	count    uint64
	timer    *time.Timer
	deadline time.Time // the next expiry, or the last one while expired
	interval time.Duration
	expired  bool // periodic, expired and not re-armed yet
	gen      int
	changes  vfs.Changes
	file     *vfs.File
	ino      uint64
}

// NewFile returns a disarmed timerfd file (flags: TFD_NONBLOCK).
func NewFile(clock, flags int) (*vfs.File, *TimerFD) {
	t := &TimerFD{clock: clock, ino: nextIno.Add(1)}
	f := vfs.NewAnonFile(t, "anon_inode:[timerfd]", unix.O_RDWR|flags&unix.O_NONBLOCK)
	t.file = f
	return f, t
}

// FromFile returns the timerfd behind f.
func FromFile(f *vfs.File) (*TimerFD, bool) {
	t, ok := f.Ops().(*TimerFD)
	return t, ok
}

// Clock is the clock the timer was created on.
func (t *TimerFD) Clock() int { return t.clock }

// IsStream implements vfs.Stream.
func (t *TimerFD) IsStream() {}

func (t *TimerFD) notifyLocked() {
	t.changes.Notify()
}

func (t *TimerFD) leftLocked() time.Duration {
	t.forwardLocked()
	if t.timer == nil {
		return 0
	}
	return max(time.Until(t.deadline), time.Nanosecond)
}

// Get returns the time to the next expiry and the interval.
func (t *TimerFD) Get() (time.Duration, time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.leftLocked(), t.interval
}

// Set arms (value > 0) or disarms the timer and returns the old setting.
// Setting it clears the expiration count. Linux: fs/timerfd.c (do_timerfd_settime)
func (t *TimerFD) Set(value, interval time.Duration) (time.Duration, time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	oldLeft, oldIv := t.leftLocked(), t.interval
	if t.timer != nil {
		t.timer.Stop()
		t.timer = nil
	}
	t.gen++
	t.count = 0
	t.expired = false
	t.interval = interval
	if value > 0 {
		t.armLocked(time.Now().Add(value), t.gen)
	}
	return oldLeft, oldIv
}

func (t *TimerFD) armLocked(deadline time.Time, gen int) {
	t.deadline = deadline
	t.timer = time.AfterFunc(time.Until(deadline), func() {
		t.mu.Lock()
		defer t.mu.Unlock()
		if t.gen != gen {
			return
		}
		t.count++
		t.timer = nil
		t.expired = t.interval > 0
		t.notifyLocked()
	})
}

// forwardLocked re-arms a periodic timer that expired: the intervals that
// passed since its expiry are counted, and it is armed for the first one
// still ahead. Linux: fs/timerfd.c (timerfd_read, timerfd_gettime:
// hrtimer_forward_now)
func (t *TimerFD) forwardLocked() {
	if !t.expired {
		return
	}
	t.expired = false
	missed := time.Since(t.deadline) / t.interval
	t.count += uint64(missed)
	t.armLocked(t.deadline.Add((missed+1)*t.interval), t.gen)
}

// Read implements vfs.FileOps: the expirations since the last read.
func (t *TimerFD) Read(ctx vfs.Ctx, dst [][]byte, off int64) (int, error) {
	n := 0
	for _, b := range dst {
		n += len(b)
	}
	if n < 8 {
		return 0, unix.EINVAL
	}
	for {
		t.mu.Lock()
		if t.count > 0 {
			t.forwardLocked()
			var b [8]byte
			binary.LittleEndian.PutUint64(b[:], t.count)
			t.count = 0
			t.notifyLocked()
			t.mu.Unlock()
			src := b[:]
			for _, d := range dst {
				src = src[copy(d, src):]
			}
			return 8, nil
		}
		ch := t.changes.Chan()
		t.mu.Unlock()
		if t.file.Flags()&unix.O_NONBLOCK != 0 {
			return 0, unix.EAGAIN
		}
		if err := vfs.WaitAny(ctx, []<-chan struct{}{ch}, time.Time{}); err != nil {
			return 0, err
		}
	}
}

// Readiness implements vfs.Poller.
func (t *TimerFD) Readiness() (uint32, <-chan struct{}) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.count > 0 {
		return unix.POLLIN, t.changes.Chan()
	}
	return 0, t.changes.Chan()
}

// Stat implements vfs.FileOps.
func (t *TimerFD) Stat(vfs.Ctx) (vfs.Stat, error) {
	return vfs.Stat{Dev: 0xd, Ino: t.ino, Mode: 0o600, Nlink: 1, Blksize: 4096}, nil
}

// Release implements vfs.FileOps.
func (t *TimerFD) Release() { t.Set(0, 0) }
