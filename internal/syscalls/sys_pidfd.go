package syscalls

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"glassbox/internal/fs/procfs"
	"glassbox/internal/kernel"
	"glassbox/internal/vfs"
)

func init() {
	reg(unix.SYS_PIDFD_OPEN, sysPidfdOpen)
	reg(unix.SYS_PIDFD_SEND_SIGNAL, sysPidfdSendSignal)
	reg(unix.SYS_PIDFD_GETFD, sysPidfdGetfd)
}

// pidfds that name the caller without a file (pidfd_send_signal).
const (
	pidfdSelfThread      = -10000 // PIDFD_SELF_THREAD
	pidfdSelfThreadGroup = -10001 // PIDFD_SELF_THREAD_GROUP
)

// getPidFD returns the pidfd at fd (EBADF if fd is not open or not a
// pidfd); the caller must DecRef the file. With procDir, an open
// /proc/PID directory is taken as a pidfd of PID, as pidfd_send_signal
// takes it. Linux: kernel/signal.c (pidfd_to_pid)
func getPidFD(t *kernel.Task, fd int, procDir bool) (*kernel.PidFD, *vfs.File, error) {
	f, err := getFile(t, fd)
	if err != nil {
		return nil, nil, err
	}
	if p, ok := kernel.PidFDOf(f); ok {
		return p, f, nil
	}
	if pth := f.Path(); procDir && pth.Dentry != nil {
		if pid, ok := procfs.PIDOf(pth.Inode()); ok {
			f.DecRef()
			pf, err := t.PidFDOpen(pid, 0)
			if err != nil {
				return nil, nil, err
			}
			p, _ := kernel.PidFDOf(pf)
			return p, pf, nil
		}
	}
	f.DecRef()
	return nil, nil, unix.EBADF
}

func sysPidfdOpen(t *kernel.Task, a kernel.Args) (uint64, error) {
	pid := a.Int(0)
	if pid > 0 {
		if pid = t.KPID(pid); pid <= 0 {
			return 0, unix.ESRCH // not in the caller's PID namespace
		}
	}
	f, err := t.PidFDOpen(pid, int(uint32(a[1])))
	if err != nil {
		return 0, err
	}
	return installNew(t, f, true)
}

// sysPidfdSendSignal is pidfd_send_signal(pidfd, sig, info, flags).
// Linux: kernel/signal.c (pidfd_send_signal)
func sysPidfdSendSignal(t *kernel.Task, a kernel.Args) (uint64, error) {
	sig, flags := a.Int(1), uint32(a[3])
	const scopes = unix.PIDFD_SIGNAL_THREAD | unix.PIDFD_SIGNAL_THREAD_GROUP | unix.PIDFD_SIGNAL_PROCESS_GROUP
	if flags&^scopes != 0 || flags&(flags-1) != 0 {
		return 0, unix.EINVAL
	}
	var p *kernel.PidFD
	switch fd := a.Int(0); fd {
	case pidfdSelfThread, pidfdSelfThreadGroup:
		self, err := t.PidFDOpen(t.TID(), kernel.PidFDThread)
		if fd == pidfdSelfThreadGroup {
			self, err = t.PidFDOpen(t.PID(), 0)
		}
		if err != nil {
			return 0, err
		}
		defer self.DecRef()
		p, _ = kernel.PidFDOf(self)
	default:
		var f *vfs.File
		var err error
		if p, f, err = getPidFD(t, fd, true); err != nil {
			return 0, err
		}
		defer f.DecRef()
	}
	var info *kernel.SigInfo
	if a[2] != 0 {
		b := make([]byte, 128)
		if err := t.CopyIn(a[2], b); err != nil {
			return 0, err
		}
		le := binary.LittleEndian
		info = &kernel.SigInfo{Signo: int32(le.Uint32(b[0:])), Errno: int32(le.Uint32(b[4:])),
			Code: int32(le.Uint32(b[8:])), PID: int32(le.Uint32(b[16:])), UID: le.Uint32(b[20:]),
			Value: le.Uint64(b[24:])}
	}
	return 0, t.PidFDSendSignal(p, sig, info, int(flags))
}

// sysPidfdGetfd is pidfd_getfd(pidfd, targetfd, flags): a duplicate,
// close-on-exec, of another process's descriptor.
func sysPidfdGetfd(t *kernel.Task, a kernel.Args) (uint64, error) {
	if a[2] != 0 {
		return 0, unix.EINVAL
	}
	p, pf, err := getPidFD(t, a.Int(0), false)
	if err != nil {
		return 0, err
	}
	defer pf.DecRef()
	f, err := t.PidFDGetFD(p, a.Int(1))
	if err != nil {
		return 0, err
	}
	return installNew(t, f, true)
}
