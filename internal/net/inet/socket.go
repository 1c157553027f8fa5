package inet

import (
	"net/netip"
	"strconv"
	"sync/atomic"

	"golang.org/x/sys/unix"

	unixsock "glassbox/internal/net/unix"
	"glassbox/internal/vfs"
)

// Socket states. Linux keeps TCP's (TCP_CLOSE, TCP_LISTEN,
// TCP_ESTABLISHED); a connected UDP socket is "established" too.
const (
	stateClosed = iota
	stateListening
	stateConnected
)

// Shutdown bits. Linux: include/net/sock.h (RCV_SHUTDOWN, SEND_SHUTDOWN)
const (
	rcvShutdown  = 1
	sendShutdown = 2
	shutdownMask = 3
)

// sockfs's device number, and where inet inode numbers start (apart from
// the AF_UNIX ones, which count from 1).
const (
	sockDev  = 0x9
	inoBase  = 1 << 24
	pageSize = 4096
)

var lastIno atomic.Uint64

// Socket is one AF_INET or AF_INET6 socket and the vfs.FileOps of its
// file.
type Socket struct {
	st       *Stack
	family   int
	typ      int
	ino      uint64
	uid, gid uint32
	file     atomic.Pointer[vfs.File]
	released atomic.Bool

	// Guarded by st.mu.
	state      int
	bound      bool
	autoPort   bool           // the port was chosen by the stack
	local      netip.AddrPort // the bound address (unmapped); zero when unbound
	peer       netip.AddrPort // the connected peer (unmapped)
	v6only     bool
	connecting bool       // a non-blocking connect said EINPROGRESS
	anyIP      netip.Addr // the wildcard address connect replaced by a source
	dead       bool
	shut       int
	err        unix.Errno // pending error (sk_err)
	opts       options
	changes    vfs.Changes

	// TCP. inner is this end of the connection's socket pair, set once
	// (under st.mu) when the connection is made and never changed.
	inner     *vfs.File
	innerSock *unixsock.Socket
	peerInner *unixsock.Socket // the other end, to reset it
	reset     bool             // a write after the peer's close drew a reset
	pending   []*Socket        // a listener's connections not yet accepted
	backlog   int

	// --net=host: the host socket behind s (nil on the loopback stack).
	h *hostSock

	// UDP.
	queue  []dgram
	qbytes int  // true size of the queued datagrams
	lite   bool // UDP-Lite (udplite.go); set before the socket is shared
}

var (
	_ vfs.FileOps = (*Socket)(nil)
	_ vfs.Stream  = (*Socket)(nil)
	_ vfs.Ioctler = (*Socket)(nil)
	_ vfs.Poller  = (*Socket)(nil)
)

// CheckType validates socket(2)'s type (without flags) and protocol for
// an inet socket and returns the type. Linux: net/ipv4/af_inet.c
// (inet_create and inetsw_array)
func CheckType(typ, proto int) (int, error) {
	switch typ {
	case unix.SOCK_STREAM:
		if proto != 0 && proto != unix.IPPROTO_TCP {
			return 0, unix.EPROTONOSUPPORT
		}
	case unix.SOCK_DGRAM:
		if proto != 0 && proto != unix.IPPROTO_UDP && proto != unix.IPPROTO_UDPLITE {
			return 0, unix.EPROTONOSUPPORT
		}
	case unix.SOCK_RAW:
		if proto == 0 {
			// IPPROTO_IP matches only a wildcard entry, and raw has
			// none. Linux: net/ipv4/af_inet.c (inet_create)
			return 0, unix.EPROTONOSUPPORT
		}
		return 0, unix.EPERM // no CAP_NET_RAW in the sandbox
	default:
		return 0, unix.ESOCKTNOSUPPORT
	}
	return typ, nil
}

func (st *Stack) newSocket(family, typ int) *Socket {
	return &Socket{st: st, family: family, typ: typ, opts: defaultOptions(typ)}
}

// attach gives s an inode number, an owner and a file with the status
// flags fileFlags (O_NONBLOCK).
func (s *Socket) attach(ctx vfs.Ctx, fileFlags int) *vfs.File {
	s.ino = inoBase + lastIno.Add(1)
	if c := ctx.Creds(); c != nil {
		s.uid, s.gid = c.FSUID, c.FSGID
	}
	f := vfs.NewAnonFile(s, s.Name(), unix.O_RDWR|fileFlags&unix.O_NONBLOCK)
	s.file.Store(f)
	return f
}

// NewFile returns the file of a new socket of family (AF_INET or
// AF_INET6) and type (checked by CheckType); fileFlags may hold
// O_NONBLOCK.
func (st *Stack) NewFile(ctx vfs.Ctx, family, typ, fileFlags int) *vfs.File {
	s := st.newSocket(family, typ)
	if st.host {
		s = st.newHostSocket(family, typ)
	}
	if c := ctx.Creds(); c != nil {
		s.uid = c.EUID
	}
	return s.attach(ctx, fileFlags)
}

// OpenFile is NewFile for socket(2): a host socket that cannot be made
// because descriptors ran out (ENFILE: the sandbox's bound, package
// hostfd; EMFILE) fails the call at once, as Linux's socket does; other
// host errors show on first use.
func (st *Stack) OpenFile(ctx vfs.Ctx, family, typ, fileFlags int) (*vfs.File, error) {
	if st.host {
		s := st.newHostSocket(family, typ)
		if err := s.h.err; err == unix.ENFILE || err == unix.EMFILE {
			return nil, err
		}
		if c := ctx.Creds(); c != nil {
			s.uid = c.EUID
		}
		return s.attach(ctx, fileFlags), nil
	}
	return st.NewFile(ctx, family, typ, fileFlags), nil
}

// FromFile returns the socket behind f, if it is an inet socket.
func FromFile(f *vfs.File) (*Socket, bool) {
	s, ok := f.Ops().(*Socket)
	return s, ok
}

// Type returns SOCK_STREAM or SOCK_DGRAM.
func (s *Socket) Type() int { return s.typ }

// Family returns AF_INET or AF_INET6.
func (s *Socket) Family() int { return s.family }

// Name is the socket's /proc/PID/fd name, "socket:[INO]".
func (s *Socket) Name() string { return "socket:[" + strconv.FormatUint(s.ino, 10) + "]" }

// nonblock reports whether the file is in O_NONBLOCK mode or flags ask
// for MSG_DONTWAIT.
func (s *Socket) nonblock(flags int) bool { return unixsock.NonBlocking(s.file.Load(), flags) }

func (s *Socket) changedLocked() <-chan struct{} {
	return s.changes.Chan()
}

func (s *Socket) notifyLocked() {
	s.changes.Notify()
}

// takeErrLocked returns and clears the pending error. Linux: sock_error
func (s *Socket) takeErrLocked() error {
	if e := s.err; e != 0 {
		s.err = 0
		return e
	}
	return nil
}

// conn returns the inner socket of a connection (nil before).
func (s *Socket) conn() *unixsock.Socket {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	return s.innerSock
}

// Read implements vfs.FileOps: a recv without flags.
func (s *Socket) Read(ctx vfs.Ctx, dst [][]byte, off int64) (int, error) {
	n, _, _, err := s.RecvFrom(ctx, dst, 0, false)
	return n, err
}

// Write implements vfs.FileOps: a send without flags.
func (s *Socket) Write(ctx vfs.Ctx, src [][]byte, off int64) (int, error) {
	return s.SendTo(ctx, src, nil, 0)
}

// Stat implements vfs.FileOps: a sockfs inode.
func (s *Socket) Stat(vfs.Ctx) (vfs.Stat, error) {
	return vfs.Stat{Dev: sockDev, Ino: s.ino, Mode: unix.S_IFSOCK | 0o777, Nlink: 1,
		UID: s.uid, GID: s.gid, Blksize: pageSize}, nil
}

// IsStream implements vfs.Stream.
func (*Socket) IsStream() {}

// Release implements vfs.FileOps: the last reference to the file is gone.
func (s *Socket) Release() {
	if s.h != nil {
		if !s.released.Swap(true) {
			s.h.release()
		}
		return
	}
	if !s.released.Swap(true) {
		s.st.release(s)
	}
}

// release closes s: its port is free, a listener's unaccepted
// connections are reset, a connection ends (with a reset when SO_LINGER
// is on with a zero timeout). Linux: net/ipv4/tcp.c (__tcp_close),
// inet_csk_listen_stop
func (st *Stack) release(s *Socket) {
	st.mu.Lock()
	st.unbindLocked(s)
	s.dead = true
	s.state = stateClosed
	s.shut = shutdownMask
	var drop []*vfs.File
	if s.inner != nil {
		drop = append(drop, s.inner)
		if s.opts.linger && s.opts.lingerSecs == 0 && s.peerInner != nil {
			s.peerInner.SetError(unix.ECONNRESET)
		}
	}
	pending := s.pending
	s.pending = nil
	s.queue, s.qbytes = nil, 0
	s.notifyLocked()
	for _, e := range pending {
		st.unbindLocked(e)
		e.dead = true
		if e.peerInner != nil {
			e.peerInner.SetError(unix.ECONNRESET)
		}
		drop = append(drop, e.inner)
	}
	st.mu.Unlock()
	for _, f := range drop {
		f.DecRef()
	}
}
