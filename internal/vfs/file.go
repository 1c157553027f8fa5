package vfs

import (
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"glassbox/internal/mm"
)

// Memory is guest memory as ioctl handlers see it.
type Memory interface {
	CopyIn(addr uint64, b []byte) error
	CopyOut(addr uint64, b []byte) error
}

// FileOps is an open file's behaviour, provided by its file system.
// Offsets: off >= 0 is a position; off < 0 means "append" for Write and is
// ignored by streams (pipes, terminals), which take their data in order.
type FileOps interface {
	Read(ctx Ctx, dst [][]byte, off int64) (int, error)
	Write(ctx Ctx, src [][]byte, off int64) (int, error)
	Stat(ctx Ctx) (Stat, error)
	Release()
}

// NoWait reports whether ctx asks for one transfer that does not wait
// (preadv2's RWF_NOWAIT), whatever the file's O_NONBLOCK.
func NoWait(ctx Ctx) bool {
	nw, ok := ctx.(interface{ NoWait() bool })
	return ok && nw.NoWait()
}

// NoopSeeker is implemented by streams whose lseek succeeds and leaves
// the position, which stays 0, alone (inotify). Linux: fs/read_write.c (noop_llseek)
type NoopSeeker interface{ NoopSeek() }

// Stream is implemented by files without positions (lseek gives ESPIPE).
type Stream interface{ IsStream() }

// DirReader is implemented by open directories.
type DirReader interface {
	ReadDir(ctx Ctx) ([]DirEntry, error)
}

// Ioctler is implemented by files that answer ioctl.
type Ioctler interface {
	Ioctl(ctx Ctx, mem Memory, cmd uint32, arg uint64) (uint64, error)
}

// MappableFile is implemented by files that mmap can map.
type MappableFile interface {
	Mappable() (mm.Mappable, error)
}

// BaseOps gives default answers; file implementations embed it.
type BaseOps struct{}

func (BaseOps) Read(Ctx, [][]byte, int64) (int, error)  { return 0, unix.EINVAL }
func (BaseOps) Write(Ctx, [][]byte, int64) (int, error) { return 0, unix.EINVAL }
func (BaseOps) Release()                                {}

// File is an open file description: what open() creates and dup() and
// fork() share, with its own offset and status flags.
type File struct {
	ops  FileOps
	path Path   // zero for anonymous files
	name string // for /proc/PID/fd of anonymous files, e.g. "pipe:[7]"
	// lazyName, when set, makes name at its first use (NewAnonFileNamer).
	lazyName *lazyName
	refs     atomic.Int64
	// lockedOFD is set once the description has owned an OFD or flock lock.
	lockedOFD atomic.Bool
	// writer is the key of the regular file it holds write access to.
	writer *fileKey
	// created: the open that made this description created the file
	// (fcntl F_CREATED_QUERY). Set before the file is shared.
	created bool

	mu      sync.Mutex
	flags   int // O_ACCMODE and status flags
	pos     int64
	dirents []DirEntry
	extra   fileExtra
}

// NewFile returns a file description with one reference.
func NewFile(ops FileOps, path Path, flags int) *File {
	f := &File{ops: ops, path: path, flags: flags}
	f.refs.Store(1)
	if b, ok := ops.(interface{ SetFile(*File) }); ok {
		b.SetFile(f) // ops that read their file's status flags (O_NONBLOCK)
	}
	return f
}

// Created reports whether the open that made f created its file.
func (f *File) Created() bool { return f.created }

// NewAnonFile returns a file with no path, named for /proc as name.
func NewAnonFile(ops FileOps, name string, flags int) *File {
	f := NewFile(ops, Path{}, flags)
	f.name = name
	return f
}

// Ops returns the file's implementation.
func (f *File) Ops() FileOps { return f.ops }

// Path returns where the file was opened (zero for anonymous files).
func (f *File) Path() Path { return f.path }

// NewAnonFileNamer is NewAnonFile with a name made when /proc first asks
// for it (a host descriptor's name costs the host a /proc lookup, which a
// guest that never reads /proc/PID/fd should not pay for).
func NewAnonFileNamer(ops FileOps, name func() string, flags int) *File {
	f := NewFile(ops, Path{}, flags)
	f.lazyName = &lazyName{make: name}
	return f
}

// lazyName is a name made once, at its first use.
type lazyName struct {
	once sync.Once
	make func() string
	name string
}

// AnonName is the /proc name of an anonymous file.
func (f *File) AnonName() string {
	if l := f.lazyName; l != nil {
		l.once.Do(func() { l.name = l.make() })
		return l.name
	}
	return f.name
}

// IncRef adds a reference.
func (f *File) IncRef() { f.refs.Add(1) }

// DecRef drops a reference; the last one releases the file.
func (f *File) DecRef() {
	if f.refs.Add(-1) == 0 {
		f.StopAsync()
		if leases.n.Load() > 0 {
			releaseLease(f)
		}
		if f.lockedOFD.Load() {
			releaseOFD(f)
		}
		if watchers.n.Load() > 0 && !f.isPath() {
			if f.Writable() {
				notifyFile(f, unix.IN_CLOSE_WRITE)
			} else {
				notifyFile(f, unix.IN_CLOSE_NOWRITE)
			}
		}
		f.ops.Release()
		if f.writer != nil {
			putAccess(*f.writer, -1)
		}
	}
}

// Flags returns the access mode and status flags.
func (f *File) Flags() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.flags
}

// SetStatusFlags changes the flags F_SETFL may change.
func (f *File) SetStatusFlags(fl int) {
	const settable = unix.O_APPEND | unix.O_NONBLOCK | unix.O_ASYNC | unix.O_DIRECT | unix.O_NOATIME
	f.mu.Lock()
	f.flags = f.flags&^settable | fl&settable
	f.mu.Unlock()
}

// Readable and Writable report the access mode.
func (f *File) Readable() bool {
	m := f.Flags() & unix.O_ACCMODE
	return m == unix.O_RDONLY || m == unix.O_RDWR
}

// Writable reports whether the file was opened for writing.
func (f *File) Writable() bool {
	m := f.Flags() & unix.O_ACCMODE
	return m == unix.O_WRONLY || m == unix.O_RDWR
}

func (f *File) isPath() bool { return f.Flags()&unix.O_PATH != 0 }

// Read reads at the file position (pread when off >= 0).
func (f *File) Read(ctx Ctx, dst [][]byte, off int64) (int, error) {
	if !f.Readable() || f.isPath() {
		return 0, unix.EBADF
	}
	if _, ok := f.ops.(DirReader); ok {
		return 0, unix.EISDIR
	}
	if off >= 0 {
		if _, ok := f.ops.(Stream); ok {
			return 0, unix.ESPIPE
		}
		return f.ops.Read(ctx, dst, off)
	}
	if _, ok := f.ops.(Stream); ok {
		return f.ops.Read(ctx, dst, -1)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	n, err := f.ops.Read(ctx, dst, f.pos)
	f.pos += int64(n)
	return n, err
}

// Write writes at the file position, or at off >= 0 (pwrite).
func (f *File) Write(ctx Ctx, src [][]byte, off int64) (int, error) {
	return f.WriteAppend(ctx, src, off, f.Flags()&unix.O_APPEND != 0)
}

// WriteAppend is Write appending (or not) whatever the file's O_APPEND
// (pwritev2's RWF_APPEND and RWF_NOAPPEND).
func (f *File) WriteAppend(ctx Ctx, src [][]byte, off int64, app bool) (int, error) {
	n, err := f.write(ctx, src, off, app)
	if n > 0 && watchers.n.Load() > 0 {
		notifyFile(f, unix.IN_MODIFY)
	}
	return n, err
}

func (f *File) write(ctx Ctx, src [][]byte, off int64, app bool) (int, error) {
	if !f.Writable() || f.isPath() {
		return 0, unix.EBADF
	}
	if _, ok := f.ops.(Stream); ok {
		if off >= 0 {
			return 0, unix.ESPIPE
		}
		return f.ops.Write(ctx, src, -1)
	}
	if off >= 0 && !app {
		src, err := f.limitWrite(ctx, off, src)
		if err != nil {
			return 0, err
		}
		return f.ops.Write(ctx, src, off)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if app {
		// pwrite on an O_APPEND file appends too and leaves the
		// position alone. Linux: mm/filemap.c (generic_write_checks)
		src, err := f.limitWrite(ctx, -1, src)
		if err != nil {
			return 0, err
		}
		n, err := f.ops.Write(ctx, src, -1)
		if off >= 0 {
			return n, err
		}
		if st, serr := f.ops.Stat(ctx); serr == nil {
			f.pos = st.Size
		}
		return n, err
	}
	src, err := f.limitWrite(ctx, f.pos, src)
	if err != nil {
		return 0, err
	}
	n, err := f.ops.Write(ctx, src, f.pos)
	f.pos += int64(n)
	return n, err
}

// FileSizeLimiter is a Ctx with a file size limit (RLIMIT_FSIZE).
type FileSizeLimiter interface {
	FileSizeLimit() uint64
}

// limitWrite applies the caller's file size limit to a write of src at
// pos (-1: the end) of a regular file: EFBIG at or past the limit, else
// src cut to end there. Linux: mm/filemap.c (generic_write_check_limits)
func (f *File) limitWrite(ctx Ctx, pos int64, src [][]byte) ([][]byte, error) {
	l, ok := ctx.(FileSizeLimiter)
	if !ok {
		return src, nil
	}
	lim := l.FileSizeLimit()
	if lim >= 1<<63 {
		return src, nil
	}
	st, err := f.ops.Stat(ctx)
	if err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		return src, nil
	}
	if pos < 0 {
		pos = st.Size
	}
	if uint64(pos) >= lim {
		return nil, unix.EFBIG
	}
	room := lim - uint64(pos)
	var out [][]byte
	for _, b := range src {
		if room == 0 {
			break
		}
		if uint64(len(b)) > room {
			b = b[:room]
		}
		room -= uint64(len(b))
		out = append(out, b)
	}
	return out, nil
}

// HoleSeeker is file data that knows its holes (SEEK_DATA, SEEK_HOLE).
// Without it the whole file is data, as POSIX allows.
type HoleSeeker interface {
	SeekHoleData(off int64, hole bool) (int64, error)
}

// Stat returns the file's attributes.
func (f *File) Stat(ctx Ctx) (Stat, error) { return f.ops.Stat(ctx) }

// Seek implements lseek. Linux: fs/read_write.c (generic_file_llseek)
func (f *File) Seek(ctx Ctx, off int64, whence int) (int64, error) {
	if _, ok := f.ops.(NoopSeeker); ok {
		return 0, nil
	}
	if _, ok := f.ops.(Stream); ok {
		return 0, unix.ESPIPE
	}
	// Directories of the in-memory file systems (and merged ones) seek
	// only from the start or the position. Linux: fs/libfs.c (dcache_dir_lseek)
	if _, dir := f.ops.(DirReader); dir && whence != unix.SEEK_SET && whence != unix.SEEK_CUR {
		return 0, unix.EINVAL
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var base int64
	switch whence {
	case unix.SEEK_SET:
	case unix.SEEK_CUR:
		base = f.pos
	case unix.SEEK_END, unix.SEEK_DATA, unix.SEEK_HOLE:
		st, err := f.ops.Stat(ctx)
		if err != nil {
			return 0, err
		}
		if hd, ok := f.ops.(HoleSeeker); ok && whence != unix.SEEK_END {
			n, err := hd.SeekHoleData(off, whence == unix.SEEK_HOLE)
			if err == nil {
				f.pos = n
			}
			return n, err
		}
		switch whence {
		case unix.SEEK_END:
			base = st.Size
		case unix.SEEK_DATA:
			if off >= st.Size || off < 0 {
				return 0, unix.ENXIO
			}
		case unix.SEEK_HOLE:
			if off >= st.Size || off < 0 {
				return 0, unix.ENXIO
			}
			off, base = st.Size, 0
		}
	default:
		return 0, unix.EINVAL
	}
	n := base + off
	if n < 0 || (off > 0 && n < base) {
		return 0, unix.EINVAL
	}
	if n == 0 {
		f.dirents = nil // rewinddir
	}
	f.pos = n
	return n, nil
}

// ReadDir returns directory entries from the file position on, advancing
// it by however many the caller consumed (via the returned commit func).
// Positions count ".", ".." and then the entries.
func (f *File) ReadDir(ctx Ctx, self, parent uint64) ([]DirEntry, func(n int), error) {
	dr, ok := f.ops.(DirReader)
	if !ok {
		return nil, nil, unix.ENOTDIR
	}
	f.mu.Lock()
	if f.dirents == nil || f.pos == 0 {
		// Read the entries without holding f.mu: a directory listing may
		// look at this very file (/proc/self/fd lists its own descriptor).
		f.mu.Unlock()
		ents, err := dr.ReadDir(ctx)
		if err != nil {
			return nil, nil, err
		}
		f.mu.Lock()
		f.dirents = append([]DirEntry{{Name: ".", Ino: self, Type: unix.DT_DIR},
			{Name: "..", Ino: parent, Type: unix.DT_DIR}}, ents...)
	}
	pos := f.pos
	if pos > int64(len(f.dirents)) {
		pos = int64(len(f.dirents))
	}
	ents := f.dirents[pos:]
	return ents, func(n int) {
		f.pos = pos + int64(n)
		f.mu.Unlock()
	}, nil
}

// Scatter copies src into the buffers of dst in order, as far as they
// reach, for a read(2) into an iovec.
func Scatter(dst [][]byte, src []byte) {
	for _, b := range dst {
		n := copy(b, src)
		src = src[n:]
		if len(src) == 0 {
			return
		}
	}
}
