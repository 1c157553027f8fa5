package seccomp

import (
	"encoding/binary"
	"sync/atomic"
	"unsafe"

	"glassbox/internal/platform"
)

// Patched syscall sites.
//
// The kernel (mm) may replace a guest's 5-byte instruction and syscall
// (`mov $nr,%eax`, b8 imm32, or glibc syscall()'s `mov 8(%rsp),%r9`,
// 4c 8b 4c 24 08; then 0f 05) with `jmp *disp32` (ff 24 25 disp32), an
// absolute jump through entry k of a table in the patch region, a few
// pages the guest maps read-only and executable at PatchBase. Entry k
// points at trampoline k in the same region:
//
//	<the site's 5-byte instruction>
//	mov    %rax, %rcx          ; the number
//	movabs $(site+7), %r11
//	jmp    *PatchBase          ; entry 0: p_entry in the stub's code
//
// r11 and rcx are the registers the syscall instruction destroys, so the
// trampolines may use them, and rax once its value is in rcx. p_entry
// keeps the flags (lahf, seto) in r11's top bits while it checks gs_base,
// finds the thread's slot through gs_base (each stub
// thread runs guest code with gs_base = its slot while the guest's own
// gs_base is 0; readFrame and writeFrame show the guest 0), saves the
// guest's registers and XSAVE state into a frame laid out as the host's
// signal frame would be (pUC, pFP), marks it a SIGSYS from seccomp, and
// joins the signal handler's hand-off with no signal frame (r12 = 0).
// glassbox sees an ordinary syscall trap. On resume, p_resume restores
// what glassbox wrote back (FP state with XRSTOR, flags with popf, every
// register) and jumps to the new rip through gs. The guest's stack is
// never touched (its red zone lies below rsp).
//
// What the fast path cannot do goes through a signal, at a ud2 the
// handler takes like any fault:
//   - p_bad: gs_base is not a slot (the guest set its own): glassbox
//     rebuilds the syscall from rcx and r11.
//   - p_slow: glassbox asked for it (hdrSlow) because the return needs
//     what only rt_sigreturn does: a trap flag, a gs_base of the guest's,
//     a rip outside the guest's half. glassbox loads the registers into
//     the new signal frame and resumes it.
//
// The disp32's upper two bytes are 0f 0b (PatchBase = 0x0b0f0000): where
// the syscall instruction was, a ud2 now is. A thread that jumps to the
// old syscall (site+5), or that the kernel sends back there to restart an
// interrupted call, executes ud2: mm turns that SIGILL into the syscall
// (rax holds its number). A trap on a trampoline's first instruction (a
// single-stepped jmp) is turned into its syscall likewise, the site's
// instruction done by the kernel.
//
// Containment: the frame and the slot are guest-writable as before; glassbox
// reads the frame once and validates it (frameAt). The trampolines make no
// host syscall of their own: the hand-off's futex calls are the handler's
// sites, which the guest filter already allows. A guest that forges gs,
// the frame or the hand-off can only break its own process.
const (
	PatchBase  = 0x0b0f0000 // disp32 = 0x0b0fXXXX: bytes XX XX 0f 0b
	patchTab   = 0x1000     // the table: 8-byte entries; entry 0 is p_entry
	patchTr    = 32         // bytes per trampoline, from PatchBase+patchTab
	patchTrJmp = 10         // its second instruction
	// PatchSites is the number of entries (entry 0 is not a site).
	PatchSites = patchTab / 8
	PatchSize  = patchTab + PatchSites*patchTr
)

// patchEntry assembles p_entry, p_resume and the two slow-path traps.
// The handler's SIGUSR2 check treats everything from h_handoff to p_end as
// a patched call's code.
func patchEntry(a *asm) {
	const m = pUC + ucMctx // the frame's registers
	gpr := func(i int) int32 { return int32(m + 8*i) }
	// Registers in mcontext order (r8 ... r15, rdi, rsi, rbp, rbx, rdx,
	// rax, rcx, rsp, rip, eflags).
	order := []reg{r8, r9, r10, r11, r12, r13, r14, r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp}

	a.label("p_entry")
	// rcx = the number, r11 = the return address; rax is free. Keep the
	// arithmetic flags in r11's top bits while gs_base is checked.
	a.lahf()
	a.seto(rax)
	a.andImm(rax, 0xffff)
	a.shlImm(rax, 48)
	a.or(r11, rax)
	a.rdgsbase(rax)
	a.test32imm(rax, slotSize-1)
	a.jcc(condNE, "p_bad")
	a.shrImm(rax, 15)            // slotSize == 1<<15
	a.subImm(rax, slotsBase>>16) // twice: slotsBase>>15 exceeds an imm32
	a.subImm(rax, slotsBase>>16)
	a.cmpImm(rax, maxSlots)
	a.jcc(condAE, "p_bad")
	a.rdgsbase(rax)
	a.store64(rax, gpr(13), rcx) // rax: the number
	a.mov(rcx, rax)              // rcx: the slot from here on
	a.mov(rax, r11)
	a.shlImm(r11, 16)
	a.shrImm(r11, 16)
	a.shrImm(rax, 48)
	a.addAL(0x7f) // OF back from al
	a.sahf()      // and the rest from ah
	a.store64(rcx, gpr(15), rsp)
	a.lea(rsp, rcx, pStack)
	a.pushfq()
	for i, r := range order[:13] {
		if r != r11 {
			a.store64(rcx, gpr(i), r)
		}
	}
	a.pop(rax)
	a.store64(rcx, gpr(17), rax) // eflags
	a.store64(rcx, gpr(3), rax)  // r11: the flags, as syscall leaves it
	a.store64(rcx, gpr(16), r11) // rip
	a.store64(rcx, gpr(14), r11) // rcx: the return address, likewise
	a.movImm32(rax, 31)          // SIGSYS
	a.store32(rcx, pUC+ucInfo+siSigno, rax)
	a.movImm32(rax, sysSecomp)
	a.store32(rcx, pUC+ucInfo+siCode, rax)
	a.lea(rax, rcx, pFP)
	a.store64(rcx, pUC+ucFPState, rax)
	a.movImm64(rdi, ctlRO)
	a.load32(rax, rdi, roXfeat)
	a.load32(rdx, rdi, roXfeat+4)
	a.xsave64(rcx, pFP)
	a.rdfsbase(rax)
	a.store64(rcx, hdrFS, rax)
	a.store64(rcx, hdrGS, rcx)
	a.lea(rax, rcx, pUC)
	a.store64(rcx, hdrUC, rax)
	a.mov(r13, rcx)
	a.xor32(r12, r12)
	a.jmp("h_handoff")

	// Resumed (h_resume loaded fs and gs): r13 = the slot.
	a.label("p_resume")
	a.load32(rax, r13, hdrSlow)
	a.test(rax, rax)
	a.jcc(condNE, "p_slow")
	a.movImm64(rdi, ctlRO)
	a.load32(rax, rdi, roXfeat)
	a.load32(rdx, rdi, roXfeat+4)
	a.xrstor64(r13, pFP)
	a.mov(rcx, r13)
	a.pushMem(rcx, gpr(17))
	a.popfq()
	for i, r := range order[:14] {
		a.load64(r, rcx, gpr(i))
	}
	a.load64(rsp, rcx, gpr(15))
	a.load64(rcx, rcx, gpr(14))
	a.jmpGS(gpr(16))
	a.label("p_slow")
	a.ud2()
	a.label("p_bad")
	a.ud2()
	a.label("p_end")
}

// patchLayout is the platform.PatchSpec of a platform whose stub has
// p_entry at entry.
func patchLayout(entry uint64) *platform.PatchSpec {
	return &platform.PatchSpec{
		Base:  PatchBase,
		Size:  PatchSize,
		Sites: PatchSites,
		Init: func(region []byte) {
			binary.LittleEndian.PutUint64(region, entry)
		},
		Site: patchSite,
		Trampoline: func(addr uint64) int {
			lo := uint64(PatchBase + patchTab + patchTr)
			if addr < lo || addr >= PatchBase+PatchSize {
				return 0
			}
			return int((addr - PatchBase - patchTab) / patchTr)
		},
	}
}

// patchSite writes entry k and its trampoline for a site whose syscall
// instruction follows insn and returns to ret, and returns the bytes that
// replace insn and the syscall.
func patchSite(region []byte, k int, insn [5]byte, ret uint64) [7]byte {
	le := binary.LittleEndian
	tr := patchTab + k*patchTr
	t := region[tr : tr+patchTr]
	for i := range t {
		t[i] = 0xcc
	}
	copy(t, insn[:])                    // the site's own instruction
	t[5], t[6], t[7] = 0x48, 0x89, 0xc1 // mov %rax,%rcx
	t[8], t[9] = 0x49, 0xbb             // movabs $ret, %r11
	le.PutUint64(t[10:], ret)
	t[18], t[19], t[20] = 0xff, 0x24, 0x25 // jmp *PatchBase
	le.PutUint32(t[21:], PatchBase)
	le.PutUint64(region[8*k:], PatchBase+uint64(tr))
	var j [7]byte
	j[0], j[1], j[2] = 0xff, 0x24, 0x25
	le.PutUint32(j[3:], uint32(PatchBase+8*k))
	return j
}

// The offsets of a trampoline's instructions (the handler's interrupt
// check knows them).
var patchTrInsns = []int32{0, 5, 8, 18}

// EnablePatching makes the platform offer patched syscall sites (Layout's
// Patch): from then on a guest thread whose gs_base is 0 runs with gs_base
// at its slot. Call it before the first address space is made.
func (p *Platform) EnablePatching() {
	p.patching = true
	p.layout.Patch = patchLayout(p.stub.a.addr("p_entry"))
}

// inPatchCode reports whether rip lies in the stub's patched-call code.
func (p *Platform) inPatchCode(rip uint64) bool {
	a := p.stub.a
	return rip >= a.addr("h_handoff") && rip < a.addr("p_end")
}

// guestGS is the gs_base the guest sees for the host's gs_base h.
func (t *thread) guestGS(h uint64) uint64 {
	if t.proc.p.patching && h == slotAddr(t.slot) {
		return 0
	}
	return h
}

// hostGS is the host gs_base for the guest's g.
func (t *thread) hostGS(g uint64) uint64 {
	if t.proc.p.patching && g == 0 {
		return slotAddr(t.slot)
	}
	return g
}

// patchedFrame reports whether the current frame is a patched call's.
func (t *thread) patchedFrame() bool { return t.uc == slotOff(t.slot)+pUC }

// eflagsTF is the trap flag.
const eflagsTF = 0x100

// needSlow says whether returning regs from a patched call needs the
// signal path (see p_slow).
func (t *thread) needSlow(regs *platform.Regs) bool {
	return regs.Eflags&eflagsTF != 0 || t.hostGS(regs.Gs_base) != slotAddr(t.slot) ||
		regs.Rip >= StubBase
}

// fromBad rebuilds the syscall a patched call made from a thread whose
// gs_base is not its slot (p_bad): rcx holds the number, r11 the return
// address with the flags that lahf and seto kept in its top 16 bits.
func fromBad(regs *platform.Regs) platform.Event {
	ret := regs.R11 & (1<<48 - 1)
	const arith = 0x8d5 // OF SF ZF AF PF CF
	fl := regs.Eflags&^arith | (regs.R11>>56)&0xd5 | (regs.R11>>48&1)<<11
	regs.Orig_rax = regs.Rcx
	regs.Eflags, regs.R11 = fl, fl
	regs.Rip, regs.Rcx = ret, ret
	regs.Rax = negErrno(38) // ENOSYS, as for a trapped syscall
	return platform.Event{Kind: platform.EventSyscall}
}

// patchRegion tells the handler whether the patch region is mapped: set
// once mm maps it, cleared before any other mapping change that touches
// its range (a guest mapping there: its code is the guest's own then,
// and an interrupt there must not be dropped).
func (proc *process) patchRegion(addr, length uint64, live bool) {
	if !proc.p.patching {
		return
	}
	if !live && (addr >= PatchBase+PatchSize || addr+length <= PatchBase) {
		return
	}
	v := uint64(0)
	if live {
		v = 1
	}
	atomic.StoreUint64((*uint64)(unsafe.Pointer(&proc.ctl[roPatch])), v)
}

// SyncCore serialises every CPU that runs a thread of the address space
// (membarrier's SYNC_CORE, made by the stub's syscall thread): after it,
// no thread executes instructions fetched before it. mm uses it between
// the steps of rewriting a site that is not one aligned word.
func (t *thread) SyncCore() error {
	return t.proc.command(t.cpu, opMembarrier, [6]uint64{}, 0, 0)
}
