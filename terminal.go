package glassbox

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"glassbox/internal/fs/hostio"
	"glassbox/internal/fs/hostterm"
	"glassbox/internal/fs/tty"
	"glassbox/internal/kernel"
	"glassbox/internal/vfs"
)

// The guest's standard descriptors. When glassbox runs on a terminal
// (and in its foreground), the guest gets a terminal of the sandbox's
// own instead of the host's: a pty that is the first session's
// controlling terminal, whose master glassbox copies to and from the
// host terminal (package hostterm). Descriptors that are pipes or files
// on the host are lent as they are (package hostio).

// stdio is what build decided about the guest's fds 0-2.
type stdio struct {
	host  [3]*os.File
	files [3]*vfs.File
	ttyFD int // host descriptor of the terminal taken over, or -1
	term  *hostterm.Terminal
}

// hostStdio lends the host descriptors; those on the terminal glassbox
// takes over are left for attachTerminal.
func hostStdio(cfg *Config) *stdio {
	s := &stdio{host: [3]*os.File{orStd(cfg.Stdin, os.Stdin), orStd(cfg.Stdout, os.Stdout), orStd(cfg.Stderr, os.Stderr)}, ttyFD: -1}
	if !cfg.PassTerminal {
		s.ttyFD = hostterm.Detect([]int{int(s.host[0].Fd()), int(s.host[1].Fd()), int(s.host[2].Fd())})
	}
	for i, f := range s.host {
		if s.onTerminal(i) {
			continue
		}
		s.files[i] = lend(i, f)
	}
	return s
}

func (s *stdio) onTerminal(i int) bool {
	return s.ttyFD >= 0 && hostterm.Same(int(s.host[i].Fd()), s.ttyFD)
}

// lend wraps host descriptor f as guest fd i (nil when closed on the host).
func lend(i int, f *os.File) *vfs.File {
	fl, err := unix.FcntlInt(f.Fd(), unix.F_GETFL, 0)
	if err != nil {
		return nil // closed on the host: closed in the guest
	}
	// /proc/PID/fd shows what the host descriptor is (a pipe, a
	// terminal, a file the user redirected).
	return vfs.NewAnonFileNamer(hostio.New(int(f.Fd()), false), hostName(i, int(f.Fd())), fl&unix.O_ACCMODE)
}

// lendCopy lends a duplicate of host descriptor f as guest fd i, closed
// when the guest's last reference goes (nil when f is closed).
func lendCopy(i int, f *os.File) *vfs.File {
	fd, err := unix.FcntlInt(f.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil
	}
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil {
		unix.Close(fd)
		return nil
	}
	// Named now: the duplicate is closed with the guest's last reference,
	// and its number may then name another file.
	return vfs.NewAnonFile(hostio.New(fd, true), hostName(i, fd)(), fl&unix.O_ACCMODE)
}

// hostName names host descriptor fd, lent as guest fd i, for the guest's
// /proc/PID/fd: what the host's /proc says it is.
func hostName(i, fd int) func() string {
	return func() string {
		name, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", fd))
		if err != nil {
			return fmt.Sprintf("host:[%d]", i)
		}
		return name
	}
}

// attachTerminal gives the guest the sandbox terminal standing for the
// host one: its slave as each fd that was the host terminal, and as the
// controlling terminal of the first process's session. If the pty can't
// be made, the host descriptors are lent as they are.
func (s *stdio) attachTerminal(k *kernel.Kernel, ptys *tty.Registry) {
	if s.ttyFD < 0 {
		return
	}
	term, err := hostterm.Open(s.ttyFD, ptys, k.TTYSessions(), k.HostCtx().Creds())
	if err == nil {
		s.term = term
		term.Master().SetControlling(kernel.InitPID, kernel.InitPID)
	}
	for i, f := range s.host {
		if !s.onTerminal(i) {
			continue
		}
		var file *vfs.File
		if term != nil {
			if ops, err := term.Slave(unix.O_RDWR); err == nil {
				file = vfs.NewAnonFile(ops, fmt.Sprintf("/dev/pts/%d", term.Master().TTY().Index()), unix.O_RDWR)
			}
		}
		if file == nil {
			file = lend(i, f)
		}
		k.SetStdio(i, file)
	}
}

// openConsole opens /dev/console: the sandbox terminal when glassbox's
// standard output is the host terminal it took over, else a duplicate
// of glassbox's standard output.
func (s *stdio) openConsole(flags int) (vfs.FileOps, error) {
	if s.term != nil && s.onTerminal(1) {
		return s.term.Slave(flags)
	}
	fd, err := unix.FcntlInt(s.host[1].Fd(), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, unix.ENXIO
	}
	return hostio.New(fd, true), nil
}
