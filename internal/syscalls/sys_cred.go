package syscalls

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"glassbox/internal/kernel"
)

func init() {
	id := func(a kernel.Args, i int) uint32 { return uint32(a[i]) }
	reg(unix.SYS_SETUID, func(t *kernel.Task, a kernel.Args) (uint64, error) { return 0, t.SetUID(id(a, 0)) })
	reg(unix.SYS_SETGID, func(t *kernel.Task, a kernel.Args) (uint64, error) { return 0, t.SetGID(id(a, 0)) })
	reg(unix.SYS_SETREUID, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return 0, t.SetREUID(id(a, 0), id(a, 1))
	})
	reg(unix.SYS_SETREGID, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return 0, t.SetREGID(id(a, 0), id(a, 1))
	})
	reg(unix.SYS_SETRESUID, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return 0, t.SetRESUID(id(a, 0), id(a, 1), id(a, 2))
	})
	reg(unix.SYS_SETRESGID, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return 0, t.SetRESGID(id(a, 0), id(a, 1), id(a, 2))
	})
	reg(unix.SYS_SETFSUID, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return uint64(t.SetFSUID(id(a, 0))), nil
	})
	reg(unix.SYS_SETFSGID, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return uint64(t.SetFSGID(id(a, 0))), nil
	})
	reg(unix.SYS_SETGROUPS, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		n := a.Int(0)
		if !t.MaySetgroups() {
			return 0, unix.EPERM // before the size. Linux: kernel/groups.c (setgroups)
		}
		if n < 0 || n > 65536 {
			return 0, unix.EINVAL
		}
		b := make([]byte, 4*n)
		if err := t.CopyIn(a[1], b); err != nil {
			return 0, err
		}
		g := make([]uint32, n)
		for i := range g {
			g[i] = binary.LittleEndian.Uint32(b[4*i:])
		}
		return 0, t.SetGroups(g)
	})
	reg(unix.SYS_CAPGET, sysCapget)
	reg(unix.SYS_CAPSET, sysCapset)
}

// Capability header versions. Linux: include/uapi/linux/capability.h
const (
	capV1 = 0x19980330
	capV2 = 0x20071026
	capV3 = 0x20080522
)

// capHeader reads the header: its version (how many 32-bit words each
// set has) and pid. An unknown version is answered with the preferred one
// and EINVAL. Linux: kernel/capability.c (cap_validate_magic)
func capHeader(t *kernel.Task, addr uint64) (words int, pid int32, err error) {
	var b [8]byte
	if err := t.CopyIn(addr, b[:]); err != nil {
		return 0, 0, err
	}
	pid = int32(binary.LittleEndian.Uint32(b[4:]))
	switch binary.LittleEndian.Uint32(b[:]) {
	case capV1:
		return 1, pid, nil
	case capV2, capV3:
		return 2, pid, nil
	}
	binary.LittleEndian.PutUint32(b[:], capV3)
	if err := t.CopyOut(addr, b[:4]); err != nil {
		return 0, 0, err
	}
	return 0, 0, unix.EINVAL
}

// sysCapget. Linux: kernel/capability.c (capget)
func sysCapget(t *kernel.Task, a kernel.Args) (uint64, error) {
	words, pid, err := capHeader(t, a[0])
	if a[1] == 0 || err != nil {
		if a[1] == 0 && err == unix.EINVAL {
			return 0, nil // probing the version
		}
		return 0, err
	}
	s, err := t.CapGet(int(pid))
	if err != nil {
		return 0, err
	}
	b := make([]byte, 12*words)
	for w := 0; w < words; w++ {
		binary.LittleEndian.PutUint32(b[12*w:], uint32(s.Eff>>(32*w)))
		binary.LittleEndian.PutUint32(b[12*w+4:], uint32(s.Prm>>(32*w)))
		binary.LittleEndian.PutUint32(b[12*w+8:], uint32(s.Inh>>(32*w)))
	}
	return 0, t.CopyOut(a[1], b)
}

// sysCapset changes the caller's own sets only. Linux: kernel/capability.c (capset)
func sysCapset(t *kernel.Task, a kernel.Args) (uint64, error) {
	words, pid, err := capHeader(t, a[0])
	if err != nil {
		return 0, err
	}
	if pid != 0 && int(pid) != t.TID() {
		return 0, unix.EPERM
	}
	b := make([]byte, 12*words)
	if err := t.CopyIn(a[1], b); err != nil {
		return 0, err
	}
	var s kernel.CapSets
	for w := 0; w < words; w++ {
		s.Eff |= uint64(binary.LittleEndian.Uint32(b[12*w:])) << (32 * w)
		s.Prm |= uint64(binary.LittleEndian.Uint32(b[12*w+4:])) << (32 * w)
		s.Inh |= uint64(binary.LittleEndian.Uint32(b[12*w+8:])) << (32 * w)
	}
	const valid = uint64(1)<<(unix.CAP_LAST_CAP+1) - 1
	s.Eff, s.Prm, s.Inh = s.Eff&valid, s.Prm&valid, s.Inh&valid
	return 0, t.CapSet(s)
}
