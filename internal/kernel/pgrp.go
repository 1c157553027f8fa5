package kernel

import "golang.org/x/sys/unix"

// Setsid makes the caller's process a new session and process group
// leader. Linux: kernel/sys.c (ksys_setsid)
func (t *Task) Setsid() (int, error) {
	k := t.k
	tg := t.tg
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, t2 := range k.tasks {
		if t2.tg.Pgid() == tg.pid {
			return 0, unix.EPERM // already a group leader (of any group with its pid)
		}
	}
	tg.mu.Lock()
	tg.pgid, tg.sid = tg.pid, tg.pid
	tg.mu.Unlock()
	return tg.pid, nil
}

// Setpgid moves process pid (0: the caller) into group pgid (0: its own
// pid). Linux: kernel/sys.c (setpgid)
func (t *Task) Setpgid(pid, pgid int) error {
	if pgid == 0 && pid != 0 {
		pgid = pid // setpgid(-1, 0) is EINVAL. Linux: kernel/sys.c (setpgid)
	}
	if pgid < 0 {
		return unix.EINVAL
	}
	k := t.k
	self := t.tg
	k.mu.Lock()
	defer k.mu.Unlock()
	target := self
	if pid != 0 && pid != self.pid {
		target = nil
		for _, c := range self.children {
			if c.pid == pid { // a zombie too, until it is reaped
				target = c
			}
		}
		if target == nil {
			return unix.ESRCH
		}
		if target.Sid() != self.Sid() {
			return unix.EPERM
		}
		if target.attrsCopy().execed {
			return unix.EACCES // Linux: kernel/sys.c (setpgid, PF_FORKNOEXEC)
		}
	}
	if pgid == 0 {
		pgid = target.pid
	}
	if target.Sid() == target.pid {
		return unix.EPERM // a session leader can't move
	}
	if pgid != target.pid {
		// The group must exist in the caller's session.
		found := false
		for _, t2 := range k.tasks {
			if t2.tg.Pgid() == pgid && t2.tg.Sid() == self.Sid() {
				found = true
				break
			}
		}
		if !found {
			return unix.EPERM
		}
	}
	target.mu.Lock()
	target.pgid = pgid
	target.mu.Unlock()
	return nil
}
