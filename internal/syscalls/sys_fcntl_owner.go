package syscalls

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/kernel"
	"glassbox/internal/vfs"
)

// fcntlOwner implements the owner, signal and lease commands. The owner
// (with its setter's uids) and the signal are what O_ASYNC signals
// (setAsync); leases are broken by conflicting opens (vfs/lease.go). Linux: fs/fcntl.c (f_setown,
// f_getown_ex), fs/locks.c (fcntl_setlease)
func fcntlOwner(t *kernel.Task, f *vfs.File, fd, cmd int, arg uint64) (uint64, error) {
	switch cmd {
	case unix.F_GETOWN:
		// Ids are kept as the kernel's and shown as the caller's PID
		// namespace numbers them (0: not in it). Linux: fs/fcntl.c (f_getown: pid_vnr)
		o := f.Owner()
		if o.Type == fOwnerPGRP {
			return uint64(-t.VPID(o.PID)), nil
		}
		return uint64(t.VPID(o.PID)), nil
	case unix.F_SETOWN:
		who := int(int32(arg))
		typ := fOwnerPID
		if who < 0 {
			if who == -1<<31 {
				return 0, unix.EINVAL
			}
			typ, who = fOwnerPGRP, -who
		}
		who, err := ownerExists(t, typ, who)
		if err != nil {
			return 0, err
		}
		f.SetOwner(vfs.Owner{Type: typ, PID: who, UID: t.Creds().UID, EUID: t.Creds().EUID}, t.Kernel().Sigurg)
		return 0, nil
	case unix.F_GETOWN_EX:
		o := f.Owner()
		b := make([]byte, 8)
		binary.LittleEndian.PutUint32(b, uint32(o.Type))
		binary.LittleEndian.PutUint32(b[4:], uint32(t.VPID(o.PID)))
		return 0, t.CopyOut(arg, b)
	case unix.F_SETOWN_EX:
		b := make([]byte, 8)
		if err := t.CopyIn(arg, b); err != nil {
			return 0, err
		}
		typ, who := int(int32(binary.LittleEndian.Uint32(b))), int(int32(binary.LittleEndian.Uint32(b[4:])))
		switch typ {
		case fOwnerTID, fOwnerPID, fOwnerPGRP:
		default:
			return 0, unix.EINVAL
		}
		who, err := ownerExists(t, typ, who)
		if err != nil {
			return 0, err
		}
		f.SetOwner(vfs.Owner{Type: typ, PID: who, UID: t.Creds().UID, EUID: t.Creds().EUID}, t.Kernel().Sigurg)
		return 0, nil
	case unix.F_GETSIG:
		return uint64(f.Sig()), nil
	case unix.F_SETSIG:
		if arg > abi.NSIG {
			return 0, unix.EINVAL
		}
		f.SetSig(int(arg))
		return 0, nil
	case unix.F_GETLEASE:
		return uint64(f.Lease()), nil
	}
	// F_SETLEASE. Linux: fs/locks.c (generic_setlease, check_conflicting_open)
	typ := int(arg)
	switch typ {
	case unix.F_RDLCK, unix.F_WRLCK, unix.F_UNLCK:
	default:
		return 0, unix.EINVAL
	}
	st, err := f.Stat(t)
	if err != nil {
		return 0, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return 0, unix.EINVAL
	}
	if st.UID != t.Creds().FSUID && !t.CapableInit(unix.CAP_LEASE) {
		return 0, unix.EACCES
	}
	if typ == unix.F_RDLCK && f.Writable() {
		return 0, unix.EAGAIN // the file is open for writing
	}
	if typ != unix.F_UNLCK {
		// The lease's holder owns the file: its break goes to the
		// caller's process. Linux: fs/locks.c (lease_setup)
		f.SetOwner(vfs.Owner{Type: fOwnerPID, PID: t.PID(), UID: t.Creds().UID, EUID: t.Creds().EUID}, t.Kernel().Sigurg)
	}
	k := t.Kernel()
	notify := func() {
		// SIGIO, or F_SETSIG's signal with POLL_MSG and the fd.
		// Linux: fs/locks.c (lease_break_callback: kill_fasync POLL_MSG)
		if o := f.Owner(); o.PID != 0 {
			k.Sigio(o, f.Sig(), pollMsg, unix.POLLIN|pollRdNorm|pollMsgBand, fd)
		}
	}
	return 0, f.SetLease(typ, &st, notify)
}

// POLL_MSG's si_code and band. Linux: include/uapi/asm-generic/siginfo.h, poll.h
const (
	pollMsg     = 3
	pollRdNorm  = 0x40
	pollMsgBand = 0x400
)

// ownerExists turns an owner id as the caller numbers it (its PID
// namespace's) into the kernel's; ESRCH if it names nobody the caller can
// see (0 is no owner). Linux: fs/fcntl.c (f_setown: find_vpid)
func ownerExists(t *kernel.Task, typ, who int) (int, error) {
	if who == 0 {
		return 0, nil
	}
	if who = t.KPID(who); who <= 0 {
		return 0, unix.ESRCH
	}
	k := t.Kernel()
	switch typ {
	case fOwnerTID:
		if k.TaskByTID(who) != nil {
			return who, nil
		}
	case fOwnerPID:
		if k.ThreadGroupByPID(who) != nil {
			return who, nil
		}
	case fOwnerPGRP:
		for _, pid := range k.PIDs() {
			if tg := k.ThreadGroupByPID(pid); tg != nil && tg.Pgid() == who {
				return who, nil
			}
		}
	}
	return 0, unix.ESRCH
}

// Owner types of struct f_owner_ex. Linux: include/uapi/asm-generic/fcntl.h
const (
	fOwnerTID  = 0
	fOwnerPID  = 1
	fOwnerPGRP = 2
)

// setAsync starts or stops O_ASYNC's signals when F_SETFL or FIOASYNC
// changed the flag (was: before): each event on the file then signals its
// owner, if it has one. Linux: fs/fcntl.c (setfl: ->fasync)
func setAsync(t *kernel.Task, f *vfs.File, fd int, was bool) {
	now := f.Flags()&unix.O_ASYNC != 0
	switch {
	case now == was:
	case !now:
		f.StopAsync()
	default:
		k := t.Kernel()
		f.StartAsync(fd, func(code int, band uint32, fd int) {
			if o := f.Owner(); o.PID != 0 {
				k.Sigio(o, f.Sig(), code, band, fd)
			}
		})
	}
}

// Socket ioctls that are F_SETOWN and F_GETOWN by other names (x/sys has
// only the SIOC pair). Linux: net/socket.c (sock_ioctl)
const (
	fiosetown = 0x8901
	fiogetown = 0x8903
)

// sockOwnerIoctl answers FIOSETOWN/SIOCSPGRP and FIOGETOWN/SIOCGPGRP on a
// socket (an int in guest memory each way); ok is false for other
// commands.
func sockOwnerIoctl(t *kernel.Task, f *vfs.File, cmd uint32, arg uint64) (r uint64, ok bool, err error) {
	var b [4]byte
	switch cmd {
	case fiosetown, unix.SIOCSPGRP:
		if err := t.CopyIn(arg, b[:]); err != nil {
			return 0, true, err
		}
		who := int32(binary.LittleEndian.Uint32(b[:]))
		_, err := fcntlOwner(t, f, -1, unix.F_SETOWN, uint64(int64(who)))
		return 0, true, err
	case fiogetown, unix.SIOCGPGRP:
		who, _ := fcntlOwner(t, f, -1, unix.F_GETOWN, 0)
		binary.LittleEndian.PutUint32(b[:], uint32(who))
		return 0, true, t.CopyOut(arg, b[:])
	}
	return 0, false, nil
}
