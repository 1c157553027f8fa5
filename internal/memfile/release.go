package memfile

import "time"

// releaseWait bounds how long Alloc at the limit waits for releases in
// flight. A release takes its address space's lock and the memory file's
// (never another address space's), so it finishes unless the allocator
// holds the releasing address space's own lock (a remote access into a
// dying process at the limit): then Alloc gives up after this long.
const releaseWait = 2 * time.Second

// BeginRelease says an address space's frames are on their way back:
// the kernel tells its parent of a process's exit before the process's
// host stub is reaped and its frames are freed, on another goroutine.
// Until the matching EndRelease, Alloc at the limit waits for the frames
// instead of failing (the memory bound counts them until they are
// freed, as Linux's does until exit_mm).
func (f *File) BeginRelease() {
	f.mu.Lock()
	if f.releasing == 0 {
		f.released = make(chan struct{})
	}
	f.releasing++
	f.mu.Unlock()
}

// EndRelease ends a BeginRelease, once the address space's frames are
// freed.
func (f *File) EndRelease() {
	f.mu.Lock()
	f.releasing--
	if f.releasing == 0 {
		close(f.released)
	}
	f.mu.Unlock()
}

// awaitReleasesLocked waits, with mu dropped, until no release is in
// flight or releaseWait has passed, while n more frames would exceed the
// limit. It reports whether they now fit. Called with mu held.
func (f *File) awaitReleasesLocked(n uint64) bool {
	deadline := time.Now().Add(releaseWait)
	for f.releasing > 0 {
		ch := f.released
		left := time.Until(deadline)
		if left <= 0 {
			break
		}
		t := time.NewTimer(left)
		f.mu.Unlock()
		select {
		case <-ch:
		case <-t.C:
		}
		t.Stop()
		f.mu.Lock()
		if f.stats.InUse+n <= f.limit {
			return true
		}
	}
	return f.stats.InUse+n <= f.limit
}
