//go:build !amd64

package seccomp

// rdtsc has no counter off x86-64 (the platform needs x86-64 anyway).
func rdtsc() uint64 { return 0 }
