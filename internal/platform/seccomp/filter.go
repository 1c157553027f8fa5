package seccomp

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// The stub's two seccomp filters, built from the addresses of the stub's
// syscall sites (seccomp_data.instruction_pointer is the address after the
// syscall instruction).
//
// The base filter runs for every thread of a stub. At each of the stub's
// own syscall sites it allows exactly that site's syscall (with its
// arguments pinned where they matter); a syscall from anywhere else, or the
// wrong call at a site, traps (SIGSYS), and a foreign architecture kills.
// The syscall thread blocks every signal, so a trap there would kill the
// process too.
//
// The guest filter is added on top by each guest thread before it runs any
// guest code. It allows only the handler's own calls: futex wait/wake,
// rt_sigreturn and exit; everything else traps, so every syscall the guest
// makes, wherever it jumps, reaches glassbox as SIGSYS. Seccomp returns the
// strictest action of all filters, so for a guest thread the union is: the
// four handler calls, or a trap.

const (
	bpfLdWAbs = 0x20
	bpfJeqK   = 0x15
	bpfJgeK   = 0x35
	bpfJsetK  = 0x45
	bpfRetK   = 0x06

	retAllow  = 0x7fff0000
	retTrap   = 0x00030000
	retKill   = 0x80000000 // SECCOMP_RET_KILL_PROCESS
	auditArch = 0xc000003e // AUDIT_ARCH_X86_64

	sdNR     = 0
	sdArch   = 4
	sdIPLo   = 8
	sdIPHi   = 12
	sdArgsLo = 16 // + 8*i
)

type bpfInsn struct {
	code   uint16
	jt, jf uint8
	k      uint32
}

// bpf builds a program with forward jumps to labels.
type bpf struct {
	prog   []bpfInsn
	labels map[string]int
	jumps  []bpfJump
}

type bpfJump struct {
	at     int
	jt, jf string // "" = next instruction
}

func newBPF() *bpf { return &bpf{labels: map[string]int{}} }

func (p *bpf) ld(off uint32) { p.prog = append(p.prog, bpfInsn{bpfLdWAbs, 0, 0, off}) }
func (p *bpf) ret(v uint32)  { p.prog = append(p.prog, bpfInsn{bpfRetK, 0, 0, v}) }
func (p *bpf) label(n string) {
	p.labels[n] = len(p.prog)
}

// jeq: if A == k goto jt else goto jf.
func (p *bpf) jeq(k uint32, jt, jf string) {
	p.jumps = append(p.jumps, bpfJump{len(p.prog), jt, jf})
	p.prog = append(p.prog, bpfInsn{bpfJeqK, 0, 0, k})
}

// jge: if A >= k (unsigned) goto jt else goto jf.
func (p *bpf) jge(k uint32, jt, jf string) {
	p.jumps = append(p.jumps, bpfJump{len(p.prog), jt, jf})
	p.prog = append(p.prog, bpfInsn{bpfJgeK, 0, 0, k})
}

// jset: if A & k != 0 goto jt else goto jf.
func (p *bpf) jset(k uint32, jt, jf string) {
	p.jumps = append(p.jumps, bpfJump{len(p.prog), jt, jf})
	p.prog = append(p.prog, bpfInsn{bpfJsetK, 0, 0, k})
}

func (p *bpf) finish() []bpfInsn {
	off := func(from int, l string) uint8 {
		if l == "" {
			return 0
		}
		to, ok := p.labels[l]
		if !ok {
			panic("bpf: no label " + l)
		}
		d := to - from - 1
		if d < 0 || d > 255 {
			panic(fmt.Sprintf("bpf: jump to %s out of range (%d)", l, d))
		}
		return uint8(d)
	}
	for _, j := range p.jumps {
		p.prog[j.at].jt = off(j.at, j.jt)
		p.prog[j.at].jf = off(j.at, j.jf)
	}
	return p.prog
}

// siteRule is what one syscall site may do: its syscall number and the
// low words of arguments that must match. The host-file sites check more:
// high words, bits that must be clear, a range.
type siteRule struct {
	site string
	nr   uint32
	args map[int]uint32
	// hi: high words that must match.
	hi map[int]uint32
	// clear: bits that must be clear in the low word.
	clear map[int]uint32
	// in: the low word must lie in [lo, hi).
	in map[int][2]uint32
}

// notRX is every prot bit but PROT_READ and PROT_EXEC.
const notRX = ^uint32(unix.PROT_READ | unix.PROT_EXEC)

func baseRules() []siteRule {
	return []siteRule{
		{site: "st_futex", nr: nrFutex, args: map[int]uint32{1: futexOpWait}},
		{site: "st_mmap", nr: nrMmap, args: map[int]uint32{3: mapSharedFixed, 4: 0}},
		{site: "st_mmap_pop", nr: nrMmap, args: map[int]uint32{3: mapPopulate, 4: 0}},
		// A host file: private, fixed, never writable, and only one of
		// the received files (fds 0-3 are the memory file and the stub's
		// own; fget reads the low word only).
		{site: "st_mmap_file", nr: nrMmap, args: map[int]uint32{3: mapPrivateFixed},
			hi: map[int]uint32{2: 0, 3: 0, 4: 0}, clear: map[int]uint32{2: notRX},
			in: map[int][2]uint32{4: {firstFileFD, firstFileFD + maxHostFiles}}},
		// Receive a host file: only from the socket, into the receive
		// area, with these flags.
		{site: "st_recvmsg", nr: nrRecvmsg, args: map[int]uint32{0: sockFD, 1: uint32(slotAddr(rxSlot) + rxMsg), 2: recvFlags},
			hi: map[int]uint32{0: 0, 1: uint32((slotAddr(rxSlot) + rxMsg) >> 32), 2: 0}},
		{site: "st_munmap", nr: nrMunmap},
		{site: "st_mprotect", nr: nrMprotect},
		{site: "st_clone", nr: nrClone, args: map[int]uint32{0: threadCloneFlags}},
		{site: "st_write", nr: nrWrite, args: map[int]uint32{0: resultFD}},
		// The resume after queued mapping changes (queue.go): a wake of
		// the handler's side of a word; a queued change that failed.
		{site: "st_resume", nr: nrFutex, args: map[int]uint32{1: futexOpWakeBitset, 5: futexHandler}},
		{site: "st_die", nr: nrExitGroup},
		{site: "st_membarrier", nr: nrMembarrier, args: map[int]uint32{0: membarrierSyncCore}},
		{site: "setup_membarrier", nr: nrMembarrier, args: map[int]uint32{0: membarrierRegSyncCore}},
		{site: "boot_sigaltstack", nr: nrSigaltstack},
		{site: "boot_sigmask", nr: nrRtSigprocmsk},
		{site: "boot_seccomp", nr: nrSeccomp},
		{site: "boot_exit", nr: nrExit},
		{site: "h_wake", nr: nrFutex},
		{site: "h_wait", nr: nrFutex},
		{site: "h_sigreturn", nr: nrRtSigreturn},
		{site: "h_exit", nr: nrExit},
	}
}

func guestRules() []siteRule {
	return []siteRule{
		{site: "h_wake", nr: nrFutex, args: map[int]uint32{1: futexOpWake}},
		{site: "h_wait", nr: nrFutex, args: map[int]uint32{1: futexOpWait}},
		{site: "h_sigreturn", nr: nrRtSigreturn},
		{site: "h_exit", nr: nrExit},
	}
}

// siteFilter: the instruction pointer must be one of the rules' sites and
// the call must match that site's rule, else the filter returns miss.
func siteFilter(a *asm, rules []siteRule, checkArch bool) []bpfInsn {
	p := newBPF()
	if checkArch {
		p.ld(sdArch)
		p.jeq(auditArch, "", "kill")
	}
	hi := uint32(StubBase >> 32)
	p.ld(sdIPHi)
	p.jeq(hi, "", "trap")
	p.ld(sdIPLo)
	for i, r := range rules {
		if a.site(r.site)>>32 != uint64(hi) {
			panic("seccomp: site outside the stub's 4 GiB")
		}
		p.jeq(uint32(a.site(r.site)), fmt.Sprintf("rule%d", i), "")
	}
	p.ret(retTrap) // not a site
	for i, r := range rules {
		p.label(fmt.Sprintf("rule%d", i))
		p.ld(sdNR)
		p.jeq(r.nr, "", "trap")
		for arg := 0; arg < 6; arg++ {
			lo := sdArgsLo + 8*uint32(arg)
			if v, ok := r.args[arg]; ok {
				p.ld(lo)
				p.jeq(v, "", "trap")
			}
			if v, ok := r.hi[arg]; ok {
				p.ld(lo + 4)
				p.jeq(v, "", "trap")
			}
			if v, ok := r.clear[arg]; ok {
				p.ld(lo)
				p.jset(v, "trap", "")
			}
			if v, ok := r.in[arg]; ok {
				p.ld(lo)
				p.jge(v[0], "", "trap")
				p.jge(v[1], "trap", "")
			}
		}
		p.ret(retAllow)
	}
	// BPF jumps only forward: the shared returns come last.
	p.label("trap")
	p.ret(retTrap)
	p.label("kill")
	p.ret(retKill)
	return p.finish()
}

func baseFilter(a *asm) []bpfInsn  { return siteFilter(a, baseRules(), true) }
func guestFilter(a *asm) []bpfInsn { return siteFilter(a, guestRules(), false) }
