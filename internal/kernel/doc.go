// Package kernel holds glassbox' process model: tasks (guest threads),
// thread groups (processes), pids, the run loop that turns platform events
// into syscalls, fault handling and signals, execve, exit and wait.
//
// Each task runs on its own goroutine, locked to its OS thread for life (the
// ptrace platform requires the tracer thread to stay the same). Syscall
// handlers live in internal/syscalls and are reached through a Table the
// kernel is given; the kernel never imports them.
//
// # Task life under concurrency
//
//   - A task's thread and address space (Task.thread, Task.mm) are changed
//     only by the task's own goroutine, under Task.mu; other goroutines read
//     them under Task.mu (memShared, wake).
//
//   - A task has credentials from its allocation (its creator's), before
//     it is in the pid table: other tasks read any task's credentials
//     (kill's permission, RLIMIT_NPROC's count) under its Task.mu, never
//     nil. Credentials are replaced whole (setCreds), never changed in
//     place, so the creator's may be shared.
//
//   - Threads are added to a process only by newThreadTask, which adds the
//     task to ThreadGroup.tasks under ThreadGroup.mu and only if its creator
//     is not being told to exit: a thread exists for exit_group and
//     de_thread, or not at all.
//
//   - Telling a task to exit (exit_group, de_thread, SIGKILL) sets its
//     exiting flag under its Task.mu and then wakes it: a token on intr for
//     a wait in the kernel, and the platform's Interrupt for guest code. No
//     wake is lost: a task checks its signals before the first instruction
//     it runs, the platform reports an Interrupt that arrived while the
//     thread was busy with an injected host call on the next Switch, and a
//     wait selects on intr (a futex wait, or a wait on the task's
//     vfs.Sleeper, parks its OS thread instead, and every token also
//     unparks it: park.go; a Sleeper is armed before the wait looks at
//     Interrupted). Only the task's own goroutine parks; anyone may
//     unpark it (an atomic add, and a host futex wake if it is parked).
//
//   - Process-directed signals wait in the process's shared queue
//     (sigqueue.go) until a thread that does not block them (or waits for
//     them in sigtimedwait) takes one; the sender wakes one such thread,
//     and a thread that blocks more signals or exits wakes another one in
//     its place, so a shared signal is never stranded on a thread that
//     will not take it.
//
//   - execve (de_thread): the exec'ing task marks every other thread of its
//     process exiting under ThreadGroup.mu — unless it was itself told to
//     exit first, in which case its exec ends — releases its old platform
//     thread and address space, and waits until the others have finished
//     (Task.done), so that no other thread runs a guest instruction or a
//     system call after execve returns.
//
//   - An address space is released when its last task drops it (after that
//     task released its platform thread); its frames are then no longer
//     mapped by any stub (see internal/mm's invariants). With
//     Config.ExitFreesMemory the first process's, when its exit ends the
//     sandbox, is not released: its frames stay for the host's exit.
//
//   - A process the host starts (hostproc.go: the first one, or a further
//     one for Sandbox.Exec) has no parent inside; its ThreadGroup.hostDone
//     is closed under Kernel.mu when it becomes a zombie, after its status
//     is final, so a host waiter reads the status without a lock race.
//
//   - ptrace (ptrace.go): the link between tracer and tracee, the stop
//     in progress and how the tracer resumes it are guarded by
//     Kernel.mu; a stopped tracee's registers and platform thread are
//     touched only by its own goroutine, which runs the tracer's
//     requests while it waits in ptraceStop.
//
// Lock order: Kernel.mu (pid table, process tree) before ThreadGroup.mu
// before Task.mu before sharedSignals.mu (a leaf); mm, vfs and memfile
// locks are taken after all of these. Namespaces (ns.go): a task's set
// (Task.nsp) is replaced whole, only by the task itself, never changed in
// place; pidNS.mu, utsNames.mu and userns.NS.mu are leaves, and pidNS.mu
// may be taken under Kernel.mu (pidReaperLocked) and ThreadGroup.mu
// (assignPIDs for a new thread). pivot_root takes Kernel.mu, then each
// ThreadGroup.mu, then FSContext.mu. Taking a signal (under Task.mu)
// re-arms the timer that sent it, so the timers' locks come after
// Task.mu: ptimers.mu before ptimer.mu, and realTimer.mu; a timer sends
// its signal only after releasing its own lock. Kernel.sigChargeMu (the
// per-user counts of queued signals, sigqueue.go) is a leaf; the counts
// themselves are atomic, changed when an instance is queued or taken
// under the queue's lock (Task.mu or sharedSignals.mu). A task's own
// queue is flushed, and closed to new signals (Task.sigReleased, under
// Task.mu), when the task ends; its process's shared queue likewise
// (sharedSignals.released) when the last task ends.
package kernel
