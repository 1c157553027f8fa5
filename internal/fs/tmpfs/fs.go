package tmpfs

import (
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/memfile"
	"glassbox/internal/vfs"
)

// Sizes Linux reports. Linux: mm/shmem.c (BOGO_DIRENT_SIZE,
// SHORT_SYMLINK_LEN), include/linux/fs.h (MAX_LFS_FILESIZE)
const (
	bogoDirentSize  = 20
	shortSymlinkLen = 128
	maxFileSize     = math.MaxInt64
	pageSize        = abi.PageSize
	pageMask        = abi.PageMask
	pageShift       = abi.PageShift
)

// firstDev is the device number of the first tmpfs; later ones count up.
const firstDev = 0x2a

var devs atomic.Uint64

// Options configure a new file system.
type Options struct {
	// Mode, UID and GID are the root's (default 01777, 0, 0; with a Lower,
	// the lower directory's).
	Mode     uint32
	UID, GID uint32
	// Size bounds the data in bytes (default: half the host's RAM, as
	// Linux does); it also sets the inode limit to Size/4096.
	Size uint64
	// Lower is a read-only directory showing through the root.
	Lower vfs.Dir
}

// FS is one tmpfs instance.
type FS struct {
	mf        *memfile.File
	dev       uint64
	maxPages  int64
	maxInodes int64
	pages     atomic.Int64 // frames held by files
	inodes    atomic.Int64 // inodes with links
	nextIno   atomic.Uint64

	mu       sync.RWMutex
	root     *Dir
	lower    vfs.Dir
	whiteout map[string]bool // lower names removed from the root
}

// New returns an empty file system whose file data lives in mf.
func New(mf *memfile.File, o Options) *FS {
	if o.Size == 0 {
		var si unix.Sysinfo_t
		if unix.Sysinfo(&si) == nil {
			o.Size = uint64(si.Totalram) * uint64(si.Unit) / 2
		}
		if o.Size == 0 {
			o.Size = 1 << 30
		}
	}
	fs := &FS{mf: mf, dev: firstDev + devs.Add(1) - 1, maxPages: int64(o.Size >> pageShift),
		lower: o.Lower, whiteout: map[string]bool{}}
	fs.maxInodes = fs.maxPages
	mode := o.Mode
	if o.Lower != nil {
		if st, err := o.Lower.Stat(); err == nil {
			mode, o.UID, o.GID = st.Mode, st.UID, st.GID
		}
	}
	if mode&0o7777 == 0 {
		mode = 0o1777
	}
	fs.root = &Dir{entries: map[string]*entry{}}
	fs.root.initNode(fs, unix.S_IFDIR|mode&0o7777, o.UID, o.GID)
	fs.root.nlink, fs.root.size = 2, 2*bogoDirentSize
	return fs
}

// Root returns the root directory.
func (fs *FS) Root() vfs.Inode { return fs.root }

// Dev returns the device number stat reports.
func (fs *FS) Dev() uint64 { return fs.dev }

// statfs reports the file system's numbers. Linux: mm/shmem.c (shmem_statfs)
func (fs *FS) statfs() (unix.Statfs_t, error) {
	free := max(fs.maxPages-fs.pages.Load(), 0)
	ifree := max(fs.maxInodes-fs.inodes.Load(), 0)
	return unix.Statfs_t{Type: vfs.TmpfsMagic, Bsize: pageSize, Frsize: pageSize,
		Blocks: uint64(fs.maxPages), Bfree: uint64(free), Bavail: uint64(free),
		Files: uint64(fs.maxInodes), Ffree: uint64(ifree), Namelen: vfs.NameMax}, nil
}

// allocPages takes n frames, within the size limit.
func (fs *FS) allocPages(n uint64) (memfile.Frame, error) {
	if fs.pages.Add(int64(n)) > fs.maxPages {
		fs.pages.Add(-int64(n))
		return 0, unix.ENOSPC
	}
	fr, err := fs.mf.Alloc(n)
	if err != nil {
		fs.pages.Add(-int64(n))
		return 0, unix.ENOSPC
	}
	fs.mf.AddHeld(int64(n))
	return fr, nil
}

// freePages drops the file's reference on each frame in frs.
func (fs *FS) freePages(frs []memfile.Frame) {
	slices.Sort(frs)
	for i := 0; i < len(frs); {
		j := i + 1
		for j < len(frs) && frs[j] == frs[j-1]+1 {
			j++
		}
		fs.mf.DecRef(frs[i], uint64(j-i))
		i = j
	}
	fs.pages.Add(-int64(len(frs)))
	fs.mf.AddHeld(-int64(len(frs)))
}

func now() unix.Timespec { return unix.NsecToTimespec(time.Now().UnixNano()) }

// inGroup is in_group_p: the file system gid or a supplementary group.
func inGroup(c *vfs.Creds, gid uint32) bool {
	if c.FSGID == gid {
		return true
	}
	for _, g := range c.Groups {
		if g == gid {
			return true
		}
	}
	return false
}
