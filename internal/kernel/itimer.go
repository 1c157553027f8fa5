package kernel

import (
	"sync"
	"time"

	"glassbox/internal/abi"
)

// realTimer is a process's ITIMER_REAL (alarm(2), setitimer(2)): when it
// expires the process gets SIGALRM. A periodic one re-arms when a SIGALRM
// is taken, as in Linux (so its signals come only as fast as the guest
// takes them, and one whose SIGALRM is ignored stops).
// Linux: kernel/time/itimer.c (it_real_fn), kernel/signal.c (dequeue_signal)
//
// Lock order: Task.mu, then realTimer.mu (a signal is taken under
// Task.mu); SIGALRM is sent after realTimer.mu is released.
type realTimer struct {
	mu       sync.Mutex
	timer    *time.Timer
	deadline time.Time // the next expiry; while rearm is set, the last one
	interval time.Duration
	rearm    bool // periodic and expired: re-armed when a SIGALRM is taken
	gen      int  // invalidates callbacks of replaced timers
}

// RealTimer returns the time left and the interval of ITIMER_REAL.
func (tg *ThreadGroup) RealTimer() (left, interval time.Duration) {
	rt := &tg.itimer
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.timer == nil {
		return 0, rt.interval
	}
	left = time.Until(rt.deadline)
	if left <= 0 {
		left = time.Microsecond // expired but not yet re-armed
	}
	return left, rt.interval
}

// SetRealTimer arms ITIMER_REAL (value 0 disarms) and returns the old
// setting.
func (tg *ThreadGroup) SetRealTimer(value, interval time.Duration) (oldLeft, oldInterval time.Duration) {
	oldLeft, oldInterval = tg.RealTimer()
	rt := &tg.itimer
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.timer != nil {
		rt.timer.Stop()
		rt.timer = nil
	}
	rt.rearm = false
	rt.gen++
	if value <= 0 {
		rt.interval = 0
		return
	}
	rt.interval = interval
	rt.arm(tg, time.Now().Add(value), rt.gen)
	return
}

func (rt *realTimer) arm(tg *ThreadGroup, deadline time.Time, gen int) {
	rt.deadline = deadline
	rt.timer = time.AfterFunc(time.Until(deadline), func() {
		rt.mu.Lock()
		if rt.gen != gen {
			rt.mu.Unlock()
			return
		}
		rt.timer = nil
		rt.rearm = rt.interval > 0
		rt.mu.Unlock()
		tg.SignalInfo(SigInfo{Signo: abi.SIGALRM, Code: abi.SI_KERNEL})
	})
}

// alarmTaken re-arms a periodic ITIMER_REAL that expired, for its first
// expiry after now: called when a SIGALRM is taken.
func (tg *ThreadGroup) alarmTaken() {
	rt := &tg.itimer
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if !rt.rearm {
		return
	}
	rt.rearm = false
	n := time.Since(rt.deadline)/rt.interval + 1
	rt.arm(tg, rt.deadline.Add(n*rt.interval), rt.gen)
}

// stopTimers disarms the process's timers (at exit).
func (tg *ThreadGroup) stopTimers() {
	tg.SetRealTimer(0, 0)
	tg.stopPosixTimers()
}
