package ipc

import (
	"encoding/binary"
	"sync"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/vfs"
)

// Message queue limits (a new IPC namespace's sysctls) and flags.
// Linux: include/uapi/linux/msg.h, include/uapi/linux/ipc.h
const (
	MsgMax = 8192  // kernel.msgmax: the largest message
	MsgMnb = 16384 // kernel.msgmnb: a new queue's msg_qbytes
	MsgMni = 32000 // kernel.msgmni: the most queues

	IPCNoWait  = 0o4000
	MsgNoError = 0o10000
	MsgExcept  = 0o20000
	MsgCopy    = 0o40000
)

// message is one message: its type and text.
type message struct {
	typ  int64
	text []byte
}

// Search modes of msgrcv. Linux: ipc/msg.c (convert_mode)
const (
	searchAny = iota
	searchEqual
	searchNotEqual
	searchLessEqual
	searchNumber
)

// matches is testmsg.
func matches(m *message, typ int64, mode int) bool {
	switch mode {
	case searchAny, searchNumber:
		return true
	case searchLessEqual:
		return m.typ <= typ
	case searchEqual:
		return m.typ == typ
	case searchNotEqual:
		return m.typ != typ
	}
	return false
}

// msgReceiver is a msgrcv waiting for a message. A sender hands a
// matching message straight to the first such receiver (pipelined_send),
// or wakes it with E2BIG if it does not fit; IPC_RMID wakes it with
// EIDRM, IPC_SET with EAGAIN (search again).
type msgReceiver struct {
	pid     int32
	typ     int64
	mode    int
	maxSize int
	msg     *message
	err     error
	done    chan struct{}
}

// Queue is one message queue; its fields are guarded by msgNS.mu.
type Queue struct {
	perm
	msgs                []*message
	cbytes, qbytes      uint64
	stime, rtime, ctime int64
	lspid, lrpid        int32
	receivers           []*msgReceiver
	spaceFreed          chan struct{} // closed (and replaced) when senders should retry
}

// msgNS is a namespace's message queues.
type msgNS struct {
	mu          sync.Mutex
	ids         idSet[*Queue]
	msgs, bytes uint64 // across all queues, for MSG_INFO
}

func (q *Queue) wakeSenders() {
	close(q.spaceFreed)
	q.spaceFreed = make(chan struct{})
}

// MsgGet implements msgget. Linux: ipc/msg.c (ksys_msgget, newque)
func (ns *Namespace) MsgGet(c *vfs.Creds, key int32, flag int) (int, error) {
	m := &ns.msg
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.ids.get(c, key, flag, nil, func() (*Queue, error) {
		if len(m.ids.objs) >= MsgMni {
			return nil, unix.ENOSPC
		}
		return &Queue{qbytes: MsgMnb, ctime: now(), spaceFreed: make(chan struct{})}, nil
	})
}

// fits is msg_fits_inqueue.
func (q *Queue) fits(n int) bool {
	return q.cbytes+uint64(n) <= q.qbytes && uint64(len(q.msgs))+1 <= q.qbytes
}

// MsgSend implements msgsnd after the caller checked the size and type
// and read the text. A blocked send gives up with ERESTARTNOHAND when a
// signal comes. Linux: ipc/msg.c (do_msgsnd)
func (ns *Namespace) MsgSend(ctx vfs.Ctx, pid, id int, typ int64, text []byte, flag int) error {
	m := &ns.msg
	m.mu.Lock()
	defer m.mu.Unlock()
	q, ok := m.ids.lookup(id)
	if !ok {
		return unix.EINVAL
	}
	for {
		if !q.permitted(ctx.Creds(), 0o222) {
			return unix.EACCES
		}
		if q.gone {
			return unix.EIDRM
		}
		if q.fits(len(text)) {
			break
		}
		if flag&IPCNoWait != 0 {
			return unix.EAGAIN
		}
		ch := q.spaceFreed
		m.mu.Unlock()
		intr := waitOrSignal(ctx, ch, nil)
		m.mu.Lock()
		if q.gone {
			return unix.EIDRM
		}
		if intr {
			return abi.ERESTARTNOHAND
		}
	}
	msg := &message{typ: typ, text: text}
	q.lspid, q.stime = int32(pid), now()
	for i, r := range q.receivers {
		if !matches(msg, r.typ, r.mode) {
			continue
		}
		q.receivers = append(q.receivers[:i:i], q.receivers[i+1:]...)
		if r.maxSize < len(text) {
			r.err = unix.E2BIG
			close(r.done)
			continue // Linux: ipc/msg.c (pipelined_send) tries the next
		}
		r.msg = msg
		q.lrpid, q.rtime = r.pid, now()
		close(r.done)
		return nil
	}
	q.msgs = append(q.msgs, msg)
	q.cbytes += uint64(len(text))
	m.msgs++
	m.bytes += uint64(len(text))
	return nil
}

// waitOrSignal sleeps until ch is closed, the timer fires, or a signal
// is pending; it reports whether a signal ended it (the caller holds no
// lock). Nothing is left running when it returns.
func waitOrSignal(ctx vfs.Ctx, ch <-chan struct{}, timer <-chan struct{}) bool {
	for {
		select {
		case <-ch:
			return false
		case <-timer:
			return false
		case <-ctx.Interrupt():
			if ctx.Interrupted() {
				return true
			}
		}
	}
}

// find is find_msg: the index of the message msgrcv takes, or -1.
func (q *Queue) find(typ int64, mode int) int {
	found := -1
	for i, m := range q.msgs {
		if !matches(m, typ, mode) {
			continue
		}
		switch {
		case mode == searchLessEqual && m.typ != 1:
			typ, found = m.typ-1, i
		case mode == searchNumber:
			if typ == 0 {
				return i
			}
			typ--
		default:
			return i
		}
	}
	return found
}

// MsgReceive implements msgrcv after the caller checked the id and size:
// it returns the message's type and text (cut to size with MSG_NOERROR).
// Linux: ipc/msg.c (do_msgrcv)
func (ns *Namespace) MsgReceive(ctx vfs.Ctx, pid, id int, size int, typ int64, flag int) (int64, []byte, error) {
	if flag&MsgCopy != 0 && (flag&MsgExcept != 0 || flag&IPCNoWait == 0) {
		return 0, nil, unix.EINVAL
	}
	mode := searchEqual
	switch {
	case flag&MsgCopy != 0:
		mode = searchNumber
	case typ == 0:
		mode = searchAny
	case typ < 0:
		mode = searchLessEqual
		if typ == -1<<63 {
			typ = 1<<63 - 1
		} else {
			typ = -typ
		}
	case flag&MsgExcept != 0:
		mode = searchNotEqual
	}
	cut := func(msg *message) (int64, []byte, error) {
		if len(msg.text) > size {
			return msg.typ, msg.text[:size], nil
		}
		return msg.typ, msg.text, nil
	}
	m := &ns.msg
	m.mu.Lock()
	defer m.mu.Unlock()
	q, ok := m.ids.lookup(id)
	if !ok {
		return 0, nil, unix.EINVAL
	}
	for {
		if !q.permitted(ctx.Creds(), 0o444) {
			return 0, nil, unix.EACCES
		}
		if q.gone {
			return 0, nil, unix.EIDRM
		}
		if i := q.find(typ, mode); i >= 0 {
			msg := q.msgs[i]
			if size < len(msg.text) && flag&MsgNoError == 0 {
				return 0, nil, unix.E2BIG
			}
			if flag&MsgCopy != 0 {
				return cut(msg)
			}
			q.msgs = append(q.msgs[:i:i], q.msgs[i+1:]...)
			q.cbytes -= uint64(len(msg.text))
			m.msgs--
			m.bytes -= uint64(len(msg.text))
			q.lrpid, q.rtime = int32(pid), now()
			q.wakeSenders()
			return cut(msg)
		}
		if flag&IPCNoWait != 0 {
			return 0, nil, unix.ENOMSG
		}
		r := &msgReceiver{pid: int32(pid), typ: typ, mode: mode, maxSize: size, done: make(chan struct{})}
		if flag&MsgNoError != 0 {
			r.maxSize = 1<<31 - 1
		}
		q.receivers = append(q.receivers, r)
		m.mu.Unlock()
		intr := waitOrSignal(ctx, r.done, nil)
		m.mu.Lock()
		select {
		case <-r.done:
		default:
			q.dropReceiver(r)
			if intr {
				return 0, nil, abi.ERESTARTNOHAND
			}
			continue
		}
		switch {
		case r.msg != nil:
			return cut(r.msg)
		case r.err == unix.EAGAIN:
			continue // IPC_SET: search again
		default:
			return 0, nil, r.err
		}
	}
}

func (q *Queue) dropReceiver(r *msgReceiver) {
	for i, o := range q.receivers {
		if o == r {
			q.receivers = append(q.receivers[:i:i], q.receivers[i+1:]...)
			return
		}
	}
}

// wakeReceivers ends every waiting msgrcv with err.
func (q *Queue) wakeReceivers(err error) {
	for _, r := range q.receivers {
		r.err = err
		close(r.done)
	}
	q.receivers = nil
}

// MsqidSize is sizeof(struct msqid64_ds) on x86-64.
const MsqidSize = 120

// MsgStat implements IPC_STAT (byIndex false), MSG_STAT and MSG_STAT_ANY
// (id is an index; any skips the read check); it returns struct
// msqid64_ds and the queue's id. Linux: ipc/msg.c (msgctl_stat)
func (ns *Namespace) MsgStat(c *vfs.Creds, id int, byIndex, any bool) ([]byte, int, error) {
	m := &ns.msg
	m.mu.Lock()
	defer m.mu.Unlock()
	var q *Queue
	var ok bool
	if byIndex {
		q, ok = m.ids.byIndex(id)
	} else {
		q, ok = m.ids.lookup(id)
	}
	if !ok {
		return nil, 0, unix.EINVAL
	}
	if !any && !q.permitted(c, 0o444) {
		return nil, 0, unix.EACCES
	}
	b := make([]byte, MsqidSize)
	q.encode(b)
	le := binary.LittleEndian
	le.PutUint64(b[48:], uint64(q.stime))
	le.PutUint64(b[56:], uint64(q.rtime))
	le.PutUint64(b[64:], uint64(q.ctime))
	le.PutUint64(b[72:], q.cbytes)
	le.PutUint64(b[80:], uint64(len(q.msgs)))
	le.PutUint64(b[88:], q.qbytes)
	le.PutUint32(b[96:], uint32(q.lspid))
	le.PutUint32(b[100:], uint32(q.lrpid))
	return b, q.id, nil
}

// MsgSet implements IPC_SET from a struct msqid64_ds. A msg_qbytes above
// msgmnb needs CAP_SYS_RESOURCE, which the sandbox's root lacks, as in a
// default container. Linux: ipc/msg.c (msgctl_down)
func (ns *Namespace) MsgSet(c *vfs.Creds, id int, ds []byte) error {
	m := &ns.msg
	m.mu.Lock()
	defer m.mu.Unlock()
	q, ok := m.ids.lookup(id)
	if !ok {
		return unix.EINVAL
	}
	if !q.owner(c) {
		return unix.EPERM
	}
	qbytes := binary.LittleEndian.Uint64(ds[88:])
	if qbytes > MsgMnb {
		return unix.EPERM
	}
	q.set(decodePerm(ds))
	q.qbytes = qbytes
	q.ctime = now()
	q.wakeSenders()
	q.wakeReceivers(unix.EAGAIN)
	return nil
}

// MsgRemove implements IPC_RMID: waiters fail with EIDRM.
func (ns *Namespace) MsgRemove(c *vfs.Creds, id int) error {
	m := &ns.msg
	m.mu.Lock()
	defer m.mu.Unlock()
	q, ok := m.ids.lookup(id)
	if !ok {
		return unix.EINVAL
	}
	if !q.owner(c) {
		return unix.EPERM
	}
	m.ids.remove(q)
	q.wakeReceivers(unix.EIDRM)
	q.wakeSenders()
	m.msgs -= uint64(len(q.msgs))
	m.bytes -= q.cbytes
	q.msgs, q.cbytes = nil, 0
	return nil
}

// MsgInfo implements IPC_INFO (usage false) and MSG_INFO: struct msginfo
// and the highest index. Linux: ipc/msg.c (msgctl_info)
func (ns *Namespace) MsgInfo(usage bool) ([]byte, int) {
	m := &ns.msg
	m.mu.Lock()
	defer m.mu.Unlock()
	const pool = MsgMni * MsgMnb / 1024
	b := make([]byte, 32)
	le := binary.LittleEndian
	pool32, mapv, tql := uint32(pool), uint32(MsgMnb), uint32(MsgMnb)
	if usage {
		pool32, mapv, tql = uint32(len(m.ids.objs)), uint32(m.msgs), uint32(m.bytes)
	}
	le.PutUint32(b[0:], pool32)
	le.PutUint32(b[4:], mapv)
	le.PutUint32(b[8:], MsgMax)
	le.PutUint32(b[12:], MsgMnb)
	le.PutUint32(b[16:], MsgMni)
	le.PutUint32(b[20:], 16) // MSGSSZ
	le.PutUint32(b[24:], tql)
	le.PutUint16(b[28:], 0xffff) // MSGSEG, capped
	return b, m.ids.maxIdx()
}
