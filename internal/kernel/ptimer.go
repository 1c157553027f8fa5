package kernel

import (
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

type ptimer struct {
	mu       sync.Mutex
	id       int
	ev       Sigevent
	timer    *time.Timer
	deadline time.Time
	interval time.Duration
	overrun  int  // expirations while the last signal was pending
	lastOver int  // overrun reported with the last delivered signal
	queued   bool // a signal of this timer is pending
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
	t.gen++
}

func (t *ptimer) leftLocked() time.Duration {
	if t.timer == nil {
		return 0
	}
	return max(time.Until(t.deadline), time.Nanosecond)
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
		t.armLocked(tg, value, t.gen)
	}
	return oldLeft, oldIv, nil
}

func (t *ptimer) armLocked(tg *ThreadGroup, d time.Duration, gen int) {
	t.deadline = time.Now().Add(d)
	t.timer = time.AfterFunc(d, func() { t.fire(tg, gen) })
}

func (t *ptimer) fire(tg *ThreadGroup, gen int) {
	t.mu.Lock()
	if t.gen != gen {
		t.mu.Unlock()
		return
	}
	if t.interval > 0 {
		t.armLocked(tg, t.interval, gen)
	} else {
		t.timer = nil
	}
	send := !t.queued && t.ev.Notify != SigevNone
	if send {
		t.queued = true
		t.lastOver = t.overrun
		t.overrun = 0
	} else {
		t.overrun++
	}
	ev := t.ev
	t.mu.Unlock()
	if !send {
		return
	}
	// SI_TIMER siginfo carries the timer id and overrun where kill's
	// carries pid and uid.
	info := SigInfo{Signo: int32(ev.Signo), Code: abi.SI_TIMER, PID: int32(t.id), UID: uint32(t.lastOver), Value: ev.Value}
	if ev.Notify == SigevThreadID {
		if target := tg.k.TaskByTID(ev.TID); target != nil && target.tg == tg {
			target.SendSignalInfo(info)
			return
		}
	}
	tg.SignalInfo(info)
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

// timerDelivered marks a timer's signal as taken, so the next expiry
// queues a new one. Called when an SI_TIMER signal is dequeued.
func (tg *ThreadGroup) timerDelivered(id int) {
	if t, err := tg.timer(id); err == nil {
		t.mu.Lock()
		t.queued = false
		t.mu.Unlock()
	}
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
