package syscalls

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"glassbox/internal/kernel"
	"glassbox/internal/vfs"
)

func init() {
	reg(unix.SYS_FLOCK, sysFlock)
}

// closeFD is close(2): a process's POSIX locks on the file go with any of
// its descriptors. Linux: fs/locks.c (locks_remove_posix)
func closeFD(t *kernel.Task, fd int) error {
	if f, err := getFile(t, fd); err == nil {
		vfs.ReleasePOSIX(f, t.PID())
		f.DecRef()
	}
	return t.FDs().Close(fd)
}

// releaseLocksAt drops the caller's POSIX locks on the file at fd, which
// is about to be closed by a dup2/dup3 over it.
func releaseLocksAt(t *kernel.Task, fd int) {
	if f, err := getFile(t, fd); err == nil {
		vfs.ReleasePOSIX(f, t.PID())
		f.DecRef()
	}
}

// fcntlLock handles F_GETLK, F_SETLK(W) and their OFD forms on struct
// flock. Linux: fs/locks.c (fcntl_getlk, fcntl_setlk)
func fcntlLock(t *kernel.Task, f *vfs.File, cmd int, addr uint64) (uint64, error) {
	var b [32]byte
	if err := t.CopyIn(addr, b[:]); err != nil {
		return 0, err
	}
	le := binary.LittleEndian
	typ, whence := int16(le.Uint16(b[0:])), int(int16(le.Uint16(b[2:])))
	start, length := int64(le.Uint64(b[8:])), int64(le.Uint64(b[16:]))
	ofd := cmd == unix.F_OFD_GETLK || cmd == unix.F_OFD_SETLK || cmd == unix.F_OFD_SETLKW
	if ofd && le.Uint32(b[24:]) != 0 {
		return 0, unix.EINVAL // l_pid must be 0 for OFD locks
	}
	switch whence {
	case unix.SEEK_SET:
	case unix.SEEK_CUR, unix.SEEK_END:
		base, err := f.Seek(t, 0, whence)
		if err != nil {
			return 0, err
		}
		start += base
	default:
		return 0, unix.EINVAL
	}
	l := vfs.Lock{Start: start, End: -1, PID: t.PID()}
	switch {
	case length > 0:
		l.End = start + length
	case length < 0:
		l.Start, l.End = start+length, start
	}
	if l.Start < 0 {
		return 0, unix.EINVAL
	}
	var owner any = t.PID()
	if ofd {
		owner, l.PID = f, -1
	}
	switch typ {
	case unix.F_RDLCK:
		if !f.Readable() && cmd != unix.F_GETLK && cmd != unix.F_OFD_GETLK {
			return 0, unix.EBADF
		}
	case unix.F_WRLCK:
		l.Write = true
		if !f.Writable() && cmd != unix.F_GETLK && cmd != unix.F_OFD_GETLK {
			return 0, unix.EBADF
		}
	case unix.F_UNLCK:
	default:
		return 0, unix.EINVAL
	}
	if cmd == unix.F_GETLK || cmd == unix.F_OFD_GETLK {
		if typ == unix.F_UNLCK {
			return 0, unix.EINVAL
		}
		o, found, err := vfs.TestLock(f, l, owner)
		if err != nil {
			return 0, err
		}
		if !found {
			le.PutUint16(b[0:], unix.F_UNLCK)
		} else {
			lt := int16(unix.F_RDLCK)
			if o.Write {
				lt = unix.F_WRLCK
			}
			le.PutUint16(b[0:], uint16(lt))
			le.PutUint16(b[2:], unix.SEEK_SET)
			le.PutUint64(b[8:], uint64(o.Start))
			n := int64(0)
			if o.End >= 0 {
				n = o.End - o.Start
			}
			le.PutUint64(b[16:], uint64(n))
			pid := o.PID // -1 for an OFD lock
			if pid > 0 {
				pid = t.VPID(pid) // 0 outside the caller's PID namespace. Linux: fs/locks.c (locks_translate_pid)
			}
			le.PutUint32(b[24:], uint32(int32(pid)))
		}
		return 0, t.CopyOut(addr, b[:])
	}
	wait := cmd == unix.F_SETLKW || cmd == unix.F_OFD_SETLKW
	return 0, restartable(vfs.SetLock(t, f, l, owner, typ == unix.F_UNLCK, wait))
}

// sysFlock is flock(2): whole-file locks owned by the open file description.
// sysFlock checks the operation before the descriptor; LOCK_MAND, long
// broken, is ignored. Linux: fs/locks.c (SYSCALL flock)
func sysFlock(t *kernel.Task, a kernel.Args) (uint64, error) {
	const lockMand = 0x20
	op := int(uint32(a[1]))
	if op&lockMand != 0 {
		return 0, nil
	}
	l := vfs.Lock{Start: 0, End: -1, PID: -1}
	unlock := false
	switch op &^ unix.LOCK_NB {
	case unix.LOCK_SH:
	case unix.LOCK_EX:
		l.Write = true
	case unix.LOCK_UN:
		unlock = true
	default:
		return 0, unix.EINVAL
	}
	f, err := getFileIO(t, a.Int(0))
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	return 0, restartable(vfs.SetFlock(t, f, l, unlock, op&unix.LOCK_NB == 0))
}
