package vfs

// Changes is how an object with state behind a mutex (a pipe, a socket, a
// terminal, an eventfd...) tells waiters that its state changed: a waiter
// takes Chan while it holds the object's lock and finds nothing to do,
// unlocks, and waits for the channel (or its own interruption, or a
// deadline); whoever changes the state calls Notify, under the same lock.
// A channel is made only when someone waits, and closed once. The zero
// value is ready; the owner's mutex guards it.
//
// A waiter that has a Sleeper of its own (a task: SleeperOf) may Add it
// instead of taking the channel; Notify wakes it and takes it off, once,
// as it closes the channel. Waking a sleeper is one host futex wake of
// the thread that sleeps, not a trip through Go's scheduler to a goroutine
// that lives on a locked OS thread.
type Changes struct {
	ch       chan struct{} // nil: nobody waits
	sleepers []Sleeper
}

// Chan returns a channel that is closed at the next Notify.
func (c *Changes) Chan() <-chan struct{} {
	if c.ch == nil {
		c.ch = make(chan struct{})
	}
	return c.ch
}

// Add has s woken (and taken off) at the next Notify.
func (c *Changes) Add(s Sleeper) { c.sleepers = append(c.sleepers, s) }

// Remove takes s off if it is still on, and reports whether it was: a
// sleeper that Notify took off was woken for a change.
func (c *Changes) Remove(s Sleeper) bool {
	for i, x := range c.sleepers {
		if x == s {
			last := len(c.sleepers) - 1
			c.sleepers[i] = c.sleepers[last]
			c.sleepers[last] = nil
			c.sleepers = c.sleepers[:last]
			return true
		}
	}
	return false
}

// Notify wakes everyone holding a channel from Chan and every sleeper
// added.
func (c *Changes) Notify() {
	if c.ch != nil {
		close(c.ch)
		c.ch = nil
	}
	for i, s := range c.sleepers {
		s.Wake()
		c.sleepers[i] = nil
	}
	c.sleepers = c.sleepers[:0]
}

// Waited reports whether a channel is out or a sleeper added (someone may
// be waiting).
func (c *Changes) Waited() bool { return c.ch != nil || len(c.sleepers) > 0 }

// Sleeper is one thread's way to sleep until it is woken: a task's own
// futex word, which the task's interruption (a signal, an exit) wakes too.
// Arm, then make yourself findable (Changes.Add), then look at the state
// once more, then Sleep: a Wake after Arm is never lost.
type Sleeper interface {
	// Arm starts a new sleep: Sleep returns at the first Wake from now.
	Arm()
	// Sleep blocks until a Wake since the last Arm; it may return early.
	Sleep()
	// Wake ends the current or next Sleep.
	Wake()
}

// SleeperOf returns ctx's Sleeper, or nil if it has none.
func SleeperOf(ctx Ctx) Sleeper {
	if h, ok := ctx.(interface{ Sleeper() Sleeper }); ok {
		return h.Sleeper()
	}
	return nil
}
