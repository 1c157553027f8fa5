package unix

import (
	"golang.org/x/sys/unix"

	"glassbox/internal/vfs"
)

// Out-of-band data on stream sockets (CONFIG_AF_UNIX_OOB): the last byte
// of a MSG_OOB send travels as a message of its own that the receiver
// marks as its oob message. A plain read stops before the mark once it
// has read something; at the mark it drops the byte (unless SO_OOBINLINE)
// and reads on. recv(MSG_OOB) takes the byte out of band. The receiver's
// owner gets SIGURG (urgent.go). Internal TCP connections are such stream
// pairs, so TCP's urgent byte behaves the same way on the loopback.
// Linux: net/unix/af_unix.c (queue_oob, manage_oob, unix_stream_recv_urg)

// sendOOB is a stream send with MSG_OOB: all bytes but the last as usual,
// then the last one as the peer's oob message.
func (s *Socket) sendOOB(ctx vfs.Ctx, src [][]byte, o SendOpts) (int, error) {
	total := bufsLen(src)
	if total == 0 {
		dropFiles(o.Rights)
		return 0, unix.EOPNOTSUPP
	}
	var head [][]byte
	var last byte
	left := total - 1
	for _, b := range src {
		if left == 0 {
			if len(b) > 0 {
				last = b[0]
				break
			}
			continue
		}
		k := min(left, len(b))
		head = append(head, b[:k])
		left -= k
		if k < len(b) {
			last = b[k]
			break
		}
	}
	o.Flags &^= unix.MSG_OOB
	sent := 0
	if total > 1 {
		n, err := s.sendStream(ctx, head, o)
		if err != nil || n < total-1 {
			return n, err
		}
		sent, o.Rights = n, nil
	}
	if err := s.queueOOB(ctx, last, o); err != nil {
		if sent > 0 {
			return sent, nil
		}
		return 0, err
	}
	return sent + 1, nil
}

// queueOOB queues the oob byte on the peer. Linux: queue_oob
func (s *Socket) queueOOB(ctx vfs.Ctx, b byte, o SendOpts) error {
	rights := o.Rights
	defer func() { dropFiles(rights) }()
	var urgent func()
	defer func() {
		if urgent != nil {
			urgent()
		}
	}()
	ns := s.ns
	ns.mu.Lock()
	defer ns.mu.Unlock()
	other := s.peer
	if other == nil {
		return unix.ENOTCONN
	}
	if s.shut&sendShutdown != 0 || other.dead || other.shut&rcvShutdown != 0 {
		return unix.EPIPE
	}
	_, ts := streamSkbSize(1, s.opts.sndbuf)
	m := &message{data: []byte{b}, from: s, size: ts, rights: rights, cred: s.credFor(ctx, other, &o), oob: true}
	rights = nil
	s.wmem += ts
	other.queue.push(m)
	other.inq++
	other.oobMsg = m
	other.notifyLocked()
	urgent = other.urgentFuncLocked() // sk_send_sigurg
	return nil
}

// recvOOB is recv(MSG_OOB) on a stream: the oob byte, EINVAL without one
// or with SO_OOBINLINE. Linux: unix_stream_recv_urg
func (s *Socket) recvOOB(dst [][]byte, flags int) (RecvResult, error) {
	s.ns.mu.Lock()
	defer s.ns.mu.Unlock()
	if s.state != stateConnected {
		return RecvResult{}, unix.EINVAL
	}
	m := s.oobMsg
	if m == nil || s.opts.flags[unix.SO_OOBINLINE] {
		return RecvResult{}, unix.EINVAL
	}
	w := writer{bufs: dst}
	w.write(m.data[:1])
	if flags&unix.MSG_PEEK == 0 {
		s.oobMsg = nil
		m.off = len(m.data) // consumed; readers skip it
		m.taken = true
		s.takenOOB++
		s.inq--
	}
	return RecvResult{N: 1, Flags: unix.MSG_OOB}, nil
}

// oobStepLocked applies the mark to a plain read at message m (index i of
// the queue) having read res.N bytes so far; the files of a message it
// drops go to res. It returns whether the read must
// stop, and whether m is to be skipped (next says the index to look at).
// Linux: manage_oob
func (s *Socket) oobStepLocked(m *message, i int, res *RecvResult, peek bool) (stop, skip bool, next int) {
	copied := res.N
	if !m.oob {
		return false, false, i
	}
	if m.off == len(m.data) { // an oob byte already taken
		if copied > 0 && (s.oobMsg == nil || m == s.oobMsg) {
			return true, false, i
		}
		if peek {
			return false, true, i + 1
		}
		res.Rights = append(res.Rights, s.popLocked()...)
		return false, true, i
	}
	if m != s.oobMsg {
		return false, false, i // an older mark: plain data now
	}
	if copied > 0 {
		return true, false, i
	}
	inline := s.opts.flags[unix.SO_OOBINLINE]
	if peek {
		if inline {
			return false, false, i
		}
		return false, true, i + 1
	}
	s.oobMsg = nil
	if inline {
		return false, false, i
	}
	res.Rights = append(res.Rights, s.popLocked()...) // the files still arrive
	return false, true, i
}

// atMarkLocked is SIOCATMARK: the next byte to read is the oob byte, or
// a plain read would stop at a taken one. Linux: unix_ioctl
func (s *Socket) atMarkLocked() bool {
	m := s.queue.at(0)
	if m == nil {
		return false
	}
	taken := m.oob && m.off == len(m.data)
	return m == s.oobMsg || taken && (s.oobMsg == nil || s.queue.at(1) == s.oobMsg)
}
