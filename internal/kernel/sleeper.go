package kernel

import "glassbox/internal/vfs"

// taskSleeper is a task's vfs.Sleeper: its parker (park.go), the same
// host futex word its futex waits park on, so a token on intr (Task.kick)
// wakes a wait on either. Only the task's own goroutine arms and sleeps.
type taskSleeper parker

// Arm implements vfs.Sleeper: Sleep returns at the first unpark from now.
func (s *taskSleeper) Arm() {
	p := (*parker)(s)
	p.armed = p.seq.Load()
	p.sleeping.Store(true)
}

// Sleep implements vfs.Sleeper.
func (s *taskSleeper) Sleep() {
	p := (*parker)(s)
	p.park(p.armed, 0)
	p.sleeping.Store(false)
}

// Wake implements vfs.Sleeper.
func (s *taskSleeper) Wake() { (*parker)(s).unpark() }

// Sleeper returns the task's vfs.Sleeper.
func (t *Task) Sleeper() vfs.Sleeper { return (*taskSleeper)(&t.park) }
