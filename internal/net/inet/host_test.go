package inet

import (
	"io"
	"net"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/internal/vfs"
)

// A host stack's sockets are the host's: a guest listener is reachable
// with Go's net package, and the guest's sockaddrs come back re-encoded.
func TestHostStackTCP(t *testing.T) {
	st := NewHostStack()
	ctx := &fakeCtx{}
	l := newSock(t, st, unix.AF_INET, unix.SOCK_STREAM)
	if err := l.Bind(sa4("127.0.0.1", 0)); err != nil {
		t.Fatal(err)
	}
	if err := l.Listen(5); err != nil {
		t.Fatal(err)
	}
	ap, _, err := parseAddr(unix.AF_INET, l.LocalAddr())
	if err != nil || ap.Addr() != netip.MustParseAddr("127.0.0.1") || ap.Port() == 0 {
		t.Fatalf("listener address %v %v", ap, err)
	}
	go func() {
		c, err := net.Dial("tcp", ap.String())
		if err == nil {
			c.Write([]byte("ping"))
			c.(*net.TCPConn).CloseWrite()
			io.Copy(io.Discard, c)
			c.Close()
		}
	}()
	f, peer, err := l.Accept(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.DecRef()
	if pa, _, err := parseAddr(unix.AF_INET, peer); err != nil || !pa.Addr().IsLoopback() {
		t.Errorf("peer %v %v", pa, err)
	}
	s, _ := FromFile(f)
	buf := make([]byte, 16)
	n, _, _, err := s.RecvFrom(ctx, [][]byte{buf}, unix.MSG_WAITALL, false)
	if err != nil || string(buf[:n]) != "ping" {
		t.Errorf("recv %q %v", buf[:n], err)
	}
	if n, _, _, err := s.RecvFrom(ctx, [][]byte{buf}, 0, false); n != 0 || err != nil {
		t.Errorf("recv at EOF: %d %v", n, err)
	}
	if _, err := s.GetOption(unix.SOL_SOCKET, unix.SO_ATTACH_FILTER); err != unix.ENOPROTOOPT {
		t.Errorf("SO_ATTACH_FILTER: %v, want ENOPROTOOPT", err)
	}
	if err := s.SetOption(unix.IPPROTO_TCP, unix.TCP_NODELAY, []byte{1, 0, 0, 0}, false); err != nil {
		t.Errorf("TCP_NODELAY: %v", err)
	}
	// A non-blocking accept with nothing pending.
	l.file.Load().SetStatusFlags(unix.O_NONBLOCK)
	if _, _, err := l.Accept(ctx, 0); err != unix.EAGAIN {
		t.Errorf("non-blocking accept: %v", err)
	}
}

// A blocking connect to a closed host port is refused; to a listener it
// connects, and a second connect is EISCONN.
func TestHostStackConnect(t *testing.T) {
	st := NewHostStack()
	ctx := &fakeCtx{}
	hl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := uint16(hl.Addr().(*net.TCPAddr).Port)
	c := newSock(t, st, unix.AF_INET6, unix.SOCK_STREAM)
	if err := c.Connect(ctx, sa6("::ffff:127.0.0.1", port)); err != nil {
		t.Fatalf("connect: %v", err)
	}
	if err := c.Connect(ctx, sa6("::ffff:127.0.0.1", port)); err != unix.EISCONN {
		t.Errorf("connect again: %v", err)
	}
	hl.Close()
	d := newSock(t, st, unix.AF_INET, unix.SOCK_STREAM)
	if err := d.Connect(ctx, sa4("127.0.0.1", port)); err != unix.ECONNREFUSED {
		t.Errorf("connect to a closed port: %v", err)
	}
}

// Publish forwards host connections to a listener on the private
// loopback, both ways, with half-close.
func TestPublish(t *testing.T) {
	st := NewStack()
	ctx := &fakeCtx{}
	l := newSock(t, st, unix.AF_INET, unix.SOCK_STREAM)
	if err := l.Bind(sa4("127.0.0.1", 8080)); err != nil {
		t.Fatal(err)
	}
	l.Listen(5)
	hl, _ := net.Listen("tcp", "127.0.0.1:0")
	hostPort := hl.Addr().(*net.TCPAddr).Port
	hl.Close()
	p, err := ParsePublish(strconv.Itoa(hostPort) + ":8080")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	defer close(done)
	if err := st.Publish([]Publish{p}, &vfs.Creds{}, done); err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(hostPort))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("hello"))
	c.(*net.TCPConn).CloseWrite()
	f, _, err := l.Accept(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := FromFile(f)
	buf := make([]byte, 16)
	n, _, _, err := s.RecvFrom(ctx, [][]byte{buf}, unix.MSG_WAITALL, false)
	if string(buf[:n]) != "hello" || err != nil {
		t.Errorf("guest got %q %v", buf[:n], err)
	}
	s.SendTo(ctx, [][]byte{[]byte("world")}, nil, 0)
	f.DecRef()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	got, err := io.ReadAll(c)
	if string(got) != "world" || err != nil {
		t.Errorf("host got %q %v", got, err)
	}
	for _, bad := range []string{"1", "x:2", "1:0", "1:2/sctp"} {
		if _, err := ParsePublish(bad); err == nil {
			t.Errorf("ParsePublish(%q) accepted", bad)
		}
	}
}

// A published UDP port: datagrams reach the guest's socket and its
// replies come back to the sender.
func TestPublishUDP(t *testing.T) {
	st := NewStack()
	ctx := &fakeCtx{}
	u := newSock(t, st, unix.AF_INET, unix.SOCK_DGRAM)
	if err := u.Bind(sa4("127.0.0.1", 5353)); err != nil {
		t.Fatal(err)
	}
	hc, _ := net.ListenPacket("udp", "127.0.0.1:0")
	hostPort := hc.LocalAddr().(*net.UDPAddr).Port
	hc.Close()
	p, err := ParsePublish(strconv.Itoa(hostPort) + ":5353/udp")
	if err != nil || !p.UDP {
		t.Fatal(p, err)
	}
	done := make(chan struct{})
	defer close(done)
	if err := st.Publish([]Publish{p}, &vfs.Creds{}, done); err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("udp", "127.0.0.1:"+strconv.Itoa(hostPort))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("question"))
	buf := make([]byte, 64)
	n, _, from, err := u.RecvFrom(ctx, [][]byte{buf}, 0, true)
	if err != nil || string(buf[:n]) != "question" {
		t.Fatalf("guest got %q %v", buf[:n], err)
	}
	if _, err := u.SendTo(ctx, [][]byte{[]byte("answer")}, from, 0); err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if n, err := c.Read(buf); err != nil || string(buf[:n]) != "answer" {
		t.Errorf("host got %q %v", buf[:n], err)
	}
}
