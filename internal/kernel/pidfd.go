package kernel

import (
	"fmt"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/vfs"
)

// PidFD is a pidfd: a file that stands for one process, or with
// PIDFD_THREAD for one thread, for as long as it is open (pids are never
// reused in glassbox, but the file follows its process, not a number).
// It polls readable once the process has exited; waitid(P_PIDFD),
// pidfd_send_signal and pidfd_getfd act on it. Linux: kernel/pid.c,
// kernel/fork.c (pidfd_poll, pidfd_show_fdinfo), fs/pidfs.c
//
// Lock order: the readiness state (ThreadGroup.zombie, reaped and
// pidfdWake) is guarded by Kernel.mu, taken alone.
type PidFD struct {
	vfs.BaseOps
	tg     *ThreadGroup
	thread *Task // PIDFD_THREAD: this thread; nil: the whole process
}

// PidFDThread is PIDFD_THREAD (a pidfd for one thread; it shares its
// value with O_EXCL and shows in the file's status flags).
const PidFDThread = unix.PIDFD_THREAD

// pidfsDev is the device number pidfds report in fstat (the host's
// pidfs has 0:5).
const pidfsDev = 0x5

const pollRdNorm = 0x40 // POLLRDNORM (x/sys/unix lacks it)

// PidFDOf returns the pidfd behind f.
func PidFDOf(f *vfs.File) (*PidFD, bool) {
	p, ok := f.Ops().(*PidFD)
	return p, ok
}

// newPidFD returns an open pidfd (O_RDWR plus the O_NONBLOCK and
// PIDFD_THREAD bits of flags).
func newPidFD(tg *ThreadGroup, thread *Task, flags int) *vfs.File {
	return vfs.NewAnonFile(&PidFD{tg: tg, thread: thread}, "anon_inode:[pidfd]",
		unix.O_RDWR|flags&(unix.PIDFD_NONBLOCK|PidFDThread))
}

// ProcessByPID finds a process that has not been reaped: a live one or
// a zombie (which kill and pidfd_open still find, as on Linux).
func (k *Kernel) ProcessByPID(pid int) *ThreadGroup {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.processByPIDLocked(pid)
}

func (k *Kernel) processByPIDLocked(pid int) *ThreadGroup {
	if t := k.tasks[pid]; t != nil && t.tg.pid == pid {
		return t.tg
	}
	// A zombie has no tasks; it is among its (live) parent's children.
	seen := map[*ThreadGroup]bool{}
	for _, t := range k.tasks {
		tg := t.tg
		if tg.pid == pid {
			return tg
		}
		if seen[tg] {
			continue
		}
		seen[tg] = true
		for _, c := range tg.children {
			if c.pid == pid && !c.reaped {
				return c
			}
		}
	}
	return nil
}

// PidFDOpen is pidfd_open(2): a pidfd for process pid, or with
// PIDFD_THREAD for any thread tid. The caller installs it close-on-exec.
// Linux: kernel/pid.c (pidfd_open), kernel/fork.c (pidfd_prepare)
func (t *Task) PidFDOpen(pid, flags int) (*vfs.File, error) {
	if flags&^(unix.PIDFD_NONBLOCK|PidFDThread) != 0 || pid <= 0 {
		return nil, unix.EINVAL
	}
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	if flags&PidFDThread != 0 {
		if th := k.tasks[pid]; th != nil {
			return newPidFD(th.tg, th, flags), nil
		}
	}
	if tg := k.processByPIDLocked(pid); tg != nil {
		return newPidFD(tg, nil, flags), nil
	}
	if k.tasks[pid] != nil {
		return nil, unix.ENOENT // a thread, but not a thread group leader
	}
	return nil, unix.ESRCH
}

// clonePidFD installs, for CLONE_PIDFD, a pidfd for the new process (or
// thread) in the parent's descriptor table, close-on-exec, and stores its
// number at addr. It runs before the child does, after the child's
// descriptor table was copied (so the child does not have it).
// Linux: kernel/fork.c (copy_process)
func (t *Task) clonePidFD(addr uint64, tg *ThreadGroup, thread *Task) error {
	flags := 0
	if thread != nil {
		flags = PidFDThread
	}
	fd, err := t.FDs().Install(newPidFD(tg, thread, flags), 0, true, t.FDLimit())
	if err != nil {
		return err
	}
	var b [4]byte
	b[0], b[1], b[2], b[3] = byte(fd), byte(fd>>8), byte(fd>>16), byte(fd>>24)
	if err := t.CopyOut(addr, b[:]); err != nil {
		t.FDs().Close(fd)
		return err
	}
	return nil
}

// ID is the pid (or, for a thread pidfd, the tid) the file stands for.
func (p *PidFD) ID() int {
	if p.thread != nil {
		return p.thread.tid
	}
	return p.tg.pid
}

// gone reports whether the process (or thread) no longer exists: reaped,
// or a thread that has exited (threads other than the leader are
// released at once).
func (p *PidFD) gone() bool {
	k := p.tg.k
	k.mu.Lock()
	defer k.mu.Unlock()
	return p.goneLocked()
}

func (p *PidFD) goneLocked() bool {
	if p.thread != nil && p.thread.tid != p.tg.pid {
		return p.thread.k.tasks[p.thread.tid] != p.thread
	}
	return p.tg.reaped
}

// Readiness implements vfs.Poller: readable once the process has exited
// (every thread; for a thread pidfd, that thread), and hung up once it is
// gone. Linux: kernel/fork.c (pidfd_poll)
func (p *PidFD) Readiness() (uint32, <-chan struct{}) {
	k := p.tg.k
	k.mu.Lock()
	defer k.mu.Unlock()
	tg := p.tg
	if tg.pidfdWake == nil {
		tg.pidfdWake = make(chan struct{})
	}
	ch := tg.pidfdWake
	var exited bool
	if p.thread != nil {
		select {
		case <-p.thread.done:
			exited = true
		default:
		}
		if !exited {
			// The thread's own end wakes the pollers.
			ch = p.thread.done
		}
	}
	switch {
	case p.goneLocked():
		return unix.POLLIN | pollRdNorm | unix.POLLHUP, ch
	case tg.zombie || exited:
		return unix.POLLIN | pollRdNorm, ch
	}
	return 0, ch
}

// notifyPidfdLocked wakes the process's pidfd pollers (it has become a
// zombie, or been reaped). Kernel.mu held.
func (tg *ThreadGroup) notifyPidfdLocked() {
	if tg.pidfdWake != nil {
		close(tg.pidfdWake)
		tg.pidfdWake = nil
	}
}

// IsStream implements vfs.Stream (lseek: ESPIPE).
func (p *PidFD) IsStream() {}

// Stat implements vfs.FileOps: one inode per pid, as pidfs has.
func (p *PidFD) Stat(vfs.Ctx) (vfs.Stat, error) {
	return vfs.Stat{Dev: pidfsDev, Ino: uint64(p.ID()), Mode: 0o700, Nlink: 1, Blksize: 4096}, nil
}

// FDInfo gives the pidfd's lines of /proc/PID/fdinfo/N: the pid, or -1
// once the process is gone. Linux: kernel/fork.c (pidfd_show_fdinfo)
func (p *PidFD) FDInfo() string {
	id := p.ID()
	if p.gone() {
		id = -1
	}
	return fmt.Sprintf("Pid:\t%d\nNSpid:\t%d\n", id, id)
}

// Pidfd signal scopes (pidfd_send_signal's flags).
const (
	PidFDSignalThread       = unix.PIDFD_SIGNAL_THREAD
	PidFDSignalThreadGroup  = unix.PIDFD_SIGNAL_THREAD_GROUP
	PidFDSignalProcessGroup = unix.PIDFD_SIGNAL_PROCESS_GROUP
)

// PidFDSendSignal is pidfd_send_signal(2) once the arguments are read:
// info is the caller's siginfo, or nil for kill()'s. scope is 0 (the
// pidfd's own: the process, or its thread) or one PidFDSignal* flag.
// Linux: kernel/signal.c (pidfd_send_signal, do_pidfd_send_signal,
// kill_pid_info_type)
func (t *Task) PidFDSendSignal(p *PidFD, sig int, info *SigInfo, scope int) error {
	if scope == 0 {
		scope = PidFDSignalThreadGroup
		if p.thread != nil {
			scope = PidFDSignalThread
		}
	}
	if info != nil {
		if int(info.Signo) != sig {
			return unix.EINVAL
		}
		// Only a thread signalling itself (or its own process, by its
		// leader's pid) may pick any si_code.
		self := p.ID() == t.tid && scope != PidFDSignalProcessGroup
		if !self && (info.Code >= 0 || info.Code == abi.SI_TKILL) {
			return unix.EPERM
		}
	} else {
		info = &SigInfo{Signo: int32(sig), Code: abi.SI_USER, PID: int32(t.tg.pid), UID: t.creds.UID}
		if scope == PidFDSignalThread {
			info.Code = abi.SI_TKILL
		}
	}
	info.Sender = int32(t.tg.pid)
	if scope == PidFDSignalProcessGroup {
		return t.signalGroupOf(p.ID(), sig, *info)
	}
	if p.gone() {
		return unix.ESRCH
	}
	if sig < 0 || sig > abi.NSIG {
		return unix.EINVAL
	}
	if !t.MaySignal(p.tg, sig) {
		return unix.EPERM
	}
	if sig == 0 {
		return nil
	}
	if scope == PidFDSignalThreadGroup {
		return p.tg.SendUserSignal(*info) // a zombie's is dropped
	}
	// The thread the pidfd's pid names; a leader that has exited while
	// other threads run is a zombie thread, whose signal is dropped.
	if th := p.thread; th != nil || p.tg.k.TaskByTID(p.tg.pid) != nil {
		if th == nil {
			th = p.tg.k.TaskByTID(p.tg.pid)
		}
		return th.SendUserSignal(*info)
	}
	return nil
}

// signalGroupOf sends info to every process in process group pgid, as
// kill(-pgid) does (ESRCH when there is none).
func (t *Task) signalGroupOf(pgid, sig int, info SigInfo) error {
	var targets []*ThreadGroup
	for _, pid := range t.k.PIDs() {
		if tg := t.k.ThreadGroupByPID(pid); tg != nil && tg.Pgid() == pgid {
			targets = append(targets, tg)
		}
	}
	if len(targets) == 0 {
		return unix.ESRCH
	}
	if sig < 0 || sig > abi.NSIG {
		return unix.EINVAL
	}
	sent := false
	for _, tg := range targets {
		if t.MaySignal(tg, sig) {
			sent = true
			if sig != 0 {
				tg.SignalInfo(info)
			}
		}
	}
	if !sent {
		return unix.EPERM
	}
	return nil
}

// PidFDGetFD is pidfd_getfd(2): a new reference to the file at fd in the
// pidfd's process (the caller installs it close-on-exec).
// Linux: kernel/pid.c (pidfd_getfd, __pidfd_fget)
func (t *Task) PidFDGetFD(p *PidFD, fd int) (*vfs.File, error) {
	if p.gone() {
		return nil, unix.ESRCH
	}
	tg := p.tg
	target := p.thread
	if target == nil {
		target = tg.Leader()
	}
	if target != nil && !t.mayAccessMem(target) {
		return nil, unix.EPERM
	}
	tg.mu.Lock()
	exited, fds := tg.exited, tg.fds
	tg.mu.Unlock()
	if target == nil || exited || fds == nil {
		return nil, unix.ESRCH // exiting: its files are going or gone
	}
	return fds.Get(fd)
}
