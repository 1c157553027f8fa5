package syscalls

import (
	"sync"

	"golang.org/x/sys/unix"

	"glassbox/internal/kernel"
	"glassbox/internal/net/netlink"
	unixsock "glassbox/internal/net/unix"
	"glassbox/internal/vfs"
)

// nlSock adapts a netlink socket to sock: a destination comes as the raw
// sockaddr_nl in Name.Raw.
type nlSock struct{ *netlink.Socket }

// pidOf is the caller's process id (netlink's autobind port), 0 if ctx is
// not a task.
func pidOf(ctx vfs.Ctx) int {
	if t, ok := ctx.(*kernel.Task); ok {
		return t.PID()
	}
	return 0
}

// Send implements sock. SCM_RIGHTS is EINVAL on a netlink socket;
// credentials are accepted and not used. Linux: net/core/scm.c (__scm_send)
func (s nlSock) Send(ctx vfs.Ctx, src [][]byte, o unixsock.SendOpts) (int, error) {
	if len(o.Rights) > 0 {
		dropFiles(o.Rights)
		return 0, unix.EINVAL
	}
	var to []byte
	if o.To != nil {
		to = o.To.Raw
	}
	return s.Socket.Send(ctx, src, to, o.Flags, pidOf(ctx))
}

// Recv implements sock.
func (s nlSock) Recv(ctx vfs.Ctx, dst [][]byte, flags int, wantFrom bool) (unixsock.RecvResult, error) {
	n, fl, from, err := s.Socket.Recv(ctx, dst, flags)
	return unixsock.RecvResult{N: n, Flags: fl, From: from}, err
}

// nlNets holds each sandbox's netlink namespace (*netlink.Namespace by
// *kernel.Kernel) until its first process exits; SetupNet makes the one
// for --net=host, otherwise the first socket makes a loopback-only one.
var nlNets sync.Map

func nlNS(t *kernel.Task) *netlink.Namespace {
	if v := t.NetNSObject("netlink", func() any {
		st := inetStack(t)
		admin := func(ctx vfs.Ctx) bool {
			c, ok := ctx.(*kernel.Task)
			return ok && c.NetCapable(unix.CAP_NET_ADMIN)
		}
		return netlink.NewDownNamespace(admin, st.SetUp)
	}); v != nil {
		return v.(*netlink.Namespace)
	}
	k := t.Kernel()
	if v, ok := nlNets.Load(k); ok {
		return v.(*netlink.Namespace)
	}
	v, loaded := nlNets.LoadOrStore(k, netlink.NewNamespace(false))
	if !loaded {
		go func() {
			<-k.Done()
			nlNets.Delete(k)
		}()
	}
	return v.(*netlink.Namespace)
}

func setupNetlink(k *kernel.Kernel, host bool) {
	nlNets.Store(k, netlink.NewNamespace(host))
	go func() {
		<-k.Done()
		nlNets.Delete(k)
	}()
}

// nlGetsockopt is getsockopt(2) on a netlink socket: SOL_SOCKET, or
// SOL_NETLINK (ENOPROTOOPT for other levels; an int option needs room
// for an int). Linux: net/netlink/af_netlink.c (netlink_getsockopt)
func nlGetsockopt(t *kernel.Task, s nlSock, a kernel.Args) (uint64, error) {
	level := a.Int(1)
	if level != unix.SOL_SOCKET && level != unix.SOL_NETLINK {
		return 0, unix.ENOPROTOOPT
	}
	n, err := optLen(t, a[4])
	if err != nil {
		return 0, err
	}
	v, err := s.GetOption(level, a.Int(2))
	if err != nil {
		return 0, err
	}
	if level == unix.SOL_NETLINK && a.Int(2) != unix.NETLINK_LIST_MEMBERSHIPS && n < 4 {
		return 0, unix.EINVAL
	}
	m := min(n, len(v))
	if err := t.CopyOut(a[3], v[:m]); err != nil {
		return 0, unix.EFAULT
	}
	if level == unix.SOL_NETLINK && a.Int(2) == unix.NETLINK_LIST_MEMBERSHIPS {
		m = len(v) // the size needed. Linux: netlink_getsockopt
	}
	return 0, putOptLen(t, a[4], m)
}
