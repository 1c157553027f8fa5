package seccomp

// rdtsc reads the time-stamp counter, the clock the stub's handler stamps
// its hand-offs with (spin.go).
func rdtsc() uint64
