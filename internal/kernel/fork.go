package kernel

import (
	"encoding/binary"
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/mm"
	"glassbox/internal/platform"
	"glassbox/internal/trace"
	"glassbox/internal/vfs"
)

// CloneArgs are clone(2)/clone3(2)'s arguments.
type CloneArgs struct {
	Flags      uint64
	Stack      uint64 // new stack pointer, or 0 to keep the parent's
	ParentTID  uint64 // CLONE_PARENT_SETTID target
	ChildTID   uint64 // CLONE_CHILD_SETTID / CLONE_CHILD_CLEARTID target
	TLS        uint64 // CLONE_SETTLS: new fs base
	ExitSignal int
	// PidFD is where CLONE_PIDFD stores the child's pidfd (the caller
	// has checked it is writable).
	PidFD uint64
}

// CloneClearSighand is clone3's CLONE_CLEAR_SIGHAND.
const CloneClearSighand = 1 << 32

// checkCloneFlags applies clone's rules on combinations of flags, in
// Linux's order. Linux: kernel/fork.c (copy_process)
func (t *Task) checkCloneFlags(f uint64) error {
	has := func(m uint64) bool { return f&m == m }
	switch {
	case has(unix.CLONE_NEWNS | unix.CLONE_FS), has(unix.CLONE_NEWUSER | unix.CLONE_FS),
		has(unix.CLONE_THREAD) && !has(unix.CLONE_SIGHAND),
		has(unix.CLONE_SIGHAND) && !has(unix.CLONE_VM),
		// A PID namespace's init has no parent to share.
		has(unix.CLONE_PARENT) && t.tg.unkillable.Load(),
		has(unix.CLONE_THREAD) && f&(unix.CLONE_NEWUSER|unix.CLONE_NEWPID) != 0:
		return unix.EINVAL
	}
	return nil
}

// nprocExceeded reports whether t's real user has RLIMIT_NPROC tasks
// already (threads count), unless t may exceed it.
// Linux: kernel/fork.c (copy_process: is_rlimit_overlimit)
func (t *Task) nprocExceeded() bool {
	lim := t.tg.Rlimit(unix.RLIMIT_NPROC).Cur
	c := t.credsShared()
	if lim == RlimInfinity || c.UID == 0 && c.UserNS == nil ||
		t.CapableInit(unix.CAP_SYS_RESOURCE) || t.CapableInit(unix.CAP_SYS_ADMIN) {
		return false
	}
	k := t.k
	k.mu.Lock()
	tasks := make([]*Task, 0, len(k.tasks))
	for _, o := range k.tasks {
		tasks = append(tasks, o)
	}
	k.mu.Unlock()
	n := uint64(0)
	for _, o := range tasks {
		if oc := o.credsShared(); oc.UID == c.UID && oc.UserNS == c.UserNS {
			n++
		}
	}
	return n >= lim
}

// tasksAtLimit reports whether the sandbox has Config.MaxTasks tasks.
// Tasks that clone at the same moment may each pass before any of them
// is counted, so the bound can be overshot by as many at most. Linux
// charges the pids cgroup exactly: kernel/cgroup/pids.c (pids_can_fork)
func (k *Kernel) tasksAtLimit() bool {
	if k.cfg.MaxTasks <= 0 {
		return false
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.tasks) >= k.cfg.MaxTasks
}

// Clone creates a child process (threads are CLONE_THREAD, see
// cloneThread). It returns the child's pid in the parent; the child
// returns 0 from the same syscall in its own copy of the address space.
// Linux: kernel/fork.c (copy_process)
func (t *Task) Clone(a CloneArgs) (int, error) {
	f := a.Flags
	if err := t.checkCloneFlags(f); err != nil {
		return 0, err
	}
	if t.k.tasksAtLimit() || t.nprocExceeded() {
		return 0, unix.EAGAIN
	}
	select {
	case <-t.k.done: // the sandbox is ending: no new tasks
		return 0, unix.EAGAIN
	default:
	}
	if f&unix.CLONE_THREAD != 0 {
		return t.cloneThread(a)
	}
	nsSet, nsCreds, nsErr := t.checkCloneNS(f) // ns.go
	if nsErr != nil {
		return 0, nsErr
	}
	k := t.k
	// CLONE_VM (vfork, posix_spawn): the child runs in the parent's
	// address space, as a further thread of the parent's host process, so
	// its writes reach the parent and it needs no copy and takes no
	// copy-on-write faults. Otherwise it gets a copy-on-write copy.
	shareVM := f&unix.CLONE_VM != 0
	var cm *mm.MM
	var starter platform.ThreadStarter
	if shareVM {
		var err error
		newThread := t.thread.NewThread
		if pl, ok := t.thread.(platform.Placer); ok && f&unix.CLONE_VFORK != 0 {
			newThread = pl.NewThreadInPlace // the parent waits meanwhile
		}
		if starter, err = newThread(); err != nil {
			k.Logf("vfork: %v", err)
			return 0, unix.EAGAIN
		}
		cm = t.mm
		cm.AddUser()
	} else {
		var err error
		if cm, err = t.mm.Fork(t.thread); err != nil {
			return 0, err
		}
		t.noteShmFork(cm)
	}
	ptg := t.tg
	// The child's pid first: newThreadGroup takes Kernel.mu, which comes
	// before ThreadGroup.mu (wait4 holds Kernel.mu and takes the parent's
	// tg.mu to add a reaped child's usage).
	ctg := k.newThreadGroup(ptg)
	ptg.mu.Lock()
	if ptg.exited {
		ptg.mu.Unlock()
		cm.DropUser()
		if starter != nil {
			go startAndRelease(starter)
		}
		return 0, unix.EINTR
	}
	ctg.fds = ptg.fds.Fork()
	ctg.fsc = ptg.fsc.Fork()
	if f&unix.CLONE_FS != 0 {
		ctg.fsc = ptg.fsc // shared: chdir in one is seen by the other
	}
	ctg.exe, ctg.exeName, ctg.comm = ptg.exe, ptg.exeName, ptg.comm
	ctg.rlimits = ptg.rlimits
	ctg.argStart, ctg.argEnd, ctg.envStart, ctg.envEnd = ptg.argStart, ptg.argEnd, ptg.envStart, ptg.envEnd
	ctg.auxv = ptg.auxv
	ctg.pgid, ctg.sid = ptg.pgid, ptg.sid
	ctg.nnp, ctg.nice = ptg.nnp, ptg.nice
	if ptg.attrs.resetOnFork && ctg.nice < 0 {
		ctg.nice = 0 // Linux: kernel/sched/core.c (sched_fork)
	}
	ctg.attrs = ptg.forkAttrs()
	ctg.semUndo = forkSemUndo(ptg.semUndo, f&unix.CLONE_SYSVSEM != 0)
	ctg.exeKey, ctg.exeDenied = ptg.exeKey, ptg.exeDenied && vfs.DenyWrite(ptg.exeKey) == nil
	ctg.sharesVM = shareVM
	ptg.mu.Unlock()
	ctg.exitSignal = a.ExitSignal
	ctg.parentExecGen = ptg.execGen.Load()
	if f&unix.CLONE_SIGHAND != 0 {
		ctg.sigp.Store(ptg.handlers()) // one table: sigaction in either is seen by both
	} else {
		ph, ch := ptg.handlers(), ctg.handlers()
		ph.mu.Lock()
		ch.act = ph.act
		ph.mu.Unlock()
		if f&CloneClearSighand != 0 {
			// Caught signals back to SIG_DFL, ignored ones stay ignored.
			// Linux: kernel/signal.c (flush_signal_handlers)
			for i, act := range ch.act {
				ch.act[i] = SigAction{}
				if act.Handler == SigIgn {
					ch.act[i].Handler = SigIgn
				}
			}
		}
	}

	c := k.newTask(ctg, t.creds)
	c.setMM(cm)
	c.regs = t.regs
	c.regs.Rax = 0
	if a.Stack != 0 {
		c.regs.Rsp = a.Stack
	}
	if f&unix.CLONE_SETTLS != 0 {
		c.regs.Fs_base = a.TLS
	}
	creds := *t.creds
	c.setCreds(&creds)
	t.enterCloneNS(c, nsSet, nsCreds)
	t.mu.Lock()
	c.sigmask = t.sigmask
	c.altStack = t.altStack
	c.affinity = t.affinity
	t.mu.Unlock()
	c.seccomp.Store(t.seccomp.Load())
	if f&unix.CLONE_CHILD_CLEARTID != 0 {
		c.clearChildTID = a.ChildTID
	}
	// The child's TID as each side sees it: the child in its own PID
	// namespace, the parent in its. Linux: kernel/fork.c (kernel_clone:
	// pid_vnr; schedule_tail: task_pid_vnr)
	if f&unix.CLONE_CHILD_SETTID != 0 {
		var mp mm.Mapper // a copy has no live thread yet
		if shareVM {
			mp = t.thread
		}
		cm.CopyOut(mp, a.ChildTID, tidBytes(c.VPID(c.tid)))
	}
	if f&unix.CLONE_PARENT_SETTID != 0 {
		t.CopyOut(a.ParentTID, tidBytes(t.VPID(c.tid)))
	}
	if f&unix.CLONE_PIDFD != 0 {
		t.clonePidFD(a.PidFD, ctg, nil)
	}
	k.mu.Lock()
	ptg.children = append(ptg.children, ctg)
	k.mu.Unlock()
	var vforkDone chan struct{}
	if f&unix.CLONE_VFORK != 0 {
		vforkDone = make(chan struct{})
		ctg.vforkDone = vforkDone
	}
	if tr := k.cfg.Tracer; tr.On(trace.Proc) {
		tr.Emit(&trace.Event{Kind: trace.Proc, PID: ptg.pid, TID: t.tid,
			Detail: fmt.Sprintf("fork: child pid %d (%s)", ctg.pid, cloneKind(f))})
	}
	ev, opt := t.ptraceFork(c, f, a.ExitSignal)
	fp, _ := t.thread.FPState()
	started := make(chan error, 1)
	c.k.running.Add(1)
	go c.main(func() error {
		var th platform.Thread
		var err error
		if starter != nil {
			th, err = starter.Start()
		} else {
			th, err = k.cfg.Platform.NewAddressSpace()
		}
		if err == nil && fp != nil {
			th.SetFPState(fp)
		}
		started <- err
		if err != nil {
			k.Logf("fork: %v", err)
			return err
		}
		c.setThread(th)
		return nil
	})
	if err := <-started; err != nil {
		return 0, unix.EAGAIN
	}
	ctg.armCPULimit() // an inherited RLIMIT_CPU
	t.ptraceForkEvent(ev, opt, c.tid)
	if vforkDone != nil {
		// Linux waits killably; a fatal signal to the parent ends the wait.
		t.waitVfork(vforkDone)
		if t.traced.Load() {
			t.ptraceEvent(unix.PTRACE_EVENT_VFORK_DONE, unix.PTRACE_O_TRACEVFORKDONE, uint64(c.tid))
		}
	}
	return ctg.pid, nil
}

// startAndRelease starts a platform thread nobody will use and ends it
// (it was counted when it was created).
func startAndRelease(s platform.ThreadStarter) {
	runtime.LockOSThread()
	if th, err := s.Start(); err == nil {
		th.Release()
	}
}

func cloneKind(f uint64) string {
	if f&unix.CLONE_VFORK != 0 {
		return "vfork"
	}
	return "fork"
}

// waitVfork sleeps until done is closed or the task must exit.
func (t *Task) waitVfork(done chan struct{}) {
	for {
		select {
		case <-done:
			return
		case <-t.intr:
			t.mu.Lock()
			dying := t.exiting || t.pendingLocked().Has(abi.SIGKILL)
			t.mu.Unlock()
			if dying {
				return
			}
		}
	}
}

// releaseVfork lets a vfork parent go on (the child has exec'd or exited).
func (tg *ThreadGroup) releaseVfork() {
	tg.mu.Lock()
	ch := tg.vforkDone
	tg.vforkDone = nil
	tg.mu.Unlock()
	if ch != nil {
		close(ch)
	}
}

// cloneThread creates a thread in t's process: same address space,
// descriptors, handlers; its own registers, stack and signal mask.
func (t *Task) cloneThread(a CloneArgs) (int, error) {
	const need = unix.CLONE_VM | unix.CLONE_SIGHAND
	if a.Flags&need != need {
		return 0, unix.EINVAL
	}
	k := t.k
	starter, err := t.thread.NewThread()
	if err != nil {
		k.Logf("clone: %v", err)
		return 0, unix.EAGAIN
	}
	tg := t.tg
	c := k.newThreadTask(t)
	if c == nil {
		// The process is exiting. The new host thread is counted; let it
		// start and leave at once.
		go startAndRelease(starter)
		return 0, unix.EINTR
	}
	c.setMM(t.mm)
	c.mm.AddUser()
	c.regs = t.regs
	c.regs.Rax = 0
	if a.Stack != 0 {
		c.regs.Rsp = a.Stack
	}
	if a.Flags&unix.CLONE_SETTLS != 0 {
		c.regs.Fs_base = a.TLS
	}
	c.setCreds(t.creds)
	c.altStack = SigAltStack{Flags: ssDisable}
	if a.Flags&unix.CLONE_CHILD_CLEARTID != 0 {
		c.clearChildTID = a.ChildTID
	}
	if a.Flags&unix.CLONE_CHILD_SETTID != 0 {
		t.CopyOut(a.ChildTID, tidBytes(c.VPID(c.tid)))
	}
	if a.Flags&unix.CLONE_PARENT_SETTID != 0 {
		t.CopyOut(a.ParentTID, tidBytes(t.VPID(c.tid)))
	}
	if a.Flags&unix.CLONE_PIDFD != 0 {
		t.clonePidFD(a.PidFD, tg, c)
	}
	fp, _ := t.thread.FPState()
	if tr := k.cfg.Tracer; tr.On(trace.Proc) {
		tr.Emit(&trace.Event{Kind: trace.Proc, PID: tg.pid, TID: t.tid,
			Detail: fmt.Sprintf("clone: thread %d", c.tid)})
	}
	ev, opt := t.ptraceFork(c, a.Flags, a.ExitSignal)
	started := make(chan error, 1)
	c.k.running.Add(1)
	go c.main(func() error {
		th, err := starter.Start()
		if err == nil && fp != nil {
			th.SetFPState(fp)
		}
		started <- err
		if err != nil {
			k.Logf("clone: %v", err)
			return err
		}
		c.setThread(th)
		return nil
	})
	if err := <-started; err != nil {
		return 0, unix.EAGAIN
	}
	t.ptraceForkEvent(ev, opt, c.tid)
	return c.tid, nil
}

// sendToProcess makes a process-directed signal pending on a thread that
// does not block it (or the first thread). Linux: kernel/signal.c
// (complete_signal)
func (tg *ThreadGroup) sendToProcess(sig int) {
	tg.SignalInfo(SigInfo{Signo: int32(sig), Code: abi.SI_KERNEL})
}

// tidBytes is a TID as the 32-bit word clone writes.
func tidBytes(tid int) []byte {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(tid))
	return b[:]
}
