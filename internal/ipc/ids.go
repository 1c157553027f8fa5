package ipc

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"glassbox/internal/vfs"
)

// perm is struct kern_ipc_perm: what every message queue and semaphore
// set carries. Linux: include/linux/ipc.h
type perm struct {
	key                  int32
	id, idx              int
	uid, gid, cuid, cgid uint32
	mode                 uint32
	gone                 bool // removed (IPC_RMID): waiters see EIDRM
}

func (p *perm) ipcPerm() *perm { return p }

// permitted is ipcperms. Linux: ipc/util.c (ipcperms)
func (p *perm) permitted(c *vfs.Creds, flag int) bool {
	req := uint32(flag>>6|flag>>3|flag) & 7
	granted := p.mode
	switch {
	case c.EUID == p.cuid || c.EUID == p.uid:
		granted >>= 6
	case inGroup(c, p.cgid) || inGroup(c, p.gid):
		granted >>= 3
	}
	return req&^granted&7 == 0 || capable(c)
}

// owner is ipcctl_obtain_check's rule for IPC_SET and IPC_RMID.
func (p *perm) owner(c *vfs.Creds) bool {
	return c.EUID == p.cuid || c.EUID == p.uid || capable(c)
}

// set applies IPC_SET's owner, group and mode. Linux: ipc/util.c (ipc_update_perm)
func (p *perm) set(uid, gid, mode uint32) {
	p.uid, p.gid = uid, gid
	p.mode = p.mode&^0o777 | mode&0o777
}

// encode writes struct ipc64_perm (48 bytes) into b.
// Linux: include/uapi/asm-generic/ipcbuf.h
func (p *perm) encode(b []byte) {
	le := binary.LittleEndian
	le.PutUint32(b[0:], uint32(p.key))
	le.PutUint32(b[4:], p.uid)
	le.PutUint32(b[8:], p.gid)
	le.PutUint32(b[12:], p.cuid)
	le.PutUint32(b[16:], p.cgid)
	le.PutUint32(b[20:], p.mode)
	le.PutUint16(b[24:], uint16(p.id>>idShift))
}

// decodePerm reads IPC_SET's fields from a struct ipc64_perm.
func decodePerm(b []byte) (uid, gid, mode uint32) {
	le := binary.LittleEndian
	return le.Uint32(b[4:]), le.Uint32(b[8:]), le.Uint32(b[20:])
}

// object is a message queue or a semaphore set.
type object interface{ ipcPerm() *perm }

// idSet is one kind's ids: indexes handed out cyclically below mni, a
// sequence number that grows each time they wrap, and the keys.
// Linux: ipc/util.c (ipc_idr_alloc, ipc_findkey)
type idSet[T object] struct {
	objs    map[int]T
	keys    map[int32]T
	lastIdx int
	seq     int
}

func newIDSet[T object]() idSet[T] {
	return idSet[T]{objs: map[int]T{}, keys: map[int32]T{}, lastIdx: -1}
}

// ipcMni bounds indexes (IPCMNI: ids are seq << 15 | index).
const ipcMni = 1 << idShift

// add gives o an index and id and records its key.
func (s *idSet[T]) add(o T, key int32) {
	idx := -1
	for i := 1; i <= ipcMni; i++ {
		cand := (s.lastIdx + i) % ipcMni
		if _, used := s.objs[cand]; !used {
			idx = cand
			break
		}
	}
	if idx <= s.lastIdx {
		s.seq++
		if s.seq >= seqMax {
			s.seq = 0
		}
	}
	s.lastIdx = idx
	p := o.ipcPerm()
	p.key, p.idx, p.id = key, idx, s.seq<<idShift|idx
	s.objs[idx] = o
	if key != IPCPrivate {
		s.keys[key] = o
	}
}

// lookup finds an object by id, checking the sequence number.
func (s *idSet[T]) lookup(id int) (T, bool) {
	var zero T
	if id < 0 {
		return zero, false
	}
	o, ok := s.objs[id&(ipcMni-1)]
	if !ok || o.ipcPerm().id != id {
		return zero, false
	}
	return o, true
}

// byIndex finds an object by index (MSG_STAT, SEM_STAT).
func (s *idSet[T]) byIndex(idx int) (T, bool) {
	o, ok := s.objs[idx]
	return o, ok
}

func (s *idSet[T]) remove(o T) {
	p := o.ipcPerm()
	p.gone = true
	delete(s.objs, p.idx)
	if p.key != IPCPrivate {
		if k, ok := s.keys[p.key]; ok && k.ipcPerm() == p {
			delete(s.keys, p.key)
		}
	}
}

// maxIdx is the highest index in use (0 when none), what IPC_INFO returns.
func (s *idSet[T]) maxIdx() int {
	m := 0
	for i := range s.objs {
		m = max(m, i)
	}
	return m
}

// sortedIdx lists the indexes in use in order, for /proc/sysvipc.
func (s *idSet[T]) sorted() []T {
	out := make([]T, 0, len(s.objs))
	for i := 0; len(out) < len(s.objs) && i < ipcMni; i++ {
		if o, ok := s.objs[i]; ok {
			out = append(out, o)
		}
	}
	return out
}

// get is ipcget: find key's object (checking flags and permissions,
// more for kind-specific checks) or make one with create.
// Linux: ipc/util.c (ipcget, ipcget_public)
func (s *idSet[T]) get(c *vfs.Creds, key int32, flag int, more func(T) error, create func() (T, error)) (int, error) {
	if key != IPCPrivate {
		if o, ok := s.keys[key]; ok {
			if flag&IPCCreat != 0 && flag&IPCExcl != 0 {
				return 0, unix.EEXIST
			}
			if more != nil {
				if err := more(o); err != nil {
					return 0, err
				}
			}
			if !o.ipcPerm().permitted(c, flag) {
				return 0, unix.EACCES
			}
			return o.ipcPerm().id, nil
		}
		if flag&IPCCreat == 0 {
			return 0, unix.ENOENT
		}
	}
	o, err := create()
	if err != nil {
		return 0, err
	}
	p := o.ipcPerm()
	p.uid, p.gid, p.cuid, p.cgid = c.EUID, c.EGID, c.EUID, c.EGID
	p.mode = uint32(flag) & 0o777
	s.add(o, key)
	return p.id, nil
}
