package kernel

import (
	"time"

	"glassbox/internal/abi"
)

// cpuLimitTick is how often the sandbox-wide CPU bound is checked.
const cpuLimitTick = 100 * time.Millisecond

// cpuLimitGrace is the CPU time a sandbox may still use after SIGXCPU
// before everything in it is killed (the gap between RLIMIT_CPU's soft
// and hard limits that Linux lets a process have).
const cpuLimitGrace = time.Second

// SandboxCPU is the CPU time the sandbox's guests have used: the tasks
// that ended plus the running ones.
func (k *Kernel) SandboxCPU() time.Duration {
	k.mu.Lock()
	ts := make([]*Task, 0, len(k.tasks))
	for _, t := range k.tasks {
		ts = append(ts, t)
	}
	k.mu.Unlock()
	total := time.Duration(k.stats.cpuNanos.Load())
	for _, t := range ts {
		total += t.CPUTime()
	}
	return total
}

// watchCPU enforces Config.CPUTime, RLIMIT_CPU for the whole sandbox: at
// the bound every process gets SIGXCPU (which kills by default), and
// cpuLimitGrace later every task is killed.
// Linux: kernel/time/posix-cpu-timers.c (check_process_timers, RLIMIT_CPU)
func (k *Kernel) watchCPU() {
	tick := time.NewTicker(cpuLimitTick)
	defer tick.Stop()
	warned := false
	for {
		select {
		case <-k.done:
			return
		case <-tick.C:
		}
		used := k.SandboxCPU()
		switch {
		case used >= k.cfg.CPUTime+cpuLimitGrace:
			k.Logf("CPU time limit %v reached: killing every process", k.cfg.CPUTime)
			k.KillAll()
			return
		case used >= k.cfg.CPUTime && !warned:
			warned = true
			k.Logf("CPU time limit %v reached: SIGXCPU to every process", k.cfg.CPUTime)
			k.signalEveryProcess(SigInfo{Signo: abi.SIGXCPU, Code: abi.SI_KERNEL})
		}
	}
}

// signalEveryProcess sends info to each thread group of the sandbox.
func (k *Kernel) signalEveryProcess(info SigInfo) {
	k.mu.Lock()
	seen := map[*ThreadGroup]bool{}
	for _, t := range k.tasks {
		seen[t.tg] = true
	}
	k.mu.Unlock()
	for tg := range seen {
		tg.SignalInfo(info)
	}
}
