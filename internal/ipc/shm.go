package ipc

import (
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/memfile"
	"glassbox/internal/mm"
	"glassbox/internal/vfs"
)

// Limits and flags. Linux: include/uapi/linux/shm.h, include/uapi/linux/ipc.h
const (
	ShmMax  = ^uint64(0) - 1<<24 // SHMMAX, kernel.shmmax
	ShmAll  = ^uint64(0) - 1<<24 // SHMALL (pages), kernel.shmall
	ShmMni  = 4096               // SHMMNI, kernel.shmmni
	ShmMin  = 1
	idShift = 15 // IPCMNI_SHIFT
	seqMax  = (1 << 31) >> idShift

	IPCPrivate = 0
	IPCCreat   = 0o1000
	IPCExcl    = 0o2000
	ShmDest    = 0o1000 // in the mode: marked for removal
	ShmLocked  = 0o2000

	shmHugeTLB   = 0o4000  // SHM_HUGETLB
	shmNoReserve = 0o10000 // SHM_NORESERVE
	shmHugeShift = 26      // SHM_HUGE_SHIFT
)

// Namespace is one IPC namespace: shared memory, message queues and
// semaphore sets.
type Namespace struct {
	mf *memfile.File

	mu      sync.Mutex
	segs    map[int]*Segment // by index
	keys    map[int32]*Segment
	lastIdx int
	seq     int
	pages   uint64 // shm_tot

	msg msgNS
	sem semNS

	mqOnce sync.Once
	mq     *MQRegistry // POSIX message queues (mqueue.go)
}

// NewNamespace returns an empty namespace whose segments live in mf.
func NewNamespace(mf *memfile.File) *Namespace {
	return &Namespace{mf: mf, segs: map[int]*Segment{}, keys: map[int32]*Segment{}, lastIdx: -1,
		msg: msgNS{ids: newIDSet[*Queue]()}, sem: semNS{ids: newIDSet[*SemSet]()}}
}

// Segment is one shared memory segment. Its fields are guarded by
// Namespace.mu.
type Segment struct {
	ns  *Namespace
	shm *mm.Shmem

	key                  int32
	id, idx              int
	uid, gid, cuid, cgid uint32
	mode                 uint32 // permission bits | ShmDest | ShmLocked
	segsz                uint64
	atime, dtime, ctime  int64
	cpid, lpid           int32
	nattch               uint64
	gone                 bool
}

func now() int64 { return time.Now().Unix() }

// capable is CAP_IPC_OWNER (permission checks) in the caller's namespace.
func capable(c *vfs.Creds) bool { return c.HasCap(unix.CAP_IPC_OWNER) }

func inGroup(c *vfs.Creds, g uint32) bool {
	if c.EGID == g {
		return true
	}
	for _, x := range c.Groups {
		if x == g {
			return true
		}
	}
	return false
}

// permitted is ipcperms: flag's low nine bits are the access asked for.
// Linux: ipc/util.c (ipcperms)
func (s *Segment) permitted(c *vfs.Creds, flag int) bool {
	req := uint32(flag>>6|flag>>3|flag) & 7
	granted := s.mode
	switch {
	case c.EUID == s.cuid || c.EUID == s.uid:
		granted >>= 6
	case inGroup(c, s.cgid) || inGroup(c, s.gid):
		granted >>= 3
	}
	return req&^granted&7 == 0 || capable(c)
}

// owner is ipcctl_obtain_check's rule for IPC_SET and IPC_RMID.
func (s *Segment) owner(c *vfs.Creds) bool {
	return c.EUID == s.cuid || c.EUID == s.uid || capable(c)
}

// Get implements shmget. Linux: ipc/util.c (ipcget), ipc/shm.c (newseg)
func (ns *Namespace) Get(c *vfs.Creds, pid int, key int32, size uint64, flag int) (int, error) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if key != IPCPrivate {
		if s := ns.keys[key]; s != nil {
			if flag&IPCCreat != 0 && flag&IPCExcl != 0 {
				return 0, unix.EEXIST
			}
			if s.segsz < size {
				return 0, unix.EINVAL
			}
			if !s.permitted(c, flag) {
				return 0, unix.EACCES
			}
			return s.id, nil
		}
		if flag&IPCCreat == 0 {
			return 0, unix.ENOENT
		}
	}
	if size < ShmMin || size > ShmMax {
		return 0, unix.EINVAL
	}
	npages := (size + abi.PageSize - 1) >> abi.PageShift
	if npages<<abi.PageShift < size {
		return 0, unix.ENOSPC
	}
	if ns.pages+npages < ns.pages || ns.pages+npages > ShmAll {
		return 0, unix.ENOSPC
	}
	if flag&shmHugeTLB != 0 {
		// As on a host with no huge pages reserved: a valid size needs
		// CAP_IPC_LOCK or group 0 (vm.hugetlb_shm_group), then finds no
		// pages. Linux: ipc/shm.c (newseg), fs/hugetlbfs/inode.c (hugetlb_file_setup)
		switch (flag >> shmHugeShift) & 0x3f {
		case 0, 21, 30:
		default:
			return 0, unix.EINVAL
		}
		if !c.HasCap(unix.CAP_IPC_LOCK) && !inGroup(c, 0) {
			return 0, unix.EPERM
		}
		return 0, unix.ENOMEM
	}
	if flag&shmNoReserve == 0 && mm.Overcommitted(npages<<abi.PageShift) {
		return 0, unix.ENOMEM // Linux: mm/shmem.c (shmem_acct_size)
	}
	if len(ns.segs) >= ShmMni {
		return 0, unix.ENOSPC
	}
	// Indexes are handed out cyclically; the sequence number grows each
	// time they wrap. Linux: ipc/util.c (ipc_idr_alloc)
	idx := -1
	for i := 1; i <= ShmMni; i++ {
		cand := (ns.lastIdx + i) % ShmMni
		if ns.segs[cand] == nil {
			idx = cand
			break
		}
	}
	if idx <= ns.lastIdx {
		ns.seq++
		if ns.seq >= seqMax {
			ns.seq = 0
		}
	}
	ns.lastIdx = idx
	s := &Segment{ns: ns, shm: mm.NewShmem(ns.mf, npages<<abi.PageShift), key: key, idx: idx,
		id: ns.seq<<idShift | idx, uid: c.EUID, gid: c.EGID, cuid: c.EUID, cgid: c.EGID,
		mode: uint32(flag) & 0o777, segsz: size, ctime: now(), cpid: int32(pid)}
	ns.segs[idx] = s
	if key != IPCPrivate {
		ns.keys[key] = s
	}
	ns.pages += npages
	return s.id, nil
}

// lookup finds a segment by id (checking the sequence number).
func (ns *Namespace) lookup(id int) *Segment {
	if id < 0 {
		return nil
	}
	s := ns.segs[id&(1<<idShift-1)]
	if s == nil || s.id != id {
		return nil
	}
	return s
}

// Attach checks shmat's permission and takes the reference the new VMA
// will own; the caller maps the segment and calls Detach if that fails.
// Linux: ipc/shm.c (do_shmat)
func (ns *Namespace) Attach(c *vfs.Creds, id int, prot int) (*Segment, error) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	s := ns.lookup(id)
	if s == nil {
		return nil, unix.EINVAL
	}
	acc := 0o444
	if prot&unix.PROT_WRITE != 0 {
		acc |= 0o222
	}
	if prot&unix.PROT_EXEC != 0 {
		acc |= 0o111
	}
	if !s.permitted(c, acc) {
		return nil, unix.EACCES
	}
	s.nattch++
	return s, nil
}

// Attached records a successful shmat (or a fork copying attachments):
// the attach time and the last pid. Linux: ipc/shm.c (__shm_open)
func (s *Segment) Attached(pid int) {
	s.ns.mu.Lock()
	s.atime, s.lpid = now(), int32(pid)
	s.ns.mu.Unlock()
}

// Detaching records that pid is about to drop its VMAs of s (shmdt,
// exit, exec). Linux: ipc/shm.c (shm_close)
func (s *Segment) Detaching(pid int) {
	s.ns.mu.Lock()
	s.lpid = int32(pid)
	s.ns.mu.Unlock()
}

// Size implements mm.Mappable.
func (s *Segment) Size() uint64 {
	s.ns.mu.Lock()
	defer s.ns.mu.Unlock()
	return s.segsz
}

// Translate implements mm.Mappable.
func (s *Segment) Translate(pg, n uint64) (memfile.Frame, uint64, error) {
	return s.shm.Translate(pg, n)
}

// Key is the segment's key (0 once removed), for /proc/PID/maps names.
func (s *Segment) Key() int32 {
	s.ns.mu.Lock()
	defer s.ns.mu.Unlock()
	return s.key
}

// IncRef counts one more VMA mapping the segment.
func (s *Segment) IncRef() {
	s.ns.mu.Lock()
	s.nattch++
	s.ns.mu.Unlock()
}

// DecRef counts one VMA fewer; the last one destroys a removed segment.
func (s *Segment) DecRef() {
	s.ns.mu.Lock()
	defer s.ns.mu.Unlock()
	s.nattch--
	s.dtime = now()
	if s.nattch == 0 && s.mode&ShmDest != 0 {
		s.ns.destroyLocked(s)
	}
}

func (ns *Namespace) destroyLocked(s *Segment) {
	if s.gone {
		return
	}
	s.gone = true
	if ns.segs[s.idx] == s {
		delete(ns.segs, s.idx)
	}
	if s.key != IPCPrivate && ns.keys[s.key] == s {
		delete(ns.keys, s.key)
	}
	ns.pages -= (s.segsz + abi.PageSize - 1) >> abi.PageShift
	s.shm.DecRef()
}

// Remove implements IPC_RMID. Linux: ipc/shm.c (do_shm_rmid)
func (ns *Namespace) Remove(c *vfs.Creds, id int) error {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	s := ns.lookup(id)
	if s == nil {
		return unix.EINVAL
	}
	if !s.owner(c) {
		return unix.EPERM
	}
	if s.nattch == 0 {
		ns.destroyLocked(s)
		return nil
	}
	if s.key != IPCPrivate && ns.keys[s.key] == s {
		delete(ns.keys, s.key)
	}
	s.key = IPCPrivate
	s.mode |= ShmDest
	return nil
}

// Set implements IPC_SET: owner, group and permission bits.
func (ns *Namespace) Set(c *vfs.Creds, id int, uid, gid, mode uint32) error {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	s := ns.lookup(id)
	if s == nil {
		return unix.EINVAL
	}
	if !s.owner(c) {
		return unix.EPERM
	}
	s.uid, s.gid = uid, gid
	s.mode = s.mode&^0o777 | mode&0o777
	s.ctime = now()
	return nil
}

// Lock implements SHM_LOCK and SHM_UNLOCK (nothing is swapped; only the
// flag changes). Without CAP_IPC_LOCK the caller must own the segment,
// and locking needs an RLIMIT_MEMLOCK (memlock, in bytes) the segment fits
// in. Linux: ipc/shm.c (shmctl_do_lock), mm/mlock.c (user_shm_lock)
func (ns *Namespace) Lock(c *vfs.Creds, id int, lock bool, memlock uint64) error {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	s := ns.lookup(id)
	if s == nil {
		return unix.EINVAL
	}
	if !c.HasCap(unix.CAP_IPC_LOCK) {
		if c.EUID != s.uid && c.EUID != s.cuid {
			return unix.EPERM
		}
		if lock && memlock == 0 {
			return unix.EPERM
		}
		if lock && s.mode&ShmLocked == 0 && (s.segsz+abi.PageSize-1)>>abi.PageShift > memlock>>abi.PageShift {
			return unix.ENOMEM
		}
	}
	if lock {
		s.mode |= ShmLocked
	} else {
		s.mode &^= ShmLocked
	}
	return nil
}
