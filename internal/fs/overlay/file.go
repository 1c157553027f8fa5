package overlay

import (
	"sync"

	"golang.org/x/sys/unix"

	"glassbox/internal/mm"
	"glassbox/internal/vfs"
)

// Open implements vfs.Opener. Opening a lower regular file for writing
// (or with O_TRUNC) copies it up first; O_TRUNC copies no data. Special
// files are never copied up by an open. Linux: fs/overlayfs/file.c
// (ovl_open), fs/overlayfs/copy_up.c (ovl_open_need_copy_up)
func (f fileNode) Open(ctx vfs.Ctx, flags int) (vfs.FileOps, error) {
	write := flags&unix.O_ACCMODE != unix.O_RDONLY || flags&unix.O_TRUNC != 0
	if write && f.up() == nil {
		st, err := f.lower.Stat()
		if err != nil {
			return nil, err
		}
		if st.Type() == unix.S_IFREG {
			limit := int64(-1)
			if flags&unix.O_TRUNC != 0 {
				limit = 0
			}
			if err := f.fs.copyUp(ctx, f.node, limit); err != nil {
				return nil, err
			}
		}
	}
	up := f.up()
	real := f.real()
	op, ok := real.(vfs.Opener)
	if !ok {
		return nil, unix.ENXIO
	}
	ops, err := op.Open(ctx, flags)
	if err != nil {
		return nil, err
	}
	return &fileOps{n: f.node, real: ops, onUpper: up != nil}, nil
}

// fileOps is an open overlay file: the open file of the layer that held
// the object when it was opened, until a copy-up moves it to the upper.
type fileOps struct {
	n *node

	mu      sync.Mutex
	real    vfs.FileOps
	onUpper bool
	old     []vfs.FileOps // replaced files, released with this one (a reader may still use one)
}

// current returns the open file to use now. A file opened from the lower
// layer (so read-only: opening for writing copies up) and since copied up
// continues on the upper copy.
// Linux: fs/overlayfs/file.c (ovl_real_fdget_meta)
func (o *fileOps) current(ctx vfs.Ctx) vfs.FileOps {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.onUpper {
		if op, ok := o.n.up().(vfs.Opener); ok {
			if ops, err := op.Open(ctx, unix.O_RDONLY); err == nil {
				o.old = append(o.old, o.real)
				o.real, o.onUpper = ops, true
			}
		}
	}
	return o.real
}

func (o *fileOps) Read(ctx vfs.Ctx, dst [][]byte, off int64) (int, error) {
	return o.current(ctx).Read(ctx, dst, off)
}

func (o *fileOps) Write(ctx vfs.Ctx, src [][]byte, off int64) (int, error) {
	return o.current(ctx).Write(ctx, src, off)
}

// Stat reports the overlay's attributes, as stat on the path does.
func (o *fileOps) Stat(vfs.Ctx) (vfs.Stat, error) { return o.n.Stat() }

// Mappable implements vfs.MappableFile: the layer's own file, so mappings
// of a lower file share its page cache. Linux: fs/overlayfs/file.c
// (ovl_mmap)
func (o *fileOps) Mappable() (mm.Mappable, error) {
	mf, ok := o.current(rootCtx{}).(vfs.MappableFile)
	if !ok {
		return nil, unix.ENODEV
	}
	return mf.Mappable()
}

func (o *fileOps) Release() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.real.Release()
	for _, f := range o.old {
		f.Release()
	}
	o.old = nil
}
