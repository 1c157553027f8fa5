package inet

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"glassbox/internal/vfs"
)

// Poll bits x/sys lacks. Linux: include/uapi/asm-generic/poll.h
const (
	pollRdnorm = 0x040
	pollWrnorm = 0x100
	pollRdhup  = 0x2000
)

// Readiness implements vfs.Poller. A connection answers with its inner
// socket's readiness (plus a pending inet error). Linux: net/ipv4/tcp.c
// (tcp_poll), net/ipv4/udp.c (udp_poll), net/core/datagram.c
func (s *Socket) Readiness() (uint32, <-chan struct{}) {
	if s.h != nil {
		return s.h.readiness()
	}
	s.st.mu.Lock()
	inner := s.innerSock
	var ev uint32
	if s.err != 0 {
		ev |= unix.POLLERR
	}
	if inner != nil && !s.dead {
		// A peer's close (FIN) shuts down only our receiving side: no
		// POLLHUP before we shut down sending or draw a reset.
		// Linux: net/ipv4/tcp.c (tcp_poll)
		keepHup := s.shut&sendShutdown != 0 || s.reset
		s.st.mu.Unlock()
		iev, ch := inner.Readiness()
		if !keepHup && iev&unix.POLLERR == 0 {
			iev &^= unix.POLLHUP
		}
		return ev | iev, ch
	}
	defer s.st.mu.Unlock()
	ch := s.changedLocked()
	if s.typ == unix.SOCK_DGRAM {
		if len(s.queue) > 0 || s.shut&rcvShutdown != 0 {
			ev |= unix.POLLIN | pollRdnorm
		}
		if s.shut&rcvShutdown != 0 {
			ev |= pollRdhup
		}
		if s.shut == shutdownMask {
			ev |= unix.POLLHUP
		}
		return ev | unix.POLLOUT | pollWrnorm, ch
	}
	if s.state == stateListening {
		if len(s.pending) > 0 {
			ev |= unix.POLLIN | pollRdnorm
		}
		return ev, ch
	}
	// A TCP socket that is not connected: closed (HUP), writable unless
	// shut down, readable once reset.
	ev |= unix.POLLHUP | unix.POLLOUT | pollWrnorm
	if s.shut&rcvShutdown != 0 {
		ev |= unix.POLLIN | pollRdnorm | pollRdhup
	}
	return ev, ch
}

// Interface ioctls. Linux: include/uapi/linux/sockios.h, net/ipv4/devinet.c
const (
	siocGifname    = 0x8910
	siocGifconf    = 0x8912
	siocGifflags   = 0x8913
	siocGifaddr    = 0x8915
	siocGifnetmask = 0x891b
	siocGifmtu     = 0x8921
	siocGifhwaddr  = 0x8927
	siocGifindex   = 0x8933
	ifreqSize      = 40
	ifnamsiz       = 16
	loFlags        = unix.IFF_UP | unix.IFF_LOOPBACK | unix.IFF_RUNNING
	loMTU          = 65536
	arphrdLoopback = 772
)

// Ioctl implements vfs.Ioctler: SIOCINQ/FIONREAD, SIOCOUTQ, and the
// interface queries that list the sandbox's only interface, lo
// (127.0.0.1/8, index 1).
func (s *Socket) Ioctl(ctx vfs.Ctx, mem vfs.Memory, cmd uint32, arg uint64) (uint64, error) {
	if s.h != nil {
		if r, ok, err := s.h.ioctl(mem, cmd, arg); ok {
			return r, err
		}
	}
	switch cmd {
	case unix.SIOCINQ, unix.SIOCOUTQ, unix.SIOCATMARK:
		if cmd == unix.SIOCATMARK && s.typ != unix.SOCK_STREAM {
			return 0, unix.ENOTTY // Linux: udp_ioctl knows no SIOCATMARK
		}
		s.st.mu.Lock()
		inner, listening := s.innerSock, s.state == stateListening && cmd != unix.SIOCATMARK
		n := 0
		if s.typ == unix.SOCK_DGRAM && cmd == unix.SIOCINQ && len(s.queue) > 0 {
			n = len(s.queue[0].data)
		}
		s.st.mu.Unlock()
		if inner != nil {
			return inner.Ioctl(ctx, mem, cmd, arg)
		}
		if listening {
			return 0, unix.EINVAL
		}
		return 0, mem.CopyOut(arg, binary.LittleEndian.AppendUint32(nil, uint32(n)))
	}
	if r, ok, err := s.st.InterfaceIoctl(mem, cmd, arg); ok {
		return r, err
	}
	return 0, unix.ENOTTY
}

// loIfreq is lo's struct ifreq with its IPv4 address.
func loIfreq() []byte {
	b := make([]byte, ifreqSize)
	copy(b, "lo")
	binary.LittleEndian.PutUint16(b[ifnamsiz:], unix.AF_INET)
	copy(b[ifnamsiz+4:], []byte{127, 0, 0, 1})
	return b
}

// ifconf answers SIOCGIFCONF: with a NULL buffer the length needed,
// otherwise as many ifreqs as fit. Linux: net/ipv4/devinet.c (inet_gifconf)
func ifconf(mem vfs.Memory, arg uint64) error {
	var hdr [16]byte // struct ifconf: int ifc_len; pad; char *ifc_buf
	if err := mem.CopyIn(arg, hdr[:]); err != nil {
		return unix.EFAULT
	}
	size := int(int32(binary.LittleEndian.Uint32(hdr[:])))
	buf := binary.LittleEndian.Uint64(hdr[8:])
	n := ifreqSize
	if buf != 0 {
		if size < ifreqSize {
			n = 0
		} else if err := mem.CopyOut(buf, loIfreq()); err != nil {
			return unix.EFAULT
		}
	}
	return mem.CopyOut(arg, binary.LittleEndian.AppendUint32(nil, uint32(n)))
}

// ifreq answers the per-interface queries for lo; other names are ENODEV.
// Linux: net/core/dev_ioctl.c (dev_ifsioc_locked), devinet.c
func ifreq(mem vfs.Memory, cmd uint32, arg uint64) error {
	b := make([]byte, ifreqSize)
	if err := mem.CopyIn(arg, b); err != nil {
		return unix.EFAULT
	}
	le := binary.LittleEndian
	if cmd == siocGifname {
		if le.Uint32(b[ifnamsiz:]) != 1 {
			return unix.ENODEV
		}
		clear(b[:ifnamsiz])
		copy(b, "lo")
		return mem.CopyOut(arg, b)
	}
	name := b[:ifnamsiz]
	if i := indexZero(name); i >= 0 {
		name = name[:i]
	}
	if string(name) != "lo" {
		return unix.ENODEV
	}
	u := b[ifnamsiz:]
	clear(u)
	switch cmd {
	case siocGifflags:
		le.PutUint16(u, uint16(loFlags))
	case siocGifaddr, siocGifnetmask:
		le.PutUint16(u, unix.AF_INET)
		if cmd == siocGifaddr {
			copy(u[4:], []byte{127, 0, 0, 1})
		} else {
			copy(u[4:], []byte{255, 0, 0, 0})
		}
	case siocGifmtu:
		le.PutUint32(u, loMTU)
	case siocGiftxqlen:
		le.PutUint32(u, 1000)
	case siocGifbrdaddr, siocGifdstaddr:
		le.PutUint16(u, unix.AF_INET)
		if cmd == siocGifdstaddr {
			copy(u[4:], []byte{127, 0, 0, 1})
		}
	case siocGifhwaddr:
		le.PutUint16(u, arphrdLoopback)
	case siocGifindex:
		le.PutUint32(u, 1)
	}
	return mem.CopyOut(arg, b)
}

func indexZero(b []byte) int {
	for i, c := range b {
		if c == 0 {
			return i
		}
	}
	return -1
}
