// Package kernel holds glassbox' process model: tasks (guest threads),
// thread groups (processes), pids, the run loop that turns platform events
// into syscalls, fault handling and signals, execve, exit and wait.
//
// Each task runs on its own goroutine, locked to its OS thread for life (the
// ptrace platform requires the tracer thread to stay the same). Syscall
// handlers live in internal/syscalls and are reached through a Table the
// kernel is given; the kernel never imports them.
//
// Lock order: Kernel.mu (pid table, process tree) before ThreadGroup.mu
// before Task.mu; mm, vfs and memfile locks are taken after all of these.
package kernel
