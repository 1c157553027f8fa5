package inet

import (
	"net/netip"

	"golang.org/x/sys/unix"

	unixsock "glassbox/internal/net/unix"
	"glassbox/internal/vfs"
)

// Largest UDP payloads: 65535 less the IPv4 and UDP headers, or less the
// UDP header for IPv6 (whose 40-byte header is outside the length).
const (
	maxUDP4 = 65535 - 20 - 8
	maxUDP6 = 65535 - 8
	// udpOverhead approximates an skb's true size beyond its data, which
	// Linux charges to the receive buffer. Linux: include/linux/skbuff.h
	udpOverhead = 768
)

// dgram is one received datagram.
type dgram struct {
	data []byte
	from netip.AddrPort
	// What its receiver may ask about (ancillary.go): where it was sent,
	// its hop limit (TTL) and traffic class (TOS).
	to           netip.Addr
	hops, tclass int32
}

// connectDgram sets or (AF_UNSPEC) dissolves a UDP socket's default peer.
// Connecting binds an unbound socket and fixes its source address.
// Linux: net/ipv4/datagram.c (__ip4_datagram_connect), udp.c
// (__udp_disconnect)
func (s *Socket) connectDgram(ap netip.AddrPort, unspec bool) error {
	st := s.st
	st.mu.Lock()
	defer st.mu.Unlock()
	if unspec {
		s.state, s.peer = stateClosed, netip.AddrPort{}
		if s.autoPort {
			st.unbindLocked(s)
		}
		s.resetSrcLocked()
		s.notifyLocked()
		return nil
	}
	if err := s.checkFamilyLocked(ap.Addr()); err != nil {
		return err
	}
	dst, src, err := route(ap.Addr())
	if err != nil {
		return err
	}
	if err := s.autobindLocked(src); err != nil {
		return err
	}
	s.setSrcLocked(src)
	s.state, s.peer = stateConnected, netip.AddrPortFrom(dst, ap.Port())
	s.notifyLocked()
	return nil
}

// setSrcLocked fixes the source address of a socket bound to a wildcard
// address when it connects; resetSrcLocked undoes it when it disconnects.
// Linux: inet_reset_saddr (without SOCK_BINDADDR_LOCK)
func (s *Socket) setSrcLocked(src netip.Addr) {
	if ip := s.local.Addr(); ip.IsUnspecified() {
		s.local = netip.AddrPortFrom(src, s.local.Port())
		s.anyIP = ip
	}
}

func (s *Socket) resetSrcLocked() {
	if s.anyIP.IsValid() && s.bound {
		s.local = netip.AddrPortFrom(s.anyIP, s.local.Port())
	}
	s.anyIP = netip.Addr{}
}

// autobindLocked binds an unbound socket to the wildcard address and an
// ephemeral port. Linux: net/ipv4/af_inet.c (inet_autobind)
func (s *Socket) autobindLocked(src netip.Addr) error {
	if s.bound {
		return nil
	}
	any := netip.IPv4Unspecified()
	if s.family == unix.AF_INET6 {
		any = netip.IPv6Unspecified()
	}
	return s.st.bindLocked(s, any, 0)
}

// sendDgram sends one datagram. It never blocks: a datagram that finds
// no receiver is lost (a connected sender then gets ECONNREFUSED, the
// ICMP port unreachable of Linux's loopback), one that does not fit the
// receiver's buffer is dropped. Linux: net/ipv4/udp.c (udp_sendmsg,
// __udp_enqueue_schedule_skb), net/ipv4/icmp.c
func (s *Socket) sendDgram(ctx vfs.Ctx, src [][]byte, to []byte, flags int) (int, error) {
	return s.sendDgramCtl(ctx, src, to, flags, nil)
}

// sendDgramCtl sends with the sender's ancillary data ctl.
func (s *Socket) sendDgramCtl(ctx vfs.Ctx, src [][]byte, to []byte, flags int, ctl []Cmsg) (int, error) {
	if flags&unix.MSG_OOB != 0 {
		return 0, unix.EOPNOTSUPP // Linux: udp_sendmsg
	}
	var ap netip.AddrPort
	haveTo := false
	if to != nil {
		a, unspec, err := parseAddr(s.family, to)
		if err != nil {
			return 0, err
		}
		ap, haveTo = a, !unspec
	}
	total := 0
	for _, b := range src {
		total += len(b)
	}
	st := s.st
	st.mu.Lock()
	defer st.mu.Unlock()
	if !haveTo {
		if s.state != stateConnected {
			return 0, unix.EDESTADDRREQ
		}
		ap = s.peer
	}
	if err := s.checkFamilyLocked(ap.Addr()); err != nil {
		return 0, err
	}
	if ap.Port() == 0 {
		return 0, unix.EINVAL
	}
	limit := maxUDP4
	if ap.Addr().Is6() {
		limit = maxUDP6
	}
	if total > limit {
		return 0, unix.EMSGSIZE
	}
	if s.shut&sendShutdown != 0 {
		return 0, unixsock.PlainErrno(unix.EPIPE)
	}
	hops, tclass, err := s.txLocked(ctl)
	if err != nil {
		return 0, err
	}
	dst, srcIP, err := route(ap.Addr())
	if err != nil {
		return 0, err
	}
	if err := s.autobindLocked(srcIP); err != nil {
		return 0, err
	}
	if !s.local.Addr().IsUnspecified() {
		srcIP = s.local.Addr()
	}
	from := netip.AddrPortFrom(srcIP, s.local.Port())
	dstAP := netip.AddrPortFrom(dst, ap.Port())
	r := st.lookupLocked(s.space(), dstAP, func(o *Socket) bool {
		return o.state != stateConnected || o.peer == from
	})
	if r == nil {
		if s.state == stateConnected && s.peer == dstAP {
			s.err = unix.ECONNREFUSED
			s.notifyLocked()
		}
		return total, nil
	}
	if r.shut&rcvShutdown != 0 || r.qbytes+total+udpOverhead > r.opts.rcvbuf && len(r.queue) > 0 {
		return total, nil // dropped
	}
	data := make([]byte, 0, total)
	for _, b := range src {
		data = append(data, b...)
	}
	r.queue = append(r.queue, dgram{data: data, from: from, to: dst, hops: hops, tclass: tclass})
	r.qbytes += total + udpOverhead
	r.notifyLocked()
	return total, nil
}

// recvDgram takes one datagram; what does not fit is lost (MSG_TRUNC).
// Linux: net/ipv4/udp.c (udp_recvmsg), net/core/datagram.c
func (s *Socket) recvDgram(ctx vfs.Ctx, dst [][]byte, flags int, wantFrom bool) (int, int, []byte, error) {
	n, fl, from, _, err := s.recvDgramCtl(ctx, dst, flags, wantFrom)
	return n, fl, from, err
}

// recvDgramCtl is recvDgram with the ancillary data the receiver asked
// for.
func (s *Socket) recvDgramCtl(ctx vfs.Ctx, dst [][]byte, flags int, wantFrom bool) (int, int, []byte, []Cmsg, error) {
	nonblock := s.nonblock(flags) // MSG_OOB means nothing to UDP (udp_recvmsg)
	st := s.st
	st.mu.Lock()
	until := s.opts.rcvtimeo.Deadline()
	for len(s.queue) == 0 {
		if err := s.takeErrLocked(); err != nil {
			st.mu.Unlock()
			return 0, 0, nil, nil, err
		}
		// Nothing to read: EAGAIN without waiting, even when shut down.
		// Linux: net/ipv4/udp.c (__skb_recv_udp), net/core/datagram.c
		if nonblock {
			st.mu.Unlock()
			return 0, 0, nil, nil, unix.EAGAIN
		}
		if s.shut&rcvShutdown != 0 {
			st.mu.Unlock()
			return 0, 0, nil, nil, nil
		}
		ch := s.changedLocked()
		st.mu.Unlock()
		if err := unixsock.Wait(ctx, ch, until); err != nil {
			return 0, 0, nil, nil, err
		}
		st.mu.Lock()
	}
	m := s.queue[0]
	rx := s.opts.rx
	if flags&unix.MSG_PEEK == 0 {
		s.queue[0] = dgram{}
		s.queue = s.queue[1:]
		s.qbytes -= len(m.data) + udpOverhead
		s.notifyLocked()
	}
	st.mu.Unlock()
	n, rest := 0, m.data
	for _, b := range dst {
		k := copy(b, rest)
		n, rest = n+k, rest[k:]
	}
	msgFlags := 0
	if len(rest) > 0 {
		msgFlags |= unix.MSG_TRUNC
	}
	if flags&unix.MSG_TRUNC != 0 {
		n = len(m.data)
	}
	var from []byte
	if wantFrom {
		from = encodeAddr(s.family, m.from)
	}
	return n, msgFlags, from, s.rxCtl(rx, &m), nil
}
