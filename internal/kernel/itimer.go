package kernel

import (
	"sync"
	"time"

	"glassbox/internal/abi"
)

// realTimer is a process's ITIMER_REAL (alarm(2), setitimer(2)): when it
// expires the process gets SIGALRM, and it re-arms with its interval.
// Linux: kernel/time/itimer.c
type realTimer struct {
	mu       sync.Mutex
	timer    *time.Timer
	deadline time.Time
	interval time.Duration
	gen      int // invalidates callbacks of replaced timers
}

// RealTimer returns the time left and the interval of ITIMER_REAL.
func (tg *ThreadGroup) RealTimer() (left, interval time.Duration) {
	rt := &tg.itimer
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.timer == nil {
		return 0, 0
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
	rt.gen++
	if value <= 0 {
		rt.interval = 0
		return
	}
	rt.interval = interval
	rt.arm(tg, value, rt.gen)
	return
}

func (rt *realTimer) arm(tg *ThreadGroup, d time.Duration, gen int) {
	rt.deadline = time.Now().Add(d)
	rt.timer = time.AfterFunc(d, func() {
		rt.mu.Lock()
		if rt.gen != gen {
			rt.mu.Unlock()
			return
		}
		if rt.interval > 0 {
			rt.arm(tg, rt.interval, gen)
		} else {
			rt.timer = nil
		}
		rt.mu.Unlock()
		tg.SignalInfo(SigInfo{Signo: abi.SIGALRM, Code: abi.SI_KERNEL})
	})
}

// stopTimers disarms the process's timers (at exit).
func (tg *ThreadGroup) stopTimers() {
	tg.SetRealTimer(0, 0)
	tg.stopPosixTimers()
}
