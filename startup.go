package glassbox

import (
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Startup is where the time went from this process's start to the
// guest's first instruction, and from the guest's end to Wait's return
// (--stats prints it). The phases follow one another; FirstInsn and
// Total count from the process's start.
type Startup struct {
	// Go is from the process's start (glassbox' exec) to Start: the Go
	// runtime, package initialisation, the caller's own work.
	Go time.Duration
	// MemFile is the memory file (and swap area) creation.
	MemFile time.Duration
	// Platform is the start of the platform's creation: the platform
	// itself (for seccomp: its stub image, the vDSO layout, its first
	// stub) is made in the background while the file systems are set up;
	// what the first exec still waits for of it counts in Stub.
	Platform time.Duration
	// VFS is the root file system, its layers and mounts, the kernel,
	// the program's lookup and the network set-up.
	VFS time.Duration
	// Stub is the first address space (the platform's first stub
	// process, and the rest of the platform's creation it waits for);
	// Exec the rest of the first process's exec (reading and mapping the
	// program and its interpreter, the initial stack).
	Stub, Exec time.Duration
	// FirstInsn is from the process's start to the first process's hand-
	// off to its first instruction.
	FirstInsn time.Duration
	// Run is from that hand-off to the first process's exit: the guest's
	// own run (its dynamic loading included).
	Run time.Duration
	// Exit is from the first process's exit (exit_group, or its fatal
	// signal) to Wait's return: the other processes' end, stub
	// teardown, closing the sandbox's host resources.
	Exit time.Duration
	// Total is from the process's start to Wait's return.
	Total time.Duration
}

// processStart is when this process started (its exec), as well as it
// can be told: the main thread's time on and waiting for a CPU so far
// (/proc/self/schedstat, in nanoseconds; it does not sleep while the Go
// runtime and the packages initialise) taken from now. Without schedstat
// it is the time this package initialised.
var processStart = findProcessStart()

func findProcessStart() time.Time {
	now := time.Now()
	// Plain system calls: os.ReadFile would set up the runtime's poller.
	fd, err := unix.Open("/proc/self/schedstat", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return now
	}
	var b [128]byte
	n, err := unix.Read(fd, b[:])
	unix.Close(fd)
	if err != nil || n <= 0 {
		return now
	}
	f := strings.Fields(string(b[:n]))
	if len(f) < 2 {
		return now
	}
	run, err1 := strconv.ParseInt(f[0], 10, 64)
	wait, err2 := strconv.ParseInt(f[1], 10, 64)
	if err1 != nil || err2 != nil || run < 0 || wait < 0 {
		return now
	}
	return now.Add(-time.Duration(run + wait))
}

// startClock collects the start-up marks of one sandbox.
type startClock struct {
	entered, memfile, platform, vfs time.Time
}

// startup puts the marks and the kernel's times together, at Wait's
// return.
func (s *Sandbox) startup() Startup {
	c := s.cfg.clock
	kb := s.k.Boot()
	now := time.Now()
	st := Startup{
		Go:       c.entered.Sub(processStart),
		MemFile:  c.memfile.Sub(c.entered),
		Platform: c.platform.Sub(c.memfile),
		VFS:      c.vfs.Sub(c.platform),
		Stub:     kb.Stub,
		Exec:     kb.Exec,
		Total:    now.Sub(processStart),
	}
	if !kb.FirstRun.IsZero() {
		st.FirstInsn = kb.FirstRun.Sub(processStart)
	}
	if !kb.ExitStart.IsZero() {
		st.Exit = now.Sub(kb.ExitStart)
		if !kb.FirstRun.IsZero() && kb.ExitStart.After(kb.FirstRun) {
			st.Run = kb.ExitStart.Sub(kb.FirstRun)
		}
	}
	return st
}
