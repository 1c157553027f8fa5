package kernel

import (
	"encoding/binary"
	"testing"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/platform"
)

// FuzzSigframe: whatever the guest wrote in the rt_sigframe it hands to
// rt_sigreturn, decoding never panics and gives the registers of the
// frame, eflags changed only in its user bits, the 64-bit user CS and
// SS, no syscall restart, and the frame's mask; and the alternate stack
// it names is taken as sigaltstack(2) takes one: refused while running on
// the current one (EPERM), for an unknown mode (EINVAL) or a stack below
// MINSIGSTKSZ (ENOMEM), and otherwise stored without SS_ONSTACK, empty
// when disabled.
func FuzzSigframe(f *testing.F) {
	frame := make([]byte, frameSize)
	le := binary.LittleEndian
	uc := frame[frameUContext:]
	le.PutUint64(uc[0:], ucFPXstate|ucSigcontextSS|ucStrictRestSS)
	for i := 0; i < 18; i++ {
		le.PutUint64(uc[ucMcontext+8*i:], uint64(i)*0x1111)
	}
	le.PutUint64(uc[ucMcontext+184:], 0x7ffd0000)
	f.Add(frame, uint64(0x246), uint64(0x7000_0000), uint64(0x10000), int32(0), uint64(0x7000_8000))
	alt := append([]byte(nil), frame...)
	le.PutUint64(alt[frameUContext+ucStack:], 0x6000_0000)
	le.PutUint32(alt[frameUContext+ucStack+8:], ssOnStack)
	le.PutUint64(alt[frameUContext+ucStack+16:], 0x8000)
	f.Add(alt, uint64(0x202), uint64(0x6000_0000), uint64(0x8000), int32(0), uint64(0x6000_4000))
	le.PutUint32(alt[frameUContext+ucStack+8:], 1<<31|ssDisable)
	f.Add(alt, uint64(0), uint64(0), uint64(0), int32(ssDisable), uint64(0x7fff_0000))
	le.PutUint32(alt[frameUContext+ucStack+8:], 5)
	le.PutUint64(alt[frameUContext+ucStack+16:], 100)
	f.Add(alt, ^uint64(0), uint64(0x1000), ^uint64(0), int32(-1<<31), uint64(0x2000))
	f.Fuzz(func(t *testing.T, b []byte, eflags, altSP, altSize uint64, altFlags int32, sp uint64) {
		if len(b) < frameSize {
			b = append(b, make([]byte, frameSize-len(b))...)
		}
		b = b[:frameSize]
		cur := platform.Regs{Eflags: eflags, Fs_base: 0x1234, Gs_base: 0x5678, Cs: 0x23, Ss: 0x2b, Rsp: sp, Orig_rax: 15}
		got := decodeSigframe(b, &cur)
		mc := b[frameUContext+ucMcontext:]
		w := func(i int) uint64 { return le.Uint64(mc[8*i:]) }
		r := got.regs
		for i, v := range []uint64{r.R8, r.R9, r.R10, r.R11, r.R12, r.R13, r.R14, r.R15,
			r.Rdi, r.Rsi, r.Rbp, r.Rbx, r.Rdx, r.Rax, r.Rcx, r.Rsp, r.Rip} {
			if v != w(i) {
				t.Fatalf("register %d = 0x%x, frame has 0x%x", i, v, w(i))
			}
		}
		if (r.Eflags^eflags)&^eflagsUserMask != 0 || (r.Eflags^w(17))&eflagsUserMask != 0 {
			t.Fatalf("eflags 0x%x from current 0x%x and frame 0x%x", r.Eflags, eflags, w(17))
		}
		if r.Cs != abi.UserCS || r.Ss != abi.UserDS || r.Orig_rax != ^uint64(0) || r.Fs_base != cur.Fs_base || r.Gs_base != cur.Gs_base {
			t.Fatalf("cs 0x%x ss 0x%x orig_rax 0x%x fs 0x%x gs 0x%x", r.Cs, r.Ss, r.Orig_rax, r.Fs_base, r.Gs_base)
		}
		uc := b[frameUContext:]
		if got.mask != abi.SigSet(le.Uint64(uc[ucSigmask:])) || got.fpAddr != le.Uint64(mc[184:]) {
			t.Fatalf("mask %x fpstate %x", got.mask, got.fpAddr)
		}

		old := SigAltStack{SP: altSP, Size: altSize, Flags: altFlags}
		ns, err := old.Change(got.stack, sp)
		req := got.stack
		mode := req.Flags &^ ssAutoDisarm
		switch {
		case err != nil && ns != old:
			t.Fatalf("refused (%v), yet changed to %+v", err, ns)
		case old.onStack(sp) != (err == unix.EPERM):
			t.Fatalf("sp 0x%x on %+v: %v", sp, old, err)
		case err == unix.EPERM:
		case (mode != 0 && mode != ssOnStack && mode != ssDisable) != (err == unix.EINVAL):
			t.Fatalf("mode %d: %v", mode, err)
		case err == unix.EINVAL:
		case mode == ssDisable:
			if err != nil || ns != (SigAltStack{Flags: req.Flags &^ ssOnStack}) {
				t.Fatalf("disabled: %+v %v", ns, err)
			}
		case (req.Size < minSigStkSz) != (err == unix.ENOMEM):
			t.Fatalf("size %d: %v", req.Size, err)
		case err == nil && (ns.SP != req.SP || ns.Size != req.Size || ns.Flags != req.Flags&^ssOnStack):
			t.Fatalf("set %+v from %+v", ns, req)
		case err != nil && err != unix.ENOMEM:
			t.Fatalf("error %v", err)
		}
		// What was stored is accepted again as it is.
		if err == nil {
			if again, err := (SigAltStack{Flags: ssDisable}).Change(ns, sp); err != nil || again != ns {
				t.Fatalf("stored %+v, taken again as %+v %v", ns, again, err)
			}
		}
	})
}
