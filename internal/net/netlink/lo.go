package netlink

import (
	"encoding/binary"

	"golang.org/x/sys/unix"
)

// The sandbox's only interface with --net=none, as a fresh Linux network
// namespace has it once lo is up. Linux: drivers/net/loopback.c,
// net/core/rtnetlink.c (rtnl_fill_ifinfo)
const (
	loIndex        = 1
	loMTU          = 65536
	loFlags        = unix.IFF_UP | unix.IFF_LOOPBACK | unix.IFF_RUNNING | unix.IFF_LOWER_UP
	arphrdLoopback = 772
	ifaFPermanent  = 0x80
	ifaProtoLo     = 1 // IFAPROT_KERNEL_LO
	rtScopeHost    = 254
	rtScopeLink    = 253
	rtTableLocal   = 255
	rtProtKernel   = 2
	rtnLocal       = 2
	rtnBroadcast   = 3
	// Attribute numbers x/sys lacks.
	iflaMinMTU       = 50
	iflaMaxMTU       = 51
	iflaGSOMaxSegs   = 40
	iflaGSOMaxSize   = 41
	iflaGROMaxSize   = 58
	iflaTSOMaxSize   = 59
	iflaTSOMaxSegs   = 60
	iflaAllMulti     = 61
	iflaGSOv4MaxSize = 63
	iflaGROv4MaxSize = 64
	iflaAltIfname    = 53
	ifaProto         = 11
	rtaPref          = 20
)

// linkMsg is lo's RTM_NEWLINK.
func (q query) linkMsg(flags uint16) []byte {
	le := binary.LittleEndian
	var a attrs = make([]byte, 0, 512)
	a = append(a, unix.AF_UNSPEC, 0)
	a = le.AppendUint16(a, arphrdLoopback)
	a = le.AppendUint32(a, loIndex)
	fl, oper, carrier, qdisc := uint32(loFlags), uint8(0), uint8(1), "noqueue"
	if q.down {
		fl, oper, carrier, qdisc = unix.IFF_LOOPBACK, 2, 0, "noop" // IF_OPER_DOWN
	}
	a = le.AppendUint32(a, fl)
	a = le.AppendUint32(a, 0)
	a = a.str(unix.IFLA_IFNAME, "lo").u32(unix.IFLA_TXQLEN, 1000).u8(unix.IFLA_OPERSTATE, oper).
		u8(unix.IFLA_LINKMODE, 0).u32(unix.IFLA_MTU, loMTU).u32(iflaMinMTU, 0).u32(iflaMaxMTU, 0).
		u32(unix.IFLA_GROUP, 0).u32(unix.IFLA_PROMISCUITY, 0).u32(iflaAllMulti, 0).
		u32(unix.IFLA_NUM_TX_QUEUES, 1).u32(iflaGSOMaxSegs, 65535).u32(iflaGSOMaxSize, 65536).
		u32(iflaGROMaxSize, 65536).u32(iflaGSOv4MaxSize, 65536).u32(iflaGROv4MaxSize, 65536).
		u32(iflaTSOMaxSize, 524280).u32(iflaTSOMaxSegs, 65535).u32(unix.IFLA_NUM_RX_QUEUES, 1).
		u8(unix.IFLA_CARRIER, carrier).u32(unix.IFLA_CARRIER_CHANGES, 0).u32(unix.IFLA_CARRIER_UP_COUNT, 0).
		u32(unix.IFLA_CARRIER_DOWN_COUNT, 0).u8(unix.IFLA_PROTO_DOWN, 0).
		add(unix.IFLA_ADDRESS, make([]byte, 6)).add(unix.IFLA_BROADCAST, make([]byte, 6)).
		add(unix.IFLA_STATS64, make([]byte, 25*8)).add(unix.IFLA_STATS, make([]byte, 24*4)).
		str(unix.IFLA_QDISC, qdisc).add(unix.IFLA_MAP, make([]byte, 32))
	return msg{typ: unix.RTM_NEWLINK, flags: flags, seq: q.seq, pid: q.pid, body: a}.bytes()
}

// addrMsgs are lo's RTM_NEWADDRs of family (AF_UNSPEC: both).
func (q query) addrMsgs(family byte) [][]byte {
	le := binary.LittleEndian
	cache := make([]byte, 0, 16)
	cache = le.AppendUint32(cache, 0xffffffff) // preferred: forever
	cache = le.AppendUint32(cache, 0xffffffff) // valid: forever
	cache = le.AppendUint32(cache, 0)          // created, in 1/100 s since boot
	cache = le.AppendUint32(cache, 0)          // updated
	var out [][]byte
	if q.down {
		return nil
	}
	if family != unix.AF_INET6 {
		var a attrs = []byte{unix.AF_INET, 8, ifaFPermanent, rtScopeHost}
		a = le.AppendUint32(a, loIndex)
		lo4 := []byte{127, 0, 0, 1}
		a = a.add(unix.IFA_ADDRESS, lo4).add(unix.IFA_LOCAL, lo4).str(unix.IFA_LABEL, "lo").
			u32(unix.IFA_FLAGS, ifaFPermanent).add(unix.IFA_CACHEINFO, cache)
		out = append(out, msg{typ: unix.RTM_NEWADDR, flags: unix.NLM_F_MULTI, seq: q.seq, pid: q.pid, body: a}.bytes())
	}
	if family != unix.AF_INET {
		var a attrs = []byte{unix.AF_INET6, 128, ifaFPermanent, rtScopeHost}
		a = le.AppendUint32(a, loIndex)
		lo6 := make([]byte, 16)
		lo6[15] = 1
		a = a.add(unix.IFA_ADDRESS, lo6).add(unix.IFA_CACHEINFO, cache).u32(unix.IFA_FLAGS, ifaFPermanent).
			u8(ifaProto, ifaProtoLo)
		out = append(out, msg{typ: unix.RTM_NEWADDR, flags: unix.NLM_F_MULTI, seq: q.seq, pid: q.pid, body: a}.bytes())
	}
	return out
}

// routeMsgs are the routes lo brings, all in the local table: 127.0.0.0/8,
// 127.0.0.1 and 127.255.255.255 (broadcast), and ::1.
// Linux: net/ipv4/fib_frontend.c (fib_add_ifaddr), net/ipv6/addrconf.c
func (q query) routeMsgs(family byte) [][]byte {
	le := binary.LittleEndian
	var out [][]byte
	if q.down {
		return nil
	}
	if family != unix.AF_INET6 {
		for _, r := range []struct {
			dst        [4]byte
			plen       byte
			scope, typ byte
		}{{[4]byte{127, 0, 0, 0}, 8, rtScopeHost, rtnLocal}, {[4]byte{127, 0, 0, 1}, 32, rtScopeHost, rtnLocal},
			{[4]byte{127, 255, 255, 255}, 32, rtScopeLink, rtnBroadcast}} {
			var a attrs = []byte{unix.AF_INET, r.plen, 0, 0, rtTableLocal, rtProtKernel, r.scope, r.typ}
			a = le.AppendUint32(a, 0)
			a = a.u32(unix.RTA_TABLE, rtTableLocal).add(unix.RTA_DST, r.dst[:]).
				add(unix.RTA_PREFSRC, []byte{127, 0, 0, 1}).u32(unix.RTA_OIF, loIndex)
			out = append(out, msg{typ: unix.RTM_NEWROUTE, flags: unix.NLM_F_MULTI, seq: q.seq, pid: q.pid, body: a}.bytes())
		}
	}
	if family != unix.AF_INET {
		var a attrs = []byte{unix.AF_INET6, 128, 0, 0, rtTableLocal, rtProtKernel, 0, rtnLocal}
		a = le.AppendUint32(a, 0)
		lo6 := make([]byte, 16)
		lo6[15] = 1
		a = a.u32(unix.RTA_TABLE, rtTableLocal).add(unix.RTA_DST, lo6).u32(unix.RTA_PRIORITY, 0).
			u32(unix.RTA_OIF, loIndex).add(unix.RTA_CACHEINFO, make([]byte, 32)).u8(rtaPref, 0)
		out = append(out, msg{typ: unix.RTM_NEWROUTE, flags: unix.NLM_F_MULTI, seq: q.seq, pid: q.pid, body: a}.bytes())
	}
	return out
}

// dump answers an NLM_F_DUMP GET: families other than AF_INET and
// AF_INET6 dump all (rtnl_dump_all). Tables the sandbox has none of
// (neighbours) are empty; other kinds are EOPNOTSUPP.
func (q query) dump(typ uint16) answer {
	family := q.payload[0]
	if family != unix.AF_INET && family != unix.AF_INET6 {
		family = unix.AF_UNSPEC
	}
	var msgs [][]byte
	switch typ {
	case unix.RTM_GETLINK:
		msgs = [][]byte{q.linkMsg(unix.NLM_F_MULTI)}
	case unix.RTM_GETADDR:
		// A strict request may name the interface. Linux: inet_dump_ifaddr
		if q.strict && len(q.payload) >= 8 {
			if ix := binary.LittleEndian.Uint32(q.payload[4:]); ix != 0 && ix != loIndex {
				return answer{err: unix.ENODEV}
			}
		}
		msgs = q.addrMsgs(family)
	case unix.RTM_GETROUTE:
		msgs = q.routeMsgs(family)
	case unix.RTM_GETNEIGH:
	default:
		return answer{err: unix.EOPNOTSUPP}
	}
	return answer{msgs: append(msgs, q.done())}
}

// get answers a GET of one object: a link by index or name; other kinds
// are EOPNOTSUPP here. Linux: net/core/rtnetlink.c (rtnl_getlink)
func (q query) get(typ uint16) answer {
	if typ != unix.RTM_GETLINK {
		return answer{err: unix.EOPNOTSUPP}
	}
	const ifinfoLen = 16
	if len(q.payload) < ifinfoLen {
		return answer{err: unix.EINVAL}
	}
	ix := int32(binary.LittleEndian.Uint32(q.payload[4:]))
	attrs := q.payload[ifinfoLen:]
	switch {
	case ix > 0:
		if ix != loIndex {
			return answer{err: unix.ENODEV}
		}
	default:
		name, ok := findAttr(attrs, unix.IFLA_IFNAME)
		if !ok {
			name, ok = findAttr(attrs, iflaAltIfname)
		}
		if !ok {
			return answer{err: unix.EINVAL}
		}
		if n := cstr(name); n != "lo" {
			return answer{err: unix.ENODEV}
		}
	}
	return answer{msgs: [][]byte{q.linkMsg(0)}}
}

func cstr(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}
