package kernel

import (
	"golang.org/x/sys/unix"

	"glassbox/internal/vfs"
)

// Accessors used by syscall handlers and /proc.

// PPID returns the parent's pid (0 for the sandbox's init).
func (tg *ThreadGroup) PPID() int {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	if tg.parent == nil {
		return 0
	}
	return tg.parent.pid
}

// Comm returns the process name (TASK_COMM_LEN-1 bytes at most).
func (tg *ThreadGroup) Comm() string {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.comm
}

// SetComm sets the process name.
func (tg *ThreadGroup) SetComm(s string) {
	if len(s) > 15 {
		s = s[:15]
	}
	tg.mu.Lock()
	tg.comm = s
	tg.mu.Unlock()
}

// Exe returns the executable's path and its name at exec time.
func (tg *ThreadGroup) Exe() (vfs.Path, string) {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.exe, tg.exeName
}

// ArgRange returns where argv and envp strings live in guest memory.
func (tg *ThreadGroup) ArgRange() (argStart, argEnd, envStart, envEnd uint64) {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.argStart, tg.argEnd, tg.envStart, tg.envEnd
}

// Pgid returns the process group id.
func (tg *ThreadGroup) Pgid() int {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.pgid
}

// Sid returns the session id.
func (tg *ThreadGroup) Sid() int {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.sid
}

// Leader returns the thread group leader task (nil if it has exited).
func (tg *ThreadGroup) Leader() *Task {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	for _, t := range tg.tasks {
		if t.tid == tg.pid {
			return t
		}
	}
	if len(tg.tasks) > 0 {
		return tg.tasks[0]
	}
	return nil
}

// SetClearChildTID records set_tid_address's pointer.
func (t *Task) SetClearChildTID(addr uint64) {
	t.mu.Lock()
	t.clearChildTID = addr
	t.mu.Unlock()
}

// ClearChildTID returns set_tid_address's pointer (PR_GET_TID_ADDRESS).
func (t *Task) ClearChildTID() uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.clearChildTID
}

// SetRobustList records set_robust_list's head.
func (t *Task) SetRobustList(head, length uint64) {
	t.mu.Lock()
	t.robustHead, t.robustLen = head, length
	t.mu.Unlock()
}

// RobustList returns the robust futex list head.
func (t *Task) RobustList() (uint64, uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.robustHead, t.robustLen
}

// RobustListOf is get_robust_list for thread tid (the kernel's number;
// 0: t): ESRCH without it, EPERM unless t may read its memory.
// Linux: kernel/futex/syscalls.c (get_robust_list)
func (t *Task) RobustListOf(tid int) (uint64, uint64, error) {
	target := t
	if tid != 0 {
		if target = t.k.TaskByTID(tid); target == nil {
			return 0, 0, unix.ESRCH
		}
		if !t.mayAccessMem(target) {
			return 0, 0, unix.EPERM
		}
	}
	h, l := target.RobustList()
	return h, l, nil
}

// ProcessCount returns how many processes exist.
func (k *Kernel) ProcessCount() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	seen := map[*ThreadGroup]bool{}
	for _, t := range k.tasks {
		seen[t.tg] = true
	}
	return len(seen)
}

// TaskByTID finds a live task.
func (k *Kernel) TaskByTID(tid int) *Task {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.tasks[tid]
}

// ThreadGroupByPID finds a live process.
func (k *Kernel) ThreadGroupByPID(pid int) *ThreadGroup {
	k.mu.Lock()
	defer k.mu.Unlock()
	if t := k.tasks[pid]; t != nil && t.tg.pid == pid {
		return t.tg
	}
	for _, t := range k.tasks {
		if t.tg.pid == pid {
			return t.tg
		}
	}
	return nil
}

// PIDs lists live process ids in ascending order.
func (k *Kernel) PIDs() []int {
	k.mu.Lock()
	seen := map[int]bool{}
	for _, t := range k.tasks {
		seen[t.tg.pid] = true
	}
	k.mu.Unlock()
	out := make([]int, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// Nice returns the process's nice value.
func (tg *ThreadGroup) Nice() int {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.nice
}

// SetNice records the process's nice value.
func (tg *ThreadGroup) SetNice(n int) {
	tg.mu.Lock()
	tg.nice = n
	tg.mu.Unlock()
}

// noNewPrivs reports PR_SET_NO_NEW_PRIVS.
func (tg *ThreadGroup) noNewPrivs() bool {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.nnp
}

// SetNoNewPrivs sets PR_SET_NO_NEW_PRIVS (it can't be cleared).
func (tg *ThreadGroup) SetNoNewPrivs() {
	tg.mu.Lock()
	tg.nnp = true
	tg.mu.Unlock()
}

// NoNewPrivs reports PR_GET_NO_NEW_PRIVS.
func (tg *ThreadGroup) NoNewPrivs() bool { return tg.noNewPrivs() }
