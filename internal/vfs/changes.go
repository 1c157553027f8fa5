package vfs

// Changes is how an object with state behind a mutex (a pipe, a socket, a
// terminal, an eventfd...) tells waiters that its state changed: a waiter
// takes Chan while it holds the object's lock and finds nothing to do,
// unlocks, and waits for the channel (or its own interruption, or a
// deadline); whoever changes the state calls Notify, under the same lock.
// A channel is made only when someone waits, and closed once. The zero
// value is ready; the owner's mutex guards it.
type Changes struct {
	ch chan struct{} // nil: nobody waits
}

// Chan returns a channel that is closed at the next Notify.
func (c *Changes) Chan() <-chan struct{} {
	if c.ch == nil {
		c.ch = make(chan struct{})
	}
	return c.ch
}

// Notify wakes everyone holding a channel from Chan.
func (c *Changes) Notify() {
	if c.ch != nil {
		close(c.ch)
		c.ch = nil
	}
}

// Waited reports whether a channel is out (someone may be waiting).
func (c *Changes) Waited() bool { return c.ch != nil }
