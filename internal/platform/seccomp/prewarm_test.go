package seccomp

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func newTestPlatform(t *testing.T) *Platform {
	t.Helper()
	fd, err := unix.MemfdCreate("test-mem", unix.MFD_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	unix.Ftruncate(fd, 1<<20)
	p, err := New(fd)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// prewarmedPID waits for Prewarm's stub and returns its pid.
func prewarmedPID(t *testing.T, p *Platform) int {
	t.Helper()
	<-p.prewarm
	w := <-p.warm
	p.warm <- w
	if w.err != nil {
		t.Fatal(w.err)
	}
	return w.t.proc.pid
}

// TestPrewarmTaken: the first address space is the stub Prewarm made.
func TestPrewarmTaken(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	p := newTestPlatform(t)
	defer p.Close()
	p.Prewarm()
	pid := prewarmedPID(t, p)
	th, err := p.NewAddressSpace()
	if err != nil {
		t.Fatal(err)
	}
	defer th.Release()
	if got := th.(*thread).proc.pid; got != pid {
		t.Errorf("first address space is stub %d, want Prewarm's %d", got, pid)
	}
}

// TestPrewarmClose: a prewarmed stub nobody took ends with Close (it is
// killed and reaped, not left for glassbox' exit).
func TestPrewarmClose(t *testing.T) {
	p := newTestPlatform(t)
	p.Prewarm()
	pid := prewarmedPID(t, p)
	p.Close()
	if err := unix.Kill(pid, 0); err != unix.ESRCH {
		t.Errorf("stub %d after Close: kill(0) = %v, want ESRCH", pid, err)
	}
}

// TestPrewarmCloseEarly: Close right after Prewarm waits for the stub
// being made and ends it: glassbox has no more children than before.
func TestPrewarmCloseEarly(t *testing.T) {
	p := newTestPlatform(t)
	before := children(t)
	p.Prewarm()
	p.Close()
	select {
	case <-p.prewarm:
	default:
		t.Fatal("Close returned before Prewarm's stub was made")
	}
	if after := children(t); len(after) != len(before) {
		t.Errorf("children before Prewarm %v, after Close %v", before, after)
	}
}

// children lists this process's child processes (/proc/PID/stat's ppid).
func children(t *testing.T) []string {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Skip(err)
	}
	me := strconv.Itoa(os.Getpid())
	var out []string
	for _, e := range ents {
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) > 1 && f[1] == me {
			out = append(out, e.Name())
		}
	}
	return out
}
