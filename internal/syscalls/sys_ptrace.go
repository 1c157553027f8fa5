package syscalls

import (
	"golang.org/x/sys/unix"

	"glassbox/internal/kernel"
)

func init() {
	// ptrace(request, pid, addr, data); glibc's PEEK wrappers pass a
	// pointer for the word in data, which the raw call fills in.
	// Linux: kernel/ptrace.c
	reg(unix.SYS_PTRACE, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		pid := a.Int(1)
		if pid > 0 {
			pid = t.KPID(pid) // the tracer's PID namespace
		}
		return t.Ptrace(int(int64(a[0])), pid, a[2], a[3])
	}, "debug registers only on the ptrace platform")
}
