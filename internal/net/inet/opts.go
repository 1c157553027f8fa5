package inet

import (
	"golang.org/x/sys/unix"

	unixsock "glassbox/internal/net/unix"
)

// Buffer defaults and limits of a Linux host with default sysctls.
// Linux: net/ipv4/tcp.c (tcp_wmem, tcp_rmem), net/core/sock.c
const (
	tcpSndbuf  = 16384   // net.ipv4.tcp_wmem[1]
	tcpRcvbuf  = 131072  // net.ipv4.tcp_rmem[1]
	tcpWmemMax = 4 << 20 // net.ipv4.tcp_wmem[2], where autotuning stops
	// tcpWindow is about what a loopback receiver that does not read
	// still takes beyond the sender's buffer (its advertised window).
	tcpWindow  = 65536
	udpBuf     = 212992 // net.core.{w,r}mem_default
	wmemMax    = 212992 // net.core.wmem_max
	rmemMax    = 212992 // net.core.rmem_max
	minSndbuf  = 4608   // SOCK_MIN_SNDBUF
	minRcvbuf  = 2304   // SOCK_MIN_RCVBUF
	soMaxConn  = 4096   // net.core.somaxconn
	hz         = 250    // timeouts are kept in ticks of the reference host
	defaultTTL = 64
)

// TCP keepalive defaults and limits. Linux: include/net/tcp.h
const (
	keepIdle      = 7200
	keepIntvl     = 75
	keepCnt       = 9
	maxKeepIdle   = 32767
	maxKeepIntvl  = 32767
	maxKeepCnt    = 127
	tcpMSSDefault = 536
)

// timeout is SO_RCVTIMEO or SO_SNDTIMEO, kept as internal/net/unix keeps it.
type timeout = unixsock.Timeout

// options are a socket's settings at every level.
type options struct {
	sendCov, recvCov     int32 // UDP-Lite checksum coverage
	sndbuf, rcvbuf       int
	sndbufLocked         bool // SO_SNDBUF was set: no autotuning
	rcvlowat, priority   int32
	linger               bool
	lingerSecs           int32
	rcvtimeo, sndtimeo   timeout
	reuseaddr, reuseport bool
	flags                map[int]bool // other boolean SOL_SOCKET options
	tcp                  map[int]int32
	tos, ttl, tclass     int32
	hops                 int32
	bindDev              int32 // SO_BINDTODEVICE: the device's index, 0 for none
	rx                   rxOpts
	// fwd are the SOL_SOCKET settings the inner unix socket of a
	// connection must have too (timeouts, SO_RCVLOWAT), as set.
	fwd map[int][]byte
}

func defaultOptions(typ int) options {
	o := options{sndbuf: udpBuf, rcvbuf: udpBuf, rcvlowat: 1, ttl: -1, hops: -1,
		tcp: map[int]int32{unix.TCP_KEEPIDLE: keepIdle, unix.TCP_KEEPINTVL: keepIntvl, unix.TCP_KEEPCNT: keepCnt}}
	if typ == unix.SOCK_STREAM {
		o.sndbuf, o.rcvbuf = tcpSndbuf, tcpRcvbuf
	}
	return o
}

// clone copies o for an accepted socket, which inherits its listener's.
func (o options) clone() options {
	c := o
	c.flags = maps(o.flags)
	c.tcp = maps(o.tcp)
	c.fwd = maps(o.fwd)
	return c
}

func maps[K comparable, V any](m map[K]V) map[K]V {
	if m == nil {
		return nil
	}
	c := make(map[K]V, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

var boolOptions = map[int]bool{unix.SO_KEEPALIVE: true, unix.SO_BROADCAST: true,
	unix.SO_DONTROUTE: true, unix.SO_OOBINLINE: true, unix.SO_TIMESTAMP: true}

// GetOption answers getsockopt(level, name) with the option's bytes.
// Linux: net/core/sock.c (sk_getsockopt), net/ipv4/tcp.c
// (do_tcp_getsockopt), ip_sockglue.c, net/ipv6/ipv6_sockglue.c
func (s *Socket) GetOption(level, name int) ([]byte, error) {
	if s.h != nil {
		return s.h.getOption(level, name)
	}
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	switch level {
	case unix.SOL_SOCKET:
		return s.getSocketOptLocked(name)
	case solUDPLite:
		return s.getLiteOptLocked(name)
	case unix.IPPROTO_TCP:
		if s.typ != unix.SOCK_STREAM {
			return nil, unix.EOPNOTSUPP
		}
		switch name {
		case unix.TCP_NODELAY, unix.TCP_CORK, unix.TCP_QUICKACK, unix.TCP_KEEPIDLE,
			unix.TCP_KEEPINTVL, unix.TCP_KEEPCNT, unix.TCP_DEFER_ACCEPT, unix.TCP_USER_TIMEOUT:
			return unixsock.IntBytes(s.opts.tcp[name]), nil
		case unix.TCP_MAXSEG:
			if v := s.opts.tcp[name]; v != 0 {
				return unixsock.IntBytes(v), nil
			}
			return unixsock.IntBytes(tcpMSSDefault), nil
		}
		return nil, unix.ENOPROTOOPT
	case unix.IPPROTO_IP:
		if on, ok := s.getRxOptLocked(level, name); ok {
			return unixsock.IntBytes(unixsock.BoolInt(on)), nil
		}
		switch name {
		case unix.IP_TOS:
			return unixsock.IntBytes(s.opts.tos), nil
		case unix.IP_TTL:
			return unixsock.IntBytes(orDefault(s.opts.ttl)), nil
		}
		return nil, unix.ENOPROTOOPT
	case unix.IPPROTO_IPV6:
		if s.family != unix.AF_INET6 {
			return nil, unix.EOPNOTSUPP
		}
		if on, ok := s.getRxOptLocked(level, name); ok {
			return unixsock.IntBytes(unixsock.BoolInt(on)), nil
		}
		switch name {
		case unix.IPV6_V6ONLY:
			return unixsock.IntBytes(unixsock.BoolInt(s.v6only)), nil
		case unix.IPV6_TCLASS:
			return unixsock.IntBytes(s.opts.tclass), nil
		case unix.IPV6_UNICAST_HOPS:
			return unixsock.IntBytes(orDefault(s.opts.hops)), nil
		}
		return nil, unix.ENOPROTOOPT
	}
	return nil, unix.EOPNOTSUPP
}

func orDefault(v int32) int32 {
	if v < 0 {
		return defaultTTL
	}
	return v
}

func (s *Socket) getSocketOptLocked(name int) ([]byte, error) {
	o := &s.opts
	switch name {
	case unix.SO_TYPE:
		return unixsock.IntBytes(int32(s.typ)), nil
	case unix.SO_PROTOCOL:
		return unixsock.IntBytes(s.protocol()), nil
	case unix.SO_DOMAIN:
		return unixsock.IntBytes(int32(s.family)), nil
	case unix.SO_ERROR:
		err := s.takeErrLocked()
		if err == nil && s.innerSock != nil {
			err = s.innerSock.TakeError()
		}
		e, _ := err.(unix.Errno)
		return unixsock.IntBytes(int32(e)), nil
	case unix.SO_ACCEPTCONN:
		return unixsock.IntBytes(unixsock.BoolInt(s.state == stateListening)), nil
	case unix.SO_SNDBUF:
		return unixsock.IntBytes(int32(o.sndbuf)), nil
	case unix.SO_RCVBUF:
		return unixsock.IntBytes(int32(o.rcvbuf)), nil
	case unix.SO_REUSEADDR:
		return unixsock.IntBytes(unixsock.BoolInt(o.reuseaddr)), nil
	case unix.SO_REUSEPORT:
		return unixsock.IntBytes(unixsock.BoolInt(o.reuseport)), nil
	case unix.SO_PRIORITY:
		return unixsock.IntBytes(o.priority), nil
	case unix.SO_RCVLOWAT:
		return unixsock.IntBytes(o.rcvlowat), nil
	case unix.SO_SNDLOWAT:
		return unixsock.IntBytes(1), nil
	case unix.SO_LINGER:
		return append(unixsock.IntBytes(unixsock.BoolInt(o.linger)), unixsock.IntBytes(o.lingerSecs)...), nil
	case unix.SO_RCVTIMEO, unix.SO_RCVTIMEO_NEW:
		return o.rcvtimeo.Bytes(), nil
	case unix.SO_SNDTIMEO, unix.SO_SNDTIMEO_NEW:
		return o.sndtimeo.Bytes(), nil
	case unix.SO_BINDTODEVICE:
		if o.bindDev == 0 {
			return []byte{}, nil
		}
		return []byte("lo\x00"), nil
	}
	if boolOptions[name] {
		return unixsock.IntBytes(unixsock.BoolInt(o.flags[name])), nil
	}
	return nil, unix.ENOPROTOOPT
}
