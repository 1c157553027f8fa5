package kernel

import (
	"glassbox/internal/abi"
	"glassbox/internal/fs/tty"
	"glassbox/internal/vfs"
)

// Terminal hooks: the tty package reaches process groups, sessions and
// signals through tty.Sessions, which a task provides as the vfs.Ctx of
// its file operations. Linux: drivers/tty/tty_jobctrl.c

// ttySessions implements tty.Sessions for one kernel.
type ttySessions struct{ k *Kernel }

// TTYSessions gives terminals their view of the kernel.
func (t *Task) TTYSessions() tty.Sessions { return ttySessions{t.k} }

var _ tty.Sessions = ttySessions{}

// Caller implements tty.Sessions.
func (s ttySessions) Caller(ctx vfs.Ctx) (pid, pgid, sid int) {
	t, ok := ctx.(*Task)
	if !ok {
		return 0, 0, 0
	}
	return t.tg.pid, t.tg.Pgid(), t.tg.Sid()
}

// SignalGroup implements tty.Sessions: sig to every process in pgid.
func (s ttySessions) SignalGroup(pgid, sig int) {
	if pgid <= 0 {
		return
	}
	info := SigInfo{Signo: int32(sig), Code: abi.SI_KERNEL}
	for _, pid := range s.k.PIDs() {
		if tg := s.k.ThreadGroupByPID(pid); tg != nil && tg.Pgid() == pgid {
			tg.SignalInfo(info)
		}
	}
}

// SignalProcess implements tty.Sessions.
func (s ttySessions) SignalProcess(pid, sig int) {
	if tg := s.k.ThreadGroupByPID(pid); tg != nil {
		tg.SignalInfo(SigInfo{Signo: int32(sig), Code: abi.SI_KERNEL})
	}
}

// GroupInSession implements tty.Sessions.
func (s ttySessions) GroupInSession(pgid, sid int) bool {
	for _, pid := range s.k.PIDs() {
		if tg := s.k.ThreadGroupByPID(pid); tg != nil && tg.Pgid() == pgid && tg.Sid() == sid {
			return true
		}
	}
	return false
}

// JobSignal implements tty.Sessions: a background process touching its
// terminal gets sig in its whole group, unless it ignores or blocks sig
// or its group is orphaned. Linux: tty_jobctrl.c (__tty_check_change)
func (s ttySessions) JobSignal(ctx vfs.Ctx, sig int) bool {
	t, ok := ctx.(*Task)
	if !ok {
		return false
	}
	if t.SigMask().Has(sig) || t.tg.ignores(sig) {
		return false
	}
	pgid := t.tg.Pgid()
	if s.orphaned(pgid) {
		return false
	}
	s.SignalGroup(pgid, sig)
	return true
}

// orphaned reports whether no member of group pgid has a parent in
// another group of the same session. Linux: kernel/exit.c
// (will_become_orphaned_pgrp)
func (s ttySessions) orphaned(pgid int) bool {
	for _, pid := range s.k.PIDs() {
		tg := s.k.ThreadGroupByPID(pid)
		if tg == nil || tg.Pgid() != pgid {
			continue
		}
		if p := s.k.ThreadGroupByPID(tg.PPID()); p != nil && p.Pgid() != pgid && p.Sid() == tg.Sid() {
			return false
		}
	}
	return true
}
