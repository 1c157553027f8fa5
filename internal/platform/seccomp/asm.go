package seccomp

import (
	"encoding/binary"
	"fmt"
)

// A tiny x86-64 assembler for the stub's code: just the instruction forms
// stub.go uses, each encoded one way (memory operands always base+disp32,
// jumps always rel32), so the listing in stub.go reads like assembly and
// every syscall site's address is known exactly. asm_test.go checks each
// form against the bytes GNU as produces.

type reg uint8

const (
	rax reg = iota
	rcx
	rdx
	rbx
	rsp
	rbp
	rsi
	rdi
	r8
	r9
	r10
	r11
	r12
	r13
	r14
	r15
)

// cond is an x86 condition code (the low nibble of Jcc).
type cond uint8

const (
	condE  cond = 0x4 // equal / zero
	condNE cond = 0x5 // not equal / not zero
	condB  cond = 0x2 // below (unsigned)
	condAE cond = 0x3 // above or equal (unsigned)
	condA  cond = 0x7 // above (unsigned)
	condS  cond = 0x8 // sign
	condL  cond = 0xc // less (signed)
)

type fixup struct {
	at    int // offset of the rel32 field
	label string
}

// asm accumulates code placed at base.
type asm struct {
	base   uint64
	b      []byte
	labels map[string]int
	fixups []fixup
	// absFixups are 8-byte absolute addresses of labels (movLabel).
	absFixups []fixup
	// sites maps a syscall site's name to the address just after its
	// syscall instruction (what seccomp_data.instruction_pointer holds).
	sites map[string]uint64
}

func newAsm(base uint64) *asm {
	return &asm{base: base, labels: map[string]int{}, sites: map[string]uint64{}}
}

func (a *asm) emit(b ...byte) { a.b = append(a.b, b...) }

func (a *asm) imm32(v uint32) { a.b = binary.LittleEndian.AppendUint32(a.b, v) }

// pc is the address of the next instruction.
func (a *asm) pc() uint64 { return a.base + uint64(len(a.b)) }

// label defines name at the current position.
func (a *asm) label(name string) {
	if _, dup := a.labels[name]; dup {
		panic("asm: label defined twice: " + name)
	}
	a.labels[name] = len(a.b)
}

// addr is the address of a defined label (after finish).
func (a *asm) addr(name string) uint64 {
	off, ok := a.labels[name]
	if !ok {
		panic("asm: no label " + name)
	}
	return a.base + uint64(off)
}

// finish resolves jumps and returns the code.
func (a *asm) finish() []byte {
	for _, f := range a.fixups {
		off, ok := a.labels[f.label]
		if !ok {
			panic("asm: jump to undefined label " + f.label)
		}
		binary.LittleEndian.PutUint32(a.b[f.at:], uint32(int32(off-(f.at+4))))
	}
	a.fixups = nil
	for _, f := range a.absFixups {
		binary.LittleEndian.PutUint64(a.b[f.at:], a.addr(f.label))
	}
	a.absFixups = nil
	return a.b
}

func rex(w bool, r, x, b reg) byte {
	v := byte(0x40)
	if w {
		v |= 8
	}
	if r >= 8 {
		v |= 4
	}
	if x >= 8 {
		v |= 2
	}
	if b >= 8 {
		v |= 1
	}
	return v
}

// rexOpt emits a REX prefix when one is needed (64-bit or a high register).
func (a *asm) rexOpt(w bool, r, b reg) {
	if w || r >= 8 || b >= 8 {
		a.emit(rex(w, r, 0, b))
	}
}

// modrmMem emits ModRM (and SIB) for [base+disp32] with reg field r.
func (a *asm) modrmMem(r, base reg, disp int32) {
	a.emit(0x80 | byte(r&7)<<3 | byte(base&7))
	if base&7 == 4 { // rsp, r12 need a SIB byte
		a.emit(0x24)
	}
	a.imm32(uint32(disp))
}

func (a *asm) modrmReg(r, rm reg) { a.emit(0xc0 | byte(r&7)<<3 | byte(rm&7)) }

// movImm64 is movabs $v, %dst.
func (a *asm) movImm64(dst reg, v uint64) {
	a.emit(rex(true, 0, 0, dst), 0xb8+byte(dst&7))
	a.b = binary.LittleEndian.AppendUint64(a.b, v)
}

// movImm32 is mov $v, %dst32 (zero-extends into the 64-bit register).
func (a *asm) movImm32(dst reg, v uint32) {
	a.rexOpt(false, 0, dst)
	a.emit(0xb8 + byte(dst&7))
	a.imm32(v)
}

// load64 is mov disp(%base), %dst.
func (a *asm) load64(dst, base reg, disp int32) {
	a.emit(rex(true, dst, 0, base), 0x8b)
	a.modrmMem(dst, base, disp)
}

// load32 is mov disp(%base), %dst32.
func (a *asm) load32(dst, base reg, disp int32) {
	a.rexOpt(false, dst, base)
	a.emit(0x8b)
	a.modrmMem(dst, base, disp)
}

// store64 is mov %src, disp(%base).
func (a *asm) store64(base reg, disp int32, src reg) {
	a.emit(rex(true, src, 0, base), 0x89)
	a.modrmMem(src, base, disp)
}

// store32 is mov %src32, disp(%base).
func (a *asm) store32(base reg, disp int32, src reg) {
	a.rexOpt(false, src, base)
	a.emit(0x89)
	a.modrmMem(src, base, disp)
}

// mov is mov %src, %dst (64-bit).
func (a *asm) mov(dst, src reg) {
	a.emit(rex(true, src, 0, dst), 0x89)
	a.modrmReg(src, dst)
}

// lea is lea disp(%base), %dst.
func (a *asm) lea(dst, base reg, disp int32) {
	a.emit(rex(true, dst, 0, base), 0x8d)
	a.modrmMem(dst, base, disp)
}

// alu64imm is op $imm32 (sign-extended), %dst for the group-1 opcodes.
func (a *asm) alu64imm(ext byte, dst reg, v int32) {
	a.emit(rex(true, 0, 0, dst), 0x81)
	a.modrmReg(reg(ext), dst)
	a.imm32(uint32(v))
}

func (a *asm) addImm(dst reg, v int32) { a.alu64imm(0, dst, v) }
func (a *asm) andImm(dst reg, v int32) { a.alu64imm(4, dst, v) }
func (a *asm) subImm(dst reg, v int32) { a.alu64imm(5, dst, v) }
func (a *asm) cmpImm(dst reg, v int32) { a.alu64imm(7, dst, v) }

// cmp32imm is cmp $v, %dst32.
func (a *asm) cmp32imm(dst reg, v uint32) {
	a.rexOpt(false, 0, dst)
	a.emit(0x81)
	a.modrmReg(7, dst)
	a.imm32(v)
}

// cmp32 is cmp %src32, %dst32 (flags of dst - src).
func (a *asm) cmp32(dst, src reg) {
	a.rexOpt(false, src, dst)
	a.emit(0x39)
	a.modrmReg(src, dst)
}

// cmp is cmp %src, %dst (64-bit).
func (a *asm) cmp(dst, src reg) {
	a.emit(rex(true, src, 0, dst), 0x39)
	a.modrmReg(src, dst)
}

// add is add %src, %dst (64-bit).
func (a *asm) add(dst, src reg) {
	a.emit(rex(true, src, 0, dst), 0x01)
	a.modrmReg(src, dst)
}

// test is test %src, %dst (64-bit).
func (a *asm) test(dst, src reg) {
	a.emit(rex(true, src, 0, dst), 0x85)
	a.modrmReg(src, dst)
}

// test32imm is test $v, %dst32.
func (a *asm) test32imm(dst reg, v uint32) {
	a.rexOpt(false, 0, dst)
	a.emit(0xf7)
	a.modrmReg(0, dst)
	a.imm32(v)
}

// xor32 is xor %src32, %dst32.
func (a *asm) xor32(dst, src reg) {
	a.rexOpt(false, src, dst)
	a.emit(0x31)
	a.modrmReg(src, dst)
}

// neg is neg %dst (64-bit).
func (a *asm) neg(dst reg) {
	a.emit(rex(true, 0, 0, dst), 0xf7)
	a.modrmReg(3, dst)
}

// xchg32 is xchg %r32, disp(%base): an atomic swap (implicitly locked).
func (a *asm) xchg32(base reg, disp int32, r reg) {
	a.rexOpt(false, r, base)
	a.emit(0x87)
	a.modrmMem(r, base, disp)
}

// cmpxchg32 is lock cmpxchg %r32, disp(%base): if the word equals %eax
// it becomes %r32 (ZF set), else %eax gets the word (ZF clear).
func (a *asm) cmpxchg32(base reg, disp int32, r reg) {
	a.emit(0xf0)
	a.rexOpt(false, r, base)
	a.emit(0x0f, 0xb1)
	a.modrmMem(r, base, disp)
}

// lockXor32 is lock xor %r32, disp(%base): an atomic xor into memory.
func (a *asm) lockXor32(base reg, disp int32, r reg) {
	a.emit(0xf0)
	a.rexOpt(false, r, base)
	a.emit(0x31)
	a.modrmMem(r, base, disp)
}

// fsgsbase emits rdfsbase/rdgsbase/wrfsbase/wrgsbase (ext 0..3) on r.
func (a *asm) fsgsbase(ext byte, r reg) {
	a.emit(0xf3, rex(true, 0, 0, r), 0x0f, 0xae)
	a.modrmReg(reg(ext), r)
}

func (a *asm) rdfsbase(r reg) { a.fsgsbase(0, r) }
func (a *asm) rdgsbase(r reg) { a.fsgsbase(1, r) }
func (a *asm) wrfsbase(r reg) { a.fsgsbase(2, r) }
func (a *asm) wrgsbase(r reg) { a.fsgsbase(3, r) }

// jmp is jmp label (rel32).
func (a *asm) jmp(label string) {
	a.emit(0xe9)
	a.fixups = append(a.fixups, fixup{len(a.b), label})
	a.imm32(0)
}

// jcc is j<c> label (rel32).
func (a *asm) jcc(c cond, label string) {
	a.emit(0x0f, 0x80+byte(c))
	a.fixups = append(a.fixups, fixup{len(a.b), label})
	a.imm32(0)
}

// syscall emits a syscall instruction and records its site under name.
func (a *asm) syscall(name string) {
	a.emit(0x0f, 0x05)
	if name != "" {
		if _, dup := a.sites[name]; dup {
			panic("asm: site named twice: " + name)
		}
		a.sites[name] = a.pc()
	}
}

func (a *asm) pause() { a.emit(0xf3, 0x90) }
func (a *asm) rdtsc() { a.emit(0x0f, 0x31) }
func (a *asm) ud2()   { a.emit(0x0f, 0x0b) }

// site returns the recorded address after a syscall site.
func (a *asm) site(name string) uint64 {
	v, ok := a.sites[name]
	if !ok {
		panic(fmt.Sprintf("asm: no syscall site %q", name))
	}
	return v
}

// The forms the patched-syscall trampoline (patch.go) needs besides.

func (a *asm) lahf()   { a.emit(0x9f) }
func (a *asm) sahf()   { a.emit(0x9e) }
func (a *asm) pushfq() { a.emit(0x9c) }
func (a *asm) popfq()  { a.emit(0x9d) }

// seto is seto %r8 (the low byte of rax, rcx, rdx or rbx only).
func (a *asm) seto(r reg) {
	if r > rbx {
		panic("asm: seto of a register without a legacy low byte")
	}
	a.emit(0x0f, 0x90, 0xc0|byte(r))
}

// addAL is add $v, %al.
func (a *asm) addAL(v uint8) { a.emit(0x04, v) }

// shiftImm is shl (ext 4) or shr (ext 5) $n, %dst (64-bit).
func (a *asm) shiftImm(ext byte, dst reg, n uint8) {
	a.emit(rex(true, 0, 0, dst), 0xc1)
	a.modrmReg(reg(ext), dst)
	a.emit(n)
}

func (a *asm) shlImm(dst reg, n uint8) { a.shiftImm(4, dst, n) }
func (a *asm) shrImm(dst reg, n uint8) { a.shiftImm(5, dst, n) }

// pop is pop %r.
func (a *asm) pop(r reg) {
	a.rexOpt(false, 0, r)
	a.emit(0x58 + byte(r&7))
}

// pushMem is push disp(%base) (64-bit).
func (a *asm) pushMem(base reg, disp int32) {
	a.rexOpt(false, 0, base)
	a.emit(0xff)
	a.modrmMem(6, base, disp)
}

// xsave64 / xrstor64 are xsave64 disp(%base) / xrstor64 disp(%base):
// the components in %edx:%eax, standard (non-compacted) format.
func (a *asm) xsave64(base reg, disp int32) {
	a.emit(rex(true, 0, 0, base), 0x0f, 0xae)
	a.modrmMem(4, base, disp)
}

func (a *asm) xrstor64(base reg, disp int32) {
	a.emit(rex(true, 0, 0, base), 0x0f, 0xae)
	a.modrmMem(5, base, disp)
}

// jmpGS is jmp *%gs:disp: an indirect jump through the 8 bytes at
// gs_base+disp.
func (a *asm) jmpGS(disp int32) {
	a.emit(0x65, 0xff, 0x24, 0x25)
	a.imm32(uint32(disp))
}

// movLabel is movabs $label, %dst: the label's address, resolved by
// finish.
func (a *asm) movLabel(dst reg, label string) {
	a.emit(rex(true, 0, 0, dst), 0xb8+byte(dst&7))
	a.absFixups = append(a.absFixups, fixup{len(a.b), label})
	a.b = binary.LittleEndian.AppendUint64(a.b, 0)
}

// or is or %src, %dst (64-bit).
func (a *asm) or(dst, src reg) {
	a.emit(rex(true, src, 0, dst), 0x09)
	a.modrmReg(src, dst)
}
