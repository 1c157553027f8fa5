package abi

import "golang.org/x/sys/unix"

// Kernel-internal errno values that never reach a guest unmodified.
// Linux: include/linux/errno.h
const (
	ERESTARTSYS           = unix.Errno(512)
	ERESTARTNOINTR        = unix.Errno(513)
	ERESTARTNOHAND        = unix.Errno(514)
	ERESTART_RESTARTBLOCK = unix.Errno(516)
)

// ptrace requests and options missing from x/sys/unix.
const (
	PTRACE_SYSEMU            = 31
	PTRACE_SYSEMU_SINGLESTEP = 32
)

// Auxiliary vector keys. Linux: include/uapi/linux/auxvec.h
const (
	AT_NULL          = 0
	AT_IGNORE        = 1
	AT_EXECFD        = 2
	AT_PHDR          = 3
	AT_PHENT         = 4
	AT_PHNUM         = 5
	AT_PAGESZ        = 6
	AT_BASE          = 7
	AT_FLAGS         = 8
	AT_ENTRY         = 9
	AT_NOTELF        = 10
	AT_UID           = 11
	AT_EUID          = 12
	AT_GID           = 13
	AT_EGID          = 14
	AT_PLATFORM      = 15
	AT_HWCAP         = 16
	AT_CLKTCK        = 17
	AT_SECURE        = 23
	AT_BASE_PLATFORM = 24
	AT_RANDOM        = 25
	AT_HWCAP2        = 26
	AT_EXECFN        = 31
	AT_SYSINFO_EHDR  = 33
	AT_MINSIGSTKSZ   = 51
)

// Page geometry.
const (
	PageSize  = 4096
	PageShift = 12
	PageMask  = PageSize - 1
)

// TaskSizeMax is where access_ok's user address space ends (x86-64,
// 4-level paging). Linux: arch/x86/include/asm/page_64_types.h
const TaskSizeMax = 1<<47 - PageSize

// PageDown rounds a down to a page boundary.
func PageDown(a uint64) uint64 { return a &^ PageMask }

// PageUp rounds a up to a page boundary; ok is false on overflow.
func PageUp(a uint64) (uint64, bool) {
	r := (a + PageMask) &^ PageMask
	return r, r >= a
}

// Clock ticks per second reported by times() and AT_CLKTCK.
const ClockTicks = 100

// FUTEX operations (x/sys lacks them).
const (
	FUTEX_WAIT             = 0
	FUTEX_WAKE             = 1
	FUTEX_PRIVATE_FLAG     = 128
	FUTEX_CLOCK_REALTIME   = 256
	FUTEX_CMD_MASK         = ^(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME)
	FUTEX_WAIT_BITSET      = 9
	FUTEX_WAKE_BITSET      = 10
	FUTEX_REQUEUE          = 3
	FUTEX_CMP_REQUEUE      = 4
	FUTEX_WAKE_OP          = 5
	FUTEX_LOCK_PI          = 6
	FUTEX_UNLOCK_PI        = 7
	FUTEX_TRYLOCK_PI       = 8
	FUTEX_BITSET_MATCH_ANY = 0xffffffff
)

// x86-64 user segment selectors. Linux: arch/x86/include/asm/segment.h
const (
	UserCS = 0x33
	UserDS = 0x2b
)
