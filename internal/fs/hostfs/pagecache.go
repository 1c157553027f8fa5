package hostfs

import (
	"bytes"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/hostfd"
	"glassbox/internal/memfile"
	"glassbox/internal/mm"
)

// Page cache of a writable file system.
//
// A read-only hostfs caches pages per (dev, ino, size, mtime) (fs.go):
// the host file cannot change under the guest. A writable one keeps one
// hfile per host inode that is open or was mapped, like Linux's inode with
// its address_space, and keeps it coherent itself:
//
//   - write(2) goes to the host and, under hfile.mu, into the cached pages
//     (so MAP_SHARED and not yet copied MAP_PRIVATE pages see it, as on
//     Linux); truncation and fallocate fix the cached pages up the same way.
//   - Stores into a MAP_SHARED, PROT_WRITE mapping land in the cached
//     frames (mm maps them writable). Such a mapping can only come from a
//     file opened O_RDWR, whose Mappable marks the hfile dirty. While it
//     is dirty, read(2) overlays the cached pages on what the host returns,
//     and the frames are written back (each page compared with the host's
//     copy, and written if it differs) when an open description of the
//     file is closed, before truncation and fallocate, and by FS.Sync.
//     Linux: mm/filemap.c (filemap_write_and_wait_range)
//   - Changes made to the host file from outside glassbox while it is
//     mapped are not noticed (pages already read in stay as they were).

// devIno names a host inode.
type devIno struct{ dev, ino uint64 }

// hfile is one host regular file that is open in the guest or mapped.
type hfile struct {
	fs  *FS
	key devIno

	// guarded by fs.mu
	refs   int  // open descriptions and operations in progress
	mapped bool // Mappable was handed out: kept for the file system's life

	mu    sync.Mutex // Linux: inode_lock; serialises writes with the cache
	fd    int        // host descriptor for page-ins and write-back, -1 until mapped
	rw    bool       // fd is open for writing
	size  int64      // the file's size as the cache sees it
	pages memfile.PageMap
	dirty atomic.Bool // a writable shared mapping may hold stores the host lacks

	ro, wr mapObj // what Mappable hands out (one each, so VMAs can merge)
}

// getFile returns the hfile of the host inode st, with a reference.
func (fs *FS) getFile(st *unix.Stat_t) *hfile {
	k := devIno{st.Dev, st.Ino}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	h := fs.files[k]
	if h == nil {
		h = &hfile{fs: fs, key: k, fd: -1}
		h.ro, h.wr = mapObj{h, false}, mapObj{h, true}
		fs.files[k] = h
	}
	h.refs++
	return h
}

// putFile drops a reference. The last close of a dirty file writes it back
// and frees the pages no mapping holds.
func (fs *FS) putFile(h *hfile) {
	if h.dirty.Load() {
		h.mu.Lock()
		if h.flushLocked() == nil {
			h.trimLocked()
		}
		h.mu.Unlock()
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	h.refs--
	if h.refs == 0 && !h.mapped {
		delete(fs.files, h.key)
	}
}

// Sync writes back what shared mappings stored into host files. Call it
// when the guest is done (and whenever the host should see such stores).
func (fs *FS) Sync() error {
	fs.mu.Lock()
	var hs []*hfile
	for _, h := range fs.files {
		if h.dirty.Load() {
			hs = append(hs, h)
		}
	}
	fs.mu.Unlock()
	var first error
	for _, h := range hs {
		h.mu.Lock()
		if err := h.flushLocked(); err != nil && first == nil {
			first = err
		}
		h.mu.Unlock()
	}
	return first
}

// mapping returns the Mappable for an open description whose host
// descriptor is fd (open for writing too if rw).
func (h *hfile) mapping(fd int, rw bool) (mm.Mappable, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.fd < 0 || rw && !h.rw {
		dup, err := hostfd.Opened(unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0))
		if err != nil {
			return nil, err
		}
		if h.fd < 0 {
			var st unix.Stat_t
			if err := unix.Fstat(dup, &st); err != nil {
				hostfd.Close(dup)
				return nil, err
			}
			h.size = st.Size
		} else {
			hostfd.Close(h.fd)
		}
		h.fd, h.rw = dup, rw
		h.fs.mu.Lock()
		h.mapped = true
		h.fs.mu.Unlock()
	}
	if rw {
		return &h.wr, nil
	}
	return &h.ro, nil
}

// mapObj is an hfile as mm sees it; wr says shared mappings may write.
type mapObj struct {
	h  *hfile
	wr bool
}

// Size implements mm.Mappable.
func (m *mapObj) Size() uint64 {
	m.h.mu.Lock()
	defer m.h.mu.Unlock()
	return uint64(m.h.size)
}

// Writable tells mm whether mprotect may make a shared mapping writable
// (the file was opened O_RDWR).
func (m *mapObj) Writable() bool { return m.wr }

// Translate implements mm.Mappable: the cached frames of pages pg..., read
// in from the host on first use, each with a new reference for the caller.
func (m *mapObj) Translate(pg, n uint64) (memfile.Frame, uint64, error) {
	h := m.h
	h.mu.Lock()
	defer h.mu.Unlock()
	if m.wr {
		h.dirty.Store(true)
	}
	limit := uint64(h.size+pageSize-1) >> abi.PageShift
	if pg >= limit {
		return 0, 0, unix.EFAULT
	}
	n = min(n, limit-pg)
	if _, ok := h.pages.Get(pg); !ok {
		if _, err := h.readInLocked(pg, n); err != nil {
			return 0, 0, err
		}
	}
	fr, got := h.pages.Run(pg, max(n, 1))
	for i := uint64(0); i < got; i++ {
		h.fs.mf.IncRef(fr + memfile.Frame(i))
	}
	return fr, got, nil
}

const pageSize = abi.PageSize

// readInLocked gives page pg, and the missing pages after it (up to n),
// frames filled from the host.
func (h *hfile) readInLocked(pg, n uint64) (memfile.Frame, error) {
	cnt := max(h.pages.Holes(pg, min(n, 512)), 1)
	mf := h.fs.mf
	base, err := mf.Alloc(cnt)
	if err != nil && cnt > 1 {
		cnt = 1
		base, err = mf.Alloc(1)
	}
	if err != nil {
		return 0, unix.ENOMEM
	}
	if _, err := fdReader(h.fd).ReadAt(mf.Bytes(base, cnt), int64(pg)<<abi.PageShift); err != nil {
		mf.DecRef(base, cnt)
		return 0, unix.EIO
	}
	for i := uint64(0); i < cnt; i++ {
		h.pages.Set(pg+i, base+memfile.Frame(i))
	}
	mf.AddHeld(int64(cnt))
	return base, nil
}

// page returns the cached bytes of page pg, or nil.
func (h *hfile) page(pg uint64) []byte {
	fr, ok := h.pages.Get(pg)
	if !ok {
		return nil
	}
	return h.fs.mf.Bytes(fr, 1)
}

// wroteLocked puts n bytes of src, just written to the host at off, into
// the cached pages.
func (h *hfile) wroteLocked(src [][]byte, off int64, n int) {
	if h.pages.Len() == 0 {
		h.size = max(h.size, off+int64(n))
		return
	}
	if end := off + int64(n); end > h.size {
		h.resizedLocked(end)
	}
	for _, b := range src {
		if n == 0 {
			break
		}
		b = b[:min(len(b), n)]
		n -= len(b)
		for len(b) > 0 {
			po := off & (pageSize - 1)
			c := min(len(b), int(pageSize-po))
			if p := h.page(uint64(off) >> abi.PageShift); p != nil {
				copy(p[po:], b[:c])
			}
			b, off = b[c:], off+int64(c)
		}
	}
}

// resizedLocked makes the cache agree with a new host size: pages past the
// end are dropped (mappings keep the frames they have), and the bytes past
// the old or new end in the last page read as zeros.
// Linux: mm/truncate.c (truncate_setsize, pagecache_isize_extended)
func (h *hfile) resizedLocked(size int64) {
	if size < h.size {
		first := uint64(size+pageSize-1) >> abi.PageShift
		h.pages.Range(first, ^uint64(0), func(pg uint64, fr memfile.Frame) bool {
			h.fs.mf.DecRef(fr, 1)
			h.fs.mf.AddHeld(-1)
			h.pages.Delete(pg)
			return true
		})
	}
	edge := min(size, h.size)
	if p := h.page(uint64(edge) >> abi.PageShift); p != nil && edge&(pageSize-1) != 0 {
		clear(p[edge&(pageSize-1):])
	}
	h.size = size
}

// refreshLocked reads the cached pages in [from, to) again from the host
// (after fallocate changed the data under them).
func (h *hfile) refreshLocked(from, to uint64) {
	h.pages.Range(from, to, func(pg uint64, fr memfile.Frame) bool {
		b := h.fs.mf.Bytes(fr, 1)
		clear(b)
		fdReader(h.fd).ReadAt(b, int64(pg)<<abi.PageShift)
		return true
	})
}

// overlayLocked copies the cached pages over n bytes just read from the
// host at off into dst: they may hold stores not yet written back.
func (h *hfile) overlayLocked(dst [][]byte, off int64, n int) {
	for _, b := range dst {
		if n == 0 {
			break
		}
		b = b[:min(len(b), n)]
		n -= len(b)
		for len(b) > 0 {
			po := off & (pageSize - 1)
			c := min(len(b), int(pageSize-po))
			if p := h.page(uint64(off) >> abi.PageShift); p != nil {
				copy(b[:c], p[po:])
			}
			b, off = b[c:], off+int64(c)
		}
	}
}

// flushLocked writes back the cached pages that differ from the host's.
func (h *hfile) flushLocked() error {
	if !h.dirty.Load() || !h.rw {
		return nil
	}
	buf := make([]byte, pageSize)
	var first error
	h.pages.Range(0, ^uint64(0), func(pg uint64, fr memfile.Frame) bool {
		off := int64(pg) << abi.PageShift
		if off >= h.size {
			return false
		}
		data := h.fs.mf.Bytes(fr, 1)[:min(pageSize, h.size-off)]
		if n, err := unix.Pread(h.fd, buf[:len(data)], off); err == nil && n == len(data) && bytes.Equal(buf[:n], data) {
			return true
		}
		for len(data) > 0 {
			n, err := unix.Pwrite(h.fd, data, off)
			if err == unix.EINTR {
				continue
			}
			if err != nil {
				if first == nil {
					first = err
				}
				break
			}
			data, off = data[n:], off+int64(n)
		}
		return true
	})
	return first
}

// trimLocked frees the cached pages no mapping holds (after a flush); with
// none left, no mapping can hold unwritten stores.
func (h *hfile) trimLocked() {
	mf := h.fs.mf
	h.pages.Range(0, ^uint64(0), func(pg uint64, fr memfile.Frame) bool {
		if mf.Refs(fr) == 1 {
			mf.DecRef(fr, 1)
			mf.AddHeld(-1)
			h.pages.Delete(pg)
		}
		return true
	})
	if h.pages.Len() == 0 {
		h.dirty.Store(false)
	}
}

// Identity implements mm.Identifier: both views name the file, so
// truncation reaches every mapping of it.
func (m *mapObj) Identity() any { return m.h }

// Lookup implements mm.Lookuper: the cached frame of page pg, if any.
func (m *mapObj) Lookup(pg uint64) (memfile.Frame, bool) {
	m.h.mu.Lock()
	defer m.h.mu.Unlock()
	return m.h.pages.Get(pg)
}

// Sync implements mm.Syncer (msync, munmap, exit): the host file gets
// what shared mappings stored.
func (m *mapObj) Sync() error {
	m.h.mu.Lock()
	defer m.h.mu.Unlock()
	return m.h.flushLocked()
}

// PunchHole implements mm.HolePuncher (MADV_REMOVE on a shared mapping):
// the host file gets a hole, the cached pages read it again.
func (m *mapObj) PunchHole(off, length uint64) error {
	h := m.h
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.rw {
		return unix.EACCES
	}
	h.flushLocked()
	if err := unix.Fallocate(h.fd, unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, int64(off), int64(length)); err != nil {
		return err
	}
	h.refreshLocked(off>>abi.PageShift, (off+length+pageSize-1)>>abi.PageShift)
	return nil
}
