package kernel

import (
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"glassbox/internal/bpf"
	"glassbox/internal/ipc"
	"glassbox/internal/memfile"
	"glassbox/internal/mm"
	"glassbox/internal/platform"
	"glassbox/internal/trace"
	"glassbox/internal/vfs"
)

// Config is what a kernel is built from.
type Config struct {
	Platform platform.Platform
	MemFile  *memfile.File
	// Swap is the swap area address spaces page out to (nil: none).
	Swap     *mm.Swap
	NS       *vfs.Namespace
	Syscalls *Table
	Tracer   *trace.Tracer
	// Stdio are the guest's fds 0, 1 and 2 (each reference is taken over).
	Stdio [3]*vfs.File
	// Log receives glassbox' own lines: its errors always, diagnostics
	// about the guest's run (unsupported calls, OOM kills) with Verbose.
	Log io.Writer
	// Verbose writes the diagnostics (Logf) to Log as they happen;
	// without it they are only counted (Stats.Unsupported...).
	Verbose  bool
	Hostname string
	UID, GID uint32
	// Cwd is the first process's working directory ("" means /).
	Cwd string
	// CountSyscalls keeps a per-syscall table of calls, errors and time.
	CountSyscalls bool
	// Terminals hears when a session leader exits (nil: nobody).
	Terminals Terminals
	// InitSession makes the first process the leader of its own session
	// (it gets the sandbox terminal as its controlling terminal). Without
	// it the first process is, like a program a shell started, a member of
	// a session whose leader is outside the sandbox (session id 0, as a
	// PID namespace shows it), so opening a terminal never makes it the
	// process's controlling terminal.
	InitSession bool
	// Groups, Rlimits and NoNewPrivs are the first process's
	// supplementary groups, limits other than the host's, and
	// PR_SET_NO_NEW_PRIVS.
	Groups     []uint32
	Rlimits    map[int]Rlimit
	NoNewPrivs bool
	Umask      uint32
	// Caps, when set, are the first process's capability sets.
	Caps *StartCaps
	// Seccomp, if set, is a filter every process the host starts runs
	// under from its first instruction (a container's seccomp profile).
	Seccomp *bpf.Program
	// Hold, if set, keeps the first process loaded but before its first
	// instruction until it is closed (an OCI runtime's create and start).
	Hold <-chan struct{}
	// MaxTasks bounds the tasks (processes and threads) of the sandbox,
	// as a pids cgroup does: fork and clone fail with EAGAIN at the
	// bound (0: no bound).
	MaxTasks int
	// CPUTime bounds the CPU time of the whole sandbox (0: none): at the
	// bound every process gets SIGXCPU, a second of CPU later SIGKILL.
	CPUTime time.Duration
	// ExitFreesMemory says the host process exits once the sandbox has
	// ended: the frames of the first process's address space, when its
	// exit ends the sandbox, are left in the memory file for that exit to
	// give back, instead of being freed one by one on the way out.
	ExitFreesMemory bool
}

// Kernel is one sandbox.
type Kernel struct {
	cfg   Config
	start time.Time

	mu      sync.Mutex
	tasks   map[int]*Task // by tid
	nextPID int
	init    *ThreadGroup
	done    chan struct{} // closed when init has exited
	status  ExitStatus
	exitAt  time.Time      // when the first process exited (with status)
	running sync.WaitGroup // task goroutines that have not returned

	// sigCharges counts each user's queued signals (sigqueue.go); a leaf.
	sigChargeMu sync.Mutex
	sigCharges  map[uint32]*sigCharge

	futex      futexTable
	ncpu       int          // the host's CPUs
	spinners   atomic.Int32 // futex waits polling now (park.go)
	stats      kstats
	boot       bootClock   // start-up and exit times of the first process (boot.go)
	perSyscall *perSyscall // nil unless Config.CountSyscalls

	unsupported sync.Map // description → *atomic.Uint64: calls of it (ReportUnsupported)

	ipc *ipc.Namespace // System V IPC (shm.go)
	uts utsNames       // host and domain names (uts.go)
	// nsRoot is the initial set of namespaces (ns.go).
	nsRoot nsRoot
}

// New returns a kernel with no processes.
func New(cfg Config) *Kernel {
	if cfg.Hostname == "" {
		cfg.Hostname = "glassbox"
	}
	k := &Kernel{cfg: cfg, start: time.Now(), tasks: map[int]*Task{}, nextPID: 1, done: make(chan struct{}), ncpu: runtime.NumCPU()}
	k.ipc = ipc.NewNamespace(cfg.MemFile)
	if cfg.CountSyscalls {
		k.perSyscall = &perSyscall{}
	}
	return k
}

// Namespace returns the sandbox's mount tree.
func (k *Kernel) Namespace() *vfs.Namespace { return k.cfg.NS }

// MemFile returns the memory file.
func (k *Kernel) MemFile() *memfile.File { return k.cfg.MemFile }

// Tracer returns the event stream (may be nil).
func (k *Kernel) Tracer() *trace.Tracer { return k.cfg.Tracer }

// StartTime is when the sandbox started.
func (k *Kernel) StartTime() time.Time { return k.start }

// Logf writes one line of diagnostics about the guest's run (an
// unsupported call, an OOM kill, a core that could not be written), only
// with Config.Verbose: natively the kernel says nothing on a program's
// stderr about these, so neither does glassbox unless asked.
func (k *Kernel) Logf(format string, args ...any) {
	if k.cfg.Verbose {
		k.Errorf(format, args...)
	}
}

// Errorf writes one line about a failure of glassbox itself (the host
// refused something glassbox needs to run the guest); always shown.
func (k *Kernel) Errorf(format string, args ...any) {
	if k.cfg.Log != nil {
		fmt.Fprintf(k.cfg.Log, "glassbox: "+format+"\n", args...)
	}
}

// ExitStatus is how a process ended.
type ExitStatus struct {
	Code   int // exit code when Signal == 0
	Signal int // terminating signal, or 0
	Core   bool
}

// WaitStatus encodes s as wait4 reports it.
func (s ExitStatus) WaitStatus() uint32 {
	if s.Signal != 0 {
		w := uint32(s.Signal)
		if s.Core {
			w |= 0x80
		}
		return w
	}
	return uint32(s.Code&0xff) << 8
}

// ShellCode is the status a shell would report: the code, or 128+signal.
func (s ExitStatus) ShellCode() int {
	if s.Signal != 0 {
		return 128 + s.Signal
	}
	return s.Code & 0xff
}

// Wait blocks until the first process exits and returns its status.
func (k *Kernel) Wait() ExitStatus {
	<-k.done
	return k.status
}

// ExitedAt is when the first process exited (once Done is closed).
func (k *Kernel) ExitedAt() time.Time {
	<-k.done
	return k.exitAt
}

// Done is closed when the first process has exited.
func (k *Kernel) Done() <-chan struct{} { return k.done }

// WaitTasks waits, once Done is closed, until every task's goroutine
// has returned: then nothing of the kernel touches guest memory or the
// platform. The other processes are being killed; one caught in the
// middle of a fork may still add a child the kill did not see, so the
// kill is repeated until none is left (each round leaves at most the
// children of forks already under way, and those children fork no more).
func (k *Kernel) WaitTasks() {
	<-k.done
	gone := make(chan struct{})
	go func() {
		k.running.Wait()
		close(gone)
	}()
	for {
		select {
		case <-gone:
			return
		case <-time.After(50 * time.Millisecond):
			k.KillAll()
		}
	}
}
