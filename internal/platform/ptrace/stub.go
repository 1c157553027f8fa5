package ptrace

import (
	"encoding/binary"

	"golang.org/x/sys/unix"
)

// Fixed layout of every stub process (and so of every guest address space).
// The stub sits far below the top of the 47-bit user space so that the
// host's own randomized stack of a freshly exec'd stub (somewhere in the top
// 16 GiB) can never collide with it.
const (
	StubBase    = 0x7ff000000000 // guest TASK_SIZE: guests map below this
	stubReserve = 0x100000       // [StubBase, StubBase+stubReserve) is ours
	vdsoArea    = StubBase + 0x10000

	codeOff   = 0x100 // syscall; int3
	entryOff  = 0x110 // int3; jmp .
	cloneOff  = 0x120 // syscall; test rax,rax; jz child; int3; child: mov eax,SYS_pause; syscall; jmp child
	fprogOff  = 0x180 // struct sock_fprog
	filterOff = 0x200 // struct sock_filter[]
	syscallPC = StubBase + codeOff
	clonePC   = StubBase + cloneOff
	// cloneTrapRIP is where the parent stops after the clone site's int3.
	cloneTrapRIP = clonePC + 8
	// waitPC is the syscall instruction at which a new thread sleeps in
	// pause(2) until its tracer attaches.
	waitPC     = clonePC + 0xd
	stubFileSz = 0x1000
)

// allowedSyscalls are the host syscalls glassbox injects into a stub after
// its seccomp filter is installed (clone only at the clone site).
var allowedSyscalls = []uint32{
	9,   // mmap
	10,  // mprotect
	11,  // munmap
	25,  // mremap
	28,  // madvise
	60,  // exit
	231, // exit_group
}

const (
	bpfLdWAbs  = 0x20
	bpfJeqK    = 0x15
	bpfRetK    = 0x06
	retAllow   = 0x7fff0000
	retKill    = 0x80000000 // SECCOMP_RET_KILL_PROCESS
	auditArch  = 0xc000003e // AUDIT_ARCH_X86_64
	seccompOff = 0          // seccomp_data.nr
)

type bpfInsn struct {
	code   uint16
	jt, jf uint8
	k      uint32
}

// seccompFilter builds the stub's filter: arch must be x86-64 and the
// instruction pointer's high half the stub's; then either the low half is
// just past the stub's syscall instruction and the number is in
// allowedSyscalls, or the low half is just past the clone site's syscall
// and the number is clone, or it is just past the new thread's waiting
// syscall and the number is pause. Anything else kills the stub.
func seccompFilter() []bpfInsn {
	ip := uint64(syscallPC + 2)
	cip := uint64(clonePC + 2)
	wip := uint64(waitPC + 2)
	n := len(allowedSyscalls)
	// Layout: 0-3 arch and ip-high checks, 4 load ip-low, 5 jeq ip, 6 jeq
	// clone ip, 7 jeq wait ip, 8 load nr, 9.. n jeqs, kill, clone check
	// (2), pause check (2), allow, kill (BPF jumps only forward).
	killAt := 9 + n
	cloneAt := killAt + 1
	waitAt := cloneAt + 2
	allowAt := waitAt + 2
	kill2At := allowAt + 1
	prog := []bpfInsn{
		{bpfLdWAbs, 0, 0, 4},
		{bpfJeqK, 0, uint8(killAt - 2), auditArch},
		{bpfLdWAbs, 0, 0, 12},
		{bpfJeqK, 0, uint8(killAt - 4), uint32(ip >> 32)},
		{bpfLdWAbs, 0, 0, 8},
		{bpfJeqK, 2, 0, uint32(ip)},
		{bpfJeqK, uint8(cloneAt - 7), 0, uint32(cip)},
		{bpfJeqK, uint8(waitAt - 8), uint8(killAt - 8), uint32(wip)},
		{bpfLdWAbs, 0, 0, seccompOff},
	}
	for i, nr := range allowedSyscalls {
		pc := 9 + i
		prog = append(prog, bpfInsn{bpfJeqK, uint8(allowAt - pc - 1), 0, nr})
	}
	prog = append(prog, bpfInsn{bpfRetK, 0, 0, retKill},
		bpfInsn{bpfLdWAbs, 0, 0, seccompOff},
		bpfInsn{bpfJeqK, uint8(allowAt - cloneAt - 2), uint8(kill2At - cloneAt - 2), unix.SYS_CLONE},
		bpfInsn{bpfLdWAbs, 0, 0, seccompOff},
		bpfInsn{bpfJeqK, 0, uint8(kill2At - waitAt - 2), unix.SYS_PAUSE},
		bpfInsn{bpfRetK, 0, 0, retAllow},
		bpfInsn{bpfRetK, 0, 0, retKill})
	return prog
}

// stubELF returns the stub executable: one PT_LOAD of R+X at StubBase whose
// memory size reserves the whole stub area (so the host kernel places the
// stub's initial vDSO elsewhere and the area is free to receive it).
func stubELF() []byte {
	b := make([]byte, stubFileSz)
	le := binary.LittleEndian
	copy(b, []byte{0x7f, 'E', 'L', 'F', 2, 1, 1})
	le.PutUint16(b[16:], 2)  // ET_EXEC
	le.PutUint16(b[18:], 62) // EM_X86_64
	le.PutUint32(b[20:], 1)
	le.PutUint64(b[24:], StubBase+entryOff)
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
	le.PutUint64(ph[32:], stubFileSz)
	le.PutUint64(ph[40:], stubReserve)
	le.PutUint64(ph[48:], 0x1000)

	copy(b[codeOff:], []byte{0x0f, 0x05, 0xcc})  // syscall; int3
	copy(b[entryOff:], []byte{0xcc, 0xeb, 0xfe}) // int3; jmp .
	// The clone site: the parent (rax = child tid or -errno) stops at the
	// int3; the new thread (rax = 0) sleeps in pause(2) until its tracer
	// attaches (PTRACE_INTERRUPT ends the sleep with a ptrace stop) and
	// gives it the guest's registers. It must not spin: it starts on its
	// creator's CPU, where the tracers that must attach it run too.
	copy(b[cloneOff:], []byte{
		0x0f, 0x05, // syscall (clone)
		0x48, 0x85, 0xc0, // test rax,rax
		0x74, 0x01, // jz child
		0xcc,                          // int3
		0xb8, unix.SYS_PAUSE, 0, 0, 0, // child: mov eax,SYS_pause
		0x0f, 0x05, // syscall
		0xeb, 0xf7, // jmp child
	})
	prog := seccompFilter()
	le.PutUint16(b[fprogOff:], uint16(len(prog)))    // sock_fprog.len
	le.PutUint64(b[fprogOff+8:], StubBase+filterOff) // sock_fprog.filter
	for i, in := range prog {
		o := filterOff + 8*i
		le.PutUint16(b[o:], in.code)
		b[o+2] = in.jt
		b[o+3] = in.jf
		le.PutUint32(b[o+4:], in.k)
	}
	return b
}
