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
