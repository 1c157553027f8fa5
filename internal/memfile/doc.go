// Package memfile owns the one memfd that holds every guest page, and
// glassbox' own mapping of it (used for all copy-in/copy-out).
//
// Guest pages are frames: page-sized slots of the file, named by their page
// number. Frames are handed out in contiguous runs so that one host mmap can
// map many guest pages at once. Each frame has a reference count (how many
// page-table entries or caches name it; copy-on-write decisions use it) and
// a pin count (how many in-flight kernel I/O operations touch it; a frame
// whose references drop to zero is not reused until it is unpinned). A freed
// frame's memory is returned to the host with FALLOC_FL_PUNCH_HOLE, so it
// reads back as zeros when it is handed out again. The counts live in an
// anonymous mapping outside the Go heap, a slot per frame the file can
// ever have, so only those of frames handed out take memory.
//
// The sandbox's memory bound (--memory, SetBound) bounds glassbox as a
// whole, not just the frames: glassbox' own peak resident set must stay
// below it, and that set holds every frame glassbox wrote through its
// mapping (all of a tmpfs file's data), its per-page metadata and its
// fixed footprint. So the frames the guest may have are the bound less
// ReserveBase and ReservePerPage bytes a page (bound.go); MemTotal stays
// the bound and the reserve shows as used. Page-indexed objects (tmpfs
// files, shared memory, page caches) name their frames with a PageMap, 4
// bytes a page.
//
// An address space released in the background after its process's exit
// was told (BeginRelease/EndRelease, kernel/release.go) still holds its
// frames; Alloc at the limit then waits, with File.mu dropped, until the
// releases in flight are done (at most releaseWait) and tries again. A
// background release takes only its own address space's lock, File.mu
// and the swap area's (mm.ReleasesAlone), so an allocator holding any
// other lock cannot block it.
//
// Fresh frames are holes the host fills on first touch; once a sandbox has
// used prefillAfter bytes, a goroutine keeps the next prefillAhead bytes
// above top allocated ahead with fallocate (prefill.go), within the bound.
//
// Lock order: File.mu, then the pipes' lock (Close closes the idle pipes
// under File.mu); ReadFrom takes the pipes' lock alone. File.mu, then
// prefill.fillMu (Close); the filler holds fillMu alone, around each
// fallocate.
package memfile
