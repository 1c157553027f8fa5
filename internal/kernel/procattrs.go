package kernel

import (
	"encoding/binary"
	"time"
)

// Process attributes that prctl, personality and ioprio set and read
// back. Linux keeps some of them per thread (pdeath_signal, timer_slack,
// ioprio); glassbox keeps them per process, which is what a
// single-threaded caller (the common case) observes.
// Linux: kernel/sys.c (prctl), kernel/exec_domain.c (personality)
type procAttrs struct {
	personality uint32
	subreaper   bool
	pdeathSig   int
	timerSlack  uint64 // nanoseconds
	thpDisable  bool
	ioprio      int
	// execed: the process has called execve since fork (setpgid then
	// refuses to move it: EACCES). Linux: PF_FORKNOEXEC
	execed bool
	// undumpable is PR_SET_DUMPABLE 0: no core dumps, and only a tracer
	// with CAP_SYS_PTRACE may attach. execve resets it.
	undumpable bool
	// mceProcess, mceEarly: PR_MCE_KILL's policy (PF_MCE_PROCESS,
	// PF_MCE_EARLY).
	mceProcess, mceEarly bool
	// ioFlusher is PR_SET_IO_FLUSHER's mark.
	ioFlusher bool
	// schedPolicy and resetOnFork: sched_setscheduler's policy and
	// SCHED_RESET_ON_FORK (the child keeps the policy, which is never a
	// real-time one here, and loses the flag). Linux: kernel/sched/core.c
	// (sched_fork)
	schedPolicy int
	resetOnFork bool
	// mempolicy is set_mempolicy's policy (per thread in Linux).
	mempolicy MemPolicy
}

// defaultTimerSlack is the slack a process starts with (50µs).
const defaultTimerSlack = 50000

// forkAttrs is what a fork child inherits: all but the parent-death
// signal, the subreaper mark and the exec mark. Called with tg.mu held.
func (tg *ThreadGroup) forkAttrs() procAttrs {
	a := tg.attrs
	a.pdeathSig, a.subreaper, a.execed = 0, false, false
	a.resetOnFork = false
	return a
}

// Attr returns a copy of the process's attributes.
func (tg *ThreadGroup) attrsCopy() procAttrs {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.attrs
}

func (tg *ThreadGroup) setAttrs(f func(a *procAttrs)) {
	tg.mu.Lock()
	f(&tg.attrs)
	tg.mu.Unlock()
}

// Personality returns the execution domain flags.
func (tg *ThreadGroup) Personality() uint32 { return tg.attrsCopy().personality }

// SetPersonality sets them and returns the old value.
func (tg *ThreadGroup) SetPersonality(p uint32) uint32 {
	var old uint32
	tg.setAttrs(func(a *procAttrs) { old, a.personality = a.personality, p })
	return old
}

// Subreaper reports PR_GET_CHILD_SUBREAPER.
func (tg *ThreadGroup) Subreaper() bool { return tg.attrsCopy().subreaper }

// SetSubreaper records PR_SET_CHILD_SUBREAPER (orphans still go to the
// sandbox's init).
func (tg *ThreadGroup) SetSubreaper(on bool) { tg.setAttrs(func(a *procAttrs) { a.subreaper = on }) }

// PdeathSig is the signal the process gets when its parent dies.
func (tg *ThreadGroup) PdeathSig() int { return tg.attrsCopy().pdeathSig }

// SetPdeathSig records PR_SET_PDEATHSIG.
func (tg *ThreadGroup) SetPdeathSig(sig int) { tg.setAttrs(func(a *procAttrs) { a.pdeathSig = sig }) }

// TimerSlack returns PR_GET_TIMERSLACK's value.
func (tg *ThreadGroup) TimerSlack() uint64 { return tg.attrsCopy().timerSlack }

// SetTimerSlack sets it; 0 restores the default.
func (tg *ThreadGroup) SetTimerSlack(ns uint64) {
	if ns == 0 {
		ns = defaultTimerSlack
	}
	tg.setAttrs(func(a *procAttrs) { a.timerSlack = ns })
}

// THPDisable reports PR_GET_THP_DISABLE.
func (tg *ThreadGroup) THPDisable() bool { return tg.attrsCopy().thpDisable }

// SetTHPDisable records PR_SET_THP_DISABLE.
func (tg *ThreadGroup) SetTHPDisable(on bool) { tg.setAttrs(func(a *procAttrs) { a.thpDisable = on }) }

// IOPrio returns the I/O priority (ioprio_get).
func (tg *ThreadGroup) IOPrio() int { return tg.attrsCopy().ioprio }

// SetIOPrio records it (ioprio_set).
func (tg *ThreadGroup) SetIOPrio(p int) { tg.setAttrs(func(a *procAttrs) { a.ioprio = p }) }

// Uptime is how long the sandbox has run: its "boot" was its start, as
// /proc/uptime says.
func (k *Kernel) Uptime() time.Duration { return time.Since(k.start) }

// Dumpable is PR_GET_DUMPABLE's answer.
func (tg *ThreadGroup) Dumpable() bool { return !tg.attrsCopy().undumpable }

// SetDumpable is PR_SET_DUMPABLE.
func (tg *ThreadGroup) SetDumpable(on bool) { tg.setAttrs(func(a *procAttrs) { a.undumpable = !on }) }

// MCEKill reports PR_MCE_KILL_GET: 2 (default policy), 1 (early) or 0
// (late).
func (tg *ThreadGroup) MCEKill() uint64 {
	a := tg.attrsCopy()
	switch {
	case !a.mceProcess:
		return 2 // PR_MCE_KILL_DEFAULT
	case a.mceEarly:
		return 1 // PR_MCE_KILL_EARLY
	}
	return 0 // PR_MCE_KILL_LATE
}

// SetMCEKill records PR_MCE_KILL: whether the process chose a policy of
// its own and whether it is early.
func (tg *ThreadGroup) SetMCEKill(process, early bool) {
	tg.setAttrs(func(a *procAttrs) { a.mceProcess, a.mceEarly = process, early })
}

// IOFlusher reports PR_GET_IO_FLUSHER.
func (tg *ThreadGroup) IOFlusher() bool { return tg.attrsCopy().ioFlusher }

// SetIOFlusher records PR_SET_IO_FLUSHER.
func (tg *ThreadGroup) SetIOFlusher(on bool) { tg.setAttrs(func(a *procAttrs) { a.ioFlusher = on }) }

// SavedAuxv is the auxiliary vector as PR_GET_AUXV copies it: the
// pairs given at exec, then zeros up to Linux's saved_auxv size.
// Linux: kernel/sys.c (prctl_get_auxv), include/linux/mm_types.h
func (tg *ThreadGroup) SavedAuxv() []byte {
	const size = 2 * (3 + 22 + 1) * 8 // AT_VECTOR_SIZE words on x86-64
	b := make([]byte, size)
	tg.mu.Lock()
	for i, w := range tg.auxv {
		if 8*i+8 > size-16 { // keep the closing AT_NULL pair
			break
		}
		binary.LittleEndian.PutUint64(b[8*i:], w)
	}
	tg.mu.Unlock()
	return b
}

// SchedPolicy returns the scheduling policy (SCHED_OTHER, SCHED_BATCH or
// SCHED_IDLE: the ones glassbox grants) and whether SCHED_RESET_ON_FORK
// is set.
func (tg *ThreadGroup) SchedPolicy() (int, bool) {
	a := tg.attrsCopy()
	return a.schedPolicy, a.resetOnFork
}

// SetSchedPolicy records them.
func (tg *ThreadGroup) SetSchedPolicy(policy int, resetOnFork bool) {
	tg.setAttrs(func(a *procAttrs) { a.schedPolicy, a.resetOnFork = policy, resetOnFork })
}

// MemPolicy is a set_mempolicy policy: the mode, its mode flags and the
// node mask as the caller gave it (MAX_NUMNODES bits).
type MemPolicy struct {
	Mode, Flags int
	Nodes       [16]uint64
}

// MemPolicy returns the process's memory policy (the zero value is
// MPOL_DEFAULT).
func (tg *ThreadGroup) MemPolicy() MemPolicy { return tg.attrsCopy().mempolicy }

// SetMemPolicy records set_mempolicy's policy.
func (tg *ThreadGroup) SetMemPolicy(p MemPolicy) { tg.setAttrs(func(a *procAttrs) { a.mempolicy = p }) }
