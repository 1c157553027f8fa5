package tty

import (
	"strconv"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/vfs"
)

// What glassbox itself does with a terminal: it opens a pair for the
// host terminal it runs on (the guest's first session's controlling
// terminal), forwards window-size changes, and hears when a session
// leader exits.

// OpenPair allocates a pty for glassbox's own use: the master, already
// unlocked, whose signals go through the Sessions of ctx.
func (r *Registry) OpenPair(ctx vfs.Ctx) (*Master, error) {
	ops, err := r.OpenMaster(ctx)
	if err != nil {
		return nil, err
	}
	m := ops.(*Master)
	m.t.mu.Lock()
	m.t.locked = false
	m.t.mu.Unlock()
	return m, nil
}

// OpenSlave opens the pair's slave as /dev/pts/N, never taking it as a
// controlling terminal.
func (m *Master) OpenSlave(flags int) (vfs.FileOps, error) {
	r := m.t.reg
	r.mu.Lock()
	n := r.pts[m.t.index]
	r.mu.Unlock()
	if n == nil {
		return nil, unix.EIO
	}
	st, _ := n.Attr.Stat()
	return m.t.openSlave(nil, flags|unix.O_NOCTTY, st)
}

// SetControlling makes the pair the controlling terminal of session sid
// with foreground group pgid (the guest's first process, before it runs).
func (m *Master) SetControlling(sid, pgid int) { m.t.claimCtty(sid, pgid) }

// claimCtty makes t the controlling terminal of session sid, with
// foreground group pgid, unless the session has one or t belongs to
// another. Linux: tty_jobctrl.c (__proc_set_tty)
func (t *TTY) claimCtty(sid, pgid int) {
	t.reg.mu.Lock()
	t.mu.Lock()
	if t.reg.ctty[sid] == nil && t.sid == 0 {
		t.sid, t.fg = sid, pgid
		t.reg.ctty[sid] = t
	}
	t.mu.Unlock()
	t.reg.mu.Unlock()
}

// SetTermios installs termios as TCSETS would.
func (m *Master) SetTermios(tm Termios) {
	m.t.mu.Lock()
	m.t.setTermiosLocked(tm)
	m.t.unlockAndSignal()
}

// SetWinsize sets the window size as TIOCSWINSZ would: SIGWINCH to the
// foreground group when it changes. Linux: tty_io.c (tty_do_resize)
func (m *Master) SetWinsize(w Winsize) {
	t := m.t
	t.mu.Lock()
	if w != t.win {
		t.win = w
		if t.fg > 0 {
			t.sigs = append(t.sigs, pendingSig{t.fg, abi.SIGWINCH})
		}
	}
	t.unlockAndSignal()
}

// ReadNonblock takes what output is queued now, without waiting.
func (m *Master) ReadNonblock(ctx vfs.Ctx, b []byte) (int, error) {
	return m.t.masterRead(ctx, [][]byte{b}, true)
}

// LeaderExited is called when session leader sid exits: the foreground
// group of its controlling terminal gets SIGHUP (a pty is not hung up, and
// on exit no SIGCONT follows), and the session loses the terminal.
// Linux: drivers/tty/tty_jobctrl.c (disassociate_ctty with on_exit)
func (r *Registry) LeaderExited(sid int) {
	r.mu.Lock()
	t := r.ctty[sid]
	if t == nil {
		r.mu.Unlock()
		return
	}
	delete(r.ctty, sid)
	t.mu.Lock()
	if t.fg > 0 {
		t.sigs = append(t.sigs, pendingSig{t.fg, abi.SIGHUP})
	}
	t.sid, t.fg = 0, 0
	r.mu.Unlock()
	t.unlockAndSignal()
}

// OpenPeer is TIOCGPTPEER on the master: its slave opened with flags
// (taken as the caller's controlling terminal unless O_NOCTTY, as an
// open of /dev/pts/N would be), without looking the name up.
// Linux: drivers/tty/pty.c (ptm_open_peer)
func (m *Master) OpenPeer(ctx vfs.Ctx, flags int) (vfs.FileOps, string, error) {
	r := m.t.reg
	r.mu.Lock()
	n := r.pts[m.t.index]
	r.mu.Unlock()
	if n == nil {
		return nil, "", unix.EIO
	}
	st, _ := n.Attr.Stat()
	ops, err := m.t.openSlave(ctx, flags, st)
	return ops, "/dev/pts/" + strconv.Itoa(m.t.index), err
}

// OpenPeer is TIOCGPTPEER on a slave: EIO, as the slave is not a master.
func (s *Slave) OpenPeer(vfs.Ctx, int) (vfs.FileOps, string, error) { return nil, "", unix.EIO }

// Controlling returns the device number and foreground group of session
// sid's controlling terminal (for /proc/PID/stat).
func (r *Registry) Controlling(sid int) (major, minor uint32, fg int, ok bool) {
	r.mu.Lock()
	t := r.ctty[sid]
	r.mu.Unlock()
	if t == nil {
		return 0, 0, 0, false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return ptsMajor, uint32(t.index), t.fg, true
}
