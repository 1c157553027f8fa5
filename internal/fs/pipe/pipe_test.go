package pipe

import (
	"bytes"
	"math/rand"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/internal/vfs"
)

// fakeCtx is a task as file operations see it.
type fakeCtx struct {
	intr        chan struct{}
	interrupted atomic.Bool
}

func newCtx() *fakeCtx { return &fakeCtx{intr: make(chan struct{}, 1)} }

func (c *fakeCtx) Creds() *vfs.Creds          { return &vfs.Creds{FSUID: 1000, FSGID: 100} }
func (c *fakeCtx) Interrupt() <-chan struct{} { return c.intr }
func (c *fakeCtx) Interrupted() bool          { return c.interrupted.Load() }

// signal makes a signal pending and wakes the waiter.
func (c *fakeCtx) signal() { c.interrupted.Store(true); c.intr <- struct{}{} }

type fakeMem map[uint64][]byte

func (m fakeMem) CopyIn(addr uint64, b []byte) error { copy(b, m[addr]); return nil }
func (m fakeMem) CopyOut(addr uint64, b []byte) error {
	m[addr] = append([]byte(nil), b...)
	return nil
}

func read(t *testing.T, ctx vfs.Ctx, f *vfs.File, n int) ([]byte, error) {
	t.Helper()
	b := make([]byte, n)
	got, err := f.Read(ctx, [][]byte{b}, -1)
	return b[:got], err
}

func write(ctx vfs.Ctx, f *vfs.File, b []byte) (int, error) {
	return f.Write(ctx, [][]byte{b}, -1)
}

// waitBlocked returns once someone waits on p's next change.
func waitBlocked(t *testing.T, p *Pipe) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		p.mu.Lock()
		w := p.changes.Waited()
		p.mu.Unlock()
		if w {
			time.Sleep(5 * time.Millisecond) // let it settle into select
			return
		}
	}
	t.Fatal("nobody blocked")
}

func pipeOf(f *vfs.File) *Pipe { p, _ := FromOps(f.Ops()); return p }

type result struct {
	n   int
	b   []byte
	err error
}

func TestEOFAfterWriterClose(t *testing.T) {
	ctx := newCtx()
	r, w := NewFiles(ctx, 0)
	defer r.DecRef()
	if n, err := write(ctx, w, []byte("hello")); n != 5 || err != nil {
		t.Fatalf("write = %d, %v", n, err)
	}
	w.DecRef()
	if b, err := read(t, ctx, r, 100); string(b) != "hello" || err != nil {
		t.Fatalf("read = %q, %v", b, err)
	}
	if b, err := read(t, ctx, r, 100); len(b) != 0 || err != nil {
		t.Fatalf("read at EOF = %q, %v", b, err)
	}
}

func TestEPIPEAfterReaderClose(t *testing.T) {
	ctx := newCtx()
	r, w := NewFiles(ctx, 0)
	defer w.DecRef()
	r.DecRef()
	if n, err := write(ctx, w, []byte("x")); n != 0 || err != unix.EPIPE {
		t.Fatalf("write = %d, %v; want EPIPE", n, err)
	}
	if n, err := write(ctx, w, nil); n != 0 || err != nil {
		t.Fatalf("null write = %d, %v; want success", n, err)
	}
}

func TestBlockingReadWokenByWrite(t *testing.T) {
	ctx := newCtx()
	r, w := NewFiles(ctx, 0)
	defer r.DecRef()
	defer w.DecRef()
	done := make(chan result)
	go func() {
		b, err := read(t, ctx, r, 100)
		done <- result{b: b, err: err}
	}()
	waitBlocked(t, pipeOf(r))
	select {
	case <-done:
		t.Fatal("read returned from an empty pipe")
	default:
	}
	write(ctx, w, []byte("wake"))
	if res := <-done; string(res.b) != "wake" || res.err != nil {
		t.Fatalf("read = %q, %v", res.b, res.err)
	}
}

func TestBlockedReadSeesEOF(t *testing.T) {
	ctx := newCtx()
	r, w := NewFiles(ctx, 0)
	defer r.DecRef()
	done := make(chan result)
	go func() {
		b, err := read(t, ctx, r, 100)
		done <- result{b: b, err: err}
	}()
	waitBlocked(t, pipeOf(r))
	w.DecRef()
	if res := <-done; len(res.b) != 0 || res.err != nil {
		t.Fatalf("read = %q, %v; want EOF", res.b, res.err)
	}
}

func TestNonblock(t *testing.T) {
	ctx := newCtx()
	r, w := NewFiles(ctx, unix.O_NONBLOCK)
	defer r.DecRef()
	defer w.DecRef()
	if r.Flags()&unix.O_NONBLOCK == 0 || r.Flags()&unix.O_ACCMODE != unix.O_RDONLY ||
		w.Flags()&unix.O_ACCMODE != unix.O_WRONLY {
		t.Fatalf("flags %#x %#x", r.Flags(), w.Flags())
	}
	if _, err := read(t, ctx, r, 10); err != unix.EAGAIN {
		t.Fatalf("read of empty pipe: %v; want EAGAIN", err)
	}
	if n, err := write(ctx, w, make([]byte, DefaultSize+100)); n != DefaultSize || err != nil {
		t.Fatalf("big nonblocking write = %d, %v; want partial %d", n, err, DefaultSize)
	}
	if n, err := write(ctx, w, []byte("x")); n != 0 || err != unix.EAGAIN {
		t.Fatalf("write to full pipe = %d, %v; want EAGAIN", n, err)
	}
	// A slot frees only when read empty.
	read(t, ctx, r, 100)
	if n, err := write(ctx, w, make([]byte, PipeBuf+1)); n != 0 || err != unix.EAGAIN {
		t.Fatalf("write with a slot part read = %d, %v; want EAGAIN", n, err)
	}
	read(t, ctx, r, PipeBuf-100)
	if n, err := write(ctx, w, make([]byte, PipeBuf+1)); n != PipeBuf || err != nil {
		t.Fatalf("large write = %d, %v; want %d", n, err, PipeBuf)
	}
	// F_SETFL takes effect on the next call.
	r.SetStatusFlags(0)
	if _, err := read(t, ctx, r, DefaultSize); err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() { _, err := read(t, ctx, r, 1); done <- err }()
	waitBlocked(t, pipeOf(r))
	write(ctx, w, []byte("y"))
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestPipeBufAtomic(t *testing.T) {
	ctx := newCtx()
	r, w := NewFiles(ctx, 0)
	defer r.DecRef()
	defer w.DecRef()
	fill := DefaultSize - (PipeBuf - 1)
	write(ctx, w, make([]byte, fill))
	done := make(chan result)
	go func() {
		n, err := write(ctx, w, bytes.Repeat([]byte{'a'}, PipeBuf))
		done <- result{n: n, err: err}
	}()
	p := pipeOf(r)
	waitBlocked(t, p)
	if p.Len() != fill {
		t.Fatalf("atomic write went in partly: %d bytes held, want %d", p.Len(), fill)
	}
	read(t, ctx, r, 1) // the first slot still holds bytes: no room yet
	time.Sleep(10 * time.Millisecond)
	if p.Len() != fill-1 {
		t.Fatalf("atomic write went in partly: %d bytes held, want %d", p.Len(), fill-1)
	}
	read(t, ctx, r, PipeBuf-1)
	if res := <-done; res.n != PipeBuf || res.err != nil {
		t.Fatalf("write = %d, %v", res.n, res.err)
	}
	if p.Len() != fill {
		t.Fatalf("held %d", p.Len())
	}
}

func TestLargeBlockingWrite(t *testing.T) {
	ctx := newCtx()
	r, w := NewFiles(ctx, 0)
	defer r.DecRef()
	want := make([]byte, 300000)
	rand.New(rand.NewSource(1)).Read(want)
	done := make(chan result)
	go func() {
		// Two buffers, as writev gives them.
		n, err := w.Write(ctx, [][]byte{want[:1234], want[1234:]}, -1)
		w.DecRef()
		done <- result{n: n, err: err}
	}()
	var got []byte
	for {
		b, err := read(t, ctx, r, 7000)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) == 0 {
			break
		}
		got = append(got, b...)
	}
	if res := <-done; res.n != len(want) || res.err != nil {
		t.Fatalf("write = %d, %v", res.n, res.err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("read %d bytes, differing from the %d written", len(got), len(want))
	}
}

func TestInterrupt(t *testing.T) {
	ctx := newCtx()
	r, w := NewFiles(ctx, 0)
	defer r.DecRef()
	defer w.DecRef()
	done := make(chan error)
	go func() { _, err := read(t, ctx, r, 10); done <- err }()
	waitBlocked(t, pipeOf(r))
	ctx.intr <- struct{}{} // a token with nothing pending: keep waiting
	time.Sleep(10 * time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("read returned %v on a spurious wakeup", err)
	default:
	}
	ctx.signal()
	if err := <-done; err != unix.EINTR {
		t.Fatalf("read = %v; want EINTR", err)
	}
}

func TestInterruptedWriteReturnsPartial(t *testing.T) {
	ctx := newCtx()
	r, w := NewFiles(ctx, 0)
	defer r.DecRef()
	defer w.DecRef()
	done := make(chan result)
	go func() {
		n, err := write(ctx, w, make([]byte, DefaultSize+5000))
		done <- result{n: n, err: err}
	}()
	waitBlocked(t, pipeOf(r))
	ctx.signal()
	if res := <-done; res.n != DefaultSize || res.err != nil {
		t.Fatalf("write = %d, %v; want %d", res.n, res.err, DefaultSize)
	}
	ctx.interrupted.Store(false)
	go func() { _, err := write(ctx, w, make([]byte, 10)); done <- result{err: err} }()
	waitBlocked(t, pipeOf(r))
	ctx.signal()
	if res := <-done; res.err != unix.EINTR {
		t.Fatalf("write = %v; want EINTR", res.err)
	}
}

func TestBlockedWriterSeesEPIPE(t *testing.T) {
	ctx := newCtx()
	r, w := NewFiles(ctx, 0)
	defer w.DecRef()
	done := make(chan result)
	go func() {
		n, err := write(ctx, w, make([]byte, DefaultSize+1))
		done <- result{n: n, err: err}
	}()
	waitBlocked(t, pipeOf(r))
	r.DecRef()
	if res := <-done; res.n != DefaultSize || res.err != unix.EPIPE {
		t.Fatalf("write = %d, %v; want %d, EPIPE", res.n, res.err, DefaultSize)
	}
}

func TestSetSize(t *testing.T) {
	ctx := newCtx()
	r, w := NewFiles(ctx, 0)
	defer r.DecRef()
	defer w.DecRef()
	p := pipeOf(r)
	for _, c := range []struct {
		arg  uint32
		priv bool
		want int
		err  error
	}{
		{0, false, 4096, nil}, {5000, false, 8192, nil}, {3 * 4096, false, 16384, nil},
		{1 << 20, false, 1 << 20, nil}, {1<<20 + 1, false, 0, unix.EPERM},
		{1<<20 + 1, true, 2 << 20, nil}, {1<<31 + 1, true, 0, unix.EINVAL},
	} {
		got, err := p.SetSize(c.arg, c.priv)
		if got != c.want || err != c.err {
			t.Errorf("SetSize(%d, %v) = %d, %v; want %d, %v", c.arg, c.priv, got, err, c.want, c.err)
		}
	}
	// Wrap the ring, then shrink it: the bytes survive in order.
	p.SetSize(8192, false)
	write(ctx, w, bytes.Repeat([]byte{'a'}, 6000)) // 4096 + 1904
	read(t, ctx, r, 5000)                          // slot 2: 1000 left
	write(ctx, w, bytes.Repeat([]byte{'b'}, 4000)) // no merge: slot 1 again
	if _, err := p.SetSize(4096, false); err != unix.EBUSY {
		t.Fatalf("shrink below the occupied slots: %v", err)
	}
	if b, _ := read(t, ctx, r, 1000); !bytes.Equal(b, bytes.Repeat([]byte{'a'}, 1000)) {
		t.Fatalf("read %q", b)
	}
	if n, err := p.SetSize(4096, false); n != 4096 || err != nil || p.Size() != 4096 {
		t.Fatalf("shrink: %d, %v", n, err)
	}
	if b, _ := read(t, ctx, r, 8192); !bytes.Equal(b, bytes.Repeat([]byte{'b'}, 4000)) {
		t.Fatalf("after shrink read %d bytes %q...", len(b), b[:min(len(b), 8)])
	}
}

func TestPendingSignalStopsWaitAtOnce(t *testing.T) {
	ctx := newCtx()
	r, w := NewFiles(ctx, 0)
	defer r.DecRef()
	defer w.DecRef()
	ctx.interrupted.Store(true) // pending, its token already taken
	if _, err := read(t, ctx, r, 1); err != unix.EINTR {
		t.Fatalf("read = %v; want EINTR", err)
	}
}
