package inet

import (
	"golang.org/x/sys/unix"

	unixsock "glassbox/internal/net/unix"
	"glassbox/internal/vfs"
)

// UDP-Lite (IPPROTO_UDPLITE): datagrams as UDP's, in a port space of its
// own, with the checksum coverage options recorded (the private loopback
// corrupts nothing, so coverage changes no delivery).
// Linux: net/ipv4/udplite.c, net/ipv4/udp.c (udp_lib_setsockopt)

// Checksum coverage options at level SOL_UDPLITE. Linux: include/net/udplite.h
const (
	solUDPLite     = unix.IPPROTO_UDPLITE
	udpliteSendCov = 10
	udpliteRecvCov = 11
)

// MakeLite turns the new datagram socket behind f into a UDP-Lite one.
// The host's network (--net=host) offers none: EPROTONOSUPPORT.
func MakeLite(f *vfs.File) error {
	s, ok := FromFile(f)
	if !ok || s.h != nil || s.typ != unix.SOCK_DGRAM {
		return unix.EPROTONOSUPPORT
	}
	s.st.mu.Lock()
	s.lite = true
	s.st.mu.Unlock()
	return nil
}

// space is the port space s binds and is found in: its type, or
// UDP-Lite's own.
func (s *Socket) space() int {
	if s.lite {
		return unix.IPPROTO_UDPLITE
	}
	return s.typ
}

// protocol is SO_PROTOCOL's answer.
func (s *Socket) protocol() int32 {
	switch {
	case s.typ == unix.SOCK_STREAM:
		return unix.IPPROTO_TCP
	case s.lite:
		return unix.IPPROTO_UDPLITE
	}
	return unix.IPPROTO_UDP
}

// setLiteOptLocked sets a checksum coverage: 0 (the whole datagram), or
// at least the 8-byte header and at most 65535.
func (s *Socket) setLiteOptLocked(name int, val []byte) error {
	if !s.lite {
		return unix.ENOPROTOOPT
	}
	if len(val) < 4 {
		return unix.EINVAL
	}
	v := intVal(val)
	switch {
	case v != 0 && v < 8:
		v = 8
	case v > 0xffff:
		v = 0xffff
	}
	switch name {
	case udpliteSendCov:
		s.opts.sendCov = v
	case udpliteRecvCov:
		s.opts.recvCov = v
	default:
		return unix.ENOPROTOOPT
	}
	return nil
}

func (s *Socket) getLiteOptLocked(name int) ([]byte, error) {
	if !s.lite {
		return nil, unix.ENOPROTOOPT
	}
	switch name {
	case udpliteSendCov:
		return unixsock.IntBytes(s.opts.sendCov), nil
	case udpliteRecvCov:
		return unixsock.IntBytes(s.opts.recvCov), nil
	}
	return nil, unix.ENOPROTOOPT
}
