package kernel

import (
	"sync"
	"time"
)

// BootTimes are where the first process's start and end took time, for
// the start-up breakdown of --stats.
type BootTimes struct {
	// Stub is how long the first address space took to make (the
	// platform's first stub process); Exec the rest of the first
	// process's exec (reading and mapping the program and its
	// interpreter, the initial stack).
	Stub, Exec time.Duration
	// FirstRun is when the first process was handed to the guest for its
	// first instruction (zero if it never got there).
	FirstRun time.Time
	// ExitStart is when the first process began to exit (exit_group, its
	// last exit, or a fatal signal), ExitDone when it had exited (every
	// thread's stub released).
	ExitStart, ExitDone time.Time
}

// bootClock collects BootTimes (under mu).
type bootClock struct {
	mu      sync.Mutex
	t       BootTimes
	stubSet bool
}

// Boot returns the start-up and exit times so far.
func (k *Kernel) Boot() BootTimes {
	k.boot.mu.Lock()
	defer k.boot.mu.Unlock()
	return k.boot.t
}

// noteFirstStub records how long the first address space took; later
// ones are not start-up.
func (k *Kernel) noteFirstStub(d time.Duration) {
	k.boot.mu.Lock()
	if !k.boot.stubSet {
		k.boot.stubSet = true
		k.boot.t.Stub = d
	}
	k.boot.mu.Unlock()
}

// noteInitExec records the first process's exec (d includes the stub).
func (k *Kernel) noteInitExec(d time.Duration) {
	k.boot.mu.Lock()
	k.boot.t.Exec = d - k.boot.t.Stub
	k.boot.mu.Unlock()
}

func (k *Kernel) noteFirstRun() {
	k.boot.mu.Lock()
	k.boot.t.FirstRun = time.Now()
	k.boot.mu.Unlock()
}

// noteExitStart records when tg, if it is the first process, began to
// exit.
func (k *Kernel) noteExitStart(tg *ThreadGroup) {
	now := time.Now()
	k.mu.Lock()
	isInit := k.init == tg
	k.mu.Unlock()
	if !isInit {
		return
	}
	k.boot.mu.Lock()
	if k.boot.t.ExitStart.IsZero() {
		k.boot.t.ExitStart = now
	}
	k.boot.mu.Unlock()
}

func (k *Kernel) noteExitDone() {
	k.boot.mu.Lock()
	k.boot.t.ExitDone = time.Now()
	k.boot.mu.Unlock()
}
