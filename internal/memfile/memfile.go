package memfile

import (
	"fmt"
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
)

// Frame is a page of the memory file, named by its page number.
type Frame uint64

// Offset is the frame's byte offset in the memory file.
func (f Frame) Offset() uint64 { return uint64(f) << abi.PageShift }

// growStep is how much the file grows when it runs out of frames.
const growStep = 64 << 20

// File is the memory file.
type File struct {
	fd  int
	mem []byte // glassbox' mapping of the whole reserved size
	max uint64 // reserved size in bytes
	// limit bounds frames in use (0: none): what the sandbox's memory
	// bound (--memory) leaves the guest (bound.go). Alloc beyond it fails
	// with ErrLimit.
	limit uint64
	bound uint64 // the bound in bytes (SetBound, SetLimit); 0: none
	// meta backs refs and pins: an anonymous mapping of a slot per frame
	// the file can ever have, outside the Go heap, so that only the slots
	// of frames handed out take memory (bound.go).
	meta []byte

	mu      sync.Mutex
	size    uint64 // current file size in bytes (multiple of growStep)
	top     Frame  // frames below top have been handed out at least once
	refs    []int32
	pins    []int32
	pinned  int              // frames with pins > 0
	zombie  map[Frame]bool   // refs == 0 but pinned: free at unpin
	free    map[Frame]uint64 // free runs: start -> length
	freeEnd map[Frame]Frame  // free runs: end -> start
	stats   Stats

	held atomic.Int64 // frames files hold (AddHeld)

	// releasing counts address spaces on their way back to the file
	// (BeginRelease): their frames are about to be freed. Under mu;
	// released is closed (and replaced) when it drops to zero.
	releasing int
	released  chan struct{}

	pipes pipes // for ReadFrom (splice.go)

	fill prefill // fresh frames allocated ahead (prefill.go)
}

// Stats are counters over the file's life.
type Stats struct {
	InUse     uint64 // frames with references
	PeakInUse uint64
	Allocated uint64 // frames handed out in total
}

// New creates a memory file that can grow to max bytes.
func New(max uint64) (*File, error) {
	max &^= growStep - 1
	if max>>abi.PageShift > maxFrames {
		return nil, fmt.Errorf("memory file of %d bytes: more frames than a PageMap holds", max)
	}
	fd, err := unix.MemfdCreate("glassbox-memory", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("memfd_create: %w", err)
	}
	mem, err := unix.Mmap(fd, 0, int(max), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_NORESERVE)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("mapping memory file: %w", err)
	}
	frames := int(max >> abi.PageShift)
	metaSize := 8 * frames
	if metaSize == 0 {
		metaSize = abi.PageSize
	}
	meta, err := unix.Mmap(-1, 0, metaSize, unix.PROT_READ|unix.PROT_WRITE,
		unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE)
	if err != nil {
		unix.Munmap(mem)
		unix.Close(fd)
		return nil, fmt.Errorf("mapping memory file counts: %w", err)
	}
	f := &File{fd: fd, mem: mem, max: max, meta: meta,
		zombie: map[Frame]bool{}, free: map[Frame]uint64{}, freeEnd: map[Frame]Frame{}}
	if frames > 0 {
		f.refs = unsafe.Slice((*int32)(unsafe.Pointer(&meta[0])), frames)
		f.pins = unsafe.Slice((*int32)(unsafe.Pointer(&meta[4*frames])), frames)
	}
	return f, nil
}

// ErrLimit is what Alloc returns when the frames in use would exceed the
// limit. It unwraps to ENOMEM, which is what a system call that meets it
// reports; page faults reclaim (swap) or kill instead.
var ErrLimit error = limitError{}

type limitError struct{}

func (limitError) Error() string { return "memory limit reached" }
func (limitError) Unwrap() error { return unix.ENOMEM }

// SetLimit bounds the frames in use to bytes exactly (0: no bound but
// the reservation), leaving nothing for glassbox itself (see SetBound).
func (f *File) SetLimit(bytes uint64) {
	f.mu.Lock()
	f.limit = bytes >> abi.PageShift
	f.bound = f.limit << abi.PageShift
	f.mu.Unlock()
}

// Limit returns the bound in bytes (0: none): what SetBound or SetLimit
// was given.
func (f *File) Limit() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.bound
}

// Pinned reports whether fr is pinned for I/O.
func (f *File) Pinned(fr Frame) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.pins[fr] > 0
}

// PinnedFrames returns how many frames are pinned right now.
func (f *File) PinnedFrames() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.pinned
}

// FD is the memfd, to be mapped by stubs.
func (f *File) FD() int { return f.fd }

// Bytes returns glassbox' view of n pages starting at frame fr. The frames
// must be allocated (or pinned) for as long as the slice is used.
func (f *File) Bytes(fr Frame, n uint64) []byte {
	o := fr.Offset()
	return f.mem[o : o+n<<abi.PageShift : o+n<<abi.PageShift]
}

// Alloc returns n contiguous zeroed frames, each with one reference.
func (f *File) Alloc(n uint64) (Frame, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.limit != 0 && f.stats.InUse+n > f.limit && !f.awaitReleasesLocked(n) {
		return 0, ErrLimit
	}
	fr, ok := f.takeFree(n)
	if !ok {
		end := uint64(f.top) + n
		if end<<abi.PageShift > f.max {
			return 0, unix.ENOMEM
		}
		for end<<abi.PageShift > f.size {
			if err := unix.Ftruncate(f.fd, int64(f.size+growStep)); err != nil {
				return 0, unix.ENOMEM
			}
			f.size += growStep
		}
		fr = f.top
		f.top = Frame(end)
		f.wantFillLocked()
	}
	for i := uint64(0); i < n; i++ {
		f.refs[fr+Frame(i)] = 1
	}
	f.stats.InUse += n
	f.stats.Allocated += n
	if f.stats.InUse > f.stats.PeakInUse {
		f.stats.PeakInUse = f.stats.InUse
	}
	return fr, nil
}

// takeFree finds a free run of at least n frames.
func (f *File) takeFree(n uint64) (Frame, bool) {
	for start, l := range f.free {
		if l < n {
			continue
		}
		delete(f.free, start)
		delete(f.freeEnd, start+Frame(l))
		if l > n {
			f.addFree(start+Frame(n), l-n)
		}
		return start, true
	}
	return 0, false
}

func (f *File) addFree(start Frame, n uint64) {
	end := start + Frame(n)
	if s, ok := f.freeEnd[start]; ok { // merge with the run before
		delete(f.freeEnd, start)
		n += f.free[s]
		delete(f.free, s)
		start = s
	}
	if l, ok := f.free[end]; ok { // merge with the run after
		delete(f.free, end)
		delete(f.freeEnd, end+Frame(l))
		n += l
	}
	f.free[start] = n
	f.freeEnd[start+Frame(n)] = start
}

// IncRef adds a reference to fr.
func (f *File) IncRef(fr Frame) {
	f.mu.Lock()
	f.refs[fr]++
	f.mu.Unlock()
}

// Refs returns fr's reference count.
func (f *File) Refs(fr Frame) int32 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.refs[fr]
}

// DecRef drops a reference to each of n frames starting at fr; frames left
// with none are freed (or freed at unpin).
func (f *File) DecRef(fr Frame, n uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	runStart, runLen := Frame(0), uint64(0)
	flush := func() {
		if runLen > 0 {
			f.release(runStart, runLen)
			runLen = 0
		}
	}
	for i := Frame(0); i < Frame(n); i++ {
		x := fr + i
		f.refs[x]--
		if f.refs[x] < 0 {
			panic(fmt.Sprintf("memfile: frame %d over-released", x))
		}
		if f.refs[x] > 0 {
			flush()
			continue
		}
		f.stats.InUse--
		if f.pins[x] > 0 {
			flush()
			f.zombie[x] = true
			continue
		}
		if runLen > 0 && runStart+Frame(runLen) == x {
			runLen++
		} else {
			flush()
			runStart, runLen = x, 1
		}
	}
	flush()
}

// release returns frames to the host and to the free runs.
func (f *File) release(fr Frame, n uint64) {
	unix.Fallocate(f.fd, unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE,
		int64(fr.Offset()), int64(n<<abi.PageShift))
	f.addFree(fr, n)
}

// Pin keeps fr's memory from being reused while the kernel does I/O on it.
func (f *File) Pin(fr Frame) {
	f.mu.Lock()
	f.pins[fr]++
	if f.pins[fr] == 1 {
		f.pinned++
	}
	f.mu.Unlock()
}

// Unpin undoes Pin.
func (f *File) Unpin(fr Frame) {
	f.mu.Lock()
	f.unpinLocked(fr)
	f.mu.Unlock()
}

// UnpinAll undoes a Pin of each of frs, under one hold of the lock.
func (f *File) UnpinAll(frs []Frame) {
	f.mu.Lock()
	for _, fr := range frs {
		f.unpinLocked(fr)
	}
	f.mu.Unlock()
}

func (f *File) unpinLocked(fr Frame) {
	f.pins[fr]--
	if f.pins[fr] == 0 {
		f.pinned--
	}
	if f.pins[fr] == 0 && f.zombie[fr] {
		delete(f.zombie, fr)
		f.release(fr, 1)
	}
}

// AddHeld counts n frames (negative: uncounts) that a file holds rather
// than a process: tmpfs data, page caches, shared memory segments. They
// may stay in use when no process is left; Leaked compares.
func (f *File) AddHeld(n int64) { f.held.Add(n) }

// Held is how many frames files hold (the sum of AddHeld).
func (f *File) Held() int64 { return f.held.Load() }

// Leaked is how many frames are in use beyond those files hold. Once
// every process of the sandbox is gone it must be 0: anything else is a
// reference lost (a frame no one will ever free).
func (f *File) Leaked() int64 {
	f.mu.Lock()
	inUse := int64(f.stats.InUse)
	f.mu.Unlock()
	return inUse - f.held.Load()
}

// Stats returns the counters.
func (f *File) Stats() Stats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stats
}

// ResidentBytes is how much host memory the file holds right now.
func (f *File) ResidentBytes() uint64 {
	var st unix.Stat_t
	if unix.Fstat(f.fd, &st) != nil {
		return 0
	}
	return uint64(st.Blocks) * 512
}

// Close unmaps the file from glassbox and closes it, giving its memory
// back to the host. Nothing may use the file's frames afterwards: the
// sandbox and every guest are gone.
func (f *File) Close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fd < 0 {
		return
	}
	f.closePipes()
	f.stopFillLocked()
	unix.Munmap(f.mem)
	unix.Close(f.fd)
	f.refs, f.pins = nil, nil
	unix.Munmap(f.meta)
	f.mem, f.fd, f.meta = nil, -1, nil
}
