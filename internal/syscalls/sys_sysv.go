package syscalls

import (
	"encoding/binary"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/internal/ipc"
	"glassbox/internal/kernel"
)

// System V message queues and semaphores. Linux: ipc/msg.c, ipc/sem.c
func init() {
	reg(unix.SYS_MSGGET, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		id, err := t.IPC().MsgGet(t.Creds(), int32(a[0]), a.Int(1))
		return uint64(id), err
	})
	reg(unix.SYS_MSGSND, sysMsgsnd)
	reg(unix.SYS_MSGRCV, sysMsgrcv)
	reg(unix.SYS_MSGCTL, sysMsgctl)
	reg(unix.SYS_SEMGET, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		id, err := t.IPC().SemGet(t.Creds(), int32(a[0]), a.Int(1), a.Int(2))
		return uint64(id), err
	})
	reg(unix.SYS_SEMOP, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return semtimedop(t, a.Int(0), a[1], a[2], 0)
	})
	reg(unix.SYS_SEMTIMEDOP, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return semtimedop(t, a.Int(0), a[1], a[2], a[3])
	})
	reg(unix.SYS_SEMCTL, sysSemctl)
}

// sysMsgsnd. Linux: ipc/msg.c (ksys_msgsnd, do_msgsnd)
func sysMsgsnd(t *kernel.Task, a kernel.Args) (uint64, error) {
	id, addr, size, flag := a.Int(0), a[1], a[2], a.Int(3)
	var hdr [8]byte
	if err := t.CopyIn(addr, hdr[:]); err != nil {
		return 0, err
	}
	typ := int64(binary.LittleEndian.Uint64(hdr[:]))
	if size > ipc.MsgMax || id < 0 {
		return 0, unix.EINVAL
	}
	if typ < 1 {
		return 0, unix.EINVAL
	}
	text := make([]byte, size)
	if err := t.CopyIn(addr+8, text); err != nil {
		return 0, err
	}
	return 0, t.IPC().MsgSend(t, t.PID(), id, typ, text, flag)
}

// sysMsgrcv. Linux: ipc/msg.c (ksys_msgrcv, do_msgrcv)
func sysMsgrcv(t *kernel.Task, a kernel.Args) (uint64, error) {
	id, addr, size, typ, flag := a.Int(0), a[1], int64(a[2]), int64(a[3]), a.Int(4)
	if id < 0 || size < 0 {
		return 0, unix.EINVAL
	}
	if flag&ipc.MsgCopy != 0 {
		size = min(size, ipc.MsgMax)
	}
	size = min(size, 1<<31-1) // nothing larger than msgmax is ever queued
	mtyp, text, err := t.IPC().MsgReceive(t, t.PID(), id, int(size), typ, flag)
	if err != nil {
		return 0, err
	}
	b := make([]byte, 8+len(text))
	binary.LittleEndian.PutUint64(b, uint64(mtyp))
	copy(b[8:], text)
	if err := t.CopyOut(addr, b); err != nil {
		return 0, err // the message is gone, as in Linux
	}
	return uint64(len(text)), nil
}

// msgctl and semctl commands. Linux: include/uapi/linux/msg.h, sem.h
const (
	msgStat    = 11
	msgInfo    = 12
	msgStatAny = 13
	semStat    = 18
	semInfo    = 19
	semStatAny = 20
)

// sysMsgctl. Linux: ipc/msg.c (ksys_msgctl)
func sysMsgctl(t *kernel.Task, a kernel.Args) (uint64, error) {
	id, cmd, buf := a.Int(0), a.Int(1), a[2]
	if id < 0 || cmd < 0 {
		return 0, unix.EINVAL
	}
	ns, c := t.IPC(), t.Creds()
	switch cmd {
	case ipcInfo, msgInfo:
		b, n := ns.MsgInfo(cmd == msgInfo)
		if err := t.CopyOut(buf, b); err != nil {
			return 0, err
		}
		return uint64(n), nil
	case ipcStat, msgStat, msgStatAny:
		b, rid, err := ns.MsgStat(c, id, cmd != ipcStat, cmd == msgStatAny)
		return ipcStatOut(t, buf, b, rid, err, cmd == ipcStat)
	case ipcSet:
		b := make([]byte, ipc.MsqidSize)
		if err := t.CopyIn(buf, b); err != nil {
			return 0, err
		}
		return 0, ns.MsgSet(c, id, b)
	case ipcRmid:
		return 0, ns.MsgRemove(c, id)
	}
	return 0, unix.EINVAL
}

// semtimedop reads the operations and the timeout (relative).
// Linux: ipc/sem.c (do_semtimedop)
func semtimedop(t *kernel.Task, id int, sops, nsops, timeout uint64) (uint64, error) {
	if nsops < 1 || id < 0 {
		return 0, unix.EINVAL
	}
	if nsops > ipc.SemOpm {
		return 0, unix.E2BIG
	}
	b := make([]byte, 6*nsops)
	if err := t.CopyIn(sops, b); err != nil {
		return 0, err
	}
	ops := make([]ipc.SemBuf, nsops)
	le := binary.LittleEndian
	for i := range ops {
		ops[i] = ipc.SemBuf{Num: le.Uint16(b[6*i:]), Op: int16(le.Uint16(b[6*i+2:])), Flg: int16(le.Uint16(b[6*i+4:]))}
	}
	var deadline time.Time
	if timeout != 0 {
		d, err := getTimespec(t, timeout)
		if err != nil {
			return 0, err
		}
		deadline = time.Now().Add(d)
	}
	return 0, t.IPC().SemOp(t, t.PID(), id, ops, deadline, t.ThreadGroup().SemUndo)
}

// sysSemctl. The fourth argument is union semun, passed by value: an int
// for SETVAL, else a pointer. Linux: ipc/sem.c (ksys_semctl)
func sysSemctl(t *kernel.Task, a kernel.Args) (uint64, error) {
	id, num, cmd, arg := a.Int(0), a.Int(1), a.Int(2), a[3]
	if id < 0 {
		return 0, unix.EINVAL
	}
	ns, c := t.IPC(), t.Creds()
	switch cmd {
	case ipcInfo, semInfo:
		b, n := ns.SemInfo(cmd == semInfo)
		if err := t.CopyOut(arg, b); err != nil {
			return 0, err
		}
		return uint64(n), nil
	case ipcStat, semStat, semStatAny:
		b, rid, err := ns.SemStat(c, id, cmd != ipcStat, cmd == semStatAny)
		if err != nil {
			return 0, err
		}
		if err := t.CopyOut(arg, b); err != nil {
			return 0, err
		}
		if cmd == ipcStat {
			return 0, nil
		}
		return uint64(rid), nil
	case ipc.SemGetVal, ipc.SemGetPid, ipc.SemGetNcnt, ipc.SemGetZcnt:
		v, err := ns.SemGetValue(c, id, num, cmd)
		return uint64(v), err
	case ipc.SemGetAll:
		b, err := ns.SemGetAll(c, id)
		if err != nil {
			return 0, err
		}
		return 0, t.CopyOut(arg, b)
	case ipc.SemSetVal:
		return 0, ns.SemSetValues(c, t.PID(), id, num, []int{int(int32(arg))})
	case ipc.SemSetAll:
		n, err := ns.SemCount(c, id)
		if err != nil {
			return 0, err
		}
		b := make([]byte, 2*n)
		if err := t.CopyIn(arg, b); err != nil {
			return 0, err
		}
		vals := make([]int, n)
		for i := range vals {
			vals[i] = int(binary.LittleEndian.Uint16(b[2*i:]))
		}
		return 0, ns.SemSetValues(c, t.PID(), id, -1, vals)
	case ipcSet:
		b := make([]byte, ipc.SemidSize)
		if err := t.CopyIn(arg, b); err != nil {
			return 0, err
		}
		return 0, ns.SemSetPerm(c, id, b)
	case ipcRmid:
		return 0, ns.SemRemove(c, id)
	}
	return 0, unix.EINVAL
}
