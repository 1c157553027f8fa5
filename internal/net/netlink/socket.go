package netlink

import (
	"encoding/binary"
	"strconv"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"glassbox/internal/vfs"
)

// Constants of the netlink socket layer. Linux: include/uapi/linux/netlink.h
const (
	sockaddrLen = 12 // struct sockaddr_nl
	hdrLen      = 16 // struct nlmsghdr
	maxLinks    = 32 // MAX_LINKS: protocols 0..31
	sockDev     = 0x9
	inoBase     = 2 << 24 // apart from unix (from 1) and inet (1<<24) inodes
	defaultBuf  = 212992  // net.core.{r,w}mem_default
	memMax      = 212992  // net.core.{r,w}mem_max
	minSndbuf   = 4608    // SOCK_MIN_SNDBUF
	minRcvbuf   = 2304    // SOCK_MIN_RCVBUF
	rtnlGroups  = 64      // groups a NETLINK_ROUTE socket may join (>= RTNLGRP_MAX)
	autoRover   = -4096   // first autobind port after the pid. Linux: netlink_autobind
)

var lastIno atomic.Uint64

// Namespace is one sandbox's netlink sockets.
type Namespace struct {
	host bool // relay rtnetlink GETs to the host (--net=host)
	// A new network namespace's (NewDownNamespace): lo is down until a
	// caller that admin accepts brings it up; onUp is then called. down
	// is guarded by mu.
	down  bool
	admin func(vfs.Ctx) bool
	onUp  func()

	mu    sync.Mutex
	ports map[uint32]*Socket
	rover int32
}

// NewNamespace returns a namespace answering for the private loopback, or
// for the host's interfaces when host is set.
func NewNamespace(host bool) *Namespace {
	return &Namespace{host: host, ports: map[uint32]*Socket{}, rover: autoRover}
}

// NewDownNamespace returns the netlink sockets of a new network
// namespace, whose lo is down and has no address. A sender admin accepts
// (CAP_NET_ADMIN over the namespace) may bring lo up and give it its
// addresses; onUp is called when lo comes up.
func NewDownNamespace(admin func(vfs.Ctx) bool, onUp func()) *Namespace {
	n := NewNamespace(false)
	n.down, n.admin, n.onUp = true, admin, onUp
	return n
}

// dgram is one queued datagram and the port that sent it (0: the kernel).
type dgram struct {
	data []byte
	from uint32
}

// Socket is one AF_NETLINK socket and the vfs.FileOps of its file.
type Socket struct {
	ns       *Namespace
	typ      int
	proto    int
	ino      uint64
	uid, gid uint32
	file     atomic.Pointer[vfs.File]

	// Guarded by ns.mu.
	portid             uint32
	bound              bool
	groups             uint64
	dstPort, dstGroup  uint32
	queue              []dgram
	err                unix.Errno
	opts               options
	maxRecv            int // largest receive buffer seen (nlk->max_recvmsg_len)
	changes            vfs.Changes
	released           bool
	host               *hostConn
	hostErr            error
	sndShut, rcvShut   bool
	strict, extAck     bool
	capAck, pktinfo    bool
	noENOBUFS, bcastEr bool
}

var (
	_ vfs.FileOps = (*Socket)(nil)
	_ vfs.Stream  = (*Socket)(nil)
	_ vfs.Poller  = (*Socket)(nil)
)

// CheckType validates socket(2)'s type (without flags) and protocol.
// Only NETLINK_ROUTE exists in the sandbox. Linux: net/netlink/
// af_netlink.c (netlink_create)
func CheckType(typ, proto int) error {
	if typ != unix.SOCK_RAW && typ != unix.SOCK_DGRAM {
		return unix.ESOCKTNOSUPPORT
	}
	if proto != unix.NETLINK_ROUTE {
		return unix.EPROTONOSUPPORT
	}
	return nil
}

// NewFile returns the file of a new socket (type and protocol checked by
// CheckType); fileFlags may hold O_NONBLOCK.
func (ns *Namespace) NewFile(ctx vfs.Ctx, typ, proto, fileFlags int) *vfs.File {
	s := &Socket{ns: ns, typ: typ, proto: proto, opts: defaultOptions()}
	s.ino = inoBase + lastIno.Add(1)
	if c := ctx.Creds(); c != nil {
		s.uid, s.gid = c.EUID, c.FSGID
	}
	f := vfs.NewAnonFile(s, s.Name(), unix.O_RDWR|fileFlags&unix.O_NONBLOCK)
	s.file.Store(f)
	return f
}

// FromFile returns the socket behind f, if it is a netlink socket.
func FromFile(f *vfs.File) (*Socket, bool) {
	s, ok := f.Ops().(*Socket)
	return s, ok
}

// Type returns SOCK_RAW or SOCK_DGRAM.
func (s *Socket) Type() int { return s.typ }

// Name is the socket's /proc/PID/fd name.
func (s *Socket) Name() string { return "socket:[" + strconv.FormatUint(s.ino, 10) + "]" }

// Stat implements vfs.FileOps.
func (s *Socket) Stat(vfs.Ctx) (vfs.Stat, error) {
	return vfs.Stat{Dev: sockDev, Ino: s.ino, Mode: unix.S_IFSOCK | 0o777, Nlink: 1,
		UID: s.uid, GID: s.gid, Blksize: 4096}, nil
}

// IsStream implements vfs.Stream (no positions).
func (*Socket) IsStream() {}

// Release implements vfs.FileOps: the port is free, the host socket closed.
func (s *Socket) Release() {
	s.ns.mu.Lock()
	if s.bound && s.ns.ports[s.portid] == s {
		delete(s.ns.ports, s.portid)
	}
	s.released = true
	s.queue = nil
	h := s.host
	s.host = nil
	s.notifyLocked()
	s.ns.mu.Unlock()
	if h != nil {
		h.close()
	}
}

// Read implements vfs.FileOps: a recv without flags.
func (s *Socket) Read(ctx vfs.Ctx, dst [][]byte, off int64) (int, error) {
	n, _, _, err := s.Recv(ctx, dst, 0)
	return n, err
}

// Write implements vfs.FileOps: a send without flags to the connected
// port (the kernel by default).
func (s *Socket) Write(ctx vfs.Ctx, src [][]byte, off int64) (int, error) {
	return s.Send(ctx, src, nil, 0, 0)
}

func (s *Socket) changedLocked() <-chan struct{} {
	return s.changes.Chan()
}

func (s *Socket) notifyLocked() {
	s.changes.Notify()
}

// encodeAddr is a struct sockaddr_nl.
func encodeAddr(port, groups uint32) []byte {
	b := make([]byte, sockaddrLen)
	binary.LittleEndian.PutUint16(b, unix.AF_NETLINK)
	binary.LittleEndian.PutUint32(b[4:], port)
	binary.LittleEndian.PutUint32(b[8:], groups)
	return b
}

// parseAddr decodes a sockaddr_nl: EINVAL if short or of another family.
func parseAddr(b []byte) (port, groups uint32, err error) {
	if len(b) < sockaddrLen || binary.LittleEndian.Uint16(b) != unix.AF_NETLINK {
		return 0, 0, unix.EINVAL
	}
	return binary.LittleEndian.Uint32(b[4:]), binary.LittleEndian.Uint32(b[8:]), nil
}

// autobindLocked gives s a port: the caller's pid if free, else the next
// free negative one. Linux: net/netlink/af_netlink.c (netlink_autobind)
func (s *Socket) autobindLocked(pid int) {
	if s.bound {
		return
	}
	p := uint32(pid)
	if _, used := s.ns.ports[p]; used || pid <= 0 {
		for {
			p = uint32(s.ns.rover)
			s.ns.rover--
			if s.ns.rover > autoRover {
				s.ns.rover = autoRover
			}
			if _, used := s.ns.ports[p]; !used {
				break
			}
		}
	}
	s.portid, s.bound = p, true
	s.ns.ports[p] = s
}

// Bind is bind(2): nl_pid 0 autobinds (pid is the caller's process id),
// another must be free; nl_groups joins groups 1-32. Linux: netlink_bind
func (s *Socket) Bind(addr []byte, pid int) error {
	port, groups, err := parseAddr(addr)
	if err != nil {
		return err
	}
	s.ns.mu.Lock()
	defer s.ns.mu.Unlock()
	if s.bound && port != s.portid {
		return unix.EINVAL
	}
	s.groups = s.groups&^0xffffffff | uint64(groups)
	if s.bound {
		return nil
	}
	if port == 0 {
		s.autobindLocked(pid)
		return nil
	}
	if _, used := s.ns.ports[port]; used {
		return unix.EADDRINUSE
	}
	s.portid, s.bound = port, true
	s.ns.ports[port] = s
	return nil
}

// Connect is connect(2): the default destination (AF_UNSPEC: back to the
// kernel). Sending to groups needs CAP_NET_ADMIN. Linux: netlink_connect
func (s *Socket) Connect(addr []byte, pid int) error {
	if len(addr) >= 2 && binary.LittleEndian.Uint16(addr) == unix.AF_UNSPEC {
		s.ns.mu.Lock()
		s.dstPort, s.dstGroup = 0, 0
		s.ns.mu.Unlock()
		return nil
	}
	port, groups, err := parseAddr(addr)
	if err != nil {
		return err
	}
	if groups != 0 {
		return unix.EPERM
	}
	s.ns.mu.Lock()
	defer s.ns.mu.Unlock()
	s.autobindLocked(pid)
	s.dstPort, s.dstGroup = port, groups
	return nil
}

// LocalAddr is getsockname(2): port 0 until bound.
func (s *Socket) LocalAddr() []byte {
	s.ns.mu.Lock()
	defer s.ns.mu.Unlock()
	return encodeAddr(s.portid, uint32(s.groups))
}

// PeerAddr is getpeername(2): the connected destination (the kernel).
func (s *Socket) PeerAddr() ([]byte, error) {
	s.ns.mu.Lock()
	defer s.ns.mu.Unlock()
	return encodeAddr(s.dstPort, s.dstGroup), nil
}

// Shutdown is shutdown(2): netlink has none (sock_no_shutdown).
func (s *Socket) Shutdown(how int) error { return unix.EOPNOTSUPP }

// TakeError returns and clears the pending error (sock_error).
func (s *Socket) TakeError() error {
	s.ns.mu.Lock()
	defer s.ns.mu.Unlock()
	if e := s.err; e != 0 {
		s.err = 0
		return e
	}
	return nil
}

// SetError makes e the pending error.
func (s *Socket) SetError(e unix.Errno) {
	s.ns.mu.Lock()
	s.err = e
	s.notifyLocked()
	s.ns.mu.Unlock()
}

// Readiness implements vfs.Poller. Linux: net/core/datagram.c (datagram_poll)
func (s *Socket) Readiness() (uint32, <-chan struct{}) {
	s.ns.mu.Lock()
	defer s.ns.mu.Unlock()
	ch := s.changedLocked()
	ev := uint32(unix.POLLOUT | pollWrnorm | pollWrband)
	if s.err != 0 {
		ev |= unix.POLLERR
	}
	if len(s.queue) > 0 {
		ev |= unix.POLLIN | pollRdnorm
	}
	return ev, ch
}

// Poll bits x/sys lacks. Linux: include/uapi/asm-generic/poll.h
const (
	pollRdnorm = 0x040
	pollWrnorm = 0x100
	pollWrband = 0x200
)
