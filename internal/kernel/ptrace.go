package kernel

import (
	"strconv"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/trace"
)

// ptrace between guest tasks: one guest task (the tracer's process)
// stops another at its syscalls, signals and events and reads and
// changes its registers and memory. Everything happens inside glassbox'
// kernel; the host's ptrace of the stubs (platform/ptrace) is never
// lent to the guest. Linux: kernel/ptrace.c, kernel/signal.c
// (ptrace_stop, ptrace_signal, do_jobctl_trap), kernel/entry/common.c
// (syscall_trace_enter, syscall_exit_work)
//
// Who may change what:
//   - Task.ptrace (the link to the tracer, the stop in progress, the way
//     the tracer resumed the task) and ThreadGroup.tracees/traceeExits
//     are guarded by Kernel.mu.
//   - A stopped tracee's goroutine waits in ptraceStop and runs the
//     requests the tracer sends it (ptraceReq): registers, FP state and
//     debug registers are only ever touched by the tracee's own
//     goroutine, as the platform requires. It leaves the stop when the
//     tracer closes ptraceState.left under Kernel.mu (resume, detach,
//     the tracer's exit) or when it must die (SIGKILL, exit_group),
//     closing left itself; a tracer that finds left closed gets ESRCH.
//   - Task.pstep, pemu, psys, pforcedTF and groupGen belong to the
//     tracee's own goroutine.

// Kinds of ptrace-stop.
const (
	stopSignal       = iota + 1 // signal-delivery-stop
	stopGroup                   // group-stop
	stopSyscallEnter            // syscall-enter-stop
	stopSyscallExit             // syscall-exit-stop
	stopEvent                   // PTRACE_EVENT_* stop (and PTRACE_EVENT_STOP)
	stopExit                    // PTRACE_EVENT_EXIT: the task is already exiting
)

// How the tracer resumed a tracee.
const (
	resumeCont = iota
	resumeSyscall
	resumeStep
	resumeSysemu
	resumeSysemuStep
	resumeListen
	resumeDetach
)

// ptraceState is a task's side of a ptrace link. Guarded by Kernel.mu.
type ptraceState struct {
	tracer  *ThreadGroup // nil: not traced
	seized  bool
	options uint32

	stopped  bool
	kind     int
	code     uint32   // the stop's exit_code: wait reports code<<8|0x7f
	reported bool     // a wait has collected this stop
	info     *SigInfo // GETSIGINFO's answer; nil for a non-seized group-stop
	msg      uint64   // GETEVENTMSG's answer
	reqs     chan ptraceReq
	left     chan struct{} // closed when the stop ends

	mode      int  // how the last stop was resumed
	sig       int  // the signal the tracer resumed with
	trap      bool // PTRACE_INTERRUPT (or a new seized task): trap soon
	listening bool
}

// ptraceReq is work the tracer has the stopped tracee's goroutine do.
type ptraceReq struct {
	fn   func()
	done chan struct{}
}

// Traced reports whether a tracer is attached (for /proc and fast paths).
func (t *Task) Traced() bool { return t.traced.Load() }

// fatalPending reports whether the task must stop running guest code:
// it is exiting, or SIGKILL is pending.
func (t *Task) fatalPending() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.exiting || t.pendingLocked().Has(abi.SIGKILL)
}

// ptraceStop puts t into a ptrace-stop that its tracer's wait reports
// as code<<8|0x7f, and waits, serving the tracer's requests, until the
// tracer resumes it. It returns the signal the tracer resumed with and
// true, or false when t is not traced or must die (then nothing is to be
// done with the stop's outcome). Linux: kernel/signal.c (ptrace_stop)
func (t *Task) ptraceStop(kind int, code uint32, info *SigInfo, msg uint64) (int, bool) {
	k := t.k
	if kind != stopExit && t.fatalPending() {
		return 0, false
	}
	k.mu.Lock()
	p := &t.ptrace
	tracer := p.tracer
	if tracer == nil {
		k.mu.Unlock()
		return 0, false
	}
	p.stopped, p.kind, p.code, p.reported, p.info = true, kind, code, false, info
	if kind == stopEvent || kind == stopExit || kind == stopSyscallEnter || kind == stopSyscallExit {
		p.msg = msg
	}
	p.trap = false
	t.ptraceTrap.Store(false)
	p.reqs, p.left = make(chan ptraceReq), make(chan struct{})
	reqs, left := p.reqs, p.left
	tracer.notifyChildLocked()
	k.mu.Unlock()
	if tr := k.cfg.Tracer; tr.On(trace.Signal) {
		tr.Emit(&trace.Event{Kind: trace.Signal, PID: t.tg.pid, TID: t.tid,
			Detail: "ptrace stop " + stopName(kind) + " status 0x" + strconv.FormatUint(uint64(code), 16)})
	}
	if tracer.Action(abi.SIGCHLD).Flags&abi.SA_NOCLDSTOP == 0 {
		tracer.SignalInfo(SigInfo{Signo: abi.SIGCHLD, Code: abi.CLD_TRAPPED, PID: int32(t.tid),
			UID: t.creds.UID, Status: int32(code & 0x7f)})
	}
	for {
		select {
		case r := <-reqs:
			r.fn()
			close(r.done)
		case <-left:
			k.mu.Lock()
			sig, mode := p.sig, p.mode
			k.mu.Unlock()
			t.setResumeMode(mode)
			return sig, true
		case <-t.intr:
			if kind == stopExit && !t.sigkillPending() || kind != stopExit && !t.fatalPending() {
				continue
			}
			k.mu.Lock()
			if p.stopped && p.left == left {
				p.stopped = false
				close(left)
			}
			k.mu.Unlock()
			t.setResumeMode(resumeCont)
			return 0, false
		}
	}
}

func (t *Task) sigkillPending() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.pendingLocked().Has(abi.SIGKILL)
}

func stopName(kind int) string {
	switch kind {
	case stopSignal:
		return "signal-delivery"
	case stopGroup:
		return "group"
	case stopSyscallEnter:
		return "syscall-enter"
	case stopSyscallExit:
		return "syscall-exit"
	case stopExit:
		return "exit"
	}
	return "event"
}

// setResumeMode records on the tracee's goroutine how it runs on.
func (t *Task) setResumeMode(mode int) {
	t.psys = mode == resumeSyscall
	t.pemu = mode == resumeSysemu || mode == resumeSysemuStep
	t.pstep = mode == resumeStep || mode == resumeSysemuStep
	t.plisten = mode == resumeListen
}

// notifyInfo is the siginfo ptrace_do_notify makes for a stop that is
// not a signal's: SIGTRAP (or sig) with si_code the stop's exit code.
func (t *Task) notifyInfo(sig int, code uint32) *SigInfo {
	return &SigInfo{Signo: int32(sig), Code: int32(code), PID: int32(t.tid), UID: t.creds.UID}
}

// ptraceEvent stops t for PTRACE_EVENT_ev with message msg if its tracer
// asked for the event (option bit opt). It reports whether it stopped.
func (t *Task) ptraceEvent(ev int, opt uint32, msg uint64) bool {
	if !t.traced.Load() {
		return false
	}
	t.k.mu.Lock()
	on := t.ptrace.tracer != nil && t.ptrace.options&opt != 0
	t.k.mu.Unlock()
	if !on {
		return false
	}
	code := uint32(abi.SIGTRAP | ev<<8)
	kind := stopEvent
	if ev == unix.PTRACE_EVENT_EXIT {
		kind = stopExit
	}
	t.ptraceStop(kind, code, t.notifyInfo(abi.SIGTRAP, code), msg)
	return true
}

// ptraceSignal is the signal-delivery-stop for info, taken from the
// pending set. It returns the signal to act on (0: none), with info
// rewritten as the tracer decided. Linux: kernel/signal.c (ptrace_signal)
func (t *Task) ptraceSignal(info *SigInfo) int {
	sig := int(info.Signo)
	signr, ok := t.ptraceStop(stopSignal, uint32(sig), info, 0)
	if !ok {
		if t.fatalPending() {
			return 0
		}
		return sig // detached meanwhile: act as if never traced
	}
	if signr == 0 {
		return 0
	}
	if signr != int(info.Signo) {
		t.k.mu.Lock()
		tracer := t.ptrace.tracer
		t.k.mu.Unlock()
		*info = SigInfo{Signo: int32(signr), Code: abi.SI_USER}
		if tracer != nil {
			info.PID = int32(tracer.pid)
			if l := tracer.Leader(); l != nil {
				info.UID = l.credsShared().UID
			}
		}
	}
	t.mu.Lock()
	blocked := t.sigmask.Has(signr)
	t.mu.Unlock()
	if blocked {
		t.SendSignalInfo(*info)
		return 0
	}
	return signr
}

// ptraceTrapStop is the PTRACE_EVENT_STOP trap of a seized tracee that
// PTRACE_INTERRUPT (or its creation) asked for: SIGTRAP, or the stop
// signal while its process is stopped. Linux: kernel/signal.c (do_jobctl_trap)
func (t *Task) ptraceTrapStop() {
	if !t.ptraceTrap.Load() {
		return
	}
	kind, code, info := t.jobTrapCode()
	if kind == stopGroup {
		t.groupGen = t.tg.stopGen.Load()
	}
	t.ptraceTrapLoop(kind, code, info)
}

// jobTrapCode is the PTRACE_EVENT_STOP a seized tracee reports now.
func (t *Task) jobTrapCode() (int, uint32, *SigInfo) {
	t.k.mu.Lock()
	stopped, stopSig := t.tg.job.stopped, t.tg.job.stopSig
	t.k.mu.Unlock()
	kind, sig := stopEvent, abi.SIGTRAP
	if stopped {
		kind, sig = stopGroup, stopSig
	}
	code := uint32(sig | unix.PTRACE_EVENT_STOP<<8)
	return kind, code, t.notifyInfo(sig, code)
}

// ptraceTrapLoop reports a stop the tracer may answer with PTRACE_LISTEN:
// the task then stays stopped, not for ptrace, until it has something
// new to report (its group stop ended, a signal came, the tracer
// interrupts) and traps again with PTRACE_EVENT_STOP.
func (t *Task) ptraceTrapLoop(kind int, code uint32, info *SigInfo) {
	for {
		if _, ok := t.ptraceStop(kind, code, info, 0); !ok || !t.plisten {
			return
		}
		wasStopped := t.tg.isStopped()
		for !t.ptraceTrap.Load() && !t.fatalPending() {
			if wasStopped && !t.tg.isStopped() || !wasStopped && t.Interrupted() {
				break
			}
			<-t.intr
		}
		if t.fatalPending() {
			return
		}
		kind, code, info = t.jobTrapCode()
	}
}

// ptraceGroupStop is a traced task's share of a group stop: a
// ptrace-stop the tracer sees instead of a plain stop. It returns false
// when the task is not traced (stopWait then waits as usual). A tracee
// the tracer resumed runs on while the group stays stopped; a seized one
// the tracer answered with PTRACE_LISTEN waits for the group stop to end.
func (t *Task) ptraceGroupStop() bool {
	if !t.traced.Load() {
		return false
	}
	k := t.k
	k.mu.Lock()
	p := &t.ptrace
	if p.tracer == nil {
		k.mu.Unlock()
		return false
	}
	seized := p.seized
	sig := t.tg.job.stopSig
	stopped := t.tg.job.stopped
	k.mu.Unlock()
	gen := t.tg.stopGen.Load()
	if !stopped || t.groupGen == gen {
		return true
	}
	t.groupGen = gen
	if !seized {
		t.ptraceStop(stopGroup, uint32(sig), nil, 0)
		return true
	}
	t.ptraceTrapLoop(t.jobTrapCode())
	return true
}

// groupStopDone reports whether the task, traced, has already taken its
// part in the current group stop (and its tracer let it run on).
func (t *Task) groupStopDone() bool {
	return t.traced.Load() && t.groupGen == t.tg.stopGen.Load()
}

// ptraceSyscallEnter is the syscall-enter-stop (and PTRACE_SYSEMU's
// stop). It returns false when the call must not run: the tracer
// skipped it (orig_rax -1), SYSEMU emulates it, or the task dies.
// Linux: kernel/entry/common.c (syscall_trace_enter)
func (t *Task) ptraceSyscallEnter() bool {
	if !t.psys && !t.pemu {
		return true
	}
	emu := t.pemu
	t.regs.Rax = encodeResult(0, unix.ENOSYS)
	code := t.syscallStopCode()
	sig, ok := t.ptraceStop(stopSyscallEnter, code, t.notifyInfo(abi.SIGTRAP, code), unix.PTRACE_SYSCALL_INFO_ENTRY)
	if !ok {
		return !t.fatalPending() && !emu
	}
	if sig != 0 {
		t.SendSignal(sig)
	}
	if emu {
		t.inSyscall = true
		return false
	}
	if int64(t.regs.Orig_rax) == -1 {
		t.inSyscall = true
		return false
	}
	return true
}

// ptraceSyscallExit is the syscall-exit-stop, or the single-step trap a
// stepped syscall reports instead. Linux: kernel/entry/common.c
// (syscall_exit_work), arch/x86/kernel/step.c (user_single_step_report)
func (t *Task) ptraceSyscallExit() {
	if t.pemu {
		return // PTRACE_SYSEMU reported the call at its entry
	}
	if t.pstep {
		t.forceSignal(SigInfo{Signo: abi.SIGTRAP, Code: trapBrkpt})
		return
	}
	if !t.psys {
		return
	}
	code := t.syscallStopCode()
	if sig, ok := t.ptraceStop(stopSyscallExit, code, t.notifyInfo(abi.SIGTRAP, code), unix.PTRACE_SYSCALL_INFO_EXIT); ok && sig != 0 {
		t.SendSignal(sig)
	}
}

// Codes of SIGTRAP's siginfo. Linux: include/uapi/asm-generic/siginfo.h
const (
	trapBrkpt = 1
	trapTrace = 2
)

func (t *Task) syscallStopCode() uint32 {
	t.k.mu.Lock()
	good := t.ptrace.options&unix.PTRACE_O_TRACESYSGOOD != 0
	t.k.mu.Unlock()
	if good {
		return abi.SIGTRAP | 0x80
	}
	return abi.SIGTRAP
}

// ptraceExec reports a successful execve: PTRACE_EVENT_EXEC with the
// former thread id, or a plain SIGTRAP for a tracee that did not ask for
// the event and was not seized. Linux: fs/exec.c (exec_binprm), ptrace_event
func (t *Task) ptraceExec(oldTID int) {
	if !t.traced.Load() || t.ptraceEvent(unix.PTRACE_EVENT_EXEC, unix.PTRACE_O_TRACEEXEC, uint64(oldTID)) {
		return
	}
	t.k.mu.Lock()
	legacy := t.ptrace.tracer != nil && !t.ptrace.seized
	t.k.mu.Unlock()
	if legacy {
		t.SendSignalInfo(SigInfo{Signo: abi.SIGTRAP, Code: abi.SI_USER, PID: int32(t.tg.pid), UID: t.creds.UID})
	}
}

// eflagsTF is the trap flag: the CPU traps after one instruction.
const eflagsTF = 0x100

// setStepFlag sets the trap flag for PTRACE_SINGLESTEP, remembering that
// glassbox set it so that the tracer never sees it (Linux: TIF_FORCED_TF).
func (t *Task) setStepFlag() {
	if t.regs.Eflags&eflagsTF == 0 {
		t.regs.Eflags |= eflagsTF
		t.pforcedTF = true
	}
}

func (t *Task) clearStepFlag() {
	t.regs.Eflags &^= eflagsTF
	t.pforcedTF = false
}

// ptraceSeccomp is SECCOMP_RET_TRACE: a PTRACE_EVENT_SECCOMP stop when
// the tracer asked for it. It returns false when the call must not run:
// there is no such tracer (the call fails with ENOSYS), the tracer
// skipped it (orig_rax -1) or the task dies. Linux: kernel/seccomp.c
// (__seccomp_filter, SECCOMP_RET_TRACE)
func (t *Task) ptraceSeccomp(data uint32) bool {
	t.regs.Rax = encodeResult(0, unix.ENOSYS)
	if !t.traced.Load() {
		return false
	}
	t.k.mu.Lock()
	on := t.ptrace.tracer != nil && t.ptrace.options&unix.PTRACE_O_TRACESECCOMP != 0
	t.k.mu.Unlock()
	if !on {
		return false
	}
	code := uint32(abi.SIGTRAP | unix.PTRACE_EVENT_SECCOMP<<8)
	if _, ok := t.ptraceStop(stopEvent, code, t.notifyInfo(abi.SIGTRAP, code), uint64(data)); !ok {
		return false
	}
	return int64(t.regs.Orig_rax) != -1
}
