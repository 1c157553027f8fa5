package seccomp

import (
	"encoding/hex"
	"testing"
)

// asmForms is one encoding of every instruction form the assembler has,
// with the bytes GNU objdump decodes as the instruction in the comment
// (checked once by hand with objdump -D -b binary -m i386:x86-64 -M intel).
var asmForms = []struct {
	text string
	emit func(a *asm)
	hex  string
}{
	{"movabs rax,0x1122334455667788", func(a *asm) { a.movImm64(rax, 0x1122334455667788) }, "48b88877665544332211"},
	{"movabs r13,0x1122334455667788", func(a *asm) { a.movImm64(r13, 0x1122334455667788) }, "49bd8877665544332211"},
	{"mov eax,0x12345678", func(a *asm) { a.movImm32(rax, 0x12345678) }, "b878563412"},
	{"mov r9d,0x12345678", func(a *asm) { a.movImm32(r9, 0x12345678) }, "41b978563412"},
	{"mov rax,QWORD PTR [rbx+0x10]", func(a *asm) { a.load64(rax, rbx, 0x10) }, "488b8310000000"},
	{"mov r12,QWORD PTR [r13+0x10]", func(a *asm) { a.load64(r12, r13, 0x10) }, "4d8ba510000000"},
	{"mov rdx,QWORD PTR [rsp+0x10]", func(a *asm) { a.load64(rdx, rsp, 0x10) }, "488b942410000000"},
	{"mov rcx,QWORD PTR [r12-0x8]", func(a *asm) { a.load64(rcx, r12, -8) }, "498b8c24f8ffffff"},
	{"mov eax,DWORD PTR [r13+0x10]", func(a *asm) { a.load32(rax, r13, 0x10) }, "418b8510000000"},
	{"mov r8d,DWORD PTR [rsp+0x20]", func(a *asm) { a.load32(r8, rsp, 0x20) }, "448b842420000000"},
	{"mov QWORD PTR [r13+0x18],rax", func(a *asm) { a.store64(r13, 0x18, rax) }, "49898518000000"},
	{"mov QWORD PTR [rsp+0x18],r10", func(a *asm) { a.store64(rsp, 0x18, r10) }, "4c89942418000000"},
	{"mov DWORD PTR [r13+0x4],eax", func(a *asm) { a.store32(r13, 4, rax) }, "41898504000000"},
	{"mov DWORD PTR [r12+0x4],r9d", func(a *asm) { a.store32(r12, 4, r9) }, "45898c2404000000"},
	{"mov rsp,r12", func(a *asm) { a.mov(rsp, r12) }, "4c89e4"},
	{"mov r12,rdx", func(a *asm) { a.mov(r12, rdx) }, "4989d4"},
	{"lea rdi,[r13+0x0]", func(a *asm) { a.lea(rdi, r13, 0) }, "498dbd00000000"},
	{"lea r10,[rsp+0x40]", func(a *asm) { a.lea(r10, rsp, 0x40) }, "4c8d942440000000"},
	{"add rax,0x100", func(a *asm) { a.addImm(rax, 0x100) }, "4881c000010000"},
	{"and r13,0xffffffffffff8000", func(a *asm) { a.andImm(r13, -32768) }, "4981e50080ffff"},
	{"sub r15,0x8", func(a *asm) { a.subImm(r15, 8) }, "4981ef08000000"},
	{"cmp rax,0xfffffffffffff001", func(a *asm) { a.cmpImm(rax, -4095) }, "4881f801f0ffff"},
	{"cmp eax,0x2", func(a *asm) { a.cmp32imm(rax, 2) }, "81f802000000"},
	{"cmp r12d,0x3", func(a *asm) { a.cmp32imm(r12, 3) }, "4181fc03000000"},
	{"cmp eax,r12d", func(a *asm) { a.cmp32(rax, r12) }, "4439e0"},
	{"cmp r12d,eax", func(a *asm) { a.cmp32(r12, rax) }, "4139c4"},
	{"cmp rax,r14", func(a *asm) { a.cmp(rax, r14) }, "4c39f0"},
	{"add rsi,rcx", func(a *asm) { a.add(rsi, rcx) }, "4801ce"},
	{"test rax,rax", func(a *asm) { a.test(rax, rax) }, "4885c0"},
	{"test r12,r13", func(a *asm) { a.test(r12, r13) }, "4d85ec"},
	{"test eax,0x100", func(a *asm) { a.test32imm(rax, 0x100) }, "f7c000010000"},
	{"test r13d,0x100", func(a *asm) { a.test32imm(r13, 0x100) }, "41f7c500010000"},
	{"xor edi,edi", func(a *asm) { a.xor32(rdi, rdi) }, "31ff"},
	{"xor r10d,r10d", func(a *asm) { a.xor32(r10, r10) }, "4531d2"},
	{"neg rax", func(a *asm) { a.neg(rax) }, "48f7d8"},
	{"xchg DWORD PTR [r13+0x0],eax", func(a *asm) { a.xchg32(r13, 0, rax) }, "41878500000000"},
	{"xchg DWORD PTR [r12+0x8],r9d", func(a *asm) { a.xchg32(r12, 8, r9) }, "45878c2408000000"},
	{"lock cmpxchg DWORD PTR [r13+0x0],ecx", func(a *asm) { a.cmpxchg32(r13, 0, rcx) }, "f0410fb18d00000000"},
	{"lock cmpxchg DWORD PTR [rsp+0x4],r10d", func(a *asm) { a.cmpxchg32(rsp, 4, r10) }, "f0440fb1942404000000"},
	{"lock xor DWORD PTR [rdi+0x0],eax", func(a *asm) { a.lockXor32(rdi, 0, rax) }, "f0318700000000"},
	{"lock xor DWORD PTR [r13+0x8],r9d", func(a *asm) { a.lockXor32(r13, 8, r9) }, "f045318d08000000"},
	{"rdfsbase rax", func(a *asm) { a.rdfsbase(rax) }, "f3480faec0"},
	{"rdgsbase r11", func(a *asm) { a.rdgsbase(r11) }, "f3490faecb"},
	{"wrfsbase rcx", func(a *asm) { a.wrfsbase(rcx) }, "f3480faed1"},
	{"wrgsbase r14", func(a *asm) { a.wrgsbase(r14) }, "f3490faede"},
	{"syscall", func(a *asm) { a.syscall("") }, "0f05"},
	{"pause", func(a *asm) { a.pause() }, "f390"},
	{"rdtsc", func(a *asm) { a.rdtsc() }, "0f31"},
	{"lahf", func(a *asm) { a.lahf() }, "9f"},
	{"or r11,rax", func(a *asm) { a.or(r11, rax) }, "4909c3"},
	{"sahf", func(a *asm) { a.sahf() }, "9e"},
	{"pushf", func(a *asm) { a.pushfq() }, "9c"},
	{"popf", func(a *asm) { a.popfq() }, "9d"},
	{"seto al", func(a *asm) { a.seto(rax) }, "0f90c0"},
	{"seto cl", func(a *asm) { a.seto(rcx) }, "0f90c1"},
	{"add al,0x7f", func(a *asm) { a.addAL(0x7f) }, "047f"},
	{"shl r11,0x10", func(a *asm) { a.shlImm(r11, 16) }, "49c1e310"},
	{"shr rcx,0xf", func(a *asm) { a.shrImm(rcx, 15) }, "48c1e90f"},
	{"pop rax", func(a *asm) { a.pop(rax) }, "58"},
	{"pop r11", func(a *asm) { a.pop(r11) }, "415b"},
	{"push QWORD PTR [rcx+0x100]", func(a *asm) { a.pushMem(rcx, 0x100) }, "ffb100010000"},
	{"push QWORD PTR [r13+0x100]", func(a *asm) { a.pushMem(r13, 0x100) }, "41ffb500010000"},
	{"xsave64 [rcx+0x1200]", func(a *asm) { a.xsave64(rcx, 0x1200) }, "480faea100120000"},
	{"xrstor64 [r13+0x1200]", func(a *asm) { a.xrstor64(r13, 0x1200) }, "490faead00120000"},
	{"jmp QWORD PTR gs:0x1088", func(a *asm) { a.jmpGS(0x1088) }, "65ff242588100000"},
	{"ud2", func(a *asm) { a.ud2() }, "0f0b"},
}

func TestAsmForms(t *testing.T) {
	for _, f := range asmForms {
		a := newAsm(0)
		f.emit(a)
		if got := hex.EncodeToString(a.finish()); got != f.hex {
			t.Errorf("%s: got %s, want %s", f.text, got, f.hex)
		}
	}
}

func TestAsmJumps(t *testing.T) {
	a := newAsm(0x1000)
	a.label("top")
	a.jcc(condNE, "end") // 6 bytes
	a.syscall("s")       // 2 bytes
	a.jmp("top")         // 5 bytes
	a.label("end")
	b := a.finish()
	want := "0f8507000000" + "0f05" + "e9f3ffffff"
	if got := hex.EncodeToString(b); got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	if s := a.site("s"); s != 0x1008 {
		t.Fatalf("site at %#x, want 0x1008", s)
	}
}

func TestAsmMovLabel(t *testing.T) {
	a := newAsm(0x1000)
	a.movLabel(rdx, "end")
	a.label("end")
	if got := hex.EncodeToString(a.finish()); got != "48ba0a10000000000000" {
		t.Fatalf("got %s", got)
	}
}
