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
	"glassbox/internal/platform"
	"glassbox/internal/platform/ptrace"
	"glassbox/internal/platform/seccomp"
	"glassbox/internal/syscalls"
	"glassbox/internal/trace"
	"glassbox/internal/ui"
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
	// Memory bounds the guest's resident memory in bytes (0: no bound
	// but MemoryLimit). At the bound, pages go to swap if there is any,
	// else the OOM killer ends the largest process.
	Memory uint64
	// Swap is the size in bytes of a swap area glassbox keeps in a host
	// temporary file (0: none). It needs Memory.
	Swap uint64

	synced []*hostfs.FS // writable binds, synced after the run
	swap   *mm.Swap
	stdio  *stdio // the guest's fds 0-2 and the terminal taken over

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
	// memory). "auto" means the fastest that works on this host: seccomp if
	// a first stub comes up, else ptrace (said only with Verbose). "" means
	// ptrace until the seccomp platform passes the whole test suite.
	Platform string
}

// ExitStatus is how the guest's first process ended, with counters of
// what the run did.
type ExitStatus struct {
	Code   int  // exit code, when Signal is 0
	Signal int  // the signal that killed it, or 0
	Core   bool // it dumped core
	Stats  Stats
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

// DefaultPath is used to find a program named without a slash when the
// guest environment has no PATH.
const DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Run runs argv in a new sandbox and waits for it. Cancelling ctx kills
// every guest process; Run then returns the status with an *Error
// wrapping ctx.Err() (context.DeadlineExceeded for a timeout).
func Run(ctx context.Context, cfg Config, argv []string) (ExitStatus, error) {
	if len(argv) == 0 || argv[0] == "" {
		return ExitStatus{}, &Error{"run", errors.New("no program given")}
	}
	k, err := build(&cfg)
	if cfg.swap != nil {
		defer cfg.swap.Close()
	}
	if err != nil {
		return ExitStatus{}, err
	}
	if cfg.Dir != "" {
		ns := k.Namespace()
		if _, err := ns.Walk(k.HostCtx(), ns.Root(), ns.Root(), cfg.Dir, vfs.Follow|vfs.MustDir); err != nil {
			return ExitStatus{}, &Error{"working directory " + cfg.Dir, err}
		}
	}
	path, err := lookPath(k, argv[0], cfg.Env)
	if err != nil {
		return ExitStatus{}, &Error{argv[0], err}
	}
	var dash *ui.Server
	if cfg.UI != "" {
		if dash, err = ui.Start(k, cfg.UI, ui.Options{}); err != nil {
			return ExitStatus{}, &Error{"dashboard", err}
		}
		defer dash.Close()
		fmt.Fprintf(cfg.Log, "glassbox: dashboard at %s\n", dash.URL())
	}
	if err := syscalls.SetupNet(k, cfg.Net, cfg.Publish); err != nil {
		return ExitStatus{}, &Error{"network", err}
	}
	if err := k.Start(path, argv, cfg.Env); err != nil {
		<-k.Done()
		return ExitStatus{}, &Error{argv[0], err}
	}
	// The host terminal goes raw only now that the guest is about to
	// run; its modes come back when the guest is gone.
	term := cfg.stdio.term
	if term != nil {
		if err := term.Start(); err != nil {
			fmt.Fprintf(cfg.Log, "glassbox: terminal: %v\n", err)
		}
		defer term.Stop()
	}
	onTTY := isTerminal(orStd(cfg.Stdin, os.Stdin))
	// stopped is set once a signal meant to end glassbox has come: it
	// went to the guest, and glassbox ends with the guest (no dashboard
	// lingers for a second one).
	stopped := false
wait:
	for {
		select {
		case <-k.Done():
			break wait
		case sig := <-cfg.Signals:
			forward(k, sig, onTTY)
			stopped = true
		case <-ctx.Done():
			k.KillAll()
			<-k.Done()
			if term != nil {
				term.Stop()
			}
			s := k.Wait()
			syncBinds(cfg.synced)
			return ExitStatus{Code: s.Code, Signal: s.Signal, Stats: k.Stats(), Syscalls: k.SyscallCounts()},
				&Error{"run", ctx.Err()}
		}
	}
	s := k.Wait()
	syncBinds(cfg.synced)
	if term != nil {
		term.Stop()
	}
	if dash != nil && !stopped {
		fmt.Fprintf(cfg.Log, "glassbox: %s has exited; the dashboard stays at %s until Ctrl-C\n", argv[0], dash.URL())
		dash.Linger(ctx, cfg.Signals)
	}
	return ExitStatus{Code: s.Code, Signal: s.Signal, Core: s.Core, Stats: k.Stats(), Syscalls: k.SyscallCounts()}, nil
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
	mf.SetLimit(cfg.Memory)
	if cfg.Swap != 0 {
		if cfg.Memory == 0 {
			return nil, &Error{"swap", errors.New("needs a memory limit (--memory)")}
		}
		if cfg.swap, err = mm.NewSwap("", cfg.Swap); err != nil {
			return nil, &Error{"swap file", err}
		}
	}
	plat, err := newPlatform(cfg, mf.FD())
	if err != nil {
		return nil, &Error{"platform", err}
	}
	// The root: the host directory, read-only, under an in-memory layer
	// that takes the guest's changes (copy-up, whiteouts).
	lower, err := hostfs.New(cfg.Root, true, mf)
	if err != nil {
		return nil, &Error{"root " + cfg.Root, err}
	}
	upper := tmpfs.New(mf, tmpfs.Options{})
	root, err := overlay.New(upper.Root().(vfs.Dir), lower.Root().(vfs.Dir))
	if err != nil {
		return nil, &Error{"root " + cfg.Root, err}
	}
	ns := vfs.NewNamespace(vfs.NewRoot(root.Root()), "overlay", "overlay", 0)
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
	k := kernel.New(kernel.Config{
		Platform: plat, MemFile: mf, Swap: cfg.swap, NS: ns, Syscalls: syscalls.NewTable(), Tracer: tr,
		Stdio: sio.files, Log: cfg.Log, Verbose: cfg.Verbose, Hostname: cfg.Hostname,
		UID: cfg.UID, GID: cfg.GID, Cwd: cfg.Dir, CountSyscalls: cfg.CountSyscalls,
		Terminals: ptys, InitSession: sio.ttyFD >= 0,
	})
	sio.attachTerminal(k, ptys)
	cfg.stdio = sio
	mountSynthetic(k, ns, devfs.Options{PTYs: ptys, Console: sio.openConsole})
	binds, err := mountBinds(k, ns, mf, cfg.Binds)
	if err != nil {
		return nil, err
	}
	cfg.synced = binds
	return k, nil
}

// newPlatform creates the platform cfg names over the memory file. "auto"
// probes the seccomp platform once (its first stub, which the first
// process then uses) and falls back to ptrace.
func newPlatform(cfg *Config, memfd int) (platform.Platform, error) {
	switch cfg.Platform {
	case "", "ptrace":
		return ptrace.New(memfd)
	case "seccomp":
		return seccomp.New(memfd)
	case "auto":
		p, err := seccomp.New(memfd)
		if err == nil {
			if err = p.Probe(); err == nil {
				return p, nil
			}
		}
		if cfg.Verbose && cfg.Log != nil {
			fmt.Fprintf(cfg.Log, "glassbox: the seccomp platform does not work here (%v): using ptrace\n", err)
		}
		return ptrace.New(memfd)
	}
	return nil, fmt.Errorf("unknown platform %q (ptrace, seccomp or auto)", cfg.Platform)
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
		{"/proc", "proc", procfs.New(k.ProcSource(), map[string]vfs.Inode{"sysvipc": ipc.ProcDir(k.IPC(), procfs.Dev)}).Root()},
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
