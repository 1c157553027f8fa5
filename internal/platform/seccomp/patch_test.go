package seccomp

import (
	"encoding/binary"
	"errors"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/internal/platform"
)

// The patch region of these tests lives at this offset of the memory file.
const testRegionOff = 0x10000

// newPatchThread is newTestThread on a platform with patching on, and the
// patch region mapped with entry 1 for getpid returning to 0x10007 (what
// mm does for a site at 0x10000).
func newPatchThread(t *testing.T, code []byte) (*thread, *Platform) {
	t.Helper()
	p, fd := newCodePlatform(t, code)
	p.EnablePatching()
	spec := p.Layout().Patch
	region := make([]byte, spec.Size)
	spec.Init(region)
	jump := spec.Site(region, 1, [5]byte{0xb8, 39}, 0x10007)
	if want := [7]byte{0xff, 0x24, 0x25, 0x08, 0x00, 0x0f, 0x0b}; jump != want {
		t.Fatalf("jump for entry 1: % x, want % x", jump, want)
	}
	unix.Pwrite(fd, region, testRegionOff)
	th, err := p.NewAddressSpace()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(th.Release)
	if err := th.Map(0x10000, 0x1000, unix.PROT_READ|unix.PROT_EXEC, 0); err != nil {
		t.Fatal(err)
	}
	if err := th.Map(PatchBase, PatchSize, unix.PROT_READ|unix.PROT_EXEC, testRegionOff); err != nil {
		t.Fatal(err)
	}
	return th.(*thread), p
}

// patchedLoop: the patched getpid site (jmp *0x0b0f0008), then
// mov %rax,%rbx and back.
var patchedLoop = []byte{0xff, 0x24, 0x25, 0x08, 0x00, 0x0f, 0x0b, 0x48, 0x89, 0xc3, 0xeb, 0xf4}

func TestPatchedCall(t *testing.T) {
	runtime.LockOSThread()
	th, _ := newPatchThread(t, patchedLoop)
	regs := startRegs()
	regs.Eflags = 0x202 | 0x1 | 0x40 | 0x800 // CF ZF OF
	regs.Rdi, regs.Rsi, regs.Rdx, regs.R10, regs.R8, regs.R9 = 1, 2, 3, 4, 5, 6
	regs.R12, regs.R13, regs.R14, regs.R15, regs.Rbp = 12, 13, 14, 15, 0xbb
	regs.Fs_base = 0x7000
	in := regs
	ev, err := switchWithin(t, th, &regs, 10*time.Second)
	if err != nil || ev.Kind != platform.EventSyscall || !ev.Patched {
		t.Fatalf("first call: %+v %v", ev, err)
	}
	if regs.Orig_rax != 39 || regs.Rip != 0x10007 || regs.Rcx != 0x10007 || regs.R11 != regs.Eflags || regs.Eflags&0x8d5 != 0x841 {
		t.Fatalf("patched call's registers: %+v", regs)
	}
	if regs.Rdi != in.Rdi || regs.R9 != in.R9 || regs.R15 != in.R15 || regs.Rbp != in.Rbp || regs.Rsp != in.Rsp || regs.Fs_base != in.Fs_base || regs.Gs_base != 0 {
		t.Fatalf("registers changed: %+v", regs)
	}
	fp, err := th.FPState()
	if err != nil {
		t.Fatal(err)
	}
	binary.LittleEndian.PutUint64(fp[160:], 0x1122334455667788) // xmm0's low half
	fp[xsHeader] |= 2                                           // SSE state in use
	if err := th.SetFPState(fp); err != nil {
		t.Fatal(err)
	}
	regs.Rax = 4242
	regs.Fs_base = 0x9000
	ev, err = switchWithin(t, th, &regs, 10*time.Second)
	if err != nil || ev.Kind != platform.EventSyscall || !ev.Patched {
		t.Fatalf("second call: %+v %v", ev, err)
	}
	if regs.Rbx != 4242 || regs.Fs_base != 0x9000 {
		t.Fatalf("the result or fs_base did not reach the guest: rbx %d fs %#x", regs.Rbx, regs.Fs_base)
	}
	fp, _ = th.FPState()
	if v := binary.LittleEndian.Uint64(fp[160:]); v != 0x1122334455667788 {
		t.Fatalf("xmm0 %#x after the call", v)
	}
}

// TestPatchedSlowPaths: a return that sets the guest's own gs_base goes
// through the signal path (p_slow); the next patched call, made with a
// gs_base that is not a slot, comes through p_bad with its flags intact.
func TestPatchedSlowPaths(t *testing.T) {
	runtime.LockOSThread()
	th, _ := newPatchThread(t, patchedLoop)
	regs := startRegs()
	if ev, err := switchWithin(t, th, &regs, 10*time.Second); err != nil || !ev.Patched {
		t.Fatalf("first call: %+v %v", ev, err)
	}
	regs.Gs_base = 0x777000
	regs.Eflags = 0x202 | 0x1 | 0x800
	regs.Rax = 77
	ev, err := switchWithin(t, th, &regs, 10*time.Second)
	if err != nil || ev.Kind != platform.EventSyscall || ev.Patched {
		t.Fatalf("call with a guest gs: %+v %v", ev, err)
	}
	if regs.Orig_rax != 39 || regs.Rip != 0x10007 || regs.Rbx != 77 || regs.Gs_base != 0x777000 || regs.Eflags&0x8d5 != 0x801 {
		t.Fatalf("registers: %+v", regs)
	}
	// Back to gs 0: the signal frame's return, then the fast path again.
	regs.Gs_base = 0
	if ev, err := switchWithin(t, th, &regs, 10*time.Second); err != nil || !ev.Patched || regs.Gs_base != 0 {
		t.Fatalf("after gs 0: %+v %v gs %#x", ev, err, regs.Gs_base)
	}
}

// TestEscapePatchForgedEntry: a guest that enters p_entry itself with a
// number and return address of its choosing only makes that syscall.
func TestEscapePatchForgedEntry(t *testing.T) {
	runtime.LockOSThread()
	th, p := newPatchThread(t, patchedLoop)
	regs := startRegs()
	regs.Rip = p.stub.a.addr("p_entry")
	regs.Rcx, regs.R11 = 60, 0x10000
	ev, err := switchWithin(t, th, &regs, 10*time.Second)
	if err != nil || ev.Kind != platform.EventSyscall || regs.Orig_rax != 60 || regs.Rip != 0x10000 {
		t.Fatalf("%+v %v %+v", ev, err, regs)
	}
}

// TestEscapePatchXSAVE: a guest that breaks the patched frame's XSAVE
// header makes XRSTOR fault in the stub's code: it loses its stub.
func TestEscapePatchXSAVE(t *testing.T) {
	runtime.LockOSThread()
	th, _ := newPatchThread(t, patchedLoop)
	regs := startRegs()
	if ev, err := switchWithin(t, th, &regs, 10*time.Second); err != nil || !ev.Patched {
		t.Fatalf("first call: %+v %v", ev, err)
	}
	th.proc.ctl[slotOff(th.slot)+pFP+xsHeader+20] = 1 // a reserved header byte
	_, err := switchWithin(t, th, &regs, 10*time.Second)
	if !errors.Is(err, platform.ErrGuest) {
		t.Fatalf("got %v, want the thread lost to the guest", err)
	}
}

// TestEscapePatchForeignSlot: a guest that points gs_base at another slot
// and enters p_entry waits on that slot's word; an interrupt still gets
// its thread back (the handler does not drop it outside its own slot).
func TestEscapePatchForeignSlot(t *testing.T) {
	runtime.LockOSThread()
	th, _ := newPatchThread(t, nil)
	a := newAsm(0x10000)
	a.movImm64(rax, slotAddr(th.slot+1))
	a.wrgsbase(rax)
	a.movImm32(rcx, 39)
	a.movImm64(r11, 0x10000)
	a.emit(0xff, 0x24, 0x25)
	a.imm32(PatchBase)
	code := a.finish()
	if _, err := unix.Pwrite(th.proc.p.memfd, code, 0); err != nil {
		t.Fatal(err)
	}
	regs := startRegs()
	ev, err, _ := switchOrInterrupt(t, th, &regs, 200*time.Millisecond)
	if err == nil && ev.Kind == platform.EventSyscall && ev.Patched {
		t.Fatalf("a call on another slot's word reached glassbox as this thread's: %+v", regs)
	}
	t.Logf("%v %v at %#x", ev.Kind, err, regs.Rip)
}
