package inet

import (
	"encoding/binary"
	"net/netip"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"

	"glassbox/internal/hostfd"
	"glassbox/internal/vfs"

	unixsock "glassbox/internal/net/unix"
)

// Host sockets: the --net=host policy. A Stack made by NewHostStack gives
// every AF_INET/AF_INET6 socket a real host socket created by glassbox
// on the guest's behalf (non-blocking, close-on-exec). The guest's
// sockaddrs are parsed and re-encoded here, option values are copied,
// and only allow-listed options reach the host: no guest pointer is ever
// handed to the host kernel. Blocking guest calls wait for the host fd's
// readiness in short poll slices, checking the caller's interruption
// (hostwait.go).

// hostSock is the host side of a Socket of a host stack.
type hostSock struct {
	fd     int // -1 when socket(2) failed (err then says why)
	family int
	typ    int

	mu       sync.Mutex
	err      error      // the failure to create the socket
	pending  unix.Errno // SetError's deferred error
	rcvtimeo timeout
	sndtimeo timeout
}

// NewHostStack returns a stack whose sockets are host sockets
// (--net=host).
func NewHostStack() *Stack {
	st := NewStack()
	st.host = true
	return st
}

// IsHost reports whether st's sockets are host sockets.
func (st *Stack) IsHost() bool { return st.host }

// newHostSocket makes the host socket of a new guest socket.
func (st *Stack) newHostSocket(family, typ int) *Socket {
	s := st.newSocket(family, typ)
	h := &hostSock{fd: -1, family: family, typ: typ}
	fd, err := hostfd.Opened(unix.Socket(family, typ|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0))
	if err != nil {
		h.err = err
	} else {
		h.fd = fd
	}
	s.h = h
	return s
}

func (h *hostSock) check() error {
	if h.fd < 0 {
		return h.err
	}
	return nil
}

func (h *hostSock) release() {
	if h.fd >= 0 {
		hostfd.Close(h.fd)
	}
}

// hostSockaddr checks the guest's sockaddr b for a socket of family and
// builds a fresh copy of it for the host: family, port, address (and,
// for IPv6, flow info and scope id). AF_UNSPEC gives a bare AF_UNSPEC
// sockaddr (connect's "dissolve").
func hostSockaddr(family int, b []byte) ([]byte, error) {
	if _, unspec, err := parseAddr(family, b); err != nil {
		return nil, err
	} else if unspec {
		return make([]byte, sockaddrInLen), nil // sa_family 0
	}
	if family == unix.AF_INET {
		out := make([]byte, sockaddrInLen)
		copy(out[:8], b[:8])
		return out, nil
	}
	out := make([]byte, sockaddrIn6Len)
	copy(out, b[:min(len(b), sockaddrIn6Len)])
	return out, nil
}

// sockaddrCall runs bind or connect with the host-side copy of a
// sockaddr.
func (h *hostSock) sockaddrCall(trap uintptr, sa []byte) error {
	_, _, e := unix.Syscall(trap, uintptr(h.fd), uintptr(unsafe.Pointer(&sa[0])), uintptr(len(sa)))
	if e != 0 {
		return e
	}
	return nil
}

// nameCall runs getsockname, getpeername or accept4 (with flags) into a
// glassbox buffer and returns the result and the address.
func (h *hostSock) nameCall(trap uintptr, flags int) (int, []byte, error) {
	buf := make([]byte, 128)
	l := uint32(len(buf))
	var r uintptr
	var e unix.Errno
	if trap == unix.SYS_ACCEPT4 {
		r, _, e = unix.Syscall6(trap, uintptr(h.fd), uintptr(unsafe.Pointer(&buf[0])),
			uintptr(unsafe.Pointer(&l)), uintptr(flags), 0, 0)
	} else {
		r, _, e = unix.Syscall(trap, uintptr(h.fd), uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&l)))
	}
	if e != 0 {
		return -1, nil, e
	}
	return int(r), buf[:min(int(l), len(buf))], nil
}

func (h *hostSock) bind(b []byte) error {
	if err := h.check(); err != nil {
		return err
	}
	sa, err := hostSockaddr(h.family, b)
	if err != nil {
		return err
	}
	return h.sockaddrCall(unix.SYS_BIND, sa)
}

func (h *hostSock) listen(backlog int) error {
	if err := h.check(); err != nil {
		return err
	}
	return unix.Listen(h.fd, backlog)
}

// connect connects the host socket; a blocking guest waits for the
// connection and gets its outcome (SO_ERROR), a non-blocking one
// EINPROGRESS as the host says.
func (h *hostSock) connect(ctx vfs.Ctx, b []byte, nonblock bool) error {
	if err := h.check(); err != nil {
		return err
	}
	sa, err := hostSockaddr(h.family, b)
	if err != nil {
		return err
	}
	err = h.sockaddrCall(unix.SYS_CONNECT, sa)
	if err != unix.EINPROGRESS || nonblock {
		return err
	}
	if err := h.wait(ctx, unix.POLLOUT, h.timeouts(false).Deadline()); err != nil {
		if err == unix.EAGAIN {
			return unix.EINPROGRESS // SO_SNDTIMEO expired. Linux: inet_stream_connect
		}
		return err
	}
	if e, err := unix.GetsockoptInt(h.fd, unix.SOL_SOCKET, unix.SO_ERROR); err != nil {
		return err
	} else if e != 0 {
		return unix.Errno(e)
	}
	// Connect again, as a caller of a non-blocking connect does, so that
	// the socket is connected for the host (a later connect: EISCONN).
	h.sockaddrCall(unix.SYS_CONNECT, sa)
	return nil
}

// accept takes a connection from the host listener, waiting unless
// nonblock.
func (s *Socket) hostAccept(ctx vfs.Ctx, fileFlags int) (*vfs.File, []byte, error) {
	h := s.h
	if err := h.check(); err != nil {
		return nil, nil, err
	}
	until := h.timeouts(true).Deadline()
	for {
		// The descriptor is counted before the connection is taken:
		// past the bound, ENFILE leaves it queued. Linux: net/socket.c
		// (do_accept: the file is allocated before ops->accept)
		if err := hostfd.Acquire(); err != nil {
			return nil, nil, err
		}
		fd, peer, err := h.nameCall(unix.SYS_ACCEPT4, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
		if err != nil {
			hostfd.Release()
		}
		if err == nil {
			ns := s.st.newSocket(s.family, s.typ)
			ns.h = &hostSock{fd: fd, family: s.family, typ: s.typ}
			return ns.attach(ctx, fileFlags), peer, nil
		}
		if err != unix.EAGAIN || s.nonblock(0) {
			return nil, nil, err
		}
		if err := h.wait(ctx, unix.POLLIN, until); err != nil {
			return nil, nil, err
		}
	}
}

func (h *hostSock) localAddr() []byte {
	if h.fd >= 0 {
		if _, a, err := h.nameCall(unix.SYS_GETSOCKNAME, 0); err == nil {
			return a
		}
	}
	return encodeAddr(h.family, netip.AddrPort{})
}

func (h *hostSock) peerAddr() ([]byte, error) {
	if err := h.check(); err != nil {
		return nil, unix.ENOTCONN
	}
	_, a, err := h.nameCall(unix.SYS_GETPEERNAME, 0)
	return a, err
}

func (h *hostSock) takeError() error {
	h.mu.Lock()
	e := h.pending
	h.pending = 0
	h.mu.Unlock()
	if e != 0 {
		return e
	}
	if h.fd < 0 {
		return nil
	}
	if v, err := unix.GetsockoptInt(h.fd, unix.SOL_SOCKET, unix.SO_ERROR); err == nil && v != 0 {
		return unix.Errno(v)
	}
	return nil
}

func (h *hostSock) setError(e unix.Errno) {
	h.mu.Lock()
	h.pending = e
	h.mu.Unlock()
}

func (h *hostSock) timeouts(rcv bool) timeout {
	h.mu.Lock()
	defer h.mu.Unlock()
	if rcv {
		return h.rcvtimeo
	}
	return h.sndtimeo
}

// hostOpts are the options passed through to the host socket, by level:
// plain values without pointers. Others are ENOPROTOOPT.
var hostOpts = map[int]map[int]bool{
	unix.SOL_SOCKET: {unix.SO_REUSEADDR: true, unix.SO_REUSEPORT: true, unix.SO_KEEPALIVE: true,
		unix.SO_LINGER: true, unix.SO_RCVBUF: true, unix.SO_SNDBUF: true, unix.SO_BROADCAST: true,
		unix.SO_OOBINLINE: true, unix.SO_PRIORITY: true, unix.SO_RCVLOWAT: true, unix.SO_DONTROUTE: true,
		unix.SO_TYPE: true, unix.SO_ERROR: true, unix.SO_DOMAIN: true, unix.SO_PROTOCOL: true,
		unix.SO_ACCEPTCONN: true, unix.SO_TIMESTAMP: true, unix.SO_PASSCRED: true},
	unix.IPPROTO_TCP: {unix.TCP_NODELAY: true, unix.TCP_KEEPIDLE: true, unix.TCP_KEEPINTVL: true,
		unix.TCP_KEEPCNT: true, unix.TCP_CORK: true, unix.TCP_QUICKACK: true, unix.TCP_USER_TIMEOUT: true,
		unix.TCP_DEFER_ACCEPT: true, unix.TCP_FASTOPEN: true, unix.TCP_NOTSENT_LOWAT: true,
		unix.TCP_MAXSEG: true, unix.TCP_INFO: true, unix.TCP_CONGESTION: true, unix.TCP_SYNCNT: true,
		unix.TCP_LINGER2: true, unix.TCP_WINDOW_CLAMP: true},
	unix.IPPROTO_IP: {unix.IP_TOS: true, unix.IP_TTL: true, unix.IP_RECVERR: true,
		unix.IP_MTU_DISCOVER: true, unix.IP_MULTICAST_TTL: true, unix.IP_MULTICAST_LOOP: true,
		unix.IP_FREEBIND: true, unix.IP_BIND_ADDRESS_NO_PORT: true, unix.IP_MTU: true},
	unix.IPPROTO_IPV6: {unix.IPV6_V6ONLY: true, unix.IPV6_UNICAST_HOPS: true, unix.IPV6_TCLASS: true,
		unix.IPV6_RECVERR: true, unix.IPV6_MTU_DISCOVER: true, unix.IPV6_MULTICAST_HOPS: true,
		unix.IPV6_MULTICAST_LOOP: true, unix.IPV6_MTU: true},
}

func (h *hostSock) getOption(level, name int) ([]byte, error) {
	if err := h.check(); err != nil {
		return nil, err
	}
	if level == unix.SOL_SOCKET {
		switch name {
		case unix.SO_RCVTIMEO, unix.SO_RCVTIMEO_NEW:
			return h.timeouts(true).Bytes(), nil
		case unix.SO_SNDTIMEO, unix.SO_SNDTIMEO_NEW:
			return h.timeouts(false).Bytes(), nil
		case unix.SO_ERROR:
			e := h.takeError()
			v := 0
			if e != nil {
				v = int(e.(unix.Errno))
			}
			return binary.LittleEndian.AppendUint32(nil, uint32(v)), nil
		}
	}
	if !hostOpts[level][name] {
		return nil, unix.ENOPROTOOPT
	}
	buf := make([]byte, 256)
	l := uint32(len(buf))
	_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(h.fd), uintptr(level), uintptr(name),
		uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&l)), 0)
	if e != 0 {
		return nil, e
	}
	return buf[:min(int(l), len(buf))], nil
}

func (h *hostSock) setOption(level, name int, val []byte) error {
	if err := h.check(); err != nil {
		return err
	}
	if level == unix.SOL_SOCKET {
		switch name {
		case unix.SO_RCVTIMEO, unix.SO_RCVTIMEO_NEW, unix.SO_SNDTIMEO, unix.SO_SNDTIMEO_NEW:
			t, err := unixsock.ParseTimeout(val)
			if err != nil {
				return err
			}
			h.mu.Lock()
			if name == unix.SO_RCVTIMEO || name == unix.SO_RCVTIMEO_NEW {
				h.rcvtimeo = t
			} else {
				h.sndtimeo = t
			}
			h.mu.Unlock()
			return nil
		}
	}
	if !hostOpts[level][name] {
		return unix.ENOPROTOOPT
	}
	buf := make([]byte, len(val)+1) // never a zero-length pointer
	copy(buf, val)
	_, _, e := unix.Syscall6(unix.SYS_SETSOCKOPT, uintptr(h.fd), uintptr(level), uintptr(name),
		uintptr(unsafe.Pointer(&buf[0])), uintptr(len(val)), 0)
	if e != 0 {
		return e
	}
	return nil
}
