package unix

import (
	"bytes"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/internal/vfs"
)

// fakeCtx is a task as the socket layer sees it.
type fakeCtx struct {
	pid         int
	creds       vfs.Creds
	intr        chan struct{}
	interrupted atomic.Bool
}

func newCtx() *fakeCtx {
	return &fakeCtx{pid: 7, creds: vfs.Creds{UID: 1000, GID: 100, EUID: 1000, EGID: 100, FSUID: 1000, FSGID: 100},
		intr: make(chan struct{}, 1)}
}

func (c *fakeCtx) Creds() *vfs.Creds          { return &c.creds }
func (c *fakeCtx) Interrupt() <-chan struct{} { return c.intr }
func (c *fakeCtx) Interrupted() bool          { return c.interrupted.Load() }
func (c *fakeCtx) PID() int                   { return c.pid }

func (c *fakeCtx) signal() { c.interrupted.Store(true); c.intr <- struct{}{} }

func pair(t *testing.T, typ, flags int) (*vfs.File, *vfs.File, *Socket, *Socket) {
	t.Helper()
	a, b := NewNamespace(nil).NewPair(newCtx(), typ, flags)
	t.Cleanup(func() { a.DecRef(); b.DecRef() })
	sa, _ := FromFile(a)
	sb, _ := FromFile(b)
	return a, b, sa, sb
}

func send(ctx vfs.Ctx, s *Socket, n int) (int, error) {
	return s.Send(ctx, [][]byte{make([]byte, n)}, SendOpts{})
}

// TestTruesize checks the skb accounting against numbers taken from
// Linux 6.18 (SIOCOUTQ after writes into a socketpair).
func TestTruesize(t *testing.T) {
	for _, c := range []struct{ n, stream, dgram int }{
		{1, 768, 768}, {1000, 2304, 2304}, {36544, 37120, 0}, {26912, 28928, 0}, {100000, 0, 102656},
	} {
		if c.stream != 0 {
			if _, ts := streamSkbSize(c.n, DefaultSndbuf); ts != c.stream {
				t.Errorf("stream skb of %d: truesize %d, want %d", c.n, ts, c.stream)
			}
		}
		if c.dgram != 0 && dgramTruesize(c.n) != c.dgram {
			t.Errorf("datagram of %d: truesize %d, want %d", c.n, dgramTruesize(c.n), c.dgram)
		}
	}
}

// TestFillLikeHost replays non-blocking fills of a socketpair whose
// results were taken from Linux 6.18: bytes accepted before EAGAIN, and
// bytes read before POLLOUT comes back.
func TestFillLikeHost(t *testing.T) {
	for _, c := range []struct {
		typ, chunk, total, outq, readBack int
	}{
		{unix.SOCK_STREAM, 1, 278, 213504, 278},
		{unix.SOCK_STREAM, 1000, 93000, 214272, 70000},
		{unix.SOCK_STREAM, 100000, 236544, 243456, 200000},
		{unix.SOCK_STREAM, 1 << 20, 219264, 222720, 183000},
		{unix.SOCK_DGRAM, 1, 278, 213504, 209},
		{unix.SOCK_DGRAM, 1000, 93000, 214272, 70000},
		{unix.SOCK_SEQPACKET, 1000, 93000, 214272, 70000},
	} {
		ctx := newCtx()
		_, _, a, b := pair(t, c.typ, unix.O_NONBLOCK)
		total := 0
		for {
			n, err := send(ctx, a, c.chunk)
			total += n
			if err != nil {
				if err != unix.EAGAIN {
					t.Fatalf("send: %v", err)
				}
				break
			}
		}
		if total != c.total || a.wmem != c.outq {
			t.Errorf("%d×%d: sent %d outq %d, want %d %d", c.typ, c.chunk, total, a.wmem, c.total, c.outq)
		}
		if ev, _ := a.Readiness(); ev&unix.POLLOUT != 0 {
			t.Errorf("POLLOUT when full")
		}
		read, buf := 0, make([]byte, 65536)
		if c.typ == unix.SOCK_STREAM {
			buf = buf[:1000]
		}
		for ev, _ := a.Readiness(); ev&unix.POLLOUT == 0; ev, _ = a.Readiness() {
			r, err := b.Recv(ctx, [][]byte{buf}, 0, false)
			if err != nil {
				t.Fatal(err)
			}
			read += r.N
		}
		if read != c.readBack {
			t.Errorf("%d×%d: read %d before POLLOUT, want %d", c.typ, c.chunk, read, c.readBack)
		}
	}
}

func TestBlockingRecv(t *testing.T) {
	ctx := newCtx()
	_, _, a, b := pair(t, unix.SOCK_STREAM, 0)
	done := make(chan error)
	go func() {
		_, err := b.Recv(ctx, [][]byte{make([]byte, 10)}, 0, false)
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	ctx.signal()
	if err := <-done; err != unix.EINTR {
		t.Fatalf("interrupted recv: %v", err)
	}
	ctx = newCtx()
	tv := make([]byte, 16)
	tv[8] = 0x50 // 80 µs: one tick
	if err := b.SetOption(unix.SO_RCVTIMEO, tv, false); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := b.Recv(ctx, [][]byte{make([]byte, 10)}, 0, false); err != unix.EAGAIN || time.Since(start) < 4*time.Millisecond {
		t.Fatalf("timed out recv: %v after %v", err, time.Since(start))
	}
	go func() {
		time.Sleep(20 * time.Millisecond)
		ctx.signal()
	}()
	if err := b.SetOption(unix.SO_RCVTIMEO, []byte{1, 15: 0}, false); err != nil { // 1 s
		t.Fatal(err)
	}
	_, err := b.Recv(ctx, [][]byte{make([]byte, 10)}, 0, false)
	if !Plain(err) || Errno(err) != unix.EINTR {
		t.Fatalf("interrupted recv with SO_RCVTIMEO: %v (plain %v)", err, Plain(err))
	}
	ctx = newCtx()
	go func() { time.Sleep(20 * time.Millisecond); send(ctx, a, 3) }()
	r, err := b.Recv(ctx, [][]byte{make([]byte, 10)}, 0, false)
	if err != nil || r.N != 3 {
		t.Fatalf("woken recv: %d %v", r.N, err)
	}
}

// countOps is a file that counts its releases.
type countOps struct {
	vfs.BaseOps
	released *atomic.Int32
}

func (c countOps) Stat(vfs.Ctx) (vfs.Stat, error) { return vfs.Stat{}, nil }
func (c countOps) Release()                       { c.released.Add(1) }

func TestRightsReleased(t *testing.T) {
	ctx := newCtx()
	var released atomic.Int32
	for _, typ := range []int{unix.SOCK_STREAM, unix.SOCK_DGRAM} {
		a, b := NewNamespace(nil).NewPair(ctx, typ, unix.O_NONBLOCK)
		sa, _ := FromFile(a)
		sb, _ := FromFile(b)
		files := []*vfs.File{vfs.NewFile(countOps{released: &released}, vfs.Path{}, 0),
			vfs.NewFile(countOps{released: &released}, vfs.Path{}, 0)}
		if _, err := sa.Send(ctx, [][]byte{[]byte("x")}, SendOpts{Rights: files[:1]}); err != nil {
			t.Fatal(err)
		}
		if _, err := sa.Send(ctx, [][]byte{[]byte("y")}, SendOpts{Rights: files[1:]}); err != nil {
			t.Fatal(err)
		}
		r, err := sb.Recv(ctx, [][]byte{make([]byte, 1)}, unix.MSG_PEEK, false)
		if err != nil || len(r.Rights) != 1 {
			t.Fatalf("peek: %v %d files", err, len(r.Rights))
		}
		dropFiles(r.Rights)
		if released.Load() != 0 {
			t.Fatalf("a peeked file was released")
		}
		r, _ = sb.Recv(ctx, [][]byte{make([]byte, 1)}, 0, false)
		dropFiles(r.Rights) // the first
		a.DecRef()
		b.DecRef() // the second, unread
		if released.Load() != int32(2) {
			t.Fatalf("%d of 2 files released", released.Load())
		}
		released.Store(0)
	}
}

func TestDgramQueueLimit(t *testing.T) {
	ctx := newCtx()
	ns := NewNamespace(nil)
	srv, cl := ns.NewFile(ctx, unix.SOCK_DGRAM, 0), ns.NewFile(ctx, unix.SOCK_DGRAM, unix.O_NONBLOCK)
	defer srv.DecRef()
	defer cl.DecRef()
	s, _ := FromFile(srv)
	c, _ := FromFile(cl)
	name, _ := ParseAddr(append([]byte{unix.AF_UNIX, 0, 0}, "q"...))
	if err := s.Bind(ctx, name, 0); err != nil {
		t.Fatal(err)
	}
	if err := c.Connect(ctx, name, Cred{}); err != nil {
		t.Fatal(err)
	}
	n := 0
	for ; n < 100; n++ {
		if _, err := send(ctx, c, 1); err != nil {
			if err != unix.EAGAIN {
				t.Fatal(err)
			}
			break
		}
	}
	ev, ch := c.Readiness()
	if n != MaxDgramQlen+1 || ev&unix.POLLOUT != 0 {
		t.Fatalf("queued %d, events %#x", n, ev)
	}
	if _, err := s.Recv(ctx, [][]byte{make([]byte, 1)}, 0, true); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ch:
	default:
		t.Fatal("the sender was not woken when the receiver drained")
	}
	if ev, _ := c.Readiness(); ev&unix.POLLOUT == 0 {
		t.Fatalf("events %#x after a read", ev)
	}
}

func TestAddrs(t *testing.T) {
	for _, c := range []struct {
		in       string
		raw      string
		path     string
		abstract bool
		err      error
	}{
		{"\x01\x00/tmp/s", "\x01\x00/tmp/s\x00", "/tmp/s", false, nil},
		{"\x01\x00/tmp/s\x00junk", "\x01\x00/tmp/s\x00", "/tmp/s", false, nil},
		{"\x01\x00\x00ab\x00", "\x01\x00\x00ab\x00", "", true, nil},
		{"\x01\x00", "", "", false, unix.EINVAL},
		{"\x02\x00/x", "", "", false, unix.EINVAL},
	} {
		n, err := ParseAddr([]byte(c.in))
		if err != c.err || err == nil && (string(n.Raw) != c.raw || n.Path != c.path || n.Abstract() != c.abstract) {
			t.Errorf("ParseAddr(%q) = %+v, %v", c.in, n, err)
		}
	}
	ns := NewNamespace(nil)
	seen := map[string]bool{}
	for range 200 {
		f := ns.NewFile(newCtx(), unix.SOCK_DGRAM, 0)
		defer f.DecRef()
		s, _ := FromFile(f)
		if err := s.Bind(newCtx(), nil, 0); err != nil {
			t.Fatal(err)
		}
		a := s.LocalAddr()
		if len(a) != 8 || a[2] != 0 || seen[string(a)] {
			t.Fatalf("autobind gave %q", a)
		}
		seen[string(a)] = true
	}
}

// TestStreamRace moves data both ways through a pair from several
// goroutines (run with -race): every byte arrives once, in order per
// writer's chunk sequence.
func TestStreamRace(t *testing.T) {
	ctx := newCtx()
	_, _, a, b := pair(t, unix.SOCK_STREAM, 0)
	const total = 1 << 20
	var wg sync.WaitGroup
	for _, s := range []*Socket{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			data := bytes.Repeat([]byte("0123456789abcdef"), total/16)
			for len(data) > 0 {
				n, err := s.Send(ctx, [][]byte{data[:min(len(data), 70000)]}, SendOpts{})
				if err != nil {
					t.Error(err)
					return
				}
				data = data[n:]
			}
		}()
	}
	errs := make(chan error, 2)
	for _, s := range []*Socket{a, b} {
		go func() {
			got := make([]byte, 0, total)
			buf := make([]byte, 5000)
			for len(got) < total {
				r, err := s.Recv(ctx, [][]byte{buf[:1000], buf[1000:]}, 0, false)
				if err != nil {
					errs <- err
					return
				}
				got = append(got, buf[:r.N]...)
			}
			if !bytes.Equal(got, bytes.Repeat([]byte("0123456789abcdef"), total/16)) {
				errs <- errors.New("data differs")
				return
			}
			errs <- nil
		}()
	}
	wg.Wait()
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if a.wmem != 0 || b.wmem != 0 {
		t.Fatalf("charges left: %d %d", a.wmem, b.wmem)
	}
}
