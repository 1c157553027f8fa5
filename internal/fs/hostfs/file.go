package hostfs

import (
	"golang.org/x/sys/unix"

	"glassbox/internal/hostfd"
	"glassbox/internal/mm"
	"glassbox/internal/vfs"
)

// file is an open host regular file.
type file struct {
	vfs.BaseOps
	fs *FS
	fd int
}

func (f *file) Read(ctx vfs.Ctx, dst [][]byte, off int64) (int, error) {
	for {
		n, err := unix.Preadv(f.fd, dst, off)
		if err == unix.EINTR {
			continue
		}
		return n, err
	}
}

func (f *file) Write(ctx vfs.Ctx, src [][]byte, off int64) (int, error) {
	if f.fs.readOnly {
		return 0, unix.EROFS
	}
	if off < 0 {
		return unix.Writev(f.fd, src) // opened O_APPEND
	}
	return unix.Pwritev(f.fd, src, off)
}

func (f *file) Stat(ctx vfs.Ctx) (vfs.Stat, error) {
	var st unix.Stat_t
	if err := unix.Fstat(f.fd, &st); err != nil {
		return vfs.Stat{}, err
	}
	return toStat(&st), nil
}

func (f *file) Release() { hostfd.Close(f.fd) }

// Mappable implements vfs.MappableFile.
func (f *file) Mappable() (mm.Mappable, error) {
	var st unix.Stat_t
	if err := unix.Fstat(f.fd, &st); err != nil {
		return nil, err
	}
	return f.fs.cache(f.fd, &st)
}

// dir is an open host directory.
type dir struct {
	vfs.BaseOps
	d dirInode
}

func (d *dir) Stat(ctx vfs.Ctx) (vfs.Stat, error)          { return d.d.Stat() }
func (d *dir) ReadDir(ctx vfs.Ctx) ([]vfs.DirEntry, error) { return d.d.ReadDir(ctx) }
