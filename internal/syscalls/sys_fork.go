package syscalls

import (
	"encoding/binary"
	"strconv"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/kernel"
)

func init() {
	reg(unix.SYS_FORK, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return clone(t, kernel.CloneArgs{ExitSignal: abi.SIGCHLD})
	})
	reg(unix.SYS_VFORK, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return clone(t, kernel.CloneArgs{Flags: unix.CLONE_VM | unix.CLONE_VFORK, ExitSignal: abi.SIGCHLD})
	}, "the child runs in the parent's memory; the parent waits for exec or exit")
	reg(unix.SYS_CLONE, sysClone, "processes, threads, CLONE_VM children, namespaces")
	reg(unix.SYS_CLONE3, sysClone3, "as clone; set_tid is checked (EINVAL, EPERM, EEXIST) but a free pid is not granted (EINVAL); CLONE_INTO_CGROUP unsupported")
	reg(unix.SYS_WAIT4, sysWait4, "rusage: user time (no system time), faults and maxrss of an exited child; zeros for a stopped one")
	reg(unix.SYS_WAITID, sysWaitid, "rusage: user time (no system time), faults and maxrss of an exited child; zeros for a stopped one")
}

// Flags glassbox accepts; others are EINVAL.
const cloneKnown = unix.CLONE_VM | unix.CLONE_FS | unix.CLONE_FILES | unix.CLONE_SIGHAND |
	unix.CLONE_PIDFD | unix.CLONE_PTRACE | unix.CLONE_VFORK | unix.CLONE_PARENT | unix.CLONE_THREAD |
	unix.CLONE_SYSVSEM | unix.CLONE_SETTLS | unix.CLONE_PARENT_SETTID | unix.CLONE_CHILD_CLEARTID |
	unix.CLONE_DETACHED | unix.CLONE_UNTRACED | unix.CLONE_CHILD_SETTID | unix.CLONE_IO |
	unix.CLONE_NEWUSER | unix.CLONE_NEWNS | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC | unix.CLONE_NEWNET |
	unix.CLONE_NEWPID | unix.CLONE_NEWCGROUP | unix.CLONE_NEWTIME | // kernel/ns.go
	kernel.CloneClearSighand

func clone(t *kernel.Task, ca kernel.CloneArgs) (uint64, error) {
	if ca.Flags&^uint64(cloneKnown) != 0 {
		t.ReportUnsupported("clone flags " + hex(ca.Flags&^uint64(cloneKnown)))
		return 0, unix.EINVAL
	}
	if ca.Flags&unix.CLONE_PIDFD != 0 {
		// Linux: kernel/fork.c (kernel_clone, copy_process)
		if ca.Flags&unix.CLONE_DETACHED != 0 ||
			ca.Flags&unix.CLONE_PARENT_SETTID != 0 && ca.PidFD == ca.ParentTID {
			return 0, unix.EINVAL
		}
		// The pidfd's number is stored before the child exists; a bad
		// address fails the clone.
		if err := t.CopyOut(ca.PidFD, []byte{0xff, 0xff, 0xff, 0xff}); err != nil {
			return 0, err
		}
	}
	pid, err := t.Clone(ca)
	return uint64(t.VPID(pid)), err
}

// sysClone is clone(flags, stack, parent_tid, child_tid, tls) (x86-64
// argument order). Only the low 32 bits of flags count.
func sysClone(t *kernel.Task, a kernel.Args) (uint64, error) {
	return clone(t, kernel.CloneArgs{Flags: uint64(uint32(a[0])) &^ 0xff, Stack: a[1], ParentTID: a[2], ChildTID: a[3],
		TLS: a[4], ExitSignal: int(a[0] & 0xff), PidFD: a[2]})
}

// sysClone3 decodes struct clone_args and checks it in Linux's order.
// Linux: kernel/fork.c (copy_clone_args_from_user, clone3_args_valid)
func sysClone3(t *kernel.Task, a kernel.Args) (uint64, error) {
	const (
		sizeVer0   = 64 // up to tls
		sizeVer2   = 88 // set_tid, set_tid_size, cgroup
		intoCgroup = 1 << 33
		maxPIDNS   = 32
	)
	size := a[1]
	if size > 4096 {
		return 0, unix.E2BIG
	}
	if size < sizeVer0 {
		return 0, unix.EINVAL
	}
	b := make([]byte, sizeVer2+8)
	raw := make([]byte, size)
	if err := t.CopyIn(a[0], raw); err != nil {
		return 0, err
	}
	for i := sizeVer2; i < len(raw); i++ { // fields glassbox doesn't know must be zero
		if raw[i] != 0 {
			return 0, unix.E2BIG
		}
	}
	copy(b, raw)
	u := func(i int) uint64 { return binary.LittleEndian.Uint64(b[8*i:]) }
	flags, exitSig, setTID, setTIDSize, cgroup := u(0), u(4), u(8), u(9), u(10)
	switch {
	case setTIDSize > maxPIDNS, setTID == 0 && setTIDSize > 0, setTID != 0 && setTIDSize == 0,
		exitSig&^0xff != 0 || exitSig > abi.NSIG,
		flags&intoCgroup != 0 && (cgroup > 1<<31-1 || size < sizeVer2):
		return 0, unix.EINVAL
	}
	tids := make([]int, setTIDSize)
	if setTIDSize > 0 {
		tb := make([]byte, 4*setTIDSize)
		if err := t.CopyIn(setTID, tb); err != nil {
			return 0, err
		}
		for i := range tids {
			tids[i] = int(int32(binary.LittleEndian.Uint32(tb[4*i:])))
		}
	}
	ca := kernel.CloneArgs{Flags: flags, PidFD: u(1), ChildTID: u(2), ParentTID: u(3), ExitSignal: int(exitSig),
		TLS: u(7)}
	stack, ssize := u(5), u(6)
	switch {
	case flags&^uint64(cloneKnown|intoCgroup) != 0,
		flags&(unix.CLONE_DETACHED|0xff&^unix.CLONE_NEWTIME) != 0, // CSIGNAL bits but CLONE_NEWTIME
		flags&(unix.CLONE_SIGHAND|kernel.CloneClearSighand) == unix.CLONE_SIGHAND|kernel.CloneClearSighand,
		flags&(unix.CLONE_THREAD|unix.CLONE_PARENT) != 0 && exitSig != 0,
		(stack == 0) != (ssize == 0):
		return 0, unix.EINVAL
	}
	if setTIDSize > 0 {
		if flags&unix.CLONE_NEWPID == 0 {
			if err := t.CheckSetTID(tids); err != nil {
				return 0, err
			}
		}
	}
	if setTIDSize > 0 || flags&intoCgroup != 0 {
		t.ReportUnsupported("clone3 set_tid or CLONE_INTO_CGROUP")
		return 0, unix.EINVAL
	}
	if stack != 0 {
		ca.Stack = stack + ssize
	}
	return clone(t, ca)
}

// Wait options.
const (
	wNoHang    = 0x1
	wUntraced  = 0x2
	wExited    = 0x4
	wContinued = 0x8
	wNoWait    = 0x01000000
	wNoThread  = 0x20000000
	wAll       = 0x40000000
	wClone     = 0x80000000
)

func sysWait4(t *kernel.Task, a kernel.Args) (uint64, error) {
	pid, opts := a.Int(0), int(uint32(a[2]))
	if opts&^(wNoHang|wUntraced|wContinued|wNoThread|wAll|wClone) != 0 {
		return 0, unix.EINVAL
	}
	w := kernel.WaitFor{All: opts&wAll != 0, Clone: opts&wClone != 0,
		Exited: true, Stopped: opts&wUntraced != 0, Continued: opts&wContinued != 0}
	switch {
	case pid > 0:
		w.PID = t.KPID(pid)
	case pid == -1:
		w.Any = true
	case pid == 0:
		w.PGID = t.ThreadGroup().Pgid()
	case pid == -(1 << 31):
		return 0, unix.ESRCH
	default:
		w.PGID = t.KPID(-pid)
	}
	res, err := t.Wait(w, opts&wNoHang != 0, false)
	if err != nil || res.PID == 0 {
		return 0, err
	}
	if a[1] != 0 {
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], res.Encode())
		if err := t.CopyOut(a[1], b[:]); err != nil {
			return 0, err
		}
	}
	if a[3] != 0 {
		if err := t.CopyOut(a[3], encodeRusage(res.Usage)); err != nil {
			return 0, err
		}
	}
	return uint64(t.VPID(res.PID)), nil
}

// Wait id types.
const (
	pAll   = 0
	pPID   = 1
	pPGID  = 2
	pPIDFD = unix.P_PIDFD
)

func sysWaitid(t *kernel.Task, a kernel.Args) (uint64, error) {
	idtype, id, opts := int(a[0]), a.Int(1), int(uint32(a[3]))
	if opts&^(wNoHang|wUntraced|wExited|wContinued|wNoWait|wNoThread|wAll|wClone) != 0 ||
		opts&(wExited|wUntraced|wContinued) == 0 {
		return 0, unix.EINVAL
	}
	w := kernel.WaitFor{All: opts&wAll != 0, Clone: opts&wClone != 0,
		Exited: opts&wExited != 0, Stopped: opts&wUntraced != 0, Continued: opts&wContinued != 0}
	nonblock := false
	switch idtype {
	case pAll:
		w.Any = true
	case pPID:
		if id <= 0 {
			return 0, unix.EINVAL
		}
		w.PID = t.KPID(id)
	case pPGID:
		if id < 0 {
			return 0, unix.EINVAL
		}
		w.PGID = t.KPID(id)
		if id == 0 {
			w.PGID = t.ThreadGroup().Pgid()
		}
	case pPIDFD:
		// The pidfd's process, if it is a child. A non-blocking pidfd
		// makes the wait WNOHANG, and EAGAIN when nothing has exited.
		// Linux: kernel/exit.c (kernel_waitid)
		if id < 0 {
			return 0, unix.EINVAL
		}
		p, f, err := getPidFD(t, id, false)
		if err != nil {
			return 0, err
		}
		nonblock = f.Flags()&unix.O_NONBLOCK != 0
		f.DecRef()
		w.PID = p.ID()
	default:
		return 0, unix.EINVAL
	}
	res, err := t.Wait(w, opts&wNoHang != 0 || nonblock, opts&wNoWait != 0)
	if err != nil {
		return 0, err
	}
	if res.PID == 0 && nonblock && opts&wNoHang == 0 {
		return 0, unix.EAGAIN
	}
	if a[2] != 0 {
		// struct siginfo for SIGCHLD. Linux: kernel/exit.c (wait_task_zombie)
		si := make([]byte, 128)
		if res.PID != 0 {
			code, status := abi.CLD_EXITED, res.Status.Code
			switch {
			case res.Kind == kernel.WaitStopped:
				code, status = abi.CLD_STOPPED, res.Signal
			case res.Kind == kernel.WaitTrapped:
				code, status = abi.CLD_TRAPPED, int(res.Code)
			case res.Kind == kernel.WaitContinued:
				code, status = abi.CLD_CONTINUED, abi.SIGCONT
			case res.Status.Signal != 0:
				code, status = abi.CLD_KILLED, res.Status.Signal
				if res.Status.Core {
					code = abi.CLD_DUMPED
				}
			}
			binary.LittleEndian.PutUint32(si[0:], abi.SIGCHLD)
			binary.LittleEndian.PutUint32(si[8:], uint32(code))
			binary.LittleEndian.PutUint32(si[16:], uint32(t.VPID(res.PID)))
			binary.LittleEndian.PutUint32(si[20:], res.UID)
			binary.LittleEndian.PutUint32(si[24:], uint32(status))
		}
		if err := t.CopyOut(a[2], si); err != nil {
			return 0, err
		}
	}
	if a[4] != 0 {
		if err := t.CopyOut(a[4], encodeRusage(res.Usage)); err != nil {
			return 0, err
		}
	}
	return 0, nil
}

func hex(v uint64) string { return "0x" + strconv.FormatUint(v, 16) }
