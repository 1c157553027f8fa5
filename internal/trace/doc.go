// Package trace is glassbox' event stream: what the kernel did, as it did
// it (syscalls, page faults, copy-on-write copies, signals, process life,
// file descriptors). The kernel asks On(kind) before building an event, so
// with nobody listening the cost is one atomic load and no allocation.
//
// Sinks receive events synchronously on the emitting task's goroutine; a
// sink must be safe for concurrent use. Text renders strace-like lines.
//
// Lock order: Tracer.mu is a leaf.
package trace
