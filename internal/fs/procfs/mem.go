package procfs

import (
	"golang.org/x/sys/unix"

	"glassbox/internal/fs/synth"
	"glassbox/internal/vfs"
)

// memFile is /proc/PID/mem: the address space as a file, the offset
// being the address. Opening it needs ptrace's attach access; reads and
// writes stop at the first page that can't be accessed (EIO when that is
// the first). Linux: fs/proc/base.c (mem_open, mem_rw)
func memFile(p Process, owned func(synth.Attr) synth.Attr) vfs.Inode {
	return &memInode{Attr: owned(synth.NewAttr(Dev, unix.S_IFREG|0o600)), p: p}
}

type memInode struct {
	synth.Attr
	p Process
}

// Open implements vfs.Opener.
func (in *memInode) Open(ctx vfs.Ctx, flags int) (vfs.FileOps, error) {
	rw, release, err := in.p.OpenMem(ctx)
	if err != nil {
		return nil, err
	}
	return &memOps{in: in, rw: rw, release: release}, nil
}

type memOps struct {
	vfs.BaseOps
	in      *memInode
	rw      func(addr uint64, b []byte, write bool) (int, error)
	release func()
}

func (o *memOps) Stat(vfs.Ctx) (vfs.Stat, error) { return o.in.Stat() }

func (o *memOps) Release() { o.release() }

func (o *memOps) Read(ctx vfs.Ctx, dst [][]byte, off int64) (int, error) {
	return o.copy(dst, off, false)
}

func (o *memOps) Write(ctx vfs.Ctx, src [][]byte, off int64) (int, error) {
	return o.copy(src, off, true)
}

func (o *memOps) copy(bufs [][]byte, off int64, write bool) (int, error) {
	done := 0
	for _, b := range bufs {
		n, err := o.rw(uint64(off)+uint64(done), b, write)
		done += n
		if err != nil || n < len(b) {
			if done == 0 {
				return 0, unix.EIO
			}
			break
		}
	}
	return done, nil
}
