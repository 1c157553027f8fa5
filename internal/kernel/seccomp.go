package kernel

import (
	"encoding/binary"
	"strconv"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/bpf"
	"glassbox/internal/trace"
)

// Guest seccomp: a task's mode and filter chain, checked before every
// system call it makes. glassbox answers every call itself, so a filter
// the guest installs is enforced here, in the dispatcher, exactly where
// Linux runs it (on syscall entry, before the call does anything).
//
// Concurrency: a task's state is an immutable *seccompState in an atomic
// pointer, read without a lock on every syscall. It is stored only under
// tg.mu: by the task installing a filter or entering strict mode, by a
// thread installing with SECCOMP_FILTER_FLAG_TSYNC into each of its
// siblings, and by newThreadTask giving a new thread its creator's state
// as it joins tg.tasks (so a TSYNC either sees the new thread or the
// thread copies the synced state). A thread's next syscall sees the new
// chain; one already dispatched runs under the old, as in Linux.
// Linux: kernel/seccomp.c

// seccompState is a task's seccomp mode and, in filter mode, its chain.
type seccompState struct {
	mode   int // SECCOMP_MODE_STRICT or SECCOMP_MODE_FILTER
	filter *seccompFilter
}

// seccompFilter is one installed program; prev is the filter installed
// before it (shared by every task that inherited it).
type seccompFilter struct {
	prog  *bpf.Program
	prev  *seccompFilter
	count int // filters on this chain, this one included (Seccomp_filters)
	path  int // instructions on the chain, +4 per older filter (MAX_INSNS_PER_PATH)
	// allowed marks the call numbers every filter of the chain allows
	// whatever their arguments: the dispatcher runs no filter for them.
	allowed [MaxSyscall / 64]uint64
}

// newSeccompFilter puts prog on top of prev and works out which calls the
// chain allows unconditionally.
func newSeccompFilter(prog *bpf.Program, prev *seccompFilter) *seccompFilter {
	f := &seccompFilter{prog: prog, prev: prev, count: 1, path: prog.Len()}
	if prev != nil {
		f.count = prev.count + 1
		f.path = prev.path + 4 + prog.Len()
	}
	for nr := 0; nr < MaxSyscall; nr++ {
		if prev != nil && prev.allowed[nr/64]&(1<<(nr%64)) == 0 {
			continue
		}
		if r, ok := prog.ConstantFor(uint32(nr), auditArchX86_64); ok && r == unix.SECCOMP_RET_ALLOW {
			f.allowed[nr/64] |= 1 << (nr % 64)
		}
	}
	return f
}

// maxInsnsPerPath bounds a chain's instructions (256 KiB of them).
const maxInsnsPerPath = (1 << 18) / bpf.InsnSize

// auditArchX86_64 is what seccomp_data.arch says for a 64-bit call.
const auditArchX86_64 = unix.AUDIT_ARCH_X86_64

// run evaluates the chain, newest first, and returns the answer of the
// most restrictive filter (the lowest action, compared as signed).
func (f *seccompFilter) run(d *[bpf.DataSize]byte) uint32 {
	ret := uint32(unix.SECCOMP_RET_ALLOW)
	for ; f != nil; f = f.prev {
		cur := f.prog.Run(d)
		if int32(cur&unix.SECCOMP_RET_ACTION_FULL) < int32(ret&unix.SECCOMP_RET_ACTION_FULL) {
			ret = cur
		}
	}
	return ret
}

// isAncestor reports whether f is on the chain that ends at child.
func (f *seccompFilter) isAncestor(child *seccompFilter) bool {
	if f == nil {
		return true
	}
	for ; child != nil; child = child.prev {
		if child == f {
			return true
		}
	}
	return false
}

// strictAllowed are the calls SECCOMP_MODE_STRICT lets through.
func strictAllowed(nr int) bool {
	switch nr {
	case unix.SYS_READ, unix.SYS_WRITE, unix.SYS_EXIT, unix.SYS_RT_SIGRETURN:
		return true
	}
	return false
}

// seccompEntry applies the task's seccomp state to the call about to be
// dispatched. It returns false when the call must not run: rax already
// holds its result, or the task is on its way out.
func (t *Task) seccompEntry(st *seccompState, nr int) bool {
	if st.mode == unix.SECCOMP_MODE_STRICT {
		if strictAllowed(nr) {
			return true
		}
		t.seccompTrace(nr, "strict mode: SIGKILL")
		t.seccompKill(abi.SIGKILL, true)
		return false
	}
	if nr >= 0 && nr < MaxSyscall && st.filter.allowed[nr/64]&(1<<(nr%64)) != 0 {
		return true
	}
	var d [bpf.DataSize]byte
	le := binary.LittleEndian
	le.PutUint32(d[0:], uint32(t.regs.Orig_rax))
	le.PutUint32(d[4:], auditArchX86_64)
	le.PutUint64(d[8:], t.regs.Rip)
	for i, v := range [6]uint64{t.regs.Rdi, t.regs.Rsi, t.regs.Rdx, t.regs.R10, t.regs.R8, t.regs.R9} {
		le.PutUint64(d[16+8*i:], v)
	}
	ret := st.filter.run(&d)
	data := ret & unix.SECCOMP_RET_DATA
	switch ret & unix.SECCOMP_RET_ACTION_FULL {
	case unix.SECCOMP_RET_ALLOW, unix.SECCOMP_RET_LOG:
		return true
	case unix.SECCOMP_RET_ERRNO:
		data = min(data, 4095) // MAX_ERRNO
		t.regs.Rax = uint64(-int64(data))
		t.seccompTrace(nr, "ERRNO "+strconv.Itoa(int(data)))
	case unix.SECCOMP_RET_TRAP:
		// The registers are rolled back (rax holds the call's number
		// again) and SIGSYS is forced on the task.
		t.regs.Rax = t.regs.Orig_rax
		t.seccompTrace(nr, "TRAP: SIGSYS")
		t.forceSignal(SigInfo{Signo: abi.SIGSYS, Code: sysSeccomp, Errno: int32(data),
			Addr: t.regs.Rip, Syscall: int32(uint32(t.regs.Orig_rax)), Arch: auditArchX86_64})
	case unix.SECCOMP_RET_TRACE:
		t.seccompTrace(nr, "TRACE")
		if t.ptraceSeccomp(data) {
			return true // the tracer let the call run (maybe changed)
		}
	case unix.SECCOMP_RET_USER_NOTIF:
		// glassbox never hands out a notification listener: the call
		// fails.
		t.regs.Rax = encodeResult(0, unix.ENOSYS)
		t.seccompTrace(nr, "no listener: ENOSYS")
	default: // SECCOMP_RET_KILL_THREAD, SECCOMP_RET_KILL_PROCESS, unknown
		action := ret & unix.SECCOMP_RET_ACTION_FULL
		t.seccompTrace(nr, "KILL: SIGSYS")
		t.seccompKill(abi.SIGSYS, action == unix.SECCOMP_RET_KILL_THREAD)
		return false
	}
	t.inSyscall = true
	return false
}

// sysSeccomp is SIGSYS's si_code for a seccomp trap (SYS_SECCOMP).
const sysSeccomp = 1

// seccompKill ends the task (onlyThread, while other threads live) or the
// process with sig; a process-wide SIGSYS dumps core as its default
// action does. Linux: kernel/seccomp.c (__seccomp_filter: do_exit,
// force_sig_seccomp)
func (t *Task) seccompKill(sig int, onlyThread bool) {
	tg := t.tg
	tg.mu.Lock()
	alone := len(tg.tasks) == 1
	tg.mu.Unlock()
	if onlyThread && !alone {
		t.exitThreadStatus(ExitStatus{Signal: sig})
		return
	}
	core := false
	if sig == abi.SIGSYS {
		core = t.dumpCore(sig, &SigInfo{Signo: int32(sig), Code: sysSeccomp})
	}
	t.exitGroup(ExitStatus{Signal: sig, Core: core})
}

func (t *Task) seccompTrace(nr int, what string) {
	if tr := t.k.cfg.Tracer; tr.On(trace.Signal) {
		tr.Emit(&trace.Event{Kind: trace.Signal, PID: t.tg.pid, TID: t.tid,
			Detail: "seccomp: " + abi.SyscallName(nr) + ": " + what})
	}
}

// SeccompMode returns PR_GET_SECCOMP's answer: the task's mode.
func (t *Task) SeccompMode() int {
	if st := t.seccomp.Load(); st != nil {
		return st.mode
	}
	return unix.SECCOMP_MODE_DISABLED
}

// seccompStatus returns /proc/PID/status's Seccomp and Seccomp_filters.
func (t *Task) seccompStatus() (mode, filters int) {
	if st := t.seccomp.Load(); st != nil {
		mode = st.mode
		if st.filter != nil {
			filters = st.filter.count
		}
	}
	return
}

// SeccompStrict enters SECCOMP_MODE_STRICT (EINVAL if a filter is set).
func (t *Task) SeccompStrict() error {
	t.tg.mu.Lock()
	defer t.tg.mu.Unlock()
	st := t.seccomp.Load()
	if st != nil && st.mode != unix.SECCOMP_MODE_STRICT {
		return unix.EINVAL
	}
	t.seccomp.Store(&seccompState{mode: unix.SECCOMP_MODE_STRICT})
	return nil
}

// seccompFlags are the SECCOMP_SET_MODE_FILTER flags Linux knows.
const seccompFlags = unix.SECCOMP_FILTER_FLAG_TSYNC | unix.SECCOMP_FILTER_FLAG_LOG |
	unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW | unix.SECCOMP_FILTER_FLAG_NEW_LISTENER |
	unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH | unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV

// SeccompFilter installs the filter described by the struct sock_fprog at
// fprog. With TSYNC every other thread of the process gets the new chain
// too, unless one of them has a filter the caller's chain does not
// descend from: then nothing changes and the answer is that thread's id
// (ESRCH with TSYNC_ESRCH). Linux: kernel/seccomp.c (seccomp_set_mode_filter)
func (t *Task) SeccompFilter(flags uint, fprog uint64) (uint64, error) {
	if flags&^seccompFlags != 0 {
		return 0, unix.EINVAL
	}
	if flags&unix.SECCOMP_FILTER_FLAG_NEW_LISTENER != 0 {
		// User notification is not offered: GET_ACTION_AVAIL says
		// USER_NOTIF is unknown, as on a kernel without it.
		return 0, unix.EINVAL
	}
	if flags&unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV != 0 {
		return 0, unix.EINVAL // only with NEW_LISTENER
	}
	prog, err := t.seccompPrepare(fprog)
	if err != nil {
		return 0, err
	}
	tg := t.tg
	tg.mu.Lock()
	defer tg.mu.Unlock()
	st := t.seccomp.Load()
	var prev *seccompFilter
	if st != nil {
		if st.mode != unix.SECCOMP_MODE_FILTER {
			return 0, unix.EINVAL
		}
		prev = st.filter
	}
	f := newSeccompFilter(prog, prev)
	if f.path > maxInsnsPerPath {
		return 0, unix.ENOMEM
	}
	next := &seccompState{mode: unix.SECCOMP_MODE_FILTER, filter: f}
	if flags&unix.SECCOMP_FILTER_FLAG_TSYNC == 0 {
		t.seccomp.Store(next)
		return 0, nil
	}
	for _, o := range tg.tasks {
		if o == t {
			continue
		}
		ost := o.seccomp.Load()
		if ost == nil || ost.mode == unix.SECCOMP_MODE_FILTER && ost.filter.isAncestor(f) {
			continue
		}
		if flags&unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH != 0 {
			return 0, unix.ESRCH
		}
		return uint64(o.tid), nil
	}
	for _, o := range tg.tasks {
		o.seccomp.Store(next)
	}
	return 0, nil
}

// seccompPrepare reads and checks the guest's struct sock_fprog, in
// Linux's order: its length, then the privilege to install a filter
// (no_new_privs, or CAP_SYS_ADMIN), then the instructions.
func (t *Task) seccompPrepare(fprog uint64) (*bpf.Program, error) {
	var hdr [16]byte // struct sock_fprog: unsigned short len; pad; struct sock_filter *filter
	if err := t.CopyIn(fprog, hdr[:]); err != nil {
		return nil, unix.EFAULT
	}
	n := int(binary.LittleEndian.Uint16(hdr[0:]))
	addr := binary.LittleEndian.Uint64(hdr[8:])
	if n == 0 || n > bpf.MaxInsns {
		return nil, unix.EINVAL
	}
	if !t.tg.noNewPrivs() && !t.HasCap(unix.CAP_SYS_ADMIN) {
		return nil, unix.EACCES
	}
	if addr == 0 {
		return nil, unix.EINVAL
	}
	b := make([]byte, n*bpf.InsnSize)
	if err := t.CopyIn(addr, b); err != nil {
		return nil, unix.EFAULT
	}
	prog, err := bpf.Check(bpf.Decode(b))
	if err != nil {
		return nil, unix.EINVAL
	}
	return prog, nil
}

// SeccompActionAvail answers SECCOMP_GET_ACTION_AVAIL for the action at
// addr.
func (t *Task) SeccompActionAvail(addr uint64) error {
	var b [4]byte
	if err := t.CopyIn(addr, b[:]); err != nil {
		return unix.EFAULT
	}
	switch binary.LittleEndian.Uint32(b[:]) {
	case unix.SECCOMP_RET_KILL_PROCESS, unix.SECCOMP_RET_KILL_THREAD, unix.SECCOMP_RET_TRAP,
		unix.SECCOMP_RET_ERRNO, unix.SECCOMP_RET_TRACE, unix.SECCOMP_RET_LOG, unix.SECCOMP_RET_ALLOW:
		return nil
	}
	return unix.EOPNOTSUPP
}
