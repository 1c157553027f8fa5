package kernel

import (
	"golang.org/x/sys/unix"

	"glassbox/internal/vfs"
)

// Capability sets as capget/capset and prctl see them.
// Linux: kernel/capability.c, security/commoncap.c (cap_capset, cap_task_prctl)

// CapSets are one task's effective, permitted and inheritable sets.
type CapSets struct{ Eff, Prm, Inh uint64 }

// CapGet returns the sets of the task with thread id tid (0: t) as t's
// pid namespace numbers it.
func (t *Task) CapGet(tid int) (CapSets, error) {
	if tid < 0 {
		return CapSets{}, unix.EINVAL
	}
	o := t
	if tid != 0 && tid != t.TID() {
		if o = t.k.TaskByTID(tid); o == nil {
			return CapSets{}, unix.ESRCH
		}
	}
	c := o.credsShared()
	return CapSets{c.CapEff, c.CapPrm, c.CapInh}, nil
}

// CapSet is capset(2) on the calling task (the caller has refused other
// targets). Linux: security/commoncap.c (cap_capset)
func (t *Task) CapSet(s CapSets) error {
	old := t.creds
	if s.Inh&^(old.CapInh|old.CapPrm) != 0 && !t.HasCap(unix.CAP_SETPCAP) {
		return unix.EPERM
	}
	if s.Inh&^(old.CapInh|old.CapBnd) != 0 || s.Prm&^old.CapPrm != 0 || s.Eff&^s.Prm != 0 {
		return unix.EPERM
	}
	c := t.credsCopy()
	c.CapEff, c.CapPrm, c.CapInh = s.Eff, s.Prm, s.Inh
	c.CapAmb &= s.Prm & s.Inh
	t.setCreds(c)
	return nil
}

func validCap(c uint64) bool { return c <= vfs.CapLast }

// CapPrctl answers prctl's capability options: PR_CAPBSET_READ/DROP,
// PR_CAP_AMBIENT, PR_GET/SET_SECUREBITS, PR_GET/SET_KEEPCAPS; handled
// false for any other option. Linux: security/commoncap.c (cap_task_prctl)
func (t *Task) CapPrctl(opt int, a2, a3, a4, a5 uint64) (r uint64, handled bool, err error) {
	old := t.creds
	switch opt {
	case unix.PR_CAPBSET_READ:
		if !validCap(a2) {
			return 0, true, unix.EINVAL
		}
		return old.CapBnd >> a2 & 1, true, nil
	case unix.PR_CAPBSET_DROP:
		if !t.HasCap(unix.CAP_SETPCAP) {
			return 0, true, unix.EPERM
		}
		if !validCap(a2) {
			return 0, true, unix.EINVAL
		}
		c := t.credsCopy()
		c.CapBnd &^= vfs.CapBit(int(a2))
		t.setCreds(c)
		return 0, true, nil
	case unix.PR_GET_SECUREBITS:
		return uint64(old.Securebits), true, nil
	case unix.PR_SET_SECUREBITS:
		sb := uint64(old.Securebits)
		if (sb&secAllLocks)>>1&(sb^a2) != 0 || sb&secAllLocks&^a2 != 0 ||
			a2&^secureBitsSettable != 0 || !t.HasCap(unix.CAP_SETPCAP) {
			return 0, true, unix.EPERM
		}
		c := t.credsCopy()
		c.Securebits = uint32(a2)
		t.setCreds(c)
		return 0, true, nil
	case unix.PR_GET_KEEPCAPS:
		return uint64(old.Securebits&secKeepCaps) >> 4, true, nil
	case unix.PR_SET_KEEPCAPS:
		if a2 > 1 {
			return 0, true, unix.EINVAL
		}
		if old.Securebits&secKeepCapsLocked != 0 {
			return 0, true, unix.EPERM
		}
		c := t.credsCopy()
		c.Securebits &^= secKeepCaps
		if a2 == 1 {
			c.Securebits |= secKeepCaps
		}
		t.setCreds(c)
		return 0, true, nil
	case unix.PR_CAP_AMBIENT:
		if a2 == unix.PR_CAP_AMBIENT_CLEAR_ALL {
			if a3 != 0 || a4 != 0 || a5 != 0 {
				return 0, true, unix.EINVAL
			}
			c := t.credsCopy()
			c.CapAmb = 0
			t.setCreds(c)
			return 0, true, nil
		}
		if !validCap(a3) || a4 != 0 || a5 != 0 {
			return 0, true, unix.EINVAL
		}
		bit := vfs.CapBit(int(a3))
		switch a2 {
		case unix.PR_CAP_AMBIENT_IS_SET:
			return old.CapAmb >> a3 & 1, true, nil
		case unix.PR_CAP_AMBIENT_RAISE, unix.PR_CAP_AMBIENT_LOWER:
			c := t.credsCopy()
			if a2 == unix.PR_CAP_AMBIENT_LOWER {
				c.CapAmb &^= bit
			} else {
				if old.CapPrm&bit == 0 || old.CapInh&bit == 0 || old.Securebits&secNoCapAmbRaise != 0 {
					return 0, true, unix.EPERM
				}
				c.CapAmb |= bit
			}
			t.setCreds(c)
			return 0, true, nil
		}
		return 0, true, unix.EINVAL
	}
	return 0, false, nil
}
