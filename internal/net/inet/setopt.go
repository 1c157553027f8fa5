package inet

import (
	"bytes"
	"encoding/binary"
	"math"

	"golang.org/x/sys/unix"

	unixsock "glassbox/internal/net/unix"
)

// SetOption answers setsockopt(level, name, val); privileged stands for
// CAP_NET_ADMIN. Linux: net/core/sock.c (sk_setsockopt), net/ipv4/tcp.c
// (do_tcp_setsockopt), ip_sockglue.c, net/ipv6/ipv6_sockglue.c
func (s *Socket) SetOption(level, name int, val []byte, privileged bool) error {
	if s.h != nil {
		return s.h.setOption(level, name, val)
	}
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	switch level {
	case unix.SOL_SOCKET:
		return s.setSocketOptLocked(name, val, privileged)
	case solUDPLite:
		return s.setLiteOptLocked(name, val)
	case unix.IPPROTO_TCP:
		if s.typ != unix.SOCK_STREAM {
			return unix.ENOPROTOOPT
		}
		return s.setTCPOptLocked(name, val)
	case unix.IPPROTO_IP:
		if len(val) < 1 {
			return unix.EINVAL
		}
		v := intVal(val)
		if s.setRxOptLocked(level, name, v != 0) {
			return nil
		}
		switch name {
		case unix.IP_TOS:
			if s.typ == unix.SOCK_STREAM {
				// Linux: ip_sockglue.c (__ip_sock_set_tos) keeps the ECN bits.
				v = v&^3 | s.opts.tos&3
			}
			s.opts.tos = v & 0xff
		case unix.IP_TTL:
			if v < -1 || v == 0 || v > 255 {
				return unix.EINVAL
			}
			s.opts.ttl = v
		default:
			return unix.ENOPROTOOPT
		}
		return nil
	case unix.IPPROTO_IPV6:
		if s.family != unix.AF_INET6 {
			return unix.ENOPROTOOPT
		}
		if len(val) < 4 {
			return unix.EINVAL
		}
		v := intVal(val)
		if s.setRxOptLocked(level, name, v != 0) {
			return nil
		}
		switch name {
		case unix.IPV6_V6ONLY:
			if s.bound {
				return unix.EINVAL // Linux: only before bind
			}
			s.v6only = v != 0
		case unix.IPV6_TCLASS:
			if v < -1 || v > 0xff {
				return unix.EINVAL
			}
			s.opts.tclass = max(v, 0)
		case unix.IPV6_UNICAST_HOPS:
			if v < -1 || v > 255 {
				return unix.EINVAL
			}
			s.opts.hops = v
		default:
			return unix.ENOPROTOOPT
		}
		return nil
	}
	return unix.ENOPROTOOPT
}

// intVal reads an int option; shorter values are a single byte, as
// ip_setsockopt accepts them.
func intVal(val []byte) int32 {
	if len(val) >= 4 {
		return int32(binary.LittleEndian.Uint32(val))
	}
	return int32(val[0])
}

func (s *Socket) setTCPOptLocked(name int, val []byte) error {
	if len(val) < 4 {
		return unix.EINVAL
	}
	v := intVal(val)
	switch name {
	case unix.TCP_NODELAY, unix.TCP_CORK, unix.TCP_QUICKACK:
		s.opts.tcp[name] = unixsock.BoolInt(v != 0)
	case unix.TCP_KEEPIDLE:
		if v < 1 || v > maxKeepIdle {
			return unix.EINVAL
		}
		s.opts.tcp[name] = v
	case unix.TCP_KEEPINTVL:
		if v < 1 || v > maxKeepIntvl {
			return unix.EINVAL
		}
		s.opts.tcp[name] = v
	case unix.TCP_KEEPCNT:
		if v < 1 || v > maxKeepCnt {
			return unix.EINVAL
		}
		s.opts.tcp[name] = v
	case unix.TCP_MAXSEG:
		if v != 0 && (v < 88 || v > 65535-40) { // TCP_MIN_MSS, MAX_TCP_WINDOW
			return unix.EINVAL
		}
		s.opts.tcp[name] = v
	case unix.TCP_DEFER_ACCEPT, unix.TCP_USER_TIMEOUT:
		if v < 0 {
			return unix.EINVAL
		}
		s.opts.tcp[name] = v
	default:
		return unix.ENOPROTOOPT
	}
	return nil
}

func (s *Socket) setSocketOptLocked(name int, val []byte, privileged bool) error {
	if name == unix.SO_BINDTODEVICE {
		return s.setBindToDeviceLocked(val, privileged)
	}
	if len(val) < 4 {
		return unix.EINVAL
	}
	v := intVal(val)
	o := &s.opts
	switch name {
	case unix.SO_SNDBUF, unix.SO_SNDBUFFORCE:
		n := int64(min(uint32(v), wmemMax))
		if name == unix.SO_SNDBUFFORCE {
			if !privileged {
				return unix.EPERM
			}
			n = max(int64(min(v, math.MaxInt32/2)), 0)
		}
		o.sndbuf = max(int(n)*2, minSndbuf)
		o.sndbufLocked = true
		s.applySndbufLocked()
	case unix.SO_RCVBUF, unix.SO_RCVBUFFORCE:
		n := int64(min(uint32(v), rmemMax))
		if name == unix.SO_RCVBUFFORCE {
			if !privileged {
				return unix.EPERM
			}
			n = int64(max(v, 0))
		}
		o.rcvbuf = max(int(min(n, math.MaxInt32/2))*2, minRcvbuf)
	case unix.SO_REUSEADDR:
		o.reuseaddr = v != 0
	case unix.SO_REUSEPORT:
		o.reuseport = v != 0
	case unix.SO_PRIORITY:
		if (v < 0 || v > 6) && !privileged {
			return unix.EPERM
		}
		o.priority = v
	case unix.SO_LINGER:
		if len(val) < 8 {
			return unix.EINVAL
		}
		o.linger = v != 0
		if o.linger {
			o.lingerSecs = int32(binary.LittleEndian.Uint32(val[4:]))
		}
	case unix.SO_RCVLOWAT:
		if v < 0 {
			v = math.MaxInt32
		}
		o.rcvlowat = max(v, 1)
		return s.forwardLocked(name, val)
	case unix.SO_RCVTIMEO, unix.SO_RCVTIMEO_NEW, unix.SO_SNDTIMEO, unix.SO_SNDTIMEO_NEW:
		t, err := unixsock.ParseTimeout(val)
		if err != nil {
			return err
		}
		if name == unix.SO_RCVTIMEO || name == unix.SO_RCVTIMEO_NEW {
			o.rcvtimeo = t
		} else {
			o.sndtimeo = t
		}
		return s.forwardLocked(name, val)
	default:
		if !boolOptions[name] {
			return unix.ENOPROTOOPT
		}
		if o.flags == nil {
			o.flags = map[int]bool{}
		}
		o.flags[name] = v != 0
		if name == unix.SO_OOBINLINE && s.typ == unix.SOCK_STREAM {
			// The urgent byte is the inner stream's out-of-band byte.
			return s.forwardLocked(name, val)
		}
	}
	return nil
}

// forwardLocked records a setting the inner socket of a connection needs
// and gives it to the inner socket if there is one already.
func (s *Socket) forwardLocked(name int, val []byte) error {
	if s.opts.fwd == nil {
		s.opts.fwd = map[int][]byte{}
	}
	s.opts.fwd[name] = bytes.Clone(val)
	if s.innerSock != nil {
		return s.innerSock.SetOption(name, val, false)
	}
	return nil
}

// replayLocked gives a new connection's inner socket the forwarded
// settings.
func (s *Socket) replayLocked() {
	for name, val := range s.opts.fwd {
		_ = s.innerSock.SetOption(name, val, false)
	}
	s.applySndbufLocked()
}

// applySndbufLocked sizes the inner socket's send buffer, which bounds
// what a connection holds unread. Linux grows a TCP send buffer up to
// tcp_wmem[2] (so a loopback writer gets megabytes ahead of its reader)
// unless SO_SNDBUF fixed it; then the receiver's window still takes some.
// Linux: net/ipv4/tcp_input.c (tcp_sndbuf_expand)
func (s *Socket) applySndbufLocked() {
	if s.innerSock == nil {
		return
	}
	n := tcpWmemMax
	if s.opts.sndbufLocked {
		n = s.opts.sndbuf + tcpWindow
	}
	_ = s.innerSock.SetOption(unix.SO_SNDBUFFORCE, unixsock.IntBytes(int32(n/2)), true)
}

// setBindToDeviceLocked is SO_BINDTODEVICE: a device name (at most
// IFNAMSIZ-1 bytes are read), "" to unbind. The sandbox's only device is
// lo; rebinding a bound socket needs privilege.
// Linux: net/core/sock.c (sock_setbindtodevice, sock_bindtoindex_locked)
func (s *Socket) setBindToDeviceLocked(val []byte, privileged bool) error {
	name := val[:min(len(val), unix.IFNAMSIZ-1)]
	if i := bytes.IndexByte(name, 0); i >= 0 {
		name = name[:i]
	}
	idx := int32(0)
	if len(name) > 0 {
		if string(name) != "lo" {
			return unix.ENODEV
		}
		idx = 1
	}
	if s.opts.bindDev != 0 && !privileged {
		return unix.EPERM
	}
	s.opts.bindDev = idx
	return nil
}
