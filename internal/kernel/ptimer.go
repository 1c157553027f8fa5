package kernel

import (
	"math"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
)

// POSIX per-process timers (timer_create). Linux: kernel/time/posix-timers.c

// Sigevent says how a timer notifies (struct sigevent).
type Sigevent struct {
	Notify int // SIGEV_SIGNAL, SIGEV_NONE, SIGEV_THREAD_ID
	Signo  int
	Value  uint64
	TID    int // SIGEV_THREAD_ID target
}

// Notification kinds.
const (
	SigevSignal   = 0
	SigevNone     = 1
	SigevThreadID = 4
)

// ptimer is one POSIX timer. A periodic timer is not re-armed when it
// expires but when its signal is taken, as in Linux: the intervals that
// passed while the signal was pending become its overrun count. So a
// timer with a tiny interval sends signals only as fast as the guest takes
// them, and costs nothing while they wait (re-arming from the expiry
// itself would keep a host CPU busy). A SIGEV_NONE timer runs no host
// timer at all: its expiries are computed when asked for.
// Linux: kernel/time/posix-timers.c (posix_timer_fn, posixtimer_rearm,
// common_timer_get)
//
// Lock order: Task.mu, then ptimers.mu, then ptimer.mu (a signal is taken
// under Task.mu); no other lock is taken under ptimer.mu, and signals are
// sent after it is released.
type ptimer struct {
	mu       sync.Mutex
	id       int
	ev       Sigevent
	timer    *time.Timer
	armed    bool
	deadline time.Time // the next expiry; while rearm is set, the last one
	interval time.Duration
	overrun  int  // expirations while the last signal was pending
	lastOver int  // overrun reported with the last delivered signal
	queued   bool // a signal of this timer is pending
	rearm    bool // periodic and expired: re-armed when its signal is taken
	gen      int
}

type ptimers struct {
	mu     sync.Mutex
	next   int
	timers map[int]*ptimer
}

// TimerCreate makes a timer and returns its id.
func (tg *ThreadGroup) TimerCreate(ev Sigevent) (int, error) {
	pt := &tg.ptimers
	pt.mu.Lock()
	defer pt.mu.Unlock()
	if pt.timers == nil {
		pt.timers = map[int]*ptimer{}
	}
	if len(pt.timers) >= 4096 {
		return 0, unix.EAGAIN
	}
	id := pt.next
	pt.next++
	if ev.Notify == SigevSignal && ev.Signo == 0 && ev.Value == 0 {
		ev = Sigevent{Notify: SigevSignal, Signo: abi.SIGALRM, Value: uint64(id)}
	}
	pt.timers[id] = &ptimer{id: id, ev: ev}
	return id, nil
}

func (tg *ThreadGroup) timer(id int) (*ptimer, error) {
	pt := &tg.ptimers
	pt.mu.Lock()
	defer pt.mu.Unlock()
	if t, ok := pt.timers[id]; ok {
		return t, nil
	}
	return nil, unix.EINVAL
}

// TimerDelete disarms and removes a timer.
func (tg *ThreadGroup) TimerDelete(id int) error {
	t, err := tg.timer(id)
	if err != nil {
		return err
	}
	t.mu.Lock()
	t.disarmLocked()
	t.mu.Unlock()
	tg.ptimers.mu.Lock()
	delete(tg.ptimers.timers, id)
	tg.ptimers.mu.Unlock()
	return nil
}

func (t *ptimer) disarmLocked() {
	if t.timer != nil {
		t.timer.Stop()
		t.timer = nil
	}
	t.armed, t.rearm = false, false
	t.gen++
}

// nextAfter is the first expiry of a periodic timer after now, counted
// from its last expiry, and how many expiries it passes over.
func (t *ptimer) nextAfter(now time.Time) (time.Time, int) {
	n := now.Sub(t.deadline)/t.interval + 1
	return t.deadline.Add(n * t.interval), int(n) - 1
}

func (t *ptimer) leftLocked() time.Duration {
	if !t.armed {
		return 0
	}
	now := time.Now()
	if t.interval > 0 && (t.rearm || t.ev.Notify == SigevNone) && !now.Before(t.deadline) {
		next, _ := t.nextAfter(now)
		if t.ev.Notify == SigevNone {
			t.deadline = next
		}
		return next.Sub(now)
	}
	left := t.deadline.Sub(now)
	if left > 0 {
		return left
	}
	if t.ev.Notify == SigevNone {
		t.armed = false
		return 0
	}
	return time.Nanosecond // expired, its signal on the way
}

// TimerGet returns the time to the next expiry and the interval.
func (tg *ThreadGroup) TimerGet(id int) (time.Duration, time.Duration, error) {
	t, err := tg.timer(id)
	if err != nil {
		return 0, 0, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.leftLocked(), t.interval, nil
}

// TimerSet arms (value > 0) or disarms a timer; it returns the old setting.
func (tg *ThreadGroup) TimerSet(id int, value, interval time.Duration) (time.Duration, time.Duration, error) {
	t, err := tg.timer(id)
	if err != nil {
		return 0, 0, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	oldLeft, oldIv := t.leftLocked(), t.interval
	t.disarmLocked()
	t.interval = interval
	t.overrun = 0
	if value > 0 {
		t.armLocked(tg, time.Now().Add(value))
	}
	return oldLeft, oldIv, nil
}

// armLocked arms t for deadline; a SIGEV_NONE timer only records it.
func (t *ptimer) armLocked(tg *ThreadGroup, deadline time.Time) {
	t.armed, t.rearm = true, false
	t.deadline = deadline
	if t.ev.Notify == SigevNone {
		return
	}
	gen := t.gen
	t.timer = time.AfterFunc(time.Until(deadline), func() { t.fire(tg, gen) })
}

// minRearm is how far ahead a periodic timer whose signal was not queued
// (ignored) re-arms at the least: one tick of a 250 Hz kernel.
// Linux: kernel/time/posix-timers.c (posix_timer_fn)
const minRearm = 4 * time.Millisecond

func (t *ptimer) fire(tg *ThreadGroup, gen int) {
	t.mu.Lock()
	if t.gen != gen {
		t.mu.Unlock()
		return
	}
	t.timer = nil
	t.armed = t.interval > 0
	t.rearm = t.interval > 0
	if t.queued {
		// The last signal is still pending: this expiry is an
		// overrun, and the timer re-arms when that signal is taken.
		t.overrun++
		t.mu.Unlock()
		return
	}
	t.queued = true
	ev := t.ev
	t.mu.Unlock()
	// SI_TIMER siginfo carries the timer id and overrun where kill's
	// carries pid and uid (the overrun is filled in when it is taken).
	info := SigInfo{Signo: int32(ev.Signo), Code: abi.SI_TIMER, PID: int32(t.id), Value: ev.Value}
	var queued bool
	if target := tg.k.TaskByTID(ev.TID); ev.Notify == SigevThreadID && target != nil && target.tg == tg {
		queued = target.SendSignalInfo(info)
	} else {
		queued = tg.SignalInfo(info)
	}
	if queued {
		return
	}
	// Ignored (or a standard signal of that number already pending):
	// nothing will be taken to re-arm it, so it re-arms now.
	t.mu.Lock()
	if t.gen == gen {
		t.queued = false
		if t.rearm {
			next, missed := t.nextAfter(time.Now().Add(minRearm))
			t.overrun += missed
			t.armLocked(tg, next)
		}
	}
	t.mu.Unlock()
}

// TimerGetOverrun is timer_getoverrun: expirations lost while the last
// signal was pending.
func (tg *ThreadGroup) TimerGetOverrun(id int) (int, error) {
	t, err := tg.timer(id)
	if err != nil {
		return 0, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.lastOver, nil
}

// timerDelivered is called when a signal of timer id is taken: the
// timer may queue a new one, a periodic timer re-arms (counting the
// expiries it missed meanwhile), and the overrun to report in the
// siginfo is returned.
func (tg *ThreadGroup) timerDelivered(id int) int {
	t, err := tg.timer(id)
	if err != nil {
		return 0
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.queued = false
	if t.rearm {
		next, missed := t.nextAfter(time.Now())
		t.overrun += missed
		t.armLocked(tg, next)
	}
	t.lastOver = min(t.overrun, math.MaxInt32)
	t.overrun = 0
	return t.lastOver
}

// stopPosixTimers disarms every timer (exit, exec).
func (tg *ThreadGroup) stopPosixTimers() {
	pt := &tg.ptimers
	pt.mu.Lock()
	ts := pt.timers
	pt.timers = nil
	pt.mu.Unlock()
	for _, t := range ts {
		t.mu.Lock()
		t.disarmLocked()
		t.mu.Unlock()
	}
}
