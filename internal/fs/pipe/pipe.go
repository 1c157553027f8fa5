package pipe

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/internal/vfs"
)

const (
	// PipeBuf is PIPE_BUF: writes of at most this many bytes are atomic.
	PipeBuf = 4096
	// DefaultSize is a new pipe's capacity (16 pages).
	DefaultSize = 65536
	// MaxSize is /proc/sys/fs/pipe-max-size: the most F_SETPIPE_SZ gives
	// an unprivileged caller.
	MaxSize = 1 << 20
	// Dev is the device number of pipefs, the inodes of every pipe.
	Dev = 0x0c

	pageSize = 4096
)

var lastIno atomic.Uint64

// Pipe is one pipe's buffer and state. Like Linux it holds a ring of
// page-sized buffers (capacity = slots × 4096): a write first tops up the
// last buffer with its sub-page remainder when that fits, then fills whole
// new pages; a buffer's slot frees only when it is read empty. So writes
// of at most PIPE_BUF bytes are atomic and readiness is counted in slots.
type Pipe struct {
	ino      uint64
	uid, gid uint32

	mu               sync.Mutex
	bufs             []buffer // ring of slots; len is the capacity in pages
	tail, nbufs      int      // first occupied slot, occupied slots
	n                int      // bytes held
	readers, writers int      // open ends
	// Ends ever opened, so a FIFO opener waiting for the other side sees
	// one that came and went. Linux: fs/pipe.c (r_counter, w_counter)
	readCount, writeCount uint64
	// A splice out of the pipe claims its reading side (rbusy) while the
	// bytes it offered are written elsewhere, and one into the pipe claims
	// its writing side (wbusy, reserving that many free slots) while its
	// source fills them: Linux holds the pipe's mutex across both, so
	// nobody else reads or adds bytes meanwhile and none are lost when
	// the other side takes only part. Waits on a claim are interruptible.
	rbusy, wbusy bool
	reserved     int
	// Readers waiting on the empty pipe, oldest first, for a writer to
	// copy into directly (rw.go, handOffLocked).
	direct       []*directRead
	changes      vfs.Changes
	atime, mtime unix.Timespec
	ctime        unix.Timespec
}

// buffer is one slot of the ring. Linux: include/linux/pipe_fs_i.h
type buffer struct {
	page     []byte // pageSize bytes once used; kept for the slot's reuse
	off, len int
	packet   bool // written in O_DIRECT mode: read whole, never merged
	nomerge  bool // spliced or teed in: later writes never top it up
}

// slot returns the i-th occupied (or, at nbufs, the next free) buffer.
func (p *Pipe) slot(i int) *buffer { return &p.bufs[(p.tail+i)%len(p.bufs)] }

// New returns an empty pipe with no ends, owned by ctx's file system
// credentials (nil ctx: root).
func New(ctx vfs.Ctx) *Pipe {
	now := unix.NsecToTimespec(time.Now().UnixNano())
	p := &Pipe{ino: lastIno.Add(1), bufs: make([]buffer, DefaultSize/pageSize),
		atime: now, mtime: now, ctime: now}
	if ctx != nil {
		if c := ctx.Creds(); c != nil {
			p.uid, p.gid = c.FSUID, c.FSGID
		}
	}
	return p
}

// NewFiles returns the read and write files of a new pipe, as pipe2 makes
// them; of flags only O_NONBLOCK and O_DIRECT (packet mode) are kept, as
// status flags of both files. Each file holds one reference.
func NewFiles(ctx vfs.Ctx, flags int) (r, w *vfs.File) {
	p := New(ctx)
	flags &= unix.O_NONBLOCK | unix.O_DIRECT
	re, we := p.Open(true, false), p.Open(false, true)
	r = vfs.NewAnonFile(re, p.Name(), unix.O_RDONLY|flags)
	w = vfs.NewAnonFile(we, p.Name(), unix.O_WRONLY|flags)
	re.SetFile(r)
	we.SetFile(w)
	return r, w
}

// Name is the pipe's /proc/PID/fd name, "pipe:[INO]".
func (p *Pipe) Name() string { return "pipe:[" + strconv.FormatUint(p.ino, 10) + "]" }

// Ino returns the pipe's inode number.
func (p *Pipe) Ino() uint64 { return p.ino }

// Open adds an end that reads, writes or (FIFOs opened O_RDWR) both. The
// end's Release removes it.
func (p *Pipe) Open(read, write bool) *End {
	p.mu.Lock()
	if read {
		p.readers++
		p.readCount++
	}
	if write {
		p.writers++
		p.writeCount++
	}
	p.notifyLocked()
	p.mu.Unlock()
	return &End{p: p, read: read, write: write}
}

// close removes an end. Waiting readers see EOF once the last writer is
// gone, waiting writers EPIPE once the last reader is.
func (p *Pipe) close(read, write bool) {
	p.mu.Lock()
	if read {
		p.readers--
	}
	if write {
		p.writers--
	}
	p.notifyLocked()
	p.mu.Unlock()
}

// Ends returns how many read and write ends are open.
func (p *Pipe) Ends() (readers, writers int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.readers, p.writers
}

// Len returns the number of bytes waiting to be read (FIONREAD).
func (p *Pipe) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n
}

// Size returns the capacity in bytes (F_GETPIPE_SZ).
func (p *Pipe) Size() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.bufs) * pageSize
}

// SetSize implements F_SETPIPE_SZ with the fcntl argument as Linux takes
// it (an unsigned int): the size rounds up to a power of two pages, at
// least one page; growing past MaxSize needs privileged (CAP_SYS_RESOURCE),
// else EPERM; fewer slots than are occupied is EBUSY. It returns the new
// size. Linux: fs/pipe.c (pipe_set_size, round_pipe_size, pipe_resize_ring)
func (p *Pipe) SetSize(arg uint32, privileged bool) (int, error) {
	if arg > 1<<31 {
		return 0, unix.EINVAL
	}
	size := pageSize
	for size < int(arg) {
		size <<= 1
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	slots := size / pageSize
	if slots > len(p.bufs) && size > MaxSize && !privileged {
		return 0, unix.EPERM
	}
	if slots < p.nbufs+p.reserved {
		return 0, unix.EBUSY
	}
	nb := make([]buffer, slots)
	for i := range p.nbufs {
		nb[i] = *p.slot(i)
	}
	p.bufs, p.tail = nb, 0
	p.notifyLocked()
	return size, nil
}

// Readable reports whether a read would not block: there are bytes to
// read, or no writer (EOF).
func (p *Pipe) Readable() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.nbufs > 0 || p.writers == 0
}

// Writable reports whether a write would not block: a slot is free (what
// Linux's POLLOUT means; a small write may still merge into a full ring),
// or no reader is left (EPIPE). Linux: fs/pipe.c (pipe_writable)
func (p *Pipe) Writable() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.nbufs < len(p.bufs) || p.readers == 0
}

// Changed returns a channel that is closed at the next change of the
// pipe's state (bytes written or read, an end opened or closed, a new
// size). Take it before testing Readable or Writable, then wait on it, and
// no change is missed.
func (p *Pipe) Changed() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.changedLocked()
}

func (p *Pipe) changedLocked() <-chan struct{} {
	return p.changes.Chan()
}

// notifyLocked wakes everyone waiting for a change.
func (p *Pipe) notifyLocked() {
	p.changes.Notify()
}

// Stat returns the pipe inode's attributes. Linux: fs/pipe.c (get_pipe_inode)
func (p *Pipe) Stat() vfs.Stat {
	p.mu.Lock()
	defer p.mu.Unlock()
	return vfs.Stat{Dev: Dev, Ino: p.ino, Mode: unix.S_IFIFO | 0o600, Nlink: 1,
		UID: p.uid, GID: p.gid, Blksize: pageSize,
		Atime: p.atime, Mtime: p.mtime, Ctime: p.ctime}
}

// Counts returns how many read and write ends were ever opened.
func (p *Pipe) Counts() (readers, writers uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.readCount, p.writeCount
}
