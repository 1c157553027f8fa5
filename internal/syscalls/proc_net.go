package syscalls

import (
	"glassbox/internal/fs/procfs"
	"glassbox/internal/fs/synth"
	"glassbox/internal/kernel"
	"glassbox/internal/vfs"
)

// ProcNetDir is /proc/PID/net (procfs.NetDir) for the process whose
// thread is task: the sockets and interfaces of its network namespace,
// and the sandbox's AF_UNIX sockets. Each file is rendered when opened.
// Linux: net/core/net-procfs.c, net/ipv4/proc.c and the tables' seq files
func ProcNetDir(task vfs.Ctx) vfs.Inode {
	t, ok := task.(*kernel.Task)
	if !ok {
		return nil
	}
	st := inetStack(t)
	un := unixNS(t)
	gen := func(f func() []byte) vfs.Inode {
		return synth.NewFile(procfs.Dev, func(vfs.Ctx) ([]byte, error) { return f(), nil })
	}
	return synth.Static(procfs.Dev, 0o555, map[string]vfs.Inode{
		"tcp":      gen(func() []byte { return st.ProcTCP(false) }),
		"tcp6":     gen(func() []byte { return st.ProcTCP(true) }),
		"udp":      gen(func() []byte { return st.ProcUDP(false, false) }),
		"udp6":     gen(func() []byte { return st.ProcUDP(true, false) }),
		"udplite":  gen(func() []byte { return st.ProcUDP(false, true) }),
		"udplite6": gen(func() []byte { return st.ProcUDP(true, true) }),
		"unix":     gen(un.Proc),
		"dev":      gen(st.ProcDev),
		"route":    gen(st.ProcRoute),
		"if_inet6": gen(st.ProcIfInet6),
	})
}
