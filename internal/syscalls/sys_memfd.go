package syscalls

import (
	"sync"

	"golang.org/x/sys/unix"

	"glassbox/internal/fs/memfd"
	"glassbox/internal/kernel"
	"glassbox/internal/vfs"
)

func init() {
	reg(unix.SYS_MEMFD_CREATE, sysMemfdCreate)
}

// memfds holds each sandbox's memfd file system, by memory file.
var memfds sync.Map // *memfile.File → *memfd.FS

func memfdFS(k *kernel.Kernel) *memfd.FS {
	if fs, ok := memfds.Load(k.MemFile()); ok {
		return fs.(*memfd.FS)
	}
	fs, _ := memfds.LoadOrStore(k.MemFile(), memfd.New(k.MemFile()))
	return fs.(*memfd.FS)
}

// sysMemfdCreate. Linux: mm/memfd.c (memfd_create)
func sysMemfdCreate(t *kernel.Task, a kernel.Args) (uint64, error) {
	flags := uint(uint32(a[1]))
	if err := memfd.CheckFlags(flags); err != nil {
		return 0, err
	}
	name, err := t.ReadString(a[0], memfd.NameMax+1)
	if err == unix.ENAMETOOLONG {
		return 0, unix.EINVAL
	}
	if err != nil {
		return 0, err
	}
	f, err := memfdFS(t.Kernel()).Create(t, name, flags)
	if err != nil {
		return 0, err
	}
	fd, err := t.FDs().Install(f, 0, flags&memfd.Cloexec != 0, t.FDLimit())
	if err != nil {
		f.DecRef()
		return 0, err
	}
	return uint64(fd), nil
}

// sealer is an open tmpfs file (every shmem file has seals on Linux).
type sealer interface {
	Seals() uint32
	AddSeals(s uint32, writableMaps func(obj any) bool) error
}

// fcntlSeals implements F_ADD_SEALS and F_GET_SEALS.
// Linux: mm/memfd.c (memfd_fcntl, memfd_add_seals, memfd_get_seals)
func fcntlSeals(t *kernel.Task, f *vfs.File, cmd int, arg uint64) (uint64, error) {
	s, ok := f.Ops().(sealer)
	if cmd == unix.F_GET_SEALS {
		if !ok {
			return 0, unix.EINVAL
		}
		return uint64(s.Seals()), nil
	}
	if !f.Writable() {
		return 0, unix.EPERM
	}
	if uint32(arg)&^0x3f != 0 || !ok {
		return 0, unix.EINVAL
	}
	return 0, s.AddSeals(uint32(arg), t.Kernel().SharedWritableMapped)
}

// mapSealCheck refuses a shared writable mapping of a write-sealed file.
func mapSealCheck(obj any, shared bool, prot int) error {
	if c, ok := obj.(interface {
		CheckMap(shared, write bool) error
	}); ok {
		return c.CheckMap(shared, prot&unix.PROT_WRITE != 0)
	}
	return nil
}
