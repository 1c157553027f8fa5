package unix

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"glassbox/internal/vfs"
)

// Poll bits x/sys lacks. Linux: include/uapi/asm-generic/poll.h
const (
	pollRdnorm = 0x040
	pollWrnorm = 0x100
	pollWrband = 0x200
	pollRdhup  = 0x2000
)

// Readiness implements vfs.Poller. Linux: net/unix/af_unix.c (unix_poll
// for streams, unix_dgram_poll for datagram and seqpacket sockets)
func (s *Socket) Readiness() (uint32, <-chan struct{}) {
	s.ns.mu.Lock()
	defer s.ns.mu.Unlock()
	ch := s.changedLocked()
	var ev uint32
	if s.err != 0 {
		ev |= unix.POLLERR
	}
	if s.shut == shutdownMask {
		ev |= unix.POLLHUP
	}
	if s.shut&rcvShutdown != 0 {
		ev |= pollRdhup | unix.POLLIN | pollRdnorm
	}
	if s.tcp {
		if s.tcpReadableLocked() {
			ev |= unix.POLLIN | pollRdnorm
		}
	} else if s.queue.len() > 0 || len(s.pending) > 0 {
		ev |= unix.POLLIN | pollRdnorm
	}
	if s.oobMsg != nil {
		ev |= unix.POLLPRI
	}
	if s.typ != unix.SOCK_DGRAM && s.state == stateClosed {
		ev |= unix.POLLHUP
	}
	writable := s.state != stateListening && s.wmem<<2 <= s.opts.sndbuf
	if writable && s.typ != unix.SOCK_STREAM {
		// A datagram peer not connected back may be full: wake us when
		// it drains. Linux: unix_dgram_peer_wake_me
		if o := s.peer; o != nil && o.peer != s && !o.dead && o.queue.len() > o.backlog {
			o.watchDrainLocked(s)
			writable = false
		}
	}
	if writable {
		ev |= unix.POLLOUT | pollWrnorm | pollWrband
	}
	return ev, ch
}

// Ioctl implements vfs.Ioctler: SIOCINQ (FIONREAD) and SIOCOUTQ write an
// int. Linux: net/unix/af_unix.c (unix_ioctl, unix_inq_len)
func (s *Socket) Ioctl(ctx vfs.Ctx, mem vfs.Memory, cmd uint32, arg uint64) (uint64, error) {
	var n int
	s.ns.mu.Lock()
	switch cmd {
	case unix.SIOCOUTQ:
		n = s.wmem
	case unix.SIOCATMARK:
		if s.typ != unix.SOCK_STREAM {
			s.ns.mu.Unlock()
			return 0, unix.EOPNOTSUPP
		}
		if s.atMarkLocked() {
			n = 1
		}
	case unix.SIOCINQ:
		switch {
		case s.state == stateListening:
			s.ns.mu.Unlock()
			return 0, unix.EINVAL
		case s.typ == unix.SOCK_DGRAM:
			if m := s.queue.at(0); m != nil {
				n = len(m.data)
			}
		case s.tcp:
			n = s.tcpInqLocked()
		default:
			n = s.inq
		}
	default:
		s.ns.mu.Unlock()
		return 0, unix.ENOTTY
	}
	s.ns.mu.Unlock()
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(n))
	return 0, mem.CopyOut(arg, b[:])
}
