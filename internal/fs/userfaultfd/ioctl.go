package userfaultfd

import (
	"encoding/binary"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/mm"
	"glassbox/internal/vfs"
)

var timeZero time.Time

// ioctl commands (_IOWR/_IOR(0xAA, nr, struct)).
const (
	ioctlAPI          = 0xC018AA3F
	ioctlRegister     = 0xC020AA00
	ioctlUnregister   = 0x8010AA01
	ioctlWake         = 0x8010AA02
	ioctlCopy         = 0xC028AA03
	ioctlZeropage     = 0xC020AA04
	ioctlWriteProtect = 0xC018AA06

	// USERFAULTFD_IOC_NEW on /dev/userfaultfd.
	IocNew = 0xAA00
)

// Bits of the ioctls masks: 1 << _UFFDIO_*.
const (
	bitRegister     = 1 << 0x00
	bitUnregister   = 1 << 0x01
	bitWake         = 1 << 0x02
	bitCopy         = 1 << 0x03
	bitZeropage     = 1 << 0x04
	bitWriteProtect = 1 << 0x06
	bitAPI          = 1 << 0x3F

	apiIoctls = bitRegister | bitUnregister | bitAPI
	// Linux also offers MOVE, CONTINUE (minor ranges) and POISON.
	rangeIoctls = bitWake | bitCopy | bitZeropage | bitWriteProtect
)

// Modes.
const (
	registerMissing = 1 << 0
	registerWP      = 1 << 1
	registerMinor   = 1 << 2

	copyDontWake = 1 << 0
	copyWP       = 1 << 1

	zeropageDontWake = 1 << 0

	wpModeWP       = 1 << 0
	wpModeDontWake = 1 << 1
)

// Caller is what the ioctls need of the calling task besides vfs.Ctx.
type Caller interface {
	MM() *mm.MM
	Mapper() mm.Mapper
	CapableInit(c int) bool
}

// Ioctl implements vfs.Ioctler. Linux: fs/userfaultfd.c (userfaultfd_ioctl)
func (u *UFFD) Ioctl(ctx vfs.Ctx, mem vfs.Memory, cmd uint32, arg uint64) (uint64, error) {
	c, ok := ctx.(Caller)
	if !ok {
		return 0, unix.EINVAL
	}
	u.mu.Lock()
	ready := u.ready
	u.mu.Unlock()
	if cmd != ioctlAPI && !ready {
		return 0, unix.EINVAL
	}
	// Host mappings of the served address space can change only through
	// one of its own threads.
	var mp mm.Mapper
	if c.MM() == u.mm {
		mp = c.Mapper()
	}
	switch cmd {
	case ioctlAPI:
		return 0, u.api(c, mem, arg)
	case ioctlRegister:
		return 0, u.register(mp, mem, arg)
	case ioctlUnregister:
		start, n, err := u.readRange(mem, arg)
		if err != nil {
			return 0, err
		}
		if err := u.mm.UffdUnregister(start, start+n); err != nil {
			return 0, err
		}
		u.wake(start, n)
		return 0, nil
	case ioctlWake:
		start, n, err := u.readRange(mem, arg)
		if err != nil {
			return 0, err
		}
		u.wake(start, n)
		return 0, nil
	case ioctlCopy:
		return 0, u.fill(mem, arg, true)
	case ioctlZeropage:
		return 0, u.fill(mem, arg, false)
	case ioctlWriteProtect:
		return 0, u.writeProtect(mp, mem, arg)
	}
	return 0, unix.EINVAL
}

// api is the UFFDIO_API handshake. Linux: fs/userfaultfd.c (userfaultfd_api)
func (u *UFFD) api(c Caller, mem vfs.Memory, arg uint64) error {
	var b [24]byte
	if err := mem.CopyIn(arg, b[:]); err != nil {
		return unix.EFAULT
	}
	le := binary.LittleEndian
	want := le.Uint64(b[8:])
	fail := func(err error) error {
		if mem.CopyOut(arg, make([]byte, 24)) != nil {
			return unix.EFAULT
		}
		return err
	}
	if le.Uint64(b[0:]) != api {
		return fail(unix.EINVAL)
	}
	if want&featEventFork != 0 && !c.CapableInit(unix.CAP_SYS_PTRACE) {
		return fail(unix.EPERM)
	}
	if want&^features != 0 {
		return fail(unix.EINVAL)
	}
	le.PutUint64(b[8:], features)
	le.PutUint64(b[16:], apiIoctls)
	if err := mem.CopyOut(arg, b[:]); err != nil {
		return unix.EFAULT
	}
	u.mu.Lock()
	again := u.ready
	if !again {
		u.ready, u.features = true, want
	}
	u.mu.Unlock()
	if again {
		return fail(unix.EINVAL)
	}
	return nil
}

// rangeMode reads the struct uffdio_range followed by a mode word that
// UFFDIO_REGISTER and UFFDIO_WRITEPROTECT take.
func rangeMode(mem vfs.Memory, arg uint64) (start, n, mode uint64, err error) {
	var b [24]byte
	if err := mem.CopyIn(arg, b[:]); err != nil {
		return 0, 0, 0, unix.EFAULT
	}
	le := binary.LittleEndian
	return le.Uint64(b[0:]), le.Uint64(b[8:]), le.Uint64(b[16:]), nil
}

// register is UFFDIO_REGISTER. Linux: fs/userfaultfd.c (userfaultfd_register)
func (u *UFFD) register(mp mm.Mapper, mem vfs.Memory, arg uint64) error {
	start, n, mode, err := rangeMode(mem, arg)
	if err != nil {
		return err
	}
	if mode == 0 || mode&^(registerMissing|registerWP|registerMinor) != 0 {
		return unix.EINVAL
	}
	if err := u.validate(start, n, true); err != nil {
		return err
	}
	if mode&registerMinor != 0 {
		return unix.EINVAL // minor faults need shmem or hugetlbfs
	}
	if err := u.mm.UffdRegister(mp, u, start, start+n, mode&registerMissing != 0, mode&registerWP != 0); err != nil {
		return err
	}
	ioctls := uint64(rangeIoctls)
	if mode&registerWP == 0 {
		ioctls &^= bitWriteProtect
	}
	var o [8]byte
	binary.LittleEndian.PutUint64(o[:], ioctls)
	if mem.CopyOut(arg+24, o[:]) != nil {
		return unix.EFAULT
	}
	return nil
}

// readRange reads a struct uffdio_range and validates it.
func (u *UFFD) readRange(mem vfs.Memory, arg uint64) (uint64, uint64, error) {
	var b [16]byte
	if err := mem.CopyIn(arg, b[:]); err != nil {
		return 0, 0, unix.EFAULT
	}
	start, n := binary.LittleEndian.Uint64(b[0:]), binary.LittleEndian.Uint64(b[8:])
	return start, n, u.validate(start, n, true)
}

// validate is validate_range (aligned) or validate_unaligned_range.
func (u *UFFD) validate(start, n uint64, aligned bool) error {
	top := u.mm.Layout().TaskSize
	switch {
	case aligned && start&abi.PageMask != 0, n&abi.PageMask != 0, n == 0,
		aligned && start < mm.MinAddr, start >= top, n > top-start:
		// The host takes a copy's source below mmap_min_addr (EFAULT then).
		return unix.EINVAL
	}
	return nil
}

// fill is UFFDIO_COPY (copy) or UFFDIO_ZEROPAGE: it fills missing pages
// one by one, stopping at the first error, and writes the bytes filled
// (or the error) back. Linux: fs/userfaultfd.c (userfaultfd_copy,
// userfaultfd_zeropage), mm/userfaultfd.c (mfill_atomic)
func (u *UFFD) fill(mem vfs.Memory, arg uint64, copying bool) error {
	size, resOff := 24, uint64(24)
	if copying {
		size, resOff = 32, 32
	}
	b := make([]byte, size)
	if err := mem.CopyIn(arg, b); err != nil {
		return unix.EFAULT
	}
	le := binary.LittleEndian
	var dst, src, n, mode uint64
	if copying {
		dst, src, n, mode = le.Uint64(b[0:]), le.Uint64(b[8:]), le.Uint64(b[16:]), le.Uint64(b[24:])
		if err := u.validate(src, n, false); err != nil {
			return err
		}
	} else {
		dst, n, mode = le.Uint64(b[0:]), le.Uint64(b[8:]), le.Uint64(b[16:])
	}
	if err := u.validate(dst, n, true); err != nil {
		return err
	}
	dontWake, wp := mode&copyDontWake != 0, false
	if copying {
		if mode&^(copyDontWake|copyWP) != 0 {
			return unix.EINVAL
		}
		wp = mode&copyWP != 0
	} else if mode&^zeropageDontWake != 0 {
		return unix.EINVAL
	}
	var done uint64
	err := u.mm.UffdCheck(u, dst, dst+n, wp)
	if err == unix.ESRCH {
		return err
	}
	var page []byte
	if copying {
		page = make([]byte, abi.PageSize)
	}
	for err == nil && done < n {
		if copying {
			if e := mem.CopyIn(src+done, page); e != nil {
				err = unix.EFAULT
				break
			}
		}
		if err = u.mm.UffdFill(u, dst+done, page, wp); err == nil {
			done += abi.PageSize
		}
	}
	if done > 0 {
		u.gen.Add(1)
	}
	res := int64(done)
	if done == 0 {
		res = -int64(err.(unix.Errno))
	}
	var o [8]byte
	le.PutUint64(o[:], uint64(res))
	if mem.CopyOut(arg+resOff, o[:]) != nil {
		return unix.EFAULT
	}
	if done == 0 {
		return err
	}
	if !dontWake {
		u.wake(dst, done)
	}
	if done != n {
		return unix.EAGAIN
	}
	return nil
}

// writeProtect is UFFDIO_WRITEPROTECT. Linux: fs/userfaultfd.c
// (userfaultfd_writeprotect)
func (u *UFFD) writeProtect(mp mm.Mapper, mem vfs.Memory, arg uint64) error {
	start, n, mode, err := rangeMode(mem, arg)
	if err != nil {
		return err
	}
	if err := u.validate(start, n, true); err != nil {
		return err
	}
	if mode&^(wpModeWP|wpModeDontWake) != 0 {
		return unix.EINVAL
	}
	wp, dontWake := mode&wpModeWP != 0, mode&wpModeDontWake != 0
	if wp && dontWake {
		return unix.EINVAL
	}
	if err := u.mm.UffdWriteProtect(mp, u, start, start+n, wp); err != nil {
		return err
	}
	if !wp {
		u.gen.Add(1)
		if !dontWake {
			u.wake(start, n)
		}
	}
	return nil
}
