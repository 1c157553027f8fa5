package netlink

import (
	"encoding/binary"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/internal/hostfd"
)

// hostWait bounds how long glassbox waits for the host kernel to finish
// answering one request (it answers at once; this only guards a hang).
const hostWait = 5 * time.Second

// hostConn is the host NETLINK_ROUTE socket glassbox uses on behalf of
// one guest socket (--net=host). Only GET requests are ever sent on it.
type hostConn struct {
	mu      sync.Mutex
	fd      int
	seq     uint32
	strict  bool
	extAck  bool
	capAck  bool
	buf     []byte
	optsSet bool
}

func openHost() (*hostConn, error) {
	fd, err := hostfd.Opened(unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, unix.NETLINK_ROUTE))
	if err != nil {
		return nil, err
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		hostfd.Close(fd)
		return nil, err
	}
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 1<<20)
	return &hostConn{fd: fd, buf: make([]byte, 1<<20)}, nil
}

func (h *hostConn) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.fd >= 0 {
		hostfd.Close(h.fd)
		h.fd = -1
	}
}

// hostConnOf returns s's host socket, opening it on first use.
func (s *Socket) hostConnOf() (*hostConn, error) {
	s.ns.mu.Lock()
	defer s.ns.mu.Unlock()
	if s.host == nil && !s.released {
		h, err := openHost()
		if err != nil {
			return nil, err
		}
		s.host = h
	}
	if s.host == nil {
		return nil, unix.EBADF
	}
	return s.host, nil
}

// setFlag mirrors one of the guest's SOL_NETLINK flags on the host socket.
func (h *hostConn) setFlag(cur *bool, want bool, name int) {
	if *cur != want || !h.optsSet {
		_ = unix.SetsockoptInt(h.fd, unix.SOL_NETLINK, name, int(unixBool(want)))
		*cur = want
	}
}

func unixBool(b bool) int32 {
	if b {
		return 1
	}
	return 0
}

// relay sends the GET request m to the host kernel and returns its whole
// answer (replies, NLMSG_DONE, acks and errors) with the guest's sequence
// number and port in every header, the echoed request's included.
func (s *Socket) relay(m []byte, r *request) ([][]byte, error) {
	h, err := s.hostConnOf()
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.fd < 0 {
		return nil, unix.EBADF
	}
	h.setFlag(&h.strict, r.strict, unix.NETLINK_GET_STRICT_CHK)
	h.setFlag(&h.extAck, r.extAck, unix.NETLINK_EXT_ACK)
	h.setFlag(&h.capAck, r.capAck, unix.NETLINK_CAP_ACK)
	h.optsSet = true

	le := binary.LittleEndian
	guestSeq, guestPid := le.Uint32(m[8:]), le.Uint32(m[12:])
	flags := le.Uint16(m[6:])
	h.seq++
	seq := h.seq
	req := append([]byte(nil), m...)
	le.PutUint32(req[8:], seq)
	le.PutUint32(req[12:], 0)
	if err := unix.Sendto(h.fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return nil, err
	}
	dump := flags&nlmDump != 0
	var out [][]byte
	end := time.Now().Add(hostWait)
	for {
		n, err := h.recv(end)
		if err != nil {
			return nil, err
		}
		for b := h.buf[:n]; len(b) >= hdrLen; {
			l := int(le.Uint32(b))
			if l < hdrLen || l > len(b) {
				break
			}
			x := append([]byte(nil), b[:l]...)
			b = b[min((l+3)&^3, len(b)):]
			if le.Uint32(x[8:]) != seq {
				continue // a late answer to an abandoned request
			}
			typ, fl := le.Uint16(x[4:]), le.Uint16(x[6:])
			le.PutUint32(x[8:], guestSeq)
			le.PutUint32(x[12:], r.portid)
			if typ == unix.NLMSG_ERROR && l >= hdrLen+4+hdrLen {
				le.PutUint32(x[hdrLen+4+8:], guestSeq) // the echoed request
				le.PutUint32(x[hdrLen+4+12:], guestPid)
			}
			out = append(out, x)
			if typ == unix.NLMSG_ERROR || typ == unix.NLMSG_DONE ||
				!dump && flags&unix.NLM_F_ACK == 0 && fl&unix.NLM_F_MULTI == 0 {
				return out, nil
			}
		}
	}
}

// recv reads one datagram, waiting until end.
func (h *hostConn) recv(end time.Time) (int, error) {
	for {
		n, _, err := unix.Recvfrom(h.fd, h.buf, 0)
		if err == nil {
			return n, nil
		}
		if err != unix.EAGAIN && err != unix.EINTR {
			return 0, err
		}
		left := time.Until(end)
		if left <= 0 {
			return 0, unix.ETIMEDOUT
		}
		fds := []unix.PollFd{{Fd: int32(h.fd), Events: unix.POLLIN}}
		if _, err := unix.Poll(fds, int(left/time.Millisecond)+1); err != nil && err != unix.EINTR {
			return 0, err
		}
	}
}
