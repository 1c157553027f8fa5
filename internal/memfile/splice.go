package memfile

import (
	"sync"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
)

// ReadFrom fills the n frames from fr with the bytes of host descriptor
// src from offset off, as a pread into Bytes(fr, n) would, and returns how
// many bytes it read (fewer at the end of src; the rest of the frames is
// left as it was). The bytes go from src's page cache into the memory
// file through a pipe (splice): none of the frames is mapped into
// glassbox on the way, which spares a host page fault per page (and
// zeroing each page before it is written). Where src cannot be spliced,
// it reads into Bytes.
func (f *File) ReadFrom(fr Frame, n uint64, src int, off int64) (int, error) {
	total := 0
	want := int(n << abi.PageShift)
	p, err := f.getPipe()
	if err == nil {
		total, err = f.splice(p, fr.Offset(), want, src, off)
		if err == nil {
			f.putPipe(p)
			return total, nil
		}
		// The pipe may hold bytes that did not reach the file.
		unix.Close(p.r)
		unix.Close(p.w)
		if total > 0 || (err != unix.EINVAL && err != unix.ENOSYS) {
			return total, err
		}
	}
	return preadFull(src, f.Bytes(fr, n), off)
}

// splice moves up to want bytes of src at off into the file at dst.
func (f *File) splice(p pipe, dst uint64, want int, src int, off int64) (int, error) {
	total := 0
	for total < want {
		in := off + int64(total)
		m, err := unix.Splice(src, &in, p.w, nil, min(want-total, p.size), unix.SPLICE_F_MOVE)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return total, err
		}
		if m == 0 {
			break // end of src
		}
		for left := m; left > 0; {
			out := int64(dst) + int64(total)
			k, err := unix.Splice(p.r, nil, f.fd, &out, int(left), unix.SPLICE_F_MOVE)
			if err == unix.EINTR {
				continue
			}
			if err != nil {
				return total, err
			}
			if k == 0 {
				return total, unix.EIO
			}
			left -= k
			total += int(k)
		}
	}
	return total, nil
}

func preadFull(fd int, b []byte, off int64) (int, error) {
	total := 0
	for total < len(b) {
		n, err := unix.Pread(fd, b[total:], off+int64(total))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return total, err
		}
		if n == 0 {
			break
		}
		total += n
	}
	return total, nil
}

// pipe is an empty pipe kept for ReadFrom.
type pipe struct {
	r, w int
	size int // its capacity in bytes
}

// pipeSize is the capacity ReadFrom asks for: a fault's window of a file
// in one splice each way.
const pipeSize = 1 << 20

// maxIdlePipes bounds the pipes kept between calls.
const maxIdlePipes = 4

// pipes are the file's idle pipes for ReadFrom (closed with the file).
type pipes struct {
	mu     sync.Mutex
	idle   []pipe
	closed bool
}

func (f *File) getPipe() (pipe, error) {
	f.pipes.mu.Lock()
	if k := len(f.pipes.idle); k > 0 {
		p := f.pipes.idle[k-1]
		f.pipes.idle = f.pipes.idle[:k-1]
		f.pipes.mu.Unlock()
		return p, nil
	}
	f.pipes.mu.Unlock()
	var fds [2]int
	if err := unix.Pipe2(fds[:], unix.O_CLOEXEC); err != nil {
		return pipe{}, err
	}
	p := pipe{r: fds[0], w: fds[1], size: 16 * abi.PageSize}
	if sz, err := unix.FcntlInt(uintptr(p.w), unix.F_SETPIPE_SZ, pipeSize); err == nil && sz > 0 {
		p.size = sz
	}
	return p, nil
}

func (f *File) putPipe(p pipe) {
	f.pipes.mu.Lock()
	defer f.pipes.mu.Unlock()
	if !f.pipes.closed && len(f.pipes.idle) < maxIdlePipes {
		f.pipes.idle = append(f.pipes.idle, p)
		return
	}
	unix.Close(p.r)
	unix.Close(p.w)
}

// closePipes closes the idle pipes; later ones are closed when put back.
func (f *File) closePipes() {
	f.pipes.mu.Lock()
	defer f.pipes.mu.Unlock()
	for _, p := range f.pipes.idle {
		unix.Close(p.r)
		unix.Close(p.w)
	}
	f.pipes.idle, f.pipes.closed = nil, true
}
