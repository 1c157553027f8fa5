package unix

import (
	"golang.org/x/sys/unix"

	"glassbox/internal/vfs"
)

// Cred is a process identity as struct ucred carries it (SO_PEERCRED,
// SCM_CREDENTIALS).
type Cred struct {
	PID      int32
	UID, GID uint32
}

// noCred is what SO_PEERCRED reports for a socket that never had a peer.
var noCred = Cred{PID: 0, UID: ^uint32(0), GID: ^uint32(0)}

// overflowID is what a missing credential reads as in SCM_CREDENTIALS
// (from_kuid_munged of INVALID_UID). Linux: kernel/sys.c (overflowuid)
const overflowID = 65534

// pider is implemented by tasks: their thread-group id.
type pider interface{ PID() int }

func pidOf(ctx vfs.Ctx) int32 {
	if p, ok := ctx.(pider); ok {
		return int32(p.PID())
	}
	return 0
}

// PeerCred is the caller's identity as SO_PEERCRED records it: effective
// ids. Linux: include/linux/cred.h (cred_to_ucred)
func PeerCred(ctx vfs.Ctx) Cred {
	c := ctx.Creds()
	if c == nil {
		return Cred{PID: pidOf(ctx)}
	}
	return Cred{PID: pidOf(ctx), UID: c.EUID, GID: c.EGID}
}

// SCMCred is the caller's identity as a message carries it by default:
// real ids. Linux: net/unix/af_unix.c (unix_maybe_add_creds,
// current_uid_gid)
func SCMCred(ctx vfs.Ctx) Cred {
	c := ctx.Creds()
	if c == nil {
		return Cred{PID: pidOf(ctx)}
	}
	return Cred{PID: pidOf(ctx), UID: c.UID, GID: c.GID}
}

// message is one skb of a receive queue: a datagram, or one chunk of a
// stream write.
type message struct {
	data   []byte
	off    int     // bytes already read (streams)
	from   *Socket // the sender, charged size until the message is freed
	size   int     // true size charged to from.wmem
	rights []*vfs.File
	cred   *Cred
	oob    bool // an out-of-band byte (oob.go)
	taken  bool // the oob byte was taken by recv(MSG_OOB)
}

// Sizes of Linux's skb accounting on x86-64. Linux: include/linux/skbuff.h
// (SKB_TRUESIZE, SKB_MAX_HEAD, SKB_MAX_ALLOC), net/unix/af_unix.c
const (
	skbOverhead    = 256 // SKB_DATA_ALIGN(sizeof(struct sk_buff))
	shinfoSize     = 320 // SKB_DATA_ALIGN(sizeof(struct skb_shared_info))
	pageSize       = 4096
	maxHead        = pageSize - shinfoSize
	streamFrags    = 32768 // UNIX_SKB_FRAGS_SZ
	maxStreamSkb   = maxHead + streamFrags
	maxDgramLinear = 4*pageSize - shinfoSize // SKB_MAX_ALLOC
	maxSkbFrags    = 17                      // MAX_SKB_FRAGS
)

// kmallocSize is the slab (or page allocation) kmalloc serves n bytes
// from. Linux: mm/slab_common.c (kmalloc_info), kmalloc_large
func kmallocSize(n int) int {
	for _, s := range []int{8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192} {
		if n <= s {
			return s
		}
	}
	s := pageSize
	for s < n {
		s <<= 1
	}
	return s
}

func align(n, a int) int { return (n + a - 1) / a * a }

// truesize is an skb's charge: a linear head of head bytes plus dataLen
// bytes in page fragments.
func truesize(head, dataLen int) int {
	return skbOverhead + kmallocSize(align(head, 64)+shinfoSize) + dataLen
}

// streamSkbSize splits the rest of a stream write into the next skb: its
// length and true size. Linux: net/unix/af_unix.c (unix_stream_sendmsg)
func streamSkbSize(rest, sndbuf int) (int, int) {
	size := min(rest, sndbuf/2-64, maxStreamSkb)
	dataLen := min(size, align(max(0, size-maxHead), pageSize))
	return size, truesize(size-dataLen, dataLen)
}

// dgramTruesize is the charge of one datagram of n bytes.
// Linux: net/unix/af_unix.c (unix_dgram_sendmsg)
func dgramTruesize(n int) int {
	dataLen := 0
	if n > maxDgramLinear {
		dataLen = align(min(n-maxDgramLinear, maxSkbFrags*pageSize), pageSize)
	}
	return truesize(n-dataLen, dataLen)
}

// reader gathers bytes from a list of buffers in order.
type reader struct{ bufs [][]byte }

func (r *reader) next(n int) []byte {
	out := make([]byte, 0, n)
	for len(out) < n && len(r.bufs) > 0 {
		k := copy(out[len(out):n], r.bufs[0])
		out = out[:len(out)+k]
		r.bufs[0] = r.bufs[0][k:]
		if len(r.bufs[0]) == 0 {
			r.bufs = r.bufs[1:]
		}
	}
	return out
}

// writer scatters bytes into a list of buffers in order.
type writer struct{ bufs [][]byte }

func (w *writer) write(p []byte) int {
	n := 0
	for len(p) > 0 && len(w.bufs) > 0 {
		k := copy(w.bufs[0], p)
		p, n = p[k:], n+k
		w.bufs[0] = w.bufs[0][k:]
		if len(w.bufs[0]) == 0 {
			w.bufs = w.bufs[1:]
		}
	}
	return n
}

// bufsLen is the total length of bufs.
func bufsLen(bufs [][]byte) int {
	n := 0
	for _, b := range bufs {
		n += len(b)
	}
	return n
}

// msgQueue is a FIFO of messages.
type msgQueue struct {
	items []*message
	head  int
}

func (q *msgQueue) len() int { return len(q.items) - q.head }

func (q *msgQueue) at(i int) *message {
	if i >= q.len() {
		return nil
	}
	return q.items[q.head+i]
}

func (q *msgQueue) push(m *message) { q.items = append(q.items, m) }

func (q *msgQueue) pop() *message {
	m := q.items[q.head]
	q.items[q.head] = nil
	q.head++
	if q.head == len(q.items) {
		q.items, q.head = q.items[:0], 0
	} else if q.head > 64 && q.head > len(q.items)/2 {
		n := copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items, q.head = q.items[:n], 0
	}
	return m
}

// plainErrno is an errno the generic syscall paths must take as it is:
// they raise SIGPIPE for unix.EPIPE and restart unix.EINTR, while Linux
// raises no SIGPIPE for datagram sockets and gives EINTR, not a restart,
// to a wait with SO_RCVTIMEO or SO_SNDTIMEO. It still encodes as its errno
// (errors.As).
type plainErrno struct{ unix.Errno }

func (e plainErrno) Unwrap() error { return e.Errno }

// PlainErrno wraps e so that the syscall layer takes it as it is (see
// plainErrno); the inet and netlink sockets use it too.
func PlainErrno(e unix.Errno) error { return plainErrno{e} }

// Errno returns err's errno, looking through plainErrno.
func Errno(err error) unix.Errno {
	switch e := err.(type) {
	case unix.Errno:
		return e
	case plainErrno:
		return e.Errno
	}
	return 0
}

// Plain reports whether err is an errno the caller must neither restart
// nor turn into SIGPIPE.
func Plain(err error) bool {
	_, ok := err.(plainErrno)
	return ok
}
