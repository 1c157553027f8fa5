package pipe

import (
	"time"

	"golang.org/x/sys/unix"

	"glassbox/internal/vfs"
)

// The splice family moves bytes between a pipe and another file without
// ever holding one that neither side has: a splice out of a pipe offers
// the held bytes to the other file and consumes only what it took; a
// splice into a pipe lets its source fill only free slots. Linux holds the
// pipe's mutex for the whole transfer; here the reading or writing side is
// claimed instead (Pipe.rbusy, Pipe.wbusy), so p.mu is never held while
// the other file blocks. Claims are always taken input side first, then
// output side, so two splices never wait for each other in a cycle.
// Linux: fs/splice.c

// claimLocked waits (dropping p.mu) until *busy is clear and sets it.
func (p *Pipe) claimLocked(ctx vfs.Ctx, busy *bool) error {
	for *busy {
		if err := p.waitLocked(ctx); err != nil {
			return err
		}
	}
	*busy = true
	return nil
}

// releaseLocked clears a claim and wakes its waiters.
func (p *Pipe) releaseLocked(busy *bool) {
	*busy = false
	p.notifyLocked()
}

// viewLocked returns the first at most max held bytes, in place.
func (p *Pipe) viewLocked(max int) [][]byte {
	var v [][]byte
	for i := 0; i < p.nbufs && max > 0; i++ {
		b := p.slot(i)
		m := min(b.len, max)
		v = append(v, b.page[b.off:b.off+m])
		max -= m
	}
	return v
}

// consumeLocked drops the first n held bytes.
func (p *Pipe) consumeLocked(n int) {
	for n > 0 && p.nbufs > 0 {
		b := p.slot(0)
		m := min(b.len, n)
		b.off += m
		b.len -= m
		p.n -= m
		n -= m
		if b.len == 0 {
			p.tail = (p.tail + 1) % len(p.bufs)
			p.nbufs--
		}
	}
	p.atime = unix.NsecToTimespec(time.Now().UnixNano())
	p.notifyLocked()
}

// SpliceOut moves at most max held bytes to another file: drain writes
// what it is given and returns how much it took. Only that much is
// consumed; the rest stays at the head of the pipe. It waits for bytes
// unless nonblock (EAGAIN), returns 0 at EOF, and once it has moved some
// returns when the pipe is empty, max is reached or drain took less than
// offered (with drain's error, which the caller reports only when
// nothing moved). Linux: fs/splice.c (splice_from_pipe_next,
// iter_file_splice_write), net/socket.c (splice_to_socket)
func (e *End) SpliceOut(ctx vfs.Ctx, max int, nonblock bool, drain func([][]byte) (int, error)) (int, error) {
	if !e.read {
		return 0, unix.EBADF
	}
	p := e.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if eof, err := p.waitReadableLocked(ctx, nonblock); eof || err != nil {
		return 0, err
	}
	p.rbusy = true
	defer p.releaseLocked(&p.rbusy)
	done := 0
	for done < max && p.nbufs > 0 {
		v := p.viewLocked(max - done)
		offered := total(v)
		p.mu.Unlock()
		n, err := drain(v) // which may reslice v's elements
		p.mu.Lock()
		n = min(n, offered)
		p.consumeLocked(n)
		done += n
		if err != nil || n < offered {
			return done, err
		}
	}
	return done, nil
}

// SpliceIn lets fill read at most max bytes straight into the pipe's free
// slots. It waits for a free slot unless nonblock (EAGAIN); with no reader
// it returns EPIPE (the caller raises SIGPIPE). skip (< 4096) is where the
// source's first byte sits in its page: a file splices page by page, so
// its first slot holds only the rest of that page. fill returns how many
// bytes it stored, in order from the first buffer; they become the pipe's
// newest bytes. Linux: fs/splice.c (splice_file_to_pipe, wait_for_space,
// do_splice_read)
func (e *End) SpliceIn(ctx vfs.Ctx, max, skip int, nonblock bool, fill func([][]byte) (int, error)) (int, error) {
	if !e.write {
		return 0, unix.EBADF
	}
	p := e.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.waitWritableLocked(ctx, nonblock); err != nil {
		return 0, err
	}
	p.wbusy = true
	defer p.releaseLocked(&p.wbusy)
	free := len(p.bufs) - p.nbufs
	room := min(max, free*pageSize)
	var pages [][]byte
	var dst [][]byte
	var offs, lens []int // dst's, kept: fill may reslice dst's elements
	for i := 0; i < free && room > 0; i++ {
		pg := p.slot(p.nbufs + i).page
		if pg == nil {
			pg = make([]byte, pageSize)
		}
		off := 0
		if i == 0 {
			off = skip % pageSize
		}
		m := min(pageSize-off, room)
		pages = append(pages, pg)
		dst = append(dst, pg[off:off+m])
		offs, lens = append(offs, off), append(lens, m)
		room -= m
	}
	p.reserved = len(pages)
	p.mu.Unlock()
	n, err := fill(dst)
	n = min(n, sum(lens))
	if n < 0 {
		n = 0
	}
	p.mu.Lock()
	p.reserved = 0
	left := n
	for i := 0; left > 0; i++ {
		m := min(lens[i], left)
		b := p.slot(p.nbufs)
		*b = buffer{page: pages[i], off: offs[i], len: m, nomerge: true}
		p.nbufs++
		p.n += m
		left -= m
	}
	if n > 0 {
		now := unix.NsecToTimespec(time.Now().UnixNano())
		p.mtime, p.ctime = now, now
	}
	return n, err
}

// waitWritableLocked waits (dropping p.mu) until a slot is free and no
// splice claims the writing side. With no reader it is EPIPE.
func (p *Pipe) waitWritableLocked(ctx vfs.Ctx, nonblock bool) error {
	for {
		if p.readers == 0 {
			return unix.EPIPE
		}
		if !p.wbusy {
			if p.nbufs < len(p.bufs) {
				return nil
			}
			if nonblock {
				return unix.EAGAIN
			}
		}
		if err := p.waitLocked(ctx); err != nil {
			return err
		}
	}
}

// Splice moves at most max bytes from the pipe of in to the pipe of out,
// one input buffer to one output slot (a buffer longer than what is left
// is split), as much as is there and fits; Tee copies them instead,
// leaving in's bytes in place. Both wait for input (0 when it is empty
// and has no writer) and then for a free output slot, unless nonblock
// (EAGAIN); no reader on out is EPIPE. in and out must be different
// pipes. Linux: fs/splice.c (splice_pipe_to_pipe, link_pipe, ipipe_prep,
// opipe_prep)
func Splice(ctx vfs.Ctx, in, out *End, max int, nonblock bool) (int, error) {
	return pipeToPipe(ctx, in, out, max, nonblock, false)
}

// Tee is Splice without consuming the input. Linux: fs/splice.c (do_tee)
func Tee(ctx vfs.Ctx, in, out *End, max int, nonblock bool) (int, error) {
	return pipeToPipe(ctx, in, out, max, nonblock, true)
}

func pipeToPipe(ctx vfs.Ctx, in, out *End, max int, nonblock, tee bool) (int, error) {
	if !in.read || !out.write {
		return 0, unix.EBADF
	}
	ip, op := in.p, out.p
	if ip == op {
		return 0, unix.EINVAL
	}
	if max <= 0 {
		return 0, nil
	}
	for {
		ip.mu.Lock()
		eof, err := ip.waitReadableLocked(ctx, nonblock)
		if eof || err != nil {
			ip.mu.Unlock()
			return 0, err
		}
		ip.rbusy = true
		ip.mu.Unlock()
		// Claim out only if it has room now; otherwise let go of in while
		// waiting, so no claim is ever held while waiting for another.
		op.mu.Lock()
		var ch <-chan struct{}
		switch {
		case op.readers == 0:
			err = unix.EPIPE
		case !op.wbusy && op.nbufs < len(op.bufs):
			op.wbusy = true
		case nonblock && !op.wbusy:
			err = unix.EAGAIN
		default:
			ch = op.changedLocked()
		}
		op.mu.Unlock()
		if err == nil && ch == nil {
			n := movePipe(ip, op, max, tee)
			op.mu.Lock()
			op.releaseLocked(&op.wbusy)
			op.mu.Unlock()
			ip.mu.Lock()
			ip.releaseLocked(&ip.rbusy)
			ip.mu.Unlock()
			return n, nil
		}
		ip.mu.Lock()
		ip.releaseLocked(&ip.rbusy)
		ip.mu.Unlock()
		if err != nil {
			return 0, err
		}
		if err := wait(ctx, ch); err != nil {
			return 0, err
		}
	}
}

// movePipe copies (tee) or moves buffers from ip to op while both are
// claimed, never holding both locks at once: nobody else consumes ip's
// bytes or fills op's slots meanwhile, so what op had free stays free.
func movePipe(ip, op *Pipe, max int, tee bool) int {
	op.mu.Lock()
	free := len(op.bufs) - op.nbufs
	op.mu.Unlock()
	ip.mu.Lock()
	var moved []buffer
	done := 0
	for i := 0; i < ip.nbufs && len(moved) < free && done < max; i++ {
		b := ip.slot(i)
		m := min(b.len, max-done)
		pg := make([]byte, pageSize)
		copy(pg[b.off:], b.page[b.off:b.off+m])
		// A split buffer, or one teed, is never topped up by later writes;
		// a buffer moved whole keeps its kind. Linux: pipe_buf_mark_unmergeable
		moved = append(moved, buffer{page: pg, off: b.off, len: m, packet: b.packet,
			nomerge: b.nomerge || tee || m < b.len})
		done += m
	}
	if !tee {
		ip.consumeLocked(done)
	}
	ip.mu.Unlock()
	op.mu.Lock()
	for _, nb := range moved {
		*op.slot(op.nbufs) = nb
		op.nbufs++
		op.n += nb.len
	}
	if done > 0 {
		now := unix.NsecToTimespec(time.Now().UnixNano())
		op.mtime, op.ctime = now, now
		op.notifyLocked()
	}
	op.mu.Unlock()
	return done
}

func sum(ns []int) int {
	t := 0
	for _, n := range ns {
		t += n
	}
	return t
}
