package mm

import (
	"os"
	"sync"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
)

// Swap is a swap area: a host file glassbox owns (created unlinked, so it
// goes away with glassbox), divided into page-sized slots. A private page
// that is swapped out has its contents in a slot and a swap entry in its
// pte instead of a frame; fork shares the slot (one reference per page
// table entry naming it), as Linux shares swap entries between parent and
// child. Linux: mm/swapfile.c (swap_map counts), mm/swap_state.c
type Swap struct {
	f *os.File

	mu    sync.Mutex
	refs  []uint32 // per slot: page table entries naming it (0: free)
	hint  uint64   // where the next search for free slots starts
	used  uint64
	stats SwapStats
}

// SwapStats are the swap area's counters.
type SwapStats struct {
	Slots, Used uint64 // size and slots in use, in pages
	Outs, Ins   uint64 // pages written out and read back
}

// NewSwap creates a swap area of size bytes in dir (the host's temporary
// directory if empty).
func NewSwap(dir string, size uint64) (*Swap, error) {
	f, err := os.CreateTemp(dir, "glassbox-swap-")
	if err != nil {
		return nil, err
	}
	os.Remove(f.Name())
	slots := size >> abi.PageShift
	if err := f.Truncate(int64(slots << abi.PageShift)); err != nil {
		f.Close()
		return nil, err
	}
	return &Swap{f: f, refs: make([]uint32, slots)}, nil
}

// Close releases the host file.
func (s *Swap) Close() error { return s.f.Close() }

// Stats returns the counters.
func (s *Swap) Stats() SwapStats {
	if s == nil {
		return SwapStats{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Slots, st.Used = uint64(len(s.refs)), s.used
	return st
}

// alloc takes up to n consecutive free slots, each with one reference,
// and returns the first and how many it got (0 when the area is full).
func (s *Swap) alloc(n uint64) (uint64, uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	total := uint64(len(s.refs))
	for pass := uint64(0); pass < total; {
		i := (s.hint + pass) % total
		if s.refs[i] != 0 {
			pass++
			continue
		}
		got := uint64(0)
		for got < n && i+got < total && s.refs[i+got] == 0 {
			s.refs[i+got] = 1
			got++
		}
		s.used += got
		s.hint = (i + got) % total
		return i, got
	}
	return 0, 0
}

// ref adds a reference to slot (fork copied the entry naming it).
func (s *Swap) ref(slot uint64) {
	s.mu.Lock()
	s.refs[slot]++
	s.mu.Unlock()
}

// unref drops a reference to each of n slots from slot; slots nobody
// names are free again. Their blocks stay allocated in the host file (at
// most the area's size, and the file dies with glassbox): punching holes
// page by page costs more than the disk space is worth.
func (s *Swap) unref(slot, n uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := slot; i < slot+n; i++ {
		s.refs[i]--
		if s.refs[i] == 0 {
			s.used--
		}
	}
}

// refsOf returns slot's reference count.
func (s *Swap) refsOf(slot uint64) uint32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refs[slot]
}

// write stores pages (each abi.PageSize bytes) in consecutive slots from
// slot with one host write.
func (s *Swap) write(slot uint64, pages [][]byte) error {
	if err := rwFull(int(s.f.Fd()), pages, int64(slot<<abi.PageShift), true); err != nil {
		return err
	}
	s.mu.Lock()
	s.stats.Outs += uint64(len(pages))
	s.mu.Unlock()
	return nil
}

// read loads consecutive slots from slot into pages with one host read.
func (s *Swap) read(slot uint64, pages [][]byte) error {
	if err := rwFull(int(s.f.Fd()), pages, int64(slot<<abi.PageShift), false); err != nil {
		return err
	}
	s.mu.Lock()
	s.stats.Ins += uint64(len(pages))
	s.mu.Unlock()
	return nil
}

// rwFull does positioned vector I/O until every byte is moved, at most
// maxIOV buffers per call.
func rwFull(fd int, bufs [][]byte, off int64, write bool) error {
	const maxIOV = 1024
	for len(bufs) > 0 {
		batch := bufs[:min(len(bufs), maxIOV)]
		var n int
		var err error
		if write {
			n, err = unix.Pwritev(fd, batch, off)
		} else {
			n, err = unix.Preadv(fd, batch, off)
		}
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n == 0 {
			return unix.EIO
		}
		off += int64(n)
		for n > 0 {
			if n >= len(bufs[0]) {
				n -= len(bufs[0])
				bufs = bufs[1:]
			} else {
				bufs[0] = bufs[0][n:]
				n = 0
			}
		}
	}
	return nil
}
