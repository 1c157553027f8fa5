package netlink

import (
	"encoding/binary"

	"golang.org/x/sys/unix"
)

// rtnetlink. Linux: include/uapi/linux/rtnetlink.h
const (
	rtmBase = 16
	kindGet = 2 // RTM_GET* are RTM_BASE+4n+2
	nlmDump = unix.NLM_F_ROOT | unix.NLM_F_MATCH
)

// request is what answering one send needs to know of the sender.
type request struct {
	portid                 uint32
	limit                  int
	strict, capAck, extAck bool
	admin                  bool // the sender may configure a namespace of its own
}

// answer is one message's replies (unpacked) and its error, if any; err
// 0 with ack false means no NLMSG_ERROR follows.
type answer struct {
	msgs [][]byte
	err  unix.Errno
}

// input is the kernel's receive path for one send: each message in turn.
// Linux: net/netlink/af_netlink.c (netlink_rcv_skb)
func (s *Socket) input(b []byte, r *request) [][]byte {
	le := binary.LittleEndian
	var out [][]byte
	for len(b) >= hdrLen {
		l := int(le.Uint32(b))
		if l < hdrLen || l > len(b) {
			break
		}
		m := b[:l]
		typ, flags := le.Uint16(m[4:]), le.Uint16(m[6:])
		var err unix.Errno
		relayed := false
		if flags&unix.NLM_F_REQUEST != 0 && typ >= unix.NLMSG_MIN_TYPE {
			var a answer
			a, relayed = s.rtnl(m, r)
			out = append(out, pack(a.msgs, r.limit)...)
			err = a.err
		}
		if !relayed && (flags&unix.NLM_F_ACK != 0 || err != 0) {
			out = append(out, ack(m, err, r))
		}
		n := min((l+3)&^3, len(b))
		b = b[n:]
	}
	return out
}

// ack is the NLMSG_ERROR answering m: the error (0: an ack) and m's
// header, or all of m for an error unless NETLINK_CAP_ACK.
// Linux: net/netlink/af_netlink.c (netlink_ack)
func ack(m []byte, err unix.Errno, r *request) []byte {
	le := binary.LittleEndian
	var flags uint16
	echo := m[:hdrLen]
	if err != 0 && !r.capAck {
		echo = m
	} else {
		flags |= unix.NLM_F_CAPPED
	}
	body := le.AppendUint32(nil, uint32(-int32(err)))
	body = append(body, echo...)
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	return msg{typ: unix.NLMSG_ERROR, flags: flags, seq: le.Uint32(m[8:]), pid: r.portid, body: body}.bytes()
}

// rtnl answers one rtnetlink request; relayed says the host answered it
// whole (its own acks and errors included). Linux: net/core/rtnetlink.c
// (rtnetlink_rcv_msg)
func (s *Socket) rtnl(m []byte, r *request) (answer, bool) {
	le := binary.LittleEndian
	typ, flags := le.Uint16(m[4:]), le.Uint16(m[6:])
	if typ > unix.RTM_MAX {
		return answer{err: unix.EOPNOTSUPP}, false
	}
	payload := m[hdrLen:]
	if len(payload) < 1 {
		return answer{}, false // "all messages must have at least 1 byte"
	}
	if (typ-rtmBase)&3 != kindGet {
		if r.admin {
			return answer{err: s.configure(typ, payload)}, false
		}
		return answer{err: unix.EPERM}, false // no CAP_NET_ADMIN
	}
	if s.ns.host {
		msgs, err := s.relay(m, r)
		if err != nil {
			return answer{err: unix.EOPNOTSUPP}, false
		}
		return answer{msgs: msgs}, true
	}
	q := query{seq: le.Uint32(m[8:]), pid: r.portid, payload: payload, strict: r.strict, down: s.ns.down}
	if flags&nlmDump != 0 {
		return q.dump(typ), false
	}
	return q.get(typ), false
}

// query is one GET on the sandbox's own interfaces (lo.go).
type query struct {
	seq, pid uint32
	payload  []byte
	strict   bool
	down     bool // a new network namespace's lo: down, no addresses or routes
}

// done ends a dump. Linux: net/netlink/af_netlink.c (netlink_dump_done)
func (q query) done() []byte {
	return msg{typ: unix.NLMSG_DONE, flags: unix.NLM_F_MULTI, seq: q.seq, pid: q.pid, body: make([]byte, 4)}.bytes()
}

// attrs builds a message body: a fixed header and attributes.
type attrs []byte

func (a attrs) add(typ uint16, v []byte) attrs {
	le := binary.LittleEndian
	a = le.AppendUint16(a, uint16(4+len(v)))
	a = le.AppendUint16(a, typ)
	a = append(a, v...)
	for len(a)%4 != 0 {
		a = append(a, 0)
	}
	return a
}

func (a attrs) u32(typ uint16, v uint32) attrs {
	return a.add(typ, binary.LittleEndian.AppendUint32(nil, v))
}

func (a attrs) u8(typ uint16, v uint8) attrs { return a.add(typ, []byte{v}) }

func (a attrs) str(typ uint16, v string) attrs { return a.add(typ, append([]byte(v), 0)) }

// findAttr returns the value of attribute typ among b's attributes.
func findAttr(b []byte, typ uint16) ([]byte, bool) {
	le := binary.LittleEndian
	for len(b) >= 4 {
		l := int(le.Uint16(b))
		if l < 4 || l > len(b) {
			return nil, false
		}
		if le.Uint16(b[2:])&^0xc000 == typ {
			return b[4:l], true
		}
		b = b[min((l+3)&^3, len(b)):]
	}
	return nil, false
}

// configure applies a change to a namespace of the sender's own: lo may
// be brought up and given its addresses (as `ip link set lo up` and
// bubblewrap do); other changes are EOPNOTSUPP. Called with ns.mu held.
// Linux: net/core/rtnetlink.c (rtnl_setlink), net/ipv4/devinet.c (inet_rtm_newaddr)
func (s *Socket) configure(typ uint16, payload []byte) unix.Errno {
	le := binary.LittleEndian
	switch typ {
	case unix.RTM_NEWLINK, unix.RTM_SETLINK:
		if len(payload) < 16 {
			return unix.EINVAL
		}
		if idx := le.Uint32(payload[4:]); idx != loIndex {
			return unix.ENODEV
		}
		flags, change := le.Uint32(payload[8:]), le.Uint32(payload[12:])
		if change&unix.IFF_UP != 0 || change == 0 {
			if flags&unix.IFF_UP != 0 && s.ns.down {
				s.ns.down = false
				if s.ns.onUp != nil {
					s.ns.onUp()
				}
			}
		}
		return 0
	case unix.RTM_NEWADDR:
		if len(payload) < 8 {
			return unix.EINVAL
		}
		if le.Uint32(payload[4:]) != loIndex {
			return unix.ENODEV
		}
		return 0 // lo's addresses are the ones it has once up
	}
	return unix.EOPNOTSUPP
}
