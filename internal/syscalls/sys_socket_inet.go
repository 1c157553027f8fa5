package syscalls

import (
	"fmt"
	"sync"

	"golang.org/x/sys/unix"

	"glassbox/internal/kernel"
	"glassbox/internal/net/inet"
	"glassbox/internal/net/netlink"
	unixsock "glassbox/internal/net/unix"
	"glassbox/internal/vfs"
)

// sock is what the generic socket calls (send, receive, shutdown, names,
// errors) need of a socket of any family: *unixsock.Socket, or an inet
// socket through inetSock.
type sock interface {
	Type() int
	Send(ctx vfs.Ctx, src [][]byte, o unixsock.SendOpts) (int, error)
	Recv(ctx vfs.Ctx, dst [][]byte, flags int, wantFrom bool) (unixsock.RecvResult, error)
	Shutdown(how int) error
	LocalAddr() []byte
	PeerAddr() ([]byte, error)
	TakeError() error
	SetError(e unix.Errno)
}

// inetSock adapts an inet socket to sock: a destination comes as the raw
// sockaddr in Name.Raw.
type inetSock struct{ *inet.Socket }

// Send implements sock. sendmsg passes no SCM_RIGHTS or SCM_CREDENTIALS
// to an inet socket (inetControlCheck ignores them, as Linux's
// __sock_cmsg_send does); any that come are EINVAL.
func (s inetSock) Send(ctx vfs.Ctx, src [][]byte, o unixsock.SendOpts) (int, error) {
	if len(o.Rights) > 0 || o.Cred != nil {
		dropFiles(o.Rights)
		return 0, unix.EINVAL
	}
	var to []byte
	if o.To != nil {
		to = o.To.Raw
	}
	return s.SendMsg(ctx, src, to, o.Flags, o.Ctl)
}

// Recv implements sock. There is no error queue (MSG_ERRQUEUE: EAGAIN).
func (s inetSock) Recv(ctx vfs.Ctx, dst [][]byte, flags int, wantFrom bool) (unixsock.RecvResult, error) {
	if flags&unix.MSG_ERRQUEUE != 0 {
		return unixsock.RecvResult{}, unix.EAGAIN
	}
	n, fl, from, ctl, err := s.RecvMsg(ctx, dst, flags, wantFrom)
	return unixsock.RecvResult{N: n, Flags: fl, From: from, Ctl: ctl}, err
}

// sockOf returns the socket behind f: EBADF-free, ENOTSOCK for another
// kind of file.
func sockOf(f *vfs.File) (sock, error) {
	if s, ok := unixsock.FromFile(f); ok {
		return s, nil
	}
	if s, ok := inet.FromFile(f); ok {
		return inetSock{s}, nil
	}
	if s, ok := netlink.FromFile(f); ok {
		return nlSock{s}, nil
	}
	return nil, unix.ENOTSOCK
}

// inetStacks holds each sandbox's loopback network (*inet.Stack by
// *kernel.Kernel) until its first process exits: --net=none.
var inetStacks sync.Map

func inetStack(t *kernel.Task) *inet.Stack {
	if v := t.NetNSObject("inet", func() any { return inet.NewDownStack() }); v != nil {
		return v.(*inet.Stack)
	}
	k := t.Kernel()
	if v, ok := inetStacks.Load(k); ok {
		return v.(*inet.Stack)
	}
	v, loaded := inetStacks.LoadOrStore(k, inet.NewStack())
	if !loaded {
		go func() {
			<-k.Done()
			inetStacks.Delete(k)
		}()
	}
	return v.(*inet.Stack)
}

// SetupNet gives sandbox k its inet network by policy ("" or "none": the
// private loopback; "host": host sockets) and starts serving the
// published ports (HOSTPORT:GUESTPORT, --net=none only) until k is done.
// Call it before k starts.
func SetupNet(k *kernel.Kernel, policy string, publish []string) error {
	var st *inet.Stack
	switch policy {
	case "", "none":
		st = inet.NewStack()
	case "host":
		st = inet.NewHostStack()
	default:
		return fmt.Errorf("--net=%s: want none or host", policy)
	}
	var ps []inet.Publish
	for _, v := range publish {
		p, err := inet.ParsePublish(v)
		if err != nil {
			return err
		}
		ps = append(ps, p)
	}
	if err := st.Publish(ps, k.HostCtx().Creds(), k.Done()); err != nil {
		return err
	}
	inetStacks.Store(k, st)
	setupNetlink(k, policy == "host")
	go func() {
		<-k.Done()
		inetStacks.Delete(k)
	}()
	return nil
}
