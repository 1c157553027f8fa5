package kernel

import (
	"glassbox/internal/abi"
	"glassbox/internal/vfs"
)

// Owner types of F_SETOWN_EX. Linux: include/uapi/asm-generic/fcntl.h
const (
	ownerTID  = 0
	ownerPID  = 1
	ownerPGRP = 2
)

// Sigio sends O_ASYNC's signal for an event on a file to the file's
// owner o: sig is F_SETSIG's signal (0: a plain SIGIO), code POLL_IN,
// POLL_OUT or POLL_PRI, band the event's poll bits, fd the descriptor
// O_ASYNC was set through. Each target must be one the owner's setter may
// signal. Linux: fs/fcntl.c (send_sigio, send_sigio_to_task, sigio_perm)
func (k *Kernel) Sigio(o vfs.Owner, sig, code int, band uint32, fd int) {
	info := SigInfo{Signo: abi.SIGIO, Code: abi.SI_KERNEL}
	if sig != 0 {
		info = SigInfo{Signo: int32(sig), Code: int32(code), Poll: true, Band: int64(band), FD: int32(fd)}
		if sigSpecificCodes(sig) {
			// POLL_IN and friends would read as the signal's own
			// codes: Linux says SI_SIGIO instead.
			info.Code = siSIGIO
		}
	}
	k.signalOwner(o, info)
}

// Sigurg sends SIGURG to a socket file's owner o: out-of-band data came.
// Linux: fs/fcntl.c (send_sigurg, send_sigurg_to_task)
func (k *Kernel) Sigurg(o vfs.Owner) {
	k.signalOwner(o, SigInfo{Signo: abi.SIGURG, Code: abi.SI_KERNEL})
}

// siSIGIO is SI_SIGIO. Linux: include/uapi/asm-generic/siginfo.h
const siSIGIO = -5

// sigSpecificCodes reports whether si_code has meanings of its own for
// sig (other than SIGPOLL's POLL_*). Linux: kernel/signal.c
// (sig_specific_sicodes)
func sigSpecificCodes(sig int) bool {
	switch sig {
	case abi.SIGILL, abi.SIGFPE, abi.SIGSEGV, abi.SIGBUS, abi.SIGTRAP, abi.SIGCHLD, abi.SIGSYS:
		return true
	}
	return false
}

// signalOwner sends info to each target of owner o its setter may signal.
// Linux: fs/fcntl.c (sigio_perm)
func (k *Kernel) signalOwner(o vfs.Owner, info SigInfo) {
	may := func(t *Task) bool {
		if t == nil {
			return false
		}
		c := t.credsShared()
		return o.EUID == 0 || o.EUID == c.SUID || o.EUID == c.UID || o.UID == c.SUID || o.UID == c.UID
	}
	switch o.Type {
	case ownerTID:
		if t := k.TaskByTID(o.PID); may(t) {
			t.SendSignalInfo(info)
		}
	case ownerPID:
		if tg := k.ThreadGroupByPID(o.PID); tg != nil && may(tg.Leader()) {
			tg.SignalInfo(info)
		}
	case ownerPGRP:
		for _, pid := range k.PIDs() {
			if tg := k.ThreadGroupByPID(pid); tg != nil && tg.Pgid() == o.PID && may(tg.Leader()) {
				tg.SignalInfo(info)
			}
		}
	}
}
