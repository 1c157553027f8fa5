package syscalls

import (
	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/kernel"
	"glassbox/internal/mm"
	"glassbox/internal/vfs"
)

func init() {
	reg(unix.SYS_BRK, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return t.MM().Brk(t.Mapper(), a[0]), nil
	})
	reg(unix.SYS_MMAP, sysMmap)
	reg(unix.SYS_MUNMAP, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return 0, t.MM().Munmap(t.Mapper(), a[0], a[1])
	})
	reg(unix.SYS_MPROTECT, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return 0, t.MM().Mprotect(t.Mapper(), a[0], a[1], a.Int(2))
	})
	reg(unix.SYS_MREMAP, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return t.MM().Mremap(t.Mapper(), a[0], a[1], a[2], a.Int(3), a[4])
	})
	reg(unix.SYS_REMAP_FILE_PAGES, sysRemapFilePages, "emulated by mapping the range again, as Linux does")
	reg(unix.SYS_MADVISE, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return 0, t.MM().Madvise(t.Mapper(), a[0], a[1], a.Int(2))
	})
	reg(unix.SYS_MSYNC, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return 0, t.MM().Msync(a[0], a[1], a.Int(2))
	})
	reg(unix.SYS_MINCORE, sysMincore)
	reg(unix.SYS_MLOCK, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return 0, t.MM().Mlock(a[0], a[1], 0, memlockLimit(t))
	})
	reg(unix.SYS_MLOCK2, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return 0, t.MM().Mlock(a[0], a[1], a.Int(2), memlockLimit(t))
	})
	reg(unix.SYS_MUNLOCK, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return 0, t.MM().Munlock(a[0], a[1])
	})
	reg(unix.SYS_MLOCKALL, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return 0, t.MM().Mlockall(a.Int(0), memlockLimit(t))
	})
	reg(unix.SYS_MUNLOCKALL, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return 0, t.MM().Munlockall()
	})
}

// memlockLimit is what the task may lock: RLIMIT_MEMLOCK, unlimited with
// CAP_IPC_LOCK (root). Linux: mm/mlock.c (can_do_mlock)
func memlockLimit(t *kernel.Task) mm.MemlockLimit {
	return mm.MemlockLimit{Bytes: t.ThreadGroup().Rlimit(unix.RLIMIT_MEMLOCK).Cur, Capable: t.CapableInit(unix.CAP_IPC_LOCK)}
}

func sysMmap(t *kernel.Task, a kernel.Args) (uint64, error) {
	addr, length, prot, flags, fd, off := a[0], a[1], a.Int(2), a.Int(3), a.Int(4), a[5]
	if prot&^(unix.PROT_READ|unix.PROT_WRITE|unix.PROT_EXEC|unix.PROT_GROWSDOWN|unix.PROT_GROWSUP) != 0 {
		return 0, unix.EINVAL
	}
	typ := flags & unix.MAP_TYPE
	if typ != unix.MAP_SHARED && typ != unix.MAP_PRIVATE && typ != unix.MAP_SHARED_VALIDATE {
		return 0, unix.EINVAL
	}
	if flags&unix.MAP_HUGETLB != 0 {
		return 0, unix.EINVAL
	}
	req := mm.MapRequest{
		Addr: addr, Length: length, Prot: prot,
		Fixed:     flags&unix.MAP_FIXED != 0,
		NoReplace: flags&unix.MAP_FIXED_NOREPLACE != 0 && flags&unix.MAP_FIXED == 0,
		Shared:    typ != unix.MAP_PRIVATE,
		Populate:  flags&unix.MAP_POPULATE != 0,
	}
	if flags&unix.MAP_LOCKED != 0 {
		req.Flags = mm.VMLocked
	}
	if flags&unix.MAP_GROWSDOWN != 0 {
		// Only private anonymous memory grows. Linux: mm/mmap.c (do_mmap)
		if req.Shared || flags&unix.MAP_ANONYMOUS == 0 {
			return 0, unix.EINVAL
		}
		req.Flags |= mm.VMGrowsDown
	}
	if flags&unix.MAP_ANONYMOUS != 0 {
		if req.Shared {
			size, ok := abi.PageUp(length)
			if !ok || length == 0 {
				return 0, unix.EINVAL
			}
			req.File = mm.NewShmem(t.Kernel().MemFile(), size)
			req.Name = "/dev/zero (deleted)"
		}
		a, err := t.MM().Mmap(t.Mapper(), req)
		if err != nil && req.File != nil {
			req.File.(*mm.Shmem).DecRef()
		}
		return a, err
	}
	f, err := getFile(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	if !f.Readable() {
		return 0, unix.EACCES
	}
	if req.Shared && prot&unix.PROT_WRITE != 0 && !f.Writable() {
		return 0, unix.EACCES
	}
	mf, ok := f.Ops().(vfs.MappableFile)
	if !ok {
		return 0, unix.ENODEV
	}
	obj, err := mf.Mappable()
	if err != nil {
		return 0, err
	}
	if err := mapSealCheck(obj, req.Shared, prot); err != nil {
		return 0, err
	}
	req.File, req.Off = obj, off
	if p := f.Path(); p.Dentry != nil {
		req.Name = t.PathName(p)
	}
	if st, err := f.Stat(t); err == nil {
		req.Dev, req.Ino = st.Dev, st.Ino
	}
	return t.MM().Mmap(t.Mapper(), req)
}

// sysMincore answers in chunks, so a huge range costs no huge buffer.
func sysMincore(t *kernel.Task, a kernel.Args) (uint64, error) {
	addr, length, vec := a[0], a[1], a[2]
	const chunk = 1 << 16 // pages
	for {
		n := min(length, chunk<<abi.PageShift)
		out, err := t.MM().Mincore(addr, n)
		if len(out) > 0 {
			if e := t.CopyOut(vec, out); e != nil {
				return 0, unix.EFAULT
			}
		}
		if err != nil || n == length {
			return 0, err
		}
		addr, length, vec = addr+n, length-n, vec+uint64(len(out))
	}
}

// sysRemapFilePages emulates the deprecated call as Linux now does: the
// range of a shared file mapping is mapped again at page offset pgoff.
// Linux: mm/mmap.c (remap_file_pages)
func sysRemapFilePages(t *kernel.Task, a kernel.Args) (uint64, error) {
	start, size, prot, pgoff := a[0], a[1], a[2], a[3]
	if prot != 0 { // flags other than MAP_NONBLOCK are ignored
		return 0, unix.EINVAL
	}
	start, size = start&^abi.PageMask, size&^abi.PageMask
	if start+size <= start || pgoff+size>>abi.PageShift < pgoff {
		return 0, unix.EINVAL
	}
	var v *mm.VMA
	for _, x := range t.MM().VMAs() {
		if x.Start <= start && start < x.End {
			x := x
			v = &x
			break
		}
	}
	if v == nil || !v.Shared || v.File == nil || start+size > v.End {
		return 0, unix.EINVAL
	}
	type counted interface {
		IncRef()
		DecRef()
	}
	if c, ok := v.File.(counted); ok {
		c.IncRef() // the new mapping's reference
	}
	req := mm.MapRequest{Addr: start, Length: size, Prot: v.Prot, Fixed: true, Shared: true, File: v.File,
		Off: pgoff << abi.PageShift, Name: v.Name, Dev: v.Dev, Ino: v.Ino, Flags: v.Flags}
	if _, err := t.MM().Mmap(t.Mapper(), req); err != nil {
		if c, ok := v.File.(counted); ok {
			c.DecRef()
		}
		return 0, err
	}
	return 0, nil
}
