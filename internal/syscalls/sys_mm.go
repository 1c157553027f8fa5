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
		return t.MM().Brk(t.Mapper(), a[0], addressLimits(t)), nil
	})
	reg(unix.SYS_MMAP, sysMmap)
	reg(unix.SYS_MUNMAP, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return 0, t.MM().Munmap(t.Mapper(), a[0], a[1])
	})
	reg(unix.SYS_MPROTECT, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return 0, t.MM().Mprotect(t.Mapper(), a[0], a[1], a.Int(2))
	})
	reg(unix.SYS_MREMAP, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return t.MM().Mremap(t.Mapper(), a[0], a[1], a[2], a.Int(3), a[4], memlockLimit(t), addressLimits(t))
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

// addressLimits are the task's RLIMIT_AS and RLIMIT_DATA.
func addressLimits(t *kernel.Task) mm.AddressLimits {
	tg := t.ThreadGroup()
	return mm.AddressLimits{AS: tg.Rlimit(unix.RLIMIT_AS).Cur, Data: tg.Rlimit(unix.RLIMIT_DATA).Cur}
}

// memlockLimit is what the task may lock: RLIMIT_MEMLOCK, unlimited with
// CAP_IPC_LOCK (root). Linux: mm/mlock.c (can_do_mlock)
func memlockLimit(t *kernel.Task) mm.MemlockLimit {
	return mm.MemlockLimit{Bytes: t.ThreadGroup().Rlimit(unix.RLIMIT_MEMLOCK).Cur, Capable: t.CapableInit(unix.CAP_IPC_LOCK)}
}

// mmap flags Linux has that x/sys/unix may lack.
const (
	mapDroppable = 0x08    // MAP_DROPPABLE: a mapping type
	mapSync      = 0x80000 // MAP_SYNC: only on DAX files, which glassbox has none of
	mapHugeShift = 26      // MAP_HUGE_SHIFT: log2 of the huge page size
	mapHugeMask  = 0x3f    // MAP_HUGE_MASK
	mapLegacy    = 0x3 | unix.MAP_FIXED | unix.MAP_ANONYMOUS | unix.MAP_32BIT | 0x80 | unix.MAP_GROWSDOWN |
		unix.MAP_DENYWRITE | unix.MAP_EXECUTABLE | unix.MAP_LOCKED | unix.MAP_NORESERVE | unix.MAP_POPULATE |
		unix.MAP_NONBLOCK | unix.MAP_STACK | unix.MAP_HUGETLB | mapHugeMask<<mapHugeShift // LEGACY_MAP_MASK
)

// sysMmap checks in Linux's order: the offset, the descriptor, the
// length (mm), the address (mm), the lock allowance (mm), then the file
// and the mapping type (req.Err, returned by mm after the address).
// Linux: arch/x86/kernel/sys_x86_64.c (mmap), mm/mmap.c (ksys_mmap_pgoff, do_mmap)
func sysMmap(t *kernel.Task, a kernel.Args) (uint64, error) {
	addr, length, prot, flags, fd, off := a[0], a[1], a.Int(2), a[3], a.Int(4), a[5]
	if off&abi.PageMask != 0 {
		return 0, unix.EINVAL
	}
	typ := flags & unix.MAP_TYPE
	req := mm.MapRequest{
		Addr: addr, Length: length, Prot: prot,
		Fixed:     flags&unix.MAP_FIXED != 0,
		NoReplace: flags&unix.MAP_FIXED_NOREPLACE != 0 && flags&unix.MAP_FIXED == 0,
		Shared:    typ == unix.MAP_SHARED || typ == unix.MAP_SHARED_VALIDATE,
		Populate:  flags&unix.MAP_POPULATE != 0,
	}
	lim, alim := memlockLimit(t), addressLimits(t)
	req.Lock, req.Limits = &lim, &alim
	// Linux: mm/vma.c (accountable_mapping), mm/shmem.c (shmem_acct_size)
	req.Account = flags&unix.MAP_NORESERVE == 0 &&
		(!req.Shared && prot&unix.PROT_WRITE != 0 || req.Shared && flags&unix.MAP_ANONYMOUS != 0)
	if flags&unix.MAP_LOCKED != 0 {
		req.Flags = mm.VMLocked
	}
	if flags&unix.MAP_ANONYMOUS != 0 {
		return mmapAnon(t, req, flags)
	}
	f, err := getFileIO(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	if flags&unix.MAP_HUGETLB != 0 {
		return 0, unix.EINVAL // no file is on hugetlbfs
	}
	req.Err = mmapFileCheck(f, req, flags)
	if req.Err == nil {
		// The object is made (and the seals checked) only when the
		// checks pass; their errors come last, as from Linux's f_op->mmap.
		obj, err := f.Ops().(vfs.MappableFile).Mappable()
		if err == nil {
			err = mapSealCheck(obj, req.Shared, prot)
		}
		if err != nil {
			req.Err = err
		} else {
			req.File, req.Off = obj, off
			if req.Shared && !f.Writable() {
				req.Flags |= mm.VMNoMayWrite
			}
			if p := f.Path(); p.Mount != nil && p.Mount.Flags&unix.MS_NOEXEC != 0 {
				req.Flags |= mm.VMNoMayExec // mprotect may not add PROT_EXEC
			}
		}
	}
	if p := f.Path(); p.Dentry != nil {
		req.Name = t.PathName(p)
	}
	if st, err := f.Stat(t); err == nil {
		req.Dev, req.Ino = st.Dev, st.Ino
	}
	return t.MM().Mmap(t.Mapper(), req)
}

// mmapFileCheck is do_mmap's check of a file mapping's type, flags and
// the descriptor's access mode. Linux: mm/mmap.c (do_mmap)
func mmapFileCheck(f *vfs.File, req mm.MapRequest, flags uint64) error {
	typ := flags & unix.MAP_TYPE
	if flags&mapSync != 0 {
		return unix.EOPNOTSUPP
	}
	switch typ {
	case unix.MAP_SHARED, unix.MAP_SHARED_VALIDATE:
		if typ == unix.MAP_SHARED_VALIDATE && flags&^mapLegacy != 0 {
			return unix.EOPNOTSUPP
		}
		if req.Prot&unix.PROT_WRITE != 0 && !f.Writable() {
			return unix.EACCES
		}
	case unix.MAP_PRIVATE:
	default:
		return unix.EINVAL
	}
	if !f.Readable() {
		return unix.EACCES
	}
	if p := f.Path(); p.Mount != nil && p.Mount.Flags&unix.MS_NOEXEC != 0 && req.Prot&unix.PROT_EXEC != 0 {
		return unix.EPERM // path_noexec
	}
	if _, ok := f.Ops().(vfs.MappableFile); !ok {
		return unix.ENODEV
	}
	if flags&unix.MAP_GROWSDOWN != 0 {
		return unix.EINVAL
	}
	return nil
}

// mmapAnon maps anonymous memory: private, droppable (private memory
// that is wiped on fork and left out of core dumps; glassbox never drops
// it) or shared (a fresh shmem object).
func mmapAnon(t *kernel.Task, req mm.MapRequest, flags uint64) (uint64, error) {
	growsDown := flags&unix.MAP_GROWSDOWN != 0
	switch flags & unix.MAP_TYPE {
	case unix.MAP_SHARED:
		if growsDown {
			req.Err = unix.EINVAL
		}
	case unix.MAP_PRIVATE:
	case mapDroppable:
		if flags&(unix.MAP_LOCKED|unix.MAP_HUGETLB) != 0 || growsDown {
			req.Err = unix.EINVAL
		}
		req.Flags |= mm.VMWipeOnFork | mm.VMDontDump
	default:
		req.Err = unix.EINVAL
	}
	if flags&unix.MAP_HUGETLB != 0 {
		// As on a host with no huge pages reserved: a valid size is
		// ENOMEM once the other checks pass. Linux: mm/mmap.c (ksys_mmap_pgoff)
		switch (flags >> mapHugeShift) & mapHugeMask {
		case 0, 21, 30:
		default:
			return 0, unix.EINVAL
		}
		if req.Err == nil {
			req.Err = unix.ENOMEM
		}
	}
	if growsDown && req.Err == nil {
		req.Flags |= mm.VMGrowsDown
	}
	if req.Shared && req.Err == nil {
		size, ok := abi.PageUp(req.Length)
		if ok && req.Length != 0 {
			req.File = mm.NewShmem(t.Kernel().MemFile(), size)
			req.Name = "/dev/zero (deleted)"
		}
	}
	a, err := t.MM().Mmap(t.Mapper(), req)
	if err != nil && req.File != nil {
		req.File.(*mm.Shmem).DecRef()
	}
	return a, err
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
