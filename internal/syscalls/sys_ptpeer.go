package syscalls

import (
	"golang.org/x/sys/unix"

	"glassbox/internal/kernel"
	"glassbox/internal/vfs"
)

// tiocgptpeer is TIOCGPTPEER, _IO('T', 0x41). Linux: include/uapi/asm-generic/ioctls.h
const tiocgptpeer = 0x5441

// peerOpener is a pty file that answers TIOCGPTPEER.
type peerOpener interface {
	OpenPeer(ctx vfs.Ctx, flags int) (vfs.FileOps, string, error)
}

// ioctlPeer answers TIOCGPTPEER: a new descriptor for the master's slave,
// opened with the argument's flags. Linux: drivers/tty/pty.c (ptm_open_peer)
func ioctlPeer(t *kernel.Task, f *vfs.File, flags int) (uint64, error) {
	p, ok := f.Ops().(peerOpener)
	if !ok {
		return 0, unix.ENOTTY
	}
	ops, name, err := p.OpenPeer(t, flags)
	if err != nil {
		return 0, err
	}
	nf := vfs.NewAnonFile(ops, name, flags&(unix.O_ACCMODE|unix.O_NONBLOCK))
	return installNew(t, nf, flags&unix.O_CLOEXEC != 0)
}
