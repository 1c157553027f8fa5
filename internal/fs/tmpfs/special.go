package tmpfs

import (
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/internal/fs/pipe"
	"glassbox/internal/vfs"
)

// Special is a socket file (made by bind, which finds the socket by this
// inode; opening it is ENXIO), a FIFO (opening it joins its pipe) or a
// device node (opening it opens the device its number names).
type Special struct {
	node
	rdev   uint64
	fifoMu sync.Mutex
	fifo   *pipe.Pipe // FIFOs: the pipe while anyone has it open
}

// mknodSpecial makes a socket, FIFO or device node (rdev: its number).
// Linux: mm/shmem.c (shmem_mknod)
func (d *Dir) mknodSpecial(ctx vfs.Ctx, name string, mode uint32, rdev uint64) error {
	_, err := d.add(ctx, name, func() (inode, error) {
		s := &Special{rdev: rdev}
		if err := s.initOwned(ctx, d, mode&unix.S_IFMT|mode&0o7777); err != nil {
			return nil, err
		}
		s.nlink = 1
		return s, nil
	})
	return err
}

// Open implements vfs.Opener. A FIFO open for reading waits for a writer
// and the other way round, unless O_NONBLOCK (a writer then gets ENXIO);
// O_RDWR never waits. Linux: fs/pipe.c (fifo_open)
func (s *Special) Open(ctx vfs.Ctx, flags int) (vfs.FileOps, error) {
	switch s.mode & unix.S_IFMT {
	case unix.S_IFCHR:
		ops, err := vfs.OpenCharDevice(s.rdev)
		if err != nil {
			return nil, err
		}
		return devFile{ops, s}, nil
	case unix.S_IFIFO:
	default:
		return nil, unix.ENXIO // sockets; block devices: no driver
	}
	acc := flags & unix.O_ACCMODE
	read, write := acc != unix.O_WRONLY, acc != unix.O_RDONLY
	s.fifoMu.Lock()
	if s.fifo == nil {
		s.fifo = pipe.New(ctx)
	}
	p := s.fifo
	s.fifoMu.Unlock()
	nonblock := flags&unix.O_NONBLOCK != 0
	if write && !read && nonblock {
		if r, _ := p.Ends(); r == 0 {
			return nil, unix.ENXIO
		}
	}
	rc0, wc0 := p.Counts()
	end := p.Open(read, write)
	if read && write || nonblock {
		return end, nil
	}
	for {
		ch := p.Changed()
		r, w := p.Ends()
		rc, wc := p.Counts()
		// The other side is there, or came (and maybe went) meanwhile.
		if read && (w > 0 || wc != wc0) || write && (r > 0 || rc != rc0) {
			return end, nil
		}
		if err := vfs.WaitAny(ctx, []<-chan struct{}{ch}, time.Time{}); err != nil {
			end.Release()
			return nil, err
		}
	}
}

// Stat implements vfs.Inode.
func (s *Special) Stat() (vfs.Stat, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.statLocked()
	st.Rdev = s.rdev
	return st, nil
}

// devFile is an open device node: the device's behaviour, the node's stat.
type devFile struct {
	vfs.FileOps
	s *Special
}

func (d devFile) Stat(vfs.Ctx) (vfs.Stat, error) { return d.s.Stat() }
