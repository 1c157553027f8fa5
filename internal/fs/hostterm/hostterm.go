package hostterm

import (
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/internal/fs/tty"
	"glassbox/internal/vfs"
)

// Detect returns the first of the host descriptors fds that is a
// terminal glassbox may take over (open for reading and writing, with
// glassbox's process group in its foreground, so changing its modes
// stops nobody), or -1.
func Detect(fds []int) int {
	for _, fd := range fds {
		if _, err := unix.IoctlGetTermios(fd, unix.TCGETS); err != nil {
			continue
		}
		fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
		if err != nil || fl&unix.O_ACCMODE != unix.O_RDWR {
			continue
		}
		if pg, err := unix.IoctlGetInt(fd, unix.TIOCGPGRP); err != nil || pg != unix.Getpgrp() {
			continue
		}
		return fd
	}
	return -1
}

// Same reports whether host descriptors a and b are the same terminal.
func Same(a, b int) bool {
	if _, err := unix.IoctlGetTermios(a, unix.TCGETS); err != nil {
		return false
	}
	var sa, sb unix.Stat_t
	if unix.Fstat(a, &sa) != nil || unix.Fstat(b, &sb) != nil {
		return false
	}
	return sa.Rdev == sb.Rdev && sa.Mode&unix.S_IFMT == unix.S_IFCHR
}

// Terminal is the host terminal standing behind one sandbox pty.
type Terminal struct {
	fd    int
	saved *unix.Termios
	m     *tty.Master
	ctx   *pumpCtx

	wg      sync.WaitGroup
	winch   chan os.Signal
	wake    int // eventfd that Stop signals to end copyIn's poll (-1: none)
	started bool
	stopped bool
	hungUp  atomic.Bool
}

// Open allocates a pty in ptys for host terminal fd, with the host's
// termios and window size; signals the line discipline raises go
// through sess. Nothing on the host changes until Start.
func Open(fd int, ptys *tty.Registry, sess tty.Sessions, creds *vfs.Creds) (*Terminal, error) {
	saved, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return nil, err
	}
	ctx := &pumpCtx{creds: creds, sess: sess, stop: make(chan struct{})}
	m, err := ptys.OpenPair(ctx)
	if err != nil {
		return nil, err
	}
	m.SetTermios(tty.Termios{Iflag: saved.Iflag, Oflag: saved.Oflag, Cflag: saved.Cflag,
		Lflag: saved.Lflag, Line: 0, Cc: saved.Cc})
	h := &Terminal{fd: fd, saved: saved, m: m, ctx: ctx, wake: -1}
	h.resize()
	return h, nil
}

// Master is the pty standing in for the host terminal.
func (h *Terminal) Master() *tty.Master { return h.m }

// Slave opens the pty's slave (never as a controlling terminal).
func (h *Terminal) Slave(flags int) (vfs.FileOps, error) { return h.m.OpenSlave(flags) }

// Start puts the host terminal in raw mode and starts copying.
// Linux: cfmakeraw(3)
func (h *Terminal) Start() error {
	raw := *h.saved
	raw.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	raw.Oflag &^= unix.OPOST
	raw.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	raw.Cflag &^= unix.CSIZE | unix.PARENB
	raw.Cflag |= unix.CS8
	raw.Cc[unix.VMIN], raw.Cc[unix.VTIME] = 1, 0
	// Without raw mode the copying still has to run, or the guest's
	// output would never show.
	err := unix.IoctlSetTermios(h.fd, unix.TCSETSW, &raw)
	h.started = true
	if wake, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK); err == nil {
		h.wake = wake
	}
	h.winch = make(chan os.Signal, 4)
	signal.Notify(h.winch, syscall.SIGWINCH)
	h.wg.Add(3)
	go h.copyIn()
	go h.copyOut()
	go h.followSize()
	return err
}

// HangUp is what a hangup of the host terminal (its window closed, the
// ssh connection lost) does to the sandbox: the pty's master goes away, so
// its session leader and foreground group get SIGHUP and SIGCONT and reads
// of the terminal see end of file, as when a pty's master is closed.
// Linux: drivers/tty/tty_io.c (tty_vhangup via pty_close)
func (h *Terminal) HangUp() {
	if !h.hungUp.Swap(true) {
		h.m.Release()
	}
}

// Stop ends the copying (after passing on the output the guest has
// already written), restores the host terminal's modes and closes the
// pty's master. Safe to call more than once.
func (h *Terminal) Stop() {
	if h.stopped {
		return
	}
	h.stopped = true
	close(h.ctx.stop)
	if h.started {
		if h.wake >= 0 {
			var one [8]byte
			one[0] = 1
			unix.Write(h.wake, one[:])
		}
		signal.Stop(h.winch)
		h.wg.Wait()
		if h.wake >= 0 {
			unix.Close(h.wake)
			h.wake = -1
		}
		unix.IoctlSetTermios(h.fd, unix.TCSETSW, h.saved)
	}
	h.HangUp()
}

// Resize copies the host terminal's window size to the pty now (for a
// host terminal whose SIGWINCH goes to another process, which says so).
func (h *Terminal) Resize() { h.resize() }

// resize copies the host's window size to the pty (SIGWINCH to the
// guest's foreground group when it changed).
func (h *Terminal) resize() {
	ws, err := unix.IoctlGetWinsize(h.fd, unix.TIOCGWINSZ)
	if err != nil {
		return
	}
	h.m.SetWinsize(tty.Winsize{Row: ws.Row, Col: ws.Col, Xpixel: ws.Xpixel, Ypixel: ws.Ypixel})
}

func (h *Terminal) followSize() {
	defer h.wg.Done()
	for {
		select {
		case <-h.winch:
			h.resize()
		case <-h.ctx.stop:
			return
		}
	}
}

// pollSlice is how often the input copier looks whether it must stop
// when it has no eventfd to be woken by, and how long the output copier
// waits for a slave to be opened again or for room on the terminal.
var pollSlice = 50 * time.Millisecond

// copyIn feeds what is typed on the host terminal to the pty master. It
// polls the terminal and the wake eventfd, so that Stop ends it at once.
func (h *Terminal) copyIn() {
	defer h.wg.Done()
	buf := make([]byte, 4096)
	timeout := -1
	if h.wake < 0 {
		timeout = int(pollSlice / time.Millisecond)
	}
	for !h.ctx.Interrupted() {
		fds := []unix.PollFd{{Fd: int32(h.fd), Events: unix.POLLIN}, {Fd: int32(h.wake), Events: unix.POLLIN}}
		if n, err := unix.Poll(fds, timeout); n <= 0 || err != nil || fds[0].Revents == 0 {
			continue
		}
		n, err := unix.Read(h.fd, buf)
		if err == unix.EINTR || err == unix.EAGAIN {
			continue
		}
		if n <= 0 {
			h.HangUp() // the host terminal is gone
			return
		}
		if _, err := h.m.Write(h.ctx, [][]byte{buf[:n]}, 0); err != nil {
			return
		}
	}
}

// copyOut copies the guest's output to the host terminal until Stop,
// then what is still queued.
func (h *Terminal) copyOut() {
	defer h.wg.Done()
	buf := make([]byte, 8192)
	for {
		n, err := h.m.Read(h.ctx, [][]byte{buf}, 0)
		if n > 0 {
			h.write(buf[:n])
			continue
		}
		if h.ctx.Interrupted() || h.hungUp.Load() {
			return
		}
		if err == unix.EIO {
			// No slave is open now; one may be opened again.
			select {
			case <-h.ctx.stop:
			case <-time.After(pollSlice):
			}
		}
	}
}

// write puts b on the host terminal.
func (h *Terminal) write(b []byte) {
	for len(b) > 0 {
		n, err := unix.Write(h.fd, b)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			unix.Poll([]unix.PollFd{{Fd: int32(h.fd), Events: unix.POLLOUT}}, int(pollSlice/time.Millisecond))
			continue
		case err != nil || n <= 0:
			return
		}
		b = b[n:]
	}
}

// pumpCtx is the context of the copiers' pty operations: the guest's
// initial credentials, the kernel's sessions, and an interrupt that
// fires at Stop.
type pumpCtx struct {
	creds *vfs.Creds
	sess  tty.Sessions
	stop  chan struct{}
}

func (c *pumpCtx) Creds() *vfs.Creds          { return c.creds }
func (c *pumpCtx) Interrupt() <-chan struct{} { return c.stop }
func (c *pumpCtx) TTYSessions() tty.Sessions  { return c.sess }
func (c *pumpCtx) Interrupted() bool {
	select {
	case <-c.stop:
		return true
	default:
		return false
	}
}
