package pipe

import (
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/internal/vfs"
)

// wait blocks until ch is closed (nil) or ctx must stop waiting (EINTR),
// which it must already if a signal is pending, as Linux checks before
// sleeping (wait_event_interruptible).
func wait(ctx vfs.Ctx, ch <-chan struct{}) error {
	if ctx.Interrupted() {
		return unix.EINTR
	}
	for {
		select {
		case <-ch:
			return nil
		case <-ctx.Interrupt():
			if ctx.Interrupted() {
				return unix.EINTR
			}
		}
	}
}

// lock takes p.mu for a read or a write. Its holder copies up to a pipe's
// worth of bytes under it, for microseconds, so a contender first polls
// for a while: a task's goroutine owns its OS thread, and parking it costs
// far more than that (its thread hands its P to another and a wake-up goes
// through Go's scheduler twice), as Linux's pipe mutex spins while its
// owner runs.
func (p *Pipe) lock() {
	if p.mu.TryLock() {
		return
	}
	deadline := time.Now().Add(lockSpin)
	for i := 1; ; i++ {
		if p.mu.TryLock() {
			return
		}
		if i%32 == 0 && time.Now().After(deadline) {
			break
		}
	}
	p.mu.Lock()
}

// lockSpin bounds lock's polling: several times a 64 KiB copy.
const lockSpin = 30 * time.Microsecond

// waitLocked waits (dropping p.mu) for the pipe's next change. A task
// sleeps on its own vfs.Sleeper, which Notify wakes directly; it may come
// back (with nil) for another reason than a change, and its caller looks
// at the state again.
func (p *Pipe) waitLocked(ctx vfs.Ctx) error {
	s := vfs.SleeperOf(ctx)
	if s == nil {
		ch := p.changedLocked()
		p.mu.Unlock()
		err := wait(ctx, ch)
		p.mu.Lock()
		return err
	}
	s.Arm()
	p.changes.Add(s)
	p.mu.Unlock()
	intr := ctx.Interrupted()
	if !intr {
		s.Sleep()
	}
	p.lock()
	if p.changes.Remove(s) && (intr || ctx.Interrupted()) {
		return unix.EINTR // interrupted, not woken by a change
	}
	return nil
}

// waitReadableLocked waits (dropping p.mu) until bytes are held and no
// splice claims the reading side; eof says there are none and no writer.
func (p *Pipe) waitReadableLocked(ctx vfs.Ctx, nonblock bool) (eof bool, err error) {
	for p.rbusy || p.nbufs == 0 {
		if !p.rbusy {
			if p.writers == 0 {
				return true, nil
			}
			if nonblock {
				return false, unix.EAGAIN
			}
		}
		if err := p.waitLocked(ctx); err != nil {
			return false, err
		}
	}
	return false, nil
}

// read moves held bytes into dst, waiting for some unless nonblock. It
// takes what is there without waiting for more, and no more than one
// packet. A reader that waits on an empty pipe is registered for a hand-off
// (handOffLocked): the next writer copies straight into dst and the read
// returns those bytes. Linux: fs/pipe.c (pipe_read)
func (p *Pipe) read(ctx vfs.Ctx, dst [][]byte, nonblock bool) (int, error) {
	want := total(dst)
	if want == 0 {
		return 0, nil
	}
	p.lock()
	for p.rbusy || p.nbufs == 0 {
		if !p.rbusy {
			if p.writers == 0 {
				p.mu.Unlock()
				return 0, nil
			}
			if nonblock {
				p.mu.Unlock()
				return 0, unix.EAGAIN
			}
		}
		r := &directRead{dst: dst, want: want}
		p.direct = append(p.direct, r)
		err := p.waitLocked(ctx)
		p.dropDirectLocked(r)
		if r.n > 0 { // a writer copied into dst: the read is done, even if interrupted
			p.atime = unix.NsecToTimespec(time.Now().UnixNano())
			p.mu.Unlock()
			return r.n, nil
		}
		if err != nil {
			p.mu.Unlock()
			return 0, err
		}
	}
	c := cursor{bufs: dst}
	done := 0
	for done < want && p.nbufs > 0 {
		b := p.slot(0)
		m := min(b.len, want-done)
		c.copyOut(b.page[b.off : b.off+m])
		b.off += m
		b.len -= m
		p.n -= m
		done += m
		packet := b.packet
		if packet { // the rest of the packet is dropped
			p.n -= b.len
			b.len = 0
		}
		if b.len == 0 {
			p.tail = (p.tail + 1) % len(p.bufs)
			p.nbufs--
		}
		if packet {
			break
		}
	}
	p.atime = unix.NsecToTimespec(time.Now().UnixNano())
	p.notifyLocked()
	p.mu.Unlock()
	return done, nil
}

// directRead is a read(2) waiting on a pipe, registered in Pipe.direct.
// A writer sets n (under p.mu) once it has copied n bytes into dst and
// takes the entry out of the list; the reader then returns n.
type directRead struct {
	dst  [][]byte
	want int
	n    int
}

// dropDirectLocked takes r out of the waiting readers, if still there.
func (p *Pipe) dropDirectLocked(r *directRead) {
	for i, d := range p.direct {
		if d == r {
			copy(p.direct[i:], p.direct[i+1:])
			p.direct[len(p.direct)-1] = nil
			p.direct = p.direct[:len(p.direct)-1]
			return
		}
	}
}

// handOffLocked copies up to left bytes from c straight into the buffer of
// the longest-waiting reader, one copy instead of two, and completes that
// read; it returns how many bytes it moved. It does so only when Linux,
// whose writer would put the bytes in the pipe and wake the reader to take
// them, ends in the same state: the pipe holds nothing (no byte may
// overtake another) and no splice claims its reading side; the reader
// takes all that is left or whole pages of it (so the pages left behind,
// and with them the free slots, are the same); and a nonblocking writer's
// bytes all fit (else Linux's write stops when the pipe is full, before
// the reader runs). A poller may not see bytes handed off, as it would not
// if the woken reader took them before the poller looked.
func (p *Pipe) handOffLocked(c *cursor, left int, nonblock bool) int {
	if p.nbufs != 0 || p.rbusy || len(p.direct) == 0 {
		return 0
	}
	if nonblock && left > (len(p.bufs)-p.reserved)*pageSize {
		return 0
	}
	if m := min(left, p.direct[0].want); m < left && m%pageSize != 0 {
		return 0
	}
	r := p.direct[0]
	p.dropDirectLocked(r)
	m := min(left, r.want)
	d := cursor{bufs: r.dst}
	for moved := 0; moved < m; {
		b := c.next(m - moved)
		if len(b) == 0 {
			break
		}
		d.copyOut(b)
		moved += len(b)
	}
	r.n = m
	return m
}

// write moves src into the pipe: the sub-page remainder into the last
// buffer if it fits there whole (never for packets), the rest in new
// pages, one O_DIRECT packet per page. Writes of at most PIPE_BUF bytes
// thus go in whole or wait; larger ones may be split and interleaved. A
// blocking write returns when all is written, or early with the count so
// far when interrupted (EINTR if nothing was). With no reader left it
// returns EPIPE, with the count so far if any; the caller raises SIGPIPE.
// Linux: fs/pipe.c (pipe_write)
func (p *Pipe) write(ctx vfs.Ctx, src [][]byte, nonblock, packet bool) (int, error) {
	want := total(src)
	if want == 0 {
		return 0, nil // "Null write succeeds", even with no reader
	}
	c := cursor{bufs: src}
	done := 0
	noted := false
	var err error
	p.lock()
	for p.wbusy { // a splice is filling the free slots
		if werr := p.waitLocked(ctx); werr != nil {
			p.mu.Unlock()
			return 0, werr
		}
	}
	if chars := want % pageSize; chars > 0 && p.nbufs > 0 && p.readers > 0 && !packet {
		if b := p.slot(p.nbufs - 1); !b.packet && !b.nomerge && b.off+b.len+chars <= pageSize {
			c.copyIn(b.page[b.off+b.len : b.off+b.len+chars])
			b.len += chars
			p.n += chars
			done = chars
		}
	}
	for done < want {
		if p.readers == 0 {
			err = unix.EPIPE
			break
		}
		if p.wbusy {
			if werr := p.waitLocked(ctx); werr != nil {
				if done == 0 {
					err = werr
				}
				break
			}
			continue
		}
		if !packet {
			if m := p.handOffLocked(&c, want-done, nonblock); m > 0 {
				done += m
				continue
			}
		}
		if p.nbufs < len(p.bufs) {
			b := p.slot(p.nbufs)
			if b.page == nil {
				b.page = make([]byte, pageSize)
			}
			m := min(pageSize, want-done)
			c.copyIn(b.page[:m])
			b.off, b.len, b.packet, b.nomerge = 0, m, packet, false
			p.nbufs++
			p.n += m
			done += m
			continue
		}
		if nonblock {
			if done == 0 {
				err = unix.EAGAIN
			}
			break
		}
		p.notifyLocked() // wake readers before sleeping
		// Note the wait outside p.mu, then look again.
		if !noted {
			noted = true
			full := p.n
			p.mu.Unlock()
			vfs.Note(ctx, p.Name()+" full ("+strconv.Itoa(full)+" bytes): writer waits")
			p.mu.Lock()
			continue
		}
		noted = false
		if werr := p.waitLocked(ctx); werr != nil {
			if done == 0 {
				err = werr
			}
			break
		}
	}
	if done > 0 {
		now := unix.NsecToTimespec(time.Now().UnixNano())
		p.mtime, p.ctime = now, now
		p.notifyLocked()
	}
	p.mu.Unlock()
	return done, err
}

// cursor walks a list of buffers.
type cursor struct {
	bufs [][]byte
	off  int
}

// next returns the next at most max bytes.
func (c *cursor) next(max int) []byte {
	for len(c.bufs) > 0 && c.off == len(c.bufs[0]) {
		c.bufs, c.off = c.bufs[1:], 0
	}
	if len(c.bufs) == 0 {
		return nil
	}
	b := c.bufs[0][c.off:]
	if len(b) > max {
		b = b[:max]
	}
	c.off += len(b)
	return b
}

// copyIn fills dst from the cursor's buffers.
func (c *cursor) copyIn(dst []byte) {
	for len(dst) > 0 {
		b := c.next(len(dst))
		if len(b) == 0 {
			return
		}
		dst = dst[copy(dst, b):]
	}
}

// copyOut moves src into the cursor's buffers.
func (c *cursor) copyOut(src []byte) {
	for len(src) > 0 {
		b := c.next(len(src))
		if len(b) == 0 {
			return
		}
		src = src[copy(b, src):]
	}
}

func total(bufs [][]byte) int {
	n := 0
	for _, b := range bufs {
		n += len(b)
	}
	return n
}
