package netlink

import (
	"encoding/binary"
	"math"
	"time"

	"golang.org/x/sys/unix"

	unixsock "glassbox/internal/net/unix"
)

// options are a socket's SOL_SOCKET settings.
type options struct {
	sndbuf, rcvbuf     int
	rcvlowat, priority int32
	rcvtimeo, sndtimeo unixsock.Timeout
	passcred           bool
	flags              map[int]bool // plain boolean options
}

func defaultOptions() options {
	return options{sndbuf: defaultBuf, rcvbuf: defaultBuf, rcvlowat: 1}
}

// boolOptions only store a flag.
var boolOptions = map[int]bool{unix.SO_REUSEADDR: true, unix.SO_KEEPALIVE: true, unix.SO_BROADCAST: true,
	unix.SO_DONTROUTE: true, unix.SO_OOBINLINE: true, unix.SO_DEBUG: true, unix.SO_REUSEPORT: true,
	unix.SO_TIMESTAMP: true, unix.SO_TIMESTAMPNS: true}

// timeoutDeadline turns SO_RCVTIMEO into one deadline for a whole call.
type timeoutDeadline struct {
	at  time.Time
	set bool
}

func (d *timeoutDeadline) get(t unixsock.Timeout) time.Time {
	if !d.set {
		d.at, d.set = t.Deadline(), true
	}
	return d.at
}

func intBytes(v int32) []byte { return unixsock.IntBytes(v) }

// GetOption answers getsockopt at SOL_SOCKET or SOL_NETLINK.
// Linux: net/core/sock.c (sk_getsockopt), net/netlink/af_netlink.c
// (netlink_getsockopt)
func (s *Socket) GetOption(level, name int) ([]byte, error) {
	s.ns.mu.Lock()
	defer s.ns.mu.Unlock()
	if level == unix.SOL_NETLINK {
		return s.netlinkOptLocked(name)
	}
	if level != unix.SOL_SOCKET {
		return nil, unix.EOPNOTSUPP
	}
	o := &s.opts
	switch name {
	case unix.SO_TYPE:
		return intBytes(int32(s.typ)), nil
	case unix.SO_PROTOCOL:
		return intBytes(int32(s.proto)), nil
	case unix.SO_DOMAIN:
		return intBytes(unix.AF_NETLINK), nil
	case unix.SO_ERROR:
		e := s.err
		s.err = 0
		return intBytes(int32(e)), nil
	case unix.SO_ACCEPTCONN:
		return intBytes(0), nil
	case unix.SO_SNDBUF:
		return intBytes(int32(o.sndbuf)), nil
	case unix.SO_RCVBUF:
		return intBytes(int32(o.rcvbuf)), nil
	case unix.SO_PASSCRED:
		return intBytes(unixsock.BoolInt(o.passcred)), nil
	case unix.SO_PRIORITY:
		return intBytes(o.priority), nil
	case unix.SO_RCVLOWAT:
		return intBytes(o.rcvlowat), nil
	case unix.SO_SNDLOWAT:
		return intBytes(1), nil
	case unix.SO_RCVTIMEO, unix.SO_RCVTIMEO_NEW:
		return o.rcvtimeo.Bytes(), nil
	case unix.SO_SNDTIMEO, unix.SO_SNDTIMEO_NEW:
		return o.sndtimeo.Bytes(), nil
	}
	if boolOptions[name] {
		return intBytes(unixsock.BoolInt(o.flags[name])), nil
	}
	return nil, unix.ENOPROTOOPT
}

func (s *Socket) netlinkOptLocked(name int) ([]byte, error) {
	var v bool
	switch name {
	case unix.NETLINK_PKTINFO:
		v = s.pktinfo
	case unix.NETLINK_BROADCAST_ERROR:
		v = s.bcastEr
	case unix.NETLINK_NO_ENOBUFS:
		v = s.noENOBUFS
	case unix.NETLINK_CAP_ACK:
		v = s.capAck
	case unix.NETLINK_EXT_ACK:
		v = s.extAck
	case unix.NETLINK_GET_STRICT_CHK:
		v = s.strict
	case unix.NETLINK_LISTEN_ALL_NSID:
		v = false
	case unix.NETLINK_LIST_MEMBERSHIPS:
		b := binary.LittleEndian.AppendUint32(nil, uint32(s.groups))
		return binary.LittleEndian.AppendUint32(b, uint32(s.groups>>32)), nil
	default:
		return nil, unix.ENOPROTOOPT
	}
	return intBytes(unixsock.BoolInt(v)), nil
}

// SetOption answers setsockopt at SOL_SOCKET or SOL_NETLINK; privileged
// stands for CAP_NET_ADMIN (the *BUFFORCE options). val holds at most the
// first 16 bytes of the user's value, n its length.
func (s *Socket) SetOption(level, name int, val []byte, n int, privileged bool) error {
	if level == unix.SOL_NETLINK {
		return s.setNetlinkOpt(name, val, n)
	}
	if level != unix.SOL_SOCKET {
		return unix.ENOPROTOOPT
	}
	switch name {
	case unix.SO_RCVTIMEO, unix.SO_RCVTIMEO_NEW, unix.SO_SNDTIMEO, unix.SO_SNDTIMEO_NEW:
		t, err := unixsock.ParseTimeout(val)
		if err != nil {
			return err
		}
		s.ns.mu.Lock()
		if name == unix.SO_RCVTIMEO || name == unix.SO_RCVTIMEO_NEW {
			s.opts.rcvtimeo = t
		} else {
			s.opts.sndtimeo = t
		}
		s.ns.mu.Unlock()
		return nil
	}
	if len(val) < 4 {
		return unix.EINVAL
	}
	v := int32(binary.LittleEndian.Uint32(val))
	s.ns.mu.Lock()
	defer s.ns.mu.Unlock()
	o := &s.opts
	switch name {
	case unix.SO_SNDBUF, unix.SO_RCVBUF:
		// Linux: __sock_set_sndbuf / __sock_set_rcvbuf
		x := int(min(uint32(v), memMax))
		if name == unix.SO_SNDBUF {
			o.sndbuf = max(2*x, minSndbuf)
		} else {
			o.rcvbuf = max(2*x, minRcvbuf)
		}
	case unix.SO_SNDBUFFORCE, unix.SO_RCVBUFFORCE:
		if !privileged {
			return unix.EPERM
		}
		x := int(min(max(v, 0), math.MaxInt32/2))
		if name == unix.SO_SNDBUFFORCE {
			o.sndbuf = max(2*x, minSndbuf)
		} else {
			o.rcvbuf = max(2*x, minRcvbuf)
		}
	case unix.SO_PASSCRED:
		o.passcred = v != 0
	case unix.SO_PRIORITY:
		if v > 6 && !privileged {
			return unix.EPERM
		}
		o.priority = v
	case unix.SO_RCVLOWAT:
		o.rcvlowat = max(v, 1)
	default:
		if !boolOptions[name] {
			return unix.ENOPROTOOPT
		}
		if o.flags == nil {
			o.flags = map[int]bool{}
		}
		o.flags[name] = v != 0
	}
	return nil
}

// setNetlinkOpt: a value shorter than an int counts as 0.
// Linux: net/netlink/af_netlink.c (netlink_setsockopt)
func (s *Socket) setNetlinkOpt(name int, val []byte, n int) error {
	var v uint32
	if n >= 4 && len(val) >= 4 {
		v = binary.LittleEndian.Uint32(val)
	}
	s.ns.mu.Lock()
	defer s.ns.mu.Unlock()
	on := v != 0
	switch name {
	case unix.NETLINK_PKTINFO:
		s.pktinfo = on
	case unix.NETLINK_ADD_MEMBERSHIP, unix.NETLINK_DROP_MEMBERSHIP:
		if v == 0 || v-1 >= rtnlGroups {
			return unix.EINVAL
		}
		bit := uint64(1) << (v - 1)
		if name == unix.NETLINK_ADD_MEMBERSHIP {
			s.groups |= bit
		} else {
			s.groups &^= bit
		}
	case unix.NETLINK_BROADCAST_ERROR:
		s.bcastEr = on
	case unix.NETLINK_NO_ENOBUFS:
		s.noENOBUFS = on
	case unix.NETLINK_LISTEN_ALL_NSID:
		return unix.EPERM // no CAP_NET_BROADCAST
	case unix.NETLINK_CAP_ACK:
		s.capAck = on
	case unix.NETLINK_EXT_ACK:
		s.extAck = on
	case unix.NETLINK_GET_STRICT_CHK:
		s.strict = on
	default:
		return unix.ENOPROTOOPT
	}
	return nil
}
