package kernel

import (
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/platform"
)

// Futex waits park the task's OS thread on a host futex of its own instead
// of a Go channel. A task goroutine is locked to its OS thread: a channel
// wake readies the goroutine through Go's scheduler, which must first find
// an M to run it, then hand the P to the locked M and wake that — two or
// three host wake-ups, often across CPUs. A parked thread is woken by one
// host FUTEX_WAKE from the waker, and the goroutine never leaves its M.
//
// parker.seq is the host futex word (a private futex: only glassbox' own
// threads use it). Every unpark bumps it; the parked thread sleeps only on
// the value it read before it last looked at what it waits for, so a
// wake in between makes its FUTEX_WAIT return at once. sleeping is set
// while the owner may be in FUTEX_WAIT: an unpark makes the wake syscall
// only then (the owner sets sleeping before it looks, the waker bumps seq
// after it made its event visible: one of them sees the other).
type parker struct {
	seq      atomic.Uint32
	sleeping atomic.Bool
	armed    uint32 // seq when the owner armed its vfs.Sleeper (sleeper.go)
}

// unpark wakes the owner if it is parked (or makes its next park return).
func (p *parker) unpark() {
	p.seq.Add(1)
	if p.sleeping.Load() {
		unix.RawSyscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(&p.seq)),
			abi.FUTEX_WAKE|abi.FUTEX_PRIVATE_FLAG, 1, 0, 0, 0)
	}
}

// park sleeps while seq still holds s, for at most d if d > 0 (or until a
// spurious wake-up). The scheduler-aware Syscall path lets Go run other
// goroutines meanwhile.
func (p *parker) park(s uint32, d time.Duration) {
	var ts *unix.Timespec
	if d > 0 {
		t := unix.NsecToTimespec(d.Nanoseconds())
		ts = &t
	}
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(&p.seq)),
		abi.FUTEX_WAIT|abi.FUTEX_PRIVATE_FLAG, uintptr(s), uintptr(unsafe.Pointer(ts)), 0, 0)
}

// A futex wait polls its wake-up for a short while before it parks, when
// the host has a CPU to spare: a wake then costs the waker one store, and
// the waiter neither sleeps nor is woken across CPUs (a halted virtual
// CPU's wake-up is most of a hand-off's cost). Never with more runnable
// threads on the host than CPUs (the poller would wait out another
// thread's time slice, or take one: platform.RecentRunnable, the caller
// included), never more than ncpu/2 pollers at once (Kernel.spinners: the
// thread each waits for needs a CPU too), and never for a wait whose
// deadline is nearer than the poll. A task whose polls keep missing (its
// waits are long) stops polling for twice as many waits each time, up to
// spinSkipMax.
const (
	spinPoll    = 50 * time.Microsecond
	spinSkipMax = 256
)

// spinState is a task's record of its polls (its own goroutine's).
type spinState struct {
	skip, backoff int
}

// spinWait polls woken for up to spinPoll and reports whether it fired.
// It gives up early when a token is on intr (the caller looks at it).
func (t *Task) spinWait(woken *wakeup, deadline time.Time) bool {
	st := &t.spin
	if st.skip > 0 {
		st.skip--
		return false
	}
	if !deadline.IsZero() && time.Until(deadline) < spinPoll {
		return false
	}
	if !t.k.takeSpinner() {
		return false
	}
	defer t.k.spinners.Add(-1)
	if platform.RecentRunnable() > t.k.ncpu {
		return false
	}
	start := time.Now()
	for i := 1; ; i++ {
		if woken.fired.Load() {
			st.backoff = 0
			return true
		}
		if i%32 == 0 && (len(t.intr) > 0 || time.Since(start) > spinPoll) {
			break
		}
	}
	st.backoff = min(max(1, 2*st.backoff), spinSkipMax)
	st.skip = st.backoff
	return false
}

// takeSpinner counts a poller in, if there is room for one.
func (k *Kernel) takeSpinner() bool {
	for {
		n := k.spinners.Load()
		if n >= int32(k.ncpu/2) {
			return false
		}
		if k.spinners.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// wakeup is a one-shot event one task waits for (a futex waiter's wake).
// The waker fires it; only the task named waits for it.
type wakeup struct {
	fired atomic.Bool
	t     *Task
}

func newWakeup(t *Task) *wakeup { return &wakeup{t: t} }

// fire sets the event and wakes its task.
func (e *wakeup) fire() {
	e.fired.Store(true)
	e.t.park.unpark()
}

// kick leaves a token on intr (if none is there) and unparks the task:
// every wait in the kernel, parked or selecting on intr, looks at its
// signals.
func (t *Task) kick() {
	select {
	case t.intr <- struct{}{}:
	default:
	}
	t.park.unpark()
}

// interruptPending takes intr's token if there is one.
func (t *Task) interruptPending() bool {
	select {
	case <-t.intr:
		return true
	default:
		return false
	}
}
