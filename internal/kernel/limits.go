package kernel

import (
	"golang.org/x/sys/unix"
)

const rlimCount = 16

// RlimInfinity is RLIM_INFINITY.
const RlimInfinity = ^uint64(0)

// Rlimit is one resource limit.
type Rlimit struct{ Cur, Max uint64 }

// defaultRlimits are the host's own limits: what a process started natively
// from the same place would inherit.
func defaultRlimits() [rlimCount]Rlimit {
	var out [rlimCount]Rlimit
	for i := range out {
		var r unix.Rlimit
		if unix.Getrlimit(i, &r) == nil {
			out[i] = Rlimit{r.Cur, r.Max}
		} else {
			out[i] = Rlimit{RlimInfinity, RlimInfinity}
		}
	}
	return out
}

// Rlimit returns limit res.
func (tg *ThreadGroup) Rlimit(res int) Rlimit {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.rlimits[res]
}

// SetRlimit changes limit res. Raising the hard limit needs root.
func (tg *ThreadGroup) SetRlimit(t *Task, res int, r Rlimit) error {
	if err := tg.setRlimit(t, res, r); err != nil {
		return err
	}
	if res == unix.RLIMIT_CPU {
		tg.armCPULimit()
	}
	return nil
}

func (tg *ThreadGroup) setRlimit(t *Task, res int, r Rlimit) error {
	if r.Cur > r.Max {
		return unix.EINVAL
	}
	tg.mu.Lock()
	defer tg.mu.Unlock()
	if r.Max > tg.rlimits[res].Max && !t.CapableInit(unix.CAP_SYS_RESOURCE) {
		return unix.EPERM
	}
	if res == unix.RLIMIT_NOFILE && r.Max > 1<<20 {
		return unix.EPERM
	}
	tg.rlimits[res] = r
	return nil
}

// FDLimit is RLIMIT_NOFILE's soft limit as a descriptor bound.
func (t *Task) FDLimit() int {
	l := t.tg.Rlimit(unix.RLIMIT_NOFILE).Cur
	if l > 1<<20 {
		l = 1 << 20
	}
	return int(l)
}

// RlimitTarget returns the process whose limits prlimit64(pid) reads or
// changes: the caller's for pid 0, otherwise the process of thread pid,
// if the caller's real uid and gid equal all of the target's or it is
// privileged (the rule of process_vm_readv).
// Linux: kernel/sys.c (prlimit64, check_prlimit_permission)
func (t *Task) RlimitTarget(pid int) (*ThreadGroup, error) {
	if pid == 0 {
		return t.tg, nil
	}
	target := t.k.TaskByTID(pid)
	if pid < 0 || target == nil {
		return nil, unix.ESRCH
	}
	if !t.mayAccessMem(target) {
		return nil, unix.EPERM
	}
	return target.tg, nil
}

// FileSizeLimit implements vfs.FileSizeLimiter: RLIMIT_FSIZE's soft limit.
func (t *Task) FileSizeLimit() uint64 { return t.tg.Rlimit(unix.RLIMIT_FSIZE).Cur }
