// Package memfd makes the files memfd_create(2) returns: regular tmpfs
// files on a file system no path reaches, created under the name
// "memfd:NAME" and unlinked at once, so /proc/PID/fd shows
// "/memfd:NAME (deleted)" as on Linux. Seals live on the tmpfs file
// (tmpfs/seal.go). Linux: mm/memfd.c
//
// Lock order: FS.mu (one creation at a time, so two memfds with the same
// name never meet in the directory) → the vfs and tmpfs locks.
package memfd

import (
	"sync"

	"golang.org/x/sys/unix"

	"glassbox/internal/fs/tmpfs"
	"glassbox/internal/memfile"
	"glassbox/internal/vfs"
)

// memfd_create flags. Linux: include/uapi/linux/memfd.h
const (
	Cloexec       = 0x1
	AllowSealing  = 0x2
	HugeTLB       = 0x4
	NoexecSeal    = 0x8
	Exec          = 0x10
	allFlags      = Cloexec | AllowSealing | HugeTLB | NoexecSeal | Exec
	hugeMask      = 0x3f << 26
	NameMax       = vfs.NameMax - len("memfd:") // 249
	defaultPrefix = "memfd:"
)

// FS is the hidden file system holding every memfd of one sandbox.
type FS struct {
	mu sync.Mutex
	ns *vfs.Namespace // a namespace of its own: a mount with no parent
}

// New returns an empty memfd file system whose data lives in mf.
func New(mf *memfile.File) *FS {
	t := tmpfs.New(mf, tmpfs.Options{Mode: 0o1777})
	return &FS{ns: vfs.NewNamespace(vfs.NewRoot(t.Root()), "tmpfs", "shmem", 0)}
}

// CheckFlags validates memfd_create's flags. Linux: mm/memfd.c (sanitize_flags)
func CheckFlags(flags uint) error {
	if flags&HugeTLB == 0 && flags&^allFlags != 0 || flags&HugeTLB != 0 && flags&^(allFlags|hugeMask) != 0 {
		return unix.EINVAL
	}
	if flags&Exec != 0 && flags&NoexecSeal != 0 {
		return unix.EINVAL
	}
	return nil
}

// Create makes a memfd named name (without the "memfd:" prefix), opened
// O_RDWR. Its mode is 0777 (0666 with MFD_NOEXEC_SEAL), owned by the
// caller's fs ids; the umask does not apply. Linux: mm/memfd.c (alloc_file)
func (m *FS) Create(ctx vfs.Ctx, name string, flags uint) (*vfs.File, error) {
	if flags&HugeTLB != 0 {
		return nil, unix.EINVAL // no huge pages in the sandbox
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	root := m.ns.Root()
	dir := root.Inode().(vfs.Creator)
	full := defaultPrefix + name
	mode := uint32(0o777)
	if flags&NoexecSeal != 0 {
		mode = 0o666
	}
	in, err := dir.Create(ctx, full, mode)
	if err != nil {
		return nil, err
	}
	file := in.(*tmpfs.File)
	switch {
	case flags&NoexecSeal != 0:
		file.InitSeals(tmpfs.SealExec)
	case flags&AllowSealing != 0:
		file.InitSeals(0)
	}
	p, err := m.ns.Step(ctx, root, full)
	if err == nil {
		var f *vfs.File
		f, err = vfs.OpenPath(ctx, p, unix.O_RDWR, true)
		if err == nil {
			m.unlink(ctx, root, full)
			return f, nil
		}
	}
	m.unlink(ctx, root, full)
	return nil, err
}

func (m *FS) unlink(ctx vfs.Ctx, root vfs.Path, name string) {
	if u, ok := root.Inode().(vfs.Unlinker); ok {
		u.Unlink(ctx, name)
	}
	root.Dentry.Forget(name)
}
