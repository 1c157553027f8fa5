package inet

import (
	"encoding/binary"
	"net/netip"

	"golang.org/x/sys/unix"
)

// Sizes of the socket addresses. Linux: include/uapi/linux/in.h, in6.h
const (
	sockaddrInLen   = 16 // sizeof(struct sockaddr_in)
	sockaddrIn6Len  = 28 // sizeof(struct sockaddr_in6)
	sin6LenRFC2133  = 24 // SIN6_LEN_RFC2133: without sin6_scope_id
	familyFieldSize = 2
)

var (
	loopback4 = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	loopback6 = netip.IPv6Loopback()
)

// parseAddr decodes the sockaddr b for a socket of family: the address
// (unmapped: a v4-mapped IPv6 address becomes IPv4) and the port. unspec
// reports an AF_UNSPEC address (connect's "dissolve"), which is not
// decoded further. Linux: net/ipv4/af_inet.c (inet_bind_sk), net/ipv6/
// af_inet6.c (__inet6_bind), tcp_v4_connect, tcp_v6_connect
func parseAddr(family int, b []byte) (ap netip.AddrPort, unspec bool, err error) {
	if len(b) < familyFieldSize {
		return ap, false, unix.EINVAL
	}
	fam := int(binary.LittleEndian.Uint16(b))
	if family == unix.AF_INET {
		if len(b) < sockaddrInLen {
			return ap, false, unix.EINVAL
		}
		if fam == unix.AF_UNSPEC {
			return ap, true, nil
		}
		if fam != unix.AF_INET {
			return ap, false, unix.EAFNOSUPPORT
		}
		ip := netip.AddrFrom4([4]byte(b[4:8]))
		return netip.AddrPortFrom(ip, binary.BigEndian.Uint16(b[2:])), false, nil
	}
	if fam == unix.AF_UNSPEC {
		return ap, true, nil
	}
	if len(b) < sin6LenRFC2133 {
		return ap, false, unix.EINVAL
	}
	if fam != unix.AF_INET6 {
		return ap, false, unix.EAFNOSUPPORT
	}
	ip := netip.AddrFrom16([16]byte(b[8:24])).Unmap()
	return netip.AddrPortFrom(ip, binary.BigEndian.Uint16(b[2:])), false, nil
}

// encodeAddr encodes ap as family's sockaddr: an IPv4 address in an
// AF_INET6 socket's address is v4-mapped; the zero AddrPort is the
// unspecified address and port 0. Linux: inet_getname, inet6_getname
func encodeAddr(family int, ap netip.AddrPort) []byte {
	ip := ap.Addr()
	if family == unix.AF_INET {
		b := make([]byte, sockaddrInLen)
		binary.LittleEndian.PutUint16(b, unix.AF_INET)
		binary.BigEndian.PutUint16(b[2:], ap.Port())
		if ip.Is4() {
			a := ip.As4()
			copy(b[4:], a[:])
		}
		return b
	}
	b := make([]byte, sockaddrIn6Len)
	binary.LittleEndian.PutUint16(b, unix.AF_INET6)
	binary.BigEndian.PutUint16(b[2:], ap.Port())
	if ip.IsValid() {
		a := ip.As16() // As16 of an IPv4 address is its v4-mapped form
		copy(b[8:], a[:])
	}
	return b
}

// route resolves a destination on the loopback-only network: the
// unspecified address means this host (loopback, as Linux routes it),
// 127.0.0.0/8 and ::1 are local; anything else is unreachable. It returns
// the destination to use and the source address a connection from an
// unbound socket gets (127.0.0.1 for all of 127/8: the prefsrc of lo's
// local route). Linux: net/ipv4/route.c (ip_route_output_key_hash_rcu:
// "if (!fl4->daddr) fl4->daddr = fl4->saddr ... htonl(INADDR_LOOPBACK)")
func route(dst netip.Addr) (to, src netip.Addr, err error) {
	switch {
	case dst.Is4() && (dst.IsUnspecified() || dst.IsLoopback()):
		if dst.IsUnspecified() {
			dst = loopback4
		}
		return dst, loopback4, nil
	case dst.Is6() && (dst.IsUnspecified() || dst == loopback6):
		return loopback6, loopback6, nil
	}
	return dst, netip.Addr{}, unix.ENETUNREACH
}

// checkFamily rejects a destination s cannot reach: IPv6 from an IPv4
// socket, and v4-mapped addresses from an IPV6_V6ONLY socket.
// Linux: net/ipv6/tcp_ipv6.c (tcp_v6_connect: ENETUNREACH for mapped)
func (s *Socket) checkFamilyLocked(dst netip.Addr) error {
	if s.family == unix.AF_INET && !dst.Is4() {
		return unix.EAFNOSUPPORT
	}
	if s.family == unix.AF_INET6 && dst.Is4() && s.v6only {
		return unix.ENETUNREACH
	}
	if s.bound && !s.local.Addr().IsUnspecified() && s.local.Addr().Is4() != dst.Is4() {
		return unix.ENETUNREACH
	}
	return nil
}

// localLocked is the address getsockname reports.
func (s *Socket) localLocked() []byte { return encodeAddr(s.family, s.local) }
