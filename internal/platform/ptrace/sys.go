package ptrace

import (
	"unsafe"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
)

// ptrace and wait4 wrappers. Both go through Syscall, which tells the Go
// runtime the thread is in the kernel: wait4 blocks for as long as the
// guest runs, and a ptrace request, though usually short, can wait in the
// host kernel too (for a tracee to leave the CPU, or while its process
// exits). A raw call there holds its P, and garbage collection (which
// stops every P) with it: the whole sandbox stood still while one guest
// thread's stub was being torn down (the syscall fuzzer, seed 65). The
// hand-off costs a fraction of a microsecond against the tens a trap costs.

func ptrace(req int, tid int, addr, data uintptr) error {
	for {
		_, _, e := unix.Syscall6(unix.SYS_PTRACE, uintptr(req), uintptr(tid), addr, data, 0, 0)
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return e
		}
		return nil
	}
}

// ptracePtr is ptrace with data pointing at Go memory. The pointer stays an
// unsafe.Pointer until the syscall itself: turned into a uintptr any
// earlier, it would not be updated when the goroutine's stack moves (the
// stack grows at any call), and the kernel would read or write the old
// stack — which once made PEEKUSR report 0 for an mmap that had worked.
func ptracePtr(req int, tid int, addr uintptr, data unsafe.Pointer) error {
	for {
		_, _, e := unix.Syscall6(unix.SYS_PTRACE, uintptr(req), uintptr(tid), addr, uintptr(data), 0, 0)
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return e
		}
		return nil
	}
}

func getRegs(tid int, r *unix.PtraceRegs) error {
	return ptracePtr(unix.PTRACE_GETREGS, tid, 0, unsafe.Pointer(r))
}

func setRegs(tid int, r *unix.PtraceRegs) error {
	return ptracePtr(unix.PTRACE_SETREGS, tid, 0, unsafe.Pointer(r))
}

// Offsets in struct user_regs_struct, for PEEKUSER/POKEUSER.
const (
	offRax = 10 * 8
)

func pokeUser(tid int, off uintptr, val uint64) error {
	return ptrace(unix.PTRACE_POKEUSR, tid, off, uintptr(val))
}

func peekUser(tid int, off uintptr) (uint64, error) {
	var v uint64
	// PTRACE_PEEKUSR via the raw syscall stores the word at *data.
	err := ptracePtr(unix.PTRACE_PEEKUSR, tid, off, unsafe.Pointer(&v))
	return v, err
}

// siginfo is the prefix of siginfo_t glassbox reads from a stop.
type siginfo struct {
	Signo int32
	Errno int32
	Code  int32
	_     int32
	Addr  uint64 // si_addr for faults; si_pid|si_uid for kill
	_     [112]byte
}

func getSiginfo(tid int, si *siginfo) error {
	return ptracePtr(unix.PTRACE_GETSIGINFO, tid, 0, unsafe.Pointer(si))
}

func resume(req int, tid int, sig int) error {
	return ptrace(req, tid, 0, uintptr(sig))
}

func sysemu(tid int, sig int) error { return resume(abi.PTRACE_SYSEMU, tid, sig) }

// wait blocks until tid changes state and returns the wait status.
func wait(tid int) (unix.WaitStatus, error) {
	var ws unix.WaitStatus
	for {
		_, _, e := unix.Syscall6(unix.SYS_WAIT4, uintptr(tid), uintptr(unsafe.Pointer(&ws)), unix.WALL, 0, 0, 0)
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return 0, e
		}
		return ws, nil
	}
}
