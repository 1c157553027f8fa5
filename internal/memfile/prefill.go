package memfile

import (
	"sync"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
)

// Fresh frames (at top and above) are holes: the host allocates and clears
// each page when something first touches it, inside the guest's fault or
// the stub's populating mmap, which is most of what a page costs a guest
// that keeps asking for new memory (bench page-touch: ~0.8 of ~2.7 µs a
// page here). Once the file has handed out prefillAfter bytes, a goroutine
// keeps the prefillAhead bytes above top allocated with fallocate, on
// another CPU while the guest runs, so those pages are ready when they are
// handed out. It never fills below top (frames there are in use, or free
// and punched), so a frame it fills is one nobody has had. Under a memory
// bound it fills only while the frames in use and the filled margin stay
// within the frames the guest may have (limit), so glassbox' resident set
// stays within the bound (doc.go).
const (
	prefillAfter = 16 << 20
	prefillAhead = 8 << 20
	prefillChunk = 2 << 20
)

// prefill is the filler's state. filled is under File.mu; fillMu is held
// around each fallocate and by Close before the descriptor goes, so the
// filler never uses a closed (or reused) descriptor number. Lock order:
// File.mu, then fillMu; the filler holds fillMu alone.
type prefill struct {
	filled  Frame // frames below filled are allocated or were handed out
	running bool  // the filler goroutine has been started
	wake    chan struct{}
	fillMu  sync.Mutex
	stopped bool // under fillMu: Close has run
}

// wantFillLocked wakes the filler when fresh frames were handed out past
// the threshold and the filled margin above top is short. f.mu is held.
func (f *File) wantFillLocked() {
	p := &f.fill
	if uint64(f.top)<<abi.PageShift < prefillAfter || p.filled >= f.top+prefillAhead>>abi.PageShift || !f.fillFitsLocked() {
		return
	}
	if !p.running {
		p.running = true
		p.wake = make(chan struct{}, 1)
		go f.filler(p.wake)
	}
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// fillFitsLocked reports whether a whole margin of filled frames fits in
// the limit beside the frames in use. f.mu is held.
func (f *File) fillFitsLocked() bool {
	return f.limit == 0 || f.stats.InUse+prefillAhead>>abi.PageShift <= f.limit
}

// filler fills the margin above top, a chunk at a time, each time it is
// woken; it ends when the file is closed.
func (f *File) filler(wake <-chan struct{}) {
	for range wake {
		for {
			f.mu.Lock()
			if f.fd < 0 {
				f.mu.Unlock()
				return
			}
			lo := max(f.fill.filled, f.top)
			hi := min(f.top+prefillAhead>>abi.PageShift, Frame(f.size>>abi.PageShift), lo+prefillChunk>>abi.PageShift)
			if lo >= hi || !f.fillFitsLocked() {
				f.mu.Unlock()
				break
			}
			f.fill.filled = hi
			fd := f.fd
			f.mu.Unlock()
			f.fill.fillMu.Lock()
			if f.fill.stopped {
				f.fill.fillMu.Unlock()
				return
			}
			unix.Fallocate(fd, unix.FALLOC_FL_KEEP_SIZE, int64(lo.Offset()), int64(uint64(hi-lo)<<abi.PageShift))
			f.fill.fillMu.Unlock()
		}
	}
}

// stopFillLocked makes sure no fallocate runs on the descriptor once
// Close goes on. f.mu is held.
func (f *File) stopFillLocked() {
	f.fill.fillMu.Lock()
	f.fill.stopped = true
	f.fill.fillMu.Unlock()
	if f.fill.wake != nil {
		close(f.fill.wake)
		f.fill.wake = nil
	}
}
