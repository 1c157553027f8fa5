package unix

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/internal/vfs"
)

// Defaults of a sandbox, as a Linux kernel with default sysctls has them.
// Linux: net/core/sock.c (sysctl_wmem_default...), net/unix/af_unix.c
const (
	DefaultSndbuf = 212992 // net.core.wmem_default
	DefaultRcvbuf = 212992 // net.core.rmem_default
	WmemMax       = 212992 // net.core.wmem_max
	RmemMax       = 212992 // net.core.rmem_max
	MaxDgramQlen  = 10     // net.unix.max_dgram_qlen
	SoMaxConn     = 4096   // net.core.somaxconn
	minSndbuf     = 4608   // SOCK_MIN_SNDBUF
	minRcvbuf     = 2304   // SOCK_MIN_RCVBUF
	// Dev is the device number of sockfs, the inodes of every socket.
	Dev = 0x9
)

// Connection states. Linux uses TCP's (TCP_CLOSE, TCP_LISTEN,
// TCP_ESTABLISHED).
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

var lastIno atomic.Uint64

// Namespace is one sandbox's AF_UNIX sockets: their state, the abstract
// names and the pathname sockets.
type Namespace struct {
	paths PathBinder

	mu       sync.Mutex
	abstract map[abstractKey]*Socket
	all      map[*Socket]struct{} // sockets with a file (proc.go)
}

// NewNamespace returns an empty namespace whose pathname sockets live in
// paths.
func NewNamespace(paths PathBinder) *Namespace {
	return &Namespace{paths: paths, abstract: map[abstractKey]*Socket{}}
}

// Socket is one AF_UNIX socket and the vfs.FileOps of its file.
type Socket struct {
	ns       *Namespace
	typ      int
	ino      uint64
	uid, gid uint32
	file     atomic.Pointer[vfs.File]
	released atomic.Bool

	// Guarded by ns.mu.
	state      int
	oobMsg     *message // the out-of-band byte not yet read (oob.go)
	takenOOB   int      // queued oob messages taken by recv(MSG_OOB)
	tcp        bool     // one end of an inet TCP connection (urgent.go)
	urgent     func()   // a TCP end's news of an oob byte (urgent.go)
	peer       *Socket
	addr       []byte // the bound sockaddr_un; nil when unbound
	unbindPath func()
	dead       bool
	shut       int
	err        unix.Errno // pending error (sk_err)
	queue      msgQueue   // received messages
	inq        int        // unread bytes in queue
	pending    []*Socket  // a listener's connections not yet accepted
	backlog    int        // listen backlog, or max_dgram_qlen
	wmem       int        // true size of this socket's messages still queued
	peerCred   Cred
	opts       options
	changes    vfs.Changes
	peerWake   map[*Socket]bool // sockets to wake when our queue drains
}

var (
	_ vfs.FileOps = (*Socket)(nil)
	_ vfs.Stream  = (*Socket)(nil)
	_ vfs.Ioctler = (*Socket)(nil)
	_ vfs.Poller  = (*Socket)(nil)
)

// ValidType reports whether typ (without SOCK_NONBLOCK/SOCK_CLOEXEC) is an
// AF_UNIX type, mapping SOCK_RAW to SOCK_DGRAM as Linux does. Unknown types
// are ESOCKTNOSUPPORT. Linux: net/unix/af_unix.c (unix_create)
func ValidType(typ int) (int, error) {
	switch typ {
	case unix.SOCK_STREAM, unix.SOCK_DGRAM, unix.SOCK_SEQPACKET:
		return typ, nil
	case unix.SOCK_RAW:
		return unix.SOCK_DGRAM, nil
	}
	return 0, unix.ESOCKTNOSUPPORT
}

func (ns *Namespace) newSocket(typ int) *Socket {
	return &Socket{ns: ns, typ: typ, backlog: MaxDgramQlen, peerCred: noCred,
		opts: defaultOptions()}
}

// attach gives s an inode number, an owner and a file with the status
// flags fileFlags (O_NONBLOCK).
func (s *Socket) attach(ctx vfs.Ctx, fileFlags int) *vfs.File {
	s.ino = lastIno.Add(1)
	if c := ctx.Creds(); c != nil {
		s.uid, s.gid = c.FSUID, c.FSGID
	}
	f := vfs.NewAnonFile(s, s.Name(), unix.O_RDWR|fileFlags&unix.O_NONBLOCK)
	s.file.Store(f)
	s.ns.register(s)
	return f
}

// NewFile returns the file of a new socket of type typ (checked with
// ValidType); fileFlags may hold O_NONBLOCK.
func (ns *Namespace) NewFile(ctx vfs.Ctx, typ, fileFlags int) *vfs.File {
	return ns.newSocket(typ).attach(ctx, fileFlags)
}

// NewPair returns the files of two sockets connected to each other, as
// socketpair(2) makes them, each with the caller's SO_PEERCRED.
// Linux: net/unix/af_unix.c (unix_socketpair)
func (ns *Namespace) NewPair(ctx vfs.Ctx, typ, fileFlags int) (*vfs.File, *vfs.File) {
	a, b := ns.newSocket(typ), ns.newSocket(typ)
	a.peer, b.peer = b, a
	a.state, b.state = stateConnected, stateConnected
	a.peerCred, b.peerCred = PeerCred(ctx), PeerCred(ctx)
	return a.attach(ctx, fileFlags), b.attach(ctx, fileFlags)
}

// FromFile returns the socket behind f, if it is one.
func FromFile(f *vfs.File) (*Socket, bool) {
	s, ok := f.Ops().(*Socket)
	return s, ok
}

// Type returns SOCK_STREAM, SOCK_DGRAM or SOCK_SEQPACKET.
func (s *Socket) Type() int { return s.typ }

// Name is the socket's /proc/PID/fd name, "socket:[INO]".
func (s *Socket) Name() string { return "socket:[" + strconv.FormatUint(s.ino, 10) + "]" }

// nonblock reports whether the file is in O_NONBLOCK mode or flags ask
// for MSG_DONTWAIT.
func (s *Socket) nonblock(flags int) bool { return NonBlocking(s.file.Load(), flags) }

// NonBlocking reports whether a socket call on f must not wait: f is in
// O_NONBLOCK mode (nil: no file yet) or flags ask for MSG_DONTWAIT. Every
// socket family asks this way.
func NonBlocking(f *vfs.File, flags int) bool {
	return flags&unix.MSG_DONTWAIT != 0 || f != nil && f.Flags()&unix.O_NONBLOCK != 0
}

// changedLocked returns a channel closed at s's next change.
func (s *Socket) changedLocked() <-chan struct{} {
	return s.changes.Chan()
}

// notifyLocked wakes everyone waiting for a change of s.
func (s *Socket) notifyLocked() {
	s.changes.Notify()
}

// wakePeersLocked wakes the sockets that wait for s's queue to drain.
// Linux: net/unix/af_unix.c (unix_dgram_peer_wake_relay)
func (s *Socket) wakePeersLocked() {
	for o := range s.peerWake {
		o.notifyLocked()
	}
	clear(s.peerWake)
}

// takeErrLocked returns and clears the pending error. Linux: sock_error
func (s *Socket) takeErrLocked() error {
	if e := s.err; e != 0 {
		s.err = 0
		return e
	}
	return nil
}

// freeLocked drops m from the accounting of its sender, returning the
// files it still carries for the caller to release after unlocking.
func freeLocked(m *message) []*vfs.File {
	if m.from != nil {
		m.from.wmem -= m.size
		m.from.notifyLocked()
	}
	r := m.rights
	m.rights = nil
	return r
}

// popLocked removes the first message of s's queue.
func (s *Socket) popLocked() []*vfs.File {
	m := s.queue.pop()
	s.inq -= len(m.data) - m.off
	if m.taken {
		s.takenOOB--
	}
	s.notifyLocked()
	s.wakePeersLocked()
	return freeLocked(m)
}

// dropFiles releases files; call without ns.mu.
func dropFiles(files []*vfs.File) {
	for _, f := range files {
		f.DecRef()
	}
}

// deadline is when a wait started now with timeout t ends (zero: never).
func deadline(t timeout) time.Time {
	if !t.set {
		return time.Time{}
	}
	return time.Now().Add(t.d)
}

// Wait sleeps until ch is closed. A timeout becomes EAGAIN; a signal
// EINTR, which the syscall layer restarts unless a timeout was set. Every
// socket family waits this way.
// Linux: include/net/sock.h (sock_intr_errno)
func Wait(ctx vfs.Ctx, ch <-chan struct{}, until time.Time) error {
	switch err := vfs.WaitAny(ctx, []<-chan struct{}{ch}, until); err {
	case nil:
		return nil
	case unix.ETIMEDOUT:
		return unix.EAGAIN
	case unix.EINTR:
		if !until.IsZero() {
			return plainErrno{unix.EINTR}
		}
		return unix.EINTR
	default:
		return err
	}
}

// Read implements vfs.FileOps (read, readv): a recv without flags whose
// ancillary data is dropped.
func (s *Socket) Read(ctx vfs.Ctx, dst [][]byte, off int64) (int, error) {
	r, err := s.Recv(ctx, dst, 0, false)
	dropFiles(r.Rights)
	return r.N, err
}

// Write implements vfs.FileOps (write, writev): a send without flags.
func (s *Socket) Write(ctx vfs.Ctx, src [][]byte, off int64) (int, error) {
	return s.Send(ctx, src, SendOpts{})
}

// Stat implements vfs.FileOps: a sockfs inode. Linux: net/socket.c
// (sock_alloc)
func (s *Socket) Stat(vfs.Ctx) (vfs.Stat, error) {
	return vfs.Stat{Dev: Dev, Ino: s.ino, Mode: unix.S_IFSOCK | 0o777, Nlink: 1,
		UID: s.uid, GID: s.gid, Blksize: pageSize}, nil
}

// IsStream implements vfs.Stream: sockets have no file position.
func (*Socket) IsStream() {}

// Release implements vfs.FileOps: the last reference to the file is gone.
func (s *Socket) Release() {
	if !s.released.Swap(true) {
		s.ns.release(s, false)
	}
}

// release closes s: its names go, its peer sees the end, queued messages
// and pending connections are dropped. embryo is true for a connection
// that was never accepted. Linux: net/unix/af_unix.c (unix_release_sock)
func (ns *Namespace) release(s *Socket, embryo bool) {
	var drop []*vfs.File
	ns.mu.Lock()
	delete(ns.all, s)
	ns.unbindAbstractLocked(s)
	unbind := s.unbindPath
	s.unbindPath = nil
	s.dead = true
	s.shut = shutdownMask
	s.state = stateClosed
	peer := s.peer
	s.peer = nil
	s.wakePeersLocked()
	if peer != nil {
		if s.typ != unix.SOCK_DGRAM {
			peer.shut = shutdownMask
			if s.queue.len() > 0 || embryo {
				peer.err = unix.ECONNRESET
			}
			peer.notifyLocked()
		}
		delete(peer.peerWake, s)
	}
	for s.queue.len() > 0 {
		drop = append(drop, s.popLocked()...)
	}
	pending := s.pending
	s.pending = nil
	s.notifyLocked()
	ns.mu.Unlock()
	if unbind != nil {
		unbind()
	}
	for _, e := range pending {
		ns.release(e, true)
	}
	dropFiles(drop)
}
