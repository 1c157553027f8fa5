package kernel

import (
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
)

// ITIMER_VIRTUAL and ITIMER_PROF: timers that run on the process's CPU
// time. glassbox can't tell user from system time of a stub thread, so
// both count all of it; a watcher samples the process's CPU time every
// cpuTimerTick and signals when a timer's budget is used up.
// Linux: kernel/time/itimer.c, kernel/time/posix-cpu-timers.c

const cpuTimerTick = 5 * time.Millisecond

type cpuTimer struct {
	value, interval time.Duration // value: CPU time left; 0 = disarmed
}

type cpuTimers struct {
	mu      sync.Mutex
	t       [2]cpuTimer // 0: ITIMER_VIRTUAL, 1: ITIMER_PROF
	last    time.Duration
	running bool
}

// Which CPU timer: the itimer numbers.
const (
	ItimerVirtual = 1
	ItimerProf    = 2
)

// CPUTimer returns the CPU time left and interval of an ITIMER_VIRTUAL or
// ITIMER_PROF timer.
func (tg *ThreadGroup) CPUTimer(which int) (time.Duration, time.Duration) {
	ct := &tg.cpuTimers
	ct.mu.Lock()
	defer ct.mu.Unlock()
	c := ct.t[which-1]
	return c.value, c.interval
}

// SetCPUTimer arms (value > 0) or disarms a CPU-time timer and returns the
// old setting.
func (tg *ThreadGroup) SetCPUTimer(which int, value, interval time.Duration) (time.Duration, time.Duration) {
	ct := &tg.cpuTimers
	ct.mu.Lock()
	defer ct.mu.Unlock()
	old := ct.t[which-1]
	ct.t[which-1] = cpuTimer{value: value, interval: interval}
	if value > 0 && !ct.running {
		ct.running = true
		ct.last = tg.SelfUsage().CPU
		go tg.watchCPU()
	}
	return old.value, old.interval
}

// watchCPU charges CPU time to the armed timers until none is armed or
// the process has exited.
func (tg *ThreadGroup) watchCPU() {
	ct := &tg.cpuTimers
	tick := time.NewTicker(cpuTimerTick)
	defer tick.Stop()
	for range tick.C {
		now := tg.SelfUsage().CPU
		tg.mu.Lock()
		gone := tg.exited || len(tg.tasks) == 0
		tg.mu.Unlock()
		ct.mu.Lock()
		used := now - ct.last
		ct.last = now
		var fire []int
		armed, limitSig := false, tg.cpuLimitLocked(now)
		for i := range ct.t {
			c := &ct.t[i]
			if c.value <= 0 {
				continue
			}
			c.value -= used
			if c.value <= 0 {
				fire = append(fire, i)
				c.value = c.interval
			}
			armed = armed || c.value > 0
		}
		if gone || !armed && !tg.cpuLimited() {
			ct.running = false
			ct.mu.Unlock()
			return
		}
		ct.mu.Unlock()
		if limitSig != 0 {
			tg.SignalInfo(SigInfo{Signo: int32(limitSig), Code: abi.SI_KERNEL})
		}
		for _, i := range fire {
			sig := abi.SIGVTALRM
			if i == 1 {
				sig = abi.SIGPROF
			}
			tg.SignalInfo(SigInfo{Signo: int32(sig), Code: abi.SI_KERNEL})
		}
	}
}

// cpuLimited reports whether RLIMIT_CPU's soft limit is finite.
func (tg *ThreadGroup) cpuLimited() bool {
	return tg.Rlimit(unix.RLIMIT_CPU).Cur != unix.RLIM_INFINITY
}

// cpuLimitLocked applies RLIMIT_CPU to the process's CPU time: SIGKILL at
// the hard limit; at the soft limit SIGXCPU, and the soft limit moves on
// by a second so the next comes a second later. It returns the signal to
// send (0: none). cpuTimers.mu held.
// Linux: kernel/time/posix-cpu-timers.c (check_process_timers)
func (tg *ThreadGroup) cpuLimitLocked(used time.Duration) int {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	l := &tg.rlimits[unix.RLIMIT_CPU]
	if l.Cur == unix.RLIM_INFINITY {
		return 0
	}
	secs := uint64(used / time.Second)
	if l.Max != unix.RLIM_INFINITY && secs >= l.Max {
		return abi.SIGKILL
	}
	if secs >= l.Cur {
		l.Cur++
		return abi.SIGXCPU
	}
	return 0
}

// armCPULimit starts the CPU watcher for a finite RLIMIT_CPU (after
// setrlimit, or in a fork child that inherited one).
func (tg *ThreadGroup) armCPULimit() {
	if !tg.cpuLimited() {
		return
	}
	ct := &tg.cpuTimers
	ct.mu.Lock()
	defer ct.mu.Unlock()
	if !ct.running {
		ct.running = true
		ct.last = tg.SelfUsage().CPU
		go tg.watchCPU()
	}
}
