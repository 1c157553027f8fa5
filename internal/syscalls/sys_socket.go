package syscalls

import (
	"encoding/binary"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"

	"glassbox/internal/kernel"
	"glassbox/internal/net/inet"
	"glassbox/internal/net/netlink"
	unixsock "glassbox/internal/net/unix"
	"glassbox/internal/vfs"
)

// Sockets: AF_UNIX inside the sandbox (internal/net/unix); AF_INET and
// AF_INET6 on the sandbox's private loopback (internal/net/inet, the
// --net=none policy); AF_NETLINK's NETLINK_ROUTE (internal/net/netlink);
// other families are EAFNOSUPPORT. The send and receive calls are in
// sys_socket_msg.go, the family glue in sys_socket_inet.go and
// sys_socket_netlink.go.
func init() {
	reg(unix.SYS_SOCKET, sysSocket, "AF_UNIX; AF_INET/AF_INET6 on a private loopback; AF_NETLINK (NETLINK_ROUTE)")
	reg(unix.SYS_SOCKETPAIR, sysSocketpair, "AF_UNIX only")
	reg(unix.SYS_BIND, sysBind, "pathname sockets are files only where the file system can make S_IFSOCK nodes")
	reg(unix.SYS_LISTEN, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		s, f, err := getSocket(t, a.Int(0))
		if err != nil {
			return 0, err
		}
		defer f.DecRef()
		if is, ok := s.(inetSock); ok {
			return 0, is.Listen(a.Int(1))
		}
		if _, ok := s.(nlSock); ok {
			return 0, unix.EOPNOTSUPP
		}
		return 0, s.(*unixsock.Socket).Listen(a.Int(1), unixsock.PeerCred(t))
	})
	reg(unix.SYS_ACCEPT, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return doAccept(t, a.Int(0), a[1], a[2], 0)
	})
	reg(unix.SYS_ACCEPT4, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return doAccept(t, a.Int(0), a[1], a[2], a.Int(3))
	})
	reg(unix.SYS_CONNECT, sysConnect)
	reg(unix.SYS_GETSOCKNAME, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return getName(t, a.Int(0), a[1], a[2], false)
	})
	reg(unix.SYS_GETPEERNAME, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return getName(t, a.Int(0), a[1], a[2], true)
	})
	reg(unix.SYS_SHUTDOWN, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		s, f, err := getSocket(t, a.Int(0))
		if err != nil {
			return 0, err
		}
		defer f.DecRef()
		return 0, s.Shutdown(a.Int(1))
	})
	reg(unix.SYS_GETSOCKOPT, sysGetsockopt, "SOL_SOCKET; SOL_TCP, SOL_IP, SOL_IPV6 of inet sockets")
	reg(unix.SYS_SETSOCKOPT, sysSetsockopt, "SOL_SOCKET; SOL_TCP, SOL_IP, SOL_IPV6 of inet sockets")
}

// Limits of the socket calls. Linux: include/linux/socket.h, net/socket.c
const (
	afMax          = 46  // AF_MAX
	sockMax        = 11  // SOCK_MAX
	sockTypeMask   = 0xf // SOCK_TYPE_MASK
	sockaddrMax    = 128 // sizeof(struct sockaddr_storage)
	sockFlagsValid = unix.SOCK_CLOEXEC | unix.SOCK_NONBLOCK
)

// unixNets holds each sandbox's AF_UNIX namespace (*unixsock.Namespace
// by *kernel.Kernel) until its first process exits.
var unixNets sync.Map

func unixNS(t *kernel.Task) *unixsock.Namespace {
	k := t.Kernel()
	if v, ok := unixNets.Load(k); ok {
		return v.(*unixsock.Namespace)
	}
	v, loaded := unixNets.LoadOrStore(k, unixsock.NewNamespace(unixsock.NewRegistry(k.Namespace())))
	if !loaded {
		go func() {
			<-k.Done()
			unixNets.Delete(k)
		}()
	}
	return v.(*unixsock.Namespace)
}

// getSocket returns the socket behind fd and its file (for the caller to
// DecRef): EBADF, or ENOTSOCK for another kind of file.
func getSocket(t *kernel.Task, fd int) (sock, *vfs.File, error) {
	f, err := getFileIO(t, fd)
	if err != nil {
		return nil, nil, err
	}
	s, err := sockOf(f)
	if err != nil {
		f.DecRef()
		return nil, nil, err
	}
	return s, f, nil
}

// checkSocketArgs applies socket(2)'s checks common to socketpair and
// returns the type and flags. Linux: net/socket.c (__sys_socket,
// __sock_create), net/unix/af_unix.c (unix_create)
func checkSocketArgs(t *kernel.Task, family, typ, proto int, pair bool) (int, int, error) {
	flags := typ &^ sockTypeMask
	if flags&^sockFlagsValid != 0 {
		return 0, 0, unix.EINVAL
	}
	typ &= sockTypeMask
	if family < 0 || family >= afMax {
		return 0, 0, unix.EAFNOSUPPORT
	}
	if typ >= sockMax {
		return 0, 0, unix.EINVAL
	}
	switch family {
	case unix.AF_UNIX:
	case unix.AF_INET, unix.AF_INET6:
		// The socket is made (its checks) before socketpair is refused.
		// Linux: net/socket.c (__sys_socketpair), net/ipv4/af_inet.c (inet_create)
		if proto < 0 || proto >= 256 { // IPPROTO_MAX
			return 0, 0, unix.EINVAL
		}
		if inet.IsPing(family, typ, proto) {
			if pair {
				return 0, 0, unix.EOPNOTSUPP
			}
			return typ, flags, nil
		}
		typ, err := inet.CheckType(typ, proto)
		if err == nil && pair {
			err = unix.EOPNOTSUPP // inet has no socketpair
		}
		return typ, flags, err
	case unix.AF_NETLINK:
		if err := netlink.CheckType(typ, proto); err != nil {
			if err == unix.EPROTONOSUPPORT {
				t.ReportUnsupported("netlink protocol " + strconv.Itoa(proto))
			}
			return 0, 0, err
		}
		if pair {
			return 0, 0, unix.EOPNOTSUPP // sock_no_socketpair
		}
		return typ, flags, nil
	default:
		t.ReportUnsupported("socket family " + strconv.Itoa(family))
		return 0, 0, unix.EAFNOSUPPORT
	}
	if proto != 0 && proto != unix.AF_UNIX {
		return 0, 0, unix.EPROTONOSUPPORT
	}
	typ, err := unixsock.ValidType(typ)
	return typ, flags, err
}

func sysSocket(t *kernel.Task, a kernel.Args) (uint64, error) {
	typ, flags, err := checkSocketArgs(t, a.Int(0), a.Int(1), a.Int(2), false)
	if err != nil {
		return 0, err
	}
	var f *vfs.File
	if fam := a.Int(0); inet.IsPing(fam, typ, a.Int(2)) {
		if f, err = inetStack(t).NewPingFile(t, fam, a.Int(2), flags&unix.SOCK_NONBLOCK); err != nil {
			return 0, err
		}
	} else if fam == unix.AF_INET || fam == unix.AF_INET6 {
		if f, err = inetStack(t).OpenFile(t, fam, typ, flags&unix.SOCK_NONBLOCK); err != nil {
			return 0, err
		}
		if a.Int(2) == unix.IPPROTO_UDPLITE {
			if err := inet.MakeLite(f); err != nil {
				f.DecRef()
				return 0, err
			}
		}
	} else if fam == unix.AF_NETLINK {
		f = nlNS(t).NewFile(t, typ, a.Int(2), flags&unix.SOCK_NONBLOCK)
	} else {
		f = unixNS(t).NewFile(t, typ, flags&unix.SOCK_NONBLOCK)
	}
	return installNew(t, f, flags&unix.SOCK_CLOEXEC != 0)
}

func sysSocketpair(t *kernel.Task, a kernel.Args) (uint64, error) {
	typ, flags, err := checkSocketArgs(t, a.Int(0), a.Int(1), a.Int(2), true)
	if err != nil {
		return 0, err
	}
	x, y := unixNS(t).NewPair(t, typ, flags&unix.SOCK_NONBLOCK)
	cloexec := flags&unix.SOCK_CLOEXEC != 0
	fd0, err := t.FDs().Install(x, 0, cloexec, t.FDLimit())
	if err != nil {
		x.DecRef()
		y.DecRef()
		return 0, err
	}
	fd1, err := t.FDs().Install(y, 0, cloexec, t.FDLimit())
	if err != nil {
		t.FDs().Close(fd0)
		y.DecRef()
		return 0, err
	}
	var b [8]byte
	binary.LittleEndian.PutUint32(b[0:], uint32(fd0))
	binary.LittleEndian.PutUint32(b[4:], uint32(fd1))
	if err := t.CopyOut(a[3], b[:]); err != nil {
		t.FDs().Close(fd0)
		t.FDs().Close(fd1)
		return 0, unix.EFAULT
	}
	return 0, nil
}

// readSockaddr copies in a socket address of n bytes (nil for 0).
// Linux: net/socket.c (move_addr_to_kernel)
func readSockaddr(t *kernel.Task, addr uint64, n int) ([]byte, error) {
	if n < 0 || n > sockaddrMax {
		return nil, unix.EINVAL
	}
	if n == 0 {
		return nil, nil
	}
	b := make([]byte, n)
	if err := t.CopyIn(addr, b); err != nil {
		return nil, unix.EFAULT
	}
	return b, nil
}

// writeSockaddr gives the user up to *ulenAddr bytes of a and stores a's
// full length there. Linux: net/socket.c (move_addr_to_user)
func writeSockaddr(t *kernel.Task, a []byte, uaddr, ulenAddr uint64) error {
	var lb [4]byte
	if err := t.CopyIn(ulenAddr, lb[:]); err != nil {
		return unix.EFAULT
	}
	n := int(int32(binary.LittleEndian.Uint32(lb[:])))
	n = min(n, len(a))
	if n < 0 {
		return unix.EINVAL
	}
	if n > 0 {
		if err := t.CopyOut(uaddr, a[:n]); err != nil {
			return unix.EFAULT
		}
	}
	binary.LittleEndian.PutUint32(lb[:], uint32(len(a)))
	if err := t.CopyOut(ulenAddr, lb[:]); err != nil {
		return unix.EFAULT
	}
	return nil
}

// resolveName parses an AF_UNIX address and, for a pathname, resolves its
// directory as the caller sees it (relative to its working directory).
func resolveName(t *kernel.Task, b []byte, forBind bool) (*unixsock.Name, error) {
	n, err := unixsock.ParseAddr(b)
	if err != nil || n.Abstract() {
		return n, err
	}
	dir, base, trailing, err := t.WalkParent(kernel.AtFDCWD, n.Path)
	if err != nil {
		return nil, err
	}
	if trailing && forBind {
		// Linux: fs/namei.c (filename_create) — EEXIST, else ENOENT.
		if _, err := t.MountNS().Step(t, dir, base); err == nil {
			return nil, unix.EADDRINUSE
		}
		return nil, unix.ENOENT
	}
	n.Dir, n.Base = dir, base
	return n, nil
}

func sysBind(t *kernel.Task, a kernel.Args) (uint64, error) {
	s, f, err := getSocket(t, a.Int(0))
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	b, err := readSockaddr(t, a[1], a.Int(2))
	if err != nil {
		return 0, err
	}
	if is, ok := s.(inetSock); ok {
		return 0, is.BindPriv(b, t.NetCapable(unix.CAP_NET_BIND_SERVICE))
	}
	if ns, ok := s.(nlSock); ok {
		return 0, ns.Bind(b, t.PID())
	}
	us := s.(*unixsock.Socket)
	if len(b) == 2 && b[0] == unix.AF_UNIX && b[1] == 0 {
		return 0, us.Bind(t, nil, 0) // autobind. Linux: unix_bind
	}
	n, err := resolveName(t, b, true)
	if err != nil {
		return 0, err
	}
	return 0, us.Bind(t, n, 0o777&^t.FS().Umask())
}

func sysConnect(t *kernel.Task, a kernel.Args) (uint64, error) {
	s, f, err := getSocket(t, a.Int(0))
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	b, err := readSockaddr(t, a[1], a.Int(2))
	if err != nil {
		return 0, err
	}
	if is, ok := s.(inetSock); ok {
		return 0, restartable(is.Connect(t, b))
	}
	if ns, ok := s.(nlSock); ok {
		return 0, ns.Connect(b, t.PID())
	}
	var n *unixsock.Name
	if s.Type() == unix.SOCK_DGRAM && len(b) >= 2 && b[0] == unix.AF_UNSPEC && b[1] == 0 {
		n = nil // dissolve the association. Linux: unix_dgram_connect
	} else if n, err = resolveName(t, b, false); err != nil {
		return 0, err
	}
	return 0, restartable(s.(*unixsock.Socket).Connect(t, n, unixsock.PeerCred(t)))
}

// doAccept is accept4(2). Linux: net/socket.c (__sys_accept4, do_accept)
func doAccept(t *kernel.Task, fd int, addr, lenAddr uint64, flags int) (uint64, error) {
	if flags&^sockFlagsValid != 0 {
		return 0, unix.EINVAL
	}
	s, f, err := getSocket(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	var nf *vfs.File
	var peer []byte
	if _, ok := s.(nlSock); ok {
		return 0, unix.EOPNOTSUPP
	}
	if is, ok := s.(inetSock); ok {
		nf, peer, err = is.Accept(t, flags&unix.SOCK_NONBLOCK)
	} else {
		nf, err = s.(*unixsock.Socket).Accept(t, flags&unix.SOCK_NONBLOCK)
		if err == nil && addr != 0 {
			ns, _ := unixsock.FromFile(nf)
			if peer, err = ns.PeerAddr(); err != nil {
				nf.DecRef()
				return 0, unix.ECONNABORTED
			}
		}
	}
	if err != nil {
		return 0, restartable(err)
	}
	if addr != 0 {
		if err := writeSockaddr(t, peer, addr, lenAddr); err != nil {
			nf.DecRef() // the connection is lost, as in Linux
			return 0, err
		}
	}
	return installNew(t, nf, flags&unix.SOCK_CLOEXEC != 0)
}

func getName(t *kernel.Task, fd int, addr, lenAddr uint64, peer bool) (uint64, error) {
	s, f, err := getSocket(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	var a []byte
	if peer {
		if a, err = s.PeerAddr(); err != nil {
			return 0, err
		}
	} else {
		a = s.LocalAddr()
	}
	return 0, writeSockaddr(t, a, addr, lenAddr)
}

// sysGetsockopt answers SOL_SOCKET options; AF_UNIX has no others
// (EOPNOTSUPP). Linux: net/socket.c (do_sock_getsockopt), net/core/sock.c
func sysGetsockopt(t *kernel.Task, a kernel.Args) (uint64, error) {
	s, f, err := getSocket(t, a.Int(0))
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	if ns, ok := s.(nlSock); ok {
		return nlGetsockopt(t, ns, a)
	}
	is, isInet := s.(inetSock)
	if a.Int(1) != unix.SOL_SOCKET && !isInet {
		return 0, unix.EOPNOTSUPP
	}
	n, err := optLen(t, a[4])
	if err != nil {
		return 0, err
	}
	var v []byte
	if isInet {
		v, err = is.GetOption(a.Int(1), a.Int(2))
	} else {
		v, err = s.(*unixsock.Socket).GetOption(a.Int(2))
		if err == nil && a.Int(2) == unix.SO_PEERCRED && len(v) >= 4 {
			// The peer's pid as the caller's PID namespace numbers it.
			// Linux: net/core/sock.c (sk_getsockopt: cred_to_ucred, pid_vnr)
			binary.LittleEndian.PutUint32(v, uint32(t.VPID(int(int32(binary.LittleEndian.Uint32(v))))))
		}
	}
	if err != nil {
		return 0, err
	}
	n = min(n, len(v))
	if err := t.CopyOut(a[3], v[:n]); err != nil {
		return 0, unix.EFAULT
	}
	return 0, putOptLen(t, a[4], n)
}

func sysSetsockopt(t *kernel.Task, a kernel.Args) (uint64, error) {
	s, f, err := getSocket(t, a.Int(0))
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	n := a.Int(4)
	if n < 0 {
		return 0, unix.EINVAL
	}
	is, isInet := s.(inetSock)
	ns, isNetlink := s.(nlSock)
	if a.Int(1) != unix.SOL_SOCKET && !isInet && !isNetlink {
		return 0, unix.EOPNOTSUPP
	}
	v := make([]byte, min(n, 16)) // no option is longer
	if err := t.CopyIn(a[3], v); err != nil {
		return 0, unix.EFAULT
	}
	if isNetlink {
		return 0, ns.SetOption(a.Int(1), a.Int(2), v, n, t.NetCapable(unix.CAP_NET_ADMIN))
	}
	if isInet {
		return 0, is.SetOption(a.Int(1), a.Int(2), v, t.NetCapable(unix.CAP_NET_ADMIN))
	}
	return 0, s.(*unixsock.Socket).SetOption(a.Int(2), v, t.NetCapable(unix.CAP_NET_ADMIN))
}

// withSocket runs fn on the socket behind fd (EBADF, ENOTSOCK).
// putOptLen stores getsockopt's result length.
func putOptLen(t *kernel.Task, addr uint64, n int) error {
	var lb [4]byte
	binary.LittleEndian.PutUint32(lb[:], uint32(n))
	return t.CopyOut(addr, lb[:])
}

// optLen reads getsockopt's optlen argument: EFAULT if unreadable,
// EINVAL if negative. Linux: net/socket.c (do_sock_getsockopt)
func optLen(t *kernel.Task, addr uint64) (int, error) {
	var lb [4]byte
	if err := t.CopyIn(addr, lb[:]); err != nil {
		return 0, unix.EFAULT
	}
	n := int(int32(binary.LittleEndian.Uint32(lb[:])))
	if n < 0 {
		return 0, unix.EINVAL
	}
	return n, nil
}

func withSocket(t *kernel.Task, fd int, fn func(s sock) (uint64, error)) (uint64, error) {
	s, f, err := getSocket(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	return fn(s)
}

// pinned holds guest buffers pinned for one transfer.
type pinned struct {
	bufs [][]byte
	pins []interface{ Unpin() }
}

func (p *pinned) unpin() {
	for _, x := range p.pins {
		x.Unpin()
	}
}

// pin pins the guest ranges of iov (writable ones to receive into).
func pin(t *kernel.Task, iov []iovec, write bool) (*pinned, error) {
	p := &pinned{}
	for _, v := range iov {
		if v.len == 0 {
			continue
		}
		x, err := t.Pin(v.base, int(v.len), write)
		if err != nil {
			p.unpin()
			return nil, unix.EFAULT
		}
		p.pins = append(p.pins, x)
		p.bufs = append(p.bufs, x.Bufs...)
	}
	return p, nil
}

// dropFiles releases files received but not installed.
func dropFiles(fs []*vfs.File) {
	for _, f := range fs {
		f.DecRef()
	}
}
