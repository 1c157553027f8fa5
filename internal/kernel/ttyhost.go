package kernel

import (
	"glassbox/internal/fs/tty"
	"glassbox/internal/vfs"
)

// Terminals is what the kernel tells the sandbox's terminals about
// sessions (the tty.Registry of /dev implements it).
type Terminals interface {
	// LeaderExited is called when the leader of session sid exits.
	LeaderExited(sid int)
	// Controlling returns the device number and foreground group of
	// session sid's controlling terminal; ok is false when it has none.
	Controlling(sid int) (major, minor uint32, fg int, ok bool)
}

// controllingTTY is what /proc/PID/stat shows of a session's terminal:
// its device (new_encode_dev) and foreground group, or 0 and -1.
// Linux: fs/proc/array.c (do_task_stat)
func (k *Kernel) controllingTTY(sid int) (int, int) {
	tm := k.cfg.Terminals
	if tm == nil {
		return 0, -1
	}
	major, minor, fg, ok := tm.Controlling(sid)
	if !ok {
		return 0, -1
	}
	if fg == 0 {
		fg = -1
	}
	return int(minor&0xff | major<<8 | (minor&^0xff)<<12), fg
}

// TTYSessions gives a terminal glassbox opens for itself (the host
// terminal's stand-in) its view of the kernel.
func (k *Kernel) TTYSessions() tty.Sessions { return ttySessions{k} }

// InitPID is the pid (also process group and session) the first process
// will have.
const InitPID = 1

// SetStdio replaces guest fd i (0-2) of the first process before Start;
// the reference is taken over and the old one dropped.
func (k *Kernel) SetStdio(i int, f *vfs.File) {
	if old := k.cfg.Stdio[i]; old != nil {
		old.DecRef()
	}
	k.cfg.Stdio[i] = f
}
