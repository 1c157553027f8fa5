package unix

import (
	"golang.org/x/sys/unix"

	"glassbox/internal/vfs"
)

// Bind names the socket (bind(2)): n nil (an address of just the family)
// autobinds, an abstract name is taken in the namespace, a pathname is
// published through the PathBinder with permission bits mode. A socket
// has one name: binding again is EINVAL. Linux: net/unix/af_unix.c
// (unix_bind, unix_bind_abstract, unix_bind_bsd)
func (s *Socket) Bind(ctx vfs.Ctx, n *Name, mode uint32) error {
	ns := s.ns
	if n == nil {
		ns.mu.Lock()
		defer ns.mu.Unlock()
		return s.autobindLocked()
	}
	if n.Abstract() {
		ns.mu.Lock()
		defer ns.mu.Unlock()
		if s.addr != nil {
			return unix.EINVAL
		}
		k := abstractKeyOf(s.typ, n.Raw)
		if ns.abstract[k] != nil {
			return unix.EADDRINUSE
		}
		ns.abstract[k] = s
		s.addr = n.Raw
		return nil
	}
	if ns.paths == nil {
		return unix.EROFS
	}
	unbind, err := ns.paths.Bind(ctx, n.Dir, n.Base, mode, s)
	if err != nil {
		return err
	}
	ns.mu.Lock()
	if s.addr != nil || s.dead {
		ns.mu.Unlock()
		unbind()
		return unix.EINVAL
	}
	s.addr, s.unbindPath = n.Raw, unbind
	ns.mu.Unlock()
	return nil
}

// Listen makes a bound stream or seqpacket socket accept connections, at
// most backlog+1 of them pending (listen again to change it); cred is
// what connecting sockets will see as SO_PEERCRED.
// Linux: net/socket.c (__sys_listen), net/unix/af_unix.c (unix_listen)
func (s *Socket) Listen(backlog int, cred Cred) error {
	if s.typ == unix.SOCK_DGRAM {
		return unix.EOPNOTSUPP
	}
	if uint32(backlog) > SoMaxConn {
		backlog = SoMaxConn
	}
	ns := s.ns
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if s.addr == nil || s.state != stateClosed && s.state != stateListening {
		return unix.EINVAL
	}
	s.backlog = backlog
	s.state = stateListening
	s.peerCred = cred
	s.notifyLocked()
	return nil
}

// Connect connects the socket to the one n names (connect(2)); cred is
// the caller's SO_PEERCRED identity. A stream or seqpacket socket queues a
// new connection on a listener, waiting while its backlog is full (EAGAIN
// in non-blocking mode). A datagram socket only sets its default
// destination; n nil (AF_UNSPEC) dissolves it.
// Linux: net/unix/af_unix.c (unix_stream_connect, unix_dgram_connect)
func (s *Socket) Connect(ctx vfs.Ctx, n *Name, cred Cred) error {
	if s.typ == unix.SOCK_DGRAM {
		return s.connectDgram(ctx, n)
	}
	if n == nil {
		return unix.EINVAL
	}
	ns := s.ns
	if err := s.autobindIfPasscred(); err != nil {
		return err
	}
	nonblock := s.nonblock(0)
	ns.mu.Lock()
	until := deadline(s.opts.sndtimeo)
	ns.mu.Unlock()
	for {
		other, err := ns.find(ctx, n, s.typ)
		if err != nil {
			return err
		}
		ns.mu.Lock()
		if other.dead {
			ns.mu.Unlock()
			continue // released since we found it: look again
		}
		if other.state != stateListening || other.shut&rcvShutdown != 0 {
			ns.mu.Unlock()
			return unix.ECONNREFUSED
		}
		if len(other.pending) > other.backlog {
			if nonblock {
				ns.mu.Unlock()
				return unix.EAGAIN
			}
			ch := other.changedLocked()
			ns.mu.Unlock()
			if err := Wait(ctx, ch, until); err != nil {
				return err
			}
			continue
		}
		switch s.state {
		case stateConnected:
			ns.mu.Unlock()
			return unix.EISCONN
		case stateListening:
			ns.mu.Unlock()
			return unix.EINVAL
		}
		e := ns.newSocket(s.typ)
		e.state, e.peer, e.peerCred = stateConnected, s, cred
		e.addr = other.addr
		e.opts.passcred = other.opts.passcred
		s.state, s.peer, s.peerCred = stateConnected, e, other.peerCred
		other.pending = append(other.pending, e)
		other.notifyLocked()
		s.notifyLocked()
		ns.mu.Unlock()
		return nil
	}
}

// connectDgram sets or clears a datagram socket's peer. A new peer
// empties the queue of what the old one sent; if the old peer was
// connected back, it learns of it through ECONNRESET.
func (s *Socket) connectDgram(ctx vfs.Ctx, n *Name) error {
	ns := s.ns
	var other *Socket
	if n != nil {
		if err := s.autobindIfPasscred(); err != nil {
			return err
		}
		for {
			o, err := ns.find(ctx, n, s.typ)
			if err != nil {
				return err
			}
			ns.mu.Lock()
			if !o.dead {
				other = o
				break
			}
			ns.mu.Unlock()
		}
		if other.peer != nil && other.peer != s {
			ns.mu.Unlock()
			return unix.EPERM
		}
		s.state, other.state = stateConnected, stateConnected
	} else {
		ns.mu.Lock()
	}
	old := s.peer
	s.peer = other
	if other == nil {
		s.state = stateClosed
	}
	var drop []*vfs.File
	if old != nil {
		delete(old.peerWake, s)
		s.notifyLocked()
		if other != old {
			drop = s.disconnectedLocked(old)
			if old.peer == nil {
				old.state = stateClosed
			}
		}
	}
	ns.mu.Unlock()
	dropFiles(drop)
	return nil
}

// disconnectedLocked empties s's queue after s left old; old, if it was
// connected to s, gets ECONNRESET. Linux: unix_dgram_disconnected
func (s *Socket) disconnectedLocked(old *Socket) []*vfs.File {
	if s.queue.len() == 0 {
		return nil
	}
	var drop []*vfs.File
	for s.queue.len() > 0 {
		drop = append(drop, s.popLocked()...)
	}
	if !old.dead && old.peer == s {
		old.err = unix.ECONNRESET
		old.notifyLocked()
	}
	return drop
}

func (s *Socket) autobindIfPasscred() error {
	s.ns.mu.Lock()
	defer s.ns.mu.Unlock()
	if s.opts.passcred {
		return s.autobindLocked()
	}
	return nil
}

// Accept takes the next connection of a listening socket, waiting for one
// unless the file is non-blocking (EAGAIN), and returns its new file with
// status flags fileFlags (O_NONBLOCK). Linux: net/unix/af_unix.c
// (unix_accept)
func (s *Socket) Accept(ctx vfs.Ctx, fileFlags int) (*vfs.File, error) {
	if s.typ == unix.SOCK_DGRAM {
		return nil, unix.EOPNOTSUPP
	}
	ns := s.ns
	nonblock := s.nonblock(0)
	ns.mu.Lock()
	until := deadline(s.opts.rcvtimeo)
	for {
		if s.state != stateListening {
			ns.mu.Unlock()
			return nil, unix.EINVAL
		}
		if err := s.takeErrLocked(); err != nil {
			ns.mu.Unlock()
			return nil, err
		}
		if len(s.pending) > 0 {
			e := s.pending[0]
			s.pending = s.pending[1:]
			s.notifyLocked()
			ns.mu.Unlock()
			return e.attach(ctx, fileFlags), nil
		}
		if nonblock {
			ns.mu.Unlock()
			return nil, unix.EAGAIN
		}
		if s.shut&rcvShutdown != 0 {
			ns.mu.Unlock()
			return nil, unix.EINVAL
		}
		ch := s.changedLocked()
		ns.mu.Unlock()
		if err := Wait(ctx, ch, until); err != nil {
			return nil, err
		}
		ns.mu.Lock()
	}
}

// Shutdown shuts down reception (SHUT_RD), sending (SHUT_WR) or both; a
// connected stream or seqpacket peer gets the mirror image (EOF for its
// reads, EPIPE for its writes). Linux: net/unix/af_unix.c (unix_shutdown)
func (s *Socket) Shutdown(how int) error {
	if how < unix.SHUT_RD || how > unix.SHUT_RDWR {
		return unix.EINVAL
	}
	mode := how + 1
	ns := s.ns
	ns.mu.Lock()
	defer ns.mu.Unlock()
	s.shut |= mode
	s.notifyLocked()
	if other := s.peer; other != nil && s.typ != unix.SOCK_DGRAM {
		peerMode := 0
		if mode&rcvShutdown != 0 {
			peerMode |= sendShutdown
		}
		if mode&sendShutdown != 0 {
			peerMode |= rcvShutdown
		}
		other.shut |= peerMode
		other.notifyLocked()
	}
	return nil
}
