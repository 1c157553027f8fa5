package hostterm

import (
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/internal/fs/tty"
	"glassbox/internal/vfs"
)

type noSessions struct{}

func (noSessions) Caller(vfs.Ctx) (int, int, int)    { return 1, 1, 1 }
func (noSessions) SignalGroup(int, int)              {}
func (noSessions) SignalProcess(int, int)            {}
func (noSessions) GroupInSession(int, int) bool      { return true }
func (noSessions) JobSignal(ctx vfs.Ctx, _ int) bool { return false }

// hostPty opens a host pseudo-terminal pair: the slave stands for the
// terminal glassbox runs on, the master for whoever types on it.
func hostPty(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no host ptys: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		t.Skipf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		m.Close()
		t.Skipf("ptsname: %v", err)
	}
	s, err := os.OpenFile("/dev/pts/"+itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		t.Skipf("open slave: %v", err)
	}
	t.Cleanup(func() { s.Close(); m.Close() })
	return m, s
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

// TestStopWakesInputCopier: Stop ends the input copier at once, whatever
// its poll slice (it waits on the terminal and an eventfd Stop signals),
// copies input typed before it, and restores the terminal's modes. With
// the slice as the only way out, Stop would take an hour here.
func TestStopWakesInputCopier(t *testing.T) {
	master, slave := hostPty(t)
	old := pollSlice
	pollSlice = time.Hour
	defer func() { pollSlice = old }()
	before, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	ptys := tty.NewRegistry(0x42)
	h, err := Open(int(slave.Fd()), ptys, noSessions{}, vfs.RootCreds())
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Start(); err != nil {
		t.Fatal(err)
	}
	if _, err := master.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	// The byte reaches the sandbox's pty: its line discipline echoes it
	// back out through the output copier to the host terminal.
	echo := make([]byte, 1)
	master.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := master.Read(echo); n != 1 || echo[0] != 'x' {
		t.Fatalf("echo of typed input: %q, %v", echo[:n], err)
	}
	done := make(chan struct{})
	go func() {
		h.Stop()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Stop waited for the input copier's poll slice")
	}
	after, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	if *after != *before {
		t.Errorf("termios after Stop %+v, before Start %+v", after, before)
	}
}
