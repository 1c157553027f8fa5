// Package ptrace runs guest threads in stub processes under PTRACE_SYSEMU.
//
// A stub is a one-page static ELF that this package writes itself (see
// stub.go): `syscall; int3` at a fixed address, a seccomp filter and nothing
// else. It is exec'd from a memfd. After exec the tracer moves the host's
// vDSO (with its vvar pages) to a fixed address shared by every stub, unmaps
// the stub's stack, and installs a seccomp filter that kills the stub on any
// host syscall not issued from the stub's own syscall instruction or not in
// a short allow-list (mmap, munmap, mprotect, madvise, mremap, exit; clone
// and pause only at the clone site, where a new thread sleeps until its
// tracer attaches).
// Guest syscalls never reach that filter: PTRACE_SYSEMU stops them before
// the host runs them. Guest memory exists only in the memory file; the stub
// maps pieces of it (fd 0 in the stub) when the kernel asks.
//
// One guest thread = one stub thread = one goroutine locked to its OS
// thread, which is the stub thread's tracer. Every ptrace request for a stub
// thread comes from that OS thread.
//
// Locks: process.mu guards the thread count of a stub process; nothing else
// is shared between goroutines except through atomic fields.
package ptrace
