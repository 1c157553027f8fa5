package kernel

import (
	"errors"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/bpf"
	"glassbox/internal/vfs"
)

// ProcessSpec is a process the host starts inside the sandbox: the first
// one (Start), or a further one next to it (StartProcess), as `runc exec`
// adds a process to a running container.
type ProcessSpec struct {
	Path       string // the program, as execve's pathname
	Argv, Env  []string
	Cwd        string       // working directory inside ("" means /)
	Stdio      [3]*vfs.File // fds 0-2 (each reference is taken over)
	UID, GID   uint32
	Groups     []uint32
	Umask      uint32         // file mode creation mask
	Rlimits    map[int]Rlimit // limits other than the defaults
	NoNewPrivs bool           // PR_SET_NO_NEW_PRIVS from the start
	Seccomp    *bpf.Program   // a seccomp filter from the start (nil: none)
	// Caps, when set, are the capability sets to start with instead of
	// root's (each within the host's bounding set).
	Caps       *StartCaps
	NewSession bool            // lead a session of its own (else session id 0)
	OnPID      func(pid int)   // called with the pid before the program is loaded
	Hold       <-chan struct{} // if set, loaded but held before its first instruction until closed
}

// StartCaps are a process's capability sets (bit N: capability N), as an
// OCI runtime spec gives them.
type StartCaps struct {
	Bounding, Effective, Inheritable, Permitted, Ambient uint64
}

// Process is a process the host started. A further process has no
// parent inside the sandbox (its parent pid reads 0, as a process
// `runc exec` starts shows inside the container's PID namespace); its
// children go to init when it ends, and nobody inside reaps it.
type Process struct {
	tg   *ThreadGroup
	done chan struct{} // closed when it has exited
}

// PID is the process's pid inside the sandbox.
func (p *Process) PID() int { return p.tg.pid }

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Status is how the process ended (valid once Done is closed).
func (p *Process) Status() ExitStatus {
	p.tg.mu.Lock()
	defer p.tg.mu.Unlock()
	return p.tg.status
}

// Signal sends sig to the process from outside the sandbox.
func (p *Process) Signal(sig int) {
	p.tg.SignalInfo(SigInfo{Signo: int32(sig), Code: abi.SI_USER, Host: true})
}

// errHeldExit ends a held task that was told to exit before it ran.
var errHeldExit = errors.New("exited while held")

// Start creates the first process (pid 1) running argv[0] with envv and
// returns at once; Wait waits for it.
func (k *Kernel) Start(path string, argv, envv []string) error {
	_, err := k.startProcess(ProcessSpec{Path: path, Argv: argv, Env: envv, Cwd: k.cfg.Cwd,
		Stdio: k.cfg.Stdio, UID: k.cfg.UID, GID: k.cfg.GID, Groups: k.cfg.Groups, Umask: k.cfg.Umask,
		Rlimits: k.cfg.Rlimits, NoNewPrivs: k.cfg.NoNewPrivs, Seccomp: k.cfg.Seccomp, Caps: k.cfg.Caps, NewSession: k.cfg.InitSession,
		Hold: k.cfg.Hold}, true)
	if err == nil && k.cfg.CPUTime > 0 {
		go k.watchCPU()
	}
	return err
}

// StartProcess starts a further process inside the running sandbox and
// returns once its program is loaded (or failed to load: then the error,
// and the process is gone). It fails with ESRCH once the first process
// has exited.
func (k *Kernel) StartProcess(spec ProcessSpec) (*Process, error) {
	select {
	case <-k.done:
		for _, f := range spec.Stdio {
			if f != nil {
				f.DecRef()
			}
		}
		return nil, unix.ESRCH
	default:
	}
	return k.startProcess(spec, false)
}

func (k *Kernel) startProcess(spec ProcessSpec, isInit bool) (*Process, error) {
	root := k.cfg.NS.Root()
	cwd := root
	ctx := hostCtx{vfs.NewCreds(spec.UID, spec.GID, spec.Groups)}
	if cs := spec.Caps; cs != nil {
		c := ctx.creds
		c.CapBnd &= cs.Bounding
		c.CapPrm = cs.Permitted & c.CapBnd
		c.CapEff = cs.Effective & c.CapPrm
		c.CapInh = cs.Inheritable
		c.CapAmb = cs.Ambient & c.CapPrm & c.CapInh
	}
	if spec.Cwd != "" {
		var err error
		if cwd, err = k.cfg.NS.Walk(ctx, root, root, spec.Cwd, vfs.Follow|vfs.MustDir); err != nil {
			return nil, err
		}
	}
	tg := k.newThreadGroup(nil)
	if !spec.NewSession {
		tg.sid = 0
	}
	for res, r := range spec.Rlimits {
		if res >= 0 && res < rlimCount {
			tg.rlimits[res] = r
		}
	}
	tg.nnp = spec.NoNewPrivs
	p := &Process{tg: tg, done: make(chan struct{})}
	tg.hostDone = p.done
	t := k.newTask(tg, ctx.creds)
	if spec.Seccomp != nil {
		t.seccomp.Store(&seccompState{mode: unix.SECCOMP_MODE_FILTER, filter: newSeccompFilter(spec.Seccomp, nil)})
	}
	if !isInit {
		// The first process may have ended since StartProcess looked.
		// processExited closes done before its KillAll lists the tasks,
		// so either that list has this task (now in the pid table) or
		// done is closed by now: then it dies before its first
		// instruction.
		select {
		case <-k.done:
			t.SendSignal(abi.SIGKILL)
		default:
		}
	}
	tg.fds = vfs.NewFDTable()
	for i, f := range spec.Stdio {
		if f != nil {
			tg.fds.InstallAt(i, f, false, 1<<20)
		}
	}
	tg.fsc = &FSContext{root: root, cwd: cwd, umask: spec.Umask}
	c := *ctx.creds
	t.setCreds(&c)
	if isInit {
		k.mu.Lock()
		k.init = tg
		k.mu.Unlock()
	}
	if spec.OnPID != nil {
		spec.OnPID(tg.pid)
	}
	errc := make(chan error, 1)
	t.k.running.Add(1)
	go t.main(func() error {
		start := time.Now()
		err := t.execve(spec.Path, spec.Argv, spec.Env)
		if isInit {
			k.noteInitExec(time.Since(start))
		}
		errc <- err
		if err == nil && spec.Hold != nil {
			err = t.hold(spec.Hold)
		}
		if err == nil && isInit {
			k.noteFirstRun()
		}
		return err
	})
	if err := <-errc; err != nil {
		return nil, err
	}
	return p, nil
}

// hold keeps a freshly loaded task from running its first instruction
// until release is closed. Signals sent meanwhile are acted on as they
// come (a fatal one ends the process before it ran; a stop stops it).
func (t *Task) hold(release <-chan struct{}) error {
	for {
		select {
		case <-release:
			return nil
		case <-t.intr:
			if t.checkSignals() {
				return errHeldExit
			}
		}
	}
}
