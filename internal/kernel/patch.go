package kernel

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/platform"
)

// Patched syscall sites (mm/patch.go, platform.PatchSpec): a syscall that
// trapped from a `mov $nr,%eax; syscall` is patched into a jump to the
// platform's trampoline, so that its next calls reach the kernel without
// a host signal. Every call still comes through doSyscall: tracing,
// seccomp, ptrace stops and --stats see each one.

// patchSite patches the site of the syscall that just trapped, when the
// platform offers patching.
func (t *Task) patchSite(ev platform.Event) {
	if ev.Patched {
		t.k.stats.patchedCalls.Add(1)
		return
	}
	m := t.mm
	if m == nil || m.Layout().Patch == nil {
		return
	}
	if m.PatchSite(t.thread, t.regs.Rip, t.regs.Orig_rax) {
		t.k.stats.patchedSites.Add(1)
	}
}

// patchedTrap turns a trap that a patched site caused (a SIGILL at the ud2
// where its syscall instruction was, a trap on its trampoline) into the
// syscall, with the registers the syscall instruction leaves.
func (t *Task) patchedTrap(ev platform.Event) bool {
	m := t.mm
	if m == nil || m.Layout().Patch == nil || ev.Signo != abi.SIGILL && ev.Signo != abi.SIGTRAP {
		return false
	}
	c, ok := m.PatchedTrap(t.regs.Rip, ev.Signo == abi.SIGILL)
	if !ok {
		return false
	}
	if c.Retry {
		t.regs.Rip = c.Ret
		t.retryInsn = true
		return true
	}
	if c.Insn {
		if c.LoadR9 {
			var b [8]byte
			if m.CopyIn(t.thread, t.regs.Rsp+8, b[:]) != nil {
				return false // the instruction's own fault, where it now runs
			}
			t.regs.R9 = binary.LittleEndian.Uint64(b[:])
		} else {
			t.regs.Rax = c.NR
		}
	}
	t.regs.Orig_rax = t.regs.Rax
	t.regs.Rax = encodeResult(0, unix.ENOSYS)
	t.regs.Rip, t.regs.Rcx = c.Ret, c.Ret
	t.regs.R11 = t.regs.Eflags
	return true
}
