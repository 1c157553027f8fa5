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
// before Task.mu before sharedPending.mu (a leaf); mm, vfs and memfile
// locks are taken after all of these.
//
// Signals and wake-ups. A thread-directed signal (tgkill, faults, a
// thread's timer) is pending in Task.pending; a process-directed one
// (kill, alarm, process timers, job control, SIGCHLD) in the process's
// ThreadGroup.shared, from which any thread that does not block it (or
// sigtimedwaits for it) takes it. Every wait of a task sleeps on t.intr
// (a one-token channel) and re-checks Interrupted() (own or shared
// signals its mask lets through, or exiting) after each token, before
// trusting it; the sender queues the signal first, then puts the token
// and interrupts the stub thread (Task.wake), so a wait either sees the
// signal in its check or receives the token. A process-directed signal
// wakes one thread that wants it, judged under that thread's Task.mu
// after the signal is queued; a thread that stops wanting process
// signals (SetSigMask blocks them, its sigtimedwait ends, it exits)
// wakes the others afterwards (retargetShared), so a signal is never
// left pending with only a thread that cannot take it awake. A guest
// running on the host is stopped by a SIGCHLD to its stub thread; one
// that arrives during an injected host syscall is remembered by the
// platform thread and reported by the next Switch; a new task looks at
// its signals before its first Switch.
package kernel
