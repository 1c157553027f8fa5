package inet

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"

	"glassbox/internal/vfs"
)

type fakeCtx struct{ creds vfs.Creds }

func (c *fakeCtx) Creds() *vfs.Creds          { return &c.creds }
func (c *fakeCtx) Interrupt() <-chan struct{} { return nil }
func (c *fakeCtx) Interrupted() bool          { return false }

func newSock(t *testing.T, st *Stack, family, typ int) *Socket {
	t.Helper()
	f := st.NewFile(&fakeCtx{}, family, typ, 0)
	t.Cleanup(f.DecRef)
	s, _ := FromFile(f)
	return s
}

func sa4(ip string, port uint16) []byte {
	return encodeAddr(unix.AF_INET, netip.AddrPortFrom(netip.MustParseAddr(ip), port))
}

func sa6(ip string, port uint16) []byte {
	return encodeAddr(unix.AF_INET6, netip.AddrPortFrom(netip.MustParseAddr(ip), port))
}

func TestAddrRoundTrip(t *testing.T) {
	for _, c := range []struct {
		family int
		b      []byte
		want   string
	}{
		{unix.AF_INET, sa4("127.0.0.1", 80), "127.0.0.1:80"},
		{unix.AF_INET6, sa6("::1", 443), "[::1]:443"},
		{unix.AF_INET6, sa6("::ffff:127.0.0.2", 8), "127.0.0.2:8"},
	} {
		ap, unspec, err := parseAddr(c.family, c.b)
		if err != nil || unspec || ap.String() != c.want {
			t.Errorf("parse %x: %v %v %v, want %s", c.b, ap, unspec, err, c.want)
		}
		if got := encodeAddr(c.family, ap); !bytes.Equal(got, c.b) {
			t.Errorf("encode %v: %x, want %x", ap, got, c.b)
		}
	}
	if _, _, err := parseAddr(unix.AF_INET, sa4("1.2.3.4", 1)[:8]); err != unix.EINVAL {
		t.Errorf("short sockaddr_in: %v", err)
	}
	if _, _, err := parseAddr(unix.AF_INET, sa6("::1", 1)); err != unix.EAFNOSUPPORT {
		t.Errorf("sockaddr_in6 to an AF_INET socket: %v", err)
	}
	// An IPv6 socket reports IPv4 peers v4-mapped.
	b := encodeAddr(unix.AF_INET6, netip.MustParseAddrPort("127.0.0.1:5"))
	if binary.LittleEndian.Uint16(b) != unix.AF_INET6 || !bytes.Equal(b[8:24], netip.MustParseAddr("::ffff:127.0.0.1").AsSlice()) {
		t.Errorf("mapped sockaddr_in6: %x", b)
	}
}

func TestRoute(t *testing.T) {
	for ip, want := range map[string]error{"127.0.0.1": nil, "127.1.2.3": nil, "0.0.0.0": nil, "::1": nil, "::": nil,
		"10.0.0.1": unix.ENETUNREACH, "8.8.8.8": unix.ENETUNREACH, "2001:db8::1": unix.ENETUNREACH} {
		if _, _, err := route(netip.MustParseAddr(ip)); err != want {
			t.Errorf("route %s: %v, want %v", ip, err, want)
		}
	}
}

func TestBindConflicts(t *testing.T) {
	st := NewStack()
	a := newSock(t, st, unix.AF_INET, unix.SOCK_STREAM)
	if err := a.Bind(sa4("127.0.0.1", 5000)); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		family       int
		addr         []byte
		v6only, reus bool
		want         error
	}{
		{unix.AF_INET, sa4("127.0.0.1", 5000), false, false, unix.EADDRINUSE},
		{unix.AF_INET, sa4("0.0.0.0", 5000), false, false, unix.EADDRINUSE},
		{unix.AF_INET, sa4("127.0.0.2", 5000), false, false, nil},
		{unix.AF_INET6, sa6("::", 5000), false, false, unix.EADDRINUSE}, // dual-stack covers 127.0.0.1
		{unix.AF_INET6, sa6("::", 5000), true, false, nil},              // v6-only does not
		{unix.AF_INET6, sa6("::1", 5000), false, false, unix.EADDRINUSE},
		{unix.AF_INET, sa4("10.0.0.1", 5001), false, false, unix.EADDRNOTAVAIL},
	}
	for i, c := range steps {
		s := newSock(t, st, c.family, unix.SOCK_STREAM)
		s.v6only = c.v6only
		if err := s.Bind(c.addr); err != c.want {
			t.Errorf("step %d: bind %x: %v, want %v", i, c.addr, err, c.want)
		}
	}
	// SO_REUSEADDR on both: allowed while neither listens.
	x, y := newSock(t, st, unix.AF_INET, unix.SOCK_STREAM), newSock(t, st, unix.AF_INET, unix.SOCK_STREAM)
	x.opts.reuseaddr, y.opts.reuseaddr = true, true
	if err := x.Bind(sa4("127.0.0.1", 6000)); err != nil {
		t.Fatal(err)
	}
	if err := y.Bind(sa4("127.0.0.1", 6000)); err != nil {
		t.Errorf("reuseaddr rebind: %v", err)
	}
	if err := x.Listen(1); err != nil {
		t.Fatal(err)
	}
	if err := y.Listen(1); err != unix.EADDRINUSE {
		t.Errorf("second listener: %v", err)
	}
	// Released sockets free their port at once (no TIME_WAIT).
	f := st.NewFile(&fakeCtx{}, unix.AF_INET, unix.SOCK_DGRAM, 0)
	u, _ := FromFile(f)
	if err := u.Bind(sa4("127.0.0.1", 7000)); err != nil {
		t.Fatal(err)
	}
	f.DecRef()
	if err := newSock(t, st, unix.AF_INET, unix.SOCK_DGRAM).Bind(sa4("127.0.0.1", 7000)); err != nil {
		t.Errorf("bind after release: %v", err)
	}
}

func TestConnectAccept(t *testing.T) {
	st := NewStack()
	ctx := &fakeCtx{}
	l := newSock(t, st, unix.AF_INET6, unix.SOCK_STREAM)
	if err := l.Listen(4); err != nil { // autobinds on ::
		t.Fatal(err)
	}
	port := l.local.Port()
	if port < ephemeralLow || port > ephemeralHigh {
		t.Errorf("ephemeral port %d", port)
	}
	c := newSock(t, st, unix.AF_INET, unix.SOCK_STREAM)
	if err := c.Connect(ctx, sa4("127.0.0.1", port)); err != nil {
		t.Fatal(err)
	}
	f, peer, err := l.Accept(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.DecRef()
	a, _ := FromFile(f)
	if !bytes.Equal(peer, encodeAddr(unix.AF_INET6, c.local)) || !bytes.Equal(a.LocalAddr(), sa6("::ffff:127.0.0.1", port)) {
		t.Errorf("accepted: peer %x local %x", peer, a.LocalAddr())
	}
	if n, err := c.SendTo(ctx, [][]byte{[]byte("ping")}, nil, 0); n != 4 || err != nil {
		t.Fatalf("send: %d %v", n, err)
	}
	buf := make([]byte, 8)
	if n, _, _, err := a.RecvFrom(ctx, [][]byte{buf}, 0, true); n != 4 || err != nil || string(buf[:4]) != "ping" {
		t.Errorf("recv: %d %v %q", n, err, buf)
	}
	if ev, _ := a.Readiness(); ev&unix.POLLOUT == 0 || ev&unix.POLLIN != 0 {
		t.Errorf("readiness %#x", ev)
	}
	if err := newSock(t, st, unix.AF_INET, unix.SOCK_STREAM).Connect(ctx, sa4("127.0.0.1", port+1)); err != unix.ECONNREFUSED {
		t.Errorf("no listener: %v", err)
	}
	if err := newSock(t, st, unix.AF_INET, unix.SOCK_STREAM).Connect(ctx, sa4("192.0.2.1", 80)); err != unix.ENETUNREACH {
		t.Errorf("off the loopback: %v", err)
	}
	o := newSock(t, st, unix.AF_INET6, unix.SOCK_STREAM)
	o.v6only = true
	if err := o.Connect(ctx, sa6("::ffff:127.0.0.1", port)); err != unix.ENETUNREACH {
		t.Errorf("v6only to mapped: %v", err)
	}
}

func TestUDP(t *testing.T) {
	st := NewStack()
	ctx := &fakeCtx{}
	r, s := newSock(t, st, unix.AF_INET, unix.SOCK_DGRAM), newSock(t, st, unix.AF_INET6, unix.SOCK_DGRAM)
	if err := r.Bind(sa4("127.0.0.1", 9000)); err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"a", "bb", "ccc"} {
		if n, err := s.SendTo(ctx, [][]byte{[]byte(m)}, sa6("::ffff:127.0.0.1", 9000), 0); n != len(m) || err != nil {
			t.Fatalf("sendto: %d %v", n, err)
		}
	}
	buf := make([]byte, 2)
	for _, want := range []string{"a", "bb", "cc"} {
		n, fl, from, err := r.RecvFrom(ctx, [][]byte{buf}, 0, true)
		if err != nil || string(buf[:n]) != want || (want == "cc") != (fl&unix.MSG_TRUNC != 0) {
			t.Errorf("recv: %q %#x %v, want %q", buf[:n], fl, err, want)
		}
		if ap, _, _ := parseAddr(unix.AF_INET, from); ap.Addr() != loopback4 || ap.Port() != s.local.Port() {
			t.Errorf("from %v", ap)
		}
	}
	if _, _, _, err := r.RecvFrom(ctx, [][]byte{buf}, unix.MSG_DONTWAIT, false); err != unix.EAGAIN {
		t.Errorf("empty: %v", err)
	}
}
