package unix

import (
	"time"

	"golang.org/x/sys/unix"

	"glassbox/internal/vfs"
)

// SendOpts is what a send carries besides its data.
type SendOpts struct {
	// To is the destination of sendto/sendmsg (nil: the peer).
	To *Name
	// Flags are the MSG_* flags (MSG_DONTWAIT, MSG_OOB...); MSG_NOSIGNAL
	// is the caller's: Send returns unix.EPIPE when Linux would raise
	// SIGPIPE, and a plain EPIPE (see Plain) when it would not.
	Flags int
	// Rights are the files of SCM_RIGHTS. Send takes over these
	// references whatever it returns.
	Rights []*vfs.File
	// Cred is an SCM_CREDENTIALS the caller has checked.
	Cred *Cred
	// Ctl are the other ancillary messages (IP and IPv6 levels), for
	// inet sockets.
	Ctl []Cmsg
}

// Cmsg is one ancillary message other than SCM_RIGHTS and
// SCM_CREDENTIALS.
type Cmsg struct {
	Level, Type int
	Data        []byte
}

// Send sends src (send, sendto, sendmsg, write). It returns how much was
// sent: a stream send may stop early when interrupted or in non-blocking
// mode, a datagram is sent whole or not at all.
func (s *Socket) Send(ctx vfs.Ctx, src [][]byte, o SendOpts) (int, error) {
	if o.Flags&unix.MSG_OOB != 0 && s.typ != unix.SOCK_STREAM {
		dropFiles(o.Rights)
		return 0, unix.EOPNOTSUPP
	}
	var n int
	var err error
	if o.Flags&unix.MSG_OOB != 0 {
		n, err = s.sendOOB(ctx, src, o)
	} else if s.typ == unix.SOCK_STREAM {
		n, err = s.sendStream(ctx, src, o)
	} else {
		n, err = s.sendDgram(ctx, src, o)
	}
	vfs.Account(ctx, false, n)
	return n, err
}

// credFor returns the credentials a message to other carries: the
// explicit ones, or the sender's when either side asked for
// SO_PASSCRED. Linux: net/unix/af_unix.c (unix_maybe_add_creds)
func (s *Socket) credFor(ctx vfs.Ctx, other *Socket, o *SendOpts) *Cred {
	if o.Cred != nil {
		return o.Cred
	}
	if s.opts.passcred || other.opts.passcred {
		c := SCMCred(ctx)
		return &c
	}
	return nil
}

// sendStream queues src on the peer in skbs of at most half the send
// buffer, waiting while this socket's queued data fills SO_SNDBUF. The
// files go with the first skb. Linux: net/unix/af_unix.c
// (unix_stream_sendmsg), net/core/sock.c (sock_alloc_send_pskb)
func (s *Socket) sendStream(ctx vfs.Ctx, src [][]byte, o SendOpts) (int, error) {
	ns := s.ns
	rights := o.Rights
	defer func() { dropFiles(rights) }()
	total := bufsLen(src)
	nonblock := s.nonblock(o.Flags)
	r := reader{bufs: src}
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if o.To != nil {
		if s.state == stateConnected {
			return 0, unix.EISCONN
		}
		return 0, unix.EOPNOTSUPP
	}
	other := s.peer
	if other == nil {
		return 0, unix.ENOTCONN
	}
	if s.shut&sendShutdown != 0 {
		return 0, unix.EPIPE
	}
	until := deadline(s.opts.sndtimeo)
	sent := 0
	for sent < total {
		if err := s.waitSndbufLocked(ctx, nonblock, until); err != nil {
			if sent > 0 {
				return sent, nil
			}
			return 0, err
		}
		size, ts := streamSkbSize(total-sent, s.opts.sndbuf)
		if other.dead || other.shut&rcvShutdown != 0 {
			if sent > 0 {
				return sent, nil
			}
			return 0, unix.EPIPE
		}
		m := &message{data: r.next(size), from: s, size: ts, rights: rights, cred: s.credFor(ctx, other, &o)}
		rights = nil
		s.wmem += ts
		other.queue.push(m)
		other.inq += size
		other.notifyLocked()
		sent += size
	}
	return sent, nil
}

// waitSndbufLocked waits (dropping ns.mu) until s may allocate another
// skb: its charges are below SO_SNDBUF. A pending error or a shut down
// send side ends it. Linux: net/core/sock.c (sock_alloc_send_pskb)
func (s *Socket) waitSndbufLocked(ctx vfs.Ctx, nonblock bool, until time.Time) error {
	for {
		if err := s.takeErrLocked(); err != nil {
			return err
		}
		if s.shut&sendShutdown != 0 {
			return plainErrno{unix.EPIPE}
		}
		if s.wmem < s.opts.sndbuf {
			return nil
		}
		if nonblock {
			return unix.EAGAIN
		}
		ch := s.changedLocked()
		s.ns.mu.Unlock()
		err := Wait(ctx, ch, until)
		s.ns.mu.Lock()
		if err != nil {
			return err
		}
	}
}

// sendDgram sends one datagram to o.To or the peer. It blocks while this
// socket's charges fill SO_SNDBUF, and while a receiver that is not
// connected back has more than its max_dgram_qlen messages queued.
// Linux: net/unix/af_unix.c (unix_dgram_sendmsg, unix_seqpacket_sendmsg)
func (s *Socket) sendDgram(ctx vfs.Ctx, src [][]byte, o SendOpts) (int, error) {
	ns := s.ns
	rights := o.Rights
	defer func() { dropFiles(rights) }()
	nonblock := s.nonblock(o.Flags)
	total := bufsLen(src)
	ns.mu.Lock()
	if s.typ == unix.SOCK_SEQPACKET {
		if err := s.takeErrLocked(); err != nil {
			ns.mu.Unlock()
			return 0, err
		}
		if s.state != stateConnected {
			ns.mu.Unlock()
			return 0, unix.ENOTCONN
		}
		o.To = nil
	}
	if s.opts.passcred {
		if err := s.autobindLocked(); err != nil {
			ns.mu.Unlock()
			return 0, err
		}
	}
	if total > s.opts.sndbuf-32 {
		ns.mu.Unlock()
		return 0, unix.EMSGSIZE
	}
	until := deadline(s.opts.sndtimeo)
	if err := s.waitSndbufLocked(ctx, nonblock, until); err != nil {
		ns.mu.Unlock()
		return 0, err
	}
	m := &message{data: (&reader{bufs: src}).next(total), from: s, size: dgramTruesize(total)}
	m.rights, rights = rights, nil
	s.wmem += m.size // charged from allocation on
	ns.mu.Unlock()
	drop, err := s.deliverDgram(ctx, m, &o, nonblock, until)
	dropFiles(drop)
	if err != nil {
		ns.mu.Lock()
		rights = freeLocked(m)
		ns.mu.Unlock()
		return 0, err
	}
	return total, nil
}

// deliverDgram finds the receiver of m and queues it there. It returns
// files to release (a purged queue) with its error.
func (s *Socket) deliverDgram(ctx vfs.Ctx, m *message, o *SendOpts, nonblock bool, until time.Time) ([]*vfs.File, error) {
	ns := s.ns
	for {
		var other *Socket
		if o.To != nil {
			var err error
			if other, err = ns.find(ctx, o.To, s.typ); err != nil {
				return nil, err
			}
			ns.mu.Lock()
		} else {
			ns.mu.Lock()
			if other = s.peer; other == nil {
				ns.mu.Unlock()
				return nil, unix.ENOTCONN
			}
		}
		drop, again, err := s.queueDgramLocked(ctx, other, m, o, nonblock, until)
		ns.mu.Unlock()
		if !again {
			return drop, err
		}
	}
}

// queueDgramLocked queues m on other, waiting for room; again asks the
// caller to look the destination up again (it was released).
func (s *Socket) queueDgramLocked(ctx vfs.Ctx, other *Socket, m *message, o *SendOpts, nonblock bool, until time.Time) (drop []*vfs.File, again bool, err error) {
	ns := s.ns
	for {
		if other.peer != nil && other.peer != s {
			return nil, false, unix.EPERM
		}
		if other.dead {
			switch {
			case s.typ == unix.SOCK_SEQPACKET:
				return nil, false, plainErrno{unix.EPIPE}
			case s.peer == other:
				s.peer, s.state = nil, stateClosed
				delete(other.peerWake, s)
				return s.disconnectedLocked(other), false, unix.ECONNREFUSED
			case o.To == nil:
				return nil, false, unix.ECONNRESET
			}
			return nil, true, nil
		}
		if other.shut&rcvShutdown != 0 {
			return nil, false, plainErrno{unix.EPIPE}
		}
		if other == s || other.peer == s || other.queue.len() <= other.backlog {
			break
		}
		if nonblock {
			if s.peer == other {
				other.watchDrainLocked(s)
			}
			return nil, false, unix.EAGAIN
		}
		ch := other.changedLocked()
		ns.mu.Unlock()
		err := Wait(ctx, ch, until)
		ns.mu.Lock()
		if err != nil {
			return nil, false, err
		}
	}
	m.cred = s.credFor(ctx, other, o)
	other.queue.push(m)
	other.inq += len(m.data)
	other.notifyLocked()
	return nil, false, nil
}

// watchDrainLocked asks s to wake w when its queue drains.
func (s *Socket) watchDrainLocked(w *Socket) {
	if s.peerWake == nil {
		s.peerWake = map[*Socket]bool{}
	}
	s.peerWake[w] = true
}
