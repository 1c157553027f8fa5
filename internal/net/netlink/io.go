package netlink

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	unixsock "glassbox/internal/net/unix"
	"glassbox/internal/vfs"
)

// Dump packing. Linux: net/netlink/af_netlink.c (netlink_dump,
// NLMSG_GOODSIZE with 4 KiB pages, max_recvmsg_len capped at 32 KiB)
const (
	goodSize   = 3776
	maxRecvCap = 32768
)

func flatten(src [][]byte) []byte {
	var b []byte
	for _, x := range src {
		b = append(b, x...)
	}
	return b
}

// Send is sendto/sendmsg/write: to is the destination sockaddr (nil: the
// connected one, the kernel by default); pid is the caller's process id
// for autobind. A message to the kernel is answered at once (the replies
// are queued on s); one to another port of the sandbox is queued there.
// Linux: net/netlink/af_netlink.c (netlink_sendmsg)
func (s *Socket) Send(ctx vfs.Ctx, src [][]byte, to []byte, flags, pid int) (int, error) {
	if flags&unix.MSG_OOB != 0 {
		return 0, unix.EOPNOTSUPP
	}
	var dstPort, dstGroup uint32
	if to != nil {
		var err error
		if dstPort, dstGroup, err = parseAddr(to); err != nil {
			return 0, err
		}
		if dstGroup != 0 {
			return 0, unix.EPERM // NETLINK_ROUTE has no NL_CFG_F_NONROOT_SEND
		}
	}
	buf := flatten(src)
	if len(buf) == 0 {
		return 0, unix.ENODATA // an empty message, as Linux 6.x refuses it
	}
	s.ns.mu.Lock()
	if to == nil {
		dstPort, dstGroup = s.dstPort, s.dstGroup
	}
	if len(buf) > s.opts.sndbuf-32 {
		s.ns.mu.Unlock()
		return 0, unix.EMSGSIZE
	}
	s.autobindLocked(pid)
	if dstPort != 0 {
		defer s.ns.mu.Unlock()
		o := s.ns.ports[dstPort]
		if o == nil || o.released || o.proto != s.proto {
			return 0, unix.ECONNREFUSED
		}
		if o.queuedLocked()+len(buf) > o.opts.rcvbuf {
			return 0, unix.EAGAIN
		}
		o.queue = append(o.queue, dgram{data: buf, from: s.portid})
		o.notifyLocked()
		return len(buf), nil
	}
	req := request{portid: s.portid, limit: s.dumpLimitLocked(), strict: s.strict, capAck: s.capAck, extAck: s.extAck,
		admin: s.ns.admin != nil && s.ns.admin(ctx)}
	s.ns.mu.Unlock()

	replies := s.input(buf, &req)

	s.ns.mu.Lock()
	defer s.ns.mu.Unlock()
	if !s.released {
		for _, d := range replies {
			s.queue = append(s.queue, dgram{data: d})
		}
		if len(replies) > 0 {
			s.notifyLocked()
		}
	}
	return len(buf), nil
}

func (s *Socket) queuedLocked() int {
	n := 0
	for _, d := range s.queue {
		n += len(d.data)
	}
	return n
}

// dumpLimitLocked is how large a dump datagram may grow.
func (s *Socket) dumpLimitLocked() int {
	return max(goodSize, min(s.maxRecv, maxRecvCap))
}

// Recv is recvfrom/recvmsg/read: one datagram, truncated to dst
// (MSG_TRUNC in the flags; with MSG_TRUNC asked, the full length is
// returned), kept with MSG_PEEK. It returns the byte count, the msg_flags
// and the sender's sockaddr_nl. Linux: net/netlink/af_netlink.c
// (netlink_recvmsg), net/core/datagram.c
func (s *Socket) Recv(ctx vfs.Ctx, dst [][]byte, flags int) (int, int, []byte, error) {
	if flags&unix.MSG_OOB != 0 {
		return 0, 0, nil, unix.EOPNOTSUPP
	}
	room := 0
	for _, b := range dst {
		room += len(b)
	}
	var until timeoutDeadline
	for {
		s.ns.mu.Lock()
		if e := s.err; e != 0 {
			s.err = 0
			s.ns.mu.Unlock()
			return 0, 0, nil, e
		}
		if len(s.queue) > 0 && flags&unix.MSG_ERRQUEUE == 0 {
			d := s.queue[0]
			if flags&unix.MSG_PEEK == 0 {
				s.queue = s.queue[1:]
			}
			s.maxRecv = min(max(s.maxRecv, room), maxRecvCap)
			s.ns.mu.Unlock()
			n, rest := 0, d.data
			for _, b := range dst {
				if len(rest) == 0 {
					break
				}
				c := copy(b, rest)
				n += c
				rest = rest[c:]
			}
			msgFlags := 0
			if len(rest) > 0 {
				msgFlags |= unix.MSG_TRUNC
			}
			if flags&unix.MSG_TRUNC != 0 {
				n = len(d.data)
			}
			return n, msgFlags, encodeAddr(d.from, 0), nil
		}
		if flags&unix.MSG_DONTWAIT != 0 || s.nonblock() || flags&unix.MSG_ERRQUEUE != 0 {
			s.ns.mu.Unlock()
			return 0, 0, nil, unix.EAGAIN
		}
		ch := s.changedLocked()
		dl := until.get(s.opts.rcvtimeo)
		s.ns.mu.Unlock()
		if err := unixsock.Wait(ctx, ch, dl); err != nil {
			return 0, 0, nil, err
		}
	}
}

func (s *Socket) nonblock() bool { return unixsock.NonBlocking(s.file.Load(), 0) }

// msg is one netlink message being built or relayed.
type msg struct {
	typ, flags uint16
	seq, pid   uint32
	body       []byte // after the header, aligned
}

func (m msg) bytes() []byte {
	b := make([]byte, hdrLen, hdrLen+len(m.body))
	le := binary.LittleEndian
	le.PutUint32(b, uint32(hdrLen+len(m.body)))
	le.PutUint16(b[4:], m.typ)
	le.PutUint16(b[6:], m.flags)
	le.PutUint32(b[8:], m.seq)
	le.PutUint32(b[12:], m.pid)
	return append(b, m.body...)
}

// pack puts a reply's messages into datagrams: the parts of a multipart
// answer (NLM_F_MULTI, and the NLMSG_DONE that ends it) share datagrams
// of up to limit bytes; any other message travels alone.
func pack(msgs [][]byte, limit int) [][]byte {
	var out [][]byte
	var cur []byte
	for _, m := range msgs {
		typ := binary.LittleEndian.Uint16(m[4:])
		fl := binary.LittleEndian.Uint16(m[6:])
		multi := fl&unix.NLM_F_MULTI != 0 || typ == unix.NLMSG_DONE
		if !multi {
			if cur != nil {
				out, cur = append(out, cur), nil
			}
			out = append(out, m)
			continue
		}
		if cur != nil && len(cur)+len(m) > limit {
			out, cur = append(out, cur), nil
		}
		cur = append(cur, m...)
	}
	if cur != nil {
		out = append(out, cur)
	}
	return out
}
