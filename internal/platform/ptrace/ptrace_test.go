package ptrace

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/internal/platform"
)

// newTestThread returns a stub whose memory file holds code at offset 0
// mapped at 0x10000.
func newTestThread(t *testing.T, code []byte) (platform.Thread, *Platform) {
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

func TestSyscallTrapAndFault(t *testing.T) {
	runtime.LockOSThread()
	th, p := newTestThread(t, getpidLoop)
	defer th.Release()
	if p.Layout().VDSO == 0 {
		t.Errorf("no vDSO learned")
	}
	var regs platform.Regs
	regs.Rip = 0x10000
	regs.Rsp = 0x20000
	regs.Cs = 0x33
	regs.Ss = 0x2b
	regs.Eflags = 0x202
	// Use the stub's own segment registers.
	for i := 0; i < 3; i++ {
		ev, err := th.Switch(&regs)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Kind != platform.EventSyscall || regs.Orig_rax != 39 {
			t.Fatalf("event %v orig_rax %d, want syscall 39", ev.Kind, regs.Orig_rax)
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
	// Write to read-only code: ACCERR.
	// mov [0x10000], eax = 89 04 25 00 00 01 00
	th.(*thread).proc.p = p
}

func TestSeccompKillsStrayHostSyscall(t *testing.T) {
	runtime.LockOSThread()
	th, _ := newTestThread(t, getpidLoop)
	defer th.Release()
	// getpid is not on the stub's allow-list.
	if _, err := th.(*thread).syscall(unix.SYS_GETPID); err == nil {
		t.Fatal("injected getpid survived the seccomp filter")
	}
}

// threadState returns the state letter and CPU ticks (utime+stime) of a
// host thread from /proc/PID/task/TID/stat.
func threadState(t *testing.T, pid, tid int) (string, int) {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/stat", pid, tid))
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	var ut, st int
	fmt.Sscan(f[11], &ut)
	fmt.Sscan(f[12], &st)
	return f[0], ut + st
}

// A new stub thread waits for its tracer asleep, not spinning: it starts
// on its creator's CPU, which the tracers that must attach it share (a
// spinning thread cost every guest thread creation a whole time slice).
// Once started it runs guest code.
func TestNewThreadSleepsUntilStarted(t *testing.T) {
	runtime.LockOSThread()
	th, _ := newTestThread(t, getpidLoop)
	defer th.Release()
	st, err := th.NewThread()
	if err != nil {
		t.Fatal(err)
	}
	nt := st.(*newThread)
	state, _ := threadState(t, nt.proc.pid, nt.tid)
	for i := 0; state != "S" && i < 100; i++ {
		time.Sleep(10 * time.Millisecond)
		state, _ = threadState(t, nt.proc.pid, nt.tid)
	}
	_, before := threadState(t, nt.proc.pid, nt.tid)
	time.Sleep(300 * time.Millisecond)
	state, after := threadState(t, nt.proc.pid, nt.tid)
	if state != "S" || after-before > 2 {
		t.Errorf("new thread waiting for its tracer: state %s, %d CPU ticks in 300ms; want S (asleep), ~0", state, after-before)
	}
	type result struct {
		ev  platform.Event
		rax uint64
		err error
	}
	done := make(chan result)
	go func() {
		runtime.LockOSThread() // the tracer's OS thread ends with the goroutine
		t2, err := st.Start()
		if err != nil {
			done <- result{err: err}
			return
		}
		var regs platform.Regs
		regs.Rip, regs.Rsp, regs.Cs, regs.Ss, regs.Eflags = 0x10000, 0x20000, 0x33, 0x2b, 0x202
		ev, err := t2.Switch(&regs)
		t2.Release()
		done <- result{ev, regs.Orig_rax, err}
	}()
	r := <-done
	if r.err != nil || r.ev.Kind != platform.EventSyscall || r.rax != 39 {
		t.Fatalf("started thread: event %v orig_rax %d err %v, want syscall 39", r.ev.Kind, r.rax, r.err)
	}
}

// A thread released after its stub was killed (the last thread's Release
// kills the stub while the others are still on their way out) reaps its
// own zombie: the stub's first thread, which the last Release waits for,
// is not reported until every other thread is reaped, and a tracer thread
// that lives on (exec goes on in it; Go parks the main thread instead of
// ending it) would otherwise hold that zombie forever.
func TestReleaseAfterStubKilled(t *testing.T) {
	runtime.LockOSThread()
	th, _ := newTestThread(t, getpidLoop)
	st, err := th.NewThread()
	if err != nil {
		t.Fatal(err)
	}
	nt := st.(*newThread)
	pid, tid := nt.proc.pid, nt.tid
	started, release, released, leave := make(chan error), make(chan struct{}), make(chan struct{}), make(chan struct{})
	go func() {
		runtime.LockOSThread() // this OS thread stays the tracer until leave
		t2, err := st.Start()
		started <- err
		if err != nil {
			return
		}
		<-release
		t2.Release()
		close(released)
		<-leave
	}()
	if err := <-started; err != nil {
		t.Fatal(err)
	}
	unix.Kill(pid, unix.SIGKILL)
	for i := 0; i < 200; i++ {
		if state, _ := threadState(t, pid, tid); state == "Z" {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(release)
	<-released
	hung := time.AfterFunc(10*time.Second, func() {
		t.Errorf("the last Release still waits for the stub 10 s after the others were released")
		close(leave) // the tracer thread's end frees the zombie and the wait
	})
	th.Release()
	if hung.Stop() {
		close(leave)
	}
}

// BenchmarkNewAddressSpace measures creating (and destroying) a stub.
func BenchmarkNewAddressSpace(b *testing.B) {
	runtime.LockOSThread()
	fd, _ := unix.MemfdCreate("bench-mem", unix.MFD_CLOEXEC)
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
