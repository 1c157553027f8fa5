package tmpfs

import (
	"golang.org/x/sys/unix"

	"glassbox/internal/memfile"
	"glassbox/internal/mm"
	"glassbox/internal/vfs"
)

// File is a regular file. Its size, frames and counts are guarded by
// node.mu.
type File struct {
	node
	fsize  int64
	frames memfile.PageMap // page index → frame; absent pages are holes
	opens  int             // open descriptions
	mapped bool            // Mappable was handed out: keep the frames
	seals  uint32          // F_SEAL_* (seal.go)
}

func newFile() *File { return &File{seals: SealSeal} }

// Stat implements vfs.Inode.
func (f *File) Stat() (vfs.Stat, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := f.statLocked()
	st.Size = f.fsize
	st.Blocks = int64(f.frames.Len()) * (pageSize / 512)
	return st, nil
}

// Open implements vfs.Opener. O_TRUNC empties the file (the vfs has
// checked write permission). Linux: fs/namei.c (handle_truncate)
func (f *File) Open(ctx vfs.Ctx, flags int) (vfs.FileOps, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if flags&unix.O_TRUNC != 0 {
		if err := f.sizeCheckLocked(0); err != nil {
			return nil, err
		}
		f.setSizeLocked(0)
		t := now()
		f.mtime, f.ctime = t, t
	}
	f.opens++
	return &fileOps{f: f}, nil
}

// maybeFreeLocked releases the data of a file nobody can reach any more
// (again, if an open raced with the last unlink and wrote).
func (f *File) maybeFreeLocked() {
	if f.nlink > 0 || f.opens > 0 || f.mapped {
		return
	}
	f.dropPagesLocked(0)
}

// dropPagesLocked releases the frames of pages >= first.
func (f *File) dropPagesLocked(first uint64) {
	f.freeRangeLocked(first, ^uint64(0), nil)
}

// freeRangeLocked releases the frames of the pages in [first, last) for
// which whole (if not nil) says so. The frames go back in batches, so that
// emptying a large file needs no list of all its frames.
func (f *File) freeRangeLocked(first, last uint64, whole func(pg uint64, fr memfile.Frame) bool) {
	var frs []memfile.Frame
	f.frames.Range(first, last, func(pg uint64, fr memfile.Frame) bool {
		if whole != nil && !whole(pg, fr) {
			return true
		}
		f.frames.Delete(pg)
		if frs = append(frs, fr); len(frs) == 512 {
			f.fs.freePages(frs)
			frs = frs[:0]
		}
		return true
	})
	if len(frs) > 0 {
		f.fs.freePages(frs)
	}
}

// zeroTailLocked clears page bytes from off to the end of off's page.
func (f *File) zeroTailLocked(off int64) {
	if off&pageMask == 0 {
		return
	}
	if fr, ok := f.frames.Get(uint64(off >> pageShift)); ok {
		clear(f.fs.mf.Bytes(fr, 1)[off&pageMask:])
	}
}

// setSizeLocked truncates or extends the file. Bytes past the end of the
// last page are kept zero, so an extension reads zeros.
// Linux: mm/shmem.c (shmem_setattr), mm/truncate.c (truncate_setsize)
func (f *File) setSizeLocked(size int64) {
	if size < f.fsize {
		f.dropPagesLocked(uint64((size + pageSize - 1) >> pageShift))
		f.zeroTailLocked(size)
	} else {
		f.zeroTailLocked(f.fsize)
	}
	f.fsize = size
}

// SetAttr implements vfs.Setattrer.
func (f *File) SetAttr(ctx vfs.Ctx, a *vfs.Attr) error {
	f.mu.Lock()
	if a.Valid&vfs.AttrSize != 0 {
		if err := f.sizeCheckLocked(a.Size); err != nil {
			f.mu.Unlock()
			return err
		}
	}
	if a.Valid&vfs.AttrMode != 0 && f.seals&SealExec != 0 && (f.mode^a.Mode)&0o111 != 0 {
		f.mu.Unlock()
		return unix.EPERM
	}
	shrunk := a.Valid&vfs.AttrSize != 0 && a.Size < f.fsize && f.mapped
	if a.Valid&vfs.AttrSize != 0 && a.Size != f.fsize {
		f.setSizeLocked(a.Size)
		t := now()
		f.mtime, f.ctime = t, t
	}
	f.setAttrLocked(a)
	f.mu.Unlock()
	if shrunk {
		// Mappings lose their pages past the end (SIGBUS on the next touch).
		mm.Invalidate(f, uint64(a.Size+pageSize-1)&^(pageSize-1), ^uint64(0), true)
	}
	return nil
}

// frameLocked returns the frame of page pg, allocating it (and the run of
// missing pages after it, up to end) if absent.
func (f *File) frameLocked(pg, end uint64) (memfile.Frame, error) {
	if fr, ok := f.frames.Get(pg); ok {
		return fr, nil
	}
	cnt := uint64(1)
	if end > pg+1 {
		cnt = f.frames.Holes(pg, min(end-pg, 512))
	}
	base, err := f.fs.allocPages(cnt)
	if err != nil && cnt > 1 {
		cnt = 1
		base, err = f.fs.allocPages(1)
	}
	if err != nil {
		return 0, err
	}
	for i := uint64(0); i < cnt; i++ {
		f.frames.Set(pg+i, base+memfile.Frame(i))
	}
	return base, nil
}

// read copies file bytes at off into dst.
func (f *File) read(dst [][]byte, off int64) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, b := range dst {
		for len(b) > 0 && off < f.fsize {
			po := off & pageMask
			c := int(min(int64(len(b)), pageSize-po, f.fsize-off))
			if fr, ok := f.frames.Get(uint64(off >> pageShift)); ok {
				copy(b[:c], f.fs.mf.Bytes(fr, 1)[po:])
			} else {
				clear(b[:c])
			}
			b, off, n = b[c:], off+int64(c), n+c
		}
	}
	f.accessedLocked()
	return n
}

// write copies src into the file at off (at the end when off < 0).
// Linux: mm/filemap.c (generic_perform_write), fs/inode.c (file_remove_privs)
func (f *File) write(ctx vfs.Ctx, src [][]byte, off int64) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if off < 0 {
		off = f.fsize
	}
	total := int64(0)
	for _, b := range src {
		total += int64(len(b))
	}
	if total == 0 {
		return 0, nil
	}
	// At the largest size a write is cut, past it EFBIG.
	// Linux: mm/filemap.c (generic_write_check_limits)
	if off >= maxFileSize {
		return 0, unix.EFBIG
	}
	if total > maxFileSize-off {
		src, total = trimBufs(src, maxFileSize-off), maxFileSize-off
	}
	if allowed, err := f.writeLimitLocked(off, total); err != nil {
		return 0, err
	} else if allowed < total {
		src, total = trimBufs(src, allowed), allowed
	}
	end := uint64((off + total + pageSize - 1) >> pageShift)
	n := 0
	var err error
	for _, b := range src {
		for len(b) > 0 {
			var fr memfile.Frame
			if fr, err = f.frameLocked(uint64(off>>pageShift), end); err != nil {
				break
			}
			c := copy(f.fs.mf.Bytes(fr, 1)[off&pageMask:], b)
			b, off, n = b[c:], off+int64(c), n+c
		}
		if err != nil {
			break
		}
	}
	if off > f.fsize {
		f.fsize = off
	}
	if n > 0 {
		t := now()
		f.mtime, f.ctime = t, t
		if c := ctx.Creds(); c.FSUID != 0 {
			f.mode &^= unix.S_ISUID
			if f.mode&unix.S_IXGRP != 0 {
				f.mode &^= unix.S_ISGID
			}
		}
		return n, nil
	}
	return 0, err
}

// Allocate implements vfs.Allocator: plain allocation (extending unless
// FALLOC_FL_KEEP_SIZE) and hole punching. Linux: mm/shmem.c (shmem_fallocate)
func (f *File) Allocate(ctx vfs.Ctx, mode int, off, length int64) error {
	end := off + length
	if mode&unix.FALLOC_FL_PUNCH_HOLE != 0 && off >= 0 && length > 0 {
		mm.Invalidate(f, uint64(off), uint64(end), false)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	// Linux: mm/shmem.c (shmem_fallocate)
	if mode&unix.FALLOC_FL_PUNCH_HOLE != 0 && f.seals&(SealWrite|SealFutureWrite) != 0 ||
		mode&unix.FALLOC_FL_PUNCH_HOLE == 0 && end > f.fsize && f.seals&SealGrow != 0 {
		return unix.EPERM
	}
	switch mode {
	case 0, unix.FALLOC_FL_KEEP_SIZE:
		last := uint64((end + pageSize - 1) >> pageShift)
		if int64(last-uint64(off>>pageShift)) > f.fs.maxPages {
			return unix.ENOSPC // Linux: mm/shmem.c (shmem_fallocate)
		}
		for pg := uint64(off >> pageShift); pg < last; pg++ {
			if _, err := f.frameLocked(pg, last); err != nil {
				return err
			}
		}
		if mode == 0 && end > f.fsize {
			f.zeroTailLocked(f.fsize)
			f.fsize = end
		}
	case unix.FALLOC_FL_PUNCH_HOLE | unix.FALLOC_FL_KEEP_SIZE:
		f.punchLocked(off, end)
	default:
		return unix.EOPNOTSUPP
	}
	t := now()
	f.mtime, f.ctime = t, t
	return nil
}

// punchLocked zeroes [off, end), releasing the whole pages inside. It
// visits the pages the file has, not the range: a guest may punch
// terabytes.
func (f *File) punchLocked(off, end int64) {
	if off >= end {
		return
	}
	first, last := uint64(off>>pageShift), uint64((end-1)>>pageShift)+1
	f.freeRangeLocked(first, last, func(pg uint64, fr memfile.Frame) bool {
		lo, hi := max(off, int64(pg<<pageShift)), min(end, int64(pg+1)<<pageShift)
		if hi-lo == pageSize {
			return true
		}
		clear(f.fs.mf.Bytes(fr, 1)[lo&pageMask : (hi-1)&pageMask+1])
		return false
	})
}

// Mappable hands out the file itself. Mappings are not counted (the loader
// maps several segments with one object without references), so a file
// that was ever mapped keeps its frames for the life of the file system.
func (f *File) Mappable() (mm.Mappable, error) {
	f.mu.Lock()
	f.mapped = true
	f.mu.Unlock()
	return f, nil
}

// Size implements mm.Mappable.
func (f *File) Size() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return uint64(f.fsize)
}

// Writable tells mm whether shared mappings may write: not once the file
// is write-sealed.
func (f *File) Writable() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.seals&(SealWrite|SealFutureWrite) == 0
}

// trimBufs returns the first n bytes of bufs.
func trimBufs(bufs [][]byte, n int64) [][]byte {
	var out [][]byte
	for _, b := range bufs {
		if n <= 0 {
			break
		}
		if int64(len(b)) > n {
			b = b[:n]
		}
		out = append(out, b)
		n -= int64(len(b))
	}
	return out
}

// Translate implements mm.Mappable: the file's frames, allocated on first
// use, each with a new reference for the caller.
func (f *File) Translate(pg, n uint64) (memfile.Frame, uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	limit := uint64((f.fsize + pageSize - 1) >> pageShift)
	if pg >= limit {
		return 0, 0, unix.EFAULT
	}
	fr, err := f.frameLocked(pg, min(pg+n, limit))
	if err != nil {
		return 0, 0, unix.ENOMEM
	}
	_, got := f.frames.Run(pg, max(n, 1))
	for i := uint64(0); i < got; i++ {
		f.fs.mf.IncRef(fr + memfile.Frame(i))
	}
	return fr, got, nil
}

// fileOps is an open regular file.
type fileOps struct {
	vfs.BaseOps
	f *File
}

func (o *fileOps) Read(ctx vfs.Ctx, dst [][]byte, off int64) (int, error) {
	return o.f.read(dst, off), nil
}

func (o *fileOps) Write(ctx vfs.Ctx, src [][]byte, off int64) (int, error) {
	return o.f.write(ctx, src, off)
}

func (o *fileOps) Stat(vfs.Ctx) (vfs.Stat, error) { return o.f.Stat() }
func (o *fileOps) Mappable() (mm.Mappable, error) { return o.f.Mappable() }

func (o *fileOps) Release() {
	o.f.mu.Lock()
	o.f.opens--
	o.f.maybeFreeLocked()
	o.f.mu.Unlock()
}

// IsShmem tells smaps that the file's pages are shared memory.
func (f *File) IsShmem() bool { return true }

// Lookup implements mm.Lookuper.
func (f *File) Lookup(pg uint64) (memfile.Frame, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.frames.Get(pg)
}

// PunchHole implements mm.HolePuncher (MADV_REMOVE).
func (f *File) PunchHole(off, length uint64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.punchLocked(int64(off), int64(off+length))
	return nil
}

// SeekHoleData implements vfs.HoleSeeker: a page without a frame is a
// hole. Linux: mm/shmem.c (shmem_file_llseek), mm/filemap.c
// (mapping_seek_hole_data)
func (o *fileOps) SeekHoleData(off int64, hole bool) (int64, error) {
	f := o.f
	f.mu.Lock()
	defer f.mu.Unlock()
	if off < 0 || off >= f.fsize {
		return 0, unix.ENXIO
	}
	pg := uint64(off >> pageShift)
	if hole {
		pg = f.frames.NextHole(pg)
		return min(max(off, int64(pg)<<pageShift), f.fsize), nil
	}
	next, found := f.frames.NextPresent(pg)
	if !found || int64(next)<<pageShift >= f.fsize {
		return 0, unix.ENXIO
	}
	return max(off, int64(next)<<pageShift), nil
}
