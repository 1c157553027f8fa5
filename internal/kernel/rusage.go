package kernel

import "time"

// Usage is what getrusage and times report.
type Usage struct {
	CPU    time.Duration // user time; glassbox can't split user from system
	MinFlt uint64
	MajFlt uint64
}

// SelfUsage sums the process's live and finished threads.
func (tg *ThreadGroup) SelfUsage() Usage {
	tg.mu.Lock()
	u := Usage{CPU: tg.cpuDead, MinFlt: tg.faultsDead, MajFlt: tg.majDead}
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
	}
	return u
}

// ChildrenUsage sums the reaped children (and their reaped children).
func (tg *ThreadGroup) ChildrenUsage() Usage {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return Usage{CPU: tg.cpuChildren, MinFlt: tg.faultsChildren, MajFlt: tg.majChildren}
}

// ThreadUsage is the calling thread's own usage.
func (t *Task) ThreadUsage() Usage { return Usage{CPU: t.CPUTime()} }

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
	if len(tg.tasks) == 1 {
		tg.faultsDead += flt // the address space dies with the last thread
		tg.majDead += maj
	}
	tg.mu.Unlock()
}

// addChildUsage folds a reaped child's totals into its parent.
func (tg *ThreadGroup) addChildUsage(c *ThreadGroup) {
	c.mu.Lock()
	cpu := c.cpuDead + c.cpuChildren
	flt := c.faultsDead + c.faultsChildren
	maj := c.majDead + c.majChildren
	c.mu.Unlock()
	tg.mu.Lock()
	tg.cpuChildren += cpu
	tg.faultsChildren += flt
	tg.majChildren += maj
	tg.mu.Unlock()
}
