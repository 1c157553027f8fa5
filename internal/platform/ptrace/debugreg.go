package ptrace

import "golang.org/x/sys/unix"

// offDebugReg is offsetof(struct user, u_debugreg) on x86-64.
const offDebugReg = 848

// DebugReg implements platform.DebugRegs: the host keeps the stub
// thread's debug registers (and its virtual DR6) for us.
func (t *thread) DebugReg(i int) (uint64, error) {
	return peekUser(t.tid, offDebugReg+uintptr(i)*8)
}

// SetDebugReg implements platform.DebugRegs; the host validates the
// value as it would for its own tracee (EINVAL, EIO). The host's user
// space reaches higher than the guest's, so glassbox first refuses what
// would watch its own pages above the guest's TASK_SIZE (StubBase), as
// Linux refuses a kernel address: EINVAL.
// Linux: arch/x86/kernel/hw_breakpoint.c (arch_check_bp_in_kernelspace)
func (t *thread) SetDebugReg(i int, v uint64) error {
	switch {
	case i < 4 && v >= StubBase:
		return unix.EINVAL
	case i == 7:
		for n := 0; n < 4; n++ {
			if v&(3<<(2*n)) == 0 {
				continue
			}
			addr, err := peekUser(t.tid, offDebugReg+uintptr(n)*8)
			if err != nil {
				return err
			}
			if addr+drLen(v, n)-1 >= StubBase {
				return unix.EINVAL
			}
		}
	}
	return pokeUser(t.tid, offDebugReg+uintptr(i)*8, v)
}

// drLen is the length in bytes DR7 gives breakpoint n (LEN bits: 0 → 1,
// 1 → 2, 3 → 4, 2 → 8).
func drLen(dr7 uint64, n int) uint64 {
	return [4]uint64{1, 2, 8, 4}[dr7>>(18+4*n)&3]
}
