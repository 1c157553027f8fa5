package vfs

import (
	"reflect"
	"time"

	"golang.org/x/sys/unix"
)

// Poller is implemented by files whose readiness changes (pipes,
// eventfds, sockets, terminals). Readiness returns the poll events that
// hold now (POLLIN, POLLOUT, POLLHUP, POLLERR...) and a channel that is
// closed at the next change; callers take the channel before trusting the
// events, so no change is missed between the two.
type Poller interface {
	Readiness() (uint32, <-chan struct{})
}

// Always-ready files (regular files, directories, devices without a
// Poller) report this and never change. Linux: DEFAULT_POLLMASK
const defaultPollMask = unix.POLLIN | unix.POLLOUT | 0x40 | 0x100 // POLLRDNORM, POLLWRNORM

// Readiness returns f's poll events and a change channel (nil when the
// file's readiness never changes).
func Readiness(f *File) (uint32, <-chan struct{}) {
	if p, ok := f.ops.(Poller); ok {
		return p.Readiness()
	}
	return defaultPollMask, nil
}

// WaitAny sleeps until one of chans is closed (nil entries are ignored),
// the deadline passes (zero: no deadline) or the caller is interrupted.
// It returns nil, unix.ETIMEDOUT or unix.EINTR.
func WaitAny(ctx Ctx, chans []<-chan struct{}, deadline time.Time) error {
	if ctx.Interrupted() {
		return unix.EINTR
	}
	cases := make([]reflect.SelectCase, 0, len(chans)+2)
	cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ctx.Interrupt())})
	timerIdx := -1
	if !deadline.IsZero() {
		d := time.Until(deadline)
		if d <= 0 {
			return unix.ETIMEDOUT
		}
		tm := time.NewTimer(d)
		defer tm.Stop()
		timerIdx = len(cases)
		cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(tm.C)})
	}
	for _, c := range chans {
		if c != nil {
			cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(c)})
		}
	}
	for {
		i, _, _ := reflect.Select(cases)
		switch {
		case i == 0:
			if ctx.Interrupted() {
				return unix.EINTR
			}
		case i == timerIdx:
			return unix.ETIMEDOUT
		default:
			return nil
		}
	}
}

// Live reports whether f still has references (epoll watches files
// without holding them open, as Linux does).
func (f *File) Live() bool { return f.refs.Load() > 0 }
