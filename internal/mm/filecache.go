package mm

import (
	"io"
	"sync"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/memfile"
	"glassbox/internal/platform"
)

// cacheChunkPages is how many consecutive frames a file cache takes at once.
const cacheChunkPages = 512

// FileCache is the page cache of a file whose contents come from elsewhere
// (a host file): pages are read in on first use and then shared by every
// mapping of the file. The cache holds one reference on each of its frames
// for as long as it lives.
type FileCache struct {
	mf   *memfile.File
	src  io.ReaderAt
	size uint64

	host   platform.HostFile // valid when hostOK
	hostOK bool

	mu     sync.Mutex
	chunks map[uint64]*cacheChunk
}

type cacheChunk struct {
	base   memfile.Frame
	n      uint64
	filled [cacheChunkPages / 64]uint64
}

// HostFD is a FileCache source that reads a host descriptor: the cache
// fills its frames from the descriptor itself (memfile.ReadFrom), so the
// file's bytes never pass through glassbox' own mapping.
type HostFD interface {
	HostFD() int
}

// NewFileCache returns a cache over src, which is size bytes long.
func NewFileCache(mf *memfile.File, src io.ReaderAt, size uint64) *FileCache {
	return &FileCache{mf: mf, src: src, size: size, chunks: map[uint64]*cacheChunk{}}
}

// NewHostFileCache is NewFileCache over a host file that nothing in the
// sandbox can write (on a read-only file system): its pages may be mapped
// from the host file itself (HostFiler). f.FD must stay open as long as
// the cache lives.
func NewHostFileCache(mf *memfile.File, src io.ReaderAt, size uint64, f platform.HostFile) *FileCache {
	c := NewFileCache(mf, src, size)
	c.host, c.hostOK = f, true
	return c
}

// HostFile implements HostFiler.
func (c *FileCache) HostFile() (platform.HostFile, bool) { return c.host, c.hostOK }

// Size implements Mappable.
func (c *FileCache) Size() uint64 { return c.size }

// Writable implements the optional check used by mprotect and mmap: cached
// host files are never written through.
func (c *FileCache) Writable() bool { return false }

// Translate implements Mappable.
func (c *FileCache) Translate(pg, n uint64) (memfile.Frame, uint64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	filePages := pageRoundUp(c.size) >> abi.PageShift
	if pg >= filePages {
		return 0, 0, unix.EFAULT
	}
	ci := pg / cacheChunkPages
	first := ci * cacheChunkPages
	ch := c.chunks[ci]
	if ch == nil {
		cnt := min(uint64(cacheChunkPages), filePages-first)
		base, err := c.mf.Alloc(cnt)
		if err != nil {
			return 0, 0, err
		}
		c.mf.AddHeld(int64(cnt))
		ch = &cacheChunk{base: base, n: cnt}
		c.chunks[ci] = ch
	}
	end := min(pg+n, first+ch.n)
	// Read in what is missing, in runs.
	for p := pg; p < end; {
		i := p - first
		if ch.filled[i/64]&(1<<(i%64)) != 0 {
			p++
			continue
		}
		q := p + 1
		for q < end && ch.filled[(q-first)/64]&(1<<((q-first)%64)) == 0 {
			q++
		}
		var got int
		var err error
		want := int((q - p) << abi.PageShift)
		if h, ok := c.src.(HostFD); ok {
			got, err = c.mf.ReadFrom(ch.base+memfile.Frame(i), q-p, h.HostFD(), int64(p<<abi.PageShift))
		} else {
			got, err = c.src.ReadAt(c.mf.Bytes(ch.base+memfile.Frame(i), q-p), int64(p<<abi.PageShift))
		}
		if err != nil && err != io.EOF && got < want && uint64(got)+p<<abi.PageShift < c.size {
			return 0, 0, unix.EIO
		}
		for r := p; r < q; r++ {
			j := r - first
			ch.filled[j/64] |= 1 << (j % 64)
		}
		p = q
	}
	base := ch.base + memfile.Frame(pg-first)
	for i := uint64(0); i < end-pg; i++ {
		c.mf.IncRef(base + memfile.Frame(i))
	}
	return base, end - pg, nil
}

// Release drops the cache's own references.
func (c *FileCache) Release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, ch := range c.chunks {
		c.mf.DecRef(ch.base, ch.n)
		c.mf.AddHeld(-int64(ch.n))
		delete(c.chunks, k)
	}
}
