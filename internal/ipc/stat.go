package ipc

import (
	"encoding/binary"
	"fmt"
	"sort"
	"strings"

	"golang.org/x/sys/unix"

	"glassbox/internal/vfs"
)

// StatSize is sizeof(struct shmid64_ds) on x86-64.
const StatSize = 112

// encodeLocked renders s as struct shmid64_ds.
// Linux: include/uapi/asm-generic/shmbuf.h, include/uapi/asm-generic/ipcbuf.h
func (s *Segment) encodeLocked() []byte {
	b := make([]byte, StatSize)
	le := binary.LittleEndian
	le.PutUint32(b[0:], uint32(s.key))
	le.PutUint32(b[4:], s.uid)
	le.PutUint32(b[8:], s.gid)
	le.PutUint32(b[12:], s.cuid)
	le.PutUint32(b[16:], s.cgid)
	le.PutUint32(b[20:], s.mode)
	le.PutUint16(b[24:], uint16(s.id>>idShift))
	le.PutUint64(b[48:], s.segsz)
	le.PutUint64(b[56:], uint64(s.atime))
	le.PutUint64(b[64:], uint64(s.dtime))
	le.PutUint64(b[72:], uint64(s.ctime))
	le.PutUint32(b[80:], uint32(s.cpid))
	le.PutUint32(b[84:], uint32(s.lpid))
	le.PutUint64(b[88:], s.nattch)
	return b
}

// DecodeSet reads the fields IPC_SET takes from a struct shmid64_ds.
func DecodeSet(b []byte) (uid, gid, mode uint32) {
	le := binary.LittleEndian
	return le.Uint32(b[4:]), le.Uint32(b[8:]), le.Uint32(b[20:])
}

// Stat implements IPC_STAT (byIndex false) and SHM_STAT/SHM_STAT_ANY
// (byIndex true, id is an index; any skips the read permission check).
// It returns the struct and the segment's id.
// Linux: ipc/shm.c (shmctl_stat)
func (ns *Namespace) Stat(c *vfs.Creds, id int, byIndex, any bool) ([]byte, int, error) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	var s *Segment
	if byIndex {
		s = ns.segs[id&(1<<idShift-1)]
	} else {
		s = ns.lookup(id)
	}
	if s == nil {
		return nil, 0, unix.EINVAL
	}
	if !any && !s.permitted(c, 0o444) {
		return nil, 0, unix.EACCES
	}
	return s.encodeLocked(), s.id, nil
}

// maxIdxLocked is the highest index in use (0 when none): the value
// IPC_INFO and SHM_INFO return. Linux: ipc/util.h (ipc_get_maxidx)
func (ns *Namespace) maxIdxLocked() int {
	m := 0
	for i := range ns.segs {
		m = max(m, i)
	}
	return m
}

// Info implements IPC_INFO: struct shminfo64.
func (ns *Namespace) Info() ([]byte, int) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	b := make([]byte, 72)
	le := binary.LittleEndian
	le.PutUint64(b[0:], ShmMax)
	le.PutUint64(b[8:], ShmMin)
	le.PutUint64(b[16:], ShmMni)
	le.PutUint64(b[24:], ShmMni) // SHMSEG
	le.PutUint64(b[32:], ShmAll)
	return b, ns.maxIdxLocked()
}

// ShmInfo implements SHM_INFO: struct shm_info.
func (ns *Namespace) ShmInfo() ([]byte, int) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	b := make([]byte, 48)
	le := binary.LittleEndian
	le.PutUint32(b[0:], uint32(len(ns.segs)))
	var rss uint64
	for _, s := range ns.segs {
		rss += s.shm.Resident()
	}
	le.PutUint64(b[8:], ns.pages)
	le.PutUint64(b[16:], rss)
	return b, ns.maxIdxLocked()
}

// ProcShm renders /proc/sysvipc/shm. Linux: ipc/shm.c (sysvipc_shm_proc_show)
func (ns *Namespace) ProcShm() []byte {
	var b strings.Builder
	b.WriteString("       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  cgid      atime      dtime      ctime                   rss                  swap\n")
	ns.mu.Lock()
	defer ns.mu.Unlock()
	idx := make([]int, 0, len(ns.segs))
	for i := range ns.segs {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	for _, i := range idx {
		s := ns.segs[i]
		fmt.Fprintf(&b, "%10d %10d  %4o %21d %5d %5d  %5d %5d %5d %5d %5d %10d %10d %10d %21d %21d\n",
			s.key, s.id, s.mode, s.segsz, s.cpid, s.lpid, s.nattch, s.uid, s.gid, s.cuid, s.cgid,
			s.atime, s.dtime, s.ctime, s.shm.Resident()<<12, 0)
	}
	return []byte(b.String())
}
