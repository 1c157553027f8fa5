package kernel

import (
	"time"

	"glassbox/internal/mm"
)

// Usage is what getrusage and times report.
type Usage struct {
	CPU    time.Duration // user time; glassbox can't split user from system
	MinFlt uint64
	MajFlt uint64
	MaxRSS uint64 // resident high-water mark in pages (ru_maxrss)
}

// SelfUsage sums the process's live and finished threads.
func (tg *ThreadGroup) SelfUsage() Usage {
	tg.mu.Lock()
	u := Usage{CPU: tg.cpuDead, MinFlt: tg.faultsDead, MajFlt: tg.majDead, MaxRSS: tg.maxRSS}
	tasks := append([]*Task(nil), tg.tasks...)
	tg.mu.Unlock()
	for _, t := range tasks {
		u.CPU += t.CPUTime()
	}
	if len(tasks) == 0 {
		return u
	}
	if m := tasks[0].memShared(); m != nil {
		st := m.Stats()
		u.MinFlt += st.MinorFaults
		u.MajFlt += st.MajorFaults
		u.MaxRSS = max(u.MaxRSS, m.PeakResident())
	}
	return u
}

// ChildrenUsage sums the reaped children (and their reaped children).
func (tg *ThreadGroup) ChildrenUsage() Usage {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return Usage{CPU: tg.cpuChildren, MinFlt: tg.faultsChildren, MajFlt: tg.majChildren, MaxRSS: tg.cmaxRSS}
}

// noteMaxRSS keeps m's high-water mark in the process's before m goes (at
// exec, and with the last thread). Linux: kernel/exit.c and fs/exec.c
// (setmax_mm_hiwater_rss)
func (tg *ThreadGroup) noteMaxRSS(m *mm.MM) {
	peak := m.PeakResident()
	tg.mu.Lock()
	tg.maxRSS = max(tg.maxRSS, peak)
	tg.mu.Unlock()
}

// reapedUsage is what wait4 and waitid report for the reaped child c: its
// own totals and its reaped children's (Linux's RUSAGE_BOTH).
func (c *ThreadGroup) reapedUsage() Usage {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Usage{CPU: c.cpuDead + c.cpuChildren, MinFlt: c.faultsDead + c.faultsChildren,
		MajFlt: c.majDead + c.majChildren, MaxRSS: max(c.maxRSS, c.cmaxRSS)}
}

// ThreadUsage is the calling thread's own usage.
func (t *Task) ThreadUsage() Usage {
	u := Usage{CPU: t.CPUTime(), MaxRSS: t.tg.SelfUsage().MaxRSS} // maxrss as RUSAGE_SELF's (Linux: kernel/sys.c)
	return u
}

// recordThreadExit adds a finishing task's CPU time to its process.
func (t *Task) recordThreadExit() {
	cpu := t.CPUTime()
	t.k.stats.cpuNanos.Add(uint64(cpu))
	var flt, maj uint64
	if t.mm != nil {
		st := t.mm.Stats()
		flt, maj = st.MinorFaults, st.MajorFaults
	}
	tg := t.tg
	tg.mu.Lock()
	tg.cpuDead += cpu
	last := len(tg.tasks) == 1
	if last {
		tg.faultsDead += flt // the address space dies with the last thread
		tg.majDead += maj
	}
	tg.mu.Unlock()
	if last && t.mm != nil {
		tg.noteMaxRSS(t.mm)
	}
}

// addChildUsage folds a reaped child's totals into its parent.
func (tg *ThreadGroup) addChildUsage(c *ThreadGroup) {
	c.mu.Lock()
	cpu := c.cpuDead + c.cpuChildren
	flt := c.faultsDead + c.faultsChildren
	maj := c.majDead + c.majChildren
	rss := max(c.maxRSS, c.cmaxRSS)
	c.mu.Unlock()
	tg.mu.Lock()
	tg.cmaxRSS = max(tg.cmaxRSS, rss)
	tg.cpuChildren += cpu
	tg.faultsChildren += flt
	tg.majChildren += maj
	tg.mu.Unlock()
}
