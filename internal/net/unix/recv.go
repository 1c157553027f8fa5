package unix

import (
	"golang.org/x/sys/unix"

	"glassbox/internal/vfs"
)

// RecvResult is what a receive got besides its data.
type RecvResult struct {
	N     int    // bytes copied, or with MSG_TRUNC a datagram's full length
	Flags int    // MSG_TRUNC when a datagram did not fit
	From  []byte // the sender's address (nil when it has none)
	// Rights are the files of an SCM_RIGHTS, references the caller owns.
	Rights []*vfs.File
	// Cred is the SCM_CREDENTIALS to deliver (nil unless SO_PASSCRED).
	Cred *Cred
	// Ctl are further ancillary messages to deliver, in order.
	Ctl []Cmsg
}

// Recv receives into dst (recv, recvfrom, recvmsg, read) with the MSG_*
// flags MSG_PEEK, MSG_DONTWAIT, MSG_WAITALL and MSG_TRUNC. wantFrom asks
// for the sender's address.
func (s *Socket) Recv(ctx vfs.Ctx, dst [][]byte, flags int, wantFrom bool) (RecvResult, error) {
	if flags&unix.MSG_OOB != 0 {
		if s.typ != unix.SOCK_STREAM {
			return RecvResult{}, unix.EOPNOTSUPP
		}
		return s.recvOOB(dst, flags)
	}
	if s.typ == unix.SOCK_STREAM {
		return s.recvStream(ctx, dst, flags, wantFrom)
	}
	return s.recvDgram(ctx, dst, flags, wantFrom)
}

// credOf is the SCM_CREDENTIALS of m for a receiver with SO_PASSCRED.
func credOf(m *message) *Cred {
	if m.cred != nil {
		c := *m.cred
		return &c
	}
	return &Cred{UID: overflowID, GID: overflowID}
}

func sameCred(a, b *Cred) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func fromOf(m *message, want bool) []byte {
	if !want || m.from == nil {
		return nil
	}
	return m.from.addr
}

// peekRights returns new references to m's files (MSG_PEEK passes
// copies and leaves the message its own). Linux: unix_peek_fds
func peekRights(m *message) []*vfs.File {
	if len(m.rights) == 0 {
		return nil
	}
	out := make([]*vfs.File, len(m.rights))
	for i, f := range m.rights {
		f.IncRef()
		out[i] = f
	}
	return out
}

// recvDgram takes one message; what does not fit is lost (MSG_TRUNC).
// Linux: net/unix/af_unix.c (__unix_dgram_recvmsg), net/core/datagram.c
// (__skb_try_recv_datagram, __skb_wait_for_more_packets)
func (s *Socket) recvDgram(ctx vfs.Ctx, dst [][]byte, flags int, wantFrom bool) (RecvResult, error) {
	ns := s.ns
	var res RecvResult
	nonblock := s.nonblock(flags)
	ns.mu.Lock()
	if s.typ == unix.SOCK_SEQPACKET && s.state != stateConnected {
		ns.mu.Unlock()
		return res, unix.ENOTCONN
	}
	until := deadline(s.opts.rcvtimeo)
	for {
		if err := s.takeErrLocked(); err != nil {
			ns.mu.Unlock()
			return res, err
		}
		if s.queue.len() > 0 {
			break
		}
		if nonblock {
			ns.mu.Unlock()
			if s.typ == unix.SOCK_SEQPACKET && s.shut&rcvShutdown != 0 {
				return res, nil // EOF
			}
			return res, unix.EAGAIN
		}
		if s.shut&rcvShutdown != 0 {
			ns.mu.Unlock()
			return res, nil
		}
		if s.typ == unix.SOCK_SEQPACKET && s.state != stateConnected {
			ns.mu.Unlock()
			return res, unix.ENOTCONN
		}
		ch := s.changedLocked()
		ns.mu.Unlock()
		if err := Wait(ctx, ch, until); err != nil {
			return res, err
		}
		ns.mu.Lock()
	}
	m := s.queue.at(0)
	w := writer{bufs: dst}
	res.N = w.write(m.data)
	if res.N < len(m.data) {
		res.Flags |= unix.MSG_TRUNC
	}
	if flags&unix.MSG_TRUNC != 0 {
		res.N = len(m.data)
	}
	res.From = fromOf(m, wantFrom)
	if s.opts.passcred {
		res.Cred = credOf(m)
	}
	if flags&unix.MSG_PEEK != 0 {
		res.Rights = peekRights(m)
	} else {
		res.Rights = s.popLocked()
	}
	ns.mu.Unlock()
	return res, nil
}

// recvStream reads bytes across skbs until dst is full or, without
// MSG_WAITALL, SO_RCVLOWAT bytes are read and no more wait. It never
// joins data sent with files to later data, nor (with SO_PASSCRED) data
// of different senders. Linux: net/unix/af_unix.c
// (unix_stream_read_generic)
func (s *Socket) recvStream(ctx vfs.Ctx, dst [][]byte, flags int, wantFrom bool) (RecvResult, error) {
	var res RecvResult
	nonblock := s.nonblock(flags) // the file's lock, before ns.mu
	s.ns.mu.Lock()
	err := s.recvStreamLocked(ctx, dst, flags, nonblock, wantFrom, &res)
	if err == nil && res.Cred == nil && s.opts.passcred {
		// A read that took no skb (EOF) still reports credentials: the
		// zeroed scm_cookie, pid 0 and root's ids.
		res.Cred = &Cred{}
	}
	s.ns.mu.Unlock()
	if err != nil && Errno(err) == unix.EINTR {
		dropFiles(res.Rights) // Linux: scm_destroy on a signal
		res.Rights, res.Cred = nil, nil
	}
	if res.N > 0 {
		err = nil
	}
	return res, err
}

func (s *Socket) recvStreamLocked(ctx vfs.Ctx, dst [][]byte, flags int, nonblock, wantFrom bool, res *RecvResult) error {
	if s.state != stateConnected {
		return unix.EINVAL
	}
	peek := flags&unix.MSG_PEEK != 0
	size := bufsLen(dst)
	w := writer{bufs: dst}
	target := min(int(s.opts.rcvlowat), size)
	if flags&unix.MSG_WAITALL != 0 {
		target = size
	}
	target = max(target, 1)
	until := deadline(s.opts.rcvtimeo)
	i := 0 // the next message to peek at
	// Linux's do { } while (size): even a recv of 0 bytes waits for data.
	for {
		m := s.queue.at(i)
		if m == nil {
			if res.N >= target || peek && i > 0 {
				return nil
			}
			if err := s.takeErrLocked(); err != nil {
				return err
			}
			if s.shut&rcvShutdown != 0 {
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
			i = 0
			continue
		}
		if stop, skip, next := s.oobStepLocked(m, i, res, peek); stop {
			return nil
		} else if skip {
			i = next
			continue
		}
		if s.opts.passcred {
			c := credOf(m)
			if res.Cred == nil {
				res.Cred = c
			} else if !sameCred(res.Cred, c) {
				return nil // never glue data of different writers
			}
		}
		if f := fromOf(m, wantFrom); f != nil {
			res.From = f
		}
		chunk := w.write(m.data[m.off:])
		res.N += chunk
		size -= chunk
		if peek {
			if len(m.rights) > 0 {
				res.Rights = peekRights(m)
				return nil
			}
			i++
		} else if done := s.consumeLocked(m, chunk, res); done {
			return nil
		}
		if size == 0 {
			return nil
		}
	}
}

// consumeLocked marks chunk bytes of the head message read, taking its
// files; done says the read must stop there (the message is not used up,
// or it carried files).
func (s *Socket) consumeLocked(m *message, chunk int, res *RecvResult) (done bool) {
	m.off += chunk
	s.inq -= chunk
	got := len(m.rights) > 0
	if got {
		res.Rights, m.rights = m.rights, nil
	}
	if m.off < len(m.data) {
		return true
	}
	s.popLocked() // its files are taken: nothing to release
	return got
}
