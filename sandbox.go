package glassbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/fs/hostterm"
	"glassbox/internal/kernel"
	"glassbox/internal/syscalls"
	"glassbox/internal/ui"
	"glassbox/internal/vfs"
)

// Sandbox is a running sandbox: one kernel, its first process, and any
// further processes Exec starts inside it. It lives until its first
// process exits (which ends every other process, as the end of a PID
// namespace's init does).
type Sandbox struct {
	cfg  Config
	k    *kernel.Kernel
	argv []string
	dash *ui.Server

	releaseOnce sync.Once
	stopped     chan struct{} // closed once a signal meant to end the run was forwarded
	stopOnce    sync.Once

	done   chan struct{} // closed when Wait's result is ready
	status ExitStatus
	err    error
	leaked int64 // LeakedFrames
}

// Start builds a sandbox, starts argv[0] in it as its first process and
// returns at once (with Config.Hold, the process waits before its first
// instruction until Release). Cancelling ctx kills every guest process.
func Start(ctx context.Context, cfg Config, argv []string) (*Sandbox, error) {
	if len(argv) == 0 || argv[0] == "" {
		return nil, &Error{"run", errors.New("no program given")}
	}
	s := &Sandbox{argv: argv, stopped: make(chan struct{}), done: make(chan struct{})}
	cfg.clock.entered = time.Now()
	k, err := build(&cfg)
	started := false // the first process was started (k.Done will close)
	fail := func(e error) (*Sandbox, error) {
		if cfg.swap != nil {
			cfg.swap.Close()
		}
		defer func() {
			if started {
				k.WaitTasks()
			}
			cfg.closeAll()
		}()
		if s.dash != nil {
			s.dash.Close()
		}
		return nil, e
	}
	if err != nil {
		return fail(err)
	}
	s.cfg, s.k = cfg, k
	if cfg.Dir != "" {
		ns := k.Namespace()
		if _, err := ns.Walk(k.HostCtx(), ns.Root(), ns.Root(), cfg.Dir, vfs.Follow|vfs.MustDir); err != nil {
			return fail(&Error{"working directory " + cfg.Dir, err})
		}
	}
	path, err := lookPath(k, argv[0], cfg.Env)
	if err != nil {
		return fail(&Error{argv[0], err})
	}
	if cfg.UI != "" {
		if s.dash, err = ui.Start(k, cfg.UI, ui.Options{}); err != nil {
			return fail(&Error{"dashboard", err})
		}
		fmt.Fprintf(cfg.Log, "glassbox: dashboard at %s\n", s.dash.URL())
	}
	if err := syscalls.SetupNet(k, cfg.Net, cfg.Publish); err != nil {
		return fail(&Error{"network", err})
	}
	started = true
	s.cfg.clock.vfs = time.Now()
	if err := k.Start(path, argv, cfg.Env); err != nil {
		<-k.Done()
		return fail(&Error{argv[0], err})
	}
	if !cfg.Hold {
		s.startTerminal()
	}
	go s.wait(ctx)
	return s, nil
}

// startTerminal puts the host terminal in raw mode now that the guest is
// about to run; its modes come back when the guest is gone.
func (s *Sandbox) startTerminal() {
	if term := s.cfg.stdio.term; term != nil {
		if err := term.Start(); err != nil {
			fmt.Fprintf(s.cfg.Log, "glassbox: terminal: %v\n", err)
		}
	}
}

// Release lets a first process held by Config.Hold run. Calling it again,
// or without Hold, does nothing.
func (s *Sandbox) Release() {
	if s.cfg.hold == nil {
		return
	}
	s.releaseOnce.Do(func() {
		s.startTerminal()
		close(s.cfg.hold)
	})
}

// wait follows the run until the first process has exited, forwarding
// signals from Config.Signals, and records the result for Wait.
func (s *Sandbox) wait(ctx context.Context) {
	defer close(s.done)
	cfg, k := &s.cfg, s.k
	// After the dashboard's and swap's closes, before Wait returns.
	defer func() {
		k.WaitTasks()
		s.leaked = k.MemFile().Leaked()
		cfg.closeAll()
		s.status.Startup = s.startup()
	}()
	if cfg.swap != nil {
		defer cfg.swap.Close()
	}
	if s.dash != nil {
		defer s.dash.Close()
	}
	term := cfg.stdio.term
	onTTY := isTerminal(orStd(cfg.Stdin, os.Stdin))
wait:
	for {
		select {
		case <-k.Done():
			// A deadline that passed before the first process exited is
			// a timeout however late this goroutine saw it: under a
			// guest that keeps the host's CPUs busy, both events may be
			// waiting here together.
			if dl, ok := ctx.Deadline(); !ok || k.ExitedAt().Before(dl) {
				break wait
			}
			s.timedOut(ctx)
			return
		case sig := <-cfg.Signals:
			forward(k, sig, onTTY)
			s.markStopped()
		case <-ctx.Done():
			s.timedOut(ctx)
			return
		}
	}
	st := k.Wait()
	syncBinds(cfg.synced)
	if term != nil {
		term.Stop()
	}
	select {
	case <-s.stopped:
	default:
		if s.dash != nil {
			fmt.Fprintf(cfg.Log, "glassbox: %s has exited; the dashboard stays at %s until Ctrl-C\n", s.argv[0], s.dash.URL())
			s.dash.Linger(ctx, cfg.Signals)
		}
	}
	s.status = ExitStatus{Code: st.Code, Signal: st.Signal, Core: st.Core, Stats: k.Stats(), Syscalls: k.SyscallCounts()}
}

// timedOut ends a run whose context ended first: every process is
// killed, and Wait reports the context's error.
func (s *Sandbox) timedOut(ctx context.Context) {
	k := s.k
	k.KillAll()
	<-k.Done()
	if term := s.cfg.stdio.term; term != nil {
		term.Stop()
	}
	st := k.Wait()
	syncBinds(s.cfg.synced)
	s.status = ExitStatus{Code: st.Code, Signal: st.Signal, Stats: k.Stats(), Syscalls: k.SyscallCounts()}
	s.err = &Error{"run", context.DeadlineExceeded}
	if ctx.Err() != nil {
		s.err = &Error{"run", ctx.Err()}
	}
}

func (s *Sandbox) markStopped() { s.stopOnce.Do(func() { close(s.stopped) }) }

// Wait waits until the first process has exited (and a dashboard that
// lingers after it has closed) and returns how it ended.
func (s *Sandbox) Wait() (ExitStatus, error) {
	<-s.done
	return s.status, s.err
}

// Exited is closed when the first process has exited.
func (s *Sandbox) Exited() <-chan struct{} { return s.k.Done() }

// LeakedFrames is, once Wait has returned, how many pages of the guest's
// memory glassbox lost track of: frames still in use after every process
// was gone that no file holds (tmpfs data, page caches, shared memory
// segments keep theirs). Anything but 0 is a reference counting bug in
// glassbox; the sandbox leak test and the syscall fuzzer check it.
func (s *Sandbox) LeakedFrames() int64 {
	<-s.done
	return s.leaked
}

// Signal sends sig from outside to the first process, or with all to
// every process of the sandbox. A signal sent this way counts as one
// meant to end the run: a dashboard does not linger after it.
func (s *Sandbox) Signal(sig int, all bool) error {
	if sig <= 0 || sig > abi.SIGRTMAX {
		return fmt.Errorf("invalid signal %d", sig)
	}
	select {
	case <-s.k.Done():
		return errors.New("the sandbox's first process has exited")
	default:
	}
	s.markStopped()
	if !all {
		s.k.SignalInit(sig, false)
		return nil
	}
	for _, pid := range s.k.PIDs() {
		if tg := s.k.ThreadGroupByPID(pid); tg != nil {
			tg.SignalInfo(kernel.SigInfo{Signo: int32(sig), Code: abi.SI_USER, Host: true})
		}
	}
	return nil
}

// ProcessInfo is one process of a running sandbox, as ps shows it.
type ProcessInfo struct {
	PID, PPID, PGID, SID int
	UID, GID             uint32
	State                string // R, S, T or Z, as /proc shows
	Cmdline              []string
	Comm                 string
}

// Processes lists the sandbox's processes by pid.
func (s *Sandbox) Processes() []ProcessInfo {
	snap := s.k.Snapshot()
	out := make([]ProcessInfo, 0, len(snap.Procs))
	for _, p := range snap.Procs {
		out = append(out, ProcessInfo{PID: p.PID, PPID: p.PPID, PGID: p.PGID, SID: p.SID, UID: p.UID, GID: p.GID,
			State: p.State, Cmdline: p.Cmdline, Comm: p.Comm})
	}
	return out
}

// ExecConfig describes a further process started inside a running
// sandbox.
type ExecConfig struct {
	Argv []string // the program (found through PATH in Env) and its arguments
	Env  []string // its whole environment ("K=V")
	Dir  string   // working directory inside ("" means /)
	// UID, GID and Groups are its credentials inside.
	UID, GID uint32
	Groups   []uint32
	Umask    *uint32 // nil: 022
	// Stdin, Stdout and Stderr are lent as fds 0-2 (duplicated: the
	// caller may close its own); nil leaves the fd closed.
	Stdin, Stdout, Stderr *os.File
	// Terminal, when the descriptors include a host terminal, puts a
	// sandbox pty in front of it (raw mode on the host side, the line
	// discipline, job control and window size inside), with the process
	// leading a session whose controlling terminal it is.
	Terminal        bool
	Rlimits         []Rlimit
	NoNewPrivileges bool
	// Caps, when set, replace the capability sets the process starts
	// with (an OCI spec's process.capabilities).
	Caps *kernel.StartCaps
}

// Process is a process Exec started.
type Process struct {
	kp   *kernel.Process
	term *hostterm.Terminal
	done chan struct{}
}

// Exec starts a further process inside the sandbox, next to the first
// one: it sees the same files, processes and network. Its parent pid
// reads 0 inside, and it leads a session of its own (as a process `runc
// exec` starts). It returns once the program is loaded.
func (s *Sandbox) Exec(e ExecConfig) (*Process, error) {
	if len(e.Argv) == 0 || e.Argv[0] == "" {
		return nil, &Error{"exec", errors.New("no program given")}
	}
	k := s.k
	path, err := lookPath(k, e.Argv[0], e.Env)
	if err != nil {
		return nil, &Error{e.Argv[0], err}
	}
	host := [3]*os.File{e.Stdin, e.Stdout, e.Stderr}
	var term *hostterm.Terminal
	ttyFD := -1
	if e.Terminal {
		for _, f := range host {
			if f != nil && isTerminal(f) {
				ttyFD = int(f.Fd())
				break
			}
		}
	}
	creds := vfs.NewCreds(e.UID, e.GID, e.Groups)
	termFD := -1 // our own copy of the host terminal, for as long as term runs
	if ttyFD >= 0 {
		if termFD, err = unix.FcntlInt(uintptr(ttyFD), unix.F_DUPFD_CLOEXEC, 0); err != nil {
			return nil, &Error{"terminal", err}
		}
		if term, err = hostterm.Open(termFD, s.cfg.ptys, k.TTYSessions(), creds); err != nil {
			unix.Close(termFD)
			return nil, &Error{"terminal", err}
		}
	}
	var files [3]*vfs.File
	for i, f := range host {
		if f == nil {
			continue
		}
		if term != nil && hostterm.Same(int(f.Fd()), ttyFD) {
			ops, err := term.Slave(unix.O_RDWR)
			if err == nil {
				files[i] = vfs.NewAnonFile(ops, fmt.Sprintf("/dev/pts/%d", term.Master().TTY().Index()), unix.O_RDWR)
				continue
			}
		}
		files[i] = lendCopy(i, f)
	}
	spec := kernel.ProcessSpec{Path: path, Argv: e.Argv, Env: e.Env, Cwd: e.Dir, Stdio: files,
		UID: e.UID, GID: e.GID, Groups: e.Groups, Umask: 0o022, NoNewPrivs: e.NoNewPrivileges, NewSession: true,
		Seccomp: s.cfg.seccomp, Caps: e.Caps}
	if e.Umask != nil {
		spec.Umask = *e.Umask
	}
	for _, r := range e.Rlimits {
		if spec.Rlimits == nil {
			spec.Rlimits = map[int]kernel.Rlimit{}
		}
		spec.Rlimits[r.Resource] = kernel.Rlimit{Cur: r.Soft, Max: r.Hard}
	}
	if term != nil {
		spec.OnPID = func(pid int) { term.Master().SetControlling(pid, pid) }
	}
	kp, err := k.StartProcess(spec)
	if err != nil {
		if term != nil {
			term.Stop()
			unix.Close(termFD)
		}
		return nil, &Error{e.Argv[0], err}
	}
	p := &Process{kp: kp, term: term, done: make(chan struct{})}
	if term != nil {
		if err := term.Start(); err != nil {
			fmt.Fprintf(s.cfg.Log, "glassbox: terminal: %v\n", err)
		}
	}
	go func() {
		<-kp.Done()
		if term != nil {
			term.Stop()
			unix.Close(termFD)
		}
		close(p.done)
	}()
	return p, nil
}

// PID is the process's pid inside the sandbox.
func (p *Process) PID() int { return p.kp.PID() }

// Signal sends sig to the process from outside.
func (p *Process) Signal(sig int) { p.kp.Signal(sig) }

// Resize copies the host terminal's window size to the process's
// terminal (after the host one changed; SIGWINCH inside if it did).
func (p *Process) Resize() {
	if p.term != nil {
		p.term.Resize()
	}
}

// Done is closed when the process has exited (and its terminal's
// output has been copied out).
func (p *Process) Done() <-chan struct{} { return p.done }

// Wait waits for the process to exit and returns how it ended.
func (p *Process) Wait() ExitStatus {
	<-p.done
	st := p.kp.Status()
	return ExitStatus{Code: st.Code, Signal: st.Signal, Core: st.Core}
}
