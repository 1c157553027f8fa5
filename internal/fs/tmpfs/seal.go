package tmpfs

import (
	"golang.org/x/sys/unix"
)

// File seals (fcntl F_ADD_SEALS / F_GET_SEALS). Every tmpfs file has a
// seal set, as every shmem inode has on Linux: an ordinary file starts
// with F_SEAL_SEAL (so it can never be sealed), a memfd created with
// MFD_ALLOW_SEALING with none. Linux: mm/memfd.c, mm/shmem.c
const (
	SealSeal        = 0x1
	SealShrink      = 0x2
	SealGrow        = 0x4
	SealWrite       = 0x8
	SealFutureWrite = 0x10
	SealExec        = 0x20
	allSeals        = 0x3f
)

// Seals returns the file's seals.
func (f *File) Seals() uint32 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.seals
}

// InitSeals sets the seals of a new memfd.
func (f *File) InitSeals(s uint32) {
	f.mu.Lock()
	f.seals = s
	f.mu.Unlock()
}

// AddSeals adds seals. writableMaps reports whether a shared writable
// mapping of the file exists (F_SEAL_WRITE is then EBUSY); it is called
// before the file's lock is taken, because address spaces are locked
// before files. Linux: mm/memfd.c (memfd_add_seals)
func (f *File) AddSeals(s uint32, writableMaps func() bool) error {
	if s&^allSeals != 0 {
		return unix.EINVAL
	}
	busy := s&(SealWrite|SealExec) != 0 && writableMaps != nil && writableMaps()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.seals&SealSeal != 0 {
		return unix.EPERM
	}
	// F_SEAL_EXEC on an executable file implies write sealing (W^X).
	if s&SealExec != 0 && f.mode&0o111 != 0 {
		s |= SealShrink | SealGrow | SealWrite | SealFutureWrite
	}
	if s&SealWrite != 0 && f.seals&SealWrite == 0 && busy {
		return unix.EBUSY
	}
	f.seals |= s
	return nil
}

// CheckMap refuses a shared writable mapping of a write-sealed file.
// Linux: mm/memfd.c (memfd_check_seals_mmap)
func (f *File) CheckMap(shared, write bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.seals&(SealWrite|SealFutureWrite) != 0 && shared && write {
		return unix.EPERM
	}
	return nil
}

// writeLimitLocked returns how many of n bytes at off the seals let a
// write store: none under F_SEAL_WRITE/F_SEAL_FUTURE_WRITE; under
// F_SEAL_GROW, the page-sized chunks (as shmem_write_begin sees them) up to
// the first that would extend the file.
func (f *File) writeLimitLocked(off, n int64) (int64, error) {
	if f.seals&(SealWrite|SealFutureWrite) != 0 {
		return 0, unix.EPERM
	}
	if f.seals&SealGrow == 0 || off+n <= f.fsize {
		return n, nil
	}
	done := int64(0)
	for done < n {
		c := min(n-done, pageSize-(off+done)&pageMask)
		if off+done+c > f.fsize {
			break
		}
		done += c
	}
	if done == 0 {
		return 0, unix.EPERM
	}
	return done, nil
}

// sizeCheckLocked applies the grow and shrink seals to a size change.
// Linux: mm/shmem.c (shmem_setattr)
func (f *File) sizeCheckLocked(size int64) error {
	if size < f.fsize && f.seals&SealShrink != 0 || size > f.fsize && f.seals&SealGrow != 0 {
		return unix.EPERM
	}
	return nil
}

// Seals, AddSeals and CheckMap of an open file are its inode's.
func (o *fileOps) Seals() uint32 { return o.f.Seals() }

// AddSeals implements F_ADD_SEALS on an open file.
func (o *fileOps) AddSeals(s uint32, writableMaps func(obj any) bool) error {
	return o.f.AddSeals(s, func() bool { return writableMaps(o.f) })
}

// SealFile returns the file an open description names.
func (o *fileOps) SealFile() *File { return o.f }
