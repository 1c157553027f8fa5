package ptrace

// offDebugReg is offsetof(struct user, u_debugreg) on x86-64.
const offDebugReg = 848

// DebugReg implements platform.DebugRegs: the host keeps the stub
// thread's debug registers (and its virtual DR6) for us.
func (t *thread) DebugReg(i int) (uint64, error) {
	return peekUser(t.tid, offDebugReg+uintptr(i)*8)
}

// SetDebugReg implements platform.DebugRegs; the host validates the
// value as it would for its own tracee (EINVAL, EIO).
func (t *thread) SetDebugReg(i int, v uint64) error {
	return pokeUser(t.tid, offDebugReg+uintptr(i)*8, v)
}
