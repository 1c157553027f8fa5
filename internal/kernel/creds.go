package kernel

import (
	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/userns"
	"glassbox/internal/vfs"
)

// Credentials. A task's *vfs.Creds is never changed in place (threads and
// open files may hold the pointer); a change installs a new copy. Ids in
// Creds are kernel ids; the set*id calls take and the get*id calls give
// ids of the task's user namespace (the syscalls package maps them with
// MapUID/ShowUID). Capabilities are Linux's five sets; caps.go has the
// calls that read and change them. Linux: kernel/sys.c, kernel/cred.c,
// security/commoncap.c

// Securebits. Linux: include/uapi/linux/securebits.h
const (
	secNoroot          = 1 << 0
	secNorootLocked    = 1 << 1
	secNoSetuidFixup   = 1 << 2
	secNoSetuidLocked  = 1 << 3
	secKeepCaps        = 1 << 4
	secKeepCapsLocked  = 1 << 5
	secNoCapAmbRaise   = 1 << 6
	secNoCapAmbLocked  = 1 << 7
	secAllBits         = secNoroot | secNoSetuidFixup | secKeepCaps | secNoCapAmbRaise
	secAllLocks        = secAllBits << 1
	secureBitsSettable = secAllBits | secAllLocks
)

// HasCap reports whether the task has capability c in its own user
// namespace (ns_capable(current_user_ns(), c)).
func (t *Task) HasCap(c int) bool { return t.creds.HasCap(c) }

// CapableInit is capable(c): the capability in the sandbox's initial
// user namespace, for what a namespace does not own (the clock, nice
// values, resource limits).
func (t *Task) CapableInit(c int) bool { return t.creds.Capable(c) }

// rootUID is the kernel uid of root in the task's user namespace.
func rootKID(ns *userns.NS, gid bool) (uint32, bool) {
	if gid {
		return userns.KGID(ns, 0)
	}
	return userns.KUID(ns, 0)
}

// fixSetuid applies the capability rules of a uid change.
// Linux: security/commoncap.c (cap_task_fix_setuid, cap_emulate_setxuid)
func fixSetuid(old, c *vfs.Creds) {
	if old.Securebits&secNoSetuidFixup != 0 {
		return
	}
	root, ok := rootKID(c.UserNS, false)
	isRoot := func(id uint32) bool { return ok && id == root }
	if (isRoot(old.UID) || isRoot(old.EUID) || isRoot(old.SUID)) &&
		!isRoot(c.UID) && !isRoot(c.EUID) && !isRoot(c.SUID) {
		if c.Securebits&secKeepCaps == 0 {
			c.CapPrm, c.CapEff = 0, 0
		}
		c.CapAmb = 0
	}
	if isRoot(old.EUID) && !isRoot(c.EUID) {
		c.CapEff = 0
	}
	if !isRoot(old.EUID) && isRoot(c.EUID) {
		c.CapEff = c.CapPrm
	}
}

// capFSMask are the capabilities that follow the fsuid.
// Linux: include/linux/capability.h (CAP_FS_SET)
const capFSMask = 1<<unix.CAP_CHOWN | 1<<unix.CAP_MKNOD | 1<<unix.CAP_DAC_OVERRIDE | 1<<unix.CAP_DAC_READ_SEARCH |
	1<<unix.CAP_FOWNER | 1<<unix.CAP_FSETID | 1<<unix.CAP_LINUX_IMMUTABLE | 1<<unix.CAP_MAC_OVERRIDE

func fixSetfsuid(old, c *vfs.Creds) {
	if old.Securebits&secNoSetuidFixup != 0 {
		return
	}
	root, ok := rootKID(c.UserNS, false)
	if ok && old.FSUID == root && c.FSUID != root {
		c.CapEff &^= capFSMask
	}
	if ok && old.FSUID != root && c.FSUID == root {
		c.CapEff |= c.CapPrm & capFSMask
	}
}

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

// kuid maps a uid argument of the task's namespace (noID stays noID).
func (t *Task) kuid(id uint32) (uint32, error) {
	if id == noID {
		return noID, nil
	}
	k, ok := userns.KUID(t.creds.UserNS, id)
	if !ok {
		return 0, unix.EINVAL
	}
	return k, nil
}

func (t *Task) kgid(id uint32) (uint32, error) {
	if id == noID {
		return noID, nil
	}
	k, ok := userns.KGID(t.creds.UserNS, id)
	if !ok {
		return 0, unix.EINVAL
	}
	return k, nil
}

// MapUID turns a uid of the task's namespace into a kernel uid (false:
// no mapping). MapGID is the same for groups.
func (t *Task) MapUID(id uint32) (uint32, bool) { return userns.KUID(t.creds.UserNS, id) }

// MapGID is MapUID for groups.
func (t *Task) MapGID(id uint32) (uint32, bool) { return userns.KGID(t.creds.UserNS, id) }

// ShowUID is how the task sees kernel uid k (the overflow uid if
// unmapped); ShowGID is the same for groups.
func (t *Task) ShowUID(k uint32) uint32 { return userns.ShowUID(t.creds.UserNS, k) }

// ShowGID is ShowUID for groups.
func (t *Task) ShowGID(k uint32) uint32 { return userns.ShowGID(t.creds.UserNS, k) }

// SetUID is setuid(2).
func (t *Task) SetUID(uid uint32) error {
	if uid == noID {
		return unix.EINVAL
	}
	uid, err := t.kuid(uid)
	if err != nil {
		return err
	}
	c := t.credsCopy()
	switch {
	case t.HasCap(unix.CAP_SETUID):
		c.UID, c.EUID, c.SUID, c.FSUID = uid, uid, uid, uid
	case uid == c.UID || uid == c.SUID:
		c.EUID, c.FSUID = uid, uid
	default:
		return unix.EPERM
	}
	fixSetuid(t.creds, c)
	t.setCreds(c)
	return nil
}

// SetGID is setgid(2).
func (t *Task) SetGID(gid uint32) error {
	if gid == noID {
		return unix.EINVAL
	}
	gid, err := t.kgid(gid)
	if err != nil {
		return err
	}
	c := t.credsCopy()
	switch {
	case t.HasCap(unix.CAP_SETGID):
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
	r, err := t.kuid(r)
	if err != nil {
		return err
	}
	if e, err = t.kuid(e); err != nil {
		return err
	}
	c := t.credsCopy()
	old := *t.creds
	capable := t.HasCap(unix.CAP_SETUID)
	if r != noID {
		if !capable && r != old.UID && r != old.EUID {
			return unix.EPERM
		}
		c.UID = r
	}
	if e != noID {
		if !capable && e != old.UID && e != old.EUID && e != old.SUID {
			return unix.EPERM
		}
		c.EUID = e
	}
	if r != noID || e != noID && e != old.UID {
		c.SUID = c.EUID
	}
	c.FSUID = c.EUID
	fixSetuid(t.creds, c)
	t.setCreds(c)
	return nil
}

// SetREGID is setregid(2).
func (t *Task) SetREGID(r, e uint32) error {
	r, err := t.kgid(r)
	if err != nil {
		return err
	}
	if e, err = t.kgid(e); err != nil {
		return err
	}
	c := t.credsCopy()
	old := *t.creds
	capable := t.HasCap(unix.CAP_SETGID)
	if r != noID {
		if !capable && r != old.GID && r != old.EGID {
			return unix.EPERM
		}
		c.GID = r
	}
	if e != noID {
		if !capable && e != old.GID && e != old.EGID && e != old.SGID {
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
	var err error
	for _, p := range []*uint32{&r, &e, &s} {
		if *p, err = t.kuid(*p); err != nil {
			return err
		}
	}
	old := *t.creds
	capable := t.HasCap(unix.CAP_SETUID)
	ok := func(v uint32) bool { return v == noID || capable || v == old.UID || v == old.EUID || v == old.SUID }
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
	fixSetuid(t.creds, c)
	t.setCreds(c)
	return nil
}

// SetRESGID is setresgid(2).
func (t *Task) SetRESGID(r, e, s uint32) error {
	var err error
	for _, p := range []*uint32{&r, &e, &s} {
		if *p, err = t.kgid(*p); err != nil {
			return err
		}
	}
	old := *t.creds
	capable := t.HasCap(unix.CAP_SETGID)
	ok := func(v uint32) bool { return v == noID || capable || v == old.GID || v == old.EGID || v == old.SGID }
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

// SetFSUID is setfsuid(2): it returns the old fsuid (as the task sees
// it) whether or not the change was allowed.
func (t *Task) SetFSUID(uid uint32) uint32 {
	old := *t.creds
	k, ok := userns.KUID(old.UserNS, uid)
	if ok && (t.HasCap(unix.CAP_SETUID) || k == old.UID || k == old.EUID || k == old.SUID || k == old.FSUID) {
		c := t.credsCopy()
		c.FSUID = k
		fixSetfsuid(&old, c)
		t.setCreds(c)
	}
	return userns.ShowUID(old.UserNS, old.FSUID)
}

// SetFSGID is setfsgid(2).
func (t *Task) SetFSGID(gid uint32) uint32 {
	old := *t.creds
	k, ok := userns.KGID(old.UserNS, gid)
	if ok && (t.HasCap(unix.CAP_SETGID) || k == old.GID || k == old.EGID || k == old.SGID || k == old.FSGID) {
		c := t.credsCopy()
		c.FSGID = k
		t.setCreds(c)
	}
	return userns.ShowGID(old.UserNS, old.FSGID)
}

// MaySetgroups reports whether t may call setgroups: CAP_SETGID in its
// user namespace, whose gid map is written and allows it. It comes before
// the list's size is checked. Linux: kernel/groups.c (may_setgroups)
func (t *Task) MaySetgroups() bool {
	if !t.HasCap(unix.CAP_SETGID) || t.creds.UserNS.SetgroupsDenied() {
		return false
	}
	ns := t.creds.UserNS
	return ns == nil || ns.HasGIDMap()
}

// SetGroups is setgroups(2); the groups are the task namespace's.
// Linux: kernel/groups.c (may_setgroups)
func (t *Task) SetGroups(g []uint32) error {
	if !t.MaySetgroups() {
		return unix.EPERM
	}
	kg := make([]uint32, len(g))
	for i, id := range g {
		k, ok := userns.KGID(t.creds.UserNS, id)
		if !ok {
			return unix.EINVAL
		}
		kg[i] = k
	}
	c := t.credsCopy()
	c.Groups = kg
	t.setCreds(c)
	return nil
}

// execCreds computes the credentials after exec of a file with mode,
// uid and gid: setuid/setgid bits change the effective ids (unless the
// mount is nosuid or the task has no_new_privs); saved ids follow the
// effective ones; root (real or effective, in the task's namespace) gets
// the bounding set as permitted; ambient capabilities carry over unless
// the exec is set-id. File capabilities are not read. It also reports
// whether AT_SECURE must be set.
// Linux: fs/exec.c (bprm_fill_uid), security/commoncap.c (cap_bprm_creds_from_file)
func (t *Task) execCreds(mode, uid, gid uint32, nosuid bool) (*vfs.Creds, bool) {
	old := t.creds
	c := t.credsCopy()
	if !nosuid && !t.tg.noNewPrivs() {
		_, uok := userns.UIDIn(c.UserNS, uid)
		_, gok := userns.GIDIn(c.UserNS, gid)
		if mode&unix.S_ISUID != 0 && uok && gok {
			c.EUID = uid
		}
		if mode&(unix.S_ISGID|unix.S_IXGRP) == unix.S_ISGID|unix.S_IXGRP && uok && gok {
			c.EGID = gid
		}
	}
	c.CapPrm = 0
	effective := false
	root, rok := rootKID(c.UserNS, false)
	if rok && c.Securebits&secNoroot == 0 && (c.EUID == root || c.UID == root) {
		c.CapPrm = old.CapBnd | old.CapInh
		effective = c.EUID == root
	}
	setid := c.EUID != old.UID || c.EGID != old.GID
	c.SUID, c.FSUID = c.EUID, c.EUID
	c.SGID, c.FSGID = c.EGID, c.EGID
	if setid {
		c.CapAmb = 0
	}
	c.CapPrm |= c.CapAmb
	if effective {
		c.CapEff = c.CapPrm
	} else {
		c.CapEff = c.CapAmb
	}
	c.Securebits &^= secKeepCaps
	return c, c.EUID != c.UID || c.EGID != c.GID
}

// MaySignal applies kill(2)'s permission rule: CAP_KILL, or a sender
// whose real or effective uid is the target's real or saved uid; SIGCONT
// also within one session. Linux: kernel/signal.c (check_kill_permission)
func (t *Task) MaySignal(target *ThreadGroup, sig int) bool {
	if target == t.tg {
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
	if c.NSCapable(tc.UserNS, unix.CAP_KILL) {
		return true
	}
	return sig == abi.SIGCONT && target.Sid() == t.tg.Sid()
}
