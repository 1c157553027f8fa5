package devfs

import (
	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/fs/synth"
	"glassbox/internal/vfs"
)

// console is /dev/console (5,1): root's only (mode 0600, as devtmpfs
// makes it), and opening it reaches glassbox's own output: the sandbox's
// terminal when glassbox runs on one, else glassbox's standard output.
// A console open never makes it a controlling terminal.
// Linux: drivers/tty/tty_io.c (tty_open: noctty for the console)
type console struct {
	synth.Attr
	open func(flags int) (vfs.FileOps, error)
}

func newConsole(open func(int) (vfs.FileOps, error)) *console {
	a := synth.NewAttr(Dev, unix.S_IFCHR|0o600)
	a.Rdev = abi.Makedev(5, 1)
	return &console{Attr: a, open: open}
}

func (c *console) Open(ctx vfs.Ctx, flags int) (vfs.FileOps, error) {
	if c.open == nil {
		return nil, unix.ENXIO
	}
	// The file is the terminal's (or glassbox's output's) own, so its
	// stat, ioctls and readiness are theirs.
	return c.open(flags | unix.O_NOCTTY)
}
