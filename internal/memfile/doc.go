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
// reads back as zeros when it is handed out again.
//
// Lock order: File.mu, then the pipes' lock (Close closes the idle pipes
// under File.mu); ReadFrom takes the pipes' lock alone.
package memfile
