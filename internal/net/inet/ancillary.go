package inet

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	unixsock "glassbox/internal/net/unix"
	"glassbox/internal/vfs"
)

// Ancillary data of datagrams: what a sender sets per datagram
// (IPV6_HOPLIMIT, IPV6_TCLASS, IP_TTL, IP_TOS) and what a receiver asked
// to learn about each one (IPV6_RECVPKTINFO/RECVHOPLIMIT/RECVTCLASS,
// IP_PKTINFO/RECVTTL/RECVTOS). Linux: net/ipv6/datagram.c
// (ip6_datagram_send_ctl, ip6_datagram_recv_specific_ctl),
// net/ipv4/ip_sockglue.c (ip_cmsg_send, ip_cmsg_recv_offset)

// Cmsg is one ancillary message.
type Cmsg = unixsock.Cmsg

// loIndex is the loopback interface's index, where every datagram of the
// private loopback arrives.
const loIndex = 1

// rxOpts are the receive-side ancillary options (guarded by Stack.mu).
type rxOpts struct {
	v6Pktinfo, v6Hoplimit, v6Tclass bool
	v4Pktinfo, v4TTL, v4TOS         bool
}

// setRxOptLocked sets one of them; ok false when name is not one.
func (s *Socket) setRxOptLocked(level, name int, on bool) bool {
	r := &s.opts.rx
	switch {
	case level == unix.IPPROTO_IPV6 && name == unix.IPV6_RECVPKTINFO:
		r.v6Pktinfo = on
	case level == unix.IPPROTO_IPV6 && name == unix.IPV6_RECVHOPLIMIT:
		r.v6Hoplimit = on
	case level == unix.IPPROTO_IPV6 && name == unix.IPV6_RECVTCLASS:
		r.v6Tclass = on
	case level == unix.IPPROTO_IP && name == unix.IP_PKTINFO:
		r.v4Pktinfo = on
	case level == unix.IPPROTO_IP && name == unix.IP_RECVTTL:
		r.v4TTL = on
	case level == unix.IPPROTO_IP && name == unix.IP_RECVTOS:
		r.v4TOS = on
	default:
		return false
	}
	return true
}

// getRxOptLocked reads one; ok false when name is not one.
func (s *Socket) getRxOptLocked(level, name int) (bool, bool) {
	r := &s.opts.rx
	switch {
	case level == unix.IPPROTO_IPV6 && name == unix.IPV6_RECVPKTINFO:
		return r.v6Pktinfo, true
	case level == unix.IPPROTO_IPV6 && name == unix.IPV6_RECVHOPLIMIT:
		return r.v6Hoplimit, true
	case level == unix.IPPROTO_IPV6 && name == unix.IPV6_RECVTCLASS:
		return r.v6Tclass, true
	case level == unix.IPPROTO_IP && name == unix.IP_PKTINFO:
		return r.v4Pktinfo, true
	case level == unix.IPPROTO_IP && name == unix.IP_RECVTTL:
		return r.v4TTL, true
	case level == unix.IPPROTO_IP && name == unix.IP_RECVTOS:
		return r.v4TOS, true
	}
	return false, false
}

// txLocked is the hop limit (TTL) and traffic class (TOS) a datagram
// leaves with: the socket's, unless the sender's ancillary data says
// otherwise; EINVAL for a bad or unknown message of the socket's level.
func (s *Socket) txLocked(ctl []Cmsg) (hops, tclass int32, err error) {
	if s.family == unix.AF_INET6 {
		hops, tclass = orDefault(s.opts.hops), s.opts.tclass
	} else {
		hops, tclass = orDefault(s.opts.ttl), s.opts.tos
	}
	for _, c := range ctl {
		v := int32(-2)
		if len(c.Data) == 4 {
			v = int32(binary.LittleEndian.Uint32(c.Data))
		}
		switch {
		case s.family == unix.AF_INET6 && c.Level == unix.IPPROTO_IPV6:
			switch c.Type {
			case unix.IPV6_HOPLIMIT:
				if v < -1 || v > 255 {
					return 0, 0, unix.EINVAL
				}
				if v >= 0 {
					hops = v
				}
			case unix.IPV6_TCLASS:
				if v < -1 || v > 0xff {
					return 0, 0, unix.EINVAL
				}
				if v >= 0 {
					tclass = v
				}
			case unix.IPV6_PKTINFO: // a source address: the loopback's anyway
			default:
				return 0, 0, unix.EINVAL
			}
		case s.family == unix.AF_INET && c.Level == unix.IPPROTO_IP:
			switch c.Type {
			case unix.IP_TTL:
				if v < 1 || v > 255 {
					return 0, 0, unix.EINVAL
				}
				hops = v
			case unix.IP_TOS:
				if len(c.Data) == 1 {
					v = int32(c.Data[0])
				}
				if v < 0 || v > 0xff {
					return 0, 0, unix.EINVAL
				}
				tclass = v
			case unix.IP_PKTINFO:
			default:
				return 0, 0, unix.EINVAL
			}
		}
	}
	return hops, tclass, nil
}

// rxCtl is what the receiver asked to learn about datagram m, in Linux's
// order.
func (s *Socket) rxCtl(r rxOpts, m *dgram) []Cmsg {
	var out []Cmsg
	le := binary.LittleEndian
	i32 := func(v int32) []byte { return le.AppendUint32(nil, uint32(v)) }
	if s.family == unix.AF_INET6 {
		if r.v6Pktinfo {
			a := m.to.As16()
			out = append(out, Cmsg{Level: unix.IPPROTO_IPV6, Type: unix.IPV6_PKTINFO, Data: le.AppendUint32(a[:], loIndex)})
		}
		if r.v6Hoplimit {
			out = append(out, Cmsg{Level: unix.IPPROTO_IPV6, Type: unix.IPV6_HOPLIMIT, Data: i32(m.hops)})
		}
		if r.v6Tclass {
			out = append(out, Cmsg{Level: unix.IPPROTO_IPV6, Type: unix.IPV6_TCLASS, Data: i32(m.tclass)})
		}
		return out
	}
	if r.v4Pktinfo {
		a := m.to.Unmap().As4()
		b := le.AppendUint32(nil, loIndex)
		b = append(append(b, a[:]...), a[:]...)
		out = append(out, Cmsg{Level: unix.IPPROTO_IP, Type: unix.IP_PKTINFO, Data: b})
	}
	if r.v4TTL {
		out = append(out, Cmsg{Level: unix.IPPROTO_IP, Type: unix.IP_TTL, Data: i32(m.hops)})
	}
	if r.v4TOS {
		out = append(out, Cmsg{Level: unix.IPPROTO_IP, Type: unix.IP_TOS, Data: []byte{byte(m.tclass)}})
	}
	return out
}

// SendMsg is SendTo with the sender's ancillary data (datagrams only;
// other sockets ignore it).
func (s *Socket) SendMsg(ctx vfs.Ctx, src [][]byte, to []byte, flags int, ctl []Cmsg) (int, error) {
	if s.h != nil || s.typ != unix.SOCK_DGRAM || len(ctl) == 0 {
		return s.SendTo(ctx, src, to, flags)
	}
	return s.sendDgramCtl(ctx, src, to, flags, ctl)
}

// RecvMsg is RecvFrom that also returns the datagram's ancillary data.
func (s *Socket) RecvMsg(ctx vfs.Ctx, dst [][]byte, flags int, wantFrom bool) (int, int, []byte, []Cmsg, error) {
	if s.h != nil || s.typ != unix.SOCK_DGRAM {
		n, fl, from, err := s.RecvFrom(ctx, dst, flags, wantFrom)
		return n, fl, from, nil, err
	}
	return s.recvDgramCtl(ctx, dst, flags, wantFrom)
}
