package vfs

import "golang.org/x/sys/unix"

// O_ASYNC: a file with O_ASYNC set signals its F_SETOWN owner when it
// becomes readable or writable (SIGIO, or F_SETSIG's signal with si_code
// POLL_IN/POLL_OUT, si_band and si_fd). Linux calls kill_fasync from each
// driver's wake-up; here a goroutine per async file watches the file's
// readiness (Poller) and calls the notifier the syscall layer installed,
// which finds the owner and sends the signal. Files without a Poller
// never change readiness and never signal.
// Linux: fs/fcntl.c (fasync_helper, kill_fasync, send_sigio)
//
// The watcher is started and stopped under File.mu (StartAsync,
// StopAsync, the file's last DecRef); it reads the file's state through
// Readiness only.

// Poll codes of si_code for SIGIO. Linux: include/uapi/asm-generic/siginfo.h
const (
	PollIn  = 1
	PollOut = 2
	PollPri = 5
)

type asyncWatch struct {
	stop   chan struct{}
	fd     int
	notify func(code int, band uint32, fd int)
}

// StartAsync starts signalling for the file (O_ASYNC was set through fd):
// notify is called with POLL_IN or POLL_OUT, the event's poll band and fd.
// A running watcher is replaced.
func (f *File) StartAsync(fd int, notify func(code int, band uint32, fd int)) {
	p, ok := f.ops.(Poller)
	var ev uint32
	var ch <-chan struct{}
	if ok {
		// Now, not in the watcher: a change right after O_ASYNC was
		// set must signal.
		ev, ch = p.Readiness()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.extra.async != nil {
		close(f.extra.async.stop)
		f.extra.async = nil
	}
	if !ok {
		return
	}
	w := &asyncWatch{stop: make(chan struct{}), fd: fd, notify: notify}
	f.extra.async = w
	readable := f.flags&unix.O_ACCMODE != unix.O_WRONLY
	writable := f.flags&unix.O_ACCMODE != unix.O_RDONLY
	go w.run(p, ev, ch, readable, writable, fd, notify)
}

// StopAsync stops signalling (O_ASYNC cleared, or the file released).
func (f *File) StopAsync() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.extra.async != nil {
		close(f.extra.async.stop)
		f.extra.async = nil
	}
}

// run signals each change that leaves the file readable (data came), and
// each change that makes it writable again, until stopped.
func (w *asyncWatch) run(p Poller, ev uint32, ch <-chan struct{}, readable, writable bool, fd int, notify func(int, uint32, int)) {
	for {
		select {
		case <-w.stop:
			return
		case <-ch:
		}
		was := ev
		ev, ch = p.Readiness()
		select {
		case <-w.stop:
			return
		default:
		}
		if readable && ev&(unix.POLLIN|unix.POLLHUP) != 0 {
			notify(PollIn, unix.POLLIN|pollRdNorm, fd)
		}
		if writable && ev&unix.POLLOUT != 0 && was&unix.POLLOUT == 0 {
			notify(PollOut, unix.POLLOUT|pollWrNorm|pollWrBand, fd)
		}
	}
}

// Poll bits golang.org/x/sys/unix leaves out on amd64.
const (
	pollRdNorm = 0x40
	pollRdBand = 0x80
	pollWrNorm = 0x100
	pollWrBand = 0x200
)
