package kernel

import (
	"strconv"
	"time"

	"glassbox/internal/abi"
	"glassbox/internal/trace"
	"glassbox/internal/vfs"
)

// exitGroup makes every task of the process exit with status.
func (t *Task) exitGroup(s ExitStatus) {
	tg := t.tg
	tg.mu.Lock()
	first := !tg.exited
	if first {
		tg.exited = true
		tg.status = s
	}
	tasks := append([]*Task(nil), tg.tasks...)
	tg.mu.Unlock()
	if first {
		t.k.noteExitStart(tg)
	}
	for _, o := range tasks {
		o.mu.Lock()
		o.exiting = true
		o.mu.Unlock()
		if o != t {
			o.wake()
		}
	}
}

// exitThread ends only this task (exit(2)); the last one ends the process.
// A task an exec has already taken out of tg.tasks (de_thread) is never
// the last: the exec'ing task lives on, and the process's status is not
// this thread's to set.
func (t *Task) exitThread(code int) { t.exitThreadStatus(ExitStatus{Code: code}) }

// exitThreadStatus ends only this task; if it is the last, the process
// ends with s.
func (t *Task) exitThreadStatus(s ExitStatus) {
	tg := t.tg
	tg.mu.Lock()
	last := len(tg.tasks) == 1 && tg.tasks[0] == t
	first := last && !tg.exited
	if first {
		tg.exited = true
		tg.status = s
	}
	tg.mu.Unlock()
	if first {
		t.k.noteExitStart(tg)
	}
	t.mu.Lock()
	t.exiting = true
	t.ownStatus = s
	t.mu.Unlock()
}

// finish tears the task down after its run loop ends.
func (t *Task) finish() {
	defer close(t.done)
	t.ptraceExiting()
	status := t.exitStatusNow()
	// The tracer hears of the exit first, before a joiner is woken
	// below: what it sees then follows the order the threads ran in.
	t.ptraceExited(status)
	t.exitRobustList()
	t.exitPIFutexes()
	if t.clearChildTID != 0 && t.mm != nil && t.thread != nil {
		// CLONE_CHILD_CLEARTID: zero the tid word and wake a joiner.
		// Linux: kernel/fork.c (mm_release)
		var z [4]byte
		if t.mm.CopyOut(t.thread, t.clearChildTID, z[:]) == nil {
			t.FutexWake(t.clearChildTID, 1, ^uint32(0), false)
		}
	}
	t.recordThreadExit()
	t.releaseMemory()
	k := t.k
	k.mu.Lock()
	if k.tasks[t.tid] == t { // an exec'ing thread may have taken the tid over
		delete(k.tasks, t.tid)
	}
	k.mu.Unlock()
	// Its pending signals go, and are uncharged. Linux: kernel/exit.c
	// (__exit_signal: flush_sigqueue)
	t.mu.Lock()
	t.sigReleased = true
	t.pending.discard(^abi.SigSet(0))
	t.mu.Unlock()
	tg := t.tg
	tg.mu.Lock()
	for i, o := range tg.tasks {
		if o == t {
			tg.tasks = append(tg.tasks[:i], tg.tasks[i+1:]...)
			break
		}
	}
	last := len(tg.tasks) == 0
	status = tg.status
	tg.mu.Unlock()
	if !last {
		// It may have been the thread woken for a shared signal.
		tg.retargetShared()
		return
	}
	// The process is gone: release what it held.
	tg.shared.mu.Lock()
	tg.shared.released = true
	tg.shared.q.discard(^abi.SigSet(0))
	tg.shared.mu.Unlock()
	if tg.fds != nil {
		for _, fd := range tg.fds.FDs() {
			if f, err := tg.fds.Get(fd); err == nil {
				vfs.ReleasePOSIX(f, tg.pid)
				f.DecRef()
			}
		}
		tg.fds.CloseAll()
	}
	tg.releaseVfork()
	tg.ptraceTracerExited()
	tg.stopTimers()
	tg.exitSemUndo()
	tg.releaseExe()
	// A session leader's end takes the session's controlling terminal
	// away. Linux: kernel/exit.c (do_exit: disassociate_ctty(1))
	if tm := k.cfg.Terminals; tm != nil && tg.pid == tg.Sid() {
		tm.LeaderExited(tg.pid)
	}
	if tr := k.cfg.Tracer; tr.On(trace.Proc) {
		tr.Emit(&trace.Event{Kind: trace.Proc, PID: tg.pid, TID: t.tid, Detail: "exit " + describeStatus(status)})
	}
	k.processExited(tg, status)
}

// processExited turns tg into a zombie: its children go to init, its
// parent is told. When init itself ends, the sandbox ends: every other
// process is killed. Linux: kernel/exit.c (exit_notify, forget_original_parent)
func (k *Kernel) processExited(tg *ThreadGroup, status ExitStatus) {
	k.mu.Lock()
	isInit := tg == k.init
	initWoken := false
	children := append([]*ThreadGroup(nil), tg.children...)
	reaper := k.reaperLocked(tg)
	if !isInit && reaper != nil {
		for _, c := range tg.children {
			c.mu.Lock()
			c.parent = reaper
			c.mu.Unlock()
			// "We don't want people slaying init": the new parent
			// hears of the end with SIGCHLD, whatever clone asked.
			// Linux: kernel/exit.c (reparent_leader)
			c.exitSignal = abi.SIGCHLD
			reaper.children = append(reaper.children, c)
			initWoken = initWoken || c.zombie
		}
		tg.children = nil
	}
	if initWoken {
		reaper.notifyChildLocked()
	}
	tg.zombie = true
	parent := tg.parent
	sig := 0
	if parent != nil && !isInit && !tg.ptraceHeld {
		sig = tg.tellParentLocked()
	}
	if isInit {
		k.status, k.exitAt = status, time.Now()
	}
	tg.notifyPidfdLocked()
	if tg.hostDone != nil {
		close(tg.hostDone)
	}
	sig = tg.queueExitSignalLocked(parent, sig, status)
	k.mu.Unlock()
	tg.sendExitSignal(parent, sig, status)
	if isInit {
		k.noteExitDone()
		close(k.done)
		k.KillAll()
		return
	}
	// Linux: kernel/exit.c (reparent_leader's caller, forget_original_parent)
	for _, c := range children {
		if sig := c.PdeathSig(); sig != 0 {
			c.SignalInfo(SigInfo{Signo: int32(sig), Code: abi.SI_USER, PID: int32(tg.pid), Sender: int32(tg.pid)})
		}
	}
	k.orphanCheck(tg, parent, children)
	k.pidNSInitExited(tg) // pidns.go
}

// tellParentLocked makes the zombie tg waitable for its parent and
// returns the signal to send it (0: none); a parent that ignores SIGCHLD
// reaps it at once. Kernel.mu held.
func (tg *ThreadGroup) tellParentLocked() int {
	parent := tg.parent
	sig := tg.exitSignal
	if sig != abi.SIGCHLD && tg.parentExecGen != parent.execGen.Load() {
		sig = abi.SIGCHLD // the parent has exec'd since. Linux: kernel/signal.c (do_notify_parent)
	}
	if sig == abi.SIGCHLD {
		// A parent ignoring SIGCHLD (or with SA_NOCLDWAIT) never sees
		// zombies: the child is reaped at once.
		if a := parent.Action(abi.SIGCHLD); a.Handler == SigIgn || a.Flags&abi.SA_NOCLDWAIT != 0 {
			parent.removeChildLocked(tg)
			tg.reaped = true
		}
	}
	parent.notifyChildLocked()
	return sig
}

// queueExitSignalLocked queues the parent's exit signal while Kernel.mu is
// still held, in the same critical section that made tg waitable: a
// parent (or its tracer) that sees the zombie in wait4 then also finds
// the signal pending, as Linux's do_notify_parent does both under
// tasklist_lock. SIGCONT and SIGKILL resume a stopped parent, which takes
// Kernel.mu: those are left to sendExitSignal after the unlock. It
// returns the signal still to send (0: none). Kernel.mu held.
func (tg *ThreadGroup) queueExitSignalLocked(parent *ThreadGroup, sig int, status ExitStatus) int {
	if sig <= 0 || sig > abi.NSIG || parent == nil || sig == abi.SIGCONT || sig == abi.SIGKILL {
		return sig
	}
	parent.prepareSignal(sig) // a stop signal: discards pending SIGCONTs, no Kernel.mu
	parent.queueSignalInfo(tg.exitSigInfo(sig, status))
	return 0
}

// sendExitSignal sends the parent of the ended process tg its exit
// signal. clone's exit signal is CSIGNAL's byte, unchecked: one past the
// last signal makes a child whose end is waitable but signals nobody.
// Linux: kernel/signal.c (do_notify_parent: valid_signal(sig) && sig)
func (tg *ThreadGroup) sendExitSignal(parent *ThreadGroup, sig int, status ExitStatus) {
	if sig <= 0 || sig > abi.NSIG || parent == nil {
		return
	}
	parent.SignalInfo(tg.exitSigInfo(sig, status))
}

// exitSigInfo is the siginfo of tg's exit signal sig.
func (tg *ThreadGroup) exitSigInfo(sig int, status ExitStatus) SigInfo {
	info := SigInfo{Signo: int32(sig), Code: abi.CLD_EXITED, PID: int32(tg.pid), Status: int32(status.Code)}
	if status.Signal != 0 {
		info.Code, info.Status = abi.CLD_KILLED, int32(status.Signal)
		if status.Core {
			info.Code = abi.CLD_DUMPED
		}
	}
	return info
}

// reaperLocked is who adopts tg's children: the nearest living ancestor
// marked PR_SET_CHILD_SUBREAPER, else init. Kernel.mu held.
// Linux: kernel/exit.c (find_new_reaper)
func (k *Kernel) reaperLocked(tg *ThreadGroup) *ThreadGroup {
	tg.mu.Lock()
	p := tg.parent
	tg.mu.Unlock()
	for p != nil && p != k.init {
		p.mu.Lock()
		sub, gone, next := p.attrs.subreaper, p.exited, p.parent
		p.mu.Unlock()
		if sub && !gone && !p.zombie {
			return p
		}
		p = next
	}
	if r := k.pidReaperLocked(tg); r != nil { // pidns.go
		return r
	}
	return k.init
}

// notifyChildLocked wakes the process's waiters in wait4. Kernel.mu held.
func (tg *ThreadGroup) notifyChildLocked() {
	close(tg.childEvent)
	tg.childEvent = make(chan struct{})
}

// removeChildLocked drops c from tg's children. Kernel.mu held.
func (tg *ThreadGroup) removeChildLocked(c *ThreadGroup) {
	for i, o := range tg.children {
		if o == c {
			tg.children = append(tg.children[:i], tg.children[i+1:]...)
			return
		}
	}
}

func describeStatus(s ExitStatus) string {
	if s.Signal != 0 {
		return "killed by signal " + strconv.Itoa(s.Signal)
	}
	return "status " + strconv.Itoa(s.Code)
}

// ExitGroup is exit_group(2).
func (t *Task) ExitGroup(code int) { t.exitGroup(ExitStatus{Code: code & 0xff}) }

// Exit is exit(2).
func (t *Task) Exit(code int) { t.exitThread(code & 0xff) }
