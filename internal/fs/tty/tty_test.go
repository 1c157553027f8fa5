package tty

import (
	"encoding/binary"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/internal/vfs"
)

// fakeKernel is one process (pid 10, its own session and group) and a
// record of the signals sent.
type fakeKernel struct {
	mu   sync.Mutex
	sigs []pendingSig
	intr chan struct{}
}

func (k *fakeKernel) Creds() *vfs.Creds          { return &vfs.Creds{} }
func (k *fakeKernel) Interrupt() <-chan struct{} { return k.intr }
func (k *fakeKernel) Interrupted() bool          { return false }
func (k *fakeKernel) TTYSessions() Sessions      { return k }

func (k *fakeKernel) Caller(vfs.Ctx) (int, int, int) { return 10, 10, 10 }
func (k *fakeKernel) SignalGroup(pgid, sig int) {
	k.mu.Lock()
	k.sigs = append(k.sigs, pendingSig{pgid, sig})
	k.mu.Unlock()
}
func (k *fakeKernel) SignalProcess(pid, sig int)          { k.SignalGroup(-pid, sig) }
func (k *fakeKernel) GroupInSession(pgid, sid int) bool   { return pgid == 10 }
func (k *fakeKernel) JobSignal(ctx vfs.Ctx, sig int) bool { return false }
func (k *fakeKernel) taken() []pendingSig {
	k.mu.Lock()
	defer k.mu.Unlock()
	s := k.sigs
	k.sigs = nil
	return s
}
func newKernel() *fakeKernel { return &fakeKernel{intr: make(chan struct{})} }
func rd(ctx vfs.Ctx, f vfs.FileOps, n int) (string, error) {
	b := make([]byte, n)
	m, err := f.Read(ctx, [][]byte{b}, -1)
	return string(b[:m]), err
}
func wr(ctx vfs.Ctx, f vfs.FileOps, s string) (int, error) {
	return f.Write(ctx, [][]byte{[]byte(s)}, -1)
}

type mem map[uint64][]byte

func (m mem) CopyIn(a uint64, b []byte) error  { copy(b, m[a]); return nil }
func (m mem) CopyOut(a uint64, b []byte) error { m[a] = append([]byte(nil), b...); return nil }

// pair opens a master and its slave (as the session leader's ctty).
func pair(t *testing.T, k *fakeKernel) (*Registry, *Master, *Slave) {
	t.Helper()
	r := NewRegistry(6)
	mo, err := r.OpenMaster(k)
	if err != nil {
		t.Fatal(err)
	}
	m := mo.(*Master)
	if _, err := r.pts[0].Open(k, unix.O_RDWR); err != unix.EIO {
		t.Fatalf("open of a locked slave: %v; want EIO", err)
	}
	mm := mem{8: make([]byte, 4)}
	if _, err := m.Ioctl(k, mm, tiocsptlck, 8); err != nil {
		t.Fatal(err)
	}
	so, err := r.pts[0].Open(k, unix.O_RDWR)
	if err != nil {
		t.Fatal(err)
	}
	return r, m, so.(*Slave)
}

func TestCanonicalEditingAndEcho(t *testing.T) {
	k := newKernel()
	_, m, s := pair(t, k)
	wr(k, m, "ab\x7fc\x15xy\rz\x04")
	if got, _ := rd(k, s, 100); got != "xy\n" {
		t.Fatalf("line = %q", got)
	}
	if got, _ := rd(k, s, 100); got != "z" {
		t.Fatalf("EOF-pushed line = %q", got)
	}
	if got, _ := rd(k, m, 100); got != "ab\b \bc\b \b\b \bxy\r\nz" {
		t.Fatalf("echo = %q", got)
	}
	wr(k, m, "\x04")
	if got, err := rd(k, s, 100); got != "" || err != nil {
		t.Fatalf("EOF read = %q, %v", got, err)
	}
	wr(k, s, "out\n")
	if got, _ := rd(k, m, 100); got != "out\r\n" {
		t.Fatalf("ONLCR output = %q", got)
	}
}

func TestSignalsAndWinsize(t *testing.T) {
	k := newKernel()
	_, m, s := pair(t, k)
	wr(k, m, "junk\x03")
	if got := k.taken(); len(got) != 1 || got[0] != (pendingSig{10, 2}) {
		t.Fatalf("signals %v; want SIGINT to group 10", got)
	}
	if got, _ := rd(k, m, 100); got != "junk^C" {
		t.Fatalf("echo %q", got)
	}
	wr(k, m, "\x1a\x1c")
	if got := k.taken(); len(got) != 2 || got[0].sig != 20 || got[1].sig != 3 {
		t.Fatalf("signals %v", got)
	}
	mm := mem{8: []byte{24, 0, 80, 0, 0, 0, 0, 0}}
	s.Ioctl(k, mm, tiocswinsz, 8)
	if got := k.taken(); len(got) != 1 || got[0].sig != 28 {
		t.Fatalf("signals %v; want SIGWINCH", got)
	}
	m.Ioctl(k, mm, tiocgwinsz, 16)
	if binary.LittleEndian.Uint16(mm[16][2:]) != 80 {
		t.Fatalf("winsize %v", mm[16])
	}
	m.Ioctl(k, mm, tiocgpgrp, 24)
	if binary.LittleEndian.Uint32(mm[24]) != 10 {
		t.Fatalf("pgrp %v", mm[24])
	}
}

func TestRawModeAndReadiness(t *testing.T) {
	k := newKernel()
	_, m, s := pair(t, k)
	tm := defaultTermios()
	tm.Lflag &^= lICANON | lECHO
	tm.Cc[vMIN], tm.Cc[vTIME] = 0, 0
	mm := mem{8: tm.Bytes()}
	if _, err := s.Ioctl(k, mm, tcsets, 8); err != nil {
		t.Fatal(err)
	}
	if got, err := rd(k, s, 10); got != "" || err != nil {
		t.Fatalf("VMIN=0 read %q %v", got, err)
	}
	if ev, _ := s.Readiness(); ev&unix.POLLIN != 0 {
		t.Fatalf("readable when empty: %#x", ev)
	}
	tm.Cc[vMIN] = 1
	mm[8] = tm.Bytes()
	s.Ioctl(k, mm, tcsets, 8)
	done := make(chan string)
	go func() { got, _ := rd(k, s, 10); done <- got }()
	time.Sleep(10 * time.Millisecond)
	_, ch := s.Readiness()
	wr(k, m, "q")
	<-ch
	if got := <-done; got != "q" {
		t.Fatalf("VMIN=1 read %q", got)
	}
	m.Ioctl(k, mm, fionread, 16) // no echo in raw mode without ECHO
	if n := binary.LittleEndian.Uint32(mm[16]); n != 0 {
		t.Fatalf("master has %d bytes of echo", n)
	}
}

func TestHangup(t *testing.T) {
	k := newKernel()
	r, m, s := pair(t, k)
	done := make(chan error)
	go func() { _, err := rd(k, s, 10); done <- err }()
	time.Sleep(10 * time.Millisecond)
	m.Release()
	// The read that waited sees EIO (the other side closed); one begun
	// after the hangup sees end of file.
	if err := <-done; err != unix.EIO {
		t.Fatalf("read waiting at the hangup: %v; want EIO", err)
	}
	if n, err := rd(k, s, 10); err != nil || len(n) != 0 {
		t.Fatalf("read after hangup: %q %v; want EOF", n, err)
	}
	if _, err := wr(k, s, "x"); err != unix.EIO {
		t.Fatalf("write after hangup: %v; want EIO", err)
	}
	got := k.taken()
	if len(got) < 1 || got[0] != (pendingSig{-10, 1}) {
		t.Fatalf("signals %v; want SIGHUP to the session leader", got)
	}
	if _, err := r.OpenCtty(k, unix.O_RDWR); err != unix.ENXIO {
		t.Fatalf("/dev/tty after hangup: %v", err)
	}
	if len(r.Indexes()) != 0 {
		t.Fatalf("pty still listed")
	}
}
