package seccomp

import (
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/internal/platform"
)

// newCodePlatform returns a platform over a 1 MiB memory file (fd) that
// holds code at offset 0.
func newCodePlatform(t *testing.T, code []byte) (*Platform, int) {
	t.Helper()
	fd, err := unix.MemfdCreate("test-mem", unix.MFD_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	unix.Ftruncate(fd, 1<<20)
	unix.Pwrite(fd, code, 0)
	p, err := New(fd)
	if err != nil {
		t.Fatal(err)
	}
	return p, fd
}

// newTestThread returns a stub whose memory file holds code at offset 0
// mapped at 0x10000.
func newTestThread(t *testing.T, code []byte) (platform.Thread, *Platform) {
	t.Helper()
	p, _ := newCodePlatform(t, code)
	th, err := p.NewAddressSpace()
	if err != nil {
		t.Fatal(err)
	}
	if err := th.Map(0x10000, 0x1000, unix.PROT_READ|unix.PROT_EXEC, 0); err != nil {
		t.Fatal(err)
	}
	return th, p
}

// getpidLoop: mov eax,39; syscall; jmp back.
var getpidLoop = []byte{0xb8, 0x27, 0, 0, 0, 0x0f, 0x05, 0xeb, 0xf7}

func startRegs() platform.Regs {
	return platform.Regs{Rip: 0x10000, Rsp: 0x20000, Cs: 0x33, Ss: 0x2b, Eflags: 0x202}
}

func TestSyscallTrapAndFault(t *testing.T) {
	runtime.LockOSThread()
	th, p := newTestThread(t, getpidLoop)
	defer th.Release()
	if p.Layout().VDSO == 0 {
		t.Errorf("no vDSO learned")
	}
	regs := startRegs()
	for i := 0; i < 3; i++ {
		ev, err := th.Switch(&regs)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Kind != platform.EventSyscall || regs.Orig_rax != 39 || regs.Rip != 0x10007 {
			t.Fatalf("event %v orig_rax %d rip %#x, want syscall 39 at 0x10007", ev.Kind, regs.Orig_rax, regs.Rip)
		}
		regs.Rax = 1234
	}
	const n = 2000
	start := time.Now()
	for i := 0; i < n; i++ {
		regs.Rax = 1
		if _, err := th.Switch(&regs); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("trapped getpid: %v per call", time.Since(start)/n)

	// Jump to unmapped memory: an exec fault at 0x30000.
	regs.Rip = 0x30000
	ev, err := th.Switch(&regs)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Kind != platform.EventFault || ev.Addr != 0x30000 || ev.Code != 1 {
		t.Fatalf("got %+v, want MAPERR fault at 0x30000", ev)
	}
}

// BenchmarkAddressSpace: creating a stub process up to its first thread's
// ready trap, and tearing it down.
func BenchmarkAddressSpace(b *testing.B) {
	runtime.LockOSThread()
	fd, err := unix.MemfdCreate("test-mem", unix.MFD_CLOEXEC)
	if err != nil {
		b.Fatal(err)
	}
	defer unix.Close(fd)
	p, err := New(fd)
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < b.N; i++ {
		th, err := p.NewAddressSpace()
		if err != nil {
			b.Fatal(err)
		}
		th.Release()
	}
}
