package ipc

import (
	"golang.org/x/sys/unix"

	"glassbox/internal/vfs"
)

// MQFile is an open queue, from mq_open or from opening its name in an
// mqueue file system: reading it shows its status line.
// Linux: ipc/mqueue.c (mqueue_file_operations)
type MQFile struct {
	vfs.BaseOps
	q *MQueue
}

// NewMQFile returns the file operations of an open queue.
func NewMQFile(q *MQueue) *MQFile { return &MQFile{q: q} }

// Queue returns the open queue.
func (m *MQFile) Queue() *MQueue { return m.q }

func (m *MQFile) Read(_ vfs.Ctx, dst [][]byte, off int64) (int, error) {
	s := m.q.Status()
	if off < 0 {
		off = 0
	}
	if off >= int64(len(s)) {
		return 0, nil
	}
	n, rest := 0, s[off:]
	for _, b := range dst {
		k := copy(b, rest)
		n, rest = n+k, rest[k:]
	}
	return n, nil
}

func (m *MQFile) Stat(vfs.Ctx) (vfs.Stat, error) { return m.q.Stat(), nil }

func (m *MQFile) Readiness() (uint32, <-chan struct{}) { return m.q.Readiness() }

// Stat describes the queue as its mqueue file system shows it: a regular
// file of its owner and mode, of the size of its status line's buffer.
// Linux: ipc/mqueue.c (mqueue_get_inode: FILENT_SIZE)
func (q *MQueue) Stat() vfs.Stat {
	q.mu.Lock()
	defer q.mu.Unlock()
	return vfs.Stat{Ino: q.ino, Mode: unix.S_IFREG | q.mode, UID: q.uid, GID: q.gid, Nlink: 1,
		Size: 80, Blksize: 4096, Dev: MQueueDev}
}

// MQueueDev is the device number mqueue file systems report.
const MQueueDev = 0x13

// Names returns the registry's queue names.
func (r *MQRegistry) Names() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	names := make([]string, 0, len(r.q))
	for n := range r.q {
		names = append(names, n)
	}
	return names
}

// Lookup returns the queue named name, or nil.
func (r *MQRegistry) Lookup(name string) *MQueue {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.q[name]
}
