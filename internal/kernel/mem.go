package kernel

// Guest memory access for syscall handlers, through this task's address
// space and stub thread.

// CopyIn reads guest memory.
func (t *Task) CopyIn(addr uint64, b []byte) error { return t.mm.CopyIn(t.thread, addr, b) }

// CopyOut writes guest memory.
func (t *Task) CopyOut(addr uint64, b []byte) error { return t.mm.CopyOut(t.thread, addr, b) }

// ReadString reads a NUL-terminated string of at most max bytes.
func (t *Task) ReadString(addr uint64, max int) (string, error) {
	return t.mm.ReadString(t.thread, addr, max)
}
