package vfs

import (
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// File locks: POSIX record locks (owned by a process, released when it
// closes any descriptor of the file or exits), open-file-description
// locks (F_OFD_*, owned by the description) and flock locks (whole file,
// owned by the description). Linux: fs/locks.c
//
// One table serves every file system; files are named by (dev, ino).
// Lock order: locks.mu is a leaf.

// Lock is one held or requested lock. End is exclusive; -1 means to the
// end of the file and beyond.
type Lock struct {
	Start, End int64
	Write      bool
	PID        int // for F_GETLK (0 for OFD locks, -1 for flock as Linux reports)
	owner      any // a process (int pid) or an open file description (*File)
	flock      bool
}

type fileKey struct{ dev, ino uint64 }

type lockTable struct {
	mu      sync.Mutex
	locks   map[fileKey][]Lock
	changes Changes
	// waiting is what each process blocked in F_SETLKW asks for, for
	// deadlock detection.
	waiting map[int]lockWait
}

type lockWait struct {
	k fileKey
	l Lock
}

var locks = &lockTable{locks: map[fileKey][]Lock{}, waiting: map[int]lockWait{}}

// maxDeadlockSteps bounds the walk along waiting processes.
// Linux: fs/locks.c (MAX_DEADLK_ITERATIONS)
const maxDeadlockSteps = 10

// deadlockLocked reports whether process me waiting for a lock that
// blocker's owner holds would close a cycle of processes waiting for
// each other's POSIX locks. Linux: fs/locks.c (posix_locks_deadlock)
func (lt *lockTable) deadlockLocked(me int, blocker Lock) bool {
	for i := 0; i < maxDeadlockSteps; i++ {
		pid, ok := blocker.owner.(int)
		if !ok || blocker.flock {
			return false
		}
		if pid == me {
			return true
		}
		w, waits := lt.waiting[pid]
		if !waits {
			return false
		}
		if blocker, ok = lt.conflict(w.k, w.l); !ok {
			return false
		}
	}
	return false
}

func keyOf(f *File) (fileKey, error) {
	st, err := f.ops.Stat(nil)
	if err != nil {
		return fileKey{}, err
	}
	return fileKey{st.Dev, st.Ino}, nil
}

func overlaps(a, b Lock) bool {
	aEnd, bEnd := a.End, b.End
	return (bEnd < 0 || a.Start < bEnd) && (aEnd < 0 || b.Start < aEnd)
}

// conflict returns a lock of another owner that blocks l.
func (lt *lockTable) conflict(k fileKey, l Lock) (Lock, bool) {
	for _, o := range lt.locks[k] {
		if o.owner == l.owner || o.flock != l.flock || !overlaps(o, l) {
			continue
		}
		if o.Write || l.Write {
			return o, true
		}
	}
	return Lock{}, false
}

// TestLock is F_GETLK: the first lock that would block l, if any.
func TestLock(f *File, l Lock, owner any) (Lock, bool, error) {
	k, err := keyOf(f)
	if err != nil {
		return Lock{}, false, err
	}
	l.owner = owner
	locks.mu.Lock()
	defer locks.mu.Unlock()
	o, found := locks.conflict(k, l)
	return o, found, nil
}

// SetLock takes l for owner (F_SETLK, F_SETLKW, flock), waiting if wait is
// set (interruptibly: EINTR), else failing with EAGAIN. An unlock is a
// lock with unlock set.
func SetLock(ctx Ctx, f *File, l Lock, owner any, unlock, wait bool) error {
	k, err := keyOf(f)
	if err != nil {
		return err
	}
	l.owner = owner
	if owner == any(f) {
		f.lockedOFD.Store(true)
	}
	if wait && !l.flock {
		defer doneWaiting(owner)
	}
	for {
		locks.mu.Lock()
		if unlock {
			locks.removeLocked(k, l)
			locks.mu.Unlock()
			return nil
		}
		if _, found := locks.conflict(k, l); !found {
			locks.removeLocked(k, l) // replace (or split) the owner's own locks on the range
			locks.locks[k] = append(locks.locks[k], l)
			locks.mu.Unlock()
			return nil
		}
		ch := locks.changes.Chan()
		if !wait {
			locks.mu.Unlock()
			if l.flock {
				return unix.EWOULDBLOCK
			}
			return unix.EAGAIN
		}
		pid, posix := owner.(int)
		if posix && !l.flock {
			if o, _ := locks.conflict(k, l); locks.deadlockLocked(pid, o) {
				locks.mu.Unlock()
				return unix.EDEADLK
			}
			locks.waiting[pid] = lockWait{k, l}
		}
		locks.mu.Unlock()
		if err := WaitAny(ctx, []<-chan struct{}{ch}, time.Time{}); err != nil {
			return err
		}
	}
}

// doneWaiting forgets what owner waited for (SetLock's return).
func doneWaiting(owner any) {
	if pid, ok := owner.(int); ok {
		locks.mu.Lock()
		delete(locks.waiting, pid)
		locks.mu.Unlock()
	}
}

// removeLocked drops the owner's locks in l's range, splitting those that
// stick out of it, and wakes waiters.
func (lt *lockTable) removeLocked(k fileKey, l Lock) {
	var keep []Lock
	for _, o := range lt.locks[k] {
		if o.owner != l.owner || o.flock != l.flock || !overlaps(o, l) {
			keep = append(keep, o)
			continue
		}
		if o.Start < l.Start {
			left := o
			left.End = l.Start
			keep = append(keep, left)
		}
		if l.End >= 0 && (o.End < 0 || o.End > l.End) {
			right := o
			right.Start = l.End
			keep = append(keep, right)
		}
	}
	if len(keep) == 0 {
		delete(lt.locks, k)
	} else {
		lt.locks[k] = keep
	}
	lt.changes.Notify()
}

// ReleasePOSIX drops every POSIX lock process pid holds on f's file (a
// close of any descriptor of it, or exit).
func ReleasePOSIX(f *File, pid int) {
	k, err := keyOf(f)
	if err != nil {
		return
	}
	locks.mu.Lock()
	defer locks.mu.Unlock()
	if _, ok := locks.locks[k]; ok {
		locks.removeLocked(k, Lock{Start: 0, End: -1, owner: pid})
	}
}

// releaseOFD drops the locks an open file description owns (its last
// reference is gone).
func releaseOFD(f *File) {
	k, err := keyOf(f)
	if err != nil {
		return
	}
	locks.mu.Lock()
	defer locks.mu.Unlock()
	if _, ok := locks.locks[k]; ok {
		locks.removeLocked(k, Lock{Start: 0, End: -1, owner: f})
		locks.removeLocked(k, Lock{Start: 0, End: -1, owner: f, flock: true})
	}
}

// SetFlock is flock(2) on f's description.
func SetFlock(ctx Ctx, f *File, l Lock, unlock, wait bool) error {
	l.flock = true
	return SetLock(ctx, f, l, f, unlock, wait)
}
