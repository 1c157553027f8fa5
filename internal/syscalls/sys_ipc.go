package syscalls

import (
	"fmt"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/ipc"
	"glassbox/internal/kernel"
	"glassbox/internal/mm"
)

// System V shared memory. Linux: ipc/shm.c
func init() {
	reg(unix.SYS_SHMGET, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		id, err := t.IPC().Get(t.Creds(), t.PID(), int32(a[0]), a[1], a.Int(2))
		return uint64(id), err
	})
	reg(unix.SYS_SHMAT, sysShmat)
	reg(unix.SYS_SHMDT, sysShmdt)
	reg(unix.SYS_SHMCTL, sysShmctl)
}

// shmat flags. Linux: include/uapi/linux/shm.h
const (
	shmRdonly = 0o10000
	shmRnd    = 0o20000
	shmRemap  = 0o40000
	shmExec   = 0o100000
)

// sysShmat maps a segment. SHMLBA is the page size on x86-64.
// Linux: ipc/shm.c (do_shmat)
func sysShmat(t *kernel.Task, a kernel.Args) (uint64, error) {
	id, addr, flg := a.Int(0), a[1], a.Int(2)
	if id < 0 {
		return 0, unix.EINVAL
	}
	if addr != 0 {
		if addr&abi.PageMask != 0 {
			if flg&shmRnd == 0 {
				return 0, unix.EINVAL
			}
			addr = abi.PageDown(addr)
			if addr == 0 && flg&shmRemap != 0 {
				return 0, unix.EINVAL
			}
		}
	} else if flg&shmRemap != 0 {
		return 0, unix.EINVAL
	}
	prot := unix.PROT_READ | unix.PROT_WRITE
	if flg&shmRdonly != 0 {
		prot = unix.PROT_READ
	}
	if flg&shmExec != 0 {
		prot |= unix.PROT_EXEC
	}
	seg, err := t.IPC().Attach(t.Creds(), id, prot)
	if err != nil {
		return 0, err
	}
	size := seg.Size()
	if addr != 0 && flg&shmRemap == 0 {
		if addr+size < addr {
			seg.DecRef()
			return 0, unix.EINVAL
		}
		for _, v := range t.MM().VMAs() {
			if v.Start < addr+size && v.End > addr {
				seg.DecRef()
				return 0, unix.EINVAL
			}
		}
	}
	req := mm.MapRequest{Addr: addr, Length: size, Prot: prot, Fixed: a[1] != 0, Shared: true, File: seg,
		Name: fmt.Sprintf("/SYSV%08x (deleted)", uint32(seg.Key())), Dev: 1, Ino: uint64(id)}
	if flg&shmRdonly != 0 {
		req.Flags = mm.VMNoMayWrite // the segment is opened read-only
	}
	got, err := t.MM().Mmap(t.Mapper(), req)
	if err != nil {
		seg.DecRef()
		return 0, err
	}
	seg.Attached(t.PID())
	return got, nil
}

// sysShmdt unmaps the attachment that starts at addr, and the pieces of it
// that mprotect or munmap left behind. Linux: ipc/shm.c (ksys_shmdt)
func sysShmdt(t *kernel.Task, a kernel.Args) (uint64, error) {
	addr := a[0]
	if addr&abi.PageMask != 0 {
		return 0, unix.EINVAL
	}
	m := t.MM()
	matches := func(v mm.VMA) (*ipc.Segment, bool) {
		s, ok := v.File.(*ipc.Segment)
		return s, ok && v.Start >= addr && v.Start-addr == v.Off
	}
	var seg *ipc.Segment
	var limit uint64
	for _, v := range m.VMAs() {
		if v.End <= addr {
			continue
		}
		if seg == nil {
			if s, ok := matches(v); ok {
				seg = s
				limit = addr + pageUp(s.Size())
				s.Detaching(t.PID())
				if err := m.Munmap(t.Mapper(), v.Start, v.End-v.Start); err != nil {
					return 0, err
				}
			}
			continue
		}
		if v.End > limit {
			break
		}
		if s, ok := matches(v); ok && s == seg {
			if err := m.Munmap(t.Mapper(), v.Start, v.End-v.Start); err != nil {
				return 0, err
			}
		}
	}
	if seg == nil {
		return 0, unix.EINVAL
	}
	return 0, nil
}

func pageUp(n uint64) uint64 {
	r, _ := abi.PageUp(n)
	return r
}

// shmctl commands. Linux: include/uapi/linux/ipc.h, include/uapi/linux/shm.h
const (
	ipcRmid    = 0
	ipcSet     = 1
	ipcStat    = 2
	ipcInfo    = 3
	shmLock    = 11
	shmUnlock  = 12
	shmStat    = 13
	shmInfo    = 14
	shmStatAny = 15
)

// sysShmctl. Linux: ipc/shm.c (ksys_shmctl)
func sysShmctl(t *kernel.Task, a kernel.Args) (uint64, error) {
	id, cmd, buf := a.Int(0), a.Int(1), a[2]
	if cmd < 0 || id < 0 {
		return 0, unix.EINVAL
	}
	ns, c := t.IPC(), t.Creds()
	switch cmd {
	case ipcInfo, shmInfo:
		b, n := ns.Info()
		if cmd == shmInfo {
			b, n = ns.ShmInfo()
		}
		if err := t.CopyOut(buf, b); err != nil {
			return 0, err
		}
		return uint64(n), nil
	case ipcStat, shmStat, shmStatAny:
		b, rid, err := ns.Stat(c, id, cmd != ipcStat, cmd == shmStatAny)
		return ipcStatOut(t, buf, b, rid, err, cmd == ipcStat)
	case ipcSet:
		b := make([]byte, ipc.StatSize)
		if err := t.CopyIn(buf, b); err != nil {
			return 0, err
		}
		uid, gid, mode := ipc.DecodeSet(b)
		return 0, ns.Set(c, id, uid, gid, mode)
	case ipcRmid:
		return 0, ns.Remove(c, id)
	case shmLock, shmUnlock:
		return 0, ns.Lock(c, id, cmd == shmLock, t.ThreadGroup().Rlimit(unix.RLIMIT_MEMLOCK).Cur)
	}
	return 0, unix.EINVAL
}

// ipcStatOut finishes an IPC_STAT-like command of shmctl, msgctl or
// semctl: the structure goes to buf; IPC_STAT answers 0, the *_STAT and
// *_STAT_ANY commands the object's id.
func ipcStatOut(t *kernel.Task, buf uint64, b []byte, rid int, err error, plain bool) (uint64, error) {
	if err != nil {
		return 0, err
	}
	if err := t.CopyOut(buf, b); err != nil {
		return 0, err
	}
	if plain {
		return 0, nil
	}
	return uint64(rid), nil
}
