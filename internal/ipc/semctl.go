package ipc

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"glassbox/internal/vfs"
)

// SemidSize is sizeof(struct semid64_ds) on x86-64.
const SemidSize = 104

// semOf finds set id (EINVAL). semNS.mu held.
func (s *semNS) semOf(id int) (*SemSet, error) {
	set, ok := s.ids.lookup(id)
	if !ok {
		return nil, unix.EINVAL
	}
	return set, nil
}

// SemStat implements IPC_STAT (byIndex false), SEM_STAT and SEM_STAT_ANY:
// struct semid64_ds and the set's id. Linux: ipc/sem.c (semctl_stat)
func (ns *Namespace) SemStat(c *vfs.Creds, id int, byIndex, any bool) ([]byte, int, error) {
	s := &ns.sem
	s.mu.Lock()
	defer s.mu.Unlock()
	var set *SemSet
	var ok bool
	if byIndex {
		set, ok = s.ids.byIndex(id)
	} else {
		set, ok = s.ids.lookup(id)
	}
	if !ok {
		return nil, 0, unix.EINVAL
	}
	if !any && !set.permitted(c, 0o444) {
		return nil, 0, unix.EACCES
	}
	b := make([]byte, SemidSize)
	set.encode(b)
	le := binary.LittleEndian
	le.PutUint64(b[48:], uint64(set.otime()))
	le.PutUint64(b[64:], uint64(set.ctime))
	le.PutUint64(b[80:], uint64(len(set.sems)))
	return b, set.id, nil
}

// otime is the latest semop on any semaphore. Linux: ipc/sem.c (get_semotime)
func (set *SemSet) otime() int64 {
	var t int64
	for _, s := range set.sems {
		t = max(t, s.otime)
	}
	return t
}

// SemInfo implements IPC_INFO (usage false) and SEM_INFO: struct seminfo
// and the highest index. Linux: ipc/sem.c (semctl_info)
func (ns *Namespace) SemInfo(usage bool) ([]byte, int) {
	s := &ns.sem
	s.mu.Lock()
	defer s.mu.Unlock()
	b := make([]byte, 40)
	le := binary.LittleEndian
	usz, aem := uint32(20), uint32(SemAem) // SEMUSZ, SEMAEM
	if usage {
		usz, aem = uint32(len(s.ids.objs)), uint32(s.used)
	}
	for i, v := range []uint32{SemMns, SemMni, SemMns, SemMns, SemMsl, SemOpm, SemOpm, usz, SemVmx, aem} {
		le.PutUint32(b[4*i:], v) // semmap semmni semmns semmnu semmsl semopm semume semusz semvmx semaem
	}
	return b, s.ids.maxIdx()
}

// SemSetPerm implements IPC_SET from a struct semid64_ds.
// Linux: ipc/sem.c (semctl_down)
func (ns *Namespace) SemSetPerm(c *vfs.Creds, id int, ds []byte) error {
	s := &ns.sem
	s.mu.Lock()
	defer s.mu.Unlock()
	set, err := s.semOf(id)
	if err != nil {
		return err
	}
	if !set.owner(c) {
		return unix.EPERM
	}
	set.set(decodePerm(ds))
	set.ctime = now()
	return nil
}

// SemRemove implements IPC_RMID: waiters fail with EIDRM, undo
// adjustments for the set are dropped. Linux: ipc/sem.c (freeary)
func (ns *Namespace) SemRemove(c *vfs.Creds, id int) error {
	s := &ns.sem
	s.mu.Lock()
	defer s.mu.Unlock()
	set, err := s.semOf(id)
	if err != nil {
		return err
	}
	if !set.owner(c) {
		return unix.EPERM
	}
	s.ids.remove(set)
	s.used -= len(set.sems)
	for _, w := range set.pending {
		w.err = unix.EIDRM
		close(w.done)
	}
	set.pending = nil
	for ul := range set.undos {
		delete(ul.adj, set)
	}
	set.undos = nil
	return nil
}

// Semctl commands on values. Linux: include/uapi/linux/sem.h
const (
	SemGetPid  = 11
	SemGetVal  = 12
	SemGetAll  = 13
	SemGetNcnt = 14
	SemGetZcnt = 15
	SemSetVal  = 16
	SemSetAll  = 17
)

// SemGetValue implements GETVAL, GETPID, GETNCNT and GETZCNT.
// Linux: ipc/sem.c (semctl_main, count_semcnt)
func (ns *Namespace) SemGetValue(c *vfs.Creds, id, num, cmd int) (int, error) {
	s := &ns.sem
	s.mu.Lock()
	defer s.mu.Unlock()
	set, err := s.semOf(id)
	if err != nil {
		return 0, err
	}
	if !set.permitted(c, 0o444) {
		return 0, unix.EACCES
	}
	if num < 0 || num >= len(set.sems) {
		return 0, unix.EINVAL
	}
	switch cmd {
	case SemGetVal:
		return set.sems[num].val, nil
	case SemGetPid:
		return int(set.sems[num].pid), nil
	}
	n := 0
	for _, w := range set.pending {
		op := w.ops[w.blocking]
		if int(op.Num) != num {
			continue
		}
		if cmd == SemGetZcnt && op.Op == 0 || cmd == SemGetNcnt && op.Op < 0 {
			n++
		}
	}
	return n, nil
}

// SemGetAll implements GETALL.
func (ns *Namespace) SemGetAll(c *vfs.Creds, id int) ([]byte, error) {
	s := &ns.sem
	s.mu.Lock()
	defer s.mu.Unlock()
	set, err := s.semOf(id)
	if err != nil {
		return nil, err
	}
	if !set.permitted(c, 0o444) {
		return nil, unix.EACCES
	}
	b := make([]byte, 2*len(set.sems))
	for i, x := range set.sems {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(x.val))
	}
	return b, nil
}

// SemCount returns the number of semaphores in set id after checking
// SETALL's write permission (the caller then reads the values).
func (ns *Namespace) SemCount(c *vfs.Creds, id int) (int, error) {
	s := &ns.sem
	s.mu.Lock()
	defer s.mu.Unlock()
	set, err := s.semOf(id)
	if err != nil {
		return 0, err
	}
	if !set.permitted(c, 0o222) {
		return 0, unix.EACCES
	}
	return len(set.sems), nil
}

// SemSetValues implements SETVAL (num >= 0, one value) and SETALL
// (num < 0): the values change, every process's adjustments for them are
// cleared, and waiters retry. Linux: ipc/sem.c (semctl_setval, semctl_main)
func (ns *Namespace) SemSetValues(c *vfs.Creds, pid, id, num int, vals []int) error {
	for _, v := range vals {
		if v < 0 || v > SemVmx {
			return unix.ERANGE
		}
	}
	s := &ns.sem
	s.mu.Lock()
	defer s.mu.Unlock()
	set, err := s.semOf(id)
	if err != nil {
		return err
	}
	if num >= 0 {
		if num >= len(set.sems) {
			return unix.EINVAL
		}
	} else if len(vals) != len(set.sems) {
		return unix.EINVAL
	}
	if !set.permitted(c, 0o222) {
		return unix.EACCES
	}
	for i, v := range vals {
		n := i
		if num >= 0 {
			n = num
		}
		set.sems[n].val = v
		set.sems[n].pid = int32(pid)
		for ul := range set.undos {
			ul.adj[set][n] = 0
		}
	}
	set.ctime = now()
	set.update()
	return nil
}
