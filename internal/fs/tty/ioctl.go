package tty

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/vfs"
)

// Terminal ioctl numbers. Linux: include/uapi/asm-generic/ioctls.h
const (
	tcgets      = 0x5401
	tcsets      = 0x5402
	tcsetsw     = 0x5403
	tcsetsf     = 0x5404
	tcsbrk      = 0x5409
	tcxonc      = 0x540A
	tcflsh      = 0x540B
	tiocexcl    = 0x540C
	tiocnxcl    = 0x540D
	tiocsctty   = 0x540E
	tiocgpgrp   = 0x540F
	tiocspgrp   = 0x5410
	tiocoutq    = 0x5411
	tiocgwinsz  = 0x5413
	tiocswinsz  = 0x5414
	fionread    = 0x541B
	tiocnotty   = 0x5422
	tiocgetd    = 0x5424
	tiocsetd    = 0x5423
	tcsbrkp     = 0x5425
	tiocgsid    = 0x5429
	tiocgptn    = 0x80045430
	tiocsptlck  = 0x40045431
	tiocgdev    = 0x80045432
	tiocgptlck  = 0x80045439
	tiocvhangup = 0x5437
)

func putInt(mem vfs.Memory, addr uint64, v int) error {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(int32(v)))
	return mem.CopyOut(addr, b[:])
}

func getInt(mem vfs.Memory, addr uint64) (int, error) {
	var b [4]byte
	if err := mem.CopyIn(addr, b[:]); err != nil {
		return 0, err
	}
	return int(int32(binary.LittleEndian.Uint32(b[:]))), nil
}

// caller returns the caller's ids, or zeros without a kernel.
func caller(ctx vfs.Ctx) (s Sessions, pid, pgid, sid int) {
	if s = sessionsOf(ctx); s != nil {
		pid, pgid, sid = s.Caller(ctx)
	}
	return
}

// ioctl answers the terminal ioctls; on the master they act on the pair
// (its termios, window size and groups are the slave's).
// Linux: drivers/tty/tty_io.c (tty_ioctl), tty_ioctl.c (tty_mode_ioctl),
// n_tty.c (n_tty_ioctl), pty.c (pty_unix98_ioctl)
func (t *TTY) ioctl(ctx vfs.Ctx, mem vfs.Memory, cmd uint32, arg uint64, master bool) (uint64, error) {
	switch cmd {
	case tcgets:
		t.mu.Lock()
		b := t.termios.Bytes()
		t.mu.Unlock()
		return 0, mem.CopyOut(arg, b)
	case tcsets, tcsetsw, tcsetsf:
		b := make([]byte, 36)
		if err := mem.CopyIn(arg, b); err != nil {
			return 0, err
		}
		if !master {
			if err := t.jobCheck(ctx, abi.SIGTTOU, nil); err != nil {
				return 0, err
			}
		}
		t.mu.Lock()
		if cmd == tcsetsf {
			t.rq, t.eol, t.edit = nil, nil, nil
		}
		t.setTermiosLocked(parseTermios(b))
		t.unlockAndSignal()
		return 0, nil
	case tcxonc:
		// Flow control is accepted and not acted on; an unknown action
		// is EINVAL. Linux: drivers/tty/tty_ioctl.c (n_tty_ioctl_helper)
		if arg > unix.TCION {
			return 0, unix.EINVAL
		}
		return 0, nil
	case tcsbrk, tcsbrkp, tiocexcl, tiocnxcl:
		return 0, nil
	case tcflsh:
		t.mu.Lock()
		switch arg {
		case unix.TCIFLUSH:
			t.rq, t.eol, t.edit = nil, nil, nil
		case unix.TCOFLUSH:
			t.out = nil
		case unix.TCIOFLUSH:
			t.rq, t.eol, t.edit, t.out = nil, nil, nil, nil
		default:
			t.mu.Unlock()
			return 0, unix.EINVAL
		}
		t.unlockAndSignal()
		return 0, nil
	case tiocgwinsz:
		t.mu.Lock()
		w := t.win
		t.mu.Unlock()
		return 0, mem.CopyOut(arg, w.bytes())
	case tiocswinsz:
		b := make([]byte, 8)
		if err := mem.CopyIn(arg, b); err != nil {
			return 0, err
		}
		w := parseWinsize(b)
		t.mu.Lock()
		if w != t.win {
			t.win = w
			if t.fg > 0 {
				t.sigs = append(t.sigs, pendingSig{t.fg, abi.SIGWINCH})
			}
		}
		t.unlockAndSignal()
		return 0, nil
	case fionread:
		t.mu.Lock()
		n := t.readableLocked()
		if master {
			n = len(t.out)
		}
		t.mu.Unlock()
		return 0, putInt(mem, arg, n)
	case tiocoutq:
		t.mu.Lock()
		n := len(t.out)
		if master {
			n = 0
		}
		t.mu.Unlock()
		return 0, putInt(mem, arg, n)
	case tiocgetd:
		return 0, putInt(mem, arg, 0) // N_TTY
	case tiocsetd:
		if d, err := getInt(mem, arg); err != nil || d != 0 {
			return 0, unix.EINVAL
		}
		return 0, nil
	case tiocgpgrp, tiocgsid:
		return 0, t.getGroup(ctx, mem, cmd, arg, master)
	case tiocspgrp:
		return 0, t.setPgrp(ctx, mem, arg, master)
	case tiocsctty:
		return 0, t.setCtty(ctx, arg)
	case tiocnotty:
		return 0, t.noCtty(ctx, master)
	case tiocvhangup:
		return 0, unix.EPERM
	}
	if !master {
		return 0, unix.ENOTTY
	}
	switch cmd {
	case tiocgptn:
		return 0, putInt(mem, arg, t.index)
	case tiocsptlck:
		v, err := getInt(mem, arg)
		if err != nil {
			return 0, err
		}
		t.mu.Lock()
		t.locked = v != 0
		t.mu.Unlock()
		return 0, nil
	case tiocgptlck:
		t.mu.Lock()
		v := 0
		if t.locked {
			v = 1
		}
		t.mu.Unlock()
		return 0, putInt(mem, arg, v)
	}
	return 0, unix.ENOTTY
}

// getGroup answers TIOCGPGRP and TIOCGSID: on the slave only for the
// caller's controlling terminal. Linux: tty_jobctrl.c (tiocgpgrp, tiocgsid)
func (t *TTY) getGroup(ctx vfs.Ctx, mem vfs.Memory, cmd uint32, arg uint64, master bool) error {
	_, _, _, sid := caller(ctx)
	t.mu.Lock()
	tsid, fg := t.sid, t.fg
	t.mu.Unlock()
	if !master && (tsid == 0 || tsid != sid) {
		return unix.ENOTTY
	}
	if cmd == tiocgsid {
		if tsid == 0 {
			return unix.ENOTTY
		}
		return putInt(mem, arg, tsid)
	}
	return putInt(mem, arg, fg)
}

// setPgrp is TIOCSPGRP (tcsetpgrp): the group must be in the terminal's
// session, which must be the caller's. Linux: tty_jobctrl.c (tiocspgrp)
func (t *TTY) setPgrp(ctx vfs.Ctx, mem vfs.Memory, arg uint64, master bool) error {
	if !master {
		if err := t.jobCheck(ctx, abi.SIGTTOU, nil); err != nil {
			return err
		}
	}
	pg, err := getInt(mem, arg)
	if err != nil {
		return err
	}
	s, _, _, sid := caller(ctx)
	t.mu.Lock()
	tsid := t.sid
	t.mu.Unlock()
	if tsid == 0 || tsid != sid {
		return unix.ENOTTY
	}
	if pg < 0 {
		return unix.EINVAL
	}
	if s != nil && !s.GroupInSession(pg, sid) {
		return unix.EPERM
	}
	t.mu.Lock()
	t.fg = pg
	t.mu.Unlock()
	return nil
}

// setCtty is TIOCSCTTY: a session leader without a controlling terminal
// takes this one (stealing it from another session only as root with
// arg 1). Linux: tty_jobctrl.c (tiocsctty)
func (t *TTY) setCtty(ctx vfs.Ctx, arg uint64) error {
	s, pid, pgid, sid := caller(ctx)
	if s == nil {
		return unix.EPERM
	}
	r := t.reg
	r.mu.Lock()
	defer r.mu.Unlock()
	t.mu.Lock()
	defer t.mu.Unlock()
	if cur := r.ctty[sid]; cur == t && pid == sid {
		return nil
	}
	if pid != sid || r.ctty[sid] != nil {
		return unix.EPERM
	}
	if t.sid != 0 {
		if arg != 1 || ctx.Creds().EUID != 0 {
			return unix.EPERM
		}
		delete(r.ctty, t.sid)
	}
	t.sid, t.fg = sid, pgid
	r.ctty[sid] = t
	return nil
}

// noCtty is TIOCNOTTY: a session leader gives up its controlling
// terminal (SIGHUP and SIGCONT to the foreground group); for others it
// only checks. Linux: tty_jobctrl.c (no_tty, disassociate_ctty)
func (t *TTY) noCtty(ctx vfs.Ctx, master bool) error {
	_, pid, _, sid := caller(ctx)
	r := t.reg
	r.mu.Lock()
	t.mu.Lock()
	if master || t.sid == 0 || t.sid != sid {
		t.mu.Unlock()
		r.mu.Unlock()
		return unix.ENOTTY
	}
	if pid == sid {
		if t.fg > 0 {
			t.sigs = append(t.sigs, pendingSig{t.fg, abi.SIGHUP}, pendingSig{t.fg, abi.SIGCONT})
		}
		delete(r.ctty, sid)
		t.sid, t.fg = 0, 0
	}
	r.mu.Unlock()
	t.unlockAndSignal()
	return nil
}
