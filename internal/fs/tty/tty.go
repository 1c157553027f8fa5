package tty

import (
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/vfs"
)

// Sessions is what a terminal needs from the kernel: who is calling and
// how to signal process groups. The caller's vfs.Ctx provides it through
// a TTYSessions method (the kernel's task does).
type Sessions interface {
	// Caller returns the calling process's pid, process group and session.
	Caller(ctx vfs.Ctx) (pid, pgid, sid int)
	// SignalGroup sends sig to every process in group pgid.
	SignalGroup(pgid, sig int)
	// SignalProcess sends sig to process pid.
	SignalProcess(pid, sig int)
	// GroupInSession reports whether group pgid has a process in session sid.
	GroupInSession(pgid, sid int) bool
	// JobSignal is called when a background process touches its terminal:
	// unless the caller ignores or blocks sig, or its group is orphaned,
	// it sends sig to the caller's group and reports true.
	// Linux: drivers/tty/tty_jobctrl.c (__tty_check_change)
	JobSignal(ctx vfs.Ctx, sig int) bool
}

// sessionsOf returns the Sessions behind ctx, or nil.
func sessionsOf(ctx vfs.Ctx) Sessions {
	if s, ok := ctx.(interface{ TTYSessions() Sessions }); ok {
		return s.TTYSessions()
	}
	return nil
}

type pendingSig struct{ pgid, sig int }

// TTY is one pseudo-terminal pair. Linux: drivers/tty/pty.c
type TTY struct {
	reg   *Registry
	index int
	sess  Sessions // of the process that opened the master
	uid   uint32

	mu        sync.Mutex
	termios   Termios
	win       Winsize
	locked    bool // TIOCSPTLCK: slave opens fail with EIO
	masters   int  // open master files
	slaves    int  // open slave files
	slaveEver bool
	hungup    bool // the master is gone
	rq        []byte
	eol       []int  // canonical line ends in rq
	edit      []byte // canonical line being edited
	lnext     bool
	stopped   bool // ^S
	out       []byte
	col       int
	fg, sid   int // foreground process group and session (0: none)
	sigs      []pendingSig
	changes   vfs.Changes
}

// Index is the pty number N of /dev/pts/N.
func (t *TTY) Index() int { return t.index }

func (t *TTY) changedLocked() <-chan struct{} {
	return t.changes.Chan()
}

func (t *TTY) notifyLocked() {
	t.changes.Notify()
}

// unlockAndSignal releases t.mu, wakes waiters and sends the signals the
// line discipline raised.
func (t *TTY) unlockAndSignal() {
	t.notifyLocked()
	sigs := t.sigs
	t.sigs = nil
	t.mu.Unlock()
	if t.sess == nil {
		return
	}
	for _, s := range sigs {
		if s.pgid < 0 {
			t.sess.SignalProcess(-s.pgid, s.sig)
		} else {
			t.sess.SignalGroup(s.pgid, s.sig)
		}
	}
}

// wait sleeps until ch closes, the deadline passes or ctx is interrupted.
func wait(ctx vfs.Ctx, ch <-chan struct{}, deadline time.Time) error {
	return vfs.WaitAny(ctx, []<-chan struct{}{ch}, deadline)
}

// masterRead returns the slave's output. EIO once every slave is closed
// and the output is drained. Linux: drivers/tty/n_tty.c (n_tty_read on
// the master, TTY_OTHER_CLOSED)
func (t *TTY) masterRead(ctx vfs.Ctx, dst [][]byte, nonblock bool) (int, error) {
	if total(dst) == 0 {
		return 0, nil
	}
	t.mu.Lock()
	for len(t.out) == 0 {
		if t.slaveEver && t.slaves == 0 {
			t.mu.Unlock()
			return 0, unix.EIO
		}
		if nonblock {
			t.mu.Unlock()
			return 0, unix.EAGAIN
		}
		ch := t.changedLocked()
		t.mu.Unlock()
		if err := wait(ctx, ch, time.Time{}); err != nil {
			return 0, err
		}
		t.mu.Lock()
	}
	n := 0
	for _, b := range dst {
		m := copy(b, t.out[n:])
		n += m
		if m < len(b) {
			break
		}
	}
	t.out = t.out[n:]
	if len(t.out) == 0 {
		t.out = nil
	}
	t.unlockAndSignal()
	return n, nil
}

// masterWrite feeds the slave's input through the line discipline.
func (t *TTY) masterWrite(ctx vfs.Ctx, src [][]byte, nonblock bool) (int, error) {
	done := 0
	t.mu.Lock()
	for _, b := range src {
		for len(b) > 0 {
			if t.receiveLocked(b[0]) {
				b = b[1:]
				done++
				continue
			}
			if stop, n, err := t.blockLocked(ctx, nonblock, done); stop {
				return n, err
			}
		}
	}
	t.unlockAndSignal()
	return done, nil
}

// background reports whether the caller is in a background group of the
// session this terminal controls.
func (t *TTY) background(ctx vfs.Ctx) bool {
	s := sessionsOf(ctx)
	if s == nil {
		return false
	}
	_, pgid, sid := s.Caller(ctx)
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.sid != 0 && sid == t.sid && t.fg != 0 && pgid != t.fg
}

// jobCheck applies job control to a background caller: ERESTARTSYS after
// sending sig to its group, or failErr when it can't be stopped.
// Linux: drivers/tty/tty_jobctrl.c (__tty_check_change)
func (t *TTY) jobCheck(ctx vfs.Ctx, sig int, failErr error) error {
	if !t.background(ctx) {
		return nil
	}
	if sessionsOf(ctx).JobSignal(ctx, sig) {
		return abi.ERESTARTSYS
	}
	return failErr
}

// slaveRead reads input: a line in canonical mode, else by VMIN/VTIME.
// Linux: drivers/tty/n_tty.c (n_tty_read)
func (t *TTY) slaveRead(ctx vfs.Ctx, dst [][]byte, nonblock bool) (int, error) {
	if err := t.jobCheck(ctx, abi.SIGTTIN, unix.EIO); err != nil {
		return 0, err
	}
	want := total(dst)
	if want == 0 {
		return 0, nil
	}
	t.mu.Lock()
	if t.hungup {
		// A read begun after the hangup: end of file.
		// Linux: tty_io.c (hung_up_tty_read)
		t.mu.Unlock()
		return 0, nil
	}
	var deadline time.Time
	for {
		if t.hungup {
			// The master went away while this read waited.
			// Linux: n_tty.c (n_tty_read: TTY_OTHER_CLOSED)
			t.mu.Unlock()
			return 0, unix.EIO
		}
		canon := t.lflag(lICANON)
		vmin, vtime := int(t.termios.Cc[vMIN]), int(t.termios.Cc[vTIME])
		have := len(t.rq)
		ready := false
		switch {
		case canon:
			ready = len(t.eol) > 0
		case vmin == 0 && vtime == 0:
			ready = true
		case vmin == 0:
			ready = have > 0
			if deadline.IsZero() {
				deadline = time.Now().Add(time.Duration(vtime) * 100 * time.Millisecond)
			}
		default:
			ready = have >= min(vmin, want)
			if vtime > 0 && have > 0 && deadline.IsZero() {
				deadline = time.Now().Add(time.Duration(vtime) * 100 * time.Millisecond)
			}
		}
		if nonblock && (canon && len(t.eol) == 0 || !canon && have == 0) {
			t.mu.Unlock()
			return 0, unix.EAGAIN
		}
		if ready || nonblock {
			n := t.takeLocked(dst)
			t.unlockAndSignal()
			return n, nil
		}
		ch := t.changedLocked()
		t.mu.Unlock()
		err := wait(ctx, ch, deadline)
		t.mu.Lock()
		switch err {
		case nil:
			if vmin > 0 && vtime > 0 && len(t.rq) > have {
				deadline = time.Now().Add(time.Duration(vtime) * 100 * time.Millisecond)
			}
		case unix.ETIMEDOUT:
			n := 0
			if !t.lflag(lICANON) {
				n = t.takeLocked(dst)
			}
			t.unlockAndSignal()
			return n, nil
		default:
			t.mu.Unlock()
			return 0, err
		}
	}
}

// slaveWrite sends output (after OPOST processing) to the master.
// Linux: drivers/tty/n_tty.c (n_tty_write)
func (t *TTY) slaveWrite(ctx vfs.Ctx, src [][]byte, nonblock bool) (int, error) {
	t.mu.Lock()
	tostop := t.lflag(lTOSTOP)
	t.mu.Unlock()
	if tostop {
		if err := t.jobCheck(ctx, abi.SIGTTOU, nil); err != nil {
			return 0, err
		}
	}
	done := 0
	t.mu.Lock()
	for _, b := range src {
		for len(b) > 0 {
			if t.hungup {
				t.unlockAndSignal()
				if done > 0 {
					return done, nil
				}
				return 0, unix.EIO
			}
			if len(t.out) < outLimit && !t.stopped {
				m := min(len(b), outLimit-len(t.out))
				t.outputLocked(b[:m], false)
				b = b[m:]
				done += m
				continue
			}
			if stop, n, err := t.blockLocked(ctx, nonblock, done); stop {
				return n, err
			}
		}
	}
	t.unlockAndSignal()
	return done, nil
}

// masterEvents and slaveEvents are the poll events now.
// Linux: drivers/tty/n_tty.c (n_tty_poll), tty_io.c (hung_up_tty_poll)
func (t *TTY) masterEvents() uint32 {
	var ev uint32
	if len(t.out) > 0 {
		ev |= unix.POLLIN | pollRdnorm
	}
	if t.slaveEver && t.slaves == 0 {
		ev |= unix.POLLHUP
	}
	if t.lflag(lICANON) || len(t.rq) < bufSize {
		ev |= unix.POLLOUT | pollWrnorm
	}
	return ev
}

func (t *TTY) slaveEvents() uint32 {
	if t.hungup {
		return unix.POLLIN | unix.POLLOUT | unix.POLLERR | unix.POLLHUP | pollRdnorm | pollWrnorm
	}
	var ev uint32
	if t.lflag(lICANON) {
		if len(t.eol) > 0 {
			ev |= unix.POLLIN | pollRdnorm
		}
	} else if len(t.rq) >= max(1, int(t.termios.Cc[vMIN])) {
		ev |= unix.POLLIN | pollRdnorm
	}
	if len(t.out) < outLimit && !t.stopped {
		ev |= unix.POLLOUT | pollWrnorm
	}
	return ev
}

const (
	pollRdnorm = 0x040
	pollWrnorm = 0x100
)

func total(bufs [][]byte) int {
	n := 0
	for _, b := range bufs {
		n += len(b)
	}
	return n
}

// fileBase is what master and slave files share: the status flags of
// their open file (O_NONBLOCK) and a once-only release.
type fileBase struct {
	t        *TTY
	file     atomic.Pointer[vfs.File]
	released atomic.Bool
}

// SetFile lets the ops read O_NONBLOCK from their open file.
func (f *fileBase) SetFile(file *vfs.File) { f.file.Store(file) }

func (f *fileBase) nonblock() bool {
	if file := f.file.Load(); file != nil {
		return file.Flags()&unix.O_NONBLOCK != 0
	}
	return false
}

// IsStream implements vfs.Stream.
func (*fileBase) IsStream() {}

// TTY returns the terminal the file belongs to.
func (f *fileBase) TTY() *TTY { return f.t }

// blockLocked waits for a change of t while a transfer of which done bytes
// have moved can't go on. t.mu is held on entry and, when it returns
// false, again on return; it returns true with t.mu released and the
// transfer's result when the caller must stop (non-blocking, interrupted).
func (t *TTY) blockLocked(ctx vfs.Ctx, nonblock bool, done int) (bool, int, error) {
	if nonblock {
		t.unlockAndSignal()
		if done == 0 {
			return true, 0, unix.EAGAIN
		}
		return true, done, nil
	}
	ch := t.changedLocked()
	t.unlockAndSignal()
	if err := wait(ctx, ch, time.Time{}); err != nil {
		if done > 0 {
			return true, done, nil
		}
		return true, 0, err
	}
	t.mu.Lock()
	return false, 0, nil
}
