package syscalls

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"glassbox/internal/kernel"
)

// Scheduling policies and priorities. Every guest thread runs as
// SCHED_OTHER; the calls check their arguments in Linux's order and
// record what they may (nice, I/O priority).
// Linux: kernel/sched/syscalls.c, kernel/sys.c, block/ioprio.c

func init() {
	reg(unix.SYS_SCHED_GETATTR, sysSchedGetattr)
	reg(unix.SYS_SCHED_SETATTR, sysSchedSetattr, "SCHED_OTHER, SCHED_BATCH and SCHED_IDLE accepted and recorded with the nice value")
	reg(unix.SYS_IOPRIO_GET, sysIoprioGet)
	reg(unix.SYS_IOPRIO_SET, sysIoprioSet, "recorded, not applied")
}

// checkPolicy validates a policy and its priority for the unprivileged
// SCHED_OTHER world: real-time policies need a privilege the sandbox
// does not grant. Linux: kernel/sched/syscalls.c (__sched_setscheduler)
func checkPolicy(policy, prio int) error {
	switch policy {
	case schedOther, unix.SCHED_BATCH, unix.SCHED_IDLE:
		if prio != 0 {
			return unix.EINVAL
		}
		return nil
	case unix.SCHED_FIFO, unix.SCHED_RR:
		if prio < 1 || prio > 99 {
			return unix.EINVAL
		}
		return unix.EPERM // real-time scheduling is not offered
	}
	return unix.EINVAL
}

// sysSchedSetscheduler. Linux: kernel/sched/syscalls.c (do_sched_setscheduler)
func sysSchedSetscheduler(t *kernel.Task, a kernel.Args) (uint64, error) {
	pid, policy := a.Int(0), a.Int(1)
	if policy < 0 || a[2] == 0 || pid < 0 {
		return 0, unix.EINVAL
	}
	var b [4]byte
	if err := t.CopyIn(a[2], b[:]); err != nil {
		return 0, err
	}
	o, err := findTask(t, pid)
	if err != nil {
		return 0, err
	}
	reset := policy&unix.SCHED_RESET_ON_FORK != 0
	policy &^= unix.SCHED_RESET_ON_FORK
	if err := checkPolicy(policy, int(int32(binary.LittleEndian.Uint32(b[:])))); err != nil {
		return 0, err
	}
	return 0, setSchedPolicy(t, o, policy, reset)
}

// setSchedPolicy applies a checked non-real-time policy to o with the
// unprivileged caller's rules: leaving SCHED_IDLE needs the nice limit,
// another user's process CAP_SYS_NICE, and a set SCHED_RESET_ON_FORK
// stays set. Linux: kernel/sched/syscalls.c (user_check_sched_setscheduler)
func setSchedPolicy(t *kernel.Task, o *kernel.Task, policy int, reset bool) error {
	otg := o.ThreadGroup()
	cur, curReset := otg.SchedPolicy()
	if !t.CapableInit(unix.CAP_SYS_NICE) {
		if cur == unix.SCHED_IDLE && policy != unix.SCHED_IDLE &&
			20-otg.Nice() > int(otg.Rlimit(unix.RLIMIT_NICE).Cur) {
			return unix.EPERM
		}
		c, oc := t.Creds(), o.Creds()
		if c.EUID != oc.EUID && c.EUID != oc.UID {
			return unix.EPERM
		}
		if curReset && !reset {
			return unix.EPERM
		}
	}
	otg.SetSchedPolicy(policy, reset)
	return nil
}

// sysSchedSetparam keeps the task's policy.
func sysSchedSetparam(t *kernel.Task, a kernel.Args) (uint64, error) {
	pid := a.Int(0)
	if a[1] == 0 || pid < 0 {
		return 0, unix.EINVAL
	}
	var b [4]byte
	if err := t.CopyIn(a[1], b[:]); err != nil {
		return 0, err
	}
	o, err := findTask(t, pid)
	if err != nil {
		return 0, err
	}
	policy, reset := o.ThreadGroup().SchedPolicy()
	if err := checkPolicy(policy, int(int32(binary.LittleEndian.Uint32(b[:])))); err != nil {
		return 0, err
	}
	return 0, setSchedPolicy(t, o, policy, reset)
}

// struct sched_attr sizes. Linux: include/uapi/linux/sched/types.h
const (
	schedAttrVer0 = 48
	schedAttrSize = 56 // SCHED_ATTR_SIZE_VER1, what this kernel knows
)

// sysSchedGetattr. Linux: kernel/sched/syscalls.c (sched_getattr)
func sysSchedGetattr(t *kernel.Task, a kernel.Args) (uint64, error) {
	pid, addr, usize, flags := a.Int(0), a[1], uint32(a[2]), uint32(a[3])
	if addr == 0 || pid < 0 || usize > 4096 || usize < schedAttrVer0 || flags != 0 {
		return 0, unix.EINVAL
	}
	o, err := findTask(t, pid)
	if err != nil {
		return 0, err
	}
	b := make([]byte, schedAttrSize)
	n := min(usize, schedAttrSize)
	policy, reset := o.ThreadGroup().SchedPolicy()
	binary.LittleEndian.PutUint32(b[0:], n)
	binary.LittleEndian.PutUint32(b[4:], uint32(policy))
	if reset {
		b[8] = 1 // SCHED_FLAG_RESET_ON_FORK
	}
	binary.LittleEndian.PutUint32(b[16:], uint32(int32(o.ThreadGroup().Nice())))
	return 0, t.CopyOut(addr, b[:n])
}

// sysSchedSetattr. Linux: kernel/sched/syscalls.c (sched_setattr, sched_copy_attr)
func sysSchedSetattr(t *kernel.Task, a kernel.Args) (uint64, error) {
	pid, addr, flags := a.Int(0), a[1], a[2]
	if addr == 0 || pid < 0 || flags != 0 {
		return 0, unix.EINVAL
	}
	var hdr [4]byte
	if err := t.CopyIn(addr, hdr[:]); err != nil {
		return 0, err
	}
	size := binary.LittleEndian.Uint32(hdr[:])
	if size == 0 {
		size = schedAttrVer0
	}
	if size < schedAttrVer0 || size > 4096 {
		t.CopyOut(addr, binary.LittleEndian.AppendUint32(nil, schedAttrSize))
		return 0, unix.E2BIG
	}
	b := make([]byte, size)
	if err := t.CopyIn(addr, b); err != nil {
		return 0, err
	}
	for _, x := range b[min(size, schedAttrSize):] {
		if x != 0 {
			t.CopyOut(addr, binary.LittleEndian.AppendUint32(nil, schedAttrSize))
			return 0, unix.E2BIG
		}
	}
	le := binary.LittleEndian
	policy, sflags := int32(le.Uint32(b[4:])), le.Uint64(b[8:])
	nice, prio := int32(le.Uint32(b[16:])), int32(le.Uint32(b[20:]))
	if policy < 0 {
		return 0, unix.EINVAL
	}
	o, err := findTask(t, pid)
	if err != nil {
		return 0, err
	}
	const schedFlagAll = 0x7f
	if sflags&^schedFlagAll != 0 {
		return 0, unix.EINVAL
	}
	const keepPolicy = 0x08 // SCHED_FLAG_KEEP_POLICY
	if sflags&keepPolicy != 0 {
		policy32, _ := o.ThreadGroup().SchedPolicy()
		policy = int32(policy32)
	}
	if sflags&0x60 == 0 { // neither SCHED_FLAG_UTIL_CLAMP nor KEEP_PARAMS alone
		if err := checkPolicy(int(policy), int(prio)); err != nil {
			return 0, err
		}
	}
	nice = max(-20, min(19, nice))
	if int(nice) < o.ThreadGroup().Nice() && !t.CapableInit(unix.CAP_SYS_NICE) {
		return 0, unix.EPERM
	}
	if err := setSchedPolicy(t, o, int(policy), sflags&1 != 0); err != nil {
		return 0, err
	}
	o.ThreadGroup().SetNice(int(nice))
	return 0, nil
}

// priority "which" values. Linux: include/uapi/linux/resource.h
const (
	prioProcess = 0
	prioPgrp    = 1
	prioUser    = 2
)

// prioTargets lists the processes getpriority and setpriority act on.
// Linux: kernel/sys.c (getpriority, setpriority)
func prioTargets(t *kernel.Task, which, who int) ([]*kernel.Task, error) {
	if which < prioProcess || which > prioUser {
		return nil, unix.EINVAL
	}
	k := t.Kernel()
	var out []*kernel.Task
	switch which {
	case prioProcess:
		if who == 0 {
			return []*kernel.Task{t}, nil
		}
		if o := k.TaskByTID(t.KPID(who)); o != nil && who > 0 {
			out = append(out, o)
		}
	case prioPgrp, prioUser:
		if who == 0 && which == prioPgrp {
			who = t.ThreadGroup().Pgid()
		} else if which == prioPgrp {
			who = t.KPID(who)
		}
		uid := uint32(who)
		if who == 0 {
			uid = t.Creds().UID
		}
		for _, pid := range k.PIDs() {
			tg := k.ThreadGroupByPID(pid)
			if tg == nil {
				continue
			}
			l := tg.Leader()
			if l == nil {
				continue
			}
			if which == prioPgrp && tg.Pgid() == who || which == prioUser && l.Creds().UID == uid {
				out = append(out, l)
			}
		}
	}
	if len(out) == 0 {
		return nil, unix.ESRCH
	}
	return out, nil
}

func sysGetpriority(t *kernel.Task, a kernel.Args) (uint64, error) {
	ts, err := prioTargets(t, a.Int(0), a.Int(1))
	if err != nil {
		return 0, err
	}
	best := 0
	for _, o := range ts {
		best = max(best, 20-o.ThreadGroup().Nice()) // Linux returns 20 - nice
	}
	return uint64(best), nil
}

// sysSetpriority. Linux: kernel/sys.c (set_one_prio)
func sysSetpriority(t *kernel.Task, a kernel.Args) (uint64, error) {
	ts, err := prioTargets(t, a.Int(0), a.Int(1))
	if err != nil {
		return 0, err
	}
	nice := max(-20, min(19, a.Int(2)))
	c := t.Creds()
	for _, o := range ts {
		oc := o.Creds()
		if oc.UID != c.EUID && oc.EUID != c.EUID && !c.NSCapable(oc.UserNS, unix.CAP_SYS_NICE) {
			err = unix.EPERM
			continue
		}
		if nice < o.ThreadGroup().Nice() && !t.CapableInit(unix.CAP_SYS_NICE) {
			err = unix.EACCES
			continue
		}
		o.ThreadGroup().SetNice(nice)
	}
	return 0, err
}

// I/O priority classes. Linux: include/uapi/linux/ioprio.h
const (
	ioprioClassNone = 0
	ioprioClassRT   = 1
	ioprioClassBE   = 2
	ioprioClassIdle = 3
)

func sysIoprioGet(t *kernel.Task, a kernel.Args) (uint64, error) {
	ts, err := ioprioTargets(t, a.Int(0), a.Int(1))
	if err != nil {
		return 0, err
	}
	return uint64(ts[0].ThreadGroup().IOPrio()), nil
}

// sysIoprioSet. Linux: block/ioprio.c (ioprio_check_cap, ioprio_set)
func sysIoprioSet(t *kernel.Task, a kernel.Args) (uint64, error) {
	prio := a.Int(2)
	class, data := prio>>13&7, prio&0x1fff
	// The data's low three bits are the level, the rest are hints.
	switch class {
	case ioprioClassRT:
		if !t.CapableInit(unix.CAP_SYS_NICE) && !t.CapableInit(unix.CAP_SYS_ADMIN) {
			return 0, unix.EPERM
		}
	case ioprioClassBE, ioprioClassIdle:
	case ioprioClassNone:
		if data&7 != 0 {
			return 0, unix.EINVAL
		}
	default:
		return 0, unix.EINVAL
	}
	ts, err := ioprioTargets(t, a.Int(0), a.Int(1))
	if err != nil {
		return 0, err
	}
	c := t.Creds()
	for _, o := range ts {
		oc := o.Creds()
		if oc.UID != c.EUID && oc.UID != c.UID && !t.CapableInit(unix.CAP_SYS_NICE) {
			return 0, unix.EPERM
		}
		o.ThreadGroup().SetIOPrio(prio)
	}
	return 0, nil
}

// ioprioTargets: which is IOPRIO_WHO_PROCESS (1), _PGRP (2) or _USER (3).
func ioprioTargets(t *kernel.Task, which, who int) ([]*kernel.Task, error) {
	if which < 1 || which > 3 {
		return nil, unix.EINVAL
	}
	return prioTargets(t, which-1, who)
}
