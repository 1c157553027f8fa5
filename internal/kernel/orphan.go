package kernel

import "glassbox/internal/abi"

// Orphaned process groups. A process group is orphaned when no member has
// a parent in another group of the same session: nobody is left who could
// continue its stopped jobs (the shell that would have run `fg`). When a
// process's exit orphans a group that has stopped members, every member
// gets SIGHUP and then SIGCONT, so the job either dies or carries on
// instead of staying stopped forever. The exit can orphan the process's
// own group (it was the member whose parent sat outside) or the groups of
// its children (it was their parent, outside their group).
// Linux: kernel/exit.c (kill_orphaned_pgrp, will_become_orphaned_pgrp)

// orphanCheck runs after tg has exited and its children went to init.
func (k *Kernel) orphanCheck(tg, parent *ThreadGroup, children []*ThreadGroup) {
	pgid, sid := tg.Pgid(), tg.Sid()
	if parent != nil && parent.Pgid() != pgid && parent.Sid() == sid {
		k.hangUpIfOrphaned(pgid)
	}
	done := map[int]bool{pgid: true}
	for _, c := range children {
		cp := c.Pgid()
		if done[cp] || c.Sid() != sid {
			continue
		}
		done[cp] = true
		k.hangUpIfOrphaned(cp)
	}
}

// hangUpIfOrphaned sends SIGHUP and SIGCONT to group pgid if it is
// orphaned and has a stopped member.
func (k *Kernel) hangUpIfOrphaned(pgid int) {
	var members []*ThreadGroup
	for _, pid := range k.PIDs() {
		if m := k.ThreadGroupByPID(pid); m != nil && m.Pgid() == pgid {
			members = append(members, m)
		}
	}
	stopped := false
	for _, m := range members {
		m.mu.Lock()
		p := m.parent
		m.mu.Unlock()
		// Linux does not count a parent that is the global init; the
		// sandbox's pid 1 is a namespace's init, which counts.
		if p != nil && p.Pgid() != pgid && p.Sid() == m.Sid() {
			return // not orphaned
		}
		stopped = stopped || m.isStopped()
	}
	if !stopped {
		return
	}
	for _, sig := range []int{abi.SIGHUP, abi.SIGCONT} {
		for _, m := range members {
			m.SignalInfo(SigInfo{Signo: int32(sig), Code: abi.SI_KERNEL})
		}
	}
}
