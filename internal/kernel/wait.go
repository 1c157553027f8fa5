package kernel

import (
	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
)

// WaitFor selects children in wait4/waitid.
type WaitFor struct {
	// What to report: exits (wait4 always; waitid WEXITED), stops
	// (WUNTRACED/WSTOPPED), continues (WCONTINUED).
	Exited, Stopped, Continued bool

	PID   int  // > 0: that child
	PGID  int  // > 0: children in that process group
	Any   bool // any child
	All   bool // __WALL: clone children too
	Clone bool // __WCLONE: only clone children (exit signal other than SIGCHLD)
}

// WaitResult is a collected child.
type WaitResult struct {
	PID    int
	UID    uint32
	Status ExitStatus // when Kind is WaitExited
	Kind   int        // WaitExited, WaitStopped, WaitContinued or WaitTrapped
	Signal int        // the stop signal (WaitStopped)
	Code   uint32     // a ptrace-stop's exit code (WaitTrapped)
	Usage  Usage      // the reaped child's resource usage (WaitExited)
}

// Kinds of WaitResult.
const (
	WaitExited = iota
	WaitStopped
	WaitContinued
	// WaitTrapped: a tracee's ptrace-stop, for its tracer.
	WaitTrapped
)

// Encode gives the wait4 status word. Linux: include/uapi/linux/wait.h
func (r WaitResult) Encode() uint32 {
	switch r.Kind {
	case WaitStopped:
		return uint32(r.Signal)<<8 | 0x7f
	case WaitContinued:
		return 0xffff
	case WaitTrapped:
		return r.Code<<8 | 0x7f
	}
	return r.Status.WaitStatus()
}

func (w *WaitFor) match(c *ThreadGroup) bool {
	if !w.All && (c.exitSignal != abi.SIGCHLD) != w.Clone {
		return false
	}
	switch {
	case w.PID > 0:
		return c.pid == w.PID
	case w.PGID > 0:
		return c.Pgid() == w.PGID
	}
	return w.Any
}

// Wait collects an exited child matching w. With noHang it returns a zero
// result when children exist but none has exited; noReap leaves the
// zombie in place (WNOWAIT). ECHILD when nothing matches.
// Linux: kernel/exit.c (do_wait)
func (t *Task) Wait(w WaitFor, noHang, noReap bool) (WaitResult, error) {
	k := t.k
	tg := t.tg
	for {
		k.mu.Lock()
		res, held, ok, found := tg.ptraceWaitLocked(&w, noReap)
		if ok {
			k.mu.Unlock()
			held.ptraceRelease()
			return res, nil
		}
		for _, c := range tg.children {
			if !w.match(c) {
				continue
			}
			found = true
			if w.Stopped && c.job.stopped && c.job.stopReport && !c.zombie {
				if !noReap {
					c.job.stopReport = false
				}
				k.mu.Unlock()
				return WaitResult{PID: c.pid, Kind: WaitStopped, Signal: c.job.stopSig}, nil
			}
			if w.Continued && c.job.contReport && !c.zombie {
				if !noReap {
					c.job.contReport = false
				}
				k.mu.Unlock()
				return WaitResult{PID: c.pid, Kind: WaitContinued}, nil
			}
			if !w.Exited || !c.zombie || c.reaped || c.ptraceHeld {
				continue
			}
			if !noReap {
				c.reaped = true
				c.notifyPidfdLocked()
				tg.removeChildLocked(c)
				tg.addChildUsage(c)
			}
			c.mu.Lock()
			res := WaitResult{PID: c.pid, Status: c.status}
			c.mu.Unlock()
			res.Usage = c.reapedUsage()
			k.mu.Unlock()
			return res, nil
		}
		ch := tg.childEvent
		k.mu.Unlock()
		if !found {
			return WaitResult{}, unix.ECHILD
		}
		if noHang {
			return WaitResult{}, nil
		}
		select {
		case <-ch:
		case <-t.intr:
			if t.Interrupted() {
				return WaitResult{}, abi.ERESTARTSYS
			}
		}
	}
}
