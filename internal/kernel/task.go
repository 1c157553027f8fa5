package kernel

import (
	"errors"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/gostack"
	"glassbox/internal/mm"
	"glassbox/internal/platform"
	"glassbox/internal/vfs"
)

// ThreadGroup is a process: the tasks sharing a pid, an address space, a
// descriptor table, signal handlers and limits.
type ThreadGroup struct {
	k      *Kernel
	pid    int
	parent *ThreadGroup

	mu       sync.Mutex
	tasks    []*Task
	children []*ThreadGroup // guarded by Kernel.mu
	fds      *vfs.FDTable
	fsc      *FSContext
	sigp     atomic.Pointer[sigHandlers] // dispositions (shared with CLONE_SIGHAND); see handlers
	exited   bool
	status   ExitStatus
	exe      vfs.Path
	exeName  string
	comm     string
	rlimits  [rlimCount]Rlimit
	argStart uint64
	argEnd   uint64
	envStart uint64
	envEnd   uint64
	auxv     []uint64 // as given at exec (key, value pairs)
	pgid     int
	sid      int
	// stopFlag mirrors job.stopped for the run loop's cheap check.
	stopFlag atomic.Bool
	// unkillable: the process is a PID namespace's init, protected from
	// signals with the default action (initsig.go). Set once when it is
	// made, cleared by a fatal synchronous signal.
	unkillable atomic.Bool
	// oomSkip: the OOM killer waited for this exiting process's memory
	// in vain and counts it no more (oom.go).
	oomSkip atomic.Bool
	// oomDying: the OOM killer chose it; it counts as exiting from then.
	oomDying atomic.Bool

	// Process life, guarded by Kernel.mu: exitSignal is sent to the
	// parent when the process ends (0: none); zombie is set when its last
	// task has finished; reaped when a wait has collected it.
	exitSignal int
	// parentExecGen is the parent's execGen when this process was made:
	// an exit signal other than SIGCHLD goes to the program that asked
	// for it only, not to one the parent has exec'd since.
	parentExecGen uint64
	// execGen counts the process's execs.
	execGen atomic.Uint64
	zombie  bool
	reaped  bool
	// ptraceHeld: a tracer other than the parent collects the exit
	// first; the parent hears of it when the tracer has (ptrace_link.go).
	ptraceHeld bool
	// childEvent is closed (and replaced) whenever a child becomes a
	// zombie, so waiters in wait4 can sleep on it. Guarded by Kernel.mu.
	childEvent chan struct{}
	// pidfdWake is closed (and dropped) when the process becomes a
	// zombie or is reaped, waking pidfd pollers. Guarded by Kernel.mu.
	pidfdWake chan struct{}
	// vforkDone is closed when a vfork child execs or exits.
	vforkDone chan struct{}
	// dying are the threads an exec in progress told to exit and waits
	// for (exec.go). Guarded by mu.
	dying []*Task
	// sharesVM: the process runs in its parent's address space (CLONE_VM,
	// vfork) until it execs. Guarded by mu.
	sharesVM bool

	itimer    realTimer
	cpuTimers cpuTimers
	ptimers   ptimers

	// CPU time of the process's finished threads, and of its reaped
	// children (for getrusage and times). Guarded by mu.
	cpuDead, cpuChildren       time.Duration
	faultsDead, faultsChildren uint64
	majDead, majChildren       uint64
	maxRSS, cmaxRSS            uint64 // high-water marks in pages: own address spaces', reaped children's
	nice                       int
	nnp                        bool // no_new_privs
	attrs                      procAttrs
	semUndo                    *semUndo // SEM_UNDO list (shm.go)
	// pidc is the process's numbers in nested PID namespaces (pidns.go).
	pidc      atomic.Pointer[pidChain]
	exeKey    vfs.ExeKey
	exeDenied bool // holds a DenyWrite on exeKey (exe.go)

	shared sharedSignals // process-directed pending signals (sigqueue.go)
	aio    aioTable      // io_setup contexts (aio.go)

	job   jobState  // guarded by Kernel.mu
	start time.Time // when the process was created

	// tracees are the tasks this process traces; traceeExits the exits
	// of tracees its wait collects (ptrace_link.go). Guarded by Kernel.mu.
	tracees     []*Task
	traceeExits []traceeExit
	// stopGen counts group stops, so that a tracee its tracer resumed
	// from one does not stop for it again (ptrace.go).
	stopGen atomic.Uint64

	// hostDone, for a process the host started (hostproc.go), is closed
	// when it has exited, under Kernel.mu.
	hostDone chan struct{}
}

// PID returns the process id.
func (tg *ThreadGroup) PID() int { return tg.pid }

// Task is one guest thread.
type Task struct {
	k      *Kernel
	tid    int
	tg     *ThreadGroup
	thread platform.Thread
	mm     *mm.MM
	regs   platform.Regs
	creds  *vfs.Creds

	intr chan struct{} // a token here means "stop waiting, look at signals"
	park parker        // a futex wait's parked OS thread (park.go); unparked with every token
	spin spinState     // a futex wait's polling record (park.go)
	done chan struct{} // closed when finish has torn the task down

	mu            sync.Mutex
	sigmask       abi.SigSet
	waitSet       abi.SigSet // signals rt_sigtimedwait waits for: woken for them though blocked
	pending       sigQueue   // thread-directed signals (sigqueue.go)
	exiting       bool
	clearChildTID uint64
	robustHead    uint64
	robustLen     uint64
	altStack      SigAltStack
	sigArrived    chan struct{} // closed at the next signal (signalfd waits)
	// sigReleased: the task has ended; no signal is queued for it any
	// more (what was is uncharged). Guarded by mu.
	sigReleased bool

	// inSyscall is set between a syscall's dispatch and the check for
	// signals after it, so a restart code in rax can be acted on.
	inSyscall bool
	// savedMask is the mask to restore after rt_sigsuspend's temporary
	// one, once a handler frame has recorded it (restoreMask set).
	savedMask   abi.SigSet
	restoreMask bool
	// restartFn continues a syscall interrupted with ERESTART_RESTARTBLOCK.
	restartFn func(*Task) (uint64, error)
	// affinity is the CPU set sched_setaffinity gave (nil: the host's);
	// never changed in place (affinity.go).
	affinity *cpuSet
	// inKernel is set while the task runs a syscall handler (for the
	// state /proc reports).
	inKernel atomic.Bool
	// unsupported is what the running syscall's handler reported as
	// unsupported, for its trace event (ReportUnsupported).
	unsupported string
	// inGuest is set while the task may run guest code (jobctl.go).
	inGuest atomic.Bool
	// seccomp is the task's seccomp mode and filters (nil: none); see
	// seccomp.go for who stores it.
	seccomp atomic.Pointer[seccompState]

	// ptrace is the task's link to its tracer (ptrace.go; Kernel.mu);
	// traced and ptraceTrap mirror "has a tracer" and "trap pending"
	// for cheap checks on the task's hot paths.
	ptrace     ptraceState
	traced     atomic.Bool
	ptraceTrap atomic.Bool
	// How the tracer last resumed the task, and a trap flag glassbox set
	// for single-stepping; the task's own goroutine only (ptrace.go).
	pstep, pemu, psys, plisten, pforcedTF bool
	// retryInsn: patchedTrap found the int3 of a site's rewrite: the
	// guest runs the site again, no syscall (kernel/patch.go).
	retryInsn bool
	groupGen  uint64
	// ownStatus is the status exit(2) of this one thread gave (t.mu).
	ownStatus ExitStatus
	// nsp is the task's namespaces (ns.go; nil: the sandbox's initial
	// ones); only the task itself stores it.
	nsp atomic.Pointer[nsSet]
	// pidc is the task's numbers in nested PID namespaces (pidns.go;
	// nil: the initial namespace only); stored once, before it runs.
	pidc atomic.Pointer[pidChain]
	// piExited: the task has handed over the PI futexes it held, on its
	// way out; a FUTEX_LOCK_PI naming it as owner is ESRCH from then.
	// Guarded by futexTable.mu (futex_pi.go).
	piExited bool
	// lastFault is the task's latest page fault, for the error code of
	// the signal frame it may cause (sigframe.go); the task's own.
	lastFault struct {
		addr  uint64
		write bool
	}
}

func (k *Kernel) newThreadGroup(parent *ThreadGroup) *ThreadGroup {
	k.mu.Lock()
	pid := k.nextPID
	k.nextPID++
	k.mu.Unlock()
	tg := &ThreadGroup{k: k, pid: pid, parent: parent, pgid: pid, sid: pid,
		exitSignal: int(abi.SIGCHLD), childEvent: make(chan struct{}), start: time.Now()}
	tg.sigp.Store(newSigHandlers())
	tg.rlimits = defaultRlimits()
	tg.attrs.timerSlack = defaultTimerSlack
	tg.semUndo = &semUndo{users: 1}
	return tg
}

// newTask adds tg's first task, with the credentials c (its creator's,
// until the caller sets its own): a task is never in the pid table
// without credentials, which other tasks read (kill, RLIMIT_NPROC).
func (k *Kernel) newTask(tg *ThreadGroup, c *vfs.Creds) *Task { return k.newTaskTID(tg, tg.pid, c) }

// newThreadTask adds a task with a fresh thread id to creator's process,
// unless the process is exiting or creator was told to exit (by
// exit_group or another thread's exec): then it returns nil. The check
// and the addition happen under tg.mu, so a thread is either among those
// exit_group and de_thread see, or never created.
func (k *Kernel) newThreadTask(creator *Task) *Task {
	tg := creator.tg
	k.mu.Lock()
	tid := k.nextPID
	k.nextPID++
	k.mu.Unlock()
	t := k.allocTask(tg, tid, creator.creds)
	tg.mu.Lock()
	creator.mu.Lock()
	dying := creator.exiting || tg.exited
	// The mask is the new thread's before any other thread can see it
	// (retargetShared reads the masks of tg.tasks).
	t.sigmask, t.affinity = creator.sigmask, creator.affinity
	creator.mu.Unlock()
	if !dying {
		t.seccomp.Store(creator.seccomp.Load())
		t.nsp.Store(creator.nsp.Load())
		t.assignPIDs(creator.activePIDNS(), false) // pidns.go
		tg.tasks = append(tg.tasks, t)
	}
	tg.mu.Unlock()
	if dying {
		return nil
	}
	k.stats.threads.Add(1)
	k.mu.Lock()
	k.tasks[t.tid] = t
	k.mu.Unlock()
	return t
}

func (k *Kernel) newTaskTID(tg *ThreadGroup, tid int, c *vfs.Creds) *Task {
	k.stats.processes.Add(1)
	t := k.allocTask(tg, tid, c)
	k.mu.Lock()
	k.tasks[t.tid] = t
	k.mu.Unlock()
	tg.mu.Lock()
	tg.tasks = append(tg.tasks, t)
	tg.mu.Unlock()
	return t
}

func (k *Kernel) allocTask(tg *ThreadGroup, tid int, c *vfs.Creds) *Task {
	return &Task{k: k, tid: tid, tg: tg, creds: c, intr: make(chan struct{}, 1), done: make(chan struct{})}
}

// Kernel returns the task's kernel.
func (t *Task) Kernel() *Kernel { return t.k }

// TID returns the thread id; PID the process id.
func (t *Task) TID() int { return t.tid }

// PID returns the thread group id.
func (t *Task) PID() int { return t.tg.pid }

// ThreadGroup returns the task's process.
func (t *Task) ThreadGroup() *ThreadGroup { return t.tg }

// Regs returns the task's registers (valid while handling a syscall).
func (t *Task) Regs() *platform.Regs { return &t.regs }

// MM returns the address space.
func (t *Task) MM() *mm.MM { return t.mm }

// Mapper returns what changes this task's host mappings.
func (t *Task) Mapper() mm.Mapper { return t.thread }

// FDs returns the descriptor table.
func (t *Task) FDs() *vfs.FDTable { return t.tg.fds }

// FS returns the root/cwd/umask context.
func (t *Task) FS() *FSContext { return t.tg.fsc }

// Creds implements vfs.Ctx.
func (t *Task) Creds() *vfs.Creds { return t.creds }

// Interrupt implements vfs.Ctx.
func (t *Task) Interrupt() <-chan struct{} { return t.intr }

// main is the task goroutine: it locks its OS thread for life (the ptrace
// platform needs the tracer to stay one thread), runs setup (execve for the
// first task) and then the run loop.
func (t *Task) main(setup func() error) {
	defer t.k.running.Done()
	runtime.LockOSThread()
	// Never unlocked: when this goroutine ends, Go retires the thread,
	// which also takes any stub still attached to it down (PDEATHSIG).
	// Not on the main thread, which Go parks instead: nothing may rely on
	// the tracer's end (the ptrace platform reaps every stub thread in
	// its Release).
	if setup != nil {
		gostack.Grow() // the exec ahead goes deep
		if err := setup(); err != nil {
			if err != errHeldExit { // else a signal already chose the status
				t.exitGroup(ExitStatus{Code: 127})
			}
			t.finish()
			return
		}
	}
	t.run()
}

// run is the task's loop: run the guest until it needs the kernel, do
// what it needs, repeat.
func (t *Task) run() {
	// A signal (or exit_group) that came while the task was being
	// created could not interrupt a platform thread that did not exist
	// yet: look before the guest runs.
	if t.checkSignals() {
		t.finish()
		return
	}
	for {
		if m := t.mm; m != nil && m.PatchRegionPending() { // a fork child's patched sites (mm/patch.go)
			if err := m.MapPatchRegion(t.thread); err != nil {
				t.k.Errorf("pid %d: %v", t.tid, err)
			}
		}
		if m := t.mm; m != nil && m.HasStale() { // a remote write copied a page (mm/remote.go)
			if err := m.FlushStale(t.thread); err != nil {
				t.k.Errorf("pid %d: %v", t.tid, err)
			}
		}
		if m := t.mm; m != nil {
			// Pages another task invalidated (truncation, hole punching).
			if err := m.ApplyPending(t.thread); err != nil {
				t.k.Errorf("pid %d: %v", t.tid, err)
			}
		}
		// A group stop in progress waits for the threads inside the
		// guest; one entering it now must stop first (jobctl.go).
		t.inGuest.Store(true)
		if t.tg.stopFlag.Load() && !t.groupStopDone() {
			t.inGuest.Store(false)
			t.tg.stopProgress()
			if t.checkSignals() {
				break
			}
			continue
		}
		if t.pstep {
			t.setStepFlag()
		}
		ev, err := t.thread.Switch(&t.regs)
		t.inGuest.Store(false)
		if t.pforcedTF {
			t.clearStepFlag()
		}
		t.tg.stopProgress()
		if err != nil {
			if errors.Is(err, platform.ErrGuest) {
				t.k.Logf("pid %d: %v", t.tid, err)
			} else {
				t.k.Errorf("pid %d: %v", t.tid, err)
			}
			t.exitGroup(ExitStatus{Signal: abi.SIGKILL})
			break
		}
		switch ev.Kind {
		case platform.EventSyscall:
			t.patchSite(ev)
			t.doSyscall()
		case platform.EventFault:
			t.fault(ev)
		case platform.EventSignal:
			if t.patchedTrap(ev) {
				if !t.retryInsn {
					t.doSyscall()
				}
				t.retryInsn = false
				break
			}
			t.syncSignal(ev.Signo, ev.Code, ev.Addr)
		case platform.EventInterrupt:
		}
		if t.checkSignals() {
			break
		}
		t.applyRestart(false, false)
		if t.restoreMask {
			t.restoreMask = false
			t.SetSigMask(t.savedMask)
		}
	}
	t.finish()
}

// CPUTime is the CPU time the guest thread has used on the host: its stub
// thread's time on CPU, from /proc/TID/schedstat (Linux lets a process read
// another process's per-thread CPU clock only through /proc).
func (t *Task) CPUTime() time.Duration {
	t.mu.Lock()
	th := t.thread
	t.mu.Unlock()
	if th == nil {
		return 0
	}
	// Plain system calls: os.ReadFile would register the file with the
	// runtime's poller (and fail to), for a read made at every thread's
	// exit.
	fd, err := unix.Open("/proc/"+strconv.Itoa(th.ID())+"/schedstat", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0
	}
	var b [128]byte
	n, err := unix.Read(fd, b[:])
	unix.Close(fd)
	if err != nil || n <= 0 {
		return 0
	}
	f := strings.Fields(string(b[:n]))
	if len(f) == 0 {
		return 0
	}
	ns, _ := strconv.ParseInt(f[0], 10, 64)
	return time.Duration(ns)
}

// setThread changes the task's platform thread; wake reads it from other
// goroutines under t.mu.
func (t *Task) setThread(th platform.Thread) {
	t.mu.Lock()
	t.thread = th
	t.mu.Unlock()
}

// setMM changes the task's address space; /proc reads it from other
// goroutines under t.mu.
func (t *Task) setMM(m *mm.MM) {
	t.mu.Lock()
	t.mm = m
	t.mu.Unlock()
}

// memShared returns the address space for another goroutine.
func (t *Task) memShared() *mm.MM {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.mm
}
