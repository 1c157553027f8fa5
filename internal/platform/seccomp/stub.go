package seccomp

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
)

// The stub is a one-page static ELF that this file writes: a few hundred
// bytes of code (the listing below) and two seccomp filters. It needs no
// stack and keeps its loop state in registers only, because the guest can
// write every writable page of the process.
//
// Threads of a stub process:
//
//   - The syscall thread (the process's first thread). It sets the process
//     up, then serves glassbox' commands from the read-only command page:
//     mmap (with or without MAP_POPULATE), munmap, mprotect of the memory
//     file (fd 0), clone of new guest threads, and the receiving and
//     private, never writable mapping of host files (hostfile.go). It
//     reports each result by writing one byte, taken from a read-only
//     table, to a pipe (fd 2) whose read end only glassbox holds. It never runs guest code, and
//     the guest cannot write what it reads, so a map request can come
//     only from glassbox and its completion can be reported only by it.
//   - Guest threads, cloned by the syscall thread. Each sets its signal
//     stack (its slot), installs the guest filter and traps once ("ready").
//     From then on it runs guest code; every syscall, fault or interrupt
//     enters the handler on the signal stack, which hands the frame to
//     glassbox through the slot's state word and returns into whatever
//     glassbox left in the frame with rt_sigreturn.

// Signals the stub handles. Interrupt is glassbox' tgkill of a thread.
const (
	sigInterrupt = unix.SIGUSR2
)

var trapSignals = []unix.Signal{unix.SIGSYS, unix.SIGSEGV, unix.SIGBUS, unix.SIGFPE, unix.SIGILL, unix.SIGTRAP, sigInterrupt}

func sigBit(s unix.Signal) uint64 { return 1 << (uint(s) - 1) }

// guestMask is a guest thread's host signal mask while it runs guest code:
// everything blocked but the traps and the interrupt.
func guestMask() uint64 {
	m := ^uint64(0)
	for _, s := range trapSignals {
		m &^= sigBit(s)
	}
	return m
}

// bootMask is a new thread's mask from before its filter is installed
// until its first trap: the interrupt stays blocked (an interrupt before
// the ready trap could otherwise be answered with guest registers).
func bootMask() uint64 { return guestMask() | sigBit(sigInterrupt) }

// Syscall numbers and flags the listing uses.
const (
	nrWrite        = 1
	nrMmap         = 9
	nrRecvmsg      = 47
	nrMprotect     = 10
	nrMunmap       = 11
	nrRtSigaction  = 13
	nrRtSigprocmsk = 14
	nrRtSigreturn  = 15
	nrMremap       = 25
	nrCloseRange   = 436
	nrClone        = 56
	nrExit         = 60
	nrSigaltstack  = 131
	nrPrctl        = 157
	nrSetrlimit    = 160
	nrFutex        = 202
	nrExitGroup    = 231
	nrSeccomp      = 317
	nrMembarrier   = 324

	// membarrier commands: serialise every CPU running a thread of this
	// process (patch.go's cross-modifying writes), and the registration
	// it needs.
	membarrierSyncCore    = 32
	membarrierRegSyncCore = 64

	futexOpWait       = 0
	futexOpWake       = 1
	futexOpWaitBitset = 9
	futexOpWakeBitset = 10
	// The two sides of a state word wait with their own futex bitsets
	// (the handler's FUTEX_WAIT matches any), so that the syscall
	// thread's resume (queue.go) wakes only the handler.
	futexHandler  = 1
	futexGlassbox = 2

	mapSharedFixed = unix.MAP_SHARED | unix.MAP_FIXED
	mapPopulate    = mapSharedFixed | unix.MAP_POPULATE
	// A host file's mapping: private, so no write can reach the file.
	mapPrivateFixed = unix.MAP_PRIVATE | unix.MAP_FIXED
	// The receive never blocks (glassbox sends before it posts the
	// command) and its descriptor is close-on-exec (the stub never execs).
	recvFlags = unix.MSG_DONTWAIT | unix.MSG_CMSG_CLOEXEC
	// recvFailed is the result byte of a failed receive: no errno has it.
	recvFailed = unix.Errno(255)
	saFlags    = abi.SA_SIGINFO | abi.SA_ONSTACK | abi.SA_RESTORER
)

// stub is the assembled program.
type stub struct {
	code []byte // placed at StubBase+codeOff
	a    *asm
	// The filters, which the command page holds (writeProgs).
	base, guest []bpfInsn
}

// sysErrCheck jumps to fail when %rax holds -errno.
func sysErrCheck(a *asm, fail string) {
	a.cmpImm(rax, -4095)
	a.jcc(condAE, fail)
}

// buildStub assembles the stub's code.
func buildStub() *stub {
	a := newAsm(StubBase + codeOff)

	// --- Entry: the process's first thread sets the process up. ------
	// %rsp points at argc; find AT_SYSINFO_EHDR (33) in the auxv.
	a.label("entry")
	a.xor32(r15, r15)
	a.mov(rax, rsp)
	a.addImm(rax, 8) // skip argc
	a.label("argv")
	a.load64(rdx, rax, 0)
	a.addImm(rax, 8)
	a.test(rdx, rdx)
	a.jcc(condNE, "argv")
	a.label("envp")
	a.load64(rdx, rax, 0)
	a.addImm(rax, 8)
	a.test(rdx, rdx)
	a.jcc(condNE, "envp")
	a.label("auxv")
	a.load64(rdx, rax, 0)
	a.test(rdx, rdx)
	a.jcc(condE, "auxv_done")
	a.cmpImm(rdx, 33)
	a.jcc(condNE, "auxv_next")
	a.load64(r15, rax, 8)
	a.label("auxv_next")
	a.addImm(rax, 16)
	a.jmp("auxv")
	a.label("auxv_done")

	// mmap(ctlRO, ctlROSize, PROT_READ, MAP_SHARED|MAP_FIXED, ctlFD, 0)
	a.movImm64(rdi, ctlRO)
	a.movImm32(rsi, ctlROSize)
	a.movImm32(rdx, unix.PROT_READ)
	a.movImm32(r10, mapSharedFixed)
	a.movImm32(r8, ctlFD)
	a.xor32(r9, r9)
	a.movImm32(rax, nrMmap)
	a.syscall("")
	sysErrCheck(a, "fail")
	// mmap(slotsBase, slotsSize, PROT_READ|PROT_WRITE, MAP_SHARED|MAP_FIXED, ctlFD, ctlROSize)
	a.movImm64(rdi, slotsBase)
	a.movImm32(rsi, slotsSize)
	a.movImm32(rdx, unix.PROT_READ|unix.PROT_WRITE)
	a.movImm32(r10, mapSharedFixed)
	a.movImm32(r8, ctlFD)
	a.movImm32(r9, ctlROSize)
	a.movImm32(rax, nrMmap)
	a.syscall("")
	sysErrCheck(a, "fail")

	// Move the host's vvar/vDSO pieces: mremap(ehdr+rel, size, size,
	// MREMAP_MAYMOVE|MREMAP_FIXED, target) for each listed one.
	a.movImm64(r14, ctlRO)
	a.load64(rbx, r14, setupVDSO)
	a.lea(r13, r14, setupVDSO+8)
	a.label("vdso")
	a.test(rbx, rbx)
	a.jcc(condE, "vdso_done")
	a.test(r15, r15)
	a.jcc(condE, "fail")
	a.load64(rdi, r13, 0)
	a.add(rdi, r15)
	a.load64(rsi, r13, 8)
	a.mov(rdx, rsi)
	a.movImm32(r10, unix.MREMAP_MAYMOVE|unix.MREMAP_FIXED)
	a.load64(r8, r13, 16)
	a.movImm32(rax, nrMremap)
	a.syscall("")
	sysErrCheck(a, "fail")
	a.addImm(r13, 24)
	a.subImm(rbx, 1)
	a.jmp("vdso")
	a.label("vdso_done")

	// Drop everything above the stub's areas (the host stack, whatever
	// the loader put there), the control memfd's descriptor and every
	// descriptor glassbox did not give but inherited without
	// close-on-exec: close_range(ctlFD, ~0, 0). The stub's descriptors
	// are then exactly 0-3, and the host files it receives get the
	// numbers glassbox predicts (hostfile.go).
	a.movImm64(rdi, areaEnd)
	a.movImm64(rsi, userTop-areaEnd)
	a.movImm32(rax, nrMunmap)
	a.syscall("")
	sysErrCheck(a, "fail")
	a.movImm32(rdi, ctlFD)
	a.movImm32(rsi, ^uint32(0))
	a.xor32(rdx, rdx)
	a.movImm32(rax, nrCloseRange)
	a.syscall("")
	sysErrCheck(a, "fail")
	// No core dumps of a stub: setrlimit(RLIMIT_CORE, {0, 0}).
	a.movImm32(rdi, unix.RLIMIT_CORE)
	a.lea(rsi, r14, rlimZero)
	a.movImm32(rax, nrSetrlimit)
	a.syscall("")
	sysErrCheck(a, "fail")
	// The handler for every trap signal.
	for _, s := range trapSignals {
		a.movImm32(rdi, uint32(s))
		a.lea(rsi, r14, sigact)
		a.xor32(rdx, rdx)
		a.movImm32(r10, 8)
		a.movImm32(rax, nrRtSigaction)
		a.syscall("")
		sysErrCheck(a, "fail")
	}
	// This thread blocks every signal for good.
	a.xor32(rdi, rdi) // SIG_BLOCK
	a.lea(rsi, r14, maskAll)
	a.xor32(rdx, rdx)
	a.movImm32(r10, 8)
	a.movImm32(rax, nrRtSigprocmsk)
	a.syscall("")
	sysErrCheck(a, "fail")
	a.movImm32(rdi, unix.PR_SET_NO_NEW_PRIVS)
	a.movImm32(rsi, 1)
	a.xor32(rdx, rdx)
	a.xor32(r10, r10)
	a.xor32(r8, r8)
	a.movImm32(rax, nrPrctl)
	a.syscall("")
	sysErrCheck(a, "fail")
	// membarrier(REGISTER_PRIVATE_EXPEDITED_SYNC_CORE): its failure (an
	// old kernel) only makes opMembarrier fail.
	a.movImm32(rdi, membarrierRegSyncCore)
	a.xor32(rsi, rsi)
	a.xor32(rdx, rdx)
	a.movImm32(rax, nrMembarrier)
	a.syscall("setup_membarrier")
	// seccomp(SECCOMP_SET_MODE_FILTER, 0, the base filter).
	a.movImm32(rdi, 1)
	a.xor32(rsi, rsi)
	a.lea(rdx, r14, roProgB)
	a.movImm32(rax, nrSeccomp)
	a.syscall("")
	sysErrCheck(a, "fail")
	// Set up: report success (result 0) and serve commands.
	a.xor32(r12, r12) // the last command served
	a.xor32(rax, rax)
	a.jmp("report")

	a.label("fail")
	a.mov(rdi, rax)
	a.neg(rdi)
	a.movImm32(rax, nrExitGroup)
	a.syscall("")
	a.ud2()

	commandLoop(a)

	// --- A new guest thread (rax = 0, rbx = &stack_t, r13 = slot). ----
	a.label("boot")
	a.mov(rdi, rbx)
	a.xor32(rsi, rsi)
	a.movImm32(rax, nrSigaltstack)
	a.syscall("boot_sigaltstack")
	sysErrCheck(a, "boot_fail")
	a.movImm32(rdi, unix.SIG_SETMASK)
	a.lea(rsi, r14, maskBoot)
	a.xor32(rdx, rdx)
	a.movImm32(r10, 8)
	a.movImm32(rax, nrRtSigprocmsk)
	a.syscall("boot_sigmask")
	sysErrCheck(a, "boot_fail")
	a.movImm32(rdi, 1)
	a.xor32(rsi, rsi)
	a.lea(rdx, r14, roProgG) // r14: the syscall thread's, ctlRO
	a.movImm32(rax, nrSeccomp)
	a.syscall("boot_seccomp")
	sysErrCheck(a, "boot_fail")
	// The ready trap: the guest filter sends SIGSYS for it, and glassbox
	// answers it with the guest's registers.
	a.movImm32(rax, readyNR)
	a.syscall("ready")
	a.ud2()
	a.label("boot_fail")
	a.xor32(rdi, rdi)
	a.movImm32(rax, nrExit)
	a.syscall("boot_exit")
	a.ud2()

	// --- The handler (all signals blocked, on the slot's stack). ------
	// rdi = signo, rsi = &siginfo, rdx = &ucontext, rsp = the frame.
	// An interrupt that finds the thread in a patched call (patch.go) is
	// dropped: the call is on its way to glassbox anyway, or on its way
	// back (glassbox sends the interrupt again while it waits if the
	// slot's drop count moved, see waitPoll). That is: at the start of one of a trampoline's
	// instructions, in the straight-line code from p_entry to p_end, or
	// in the hand-off loop with r12 = 0 and r13 = this thread's slot (a
	// guest that jumps into the loop otherwise gets its interrupts).
	a.label("handler")
	a.cmp32imm(rdi, uint32(sigInterrupt))
	a.jcc(condNE, "h_take")
	a.load64(rax, rdx, ucMctx+8*16) // the interrupted rip
	a.movLabel(rcx, "p_entry")
	a.cmp(rax, rcx)
	a.jcc(condB, "h_inloop")
	a.movLabel(rcx, "p_end")
	a.cmp(rax, rcx)
	a.jcc(condB, "h_drop")
	a.jmp("h_low")
	a.label("h_inloop")
	a.movLabel(rcx, "h_handoff")
	a.cmp(rax, rcx)
	a.jcc(condB, "h_low")
	a.load64(rcx, rdx, ucMctx+8*4) // r12
	a.test(rcx, rcx)
	a.jcc(condNE, "h_take")
	a.mov(rcx, rsp)
	a.andImm(rcx, -slotSize)
	a.load64(rsi, rdx, ucMctx+8*5) // r13
	a.cmp(rsi, rcx)
	a.jcc(condE, "h_drop")
	a.jmp("h_take")
	a.label("h_low")
	a.movImm64(rcx, ctlRO)
	a.load64(rcx, rcx, roPatch)
	a.test(rcx, rcx)
	a.jcc(condE, "h_take")
	a.subImm(rax, PatchBase+patchTab)
	a.jcc(condB, "h_take")
	a.cmpImm(rax, PatchSites*patchTr)
	a.jcc(condAE, "h_take")
	a.andImm(rax, patchTr-1)
	for _, off := range patchTrInsns {
		a.cmpImm(rax, off)
		a.jcc(condE, "h_drop")
	}
	a.jmp("h_take")
	a.label("h_drop")
	a.mov(rcx, rsp)
	a.andImm(rcx, -slotSize)
	a.load32(rax, rcx, hdrDrops)
	a.addImm(rax, 1)
	a.store32(rcx, hdrDrops, rax)
	a.mov(r12, rdx)
	a.jmp("h_ret")

	// r12 keeps the kernel's ucontext pointer, r13 the slot.
	a.label("h_take")
	a.mov(r12, rdx)
	a.mov(r13, rsp)
	a.andImm(r13, -slotSize)
	a.store64(r13, hdrUC, rdx)
	a.rdfsbase(rax)
	a.store64(r13, hdrFS, rax)
	a.rdgsbase(rax)
	a.store64(r13, hdrGS, rax)
	// The hand-off: r13 = the slot, r12 = the signal's ucontext, or 0
	// for a patched call (which returns through p_resume).
	a.label("h_handoff")
	a.rdtsc()
	a.store32(r13, hdrTrapT, rax)
	a.store32(r13, hdrTrapT+4, rdx)
	a.movImm32(rax, stTrapped)
	a.xchg32(r13, hdrState, rax)
	a.test32imm(rax, flagSleeper)
	a.jcc(condE, "h_spin")
	// futex(&state, FUTEX_WAKE, 1): glassbox sleeps on the word.
	a.lea(rdi, r13, hdrState)
	a.movImm32(rsi, futexOpWake)
	a.movImm32(rdx, 1)
	a.movImm32(rax, nrFutex)
	a.syscall("h_wake")
	a.label("h_spin")
	a.load32(rbx, r13, hdrSpin)
	a.label("h_poll")
	a.load32(rax, r13, hdrState)
	a.label("h_check")
	a.mov(rdx, rax) // glassbox may have flagged itself a sleeper
	a.andImm(rdx, stateMask)
	a.cmp32imm(rdx, stResume)
	a.jcc(condE, "h_resume")
	a.cmp32imm(rdx, stExit)
	a.jcc(condE, "h_exit")
	a.test(rbx, rbx)
	a.jcc(condE, "h_sleep")
	a.subImm(rbx, 1)
	a.pause()
	a.jmp("h_poll")
	a.label("h_sleep")
	// Announce the sleeper (trapped → trapped|sleeper) and wait while the
	// word holds what we saw; any other value is waited out as it is.
	a.cmp32imm(rax, stTrapped)
	a.jcc(condNE, "h_futex")
	a.movImm32(rcx, stTrapped|flagSleeper)
	a.cmpxchg32(r13, hdrState, rcx)
	a.jcc(condNE, "h_check")
	a.mov(rax, rcx)
	a.label("h_futex")
	a.mov(rdx, rax)
	a.lea(rdi, r13, hdrState)
	a.xor32(rsi, rsi) // FUTEX_WAIT
	a.xor32(r10, r10)
	a.movImm32(rax, nrFutex)
	a.syscall("h_wait")
	a.jmp("h_poll")
	a.label("h_resume")
	a.rdtsc()
	a.store32(r13, hdrWakeT, rax)
	a.store32(r13, hdrWakeT+4, rdx)
	a.load64(rax, r13, hdrFS)
	a.wrfsbase(rax)
	a.load64(rax, r13, hdrGS)
	a.wrgsbase(rax)
	a.test(r12, r12)
	a.jcc(condE, "p_resume")
	// rt_sigreturn reads its frame at %rsp-8: the ucontext follows the
	// 8-byte return address at the frame's start.
	a.label("h_ret")
	a.mov(rsp, r12)
	a.movImm32(rax, nrRtSigreturn)
	a.syscall("h_sigreturn")
	a.ud2()
	a.label("h_exit")
	a.xor32(rdi, rdi)
	a.movImm32(rax, nrExit)
	a.syscall("h_exit")
	a.ud2()

	patchEntry(a)

	// The restorer named in the sigaction (never used: the handler
	// returns by itself) points at a ud2.
	a.label("restorer")
	a.ud2()

	s := &stub{a: a}
	s.code = a.finish()
	s.base, s.guest = baseFilter(a), guestFilter(a)
	return s
}

// image returns the stub ELF: one PT_LOAD of R+X at StubBase whose memory
// size covers every fixed area of the stub (so the host kernel puts the
// stub's own vDSO and stack elsewhere), and the code.
func (s *stub) image() []byte {
	b := make([]byte, codePage)
	le := binary.LittleEndian
	copy(b, []byte{0x7f, 'E', 'L', 'F', 2, 1, 1})
	le.PutUint16(b[16:], 2)  // ET_EXEC
	le.PutUint16(b[18:], 62) // EM_X86_64
	le.PutUint32(b[20:], 1)
	le.PutUint64(b[24:], s.a.addr("entry"))
	le.PutUint64(b[32:], 64) // e_phoff
	le.PutUint16(b[52:], 64) // e_ehsize
	le.PutUint16(b[54:], 56) // e_phentsize
	le.PutUint16(b[56:], 1)  // e_phnum
	ph := b[64:]
	le.PutUint32(ph[0:], 1) // PT_LOAD
	le.PutUint32(ph[4:], 5) // PF_R|PF_X
	le.PutUint64(ph[8:], 0)
	le.PutUint64(ph[16:], StubBase)
	le.PutUint64(ph[24:], StubBase)
	le.PutUint64(ph[32:], codePage)
	le.PutUint64(ph[40:], areaEnd-StubBase)
	le.PutUint64(ph[48:], 0x1000)

	if codeOff+len(s.code) > codePage {
		panic("seccomp: stub does not fit its page")
	}
	copy(b[codeOff:], s.code)
	return b
}

// writeProgs writes the filters' sock_fprogs and programs into the
// command page's part of a control memfd: the base filter at roProgB, the
// guest filter at roProgG. The kernel copies a filter when it is
// installed; only glassbox can write the page.
func (s *stub) writeProgs(ctl []byte) {
	le := binary.LittleEndian
	put := func(at, end int, prog []bpfInsn) {
		if at+16+8*len(prog) > end {
			panic("seccomp: filter does not fit its place")
		}
		le.PutUint16(ctl[at:], uint16(len(prog)))
		le.PutUint64(ctl[at+8:], ctlRO+uint64(at+16))
		for i, in := range prog {
			o := at + 16 + 8*i
			le.PutUint16(ctl[o:], in.code)
			ctl[o+2] = in.jt
			ctl[o+3] = in.jf
			le.PutUint32(ctl[o+4:], in.k)
		}
	}
	put(roProgB, roProgG, s.base)
	put(roProgG, ctlROSize, s.guest)
}

// negErrno is -e as a register holds it.
func negErrno(e unix.Errno) uint64 { return -uint64(e) }

// loadCmdArgs loads the command's six syscall arguments from the
// read-only command page (r14) into the syscall argument registers.
func loadCmdArgs(a *asm) {
	for i, r := range []reg{rdi, rsi, rdx, r10, r8, r9} {
		a.load64(r, r14, cmdArgs+8*int32(i))
	}
}
