package kernel

import (
	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/vfs"
)

// Credentials. A task's *vfs.Creds is never changed in place (threads and
// open files may hold the pointer); a change installs a new copy.
// Capabilities follow the root model: a task whose effective uid is 0 has
// them all, others none. Linux: kernel/sys.c, kernel/cred.c

// capable reports whether the task may override uid checks.
func (t *Task) capable() bool { return t.creds.EUID == 0 || t.capsKept }

// dropCaps applies the capability rules of a uid change: leaving euid 0
// drops the capabilities unless PR_SET_KEEPCAPS was set, in which case
// they stay until the next exec. Linux: security/commoncap.c (cap_emulate_setxuid)
func (t *Task) dropCaps(old *vfs.Creds) {
	if old.EUID == 0 && t.creds.EUID != 0 {
		t.capsKept = t.keepCaps
		c := t.credsCopy()
		c.Caps = t.capsKept
		t.setCreds(c)
	}
}

// SetKeepCaps is PR_SET_KEEPCAPS; KeepCaps is PR_GET_KEEPCAPS.
func (t *Task) SetKeepCaps(on bool) { t.keepCaps = on }

// KeepCaps reports PR_GET_KEEPCAPS.
func (t *Task) KeepCaps() bool { return t.keepCaps }

func (t *Task) setCreds(c *vfs.Creds) {
	t.mu.Lock()
	old := t.creds
	t.creds = c
	t.mu.Unlock()
	if old != nil && (old.EUID != c.EUID || old.EGID != c.EGID || old.FSUID != c.FSUID || old.FSGID != c.FSGID) {
		// A process that changed identity stops being dumpable (and
		// traceable without CAP_SYS_PTRACE): fs.suid_dumpable is 0.
		// Linux: kernel/cred.c (commit_creds)
		t.tg.SetDumpable(false)
	}
}

// credsShared returns the credentials for another goroutine (/proc).
func (t *Task) credsShared() *vfs.Creds {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.creds
}

func (t *Task) credsCopy() *vfs.Creds {
	c := *t.creds
	c.Groups = append([]uint32(nil), t.creds.Groups...)
	return &c
}

// noID is -1 as a uid/gid argument: "leave unchanged".
const noID = ^uint32(0)

// SetUID is setuid(2).
func (t *Task) SetUID(uid uint32) error {
	if uid == noID {
		return unix.EINVAL
	}
	c := t.credsCopy()
	switch {
	case t.capable():
		c.UID, c.EUID, c.SUID, c.FSUID = uid, uid, uid, uid
	case uid == c.UID || uid == c.SUID:
		c.EUID, c.FSUID = uid, uid
	default:
		return unix.EPERM
	}
	old0 := t.creds
	t.setCreds(c)
	t.dropCaps(old0)
	return nil
}

// SetGID is setgid(2).
func (t *Task) SetGID(gid uint32) error {
	if gid == noID {
		return unix.EINVAL
	}
	c := t.credsCopy()
	switch {
	case t.capable():
		c.GID, c.EGID, c.SGID, c.FSGID = gid, gid, gid, gid
	case gid == c.GID || gid == c.SGID:
		c.EGID, c.FSGID = gid, gid
	default:
		return unix.EPERM
	}
	t.setCreds(c)
	return nil
}

// SetREUID is setreuid(2).
func (t *Task) SetREUID(r, e uint32) error {
	c := t.credsCopy()
	old := *t.creds
	if r != noID {
		if !t.capable() && r != old.UID && r != old.EUID {
			return unix.EPERM
		}
		c.UID = r
	}
	if e != noID {
		if !t.capable() && e != old.UID && e != old.EUID && e != old.SUID {
			return unix.EPERM
		}
		c.EUID = e
	}
	if r != noID || e != noID && e != old.UID {
		c.SUID = c.EUID
	}
	c.FSUID = c.EUID
	old0 := t.creds
	t.setCreds(c)
	t.dropCaps(old0)
	return nil
}

// SetREGID is setregid(2).
func (t *Task) SetREGID(r, e uint32) error {
	c := t.credsCopy()
	old := *t.creds
	if r != noID {
		if !t.capable() && r != old.GID && r != old.EGID {
			return unix.EPERM
		}
		c.GID = r
	}
	if e != noID {
		if !t.capable() && e != old.GID && e != old.EGID && e != old.SGID {
			return unix.EPERM
		}
		c.EGID = e
	}
	if r != noID || e != noID && e != old.GID {
		c.SGID = c.EGID
	}
	c.FSGID = c.EGID
	t.setCreds(c)
	return nil
}

// SetRESUID is setresuid(2).
func (t *Task) SetRESUID(r, e, s uint32) error {
	old := *t.creds
	ok := func(v uint32) bool { return v == noID || t.capable() || v == old.UID || v == old.EUID || v == old.SUID }
	if !ok(r) || !ok(e) || !ok(s) {
		return unix.EPERM
	}
	c := t.credsCopy()
	if r != noID {
		c.UID = r
	}
	if e != noID {
		c.EUID = e
	}
	if s != noID {
		c.SUID = s
	}
	c.FSUID = c.EUID
	old0 := t.creds
	t.setCreds(c)
	t.dropCaps(old0)
	return nil
}

// SetRESGID is setresgid(2).
func (t *Task) SetRESGID(r, e, s uint32) error {
	old := *t.creds
	ok := func(v uint32) bool { return v == noID || t.capable() || v == old.GID || v == old.EGID || v == old.SGID }
	if !ok(r) || !ok(e) || !ok(s) {
		return unix.EPERM
	}
	c := t.credsCopy()
	if r != noID {
		c.GID = r
	}
	if e != noID {
		c.EGID = e
	}
	if s != noID {
		c.SGID = s
	}
	c.FSGID = c.EGID
	t.setCreds(c)
	return nil
}

// SetFSUID is setfsuid(2): it returns the old fsuid whether or not the
// change was allowed.
func (t *Task) SetFSUID(uid uint32) uint32 {
	old := *t.creds
	if uid != noID && (t.capable() || uid == old.UID || uid == old.EUID || uid == old.SUID || uid == old.FSUID) {
		c := t.credsCopy()
		c.FSUID = uid
		t.setCreds(c)
	}
	return old.FSUID
}

// SetFSGID is setfsgid(2).
func (t *Task) SetFSGID(gid uint32) uint32 {
	old := *t.creds
	if gid != noID && (t.capable() || gid == old.GID || gid == old.EGID || gid == old.SGID || gid == old.FSGID) {
		c := t.credsCopy()
		c.FSGID = gid
		t.setCreds(c)
	}
	return old.FSGID
}

// SetGroups is setgroups(2).
func (t *Task) SetGroups(g []uint32) error {
	if !t.capable() {
		return unix.EPERM
	}
	c := t.credsCopy()
	c.Groups = append([]uint32(nil), g...)
	t.setCreds(c)
	return nil
}

// Capable reports whether the task has the root capabilities.
func (t *Task) Capable() bool { return t.capable() }

// execCreds computes the credentials after exec of a file with mode,
// uid and gid: setuid/setgid bits change the effective ids (unless the
// mount is nosuid or the task has no_new_privs); saved ids follow the
// effective ones. It also reports whether AT_SECURE must be set.
// Linux: fs/exec.c (bprm_fill_uid), security/commoncap.c (cap_bprm_creds_from_file)
func (t *Task) execCreds(mode, uid, gid uint32, nosuid bool) (*vfs.Creds, bool) {
	c := t.credsCopy()
	c.Caps = false // capabilities kept with PR_SET_KEEPCAPS end at exec
	if !nosuid && !t.tg.noNewPrivs() {
		if mode&unix.S_ISUID != 0 {
			c.EUID = uid
		}
		if mode&(unix.S_ISGID|unix.S_IXGRP) == unix.S_ISGID|unix.S_IXGRP {
			c.EGID = gid
		}
	}
	c.SUID, c.FSUID = c.EUID, c.EUID
	c.SGID, c.FSGID = c.EGID, c.EGID
	return c, c.EUID != c.UID || c.EGID != c.GID
}

// MaySignal applies kill(2)'s permission rule: root, or a sender whose
// real or effective uid is the target's real or saved uid; SIGCONT also
// within one session. Linux: kernel/signal.c (check_kill_permission)
func (t *Task) MaySignal(target *ThreadGroup, sig int) bool {
	if t.capable() || target == t.tg {
		return true
	}
	l := target.Leader()
	if l == nil {
		return true // exiting: nothing to protect
	}
	tc, c := l.credsShared(), t.creds
	if c.EUID == tc.UID || c.EUID == tc.SUID || c.UID == tc.UID || c.UID == tc.SUID {
		return true
	}
	return sig == abi.SIGCONT && target.Sid() == t.tg.Sid()
}
