package inet

import (
	"golang.org/x/sys/unix"

	unixsock "glassbox/internal/net/unix"
	"glassbox/internal/vfs"
)

func unixFromFile(f *vfs.File) (*unixsock.Socket, bool) { return unixsock.FromFile(f) }

// SendTo sends src (send, sendto, sendmsg, write) to the sockaddr to (nil:
// the peer). flags are MSG_* flags; MSG_NOSIGNAL is the caller's: EPIPE
// comes back as unix.EPIPE where Linux raises SIGPIPE.
func (s *Socket) SendTo(ctx vfs.Ctx, src [][]byte, to []byte, flags int) (int, error) {
	if s.h != nil {
		return s.hostSend(ctx, src, to, flags)
	}
	if s.typ == unix.SOCK_DGRAM {
		return s.sendDgram(ctx, src, to, flags)
	}
	// A TCP socket ignores the address of sendto. Linux: tcp_sendmsg
	c := s.conn()
	if c == nil {
		s.st.mu.Lock()
		err := s.takeErrLocked()
		s.st.mu.Unlock()
		if err != nil {
			return 0, err
		}
		return 0, unix.EPIPE // Linux: sk_stream_wait_connect
	}
	if s.nonblock(flags) {
		flags |= unix.MSG_DONTWAIT
	}
	n, err := c.Send(ctx, src, unixsock.SendOpts{Flags: flags &^ unix.MSG_NOSIGNAL})
	if err == unix.EPIPE && s.peerReset(c) {
		// The peer closed with data unread: its RST came back at once, and
		// the send reports it (then EPIPE). Linux: tcp_reset, sk_stream_error
		return n, unix.ECONNRESET
	}
	if err == unix.EPIPE {
		if sndbuf, ok := s.peerClosed(); ok {
			// The peer closed: TCP still sends what this write fits in
			// the send buffer, and the peer's reset makes the next write
			// EPIPE. Never more: a writer looping until its data is out
			// (writev of a gigabyte) must get to see the error.
			// Linux: tcp_sendmsg_locked, tcp_reset (CLOSE_WAIT)
			for _, b := range src {
				n += len(b)
			}
			return min(n, sndbuf), nil
		}
	}
	return n, err
}

// peerReset takes a reset the peer's close left pending on the inner
// stream (it closed with data unread) and reports whether there was one.
func (s *Socket) peerReset(c *unixsock.Socket) bool {
	err := c.TakeError()
	if err == nil {
		return false
	}
	if err != unix.ECONNRESET {
		if e, ok := err.(unix.Errno); ok {
			c.SetError(e) // not ours: leave it for whoever asks next
		}
		return false
	}
	s.st.mu.Lock()
	s.reset = true
	s.st.mu.Unlock()
	return true
}

// peerClosed reports, the first time only, that a write found the
// connection closed by the peer rather than shut down here, with the
// socket's send buffer size.
func (s *Socket) peerClosed() (int, bool) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	if s.shut&sendShutdown != 0 || s.reset {
		return 0, false
	}
	s.reset = true
	return s.opts.sndbuf, true
}

// RecvFrom receives into dst (recv, recvfrom, recvmsg, read) with
// MSG_PEEK, MSG_DONTWAIT, MSG_WAITALL and MSG_TRUNC. It returns the
// byte count, the msg_flags (MSG_TRUNC) and, when wantFrom, the sender's
// address (datagrams only: TCP reports none, as Linux).
func (s *Socket) RecvFrom(ctx vfs.Ctx, dst [][]byte, flags int, wantFrom bool) (int, int, []byte, error) {
	if s.h != nil {
		return s.hostRecv(ctx, dst, flags, wantFrom)
	}
	if s.typ == unix.SOCK_DGRAM {
		return s.recvDgram(ctx, dst, flags, wantFrom)
	}
	c := s.conn()
	if c == nil {
		s.st.mu.Lock()
		err := s.takeErrLocked()
		s.st.mu.Unlock()
		if err != nil {
			return 0, 0, nil, err
		}
		s.st.mu.Lock()
		eof := s.shut&rcvShutdown != 0 && s.state != stateListening
		s.st.mu.Unlock()
		if eof {
			return 0, 0, nil, nil // shut down before it connected. Linux: tcp_recvmsg_locked
		}
		return 0, 0, nil, unix.ENOTCONN
	}
	if s.nonblock(flags) {
		flags |= unix.MSG_DONTWAIT
	}
	r, err := c.Recv(ctx, dst, flags, false)
	for _, f := range r.Rights {
		f.DecRef()
	}
	return r.N, r.Flags, nil, err
}

// Shutdown shuts down reception, sending or both. A socket that is not
// connected gets ENOTCONN (a UDP socket's bits are still set); SHUT_RD
// on a listener stops it. Linux: net/ipv4/af_inet.c (inet_shutdown)
func (s *Socket) Shutdown(how int) error {
	if s.h != nil {
		return s.h.shutdown(how)
	}
	if how < unix.SHUT_RD || how > unix.SHUT_RDWR {
		return unix.EINVAL
	}
	mode := how + 1
	st := s.st
	st.mu.Lock()
	defer st.mu.Unlock()
	switch s.state {
	case stateConnected:
		s.shut |= mode
		s.notifyLocked()
		if s.innerSock != nil {
			return s.innerSock.Shutdown(how)
		}
		return nil
	case stateListening:
		if mode&rcvShutdown != 0 {
			s.state = stateClosed
			s.shut |= mode
			s.notifyLocked()
		}
		return nil
	}
	// The bits are set all the same. Linux: net/ipv4/af_inet.c (inet_shutdown)
	s.shut |= mode
	s.notifyLocked()
	return unix.ENOTCONN
}

// LocalAddr returns the socket's address (getsockname).
func (s *Socket) LocalAddr() []byte {
	if s.h != nil {
		return s.h.localAddr()
	}
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	return s.localLocked()
}

// PeerAddr returns the peer's address (getpeername); ENOTCONN without
// one.
func (s *Socket) PeerAddr() ([]byte, error) {
	if s.h != nil {
		return s.h.peerAddr()
	}
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	if s.state != stateConnected || s.connecting && s.typ == unix.SOCK_STREAM && s.inner == nil {
		return nil, unix.ENOTCONN
	}
	return encodeAddr(s.family, s.peer), nil
}

// TakeError returns and clears the pending error (sock_error).
func (s *Socket) TakeError() error {
	if s.h != nil {
		return s.h.takeError()
	}
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	if err := s.takeErrLocked(); err != nil {
		return err
	}
	if s.innerSock != nil {
		return s.innerSock.TakeError()
	}
	return nil
}

// SetError makes e the pending error (recvmmsg's deferred error).
func (s *Socket) SetError(e unix.Errno) {
	if s.h != nil {
		s.h.setError(e)
		return
	}
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	s.err = e
	s.notifyLocked()
}
