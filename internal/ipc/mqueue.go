package ipc

import (
	"fmt"
	"slices"
	"sort"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"glassbox/internal/vfs"
)

// POSIX message queues (mq_open and friends): named queues of prioritised
// messages, opened as descriptors that poll and read like Linux's mqueue
// files. The names live in the IPC namespace's registry (Linux shows
// them at /dev/mqueue; glassbox does not yet). Linux: ipc/mqueue.c

// Limits. Linux: ipc/mqueue.c (DFLT_MSGMAX, DFLT_MSGSIZEMAX, HARD_*),
// include/uapi/linux/mqueue.h (MQ_PRIO_MAX)
const (
	MQDefaultMaxMsg  = 10
	MQDefaultMsgSize = 8192
	MQHardMaxMsg     = 65536
	MQHardMsgSize    = 16 << 20
	MQPrioMax        = 32768
	mqNameMax        = 255
)

// mqIno numbers queues for their mqueue file systems.
var mqIno atomic.Uint64

// MQRegistry holds an IPC namespace's named queues.
type MQRegistry struct {
	mu sync.Mutex
	q  map[string]*MQueue
}

// MQ returns the namespace's message queue names.
func (ns *Namespace) MQ() *MQRegistry {
	ns.mqOnce.Do(func() { ns.mq = &MQRegistry{q: map[string]*MQueue{}} })
	return ns.mq
}

// MQueue is one queue. Its fields are guarded by mu.
type MQueue struct {
	mu       sync.Mutex
	ino      uint64 // its inode number in an mqueue file system
	uid, gid uint32
	mode     uint32
	maxMsg   int
	msgSize  int
	msgs     []mqMsg // highest priority first, FIFO within one
	bytes    int
	changes  vfs.Changes
	notify   *MQNotify
	waitRecv int // receivers blocked in receive
}

type mqMsg struct {
	prio uint32
	data []byte
}

// MQNotify is a registration of mq_notify: Fire sends its signal.
type MQNotify struct {
	Owner any // who registered (the registering process)
	Fire  func(senderPID int32, senderUID uint32)
}

// CheckName validates a queue name as the kernel receives it (glibc has
// taken the leading '/').
func CheckName(name string) error {
	switch {
	case len(name) > mqNameMax:
		return unix.ENAMETOOLONG
	case name == "":
		return unix.ENOENT
	case name == "." || name == "..":
		return unix.EACCES // Linux: fs/namei.c (lookup_one_common)
	}
	for i := 0; i < len(name); i++ {
		if name[i] == '/' {
			return unix.EACCES
		}
	}
	return nil
}

// Open finds or creates name. create makes it if missing (excl: it must
// be); new queues get mode, the creator's ids and the given sizes.
// access is the MayRead/MayWrite wanted on an existing queue.
func (r *MQRegistry) Open(name string, create, excl bool, mode uint32, c *vfs.Creds, maxMsg, msgSize int, access int) (*MQueue, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if q := r.q[name]; q != nil {
		if create && excl {
			return nil, unix.EEXIST
		}
		if !q.permits(c, access) {
			return nil, unix.EACCES
		}
		return q, nil
	}
	if !create {
		return nil, unix.ENOENT
	}
	q := &MQueue{uid: c.FSUID, gid: c.FSGID, mode: mode & 0o777, maxMsg: maxMsg, msgSize: msgSize, ino: mqIno.Add(1)}
	r.q[name] = q
	return q, nil
}

// Unlink removes name; open descriptors keep their queue.
func (r *MQRegistry) Unlink(name string, c *vfs.Creds) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	q := r.q[name]
	if q == nil {
		return unix.ENOENT
	}
	// /dev/mqueue is sticky and world-writable: the owner or root.
	if c.FSUID != 0 && c.FSUID != q.uid {
		return unix.EACCES
	}
	delete(r.q, name)
	return nil
}

func (q *MQueue) permits(c *vfs.Creds, access int) bool {
	if c.FSUID == 0 {
		return true
	}
	m := q.mode & 7
	switch {
	case c.FSUID == q.uid:
		m = q.mode >> 6 & 7
	case c.FSGID == q.gid || slices.Contains(c.Groups, q.gid):
		m = q.mode >> 3 & 7
	}
	return uint32(access)&^m == 0
}

// Attr returns mq_maxmsg, mq_msgsize and mq_curmsgs.
func (q *MQueue) Attr() (maxMsg, msgSize, cur int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.maxMsg, q.msgSize, len(q.msgs)
}

// Send queues a message, waiting for room unless nonblock (EAGAIN); wait
// sleeps until the returned channel changes (or fails: ETIMEDOUT,
// EINTR). EMSGSIZE for a message larger than the queue's size.
func (q *MQueue) Send(data []byte, prio uint32, nonblock bool, sender int32, uid uint32, wait func(<-chan struct{}) error) error {
	q.mu.Lock()
	if len(data) > q.msgSize {
		q.mu.Unlock()
		return unix.EMSGSIZE
	}
	for len(q.msgs) >= q.maxMsg {
		if nonblock {
			q.mu.Unlock()
			return unix.EAGAIN
		}
		ch := q.changes.Chan()
		q.mu.Unlock()
		if err := wait(ch); err != nil {
			return err
		}
		q.mu.Lock()
	}
	i := sort.Search(len(q.msgs), func(i int) bool { return q.msgs[i].prio < prio })
	q.msgs = append(q.msgs, mqMsg{})
	copy(q.msgs[i+1:], q.msgs[i:])
	q.msgs[i] = mqMsg{prio: prio, data: append([]byte(nil), data...)}
	q.bytes += len(data)
	var n *MQNotify
	if len(q.msgs) == 1 && q.waitRecv == 0 && q.notify != nil {
		// The queue was empty and nobody waits: the registration fires
		// once and is gone. Linux: ipc/mqueue.c (__do_notify)
		n, q.notify = q.notify, nil
	}
	q.changes.Notify()
	q.mu.Unlock()
	if n != nil {
		n.Fire(sender, uid)
	}
	return nil
}

// Receive takes the oldest message of the highest priority into buf
// (EMSGSIZE when buf is smaller than the queue's message size).
func (q *MQueue) Receive(bufLen int, nonblock bool, wait func(<-chan struct{}) error) ([]byte, uint32, error) {
	q.mu.Lock()
	if bufLen < q.msgSize {
		q.mu.Unlock()
		return nil, 0, unix.EMSGSIZE
	}
	for len(q.msgs) == 0 {
		if nonblock {
			q.mu.Unlock()
			return nil, 0, unix.EAGAIN
		}
		ch := q.changes.Chan()
		q.waitRecv++
		q.mu.Unlock()
		err := wait(ch)
		q.mu.Lock()
		q.waitRecv--
		if err != nil {
			q.mu.Unlock()
			return nil, 0, err
		}
	}
	m := q.msgs[0]
	q.msgs = q.msgs[1:]
	q.bytes -= len(m.data)
	q.changes.Notify()
	q.mu.Unlock()
	return m.data, m.prio, nil
}

// SetNotify registers n (nil: removes the caller's registration, owner).
// EBUSY when another process holds it.
func (q *MQueue) SetNotify(n *MQNotify, owner any) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if n == nil {
		if q.notify != nil && q.notify.Owner == owner {
			q.notify = nil
		}
		return nil
	}
	if q.notify != nil {
		return unix.EBUSY
	}
	q.notify = n
	return nil
}

// Readiness is POLLIN with messages, POLLOUT with room.
func (q *MQueue) Readiness() (uint32, <-chan struct{}) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var ev uint32
	if len(q.msgs) > 0 {
		ev |= unix.POLLIN | 0x40 // POLLRDNORM
	}
	if len(q.msgs) < q.maxMsg {
		ev |= unix.POLLOUT | 0x100 // POLLWRNORM
	}
	return ev, q.changes.Chan()
}

// Status is what reading the queue's descriptor shows.
// Linux: ipc/mqueue.c (mqueue_read_file)
func (q *MQueue) Status() string {
	q.mu.Lock()
	defer q.mu.Unlock()
	return fmt.Sprintf("QSIZE:%-10d NOTIFY:%-5d SIGNO:%-5d NOTIFY_PID:%-6d\n", q.bytes, 0, 0, 0)
}

// Owner returns the queue's uid, gid and mode.
func (q *MQueue) Owner() (uint32, uint32, uint32) { return q.uid, q.gid, q.mode }
