// Package seccomp runs guest threads in stub processes that trap every
// guest syscall through a seccomp filter (SECCOMP_RET_TRAP) into a signal
// handler of the stub's own, which hands the trap to glassbox over memory
// the two share. No ptrace is involved at any point.
//
// # A stub process
//
// The stub is a one-page static ELF that stub.go assembles (asm.go is the
// assembler; filter.go builds the seccomp programs from the addresses of
// the stub's syscall sites). glassbox fork+execs it with five descriptors:
// the memory file (fd 0), one end of a datagram socket pair (fd 1: host
// files arrive there), the write end of a result pipe (fd 2), the write
// end of a death pipe (fd 3) and a control memfd (fd 4). The stub's
// first thread sets the process up from its own code — maps the control
// memfd (its first part read-only: the command page, which also holds the
// filters' programs; the rest read-write: one slot per guest thread),
// moves the host's vDSO pieces to the address the ptrace platform uses
// too, drops its stack, closes every descriptor from fd 4 up (those it
// inherited from glassbox without close-on-exec too), installs the
// handler for the trap signals, installs the base filter — and then
// becomes the syscall thread: it never runs guest code, and serves
// glassbox' commands (mmap, with or without MAP_POPULATE, munmap,
// mprotect of the memory file; clone of a guest thread; receiving a host
// file and mapping it private and never writable, hostfile.go)
// posted on the read-only command page, keeping its state in registers
// only. Each result is one byte, taken from a read-only table, written to
// the result pipe; a failed mapping change kills the stub (mm's record of
// the host mappings would be wrong).
//
// A guest thread is cloned by the syscall thread, sets its signal stack to
// its slot, adds the guest filter (everything but the handler's futex,
// rt_sigreturn and exit traps) and makes a "ready" syscall that traps. From
// then on every guest syscall, fault (SIGSEGV, SIGBUS, SIGFPE, SIGILL,
// SIGTRAP) and interrupt (SIGUSR2 from glassbox) enters the handler on the
// slot's stack with every signal blocked. The handler stores the frame's
// address and fs/gs bases in the slot header, sets the slot's state word to
// trapped, and waits for resume; glassbox reads the registers from the
// frame's mcontext, the FP/AVX state from its XSAVE area, writes back what
// the kernel wants (the syscall result, a signal frame's registers, a new
// image) and sets resume; the handler returns with rt_sigreturn.
//
// # Patched syscall sites
//
// With EnablePatching, Layout's Patch lets mm replace a trapping
// `mov $nr,%eax; syscall` with a jump to a trampoline in a low region
// that enters p_entry in the stub (patch.go). p_entry finds the slot
// through gs_base (a guest thread whose own gs_base is 0 runs with its
// slot there; readFrame and writeFrame translate), stores the registers
// and XSAVE state into a frame laid out like a signal frame and joins the
// handler's hand-off without any signal: glassbox sees a SIGSYS frame as
// before, and p_resume returns what glassbox wrote. An interrupt that
// finds a thread in that code is dropped by the handler (the thread is
// reaching glassbox anyway, or leaving it), and glassbox sends it again
// every 5 ms while it waits. What needs a real frame (a guest gs_base, a
// trap flag, a new rip outside the guest's half) goes through a ud2 the
// handler takes.
//
// # Hand-off
//
// The slot's state word is a shared futex. Each side flags itself as a
// sleeper before it sleeps, so the other side makes the wake syscall only
// when someone sleeps. While a process has one thread, the mapping
// changes glassbox makes between a trap and the resume are queued on the
// command page and the syscall thread makes them and resumes the thread
// itself (queue.go): the word goes through stQueued, and glassbox waits
// with a futex bitset of its own so that the syscall thread's wake of the
// handler leaves it asleep. By default each guest thread's stub thread runs on
// the CPU of the glassbox OS thread that serves it: on these machines a
// futex hand-off on one CPU costs far less than a wake-up across CPUs.
// New pairs take the CPUs in turn, except a vfork child's thread and an
// exec's new address space (platform.Placer), which run instead of the
// thread that asks and take its CPU: the child's clone and first trap
// need no move of the syscall thread or wake-up across CPUs. Spin mode (spin.go) moves a pair onto two CPUs with both sides polling,
// while measured hand-off latencies (TSC stamps in the slot header) show
// that it at least halves their cost, and for at most ncpu/2 pairs.
//
// # Debug registers
//
// A guest thread's DR0-DR3, DR6 and DR7 (PTRACE_PEEKUSER/POKEUSER) are
// virtual, checked as Linux checks a tracee's (debugreg.go). Each enabled
// breakpoint is a host perf hardware breakpoint on the stub thread that
// sends it a synchronous SIGTRAP (TRAP_PERF); the handler traps it like
// any fault and readFrame reports SIGTRAP TRAP_HWBKPT with DR6 set. The
// guest cannot make perf events itself, and its breakpoints lie below
// TASK_SIZE, away from the stub's pages.
//
// # Containment
//
// Everything a guest thread can write — its slot, its frame, the state
// word, the other slots of its process — glassbox reads once, validates
// (the frame must lie in the slot, the XSAVE header must be one Linux
// accepts) and treats as the guest's registers. A state word with a value
// neither side writes costs the guest its stub. The guest can call the
// handler or any stub code, but its filter traps every syscall except the
// handler's futex, rt_sigreturn and exit: the only host calls it can make
// change its own thread. It cannot write the command page, make the syscall
// thread replay a command (the last sequence number lives in a register),
// or forge a result (it cannot write to a pipe); the queued changes and
// the word the syscall thread resumes after them lie on that page too. The host-file receive
// area is the one part of the syscall thread's work the guest can write:
// hostfile.go says why that changes nothing but whether the receive
// works. A foreign architecture's
// syscall kills the stub. The patched-call code makes no host call of its
// own (its hand-off uses the handler's sites); a guest that enters it with
// forged registers, gs_base or frame makes a syscall of its choosing,
// waits on a word of its own process, or faults in the stub's code and
// loses its stub (patch_test.go).
//
// # Locks
//
// process.cmdMu serialises commands (and guards seq, sysCPU, the queued
// mapping changes, the count of results not read yet, the host files'
// record and the socket's queue: a datagram is sent and received under
// one hold); process.mu guards the slot table, the thread count and the
// control pages' being mapped (unmapped, set as they are unmapped at the
// later of kill and the reaping; killed and reaped): a write to a slot's
// words once its thread has been counted out (Release's exit word,
// markDead) is made under mu and only while they are mapped, since the
// last thread's Release may kill the stub, and its reaping unmap them, on
// another goroutine at any moment; process.sigMu orders signals (and
// affinity changes) to the stub's threads before its reaping (after it,
// the pid may belong to another process). The last thread's Release
// (kill) moves the stub's threads off its CPU, sends SIGKILL and does not
// wait for the stub's end: the goroutine that reads the death pipe reaps
// the stub at the pipe's end of file and then unmaps the control pages
// and closes glassbox' descriptors of it (kill does, for a stub reaped
// before it), and Platform.Close waits until every stub the platform made
// is reaped. cmdMu is never held with mu or sigMu except that a failed
// command signals the stub under cmdMu; mu and sigMu are leaves. thread's
// fields (its debug registers among them) are its owner goroutine's,
// except running and intr (atomics shared with
// Interrupt). The spin tokens are an atomic counter:
// a pair takes one before it moves its stub thread and gives it back when
// it leaves spin mode, is released or loses its stub.
package seccomp
