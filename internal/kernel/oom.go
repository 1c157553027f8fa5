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
// victim's memory to be freed and then tries again; while a victim (or any
// process) is on its way out with memory, nobody else is killed. Memory
// that no kill frees (tmpfs data) ends with every process killed, the
// largest first, as on Linux.
// Linux: mm/oom_kill.c (out_of_memory, oom_badness)

// oomWait bounds how long a task waits for a victim's memory.
const oomWait = 5 * time.Second

// oom handles an allocation that failed at the memory limit. It reports
// whether the task should retry (false: it is being killed).
func (t *Task) oom() bool {
	victim, exiting := t.k.oomVictim()
	if exiting != nil {
		// A process on its way out (an earlier victim, say) frees its
		// memory soon: wait for it rather than kill another.
		// Linux: mm/oom_kill.c (oom_evaluate_task: abort while a victim exits)
		if !t.oomAwait(exiting) && !t.fatalPending() {
			// Stuck on its way out: count it no more (Linux's OOM
			// reaper gives up on it the same way: MMF_OOM_SKIP).
			exiting.oomSkip.Store(true)
		}
		return true
	}
	if victim == nil {
		victim = t.tg
	}
	t.k.oomKill(victim)
	if victim == t.tg {
		return false
	}
	t.oomAwait(victim)
	return true
}

// oomAwait waits, at most oomWait, until tg's memory is given back (its
// last thread has finished: it is a zombie). It reports whether it was.
// A waiter that is killed meanwhile stops waiting at once: its own exit
// gives memory back, and a victim may be waiting for it (a victim's
// thread that was itself waiting here when it was killed, say: without
// this, a fork bomb's processes killed when the sandbox's first process
// exited waited out each other's oomWait and glassbox did not end).
func (t *Task) oomAwait(tg *ThreadGroup) bool {
	k := t.k
	deadline := time.Now().Add(oomWait)
	for time.Now().Before(deadline) && !t.fatalPending() {
		k.mu.Lock()
		gone := tg.zombie
		k.mu.Unlock()
		if gone {
			return true
		}
		time.Sleep(time.Millisecond)
	}
	return false
}

// oomVictim picks the live process whose address space holds the most
// resident pages (each address space counted for one of its processes).
// If a process that is exiting still holds resident pages, it returns
// that one as exiting instead: its memory is coming back.
func (k *Kernel) oomVictim() (victim, exiting *ThreadGroup) {
	k.mu.Lock()
	var tgs []*ThreadGroup
	seen := map[*ThreadGroup]bool{}
	for _, t := range k.tasks {
		if !seen[t.tg] && !t.tg.zombie {
			seen[t.tg] = true
			tgs = append(tgs, t.tg)
		}
	}
	k.mu.Unlock()
	type proc struct {
		tg     *ThreadGroup
		m      *mm.MM
		exited bool
	}
	var procs []proc
	live := map[*mm.MM]bool{} // address spaces a live process uses
	for _, tg := range tgs {
		tg.mu.Lock()
		p := proc{tg: tg, exited: tg.exited || tg.oomDying.Load()}
		if len(tg.tasks) > 0 {
			p.m = tg.tasks[0].memShared()
		}
		tg.mu.Unlock()
		if p.m == nil {
			continue
		}
		procs = append(procs, p)
		if !p.exited {
			live[p.m] = true
		}
	}
	var bestRSS uint64
	counted := map[*mm.MM]bool{}
	for _, p := range procs {
		if counted[p.m] || p.exited && (live[p.m] || p.tg.oomSkip.Load()) {
			continue // an exit that frees no memory (CLONE_VM)
		}
		counted[p.m] = true
		rss := p.m.Resident()
		if p.exited {
			if rss > 0 {
				exiting = p.tg
			}
			continue
		}
		if victim == nil || rss > bestRSS || rss == bestRSS && p.tg.pid > victim.pid {
			victim, bestRSS = p.tg, rss
		}
	}
	return victim, exiting
}

// oomKill kills tg and says so.
func (k *Kernel) oomKill(tg *ThreadGroup) {
	tg.mu.Lock()
	already := tg.exited
	tg.mu.Unlock()
	if already || tg.oomDying.Swap(true) {
		return
	}
	var m *mm.MM
	tg.mu.Lock()
	if len(tg.tasks) > 0 {
		m = tg.tasks[0].memShared()
	}
	tg.mu.Unlock()
	var rss uint64
	if m != nil {
		rss = m.Resident()
	}
	mf := k.cfg.MemFile
	k.Logf("out of memory: killed pid %d (%s), resident %d KiB; the sandbox holds %d KiB, %d KiB of it in files",
		tg.pid, tg.Comm(), rss*4, mf.Stats().InUse*4, mf.Held()*4)
	k.stats.oomKills.Add(1)
	if tr := k.cfg.Tracer; tr.On(trace.Mem) {
		tr.Emit(&trace.Event{Kind: trace.Mem, PID: tg.pid, Detail: "out of memory: killed by the OOM killer"})
	}
	tg.SignalInfo(SigInfo{Signo: abi.SIGKILL, Code: abi.SI_KERNEL})
}
