// Package platform is the seam between glassbox' kernel and the machine that
// runs guest instructions. A Thread runs one guest thread's registers until
// something needs the kernel (a syscall, a fault, a synchronous signal, an
// interrupt) and maps pieces of the memory file into its address space.
//
// Implementations: platform/ptrace (PTRACE_SYSEMU) and platform/seccomp
// (seccomp traps into a handler in the stub). Nothing here imports
// other glassbox packages except abi.
//
// Threading rule: every method of a Thread except Interrupt must be called
// from the goroutine that created it (which holds its OS thread locked for
// life); Interrupt may be called from anywhere.
package platform

import (
	"errors"

	"golang.org/x/sys/unix"
)

// ErrGuest marks (errors.Is) a Switch error the guest caused itself — on
// the seccomp platform, by writing over its own stub's shared pages or
// jumping into the stub's code — rather than a failure of glassbox or the
// host. The thread is lost either way; the kernel kills the guest's
// process and says why only when verbose.
var ErrGuest = errors.New("the guest broke its own stub")

// Regs is the x86-64 general register file as ptrace sees it (including
// orig_rax, fs_base and gs_base).
type Regs = unix.PtraceRegs

// EventKind says why Switch returned.
type EventKind int

const (
	// EventSyscall: the guest executed a syscall instruction; the number is
	// in Regs.Orig_rax and arguments in rdi, rsi, rdx, r10, r8, r9. Set
	// Regs.Rax to the result before the next Switch.
	EventSyscall EventKind = iota
	// EventFault: a page fault the host could not satisfy. Addr is the
	// faulting address and Code is SEGV_MAPERR (nothing mapped on the host)
	// or SEGV_ACCERR (mapped, but the protection forbids the access).
	EventFault
	// EventSignal: a synchronous signal raised by a guest instruction
	// (SIGILL, SIGFPE, SIGTRAP, SIGBUS, or SIGSEGV not caused by a page
	// fault, such as a general protection fault). Signo, Code and Addr
	// carry the host's siginfo.
	EventSignal
	// EventInterrupt: Interrupt was called (or a stray host signal arrived).
	EventInterrupt
)

func (k EventKind) String() string {
	switch k {
	case EventSyscall:
		return "syscall"
	case EventFault:
		return "fault"
	case EventSignal:
		return "signal"
	case EventInterrupt:
		return "interrupt"
	}
	return "unknown"
}

// Event is what Switch reports.
type Event struct {
	Kind  EventKind
	Signo int
	Code  int
	Addr  uint64
	// Write is set for an EventFault the host says was a write (the
	// seccomp platform reads the page-fault error code; ptrace cannot).
	Write bool
	// Patched is set for an EventSyscall that came through a patched
	// site (PatchSpec) rather than a trap.
	Patched bool
}

// Mapper changes what the host maps into a guest address space. Offsets are
// offsets into the memory file; prot is PROT_READ|PROT_WRITE|PROT_EXEC.
type Mapper interface {
	Map(addr, length uint64, prot int, fileOffset uint64) error
	Unmap(addr, length uint64) error
	Protect(addr, length uint64, prot int) error
}

// PopulateMapper is a Mapper that can also have the host fill in its page
// tables for the whole run in the mapping call itself (MAP_POPULATE), for
// pages the guest is about to touch: the host then takes no fault on each
// page's first touch. Where a platform lacks it, mm maps with Map.
type PopulateMapper interface {
	MapPopulate(addr, length uint64, prot int, fileOffset uint64) error
}

// Thread runs one guest thread.
type Thread interface {
	Mapper
	// Switch loads regs into the guest thread, runs it until the next event
	// and stores the guest's registers back into regs.
	Switch(regs *Regs) (Event, error)
	// Interrupt makes a running Switch return EventInterrupt soon. Safe to
	// call from any goroutine, at any time.
	Interrupt()
	// Release ends the guest thread. When the last thread of an address
	// space is released, the address space is destroyed.
	Release()
	// FPState returns the thread's floating-point/vector state as an
	// XSAVE image (standard format); SetFPState loads one back (same size).
	FPState() ([]byte, error)
	SetFPState(b []byte) error
	// NewThread creates another thread in the same address space. It is
	// called on this thread's goroutine; the starter's Start must then be
	// called on the goroutine (locked to its OS thread for life) that will
	// run the new thread.
	NewThread() (ThreadStarter, error)
	// ID is a short host-side identity for diagnostics (the stub tid).
	ID() int
}

// ThreadStarter finishes creating a thread on its own goroutine.
type ThreadStarter interface {
	Start() (Thread, error)
}

// Platform creates address spaces.
type Platform interface {
	// NewAddressSpace creates an empty address space holding one thread.
	// The caller's goroutine must be locked to its OS thread for life and
	// is the only one that may use the returned Thread.
	NewAddressSpace() (Thread, error)
	// Layout describes the fixed part of every address space. The
	// kernel asks before NewAddressSpace, to load an exec's program
	// meanwhile: a zero TaskSize says the layout is not known yet (it is
	// learned from the first address space), and a layout that differs
	// once NewAddressSpace has returned makes the kernel load again.
	Layout() Layout
}

// Piece is one fixed mapping the platform places in every address space.
type Piece struct {
	Start, End uint64
	Prot       int
	Name       string // "[vdso]", "[vvar]", "[stub]"...
	// Data, when known, is the piece's content as the guest reads it (the
	// vDSO image), so the kernel can read guest pointers into it.
	Data []byte
}

// Layout is the fixed part of every guest address space.
type Layout struct {
	// TaskSize is the first address the guest may not map: guest mappings
	// live in [mmap_min_addr, TaskSize).
	TaskSize uint64
	// VDSO is the address of the vDSO ELF image, or 0 if none.
	VDSO uint64
	// Pieces lists the fixed mappings above TaskSize (vdso, vvar, stub code).
	Pieces []Piece
	// Patch, when set, says that the platform runs patched syscall sites
	// (mm/patch.go) and where their region goes; nil: no patching.
	Patch *PatchSpec
}

// PatchSpec describes the region a platform needs for patched syscall
// sites: a 5-byte instruction and a syscall (`mov $nr,%eax`, b8 imm32, or
// `mov 8(%rsp),%r9`, 4c 8b 4c 24 08; then 0f 05) replaced with a 7-byte
// jump into platform code that runs the instruction and hands the call
// over without a trap. The
// region lies in the guest's half below 2 GiB; the kernel backs it with
// memory-file pages of its own (never a guest VMA), maps it read-only and
// executable, and gives each site one entry, never reused. After the
// patch, a SIGILL at the site's old syscall instruction (site+5) and a
// trap on a site's trampoline are that site's syscall.
type PatchSpec struct {
	Base, Size uint64 // page-aligned
	// Sites: entries 1 .. Sites-1 are usable.
	Sites int
	// Init fills a new region (Size zeroed bytes).
	Init func(region []byte)
	// Site fills entry k of region for a site whose syscall instruction
	// follows insn and returns to ret, and returns the 7 bytes that
	// replace the site.
	Site func(region []byte, k int, insn [5]byte, ret uint64) [7]byte
	// Trampoline returns the entry whose trampoline starts at addr, or 0.
	Trampoline func(addr uint64) int
}

// HandOffStats counts how a platform's hand-offs between a guest thread
// and the thread serving it went, for --stats.
type HandOffStats struct {
	// HandOffs is every trap handed over; Spun those made while the pair
	// polled on two CPUs instead of sleeping.
	HandOffs, Spun uint64
	// Probes counts tries of spinning, Kept those that paid off, and
	// Refused the tries not made because the host was busy.
	Probes, Kept, Refused uint64
}

// Placer is implemented by threads whose platform places each thread on a
// CPU. The kernel uses it where a new thread runs instead of this one
// rather than beside it, so that it may take this thread's CPU:
// NewThreadInPlace is NewThread for a vfork child (this thread waits
// until the child execs or exits), ReplacementSpace is
// Platform.NewAddressSpace for this thread's exec (which lets go of this
// thread once it succeeds).
type Placer interface {
	NewThreadInPlace() (ThreadStarter, error)
	ReplacementSpace() (Thread, error)
}

// HandOffCounter is implemented by platforms that count their hand-offs.
type HandOffCounter interface {
	HandOffStats() HandOffStats
}

// DebugRegs is implemented by threads whose host honours the x86 debug
// registers for the guest (hardware breakpoints and watchpoints): DR0-DR3,
// DR6 and DR7 with the meaning and checks of ptrace's user area. A hit
// reports EventSignal SIGTRAP with code TRAP_HWBKPT; DR6 says which.
type DebugRegs interface {
	DebugReg(i int) (uint64, error)
	SetDebugReg(i int, v uint64) error
}
