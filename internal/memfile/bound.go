package memfile

import "glassbox/internal/abi"

// The sandbox's memory bound (--memory) is a bound on glassbox as a whole:
// its peak resident set must stay below it. glassbox' resident set is
//
//   - the frames it touched through its own mapping of the file (all of a
//     tmpfs file's data, which glassbox writes itself), at most the frames
//     in use;
//   - its fixed footprint: its text, the Go runtime, its heap at rest and
//     the garbage collector's slack on it (ReserveBase);
//   - what it keeps per frame: the frame's counts here (4 bytes, outside
//     the Go heap), and in the Go heap the frame's slot in whatever maps a
//     page to it (a PageMap's 4 bytes, a page table's 8), which the
//     collector may let grow to twice that before it frees garbage
//     (ReservePerPage bytes a page in all).
//
// So the frames the guest may have in use are the bound less that
// overhead: SetBound sets limit = bound - ReserveBase - bound *
// ReservePerPage / PageSize. A bound too small to hold glassbox' fixed
// footprint twice over cannot be kept; the guest then gets half of it.
const (
	ReserveBase    = 32 << 20
	ReservePerPage = 24
)

// Usable returns the bytes of frames a guest may have under a bound of
// bound bytes on glassbox as a whole (a multiple of the page size).
func Usable(bound uint64) uint64 {
	var u uint64
	if bound >= 2*ReserveBase {
		u = bound - ReserveBase - bound/abi.PageSize*ReservePerPage
	}
	return max(u, bound/2) &^ (abi.PageSize - 1)
}

// SetBound bounds glassbox' memory as a whole to bytes: the frames in use
// to Usable(bytes). Limit reports bytes; Overhead the difference.
func (f *File) SetBound(bytes uint64) {
	f.mu.Lock()
	f.limit = Usable(bytes) >> abi.PageShift
	f.bound = bytes
	f.mu.Unlock()
}

// Overhead returns the bytes of the bound kept for glassbox itself: the
// bound less the frames the guest may have.
func (f *File) Overhead() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.bound == 0 {
		return 0
	}
	return f.bound - f.limit<<abi.PageShift
}
