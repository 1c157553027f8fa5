package kernel

import (
	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
)

// Making and breaking ptrace links, and what the tracer's wait sees.
// Linux: kernel/ptrace.c (ptrace_traceme, ptrace_attach, __ptrace_detach,
// exit_ptrace), kernel/exit.c (wait_task_stopped with ptrace)

// linkLocked makes tracer trace t. Kernel.mu held.
func (t *Task) linkLocked(tracer *ThreadGroup, seized bool, opts uint32) {
	p := &t.ptrace
	p.tracer, p.seized, p.options = tracer, seized, opts
	p.trap, p.listening = false, false
	tracer.tracees = append(tracer.tracees, t)
	t.traced.Store(true)
}

// unlinkLocked ends t's ptrace link. Kernel.mu held.
func (t *Task) unlinkLocked() {
	p := &t.ptrace
	if tr := p.tracer; tr != nil {
		for i, o := range tr.tracees {
			if o == t {
				tr.tracees = append(tr.tracees[:i], tr.tracees[i+1:]...)
				break
			}
		}
	}
	p.tracer, p.seized, p.options, p.trap = nil, false, 0, false
	t.traced.Store(false)
	t.ptraceTrap.Store(false)
}

// resumeLocked ends t's ptrace-stop with mode and sig. Kernel.mu held.
func (t *Task) resumeLocked(mode, sig int) {
	p := &t.ptrace
	p.mode, p.sig = mode, sig
	if p.stopped {
		p.stopped = false
		close(p.left)
	}
}

// TracerPID is the pid of the process tracing t (0: none), for /proc.
func (t *Task) TracerPID() int {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	if tr := t.ptrace.tracer; tr != nil {
		return tr.pid
	}
	return 0
}

// ptraceStopped reports whether t is in a ptrace-stop (for /proc: "t").
func (t *Task) ptraceStopped() bool {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	return t.ptrace.stopped
}

// PtraceTraceMe makes the caller's parent its tracer.
func (t *Task) PtraceTraceMe() error {
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	parent := t.tg.parent
	if t.ptrace.tracer != nil || parent == nil || parent.zombie {
		return unix.EPERM
	}
	t.linkLocked(parent, false, 0)
	return nil
}

// PtraceAttach is PTRACE_ATTACH (seize false: the target gets SIGSTOP)
// and PTRACE_SEIZE (with options opts).
func (t *Task) PtraceAttach(tid int, seize bool, opts uint32) error {
	k := t.k
	target := k.TaskByTID(tid)
	if target == nil {
		return unix.ESRCH
	}
	if target.tg == t.tg || !t.mayAccessMem(target) {
		return unix.EPERM
	}
	k.mu.Lock()
	if target.ptrace.tracer != nil || target.tg.zombie || k.tasks[tid] != target {
		k.mu.Unlock()
		return unix.EPERM
	}
	target.linkLocked(t.tg, seize, opts)
	stopped := target.tg.job.stopped
	k.mu.Unlock()
	if !seize {
		target.SendSignalInfo(SigInfo{Signo: abi.SIGSTOP, Code: abi.SI_KERNEL})
	} else if stopped {
		target.wake() // to report its group stop to the tracer
	}
	return nil
}

// ptraceFork links a new task c to t's tracer when t's tracer asked to
// follow this kind of clone (or the caller passed CLONE_PTRACE), and
// returns the event to report and its option bit (0: none).
// Linux: kernel/fork.c (kernel_clone, ptrace_init_task)
func (t *Task) ptraceFork(c *Task, flags uint64, exitSignal int) (int, uint32) {
	if !t.traced.Load() || flags&unix.CLONE_UNTRACED != 0 {
		return 0, 0
	}
	var ev int
	var opt uint32
	switch {
	case flags&unix.CLONE_VFORK != 0:
		ev, opt = unix.PTRACE_EVENT_VFORK, unix.PTRACE_O_TRACEVFORK
	case flags&unix.CLONE_THREAD == 0 && exitSignal == abi.SIGCHLD:
		ev, opt = unix.PTRACE_EVENT_FORK, unix.PTRACE_O_TRACEFORK
	default:
		ev, opt = unix.PTRACE_EVENT_CLONE, unix.PTRACE_O_TRACECLONE
	}
	k := t.k
	k.mu.Lock()
	p := &t.ptrace
	if p.tracer == nil || p.options&opt == 0 && flags&unix.CLONE_PTRACE == 0 {
		k.mu.Unlock()
		return 0, 0
	}
	c.linkLocked(p.tracer, p.seized, p.options)
	seized := p.seized
	if seized {
		c.ptrace.trap = true
		c.ptraceTrap.Store(true)
	}
	on := p.options&opt != 0
	k.mu.Unlock()
	if !seized {
		c.SendSignalInfo(SigInfo{Signo: abi.SIGSTOP, Code: abi.SI_KERNEL})
	}
	if !on {
		return 0, 0
	}
	return ev, opt
}

// ptraceForkEvent reports the clone event for child in the parent t.
func (t *Task) ptraceForkEvent(ev int, opt uint32, child int) {
	if ev != 0 {
		t.ptraceEvent(ev, opt, uint64(child))
	}
}

// ptraceExiting is the PTRACE_EVENT_EXIT stop at the start of t's exit.
func (t *Task) ptraceExiting() {
	if !t.traced.Load() || t.sigkillPending() {
		return
	}
	t.ptraceEvent(unix.PTRACE_EVENT_EXIT, unix.PTRACE_O_TRACEEXIT, uint64(t.exitStatusNow().WaitStatus()))
}

// exitStatusNow is the status t exits with: its process's, when the
// whole process exits, else its own (exit(2) of one thread).
func (t *Task) exitStatusNow() ExitStatus {
	tg := t.tg
	tg.mu.Lock()
	defer tg.mu.Unlock()
	if tg.exited {
		return tg.status
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.ownStatus
}

// ptraceExited ends a finished tracee's link. A tracer that is not the
// process's parent, or traces a thread other than the leader, collects
// the exit itself (wait with __WALL); the parent is told as usual.
// Linux: kernel/exit.c (exit_notify)
func (t *Task) ptraceExited(s ExitStatus) {
	if !t.traced.Load() {
		return
	}
	k := t.k
	k.mu.Lock()
	tracer := t.ptrace.tracer
	if tracer == nil {
		k.mu.Unlock()
		return
	}
	t.unlinkLocked()
	own := tracer != t.tg.parent || t.tid != t.tg.pid
	if own && !tracer.zombie {
		e := traceeExit{WaitResult{PID: t.tid, UID: t.creds.UID, Status: s}, nil}
		if t.tid == t.tg.pid && t.tg.parent != nil && t.tg.lastTask(t) {
			// The whole process ends: its parent hears of it once the
			// tracer has collected it. Linux: kernel/exit.c
			// (wait_consider_task: a traced zombie is the tracer's first)
			t.tg.ptraceHeld = true
			e.held = t.tg
		}
		tracer.traceeExits = append(tracer.traceeExits, e)
		tracer.notifyChildLocked()
	}
	k.mu.Unlock()
	if own {
		info := SigInfo{Signo: abi.SIGCHLD, Code: abi.CLD_EXITED, PID: int32(t.tid), UID: t.creds.UID, Status: int32(s.Code)}
		if s.Signal != 0 {
			info.Code, info.Status = abi.CLD_KILLED, int32(s.Signal)
		}
		tracer.SignalInfo(info)
	}
}

// ptraceTracerExited detaches every tracee of an exited process, killing
// those that asked for PTRACE_O_EXITKILL. Linux: kernel/ptrace.c (exit_ptrace)
func (tg *ThreadGroup) ptraceTracerExited() {
	k := tg.k
	k.mu.Lock()
	var kill []*Task
	for len(tg.tracees) > 0 {
		c := tg.tracees[0]
		if c.ptrace.options&unix.PTRACE_O_EXITKILL != 0 {
			kill = append(kill, c)
		}
		c.unlinkLocked()
		c.resumeLocked(resumeDetach, 0)
	}
	exits := tg.traceeExits
	tg.traceeExits = nil
	k.mu.Unlock()
	for _, e := range exits {
		e.held.ptraceRelease()
	}
	for _, c := range kill {
		c.SendSignal(abi.SIGKILL)
	}
}

// matchTracee reports whether wait's selection w takes tracee c (ptrace
// tracees are eligible whatever __WCLONE says). Kernel.mu held.
func (w *WaitFor) matchTracee(tid int, tg *ThreadGroup) bool {
	switch {
	case w.PID > 0:
		return tid == w.PID
	case w.PGID > 0:
		return tg.Pgid() == w.PGID
	}
	return w.Any
}

// ptraceWaitLocked looks for a tracee's unreported ptrace-stop or exit
// for the tracer's wait. found says some tracee matched. Kernel.mu held.
func (tg *ThreadGroup) ptraceWaitLocked(w *WaitFor, noReap bool) (res WaitResult, held *ThreadGroup, ok, found bool) {
	for _, c := range tg.tracees {
		if !w.matchTracee(c.tid, c.tg) {
			continue
		}
		found = true
		p := &c.ptrace
		if p.stopped && !p.reported {
			if !noReap {
				p.reported = true
			}
			return WaitResult{PID: c.tid, UID: c.credsShared().UID, Kind: WaitTrapped, Code: p.code}, nil, true, true
		}
	}
	for i, e := range tg.traceeExits {
		if w.PID > 0 && e.PID != w.PID || w.PID <= 0 && !w.Any {
			continue
		}
		found = true
		if !w.Exited {
			continue
		}
		if noReap {
			return e.WaitResult, nil, true, true
		}
		tg.traceeExits = append(tg.traceeExits[:i], tg.traceeExits[i+1:]...)
		return e.WaitResult, e.held, true, true
	}
	return WaitResult{}, nil, false, found
}

// traceeExit is a tracee's end its tracer has not collected; held is its
// process when the parent waits for that (ptraceRelease).
type traceeExit struct {
	WaitResult
	held *ThreadGroup
}

// lastTask reports whether t is the process's only task. Kernel.mu held.
func (tg *ThreadGroup) lastTask(t *Task) bool {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return len(tg.tasks) == 1 && tg.tasks[0] == t || len(tg.tasks) == 0
}

// ptraceRelease tells the parent of a process whose exit its tracer has
// just collected. Nothing to do for nil, or when the process has not yet
// become a zombie (processExited then tells the parent itself).
func (tg *ThreadGroup) ptraceRelease() {
	if tg == nil {
		return
	}
	k := tg.k
	k.mu.Lock()
	tg.ptraceHeld = false
	if !tg.zombie || tg.parent == nil || tg == k.init {
		k.mu.Unlock()
		return
	}
	parent := tg.parent
	sig := tg.tellParentLocked()
	tg.mu.Lock()
	status := tg.status
	tg.mu.Unlock()
	sig = tg.queueExitSignalLocked(parent, sig, status)
	k.mu.Unlock()
	tg.sendExitSignal(parent, sig, status)
}
