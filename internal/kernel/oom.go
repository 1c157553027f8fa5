package kernel

import (
	"time"

	"glassbox/internal/abi"
	"glassbox/internal/mm"
	"glassbox/internal/trace"
)

// The OOM killer. When the sandbox is at its memory limit (--memory) and
// reclaim (swap) could not make room, the process with the most resident
// pages is killed with SIGKILL and a line on glassbox' log says so. If that
// is not the process that needed the memory, the needy one waits for the
// victim's memory to be freed and then tries again.
// Linux: mm/oom_kill.c (out_of_memory, oom_badness)

// oomWait bounds how long a task waits for a victim's memory.
const oomWait = 5 * time.Second

// oomMaxRetries is how many times one task may ask for a victim before it
// is the victim itself (memory that no kill frees, like tmpfs data).
const oomMaxRetries = 3

// oom handles an allocation that failed at the memory limit. It reports
// whether the task should retry (false: it is being killed).
func (t *Task) oom() bool {
	victim := t.k.oomVictim()
	if victim == nil || t.oomRetries >= oomMaxRetries {
		victim = t.tg
	}
	t.k.oomKill(victim)
	if victim == t.tg {
		t.oomRetries = 0
		return false
	}
	t.oomRetries++
	deadline := time.Now().Add(oomWait)
	for time.Now().Before(deadline) {
		t.k.mu.Lock()
		gone := victim.zombie
		t.k.mu.Unlock()
		if gone {
			break
		}
		time.Sleep(time.Millisecond)
	}
	return true
}

// oomVictim picks the live process whose address space holds the most
// resident pages (each address space counted for one of its processes).
func (k *Kernel) oomVictim() *ThreadGroup {
	k.mu.Lock()
	var tgs []*ThreadGroup
	seen := map[*ThreadGroup]bool{}
	for _, t := range k.tasks {
		if !seen[t.tg] {
			seen[t.tg] = true
			tgs = append(tgs, t.tg)
		}
	}
	k.mu.Unlock()
	var best *ThreadGroup
	var bestRSS uint64
	mms := map[*mm.MM]bool{}
	for _, tg := range tgs {
		tg.mu.Lock()
		exited := tg.exited
		var m *mm.MM
		if len(tg.tasks) > 0 {
			m = tg.tasks[0].memShared()
		}
		tg.mu.Unlock()
		if exited || m == nil || mms[m] {
			continue
		}
		mms[m] = true
		if rss := m.Resident(); best == nil || rss > bestRSS || rss == bestRSS && tg.pid > best.pid {
			best, bestRSS = tg, rss
		}
	}
	return best
}

// oomKill kills tg and says so.
func (k *Kernel) oomKill(tg *ThreadGroup) {
	tg.mu.Lock()
	already := tg.exited
	tg.mu.Unlock()
	if already {
		return
	}
	k.Logf("out of memory: killed pid %d (%s)", tg.pid, tg.Comm())
	k.stats.oomKills.Add(1)
	if tr := k.cfg.Tracer; tr.On(trace.Mem) {
		tr.Emit(&trace.Event{Kind: trace.Mem, PID: tg.pid, Detail: "out of memory: killed by the OOM killer"})
	}
	tg.SignalInfo(SigInfo{Signo: abi.SIGKILL, Code: abi.SI_KERNEL})
}
