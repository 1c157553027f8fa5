package kernel

import (
	"reflect"

	"golang.org/x/sys/unix"
)

// kcmp types. Linux: include/uapi/linux/kcmp.h
const (
	kcmpFile = iota
	kcmpVM
	kcmpFiles
	kcmpFS
	kcmpSighand
	kcmpIO
	kcmpSysvsem
)

// Kcmp compares a resource of two processes: 0 when they share it, else
// 1 or 2 by an arbitrary but fixed order. Linux: kernel/kcmp.c
func (t *Task) Kcmp(pid1, pid2, typ int, idx1, idx2 uint64) (int, error) {
	t1, t2 := t.k.TaskByTID(pid1), t.k.TaskByTID(pid2)
	if pid1 <= 0 || pid2 <= 0 || t1 == nil || t2 == nil {
		return 0, unix.ESRCH
	}
	if !t.mayAccessMem(t1) || !t.mayAccessMem(t2) {
		return 0, unix.EPERM
	}
	var a, b any
	switch typ {
	case kcmpFile:
		f1, err1 := t1.tg.fds.Get(int(int32(idx1)))
		f2, err2 := t2.tg.fds.Get(int(int32(idx2)))
		if err1 == nil {
			defer f1.DecRef()
		}
		if err2 == nil {
			defer f2.DecRef()
		}
		if err1 != nil || err2 != nil || idx1 > 1<<31 || idx2 > 1<<31 {
			return 0, unix.EBADF
		}
		a, b = f1, f2
	case kcmpVM:
		a, b = t1.memShared(), t2.memShared()
	case kcmpFiles:
		a, b = t1.tg.fds, t2.tg.fds
	case kcmpFS:
		a, b = t1.tg.fsc, t2.tg.fsc
	case kcmpSighand:
		a, b = t1.tg.handlers(), t2.tg.handlers()
	case kcmpIO:
		return 0, nil // no I/O contexts: both are NULL
	case kcmpSysvsem:
		a, b = t1.tg.semUndo.current(), t2.tg.semUndo.current()
	default:
		return 0, unix.EINVAL // KCMP_EPOLL_TFD is not offered
	}
	pa, pb := reflect.ValueOf(a).Pointer(), reflect.ValueOf(b).Pointer()
	switch {
	case pa == pb:
		return 0, nil
	case pa < pb:
		return 1, nil
	}
	return 2, nil
}
