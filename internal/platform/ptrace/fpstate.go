package ptrace

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// ntX86Xstate is the regset of the XSAVE area (standard format, with the
// software-reserved bytes of the FXSAVE header filled in by Linux).
const ntX86Xstate = 0x202

// FPState implements platform.Thread: the stub thread's XSAVE image.
func (t *thread) FPState() ([]byte, error) {
	buf := make([]byte, 16<<10)
	iov := unix.Iovec{Base: &buf[0], Len: uint64(len(buf))}
	if err := ptracePtr(unix.PTRACE_GETREGSET, t.tid, ntX86Xstate, unsafe.Pointer(&iov)); err != nil {
		return nil, err
	}
	return buf[:iov.Len], nil
}

// SetFPState implements platform.Thread. b must be a whole XSAVE image of
// the size FPState returns; Linux checks its header.
func (t *thread) SetFPState(b []byte) error {
	if len(b) == 0 {
		return unix.EINVAL
	}
	iov := unix.Iovec{Base: &b[0], Len: uint64(len(b))}
	return ptracePtr(unix.PTRACE_SETREGSET, t.tid, ntX86Xstate, unsafe.Pointer(&iov))
}
