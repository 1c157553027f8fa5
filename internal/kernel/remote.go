package kernel

import (
	"golang.org/x/sys/unix"

	"glassbox/internal/mm"
	"glassbox/internal/vfs"
)

// mayAccessMem is ptrace's PTRACE_MODE_ATTACH_REALCREDS rule: the same
// process, or a caller whose real uid and gid equal all of the target's
// uids and gids with the target dumpable, or root.
// Linux: kernel/ptrace.c (__ptrace_may_access)
func (t *Task) mayAccessMem(target *Task) bool {
	if target.tg == t.tg || t.creds.NSCapable(target.credsShared().UserNS, unix.CAP_SYS_PTRACE) {
		return true
	}
	c, tc := t.creds, target.credsShared()
	return c.UID == tc.UID && c.UID == tc.EUID && c.UID == tc.SUID &&
		c.GID == tc.GID && c.GID == tc.EGID && c.GID == tc.SGID && target.tg.Dumpable()
}

// RemoteMM returns the address space of task tid, with a user reference
// the caller drops with DropUser, for process_vm_readv/writev.
// Linux: mm/process_vm_access.c (process_vm_rw_core), kernel/fork.c (mm_access)
func (t *Task) RemoteMM(tid int) (*mm.MM, error) {
	if tid <= 0 {
		return nil, unix.ESRCH
	}
	target := t.k.TaskByTID(tid)
	if target == nil {
		return nil, unix.ESRCH
	}
	if !t.mayAccessMem(target) {
		return nil, unix.EPERM
	}
	m := target.memShared()
	if m == nil || !m.TryAddUser() {
		return nil, unix.ESRCH
	}
	return m, nil
}

// KickMM makes the threads running in m come back to the kernel, so they
// drop host mappings a remote write made stale before running on.
func (k *Kernel) KickMM(m *mm.MM) {
	if !m.HasStale() {
		return
	}
	k.mu.Lock()
	var ts []*Task
	for _, t := range k.tasks {
		ts = append(ts, t)
	}
	k.mu.Unlock()
	for _, t := range ts {
		if t.memShared() != m {
			continue
		}
		t.mu.Lock()
		th := t.thread
		t.mu.Unlock()
		if th != nil {
			th.Interrupt()
		}
	}
}

// OpenMem implements procfs.Process: /proc/PID/mem opened by the task
// behind ctx, which needs ptrace's attach access to the process. It
// returns the copier and its release; a zombie has no memory (EACCES too
// in Linux's mm_access). Linux: fs/proc/base.c (proc_mem_open, mem_rw)
func (p procProcess) OpenMem(ctx vfs.Ctx) (func(addr uint64, b []byte, write bool) (int, error), func(), error) {
	t, ok := ctx.(*Task)
	target := p.tg.Leader()
	if !ok || target == nil {
		return nil, nil, unix.EACCES
	}
	if !t.mayAccessMem(target) {
		return nil, nil, unix.EACCES
	}
	m := target.memShared()
	if m == nil || !m.TryAddUser() {
		return nil, nil, unix.EACCES
	}
	k := t.k
	rw := func(addr uint64, b []byte, write bool) (int, error) {
		n, err := m.RemoteCopyForce(addr, b, write)
		if write && n > 0 {
			k.KickMM(m)
		}
		return n, err
	}
	return rw, m.DropUser, nil
}
