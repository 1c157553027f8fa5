package ptrace

import (
	"fmt"

	"golang.org/x/sys/unix"

	"glassbox/internal/platform"
)

// Host clone flags for a new stub thread: same memory, files and signal
// handlers as the stub's other threads.
const threadCloneFlags = unix.CLONE_VM | unix.CLONE_FS | unix.CLONE_FILES | unix.CLONE_SIGHAND |
	unix.CLONE_THREAD | unix.CLONE_SYSVSEM

// newThread is a stub thread created but not yet traced: it spins on
// `pause` in the clone site until Start attaches to it.
type newThread struct {
	proc *process
	tid  int
	regs unix.PtraceRegs
}

// NewThread implements platform.Thread: it injects a clone into t's stub.
func (t *thread) NewThread() (platform.ThreadStarter, error) {
	p := t.proc
	p.mu.Lock()
	if p.threads == 0 {
		p.mu.Unlock()
		return nil, fmt.Errorf("stub %d is gone", p.pid)
	}
	p.threads++ // counted now, so the process can't be torn down meanwhile
	p.mu.Unlock()
	tid, err := t.syscallAt(clonePC, cloneTrapRIP, unix.SYS_CLONE, threadCloneFlags, 0, 0, 0, 0)
	if err != nil {
		p.mu.Lock()
		p.threads--
		p.mu.Unlock()
		return nil, err
	}
	return &newThread{proc: p, tid: int(tid), regs: t.cur}, nil
}

// Start implements platform.ThreadStarter. The calling goroutine must be
// locked to its OS thread for life: it becomes the new thread's tracer.
// PTRACE_SEIZE + PTRACE_INTERRUPT stop the thread without a signal (a
// SIGSTOP would start a group stop in the whole stub).
func (n *newThread) Start() (platform.Thread, error) {
	p := n.proc
	cpu := int(p.p.nextCPU.Add(1)-1) % p.p.ncpu
	pinSelf(cpu)
	t := &thread{proc: p, tid: n.tid}
	fail := func(err error) (platform.Thread, error) {
		unix.Tgkill(p.pid, n.tid, unix.SIGKILL) // takes the stub down: it is unusable
		p.mu.Lock()
		p.threads--
		p.mu.Unlock()
		return nil, err
	}
	opts := unix.PTRACE_O_TRACESYSGOOD | unix.PTRACE_O_EXITKILL
	if err := ptrace(unix.PTRACE_SEIZE, n.tid, 0, uintptr(opts)); err != nil {
		return fail(fmt.Errorf("PTRACE_SEIZE: %w", err))
	}
	if err := ptrace(unix.PTRACE_INTERRUPT, n.tid, 0, 0); err != nil {
		return fail(fmt.Errorf("PTRACE_INTERRUPT: %w", err))
	}
	for {
		ws, err := wait(n.tid)
		if err != nil {
			return fail(err)
		}
		if !ws.Stopped() {
			return fail(fmt.Errorf("new stub thread died: %s", describe(ws)))
		}
		if ws.StopSignal() == unix.SIGTRAP && ws.TrapCause() == unix.PTRACE_EVENT_STOP {
			break
		}
		// Some other stop came first (an interrupt meant for it): go on,
		// and let the first Switch report it.
		t.intr = true
		if err := ptrace(unix.PTRACE_CONT, n.tid, 0, 0); err != nil {
			return fail(err)
		}
	}
	unix.SchedSetaffinity(n.tid, cpuSet(cpu))
	if err := getRegs(n.tid, &t.cur); err != nil {
		return fail(err)
	}
	t.cur.Orig_rax = ^uint64(0)
	return t, nil
}
