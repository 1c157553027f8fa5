// Package syscalls is the x86-64 syscall table: one sys_<area>.go per area,
// each registering its handlers in init. Handlers are thin: decode the
// arguments, call kernel, vfs or mm, encode the result. format.go renders
// arguments for --trace.
//
// The package holds no state of its own and takes no locks.
package syscalls
