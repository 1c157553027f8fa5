package kernel

import (
	"sync"

	"golang.org/x/sys/unix"
)

// Native AIO contexts (io_setup): each is a queue of completion events
// the process reaps with io_getevents. glassbox performs every request
// when it is submitted (as Linux does for buffered files), so a context
// only holds finished events. The context id is the address of a page
// mapped in the process, as Linux's ring, whose header says it is not a
// ring user space may read (libaio then always asks the kernel).
// Linux: fs/aio.c

// AIOEvent is a struct io_event.
type AIOEvent struct {
	Data, Obj uint64
	Res, Res2 int64
}

// AIOContext is one io_setup context.
type AIOContext struct {
	mu       sync.Mutex
	max      int
	inflight int // submitted, not reaped
	events   []AIOEvent
	changed  chan struct{} // closed when an event arrives or the context dies
	dead     bool
}

// aioTable is a process's contexts by id (guarded by its mu).
type aioTable struct {
	mu  sync.Mutex
	ctx map[uint64]*AIOContext
}

// NewAIOContext registers a context of max events at id (the address of
// its page).
func (tg *ThreadGroup) NewAIOContext(id uint64, max int) *AIOContext {
	c := &AIOContext{max: max, changed: make(chan struct{})}
	tg.aio.mu.Lock()
	if tg.aio.ctx == nil {
		tg.aio.ctx = map[uint64]*AIOContext{}
	}
	tg.aio.ctx[id] = c
	tg.aio.mu.Unlock()
	return c
}

// AIOContext returns the context id names (EINVAL: none).
func (tg *ThreadGroup) AIOContext(id uint64) (*AIOContext, error) {
	tg.aio.mu.Lock()
	defer tg.aio.mu.Unlock()
	if c := tg.aio.ctx[id]; c != nil {
		return c, nil
	}
	return nil, unix.EINVAL
}

// DestroyAIOContext removes the context id, waking its waiters.
func (tg *ThreadGroup) DestroyAIOContext(id uint64) error {
	tg.aio.mu.Lock()
	c := tg.aio.ctx[id]
	delete(tg.aio.ctx, id)
	tg.aio.mu.Unlock()
	if c == nil {
		return unix.EINVAL
	}
	c.mu.Lock()
	c.dead = true
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
	return nil
}

// Reserve counts one more request in flight; EAGAIN past the context's
// size.
func (c *AIOContext) Reserve() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.inflight >= c.max {
		return unix.EAGAIN
	}
	c.inflight++
	return nil
}

// Unreserve gives back a Reserve whose request was not submitted.
func (c *AIOContext) Unreserve() {
	c.mu.Lock()
	c.inflight--
	c.mu.Unlock()
}

// Complete queues a finished request's event.
func (c *AIOContext) Complete(e AIOEvent) {
	c.mu.Lock()
	c.events = append(c.events, e)
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
}

// Take removes up to n events, or returns the channel to wait on when
// fewer than want are there (and the context is alive).
func (c *AIOContext) Take(want, n int) ([]AIOEvent, <-chan struct{}, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dead {
		return nil, nil, unix.EINVAL
	}
	if len(c.events) < want {
		return nil, c.changed, nil
	}
	k := min(n, len(c.events))
	out := append([]AIOEvent(nil), c.events[:k]...)
	c.events = c.events[k:]
	c.inflight -= k
	return out, nil, nil
}
