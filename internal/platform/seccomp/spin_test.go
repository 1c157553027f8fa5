package seccomp

import (
	"runtime"
	"testing"
	"time"

	"glassbox/internal/platform"
)

// echoLoop: mov eax,39; syscall; mov rdi,rax; jmp back — each trap shows
// in rdi the answer to the one before.
var echoLoop = []byte{0xb8, 0x27, 0, 0, 0, 0x0f, 0x05, 0x48, 0x89, 0xc7, 0xeb, 0xf4}

// slowEchoLoop is echoLoop after a delay loop of 200000 iterations
// (mov ecx,200000; loop .), longer than glassbox polls.
var slowEchoLoop = []byte{0xb9, 0x40, 0x0d, 0x03, 0x00, 0xe2, 0xfe,
	0xb8, 0x27, 0, 0, 0, 0x0f, 0x05, 0x48, 0x89, 0xc7, 0xeb, 0xed}

// TestSpinHandOff runs hand-offs in spin mode: answers must reach the
// guest exactly whether both sides poll, glassbox answers after the
// handler has gone to sleep, or the guest runs past glassbox' polling.
func TestSpinHandOff(t *testing.T) {
	if runtime.NumCPU() < 2 {
		t.Skip("spin mode needs two CPUs")
	}
	for _, tc := range []struct {
		name string
		code []byte
		n    int
		// every how many hand-offs glassbox answers late (0: never)
		lateEvery int
	}{
		{"polling", echoLoop, 20000, 0},
		{"handler-sleeps", echoLoop, 400, 3},
		{"guest-computes", slowEchoLoop, 300, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			th, p := newTestThread(t, tc.code)
			p.spinSt.always = true
			defer th.Release()
			regs := startRegs()
			var want uint64
			for i := 0; i < tc.n; i++ {
				ev, err := switchWithin(t, th, &regs, 10*time.Second)
				if err != nil || ev.Kind != platform.EventSyscall || regs.Orig_rax != 39 {
					t.Fatalf("hand-off %d: event %v, %v, orig_rax %d", i, ev.Kind, err, regs.Orig_rax)
				}
				if i > 0 && regs.Rdi != want {
					t.Fatalf("hand-off %d: guest saw %#x, want %#x", i, regs.Rdi, want)
				}
				if !th.(*thread).spin.on {
					t.Fatalf("hand-off %d: not in spin mode", i)
				}
				if tc.lateEvery > 0 && i%tc.lateEvery == 0 {
					time.Sleep(500 * time.Microsecond)
				}
				want = uint64(i)*7919 + 1
				regs.Rax = want
			}
			th.Release()
			if n := p.spinSt.tokens.Load(); n != int32(runtime.NumCPU()/2) {
				t.Errorf("tokens after release: %d", n)
			}
		})
	}
}
