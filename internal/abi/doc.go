// Package abi holds the numbers and structure layouts of the Linux x86-64
// ABI that glassbox speaks to its guests: syscall numbers and names, errno
// values (including the kernel-internal restart codes), auxv keys, signal
// numbers and names, and byte encoders for the structures syscalls copy out
// (stat, statx, timespec, rlimit, utsname...).
//
// It imports nothing of glassbox and holds no state, so every other package
// may use it. Where golang.org/x/sys/unix already has a constant with the
// same meaning, glassbox uses that one; abi adds what unix lacks.
package abi
