package ipc

import (
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/internal/vfs"
)

// Semaphore limits (a new IPC namespace's kernel.sem) and flags.
// Linux: include/uapi/linux/sem.h
const (
	SemMsl = 32000           // most semaphores in a set
	SemMns = SemMsl * SemMni // most semaphores in all
	SemOpm = 500             // most operations per semop
	SemMni = 32000           // most sets
	SemVmx = 32767           // largest value
	SemAem = SemVmx          // largest undo adjustment

	SemUndo = 0x1000
)

// SemBuf is one struct sembuf.
type SemBuf struct {
	Num uint16
	Op  int16
	Flg int16
}

type semaphore struct {
	val   int
	pid   int32
	otime int64
}

// semWaiter is a semop waiting for its operations to be possible. Whoever
// changes the set performs them for it (atomically, under semNS.mu) and
// closes done; IPC_RMID ends it with EIDRM.
type semWaiter struct {
	ops      []SemBuf
	undo     *UndoList
	pid      int32
	blocking int // the operation that blocked, for GETNCNT and GETZCNT
	err      error
	done     chan struct{}
}

// SemSet is one semaphore set; its fields are guarded by semNS.mu.
type SemSet struct {
	perm
	sems    []semaphore
	ctime   int64
	pending []*semWaiter
	undos   map[*UndoList]bool // lists holding adjustments for this set
}

// UndoList is a process's SEM_UNDO adjustments (shared by CLONE_SYSVSEM),
// applied when the process exits. Guarded by semNS.mu.
// Linux: ipc/sem.c (struct sem_undo_list)
type UndoList struct {
	adj map[*SemSet][]int
}

// NewUndoList returns an empty list.
func NewUndoList() *UndoList { return &UndoList{adj: map[*SemSet][]int{}} }

type semNS struct {
	mu   sync.Mutex
	ids  idSet[*SemSet]
	used int // semaphores in all sets
}

// SemGet implements semget. Linux: ipc/sem.c (ksys_semget, newary, sem_more_checks)
func (ns *Namespace) SemGet(c *vfs.Creds, key int32, nsems, flag int) (int, error) {
	if nsems < 0 || nsems > SemMsl {
		return 0, unix.EINVAL
	}
	s := &ns.sem
	s.mu.Lock()
	defer s.mu.Unlock()
	more := func(o *SemSet) error {
		if nsems > len(o.sems) {
			return unix.EINVAL
		}
		return nil
	}
	return s.ids.get(c, key, flag, more, func() (*SemSet, error) {
		if nsems == 0 {
			return nil, unix.EINVAL
		}
		if s.used+nsems > SemMns || len(s.ids.objs) >= SemMni {
			return nil, unix.ENOSPC
		}
		s.used += nsems
		return &SemSet{sems: make([]semaphore, nsems), ctime: now(), undos: map[*UndoList]bool{}}, nil
	})
}

// try is perform_atomic_semop: apply ops in order to a copy of the
// values; on success commit them (and the undo adjustments). It returns
// blocked with the index of the operation that would wait, or an error
// (ERANGE, or EAGAIN when that operation has IPC_NOWAIT).
// Linux: ipc/sem.c (perform_atomic_semop_slow)
func (set *SemSet) try(ops []SemBuf, undo *UndoList, pid int32) (blocked bool, at int, err error) {
	vals := make([]int, len(set.sems))
	for i := range set.sems {
		vals[i] = set.sems[i].val
	}
	var adj []int
	if undo != nil {
		adj = undo.adj[set]
	}
	for i, op := range ops {
		cur := vals[op.Num]
		r := cur + int(op.Op)
		if op.Op == 0 && cur != 0 || r < 0 {
			if op.Flg&IPCNoWait != 0 {
				return false, i, unix.EAGAIN
			}
			return true, i, nil
		}
		if r > SemVmx {
			return false, i, unix.ERANGE
		}
		if op.Flg&SemUndo != 0 && adj != nil {
			u := adj[op.Num] - int(op.Op)
			if u < -SemAem-1 || u > SemAem {
				return false, i, unix.ERANGE
			}
		}
		vals[op.Num] = r
	}
	for _, op := range ops {
		if op.Flg&SemUndo != 0 && adj != nil {
			adj[op.Num] -= int(op.Op)
		}
		set.sems[op.Num].pid = pid
	}
	for i := range set.sems {
		set.sems[i].val = vals[i]
	}
	set.sems[ops[0].Num].otime = now()
	return false, 0, nil
}

func alters(ops []SemBuf) bool {
	for _, op := range ops {
		if op.Op != 0 {
			return true
		}
	}
	return false
}

// update retries the waiting operations after a change, in order, until
// none can proceed. Linux: ipc/sem.c (do_smart_update, update_queue)
func (set *SemSet) update() {
	for progressed := true; progressed; {
		progressed = false
		for i, w := range set.pending {
			blocked, at, err := set.try(w.ops, w.undo, w.pid)
			if blocked {
				w.blocking = at
				continue
			}
			set.pending = append(set.pending[:i:i], set.pending[i+1:]...)
			w.err = err
			close(w.done)
			progressed = true
			break
		}
	}
}

// SemOp implements semop and semtimedop after the caller read the
// operations and the timeout (deadline zero: none). A wait ends with EINTR
// at a signal (never restarted) and EAGAIN at the timeout.
// Linux: ipc/sem.c (do_semtimedop)
func (ns *Namespace) SemOp(ctx vfs.Ctx, pid, id int, ops []SemBuf, deadline time.Time, undoOf func() *UndoList) error {
	maxNum, undo, alter := 0, false, false
	for _, op := range ops {
		maxNum = max(maxNum, int(op.Num))
		undo = undo || op.Flg&SemUndo != 0
		alter = alter || op.Op != 0
	}
	var ul *UndoList
	if undo {
		ul = undoOf()
	}
	s := &ns.sem
	s.mu.Lock()
	defer s.mu.Unlock()
	set, ok := s.ids.lookup(id)
	if !ok {
		return unix.EINVAL
	}
	if maxNum >= len(set.sems) {
		return unix.EFBIG
	}
	acc := 0o444
	if alter {
		acc = 0o222
	}
	if !set.permitted(ctx.Creds(), acc) {
		return unix.EACCES
	}
	if ul != nil && ul.adj[set] == nil {
		ul.adj[set] = make([]int, len(set.sems))
		set.undos[ul] = true
	}
	blocked, at, err := set.try(ops, ul, int32(pid))
	if err != nil {
		return err
	}
	if !blocked {
		if alter {
			set.update()
		}
		return nil
	}
	w := &semWaiter{ops: ops, undo: ul, pid: int32(pid), blocking: at, done: make(chan struct{})}
	set.pending = append(set.pending, w)
	var timer <-chan struct{}
	if !deadline.IsZero() {
		tc := make(chan struct{})
		tm := time.AfterFunc(time.Until(deadline), func() { close(tc) })
		defer tm.Stop()
		timer = tc
	}
	s.mu.Unlock()
	intr := waitOrSignal(ctx, w.done, timer)
	s.mu.Lock()
	select {
	case <-w.done:
		return w.err
	default:
	}
	for i, o := range set.pending {
		if o == w {
			set.pending = append(set.pending[:i:i], set.pending[i+1:]...)
			break
		}
	}
	if intr {
		return unix.EINTR
	}
	return unix.EAGAIN
}

// ExitUndo applies a finished process's adjustments: each value moves by
// its adjustment, kept within 0 and SEMVMX. Linux: ipc/sem.c (exit_sem)
func (ns *Namespace) ExitUndo(ul *UndoList, pid int) {
	s := &ns.sem
	s.mu.Lock()
	defer s.mu.Unlock()
	for set, adj := range ul.adj {
		delete(set.undos, ul)
		if set.gone {
			continue
		}
		for i, a := range adj {
			if a == 0 {
				continue
			}
			set.sems[i].val = min(SemVmx, max(0, set.sems[i].val+a))
			set.sems[i].pid = int32(pid)
		}
		set.update()
	}
	ul.adj = map[*SemSet][]int{}
}
