package inet

import (
	"net/netip"

	"golang.org/x/sys/unix"

	unixsock "glassbox/internal/net/unix"
	"glassbox/internal/vfs"
)

// Bind names the socket (bind(2)). The address must be one of the
// sandbox's (127.0.0.0/8, ::1, or a wildcard): others are EADDRNOTAVAIL.
// Port 0 picks an ephemeral port. Linux: net/ipv4/af_inet.c
// (__inet_bind), net/ipv6/af_inet6.c (__inet6_bind)
func (s *Socket) Bind(b []byte) error { return s.BindPriv(b, true) }

// BindPriv is Bind for a caller that may (priv) or may not bind a port
// below 1024 (CAP_NET_BIND_SERVICE): EACCES then.
// Linux: net/ipv4/af_inet.c (__inet_bind: inet_port_requires_bind_service)
func (s *Socket) BindPriv(b []byte, priv bool) error {
	if s.h != nil {
		if !priv && lowPort(b) {
			return unix.EACCES
		}
		return s.h.bind(b)
	}
	ap, unspec, err := parseAddr(s.family, b)
	if err != nil {
		return err
	}
	if unspec {
		// Linux accepts AF_UNSPEC with INADDR_ANY on an AF_INET socket
		// for compatibility; an AF_INET6 socket refuses it.
		if s.family == unix.AF_INET6 || ap.Addr().IsValid() && !ap.Addr().IsUnspecified() {
			return unix.EAFNOSUPPORT
		}
		ap = netip.AddrPortFrom(netip.IPv4Unspecified(), 0)
		if len(b) >= sockaddrInLen {
			ap = netip.AddrPortFrom(netip.IPv4Unspecified(), uint16(b[2])<<8|uint16(b[3]))
		}
	}
	ip := ap.Addr()
	st := s.st
	st.mu.Lock()
	defer st.mu.Unlock()
	if s.family == unix.AF_INET6 && ip.Is4() && s.v6only {
		return unix.EINVAL
	}
	if !ip.IsUnspecified() && (!ip.IsLoopback() || st.down.Load()) {
		return unix.EADDRNOTAVAIL
	}
	if p := ap.Port(); p != 0 && p < 1024 && !priv {
		return unix.EACCES
	}
	if s.bound || s.dead || s.state != stateClosed {
		return unix.EINVAL
	}
	return st.bindLocked(s, ip, ap.Port())
}

// Listen makes a stream socket accept connections, at most backlog+1
// pending; an unbound socket gets an ephemeral port on the wildcard
// address. Linux: net/ipv4/af_inet.c (__inet_listen_sk),
// inet_connection_sock.c (inet_csk_listen_start)
func (s *Socket) Listen(backlog int) error {
	if s.h != nil {
		return s.h.listen(backlog)
	}
	if s.typ != unix.SOCK_STREAM {
		return unix.EOPNOTSUPP
	}
	if uint32(backlog) > soMaxConn {
		backlog = soMaxConn
	}
	st := s.st
	st.mu.Lock()
	defer st.mu.Unlock()
	if s.state != stateClosed && s.state != stateListening || s.connecting {
		return unix.EINVAL
	}
	if s.state == stateClosed {
		// A shutdown before listen does not stop a listener (Linux
		// checks no sk_shutdown bits on incoming connections).
		s.shut = 0
		if !s.bound {
			any := netip.IPv4Unspecified()
			if s.family == unix.AF_INET6 {
				any = netip.IPv6Unspecified()
			}
			if err := st.bindLocked(s, any, 0); err != nil {
				return err
			}
		}
		// Two listeners on one address need SO_REUSEPORT on both.
		sp := s.spanLocked()
		for _, o := range st.bound[portKey{s.space(), s.local.Port()}] {
			if o != s && o.state == stateListening && sp.overlaps(o.spanLocked()) &&
				!(s.opts.reuseport && o.opts.reuseport && s.uid == o.uid) {
				return unix.EADDRINUSE
			}
		}
	}
	s.backlog = backlog
	s.state = stateListening
	s.shut = 0
	s.notifyLocked()
	return nil
}

// Connect connects the socket (connect(2)). On the loopback a stream
// connection is made at once: a blocking connect returns 0, a
// non-blocking one EINPROGRESS with the socket already writable and
// SO_ERROR 0 (the next connect returns 0, then EISCONN), as Linux does.
// With no listener the answer is ECONNREFUSED (for a non-blocking
// connect through SO_ERROR after EINPROGRESS). Linux: net/ipv4/af_inet.c
// (__inet_stream_connect), net/ipv4/tcp_ipv4.c (tcp_v4_connect)
func (s *Socket) Connect(ctx vfs.Ctx, b []byte) error {
	if s.h != nil {
		return s.h.connect(ctx, b, s.nonblock(0))
	}
	ap, unspec, err := parseAddr(s.family, b)
	if err != nil {
		return err
	}
	if s.st.down.Load() && !unspec {
		return unix.ENETUNREACH
	}
	if s.typ == unix.SOCK_DGRAM {
		return s.connectDgram(ap, unspec)
	}
	if unspec {
		return s.disconnect()
	}
	st := s.st
	nonblock := s.nonblock(0)
	st.mu.Lock()
	until := s.opts.sndtimeo.Deadline()
	if s.connecting {
		s.connecting = false
		if s.state == stateConnected {
			st.mu.Unlock()
			return nil
		}
		err := s.takeErrLocked()
		st.mu.Unlock()
		if err == nil {
			err = unix.ECONNABORTED
		}
		return err
	}
	for {
		if s.state != stateClosed {
			st.mu.Unlock()
			return unix.EISCONN
		}
		if err := s.checkFamilyLocked(ap.Addr()); err != nil {
			st.mu.Unlock()
			return err
		}
		dst, src, err := route(ap.Addr())
		if err != nil {
			st.mu.Unlock()
			return err
		}
		dstAP := netip.AddrPortFrom(dst, ap.Port())
		l := st.lookupLocked(unix.SOCK_STREAM, dstAP, func(o *Socket) bool {
			return o.state == stateListening && o.shut&rcvShutdown == 0
		})
		if l == nil || ap.Port() == 0 {
			st.mu.Unlock()
			if nonblock {
				s.refused()
				return unix.EINPROGRESS
			}
			return unix.ECONNREFUSED
		}
		if len(l.pending) > l.backlog && !nonblock {
			// Linux drops the SYN and the client retries; waiting for
			// room in the accept queue is what the program observes.
			ch := l.changedLocked()
			st.mu.Unlock()
			if err := unixsock.Wait(ctx, ch, until); err != nil {
				return err
			}
			st.mu.Lock()
			continue
		}
		if err := st.connectLocked(ctx, s, l, dstAP, src); err != nil {
			st.mu.Unlock()
			return err
		}
		if nonblock {
			s.connecting = true
		}
		st.mu.Unlock()
		if nonblock {
			return unix.EINPROGRESS
		}
		return nil
	}
}

// refused records a refused non-blocking connect: SO_ERROR says
// ECONNREFUSED and the socket polls as closed (tcp_reset, tcp_done).
func (s *Socket) refused() {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	s.err = unix.ECONNREFUSED
	s.shut = shutdownMask
	s.connecting = true
	s.notifyLocked()
}

// connectLocked makes the connection of s to listener l: a unix socket
// pair, one end for s, the other for the embryo queued on l.
func (st *Stack) connectLocked(ctx vfs.Ctx, s, l *Socket, dst netip.AddrPort, src netip.Addr) error {
	if !s.bound {
		if err := st.bindLocked(s, src, 0); err != nil {
			return unix.EADDRNOTAVAIL
		}
	} else {
		s.setSrcLocked(src)
	}
	a, b := st.pairs.NewPair(ctx, unix.SOCK_STREAM, 0)
	e := st.newSocket(l.family, unix.SOCK_STREAM)
	e.opts = l.opts.clone()
	e.uid, e.v6only = l.uid, l.v6only
	e.state, e.local, e.peer = stateConnected, dst, s.local
	e.setInnerLocked(b, a)
	e.bound = true
	k := portKey{unix.SOCK_STREAM, dst.Port()}
	st.bound[k] = append(st.bound[k], e)
	s.state, s.peer, s.shut = stateConnected, dst, 0
	s.setInnerLocked(a, b)
	l.pending = append(l.pending, e)
	l.notifyLocked()
	s.notifyLocked()
	return nil
}

func (s *Socket) setInnerLocked(mine, other *vfs.File) {
	s.inner = mine
	s.innerSock, _ = unixFromFile(mine)
	s.peerInner, _ = unixFromFile(other)
	if s.innerSock != nil {
		// The inet file is the one with an owner: tcp_urg's SIGURG.
		s.innerSock.SetTCP(func() {
			if f := s.file.Load(); f != nil {
				f.Urgent()
			}
		})
	}
	s.replayLocked()
}

// disconnect is connect(AF_UNSPEC) on a stream socket: the connection is
// reset. Linux: net/ipv4/tcp.c (tcp_disconnect)
func (s *Socket) disconnect() error {
	st := s.st
	st.mu.Lock()
	inner := s.inner
	if inner != nil {
		if s.peerInner != nil {
			s.peerInner.SetError(unix.ECONNRESET)
		}
		s.inner, s.innerSock, s.peerInner = nil, nil, nil
	}
	if s.state == stateConnected && s.autoPort {
		st.unbindLocked(s)
	}
	s.resetSrcLocked()
	s.state, s.peer, s.connecting = stateClosed, netip.AddrPort{}, false
	s.notifyLocked()
	st.mu.Unlock()
	if inner != nil {
		inner.DecRef()
	}
	return nil
}

// Accept takes the next connection of a listening socket, waiting for one
// unless the file is non-blocking (EAGAIN), and returns its file with
// status flags fileFlags and the peer's address. Linux: net/ipv4/
// inet_connection_sock.c (inet_csk_accept)
func (s *Socket) Accept(ctx vfs.Ctx, fileFlags int) (*vfs.File, []byte, error) {
	if s.h != nil {
		return s.hostAccept(ctx, fileFlags)
	}
	if s.typ != unix.SOCK_STREAM {
		return nil, nil, unix.EOPNOTSUPP
	}
	st := s.st
	nonblock := s.nonblock(0)
	st.mu.Lock()
	until := s.opts.rcvtimeo.Deadline()
	for {
		if s.state != stateListening {
			st.mu.Unlock()
			return nil, nil, unix.EINVAL
		}
		if len(s.pending) > 0 {
			e := s.pending[0]
			s.pending = s.pending[1:]
			s.notifyLocked()
			peer := encodeAddr(e.family, e.peer)
			st.mu.Unlock()
			return e.attach(ctx, fileFlags), peer, nil
		}
		if nonblock {
			st.mu.Unlock()
			return nil, nil, unix.EAGAIN
		}
		ch := s.changedLocked()
		st.mu.Unlock()
		if err := unixsock.Wait(ctx, ch, until); err != nil {
			return nil, nil, err
		}
		st.mu.Lock()
	}
}

// lowPort reports whether sockaddr b (in or in6) names a port below 1024
// other than 0.
func lowPort(b []byte) bool {
	if len(b) < 4 {
		return false
	}
	p := uint16(b[2])<<8 | uint16(b[3])
	return p != 0 && p < 1024
}
