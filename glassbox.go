package glassbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/bpf"
	"glassbox/internal/fs/devfs"
	"glassbox/internal/fs/hostfs"
	"glassbox/internal/fs/overlay"
	"glassbox/internal/fs/procfs"
	"glassbox/internal/fs/synth"
	"glassbox/internal/fs/tmpfs"
	"glassbox/internal/fs/tty"
	"glassbox/internal/ipc"
	"glassbox/internal/kernel"
	"glassbox/internal/memfile"
	"glassbox/internal/mm"
	"glassbox/internal/syscalls"
	"glassbox/internal/trace"
	"glassbox/internal/vfs"
)

// Config describes one sandbox run.
type Config struct {
	// Root is the host directory the guest sees as /; "" means the host's /.
	// The host directory is never written: the guest's changes live in an
	// in-memory layer over it (gone when the run ends).
	Root string
	// Env is the guest's environment ("K=V" strings).
	Env []string
	// Trace selects what to show while the guest runs: a comma-separated
	// list of kinds (syscall, fault, cow, signal, proc, fd, mem) or "all";
	// "" shows nothing.
	Trace string
	// TraceOut receives trace lines (default Stderr).
	TraceOut io.Writer
	// TraceFormat is "text" (default: strace-like lines) or "json" (one
	// JSON object per line).
	TraceFormat string
	// CountSyscalls fills ExitStatus.Syscalls with a per-syscall table.
	CountSyscalls bool
	// Stdin, Stdout and Stderr are lent to the guest as fds 0, 1 and 2
	// (default: this process's own).
	Stdin, Stdout, Stderr *os.File
	// Dir is the guest's working directory, a path inside the sandbox
	// ("" means /).
	Dir string
	// Log receives glassbox' own lines (default os.Stderr): its errors,
	// the dashboard's address, and with Verbose the diagnostics about the
	// guest's run (unsupported calls, OOM kills) as they happen.
	Log io.Writer
	// Verbose writes diagnostics to Log; without it they only show in
	// ExitStatus.Stats (Unsupported, OOMKills) and the trace.
	Verbose bool
	// UID and GID are the guest's first process's user and group ids
	// (default 0: root inside the sandbox, whoever runs glassbox).
	UID, GID uint32
	// Hostname is what uname reports (default "glassbox").
	Hostname string
	// Binds are host directories mounted inside (after /proc, /dev and
	// /tmp, so one may sit under /tmp).
	Binds []Bind
	// MemoryLimit bounds the memory file in bytes (default 64 GiB).
	MemoryLimit uint64
	// Memory bounds the guest's resident memory in bytes (0: half the
	// host's RAM). Everything the guest makes glassbox hold in the memory
	// file counts (anonymous pages, tmpfs and overlay data, file caches).
	// At the bound, pages go to swap if there is any, else the OOM killer
	// ends the largest process; file writes fail with ENOSPC.
	Memory uint64
	// Swap is the size in bytes of a swap area glassbox keeps in a host
	// temporary file (0: none). It needs Memory.
	Swap uint64
	// ExitAfterWait says the caller's process exits as soon as Wait has
	// returned (the CLI's does). Wait then leaves to that exit what the
	// host gives back at a process's exit anyway and nothing else needs:
	// the memory file's mapping and descriptor, the file systems' host
	// descriptors, and the frames of the first process's address space
	// (so LeakedFrames counts those). Everything else is as without it:
	// every guest process has ended, the binds are synced, and every stub
	// is dead and reaped when Wait returns.
	ExitAfterWait bool

	synced []*hostfs.FS // writable binds, synced after the run
	// closers end what the sandbox runs or holds on the host (the
	// platform's stubs), last first, once the guest is gone; then
	// exitFreed give back what a process's exit gives back too (host
	// descriptors, the memory file's mapping), unless ExitAfterWait.
	closers, exitFreed []func()
	swap               *mm.Swap
	stdio              *stdio // the guest's fds 0-2 and the terminal taken over
	ptys               *tty.Registry
	hold               chan struct{} // closed by Release (with Hold)
	// seccomp is Seccomp, checked.
	seccomp *bpf.Program
	clock   startClock // start-up marks (startup.go)

	// PassTerminal lends a host terminal to the guest as it is (its
	// fds 0-2 pass through; no controlling terminal, no job control)
	// instead of standing a sandbox terminal in front of it.
	PassTerminal bool

	// Signals, if set, carries signals to forward to the guest (the CLI
	// sends SIGINT, SIGTERM, SIGHUP and SIGQUIT it receives). Each is
	// meant to end the run: once one has been forwarded, Run returns
	// when the guest is gone, without lingering for the dashboard.
	Signals <-chan os.Signal
	// UI, if set, is a listen address (host:port; port 0 picks one) for a
	// live web dashboard of the run. Its URL is written to Log; after
	// the guest exits by itself it keeps serving until ctx is done or a
	// signal arrives on Signals.
	UI string
	// Net is the network policy of AF_INET/AF_INET6 sockets: "none"
	// (default: a sandbox-private loopback) or "host" (real host sockets).
	Net string
	// Publish lists ports of the private loopback served on the host's
	// 127.0.0.1, as "HOSTPORT:GUESTPORT" (--net=none only).
	Publish []string
	// Platform is how guest threads run: "ptrace" (stub threads under
	// PTRACE_SYSEMU) or "seccomp" (stub threads trapping through a seccomp
	// filter into a handler that hands each trap to glassbox over shared
	// memory). "auto" (and "") means the fastest that works on this host:
	// seccomp if a first stub comes up, else ptrace (said only with
	// Verbose).
	Platform string
	// SyscallPatch is "on" or "off" ("": the default, on): on the
	// seccomp platform, a `mov $nr,%eax; syscall` that traps is patched
	// into a jump to stub code that hands the call to glassbox without a
	// host signal (internal/mm/patch.go).
	SyscallPatch string
	// Hold loads the first process but keeps it before its first
	// instruction until Sandbox.Release (an OCI runtime's create, then
	// start).
	Hold bool
	// Groups are the first process's supplementary groups.
	Groups []uint32
	// Umask is the first process's file mode creation mask (nil: 022).
	Umask *uint32
	// Rlimits set resource limits of the first process (others are the
	// host's, as glassbox inherited them).
	Rlimits []Rlimit
	// NoNewPrivileges sets PR_SET_NO_NEW_PRIVS on the first process.
	NoNewPrivileges bool
	// Caps, when set, are the first process's capability sets (an OCI
	// spec's process.capabilities); nil: root's, within the host's
	// bounding set.
	Caps *kernel.StartCaps
	// Seccomp is a classic BPF seccomp filter (struct sock_filter
	// instructions, checked as Linux checks them) that the first process
	// and every process Exec starts run under from their first
	// instruction, as runc applies a container's seccomp profile.
	Seccomp []unix.SockFilter
	// Domainname is what uname reports as the NIS domain ("(none)").
	Domainname string
	// Tmpfs lists guest directories that get an empty in-memory file
	// system of their own (mounted after Binds).
	Tmpfs []string
	// MaxTasks bounds the processes and threads of the sandbox, as a
	// pids cgroup does: fork and clone fail with EAGAIN at the bound
	// (0: DefaultMaxTasks; negative: no bound).
	MaxTasks int
	// CPUTime bounds the CPU time of all the sandbox's processes
	// together, as RLIMIT_CPU does one's (0: none): at the bound every
	// process gets SIGXCPU, a second of CPU time later SIGKILL.
	CPUTime time.Duration
	// CreateMountPoints makes mount points that the root lacks (/proc,
	// /dev, /sys and the targets of Binds and Tmpfs, with their parents)
	// in the in-memory layer, as an OCI runtime does; without it a
	// missing bind target is an error and a missing /proc, /dev or /sys
	// is left out. (/tmp gets its tmpfs only where the root has one.)
	CreateMountPoints bool
	// ReadOnlyRoot makes the root itself read-only (EROFS), as an OCI
	// root.readonly does; mounts on it keep their own modes.
	ReadOnlyRoot bool
}

// Rlimit is one resource limit (Resource is RLIMIT_NOFILE...; soft and
// hard values, ^uint64(0) meaning unlimited).
type Rlimit struct {
	Resource   int
	Soft, Hard uint64
}

// ExitStatus is how the guest's first process ended, with counters of
// what the run did.
type ExitStatus struct {
	Code   int  // exit code, when Signal is 0
	Signal int  // the signal that killed it, or 0
	Core   bool // it dumped core
	Stats  Stats
	// Startup is where the time went in starting and ending the sandbox.
	Startup Startup
	// Syscalls is the per-syscall table, busiest first (with
	// Config.CountSyscalls).
	Syscalls []SyscallCount
}

// SyscallCount is one row of the per-syscall table.
type SyscallCount = kernel.SyscallCount

// Stats count what the sandbox did over the whole run.
type Stats = kernel.Stats

// ShellCode is what a shell would report: Code, or 128+Signal.
func (s ExitStatus) ShellCode() int {
	if s.Signal != 0 {
		return 128 + s.Signal
	}
	return s.Code
}

// SignalName names s.Signal ("SIGSEGV").
func (s ExitStatus) SignalName() string { return abi.SignalName(s.Signal) }

// Error is a failure to start the guest; Op says which step.
type Error struct {
	Op  string
	Err error
}

func (e *Error) Error() string { return e.Op + ": " + errText(e.Err) }
func (e *Error) Unwrap() error { return e.Err }

// errText renders host errno values the way Linux tools do.
func errText(err error) string {
	var en unix.Errno
	if errors.As(err, &en) {
		switch en {
		case unix.ENOEXEC:
			return "exec format error"
		}
		return en.Error()
	}
	return err.Error()
}

// DefaultMaxTasks is Config.MaxTasks when none is given.
const DefaultMaxTasks = 4096

// defaultMemory is Config.Memory when none is given: half the host's RAM.
func defaultMemory() uint64 {
	var si unix.Sysinfo_t
	if unix.Sysinfo(&si) != nil || si.Totalram == 0 {
		return 4 << 30
	}
	return uint64(si.Totalram) * uint64(si.Unit) / 2
}

// DefaultPath is used to find a program named without a slash when the
// guest environment has no PATH.
const DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Run runs argv in a new sandbox and waits for it: Start, then Wait.
// Cancelling ctx kills every guest process; Run then returns the status
// with an *Error wrapping ctx.Err() (context.DeadlineExceeded for a
// timeout).
func Run(ctx context.Context, cfg Config, argv []string) (ExitStatus, error) {
	s, err := Start(ctx, cfg, argv)
	if err != nil {
		return ExitStatus{}, err
	}
	return s.Wait()
}

// build assembles a kernel from cfg: memory file, platform, mounts, stdio.
func build(cfg *Config) (*kernel.Kernel, error) {
	if cfg.Root == "" {
		cfg.Root = "/"
	}
	if cfg.Log == nil {
		cfg.Log = os.Stderr
	}
	if cfg.MemoryLimit == 0 {
		cfg.MemoryLimit = 64 << 30
	}
	if len(cfg.Seccomp) > 0 {
		p, err := bpf.Check(cfg.Seccomp)
		if err != nil {
			return nil, &Error{"seccomp filter", err}
		}
		cfg.seccomp = p
	}
	switch {
	case cfg.MaxTasks == 0:
		cfg.MaxTasks = DefaultMaxTasks
	case cfg.MaxTasks < 0:
		cfg.MaxTasks = 0 // the kernel's "no bound"
	}
	st, err := os.Stat(cfg.Root)
	if err != nil {
		return nil, &Error{"root " + cfg.Root, unwrapPathErr(err)}
	}
	if !st.IsDir() {
		return nil, &Error{"root " + cfg.Root, unix.ENOTDIR}
	}
	mf, err := memfile.New(cfg.MemoryLimit)
	if err != nil {
		return nil, &Error{"memory file", err}
	}
	cfg.exitFreed = append(cfg.exitFreed, mf.Close)
	if cfg.Swap != 0 {
		if cfg.Memory == 0 {
			return nil, &Error{"swap", errors.New("needs a memory limit (--memory)")}
		}
		if cfg.swap, err = mm.NewSwap("", cfg.Swap); err != nil {
			return nil, &Error{"swap file", err}
		}
	}
	if cfg.Memory == 0 {
		cfg.Memory = defaultMemory()
	}
	mf.SetBound(cfg.Memory)
	cfg.clock.memfile = time.Now()
	plat, err := newPlatform(cfg, mf.FD())
	if err != nil {
		return nil, &Error{"platform", err}
	}
	cfg.clock.platform = time.Now()
	cfg.closers = append(cfg.closers, plat.Close)
	// The root: the host directory, read-only, under an in-memory layer
	// that takes the guest's changes (copy-up, whiteouts).
	lower, err := hostfs.New(cfg.Root, true, mf)
	if err != nil {
		return nil, &Error{"root " + cfg.Root, err}
	}
	cfg.exitFreed = append(cfg.exitFreed, lower.Close)
	upper := tmpfs.New(mf, tmpfs.Options{})
	root, err := overlay.New(upper.Root().(vfs.Dir), lower.Root().(vfs.Dir))
	if err != nil {
		return nil, &Error{"root " + cfg.Root, err}
	}
	ns := vfs.NewNamespace(vfs.NewRoot(root.Root()), "overlay", "overlay", 0)
	if cfg.Hostname == "" {
		cfg.Hostname = DefaultHostname
	}
	resolveHostname(ns, cfg.Hostname) // before any mount: it writes the upper layer only
	var tr *trace.Tracer
	if cfg.Trace != "" {
		kinds, err := trace.ParseKinds(cfg.Trace)
		if err != nil {
			return nil, &Error{"trace", err}
		}
		out := cfg.TraceOut
		if out == nil {
			out = os.Stderr
		}
		tr = trace.New(time.Now())
		switch cfg.TraceFormat {
		case "", "text":
			tr.Add(trace.NewText(out, kinds), kinds)
		case "json":
			tr.Add(trace.NewJSON(out, kinds), kinds)
		default:
			return nil, &Error{"trace format", fmt.Errorf("%q is not text or json", cfg.TraceFormat)}
		}
	}
	if cfg.UI != "" && tr == nil {
		tr = trace.New(time.Now()) // the dashboard adds its sink
	}
	sio := hostStdio(cfg)
	ptys := tty.NewRegistry(devfs.Dev)
	var rl map[int]kernel.Rlimit
	for _, r := range cfg.Rlimits {
		if rl == nil {
			rl = map[int]kernel.Rlimit{}
		}
		rl[r.Resource] = kernel.Rlimit{Cur: r.Soft, Max: r.Hard}
	}
	kc := kernel.Config{
		Platform: plat, MemFile: mf, Swap: cfg.swap, NS: ns, Syscalls: syscalls.NewTable(), Tracer: tr,
		Stdio: sio.files, Log: cfg.Log, Verbose: cfg.Verbose, Hostname: cfg.Hostname,
		UID: cfg.UID, GID: cfg.GID, Cwd: cfg.Dir, CountSyscalls: cfg.CountSyscalls,
		Terminals: ptys, InitSession: sio.ttyFD >= 0,
		Groups: cfg.Groups, Rlimits: rl, NoNewPrivs: cfg.NoNewPrivileges, Seccomp: cfg.seccomp, Caps: cfg.Caps,
		MaxTasks: cfg.MaxTasks, CPUTime: cfg.CPUTime, Umask: 0o022, ExitFreesMemory: cfg.ExitAfterWait,
	}
	if cfg.Umask != nil {
		kc.Umask = *cfg.Umask
	}
	if cfg.Hold {
		cfg.hold = make(chan struct{})
		kc.Hold = cfg.hold
	}
	k := kernel.New(kc)
	if cfg.Domainname != "" {
		setDomainname(k, cfg.Domainname)
	}
	sio.attachTerminal(k, ptys)
	cfg.stdio = sio
	cfg.ptys = ptys
	if cfg.CreateMountPoints {
		for _, at := range []string{"/proc", "/dev", "/sys"} {
			if err := makeMountPoint(rootCtx, ns, at, true); err != nil {
				return nil, &Error{"mount point " + at, err}
			}
		}
	}
	mountSynthetic(k, ns, devfs.Options{PTYs: ptys, Console: sio.openConsole})
	binds, err := mountBinds(k, ns, mf, cfg.Binds, cfg.CreateMountPoints, &cfg.exitFreed)
	if err != nil {
		return nil, err
	}
	cfg.synced = binds
	for _, at := range cfg.Tmpfs {
		if err := mountTmpfs(k, ns, at, cfg.CreateMountPoints); err != nil {
			return nil, err
		}
	}
	if cfg.ReadOnlyRoot {
		// Set before any guest runs (the mount points above are made).
		ns.Root().Mount.Flags |= unix.MS_RDONLY
	}
	return k, nil
}

// setDomainname gives the sandbox its NIS domain name where the kernel
// has settable UTS names (SetUTSName, as setdomainname(2) uses); without
// them the name is logged as not applied.
func setDomainname(k *kernel.Kernel, name string) {
	if u, ok := any(k).(interface{ SetUTSName(string, bool) }); ok {
		u.SetUTSName(name, true)
		return
	}
	k.Logf("domainname %q: not applied (this kernel has no settable UTS names)", name)
}

func orStd(f, def *os.File) *os.File {
	if f != nil {
		return f
	}
	return def
}

// mountSynthetic mounts /proc, /dev and an empty /sys where the root has
// directories for them.
func mountSynthetic(k *kernel.Kernel, ns *vfs.Namespace, dev devfs.Options) {
	mounts := []struct {
		at, fstype string
		root       vfs.Inode
	}{
		{"/proc", "proc", procfs.New(k.ProcSource(), procExtra(k), syscalls.ProcNetDir).Root()},
		{"/dev", "devtmpfs", devfs.New(dev)},
		{"/sys", "sysfs", synth.Static(0x17, 0o555, map[string]vfs.Inode{})},
	}
	ctx := k.HostCtx()
	for _, m := range mounts {
		at, err := ns.Walk(ctx, ns.Root(), ns.Root(), m.at, 0)
		if err != nil {
			continue
		}
		if st, err := at.Inode().Stat(); err != nil || !st.IsDir() {
			continue
		}
		ns.Mount(at, vfs.NewRoot(m.root), m.fstype, m.fstype, 0)
	}
	// /tmp and /dev/shm are writable and in memory. The host's /tmp shows
	// through /tmp's top level, read-only, until an overlay covers the
	// whole root.
	for _, at := range []string{"/tmp", "/dev/shm"} {
		p, err := ns.Walk(ctx, ns.Root(), ns.Root(), at, 0)
		if err != nil {
			continue
		}
		lower, ok := p.Inode().(vfs.Dir)
		if !ok {
			continue
		}
		opts := tmpfs.Options{}
		if at == "/tmp" {
			opts.Lower = lower
		}
		ns.Mount(p, vfs.NewRoot(tmpfs.New(k.MemFile(), opts).Root()), "tmpfs", "tmpfs", 0)
	}
}

// lookPath finds name as execvp would, inside the sandbox.
func lookPath(k *kernel.Kernel, name string, env []string) (string, error) {
	if strings.Contains(name, "/") {
		return name, nil
	}
	path := DefaultPath
	for _, e := range env {
		if strings.HasPrefix(e, "PATH=") {
			path = e[5:]
		}
	}
	ns := k.Namespace()
	ctx := k.HostCtx()
	for _, dir := range strings.Split(path, ":") {
		if dir == "" {
			dir = "."
		}
		p := dir + "/" + name
		at, err := ns.Walk(ctx, ns.Root(), ns.Root(), p, vfs.Follow)
		if err != nil {
			continue
		}
		if st, err := at.Inode().Stat(); err == nil && st.Type() == unix.S_IFREG && st.Mode&0o111 != 0 {
			return p, nil
		}
	}
	return "", errors.New("command not found")
}

func unwrapPathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// closeAll runs the closers, last first, then (unless the process is
// about to exit) exitFreed, last first.
func (cfg *Config) closeAll() {
	for i := len(cfg.closers) - 1; i >= 0; i-- {
		cfg.closers[i]()
	}
	cfg.closers = nil
	if !cfg.ExitAfterWait {
		for i := len(cfg.exitFreed) - 1; i >= 0; i-- {
			cfg.exitFreed[i]()
		}
	}
	cfg.exitFreed = nil
}

// procExtra is what the kernel's IPC namespace adds to /proc: sysvipc and
// the IPC limits in /proc/sys/kernel.
func procExtra(k *kernel.Kernel) map[string]vfs.Inode {
	m := map[string]vfs.Inode{"sysvipc": ipc.ProcDirFor(k.IPCOf, procfs.Dev)}
	for name, in := range ipc.Sysctls(procfs.Dev) {
		m["sys/kernel/"+name] = in
	}
	return m
}
